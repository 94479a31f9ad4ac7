import Foundation
import Sparrow

/// A NumPy array as stored in a `.npy` file: little-endian elements in C order.
///
/// Reads format versions 1.0, 2.0 and 3.0 with the dtypes Sparrow has (`<f4`, `<f2`, `|i1`, `|u1`, `<i4`,
/// `<i8`, `|b1`); writes version 1.0 (2.0 when the header does not fit a 16-bit length), as `numpy.save` does.
/// Everything else (big-endian data, Fortran order, object or structured arrays, truncated data) is rejected
/// with a message that says what was found.
public struct NpyArray: Sendable, Equatable {
    /// Element type.
    public let dtype: DType
    /// Dimensions; empty for a scalar.
    public let shape: [Int]
    /// Raw little-endian elements in C order: `shape.product × dtype.size` bytes.
    public let bytes: [UInt8]

    /// Number of elements (1 for a scalar).
    public var count: Int { shape.reduce(1, *) }

    /// An array from its parts.
    /// - Throws: `ConvertError.invalidArgument` if a dimension is negative or the byte count does not match.
    public init(dtype: DType, shape: [Int], bytes: [UInt8]) throws {
        guard let expected = NpyArray.byteCount(dtype: dtype, shape: shape) else {
            throw ConvertError.invalidArgument("npy: shape \(shape) has a negative dimension or is too large")
        }
        guard expected == bytes.count else {
            throw ConvertError.invalidArgument(
                "npy: \(bytes.count) bytes do not fill \(dtype) shape \(shape) (\(expected) bytes needed)")
        }
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// Reads a `.npy` file.
    /// - Throws: `ConvertError.io` if the file cannot be read, `ConvertError.invalidArgument` (naming the path)
    ///   if it is not a `.npy` file Sparrow can use.
    public init(contentsOf path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
            throw ConvertError.io("cannot read \(path): \(reason)")
        }
        try self.init(bytes: [UInt8](data), source: path)
    }

    /// Parses the bytes of a `.npy` file.
    /// - Throws: `ConvertError.invalidArgument` if they are not a `.npy` file Sparrow can use.
    public init(bytes: [UInt8]) throws {
        try self.init(bytes: bytes, source: nil)
    }

    private init(bytes file: [UInt8], source: String?) throws {
        func invalid(_ reason: String) -> ConvertError {
            .invalidArgument("\(source ?? "npy data"): \(reason)")
        }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"
        guard file.count >= 10, Array(file[0..<6]) == magic else {
            throw invalid("not a .npy file (no \\x93NUMPY magic)")
        }
        let major = file[6]
        let headerStart: Int
        let headerLength: Int
        switch major {
        case 1:
            headerStart = 10
            headerLength = Int(file[8]) | Int(file[9]) << 8
        case 2, 3:
            guard file.count >= 12 else { throw invalid("truncated header") }
            headerStart = 12
            headerLength = Int(file[8]) | Int(file[9]) << 8 | Int(file[10]) << 16 | Int(file[11]) << 24
        default:
            throw invalid("unsupported .npy format version \(major).\(file[7]) (supported: 1.0, 2.0, 3.0)")
        }
        guard headerLength <= NpyArray.maximumHeaderLength else {
            throw invalid("header of \(headerLength) bytes is implausibly long")
        }
        guard file.count - headerStart >= headerLength else {
            throw invalid("truncated header (\(headerLength) bytes announced, \(file.count - headerStart) present)")
        }
        let header = try NpyHeader(text: Array(file[headerStart..<headerStart + headerLength]), fail: invalid)
        let dataStart = headerStart + headerLength
        guard let expected = NpyArray.byteCount(dtype: header.dtype, shape: header.shape) else {
            throw invalid("shape \(header.shape) is too large")
        }
        let present = file.count - dataStart
        guard present >= expected else {
            throw invalid("truncated data: \(header.descr) shape \(header.shape) needs \(expected) bytes, "
                + "the file has \(present)")
        }
        guard present == expected else {
            throw invalid("\(present - expected) unexpected bytes after the data of \(header.descr) shape \(header.shape)")
        }
        dtype = header.dtype
        shape = header.shape
        bytes = Array(file[dataStart...])
    }

    /// Headers are a few dozen bytes; a longer one is damage, not data (numpy itself refuses over 10,000).
    static let maximumHeaderLength = 1 << 20

    /// `product(shape) × dtype.size`, or `nil` for a negative dimension or overflow.
    static func byteCount(dtype: DType, shape: [Int]) -> Int? {
        var total = dtype.size
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            total = product
        }
        return total
    }
}

// MARK: - Tensors

extension NpyArray {
    /// The array of a tensor's elements.
    public init(_ tensor: Tensor) {
        dtype = tensor.dtype
        shape = tensor.shape
        bytes = tensor.withUnsafeBytes { [UInt8]($0) }
    }

    /// A runtime tensor with these elements.
    /// - Throws: `SparrowError.inputMismatch` only if the array is inconsistent (cannot happen for a parsed one).
    public func tensor() throws -> Tensor {
        try bytes.withUnsafeBytes { try Tensor(shape: shape, dtype: dtype, bytes: $0) }
    }
}

// MARK: - Header

/// The dictionary of a `.npy` header: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
struct NpyHeader {
    let descr: String
    let dtype: DType
    let shape: [Int]

    init(text: [UInt8], fail: (String) -> ConvertError) throws {
        var parser = NpyHeaderParser(text: text)
        let entries: [String: NpyHeaderParser.Value]
        do {
            entries = try parser.parseDictionary()
        } catch let error as NpyHeaderParser.SyntaxError {
            throw fail("bad header (\(error.reason)): \(String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard case .string(let descr)? = entries["descr"] else {
            if case .list? = entries["descr"] { throw fail("structured arrays (record dtypes) are not supported") }
            throw fail("header has no 'descr' string")
        }
        guard case .bool(let fortranOrder)? = entries["fortran_order"] else {
            throw fail("header has no 'fortran_order' True/False")
        }
        guard case .tuple(let shape)? = entries["shape"] else { throw fail("header has no 'shape' tuple") }
        guard !fortranOrder else {
            throw fail("fortran_order True is not supported (save np.ascontiguousarray(a) instead)")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("shape \(shape) has a negative dimension") }
        self.descr = descr
        self.dtype = try NpyHeader.dtype(descr: descr, fail: fail)
        self.shape = shape
    }

    /// Maps a dtype string to a `DType`. A byte-order mark is checked where it matters (elements wider than one
    /// byte): `<` is little-endian, `=` is native (little-endian on every host Sparrow runs on), `>` and `|` are
    /// rejected for wide elements.
    static func dtype(descr: String, fail: (String) -> ConvertError) throws -> DType {
        var code = Substring(descr)
        let order = code.first.flatMap { "<>=|".contains($0) ? $0 : nil }
        if order != nil { code = code.dropFirst() }
        let dtype: DType
        switch code {
        case "f4": dtype = .float32
        case "f2": dtype = .float16
        case "i1": dtype = .int8
        case "u1": dtype = .uint8
        case "i4": dtype = .int32
        case "i8": dtype = .int64
        case "b1", "?": dtype = .bool
        case "O":
            throw fail("object arrays are not supported")
        default:
            let hint = code == "f8" ? " (convert with a.astype(np.float32))" : ""
            throw fail("unsupported dtype '\(descr)'\(hint); supported: <f4, <f2, |i1, |u1, <i4, <i8, |b1")
        }
        if dtype.size > 1 {
            switch order {
            case "<"?, nil:
                break
            case "="?:
                #if !_endian(little)
                throw fail("dtype '\(descr)' is native-endian and this host is big-endian")
                #endif
                break
            case ">"?:
                throw fail("big-endian dtype '\(descr)' is not supported (save a.astype('<\(code)') instead)")
            default:
                throw fail("dtype '\(descr)' has no byte order ('|') but elements of \(dtype.size) bytes")
            }
        }
        return dtype
    }
}

/// Parses the Python literal of a `.npy` header: a dictionary with string keys whose values are strings,
/// booleans or tuples of integers (a list value is recognized only to report structured dtypes).
struct NpyHeaderParser {
    enum Value: Equatable {
        case string(String)
        case bool(Bool)
        case tuple([Int])
        case list
    }

    struct SyntaxError: Error {
        let reason: String
    }

    private let text: [UInt8]
    private var position = 0

    init(text: [UInt8]) {
        self.text = text
    }

    mutating func parseDictionary() throws -> [String: Value] {
        try expect(UInt8(ascii: "{"))
        var entries: [String: Value] = [:]
        while true {
            skipSpace()
            if peek() == UInt8(ascii: "}") { position += 1; break }
            guard case .string(let key) = try parseValue() else { throw SyntaxError(reason: "keys must be strings") }
            try expect(UInt8(ascii: ":"))
            entries[key] = try parseValue()
            skipSpace()
            if peek() == UInt8(ascii: ",") {
                position += 1
            } else {
                try expect(UInt8(ascii: "}"))
                break
            }
        }
        skipSpace()
        guard position == text.count else { throw SyntaxError(reason: "text after the dictionary") }
        return entries
    }

    private mutating func parseValue() throws -> Value {
        skipSpace()
        guard let first = peek() else { throw SyntaxError(reason: "unexpected end") }
        switch first {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            return .string(try parseString(quote: first))
        case UInt8(ascii: "("):
            return .tuple(try parseTuple())
        case UInt8(ascii: "["):
            try skipBracketed()
            return .list
        default:
            let word = parseWord()
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            default: throw SyntaxError(reason: word.isEmpty ? "unexpected character" : "unexpected '\(word)'")
            }
        }
    }

    private mutating func parseString(quote: UInt8) throws -> String {
        position += 1
        let start = position
        while let byte = peek(), byte != quote {
            // Escapes never occur in dtype strings; refusing them keeps the parser exact.
            guard byte != UInt8(ascii: "\\") else { throw SyntaxError(reason: "escapes in strings") }
            position += 1
        }
        guard peek() == quote else { throw SyntaxError(reason: "unterminated string") }
        let string = String(decoding: text[start..<position], as: UTF8.self)
        position += 1
        return string
    }

    private mutating func parseTuple() throws -> [Int] {
        position += 1
        var values: [Int] = []
        while true {
            skipSpace()
            if peek() == UInt8(ascii: ")") { position += 1; return values }
            values.append(try parseInteger())
            skipSpace()
            if peek() == UInt8(ascii: ",") {
                position += 1
            } else {
                try expect(UInt8(ascii: ")"))
                return values
            }
        }
    }

    private mutating func parseInteger() throws -> Int {
        let word = parseWord()
        // Python 2 wrote long integers with an `L` suffix.
        let digits = word.hasSuffix("L") ? String(word.dropLast()) : word
        guard let value = Int(digits) else { throw SyntaxError(reason: "'\(word)' is not an integer") }
        return value
    }

    /// Skips a list, which only a structured dtype puts in a header.
    private mutating func skipBracketed() throws {
        var depth = 0
        while let byte = peek() {
            position += 1
            if byte == UInt8(ascii: "[") { depth += 1 }
            if byte == UInt8(ascii: "]") { depth -= 1; if depth == 0 { return } }
        }
        throw SyntaxError(reason: "unterminated list")
    }

    private mutating func parseWord() -> String {
        let start = position
        while let byte = peek(), byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z")) {
            position += 1
        }
        return String(decoding: text[start..<position], as: UTF8.self)
    }

    private mutating func expect(_ byte: UInt8) throws {
        skipSpace()
        guard peek() == byte else {
            throw SyntaxError(reason: "expected '\(Character(Unicode.Scalar(byte)))' at byte \(position)")
        }
        position += 1
    }

    private mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    private func peek() -> UInt8? { position < text.count ? text[position] : nil }
}
