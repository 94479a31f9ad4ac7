import Foundation
import Sparrow

/// ONNX `TensorProto.DataType` codes the importer reads.
enum ONNXElementType {
    static let float = 1, uint8 = 2, int8 = 3, int32 = 6, int64 = 7, bool = 9, float16 = 10, double = 11

    /// Sparrow's type for an ONNX element type. DOUBLE becomes float32 (its data is converted): Sparrow has no
    /// float64 and CNN exports only produce doubles by accident (a Python float constant).
    static func dtype(_ code: Int) -> DType? {
        switch code {
        case float, double: return .float32
        case uint8: return .uint8
        case int8: return .int8
        case int32: return .int32
        case int64: return .int64
        case bool: return .bool
        case float16: return .float16
        default: return nil
        }
    }

    /// Size in bytes of one element as stored in the ONNX file (which differs from the DType for DOUBLE).
    static func storedSize(_ code: Int) -> Int {
        code == double ? 8 : dtype(code)?.size ?? 0
    }
}

extension ONNXImportContext {
    /// Resolves a tensor's data, wherever the file keeps it, into little-endian bytes of its Sparrow type.
    /// - Parameter name: How messages refer to the tensor (its name, or the attribute holding it).
    mutating func tensorData(_ proto: Onnx_TensorProto, name: String) throws -> IRTensorData {
        let code = Int(proto.dataType)
        guard let dtype = ONNXElementType.dtype(code) else {
            throw ConvertError.unsupportedDType(tensor: name, type: code)
        }
        var shape: [Int] = []
        var count = 1
        for dim in proto.dims {
            guard dim >= 0, let size = Int(exactly: dim) else {
                throw ConvertError.invalidONNX("tensor '\(name)' has a negative dimension in \(proto.dims)")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            // 2^40 elements is far beyond any model and keeps byte counts far from overflow.
            guard !overflow, product <= 1 << 40 else {
                throw ConvertError.invalidONNX("tensor '\(name)' has too many elements (\(proto.dims))")
            }
            count = product
            shape.append(size)
        }

        let storedBytes: [UInt8]
        if proto.dataLocation == .external {
            storedBytes = try externalData(proto, name: name, expectedBytes: count * ONNXElementType.storedSize(code))
        } else if !proto.rawData.isEmpty {
            storedBytes = [UInt8](proto.rawData)
            guard storedBytes.count == count * ONNXElementType.storedSize(code) else {
                throw ConvertError.invalidONNX("tensor '\(name)' has \(storedBytes.count) bytes of raw_data; shape "
                    + "\(shape) needs \(count * ONNXElementType.storedSize(code))")
            }
        } else {
            return IRTensorData(dtype: dtype, shape: shape, bytes: try typedData(proto, code: code, count: count, name: name))
        }
        let bytes = code == ONNXElementType.double ? Self.doublesToFloatBytes(storedBytes) : storedBytes
        return IRTensorData(dtype: dtype, shape: shape, bytes: bytes)
    }

    /// Data from the type-specific repeated fields (`float_data`, `int32_data`, ...), which ONNX uses when
    /// `raw_data` is empty.
    private func typedData(_ proto: Onnx_TensorProto, code: Int, count: Int, name: String) throws -> [UInt8] {
        func checkCount(_ actual: Int, _ field: String) throws {
            guard actual == count else {
                throw ConvertError.invalidONNX("tensor '\(name)' has \(actual) values in \(field); its shape needs "
                    + "\(count)")
            }
        }
        var bytes: [UInt8] = []
        switch code {
        case ONNXElementType.float:
            try checkCount(proto.floatData.count, "float_data")
            bytes.reserveCapacity(count * 4)
            for value in proto.floatData { Self.append(value.bitPattern, to: &bytes) }
        case ONNXElementType.double:
            try checkCount(proto.doubleData.count, "double_data")
            bytes.reserveCapacity(count * 4)
            for value in proto.doubleData { Self.append(Float(value).bitPattern, to: &bytes) }
        case ONNXElementType.int64:
            try checkCount(proto.int64Data.count, "int64_data")
            bytes.reserveCapacity(count * 8)
            for value in proto.int64Data { Self.append(value, to: &bytes) }
        case ONNXElementType.int32:
            try checkCount(proto.int32Data.count, "int32_data")
            bytes.reserveCapacity(count * 4)
            for value in proto.int32Data { Self.append(value, to: &bytes) }
        case ONNXElementType.float16:
            // Halves are stored as their 16-bit patterns widened to int32.
            try checkCount(proto.int32Data.count, "int32_data")
            bytes.reserveCapacity(count * 2)
            for value in proto.int32Data { Self.append(UInt16(truncatingIfNeeded: value), to: &bytes) }
        case ONNXElementType.int8, ONNXElementType.uint8:
            try checkCount(proto.int32Data.count, "int32_data")
            let range = code == ONNXElementType.int8 ? -128...127 : 0...255
            for value in proto.int32Data {
                guard range.contains(Int(value)) else {
                    throw ConvertError.invalidONNX("tensor '\(name)' holds \(value), out of range for its type")
                }
                bytes.append(UInt8(truncatingIfNeeded: value))
            }
        case ONNXElementType.bool:
            try checkCount(proto.int32Data.count, "int32_data")
            bytes = proto.int32Data.map { $0 != 0 ? 1 : 0 }
        default:
            throw ConvertError.unsupportedDType(tensor: name, type: code)
        }
        return bytes
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Little-endian float64 bytes → little-endian float32 bytes (round to nearest).
    static func doublesToFloatBytes(_ stored: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(stored.count / 2)
        for start in stride(from: 0, to: stored.count, by: 8) {
            var bits: UInt64 = 0
            for i in 0..<8 { bits |= UInt64(stored[start + i]) << (8 * UInt64(i)) }
            append(Float(Double(bitPattern: bits)).bitPattern, to: &bytes)
        }
        return bytes
    }
}
