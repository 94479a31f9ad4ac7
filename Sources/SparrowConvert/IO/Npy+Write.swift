import Sparrow

extension NpyArray {
    /// The dtype string numpy writes for a `DType`.
    static func descr(_ dtype: DType) -> String {
        switch dtype {
        case .float32: return "<f4"
        case .float16: return "<f2"
        case .int8: return "|i1"
        case .uint8: return "|u1"
        case .int32: return "<i4"
        case .int64: return "<i8"
        case .bool: return "|b1"
        }
    }

    /// The bytes of a `.npy` file holding this array, laid out as `numpy.save` does: version 1.0 (2.0 if the
    /// header outgrows a 16-bit length), header padded with spaces to a multiple of 64 bytes and ended by `\n`.
    public func encoded() -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        let dictionary = "{'descr': '\(NpyArray.descr(dtype))', 'fortran_order': False, 'shape': \(shapeText), }"
        var version: UInt8 = 1
        var prefixLength = 10
        var headerLength = NpyArray.paddedLength(dictionary.utf8.count + 1, prefix: prefixLength)
        if headerLength > Int(UInt16.max) {
            version = 2
            prefixLength = 12
            headerLength = NpyArray.paddedLength(dictionary.utf8.count + 1, prefix: prefixLength)
        }
        var file: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, version, 0]
        file.reserveCapacity(prefixLength + headerLength + bytes.count)
        let lengthBytes = version == 1 ? 2 : 4
        for index in 0..<lengthBytes { file.append(UInt8(truncatingIfNeeded: headerLength >> (8 * index))) }
        file.append(contentsOf: dictionary.utf8)
        file.append(contentsOf: repeatElement(0x20, count: headerLength - dictionary.utf8.count - 1))
        file.append(0x0A)
        file.append(contentsOf: bytes)
        return file
    }

    /// Writes the array to a `.npy` file atomically (readers never see a partial file).
    /// - Throws: `ConvertError.io` naming the path if the file cannot be written.
    public func write(to path: String) throws {
        try AtomicFile.write(encoded(), to: path)
    }

    /// Header length (dictionary, padding and newline) that makes `prefix + length` a multiple of 64.
    private static func paddedLength(_ minimum: Int, prefix: Int) -> Int {
        (prefix + minimum + 63) / 64 * 64 - prefix
    }
}
