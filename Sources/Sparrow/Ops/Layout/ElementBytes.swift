/// Element moves for any dtype: ops move bytes, and element sizes are 1, 2, 4 or 8.
enum ElementBytes {
    /// Copies `count` elements of `size` bytes read at element stride `stride` (may be 0 or negative) from
    /// `source` to contiguous `destination`.
    @inline(__always)
    static func gather(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, count: Int, stride: Int,
                       size: Int) {
        if stride == 1 {
            destination.copyMemory(from: source, byteCount: count * size)
            return
        }
        switch size {
        case 4: gather(UInt32.self, destination, source, count, stride)
        case 2: gather(UInt16.self, destination, source, count, stride)
        case 8: gather(UInt64.self, destination, source, count, stride)
        default: gather(UInt8.self, destination, source, count, stride)
        }
    }

    @inline(__always)
    private static func gather<T>(_: T.Type, _ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer,
                                  _ count: Int, _ stride: Int) {
        let out = destination.assumingMemoryBound(to: T.self)
        let input = source.assumingMemoryBound(to: T.self)
        var offset = 0
        for i in 0..<count {
            out[i] = input[offset]
            offset &+= stride
        }
    }

    /// Copies elements `source[table[i]]` to `destination[i]` for `i` in `range`.
    @inline(__always)
    static func gather(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, table: UnsafePointer<Int>,
                       range: Range<Int>, size: Int) {
        switch size {
        case 4: gather(UInt32.self, destination, source, table, range)
        case 2: gather(UInt16.self, destination, source, table, range)
        case 8: gather(UInt64.self, destination, source, table, range)
        default: gather(UInt8.self, destination, source, table, range)
        }
    }

    @inline(__always)
    private static func gather<T>(_: T.Type, _ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer,
                                  _ table: UnsafePointer<Int>, _ range: Range<Int>) {
        let out = destination.assumingMemoryBound(to: T.self)
        let input = source.assumingMemoryBound(to: T.self)
        for i in range { out[i] = input[table[i]] }
    }

    /// Writes `count` copies of the element whose bytes are the low `size` bytes of `pattern`.
    @inline(__always)
    static func fill(_ destination: UnsafeMutableRawPointer, count: Int, pattern: UInt64, size: Int) {
        guard count > 0 else { return }
        switch size {
        case 4: destination.assumingMemoryBound(to: UInt32.self).update(repeating: UInt32(truncatingIfNeeded: pattern), count: count)
        case 2: destination.assumingMemoryBound(to: UInt16.self).update(repeating: UInt16(truncatingIfNeeded: pattern), count: count)
        case 8: destination.assumingMemoryBound(to: UInt64.self).update(repeating: pattern, count: count)
        default: destination.assumingMemoryBound(to: UInt8.self).update(repeating: UInt8(truncatingIfNeeded: pattern), count: count)
        }
    }

    /// Reads one element's bytes as a fill pattern.
    @inline(__always)
    static func pattern(at source: UnsafeRawPointer, size: Int) -> UInt64 {
        switch size {
        case 4: return UInt64(source.loadUnaligned(as: UInt32.self))
        case 2: return UInt64(source.loadUnaligned(as: UInt16.self))
        case 8: return source.loadUnaligned(as: UInt64.self)
        default: return UInt64(source.load(as: UInt8.self))
        }
    }

    /// The fill pattern of a float for a float dtype; `nil` for integer dtypes.
    static func pattern(of value: Float, dtype: DType) -> UInt64? {
        switch dtype {
        case .float32: return UInt64(value.bitPattern)
        case .float16: return UInt64(value.halfBits)
        default: return nil
        }
    }
}
