/// An elementwise unary ONNX op (Sqrt, Exp, Relu, Sigmoid, …): its element function plus what the operator
/// needs around it; the output has the input's type. Float32 runs as a kernel; known integer inputs of Neg
/// and Abs are evaluated on the host. Concrete conforming types (not a generic struct) keep the kernel loop
/// specialised, as for `BinaryArithmeticOperator`.
protocol UnaryElementwiseOperator: Operator, UnaryElementFunction {
    /// Parameters from attributes or plan-time inputs.
    static func parameters(_ context: OpContext) throws -> UnaryParameters
    /// Whether `integer` is defined: the op is evaluated on known integer inputs at plan time.
    static var evaluatesIntegers: Bool { get }
    /// Result on an integer (plan-time shape arithmetic).
    static func integer(_ x: Int64) -> Int64
    /// Inputs beyond the first are parameters known at plan time (Clip's min and max).
    static var maximumInputs: Int { get }
}

extension UnaryElementwiseOperator {
    static func parameters(_ context: OpContext) throws -> UnaryParameters { UnaryParameters() }
    static var evaluatesIntegers: Bool { false }
    static func integer(_ x: Int64) -> Int64 { x }
    static var maximumInputs: Int { 1 }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        let count = context.inputs.count
        guard count >= 1, count <= maximumInputs else {
            throw context.fail("\(context.node.op.name) takes 1…\(maximumInputs) inputs, got \(count)")
        }
        return [try context.input(0)]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        let type = try infer(context)[0]
        guard type.dtype.isInteger, type.dtype != .bool, let value = context.optionalValue(0),
              evaluatesIntegers else { return nil }
        return [try HostElementwise.ints([value], shape: type.shape, dtype: type.dtype, context) { integer($0[0]) }]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let type = try context.input(0)
        guard type.dtype == .float32 else {
            throw context.unsupported("\(context.node.op.name) on \(type.dtype) is not executed at run time")
        }
        let pass = UnaryPass<Self>(input: buffers.input(0), output: buffers.output(0), count: type.count,
                                parameters: try parameters(context), pool: buffers.pool)
        return { pass.run() }
    }
}
