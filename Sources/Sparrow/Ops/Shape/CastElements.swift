/// Loads and stores of single elements of any dtype, for the run-time Cast kernel.
enum CastElements {
    @inline(__always)
    static func loadInt(_ base: UnsafeRawPointer, _ i: Int, _ dtype: DType) -> Int64 {
        switch dtype {
        case .int8: return Int64(base.load(fromByteOffset: i, as: Int8.self))
        case .uint8, .bool: return Int64(base.load(fromByteOffset: i, as: UInt8.self))
        case .int32: return Int64(base.load(fromByteOffset: i * 4, as: Int32.self))
        default: return base.load(fromByteOffset: i * 8, as: Int64.self)
        }
    }

    @inline(__always)
    static func loadFloat(_ base: UnsafeRawPointer, _ i: Int, _ dtype: DType) -> Float {
        dtype == .float16
            ? Float(halfBits: base.load(fromByteOffset: i * 2, as: UInt16.self))
            : base.load(fromByteOffset: i * 4, as: Float.self)
    }

    @inline(__always)
    static func store(int value: Int64, _ base: UnsafeMutableRawPointer, _ i: Int, _ dtype: DType) {
        switch dtype {
        case .int8: base.storeBytes(of: Int8(truncatingIfNeeded: value), toByteOffset: i, as: Int8.self)
        case .uint8, .bool: base.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: i, as: UInt8.self)
        case .int32: base.storeBytes(of: Int32(truncatingIfNeeded: value), toByteOffset: i * 4, as: Int32.self)
        default: base.storeBytes(of: value, toByteOffset: i * 8, as: Int64.self)
        }
    }

    @inline(__always)
    static func store(float value: Float, _ base: UnsafeMutableRawPointer, _ i: Int, _ dtype: DType) {
        if dtype == .float16 {
            base.storeBytes(of: value.halfBits, toByteOffset: i * 2, as: UInt16.self)
        } else {
            base.storeBytes(of: value, toByteOffset: i * 4, as: Float.self)
        }
    }
}
