import Foundation
import XCTest
import Sparrow
import SparrowConvert

/// `.npy` reading and writing: files as numpy writes them (headers crafted byte by byte here), round trips of every
/// dtype, and a typed error naming the problem for everything Sparrow does not read.
final class NpyTests: XCTestCase {
    /// A `.npy` file: magic, version, little-endian header length, the header padded with spaces as numpy pads it
    /// (to a multiple of 64 bytes in all), then the data.
    static func file(_ dictionary: String, version: UInt8 = 1, data: [UInt8] = []) -> [UInt8] {
        let prefix = version == 1 ? 10 : 12
        let unpadded = dictionary.utf8.count + 1
        let length = (prefix + unpadded + 63) / 64 * 64 - prefix
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        let lengthBytes = version == 1 ? 2 : 4
        for index in 0..<lengthBytes { bytes.append(UInt8(truncatingIfNeeded: length >> (8 * index))) }
        bytes += Array(dictionary.utf8) + [UInt8](repeating: 0x20, count: length - unpadded) + [0x0A]
        return bytes + data
    }

    static func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in (0..<T.bitWidth / 8).map { UInt8(truncatingIfNeeded: value.littleEndian >> (8 * $0)) } }
    }

    static func floatBytes(_ values: [Float]) -> [UInt8] { littleEndian(values.map(\.bitPattern)) }

    func assertInvalid(_ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try NpyArray(bytes: bytes), file: file, line: line) { error in
            guard case ConvertError.invalidArgument(let message) = error else {
                return XCTFail("expected invalidArgument, got \(error)", file: file, line: line)
            }
            XCTAssertTrue(message.contains(expected), "'\(message)' does not mention '\(expected)'", file: file, line: line)
        }
    }

    // MARK: Files as numpy writes them

    /// `np.save(f, np.arange(6, dtype=np.float32).reshape(2, 3))`, byte for byte (numpy 2.4).
    static let numpyFloat32Matrix: [UInt8] = {
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00]  // \x93NUMPY 1.0, 118
        bytes += Array(header.utf8) + [UInt8](repeating: 0x20, count: 118 - header.utf8.count - 1) + [0x0A]
        return bytes + floatBytes([0, 1, 2, 3, 4, 5])
    }()

    func testReadsVersion1HeaderWrittenByNumpy() throws {
        let array = try NpyArray(bytes: Self.numpyFloat32Matrix)
        XCTAssertEqual(array.dtype, .float32)
        XCTAssertEqual(array.shape, [2, 3])
        XCTAssertEqual(try array.tensor().floats, [0, 1, 2, 3, 4, 5])
    }

    func testWritesWhatNumpyWrites() throws {
        let array = try NpyArray(dtype: .float32, shape: [2, 3], bytes: Self.floatBytes([0, 1, 2, 3, 4, 5]))
        XCTAssertEqual(array.encoded(), Self.numpyFloat32Matrix)
    }

    /// `np.lib.format.write_array(f, np.arange(3, dtype=np.int32), version=(2, 0))`
    func testReadsVersion2Header() throws {
        let header = "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }"
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 0x02, 0x00, 0x74, 0x00, 0x00, 0x00]  // 2.0, 116
        bytes += Array(header.utf8) + [UInt8](repeating: 0x20, count: 116 - header.utf8.count - 1) + [0x0A]
        bytes += Self.littleEndian([Int32(0), 1, 2])
        let array = try NpyArray(bytes: bytes)
        XCTAssertEqual(array.dtype, .int32)
        XCTAssertEqual(array.shape, [3])
        XCTAssertEqual(try array.tensor().int64s, [0, 1, 2])
    }

    func testReadsVersion3Header() throws {
        let bytes = Self.file("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", version: 3,
                              data: Self.littleEndian([Int64(-7), 1 << 40]))
        XCTAssertEqual(try NpyArray(bytes: bytes).tensor().int64s, [-7, 1 << 40])
    }

    func testReadsScalarAndEmptyArrays() throws {
        let scalar = try NpyArray(bytes: Self.file("{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                                                   data: Self.floatBytes([3.5])))
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.count, 1)
        XCTAssertEqual(try scalar.tensor().floats, [3.5])

        let empty = try NpyArray(bytes: Self.file("{'descr': '<i8', 'fortran_order': False, 'shape': (0,), }"))
        XCTAssertEqual(empty.shape, [0])
        XCTAssertEqual(empty.bytes, [])
        let emptyMatrix = try NpyArray(bytes: Self.file("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }"))
        XCTAssertEqual(emptyMatrix.shape, [0, 4])
    }

    func testAcceptsHeaderVariants() throws {
        // Key order, double quotes, no trailing comma, no spaces, Python 2 long integers.
        let variants = [
            "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
            "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}",
            "{'descr':'<f4','fortran_order':False,'shape':(2L,),}",
        ]
        for header in variants {
            let array = try NpyArray(bytes: Self.file(header, data: Self.floatBytes([1, 2])))
            XCTAssertEqual(array.shape, [2], header)
        }
    }

    func testAcceptsUnambiguousByteOrderMarks() throws {
        let cases: [(String, DType, Int)] = [
            ("=f4", .float32, 4), ("<f2", .float16, 2), ("|i1", .int8, 1), ("<i1", .int8, 1), ("=u1", .uint8, 1),
            ("|u1", .uint8, 1), ("=i4", .int32, 4), ("=i8", .int64, 8), ("|b1", .bool, 1), ("|?", .bool, 1),
            (">i1", .int8, 1),
        ]
        for (descr, dtype, size) in cases {
            let header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (3,), }"
            let array = try NpyArray(bytes: Self.file(header, data: [UInt8](repeating: 1, count: 3 * size)))
            XCTAssertEqual(array.dtype, dtype, descr)
        }
    }

    // MARK: Round trips

    func testRoundTripsEveryDType() throws {
        for dtype in DType.allCases {
            for shape in [[], [0], [5], [2, 3], [1, 2, 3, 4]] {
                let count = shape.reduce(1, *) * dtype.size
                let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
                let original = try NpyArray(dtype: dtype, shape: shape, bytes: bytes)
                let encoded = original.encoded()
                XCTAssertEqual(encoded.count % 64, count % 64, "header of \(dtype) \(shape) is not 64-byte aligned")
                let decoded = try NpyArray(bytes: encoded)
                XCTAssertEqual(decoded, original, "\(dtype) \(shape)")
            }
        }
    }

    func testWritesVersion2WhenTheHeaderOutgrowsSixteenBits() throws {
        // 30,000 dimensions of size 1 ("1, " each) make a header of about 90 KB, more than a 16-bit length holds.
        let shape = [Int](repeating: 1, count: 30_000)
        let array = try NpyArray(dtype: .uint8, shape: shape, bytes: [42])
        let encoded = array.encoded()
        XCTAssertEqual(encoded[6], 2)
        XCTAssertEqual(try NpyArray(bytes: encoded), array)
    }

    func testFilesRoundTripThroughTensors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("npy-tests-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("x.npy").path
        let tensor = try Tensor(shape: [2, 2], floats: [1.5, -2, 0, .infinity])
        try NpyArray(tensor).write(to: path)
        let read = try NpyArray(contentsOf: path)
        XCTAssertEqual(read.shape, [2, 2])
        XCTAssertEqual(try read.tensor().floats, [1.5, -2, 0, .infinity])
        // Nothing but the file itself is left behind by the atomic write.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["x.npy"])
    }

    // MARK: Errors

    func testRejectsWhatSparrowDoesNotRead() {
        func header(_ descr: String, fortran: String = "False", shape: String = "(2,)") -> String {
            "{'descr': \(descr), 'fortran_order': \(fortran), 'shape': \(shape), }"
        }
        assertInvalid(Self.file(header("'>f4'"), data: [0, 0, 0, 0, 0, 0, 0, 0]), "big-endian")
        assertInvalid(Self.file(header("'|f4'"), data: [0, 0, 0, 0, 0, 0, 0, 0]), "no byte order")
        assertInvalid(Self.file(header("'<f4'", fortran: "True"), data: [0, 0, 0, 0, 0, 0, 0, 0]), "fortran_order")
        assertInvalid(Self.file(header("'|O'"), data: [0, 0, 0, 0, 0, 0, 0, 0]), "object arrays")
        assertInvalid(Self.file(header("'<f8'"), data: [UInt8](repeating: 0, count: 16)), "astype(np.float32)")
        assertInvalid(Self.file(header("'<u2'"), data: [0, 0, 0, 0]), "unsupported dtype '<u2'")
        assertInvalid(Self.file(header("[('a', '<f4'), ('b', '<i4')]"), data: [UInt8](repeating: 0, count: 16)),
                      "structured arrays")
        assertInvalid(Self.file(header("'<f4'", shape: "(-1,)")), "negative")
    }

    func testRejectsDamagedFiles() {
        let good = Self.numpyFloat32Matrix
        assertInvalid(Array(good.dropLast(1)), "truncated data")
        assertInvalid(good + [0], "1 unexpected bytes after the data")
        assertInvalid(Array(good.prefix(40)), "truncated header")
        assertInvalid(Array(good.prefix(5)), "magic")
        assertInvalid([], "magic")
        assertInvalid(Array("PK\u{3}\u{4} not numpy at all".utf8), "magic")
        var version4 = good
        version4[6] = 4
        assertInvalid(version4, "version 4.0")
        var hugeHeader = good
        hugeHeader[6] = 2
        hugeHeader[8...11] = [0xFF, 0xFF, 0xFF, 0x7F]
        assertInvalid(hugeHeader, "implausibly long")

        assertInvalid(Self.file("not a dictionary"), "bad header")
        assertInvalid(Self.file("{'descr': '<f4', 'fortran_order': False"), "bad header")
        assertInvalid(Self.file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }"), "bad header")
        assertInvalid(Self.file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } extra"), "bad header")
        assertInvalid(Self.file("{'descr': '<f4', 'shape': (2,), }", data: Self.floatBytes([1, 2])), "fortran_order")
        assertInvalid(Self.file("{'fortran_order': False, 'shape': (2,), }"), "'descr'")
        assertInvalid(Self.file("{'descr': '<f4', 'fortran_order': False, }"), "'shape'")
        assertInvalid(Self.file("{'descr': '<f4', 'fortran_order': None, 'shape': (2,), }"), "bad header")
        assertInvalid(Self.file("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"),
                      "too large")
    }

    func testErrorsFromFilesNameThePath() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("npy-errors-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("broken.npy").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(Self.numpyFloat32Matrix.dropLast(4))))
        XCTAssertThrowsError(try NpyArray(contentsOf: path)) { error in
            guard case ConvertError.invalidArgument(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasPrefix(path + ": truncated data"), message)
        }
        let missing = directory.appendingPathComponent("missing.npy").path
        XCTAssertThrowsError(try NpyArray(contentsOf: missing)) { error in
            guard case ConvertError.io(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains(missing), message)
        }
    }

    func testRejectsInconsistentParts() {
        XCTAssertThrowsError(try NpyArray(dtype: .float32, shape: [2], bytes: [0, 0, 0, 0]))
        XCTAssertThrowsError(try NpyArray(dtype: .float32, shape: [-1], bytes: []))
    }
}
