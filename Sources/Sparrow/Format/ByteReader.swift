/// A bounds-checked little-endian cursor over one section of an untrusted file. Every read checks the bytes
/// left first, so a corrupt count or length becomes an error, never an out-of-bounds read.
struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    private(set) var position: Int
    /// Names the section in error messages.
    let context: String

    init(_ bytes: UnsafeRawBufferPointer, context: String) {
        self.bytes = bytes
        self.position = 0
        self.context = context
    }

    var remaining: Int { bytes.count - position }
    var isAtEnd: Bool { position == bytes.count }

    func fail(_ reason: String) -> SparrowError {
        .invalidModel("\(context) at byte \(position): \(reason)")
    }

    private mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else {
            throw fail("needs \(count) bytes, \(remaining) left")
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<position + count])
        position += count
        return slice
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let raw = try take(MemoryLayout<T>.size)
        return T(littleEndian: raw.loadUnaligned(as: T.self))
    }

    mutating func u8() throws -> UInt8 { try integer(UInt8.self) }
    mutating func u16() throws -> UInt16 { try integer(UInt16.self) }
    mutating func u32() throws -> UInt32 { try integer(UInt32.self) }
    mutating func u64() throws -> UInt64 { try integer(UInt64.self) }
    mutating func i64() throws -> Int64 { try integer(Int64.self) }
    mutating func f32() throws -> Float { Float(bitPattern: try u32()) }

    /// A u64 that must fit a non-negative `Int` below `limit`.
    mutating func size(limit: Int, what: String) throws -> Int {
        let value = try u64()
        guard value <= UInt64(limit) else { throw fail("\(what) \(value) exceeds \(limit)") }
        return Int(value)
    }

    /// A u32 element count, checked against the bytes left so that corrupt counts cannot allocate much.
    mutating func count(minimumElementSize: Int, what: String) throws -> Int {
        let value = Int(try u32())
        guard value <= remaining / max(minimumElementSize, 1) else {
            throw fail("\(what) count \(value) exceeds the \(remaining) bytes left")
        }
        return value
    }

    mutating func string(what: String) throws -> String {
        let length = Int(try u32())
        guard length <= 65_535 else { throw fail("\(what) string length \(length) exceeds 65535") }
        let raw = try take(length)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw fail("\(what) is not valid UTF-8")
        }
        return text
    }
}
