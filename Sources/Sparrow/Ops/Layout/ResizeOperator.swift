/// ONNX Resize (opset 11–21: inputs X, roi, scales, sizes; attribute `axes` of opset 18). Nearest works on any
/// axes and dtype (a table gather); linear is f32 bilinear over the last two axes, the others unchanged.
/// Cubic and antialiasing are unsupported.
struct ResizeOperator: Operator {
    static func infer(_ context: OpContext) throws -> [TensorType] {
        let parameters = try ResizeParameters(context)
        return [TensorType(try context.input(0).dtype, parameters.outputShape)]
    }

    static func prepare(_ context: OpContext, outputs: [TensorType], buffers: OpBuffers) throws -> Kernel {
        let parameters = try ResizeParameters(context)
        let dtype = try context.input(0).dtype
        switch parameters.mode {
        case .nearest: return try nearest(parameters, dtype: dtype, context, buffers)
        case .linear: return try linear(parameters, dtype: dtype, context, buffers)
        case .cubic: throw context.unsupported("cubic resize")
        }
    }

    private static func nearest(_ parameters: ResizeParameters, dtype: DType, _ context: OpContext,
                                _ buffers: OpBuffers) throws -> Kernel {
        var extrapolates = false
        let tables = parameters.outputShape.indices.map { axis in
            (0..<parameters.outputShape[axis]).map { x -> Int in
                let coordinate = parameters.coordinate(x, axis: axis)
                if parameters.isOutside(coordinate, axis: axis) {
                    extrapolates = true
                    return -1
                }
                return parameters.nearestIndex(coordinate, axis: axis)
            }
        }
        var fill: UInt64 = 0
        if extrapolates {
            guard let pattern = ElementBytes.pattern(of: parameters.extrapolation, dtype: dtype) else {
                throw context.unsupported("tf_crop_and_resize extrapolation of \(dtype)")
            }
            fill = pattern
        }
        let gather = AxisTableGather(inputDims: parameters.inputShape, tables: tables, elementSize: dtype.size)
        let source = buffers.inputs[0]!
        let destination = buffers.outputs[0]
        let pool = buffers.pool
        let loop = gather.loop(input: source, output: destination, fill: fill, pool: pool)
        return { loop.run() }
    }

    private static func linear(_ parameters: ResizeParameters, dtype: DType, _ context: OpContext,
                               _ buffers: OpBuffers) throws -> Kernel {
        guard dtype == .float32 else { throw context.unsupported("linear resize of \(dtype)") }
        let shape = parameters.inputShape
        let rank = shape.count
        guard rank >= 1 else { throw context.fail("Resize of a scalar") }
        // Outer axes must map every index to itself: only the last two axes are interpolated.
        for axis in 0..<max(rank - 2, 0) {
            guard parameters.outputShape[axis] == shape[axis],
                  (0..<shape[axis]).allSatisfy({ parameters.coordinate($0, axis: axis) == Float($0) }) else {
                throw context.unsupported("linear resize of axis \(axis) (only the last two axes)")
            }
        }
        func taps(axis: Int) -> [BilinearResize.Tap] {
            guard axis >= 0 else { return [BilinearResize.Tap(lower: 0, upper: 0, weight: 0, outside: false)] }
            let coordinates = (0..<parameters.outputShape[axis]).map { parameters.coordinate($0, axis: axis) }
            return BilinearResize.taps(coordinates, outside: coordinates.map { parameters.isOutside($0, axis: axis) },
                                       length: shape[axis])
        }
        let resize = BilinearResize(
            planes: ShapeArithmetic.product(shape, 0..<max(rank - 2, 0)),
            inputHeight: rank >= 2 ? shape[rank - 2] : 1, inputWidth: shape[rank - 1],
            rows: taps(axis: rank - 2), cols: taps(axis: rank - 1), extrapolation: parameters.extrapolation)
        let source = buffers.input(0, as: Float.self)
        let destination = buffers.output(0, as: Float.self)
        let pool = buffers.pool
        let loop = resize.loop(input: source, output: destination, pool: pool)
        return { loop.run() }
    }
}
