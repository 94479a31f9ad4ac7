/// Resize attributes and inputs (opset 11–21) resolved against a concrete input shape: output shape, the
/// scale of every axis, and the map from an output coordinate to an input coordinate.
struct ResizeParameters {
    enum Mode: String {
        case nearest, linear, cubic
    }

    enum CoordinateTransform: String {
        case halfPixel = "half_pixel"
        case halfPixelSymmetric = "half_pixel_symmetric"
        case pytorchHalfPixel = "pytorch_half_pixel"
        case alignCorners = "align_corners"
        case asymmetric
        case tfHalfPixelForNN = "tf_half_pixel_for_nn"
        case tfCropAndResize = "tf_crop_and_resize"
    }

    enum NearestRounding: String {
        case roundPreferFloor = "round_prefer_floor"
        case roundPreferCeil = "round_prefer_ceil"
        case floor, ceil
    }

    let mode: Mode
    let transform: CoordinateTransform
    let rounding: NearestRounding
    let inputShape: [Int]
    let outputShape: [Int]
    /// Per axis; 1 for axes not resized. Computed as `output / input` when sizes were given.
    let scales: [Float]
    /// Per axis region of interest, as fractions of the input (used by tf_crop_and_resize only).
    let roi: [(start: Float, end: Float)]
    let extrapolation: Float

    init(_ context: OpContext) throws {
        let input = try context.input(0)
        let rank = input.shape.count
        _ = try ShapeArithmetic.count(input.shape, context)
        inputShape = input.shape
        let modeName = try context.string("mode", "nearest")
        guard let mode = Mode(rawValue: modeName) else { throw context.fail("unknown resize mode '\(modeName)'") }
        guard mode != .cubic else { throw context.unsupported("cubic resize") }
        self.mode = mode
        let transformName = try context.string("coordinate_transformation_mode", "half_pixel")
        guard let transform = CoordinateTransform(rawValue: transformName) else {
            throw context.fail("unknown coordinate_transformation_mode '\(transformName)'")
        }
        self.transform = transform
        let roundingName = try context.string("nearest_mode", "round_prefer_floor")
        guard let rounding = NearestRounding(rawValue: roundingName) else {
            throw context.fail("unknown nearest_mode '\(roundingName)'")
        }
        self.rounding = rounding
        guard try context.int("antialias", 0) == 0 else { throw context.unsupported("antialiased resize") }
        extrapolation = try context.float("extrapolation_value", 0)

        var axes = Array(0..<rank)
        if let listed = try context.ints("axes") {
            axes = try ShapeArithmetic.axes(listed, rank: rank, "axis", context)
        }
        var roi = Array(repeating: (start: Float(0), end: Float(1)), count: rank)
        if transform == .tfCropAndResize {
            let values = try context.value(1, "roi").asFloats
            guard values.count == 2 * axes.count else {
                throw context.fail("roi has \(values.count) values for \(axes.count) axes")
            }
            for (i, axis) in axes.enumerated() { roi[axis] = (values[i], values[i + axes.count]) }
        }
        self.roi = roi

        // Empty scales/sizes tensors stand for omitted inputs in exported models.
        let hasScales = try context.hasInput(2) && context.input(2).count > 0
        let hasSizes = try context.hasInput(3) && context.input(3).count > 0
        guard hasScales != hasSizes else { throw context.fail("Resize needs exactly one of scales and sizes") }
        var scales = Array(repeating: Float(1), count: rank)
        var outputShape = input.shape
        if hasScales {
            let given = try context.value(2, "scales")
            guard !given.dtype.isInteger else { throw context.fail("scales must be float") }
            guard given.count == axes.count else { throw context.fail("scales has \(given.count) values for \(axes.count) axes") }
            for (i, axis) in axes.enumerated() {
                let scale = given.floats[i]
                guard scale.isFinite, scale > 0 else { throw context.fail("scale \(scale) must be positive") }
                scales[axis] = scale
                let extent = transform == .tfCropAndResize ? roi[axis].end - roi[axis].start : 1
                outputShape[axis] = try Self.length(Float(input.shape[axis]) * extent * scale, context)
            }
        } else {
            let sizes = try ShapeArithmetic.integers(try context.value(3, "sizes"), "sizes", context)
            guard sizes.count == axes.count else { throw context.fail("sizes has \(sizes.count) values for \(axes.count) axes") }
            for size in sizes where size < 0 { throw context.fail("negative size in \(sizes)") }
            let policy = try context.string("keep_aspect_ratio_policy", "stretch")
            switch policy {
            case "stretch":
                for (i, axis) in axes.enumerated() {
                    outputShape[axis] = sizes[i]
                    scales[axis] = Float(sizes[i]) / Float(max(input.shape[axis], 1))
                }
            case "not_larger", "not_smaller":
                let ratios = axes.enumerated().map { i, axis in Float(sizes[i]) / Float(max(input.shape[axis], 1)) }
                let scale = (policy == "not_larger" ? ratios.min() : ratios.max()) ?? 1
                for axis in axes {
                    scales[axis] = scale
                    outputShape[axis] = try Self.length((Float(input.shape[axis]) * scale).rounded(.toNearestOrEven), context)
                }
            default:
                throw context.fail("unknown keep_aspect_ratio_policy '\(policy)'")
            }
        }
        _ = try ShapeArithmetic.count(outputShape, context)
        for (axis, length) in outputShape.enumerated() where length > 0 && input.shape[axis] == 0 {
            throw context.fail("cannot resize an empty axis \(axis) to \(length)")
        }
        self.outputShape = outputShape
        self.scales = scales
    }

    private static func length(_ value: Float, _ context: OpContext) throws -> Int {
        let floored = value.rounded(.down)
        guard floored.isFinite, floored >= 0, floored <= Float(ShapeArithmetic.maxElements) else {
            throw context.fail("resized length \(value) is out of range")
        }
        return Int(floored)
    }

    /// Input coordinate of output index `x` along `axis` (ONNX's coordinate_transformation_mode formulas).
    func coordinate(_ x: Int, axis: Int) -> Float {
        let scale = scales[axis]
        let inputLength = Float(inputShape[axis])
        let outputLength = Float(outputShape[axis])
        let x = Float(x)
        switch transform {
        case .halfPixel:
            return (x + 0.5) / scale - 0.5
        case .halfPixelSymmetric:
            let adjustment = outputLength / (scale * inputLength)
            let center = inputLength / 2
            return center * (1 - adjustment) + (x + 0.5) / scale - 0.5
        case .pytorchHalfPixel:
            return outputLength > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners:
            return outputLength == 1 ? 0 : x * (inputLength - 1) / (outputLength - 1)
        case .asymmetric:
            return x / scale
        case .tfHalfPixelForNN:
            return (x + 0.5) / scale
        case .tfCropAndResize:
            let (start, end) = roi[axis]
            return outputLength > 1
                ? start * (inputLength - 1) + x * (end - start) * (inputLength - 1) / (outputLength - 1)
                : 0.5 * (start + end) * (inputLength - 1)
        }
    }

    /// Whether output index `x`'s coordinate lies outside the input (only tf_crop_and_resize extrapolates).
    func isOutside(_ coordinate: Float, axis: Int) -> Bool {
        transform == .tfCropAndResize && !(coordinate >= 0 && coordinate <= Float(inputShape[axis] - 1))
    }

    /// Input index nearest to `coordinate` along `axis` under `nearest_mode`, clamped into the axis.
    func nearestIndex(_ coordinate: Float, axis: Int) -> Int {
        let lower = coordinate.rounded(.down)
        let rounded: Float
        switch rounding {
        case .roundPreferFloor: rounded = coordinate - lower == 0.5 ? lower : coordinate.rounded()
        case .roundPreferCeil: rounded = coordinate - lower == 0.5 ? lower + 1 : coordinate.rounded()
        case .floor: rounded = lower
        case .ceil: rounded = coordinate.rounded(.up)
        }
        let last = inputShape[axis] - 1
        // Compare as floats first: converting an out-of-range or NaN float to Int would trap.
        guard rounded > 0 else { return 0 }
        guard rounded < Float(last) else { return last }
        return Int(rounded)
    }
}
