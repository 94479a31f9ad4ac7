/// Owned, 64-byte aligned storage of a tensor.
final class TensorStorage: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    let byteCount: Int

    init(byteCount: Int) {
        self.byteCount = byteCount
        bytes = .allocate(byteCount: max(byteCount, 1), alignment: 64)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
    }

    deinit { bytes.deallocate() }
}

/// A dense, contiguous (C order) tensor that a caller passes to or gets from a `Session`.
public struct Tensor: Sendable {
    public let dtype: DType
    public let shape: [Int]
    var storage: TensorStorage

    /// A zero-filled tensor. A negative dimension counts as 0 elements (and no session accepts the shape).
    public init(zeros shape: [Int], dtype: DType = .float32) {
        self.dtype = dtype
        self.shape = shape
        storage = TensorStorage(byteCount: shape.reduce(1) { $0 * max($1, 0) } * dtype.size)
    }

    /// A float32 tensor from elements in C order.
    /// - Throws: `SparrowError.inputMismatch` when the element count does not match the shape.
    public init(shape: [Int], floats: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == floats.count else {
            throw SparrowError.inputMismatch("\(floats.count) floats do not fill shape \(shape)")
        }
        self.init(zeros: shape, dtype: .float32)
        floats.withUnsafeBytes { storage.bytes.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// A tensor of any dtype from raw little-endian bytes in C order.
    /// - Throws: `SparrowError.inputMismatch` when the byte count does not match shape and dtype.
    public init(shape: [Int], dtype: DType, bytes: UnsafeRawBufferPointer) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) * dtype.size == bytes.count else {
            throw SparrowError.inputMismatch("\(bytes.count) bytes do not fill \(dtype) shape \(shape)")
        }
        self.init(zeros: shape, dtype: dtype)
        if let base = bytes.baseAddress, bytes.count > 0 { storage.bytes.copyMemory(from: base, byteCount: bytes.count) }
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1) { $0 * max($1, 0) } }
    /// Size of the data in bytes.
    public var byteCount: Int { storage.byteCount }

    /// Elements as floats (float32 tensors; other dtypes are converted).
    public var floats: [Float] { hostValue.asFloats }
    /// Elements as Int64 (integer tensors; float tensors are truncated).
    public var int64s: [Int64] { hostValue.asInts }

    var hostValue: HostValue {
        HostValue(type: TensorType(dtype, shape), bytes: UnsafeRawBufferPointer(start: storage.bytes, count: byteCount))
    }

    /// Reads the raw bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.bytes, count: byteCount))
    }

    /// Writes the raw bytes (the storage is copied first if another tensor shares it).
    public mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) {
            let copy = TensorStorage(byteCount: byteCount)
            copy.bytes.copyMemory(from: storage.bytes, byteCount: byteCount)
            storage = copy
        }
        return try body(UnsafeMutableRawBufferPointer(start: storage.bytes, count: byteCount))
    }
}
