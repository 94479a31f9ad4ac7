/// A binary ONNX arithmetic op: Add, Sub, Mul, Div (two inputs) and Min, Max (one or more inputs), with
/// multidirectional broadcasting. Float32 runs as kernels; integer inputs known at plan time are evaluated on
/// the host. Each op is a concrete type conforming to this protocol (not a generic `Operator<F>`): the
/// registry calls operators through their metatypes, and only a concrete conformance gets its kernel loops
/// specialised; a generic struct's witness would run the unspecialised loop with a call per element.
protocol BinaryArithmeticOperator: Operator, BinaryElementFunction {
    /// Result on integers (ONNX semantics), `nil` where undefined (integer division by zero).
    static func integer(_ a: Int64, _ b: Int64) -> Int64?
    /// Min and Max take one or more inputs; the others exactly two.
    static var isVariadic: Bool { get }
}

extension BinaryArithmeticOperator {
    static var isVariadic: Bool { false }

    static func infer(_ context: OpContext) throws -> [TensorType] {
        let count = context.inputs.count
        if isVariadic {
            guard count >= 1 else { throw context.fail("\(context.node.op.name) needs at least one input") }
        } else {
            guard count == 2 else { throw context.fail("\(context.node.op.name) needs 2 inputs, got \(count)") }
        }
        let types = try HostElementwise.sameTypeInputs(context)
        return [TensorType(types[0].dtype, try HostElementwise.broadcastShape(types, context))]
    }

    static func evaluate(_ context: OpContext) throws -> [HostValue]? {
        let output = try infer(context)[0]
        guard output.dtype.isInteger, context.allInputsKnown else { return nil }
        guard output.dtype != .bool else { throw context.fail("\(context.node.op.name) is not defined on bool") }
        let values = try (0..<context.inputs.count).map { try context.value($0, "operand") }
        return [try HostElementwise.ints(values, shape: output.shape, dtype: output.dtype, context) { arguments in
            var accumulator = arguments[0]
            for operand in arguments.dropFirst() {
                guard let next = integer(accumulator, operand) else { return nil }
                accumulator = next
            }
            return accumulator
        }]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        try HostElementwise.requireFloatInputs(context)
        let output = outputs[0]
        let out = buffers.output(0)
        let shapes = try (0..<context.inputs.count).map { try context.input($0).shape }
        if shapes.count == 1 {
            let source = buffers.input(0)
            let count = output.count
            return { out.update(from: source, count: count) }
        }
        let pool = buffers.pool
        let first = BinaryPass<Self>(output: output.shape, aShape: shapes[0], bShape: shapes[1],
                                  a: buffers.input(0), b: buffers.input(1), out: out, pool: pool)
        // Further operands of Min/Max fold into the output in place: each pass reads out[i] before writing it.
        let rest = (2..<shapes.count).map { index in
            BinaryPass<Self>(output: output.shape, aShape: output.shape, bShape: shapes[index],
                          a: UnsafePointer(out), b: buffers.input(index), out: out, pool: pool)
        }
        if rest.isEmpty { return { first.run() } }
        return {
            first.run()
            var index = 0
            while index < rest.count {
                rest[index].run()
                index += 1
            }
        }
    }
}
