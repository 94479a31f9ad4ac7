/// Concrete type of a tensor in a plan.
package struct TensorType: Sendable, Hashable, CustomStringConvertible {
    package var dtype: DType
    package var shape: [Int]

    package init(_ dtype: DType, _ shape: [Int]) {
        self.dtype = dtype
        self.shape = shape
    }

    package var count: Int {
        var product = 1
        for axis in 0..<shape.count { product *= shape[axis] }
        return product
    }
    package var byteCount: Int { count * dtype.size }
    package var description: String { "\(dtype)\(shape)" }
}

/// A tensor value known while planning (constants, shape arithmetic, folded subgraphs). Integer and bool
/// elements are widened to `Int64`, float16 to `Float`, so that evaluators handle two element types only.
package struct HostValue: Sendable, Equatable {
    package var dtype: DType
    package var shape: [Int]
    /// Elements when `dtype` is f32 or f16.
    package var floats: [Float]
    /// Elements when `dtype` is an integer or bool type.
    package var ints: [Int64]

    package init(floats: [Float], shape: [Int], dtype: DType = .float32) {
        self.dtype = dtype
        self.shape = shape
        self.floats = floats
        self.ints = []
    }

    package init(ints: [Int64], shape: [Int], dtype: DType = .int64) {
        self.dtype = dtype
        self.shape = shape
        self.floats = []
        self.ints = ints
    }

    package var type: TensorType { TensorType(dtype, shape) }
    package var count: Int { shape.reduce(1, *) }

    /// Elements as Int64 whatever the dtype (floats truncated toward zero).
    package var asInts: [Int64] { dtype.isInteger ? ints : floats.map { Int64($0) } }
    /// Elements as Float whatever the dtype.
    package var asFloats: [Float] { dtype.isInteger ? ints.map { Float($0) } : floats }

    /// Decodes little-endian bytes of `type`.
    package init(type: TensorType, bytes: UnsafeRawBufferPointer) {
        let n = type.count
        self.dtype = type.dtype
        self.shape = type.shape
        var floats: [Float] = []
        var ints: [Int64] = []
        switch type.dtype {
        case .float32:
            floats = (0..<n).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        case .float16:
            floats = (0..<n).map { Float(halfBits: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        case .int8: ints = (0..<n).map { Int64(bytes.load(fromByteOffset: $0, as: Int8.self)) }
        case .uint8, .bool: ints = (0..<n).map { Int64(bytes.load(fromByteOffset: $0, as: UInt8.self)) }
        case .int32: ints = (0..<n).map { Int64(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
        case .int64: ints = (0..<n).map { Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
        self.floats = floats
        self.ints = ints
    }

    /// Writes the elements as little-endian `dtype` bytes to `destination` (`count × dtype.size` bytes).
    package func write(to destination: UnsafeMutableRawPointer) {
        for i in 0..<count {
            switch dtype {
            case .float32: destination.storeBytes(of: floats[i].bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
            case .float16: destination.storeBytes(of: floats[i].halfBits.littleEndian, toByteOffset: i * 2, as: UInt16.self)
            case .int8: destination.storeBytes(of: Int8(truncatingIfNeeded: ints[i]), toByteOffset: i, as: Int8.self)
            case .uint8: destination.storeBytes(of: UInt8(truncatingIfNeeded: ints[i]), toByteOffset: i, as: UInt8.self)
            case .bool: destination.storeBytes(of: UInt8(ints[i] != 0 ? 1 : 0), toByteOffset: i, as: UInt8.self)
            case .int32: destination.storeBytes(of: Int32(truncatingIfNeeded: ints[i]).littleEndian, toByteOffset: i * 4, as: Int32.self)
            case .int64: destination.storeBytes(of: ints[i].littleEndian, toByteOffset: i * 8, as: Int64.self)
            }
        }
    }

    /// The value as little-endian bytes.
    package var bytes: [UInt8] {
        var result = [UInt8](repeating: 0, count: count * dtype.size)
        result.withUnsafeMutableBytes { if let base = $0.baseAddress { write(to: base) } }
        return result
    }
}

extension Float {
    /// IEEE binary16 → binary32 without relying on `Float16` (unavailable on some x86 toolchains).
    package init(halfBits h: UInt16) {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            let magnitude = Float(mantissa) * (1.0 / 16_777_216.0)  // 2^-24
            self = sign != 0 ? -magnitude : magnitude
        } else if exponent == 31 {
            self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        } else {
            self = Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
        }
    }

    /// binary32 → binary16, round to nearest even.
    package var halfBits: UInt16 {
        let bits = bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
        let mantissa = bits & 0x7F_FFFF
        if isNaN { return sign | 0x7E00 }
        if exponent >= 31 { return sign | 0x7C00 }
        if exponent <= 0 {
            if exponent < -10 { return sign }
            let full = mantissa | 0x80_0000
            let shift = UInt32(14 - exponent)
            var half = full >> shift
            let remainder = full & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            if remainder > halfway || (remainder == halfway && half & 1 == 1) { half += 1 }
            return sign | UInt16(half)
        }
        var half = UInt32(exponent) << 10 | (mantissa >> 13)
        let remainder = mantissa & 0x1FFF
        if remainder > 0x1000 || (remainder == 0x1000 && half & 1 == 1) { half += 1 }
        return sign | UInt16(half)
    }
}
