import XCTest
@testable import Sparrow
@testable import SparrowConvert

/// Untrusted files: every kind of damage must end in a typed error naming the problem, never a crash.
final class CorruptFileTests: XCTestCase {
    func expectInvalid(_ bytes: [UInt8], containing text: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try Model(bytes: bytes)
            XCTFail("accepted a corrupt file", file: file, line: line)
        } catch let error as SparrowError {
            guard case .invalidModel(let message) = error else {
                return XCTFail("unexpected \(error)", file: file, line: line)
            }
            if let text { XCTAssertTrue(message.contains(text), "'\(message)' lacks '\(text)'", file: file, line: line) }
        } catch {
            XCTFail("untyped error \(error)", file: file, line: line)
        }
    }

    /// Rewrites the header CRC after patching header bytes, so that the check behind it is the one that fires.
    func withHeaderCRC(_ bytes: [UInt8]) -> [UInt8] {
        var copy = bytes
        let crc = crc32c(Array(copy[0..<60]))
        for i in 0..<4 { copy[60 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        return copy
    }

    func testEveryTruncationIsRejected() {
        let bytes = FormatTests.model(FormatTests.csr)
        for length in stride(from: 0, to: bytes.count, by: 7) { expectInvalid(Array(bytes[0..<length])) }
        expectInvalid(Array(bytes.dropLast()))
    }

    func testFlippedByteInEverySectionIsRejected() throws {
        let bytes = FormatTests.model(FormatTests.coo)
        let sections = try bytes.withUnsafeBytes { try ModelReader.readSections($0) }
        var offsets = [3, 20, 64 + 5]  // magic/header, section table
        for (_, range) in sections where !range.isEmpty { offsets += [range.lowerBound, range.upperBound - 1, range.lowerBound + range.count / 2] }
        for offset in offsets {
            var damaged = bytes
            damaged[offset] ^= 0x40
            expectInvalid(damaged)
        }
    }

    func testWrongMagicAndVersion() {
        var bytes = FormatTests.model { _ in nil }
        var magic = bytes
        magic[0] = UInt8(ascii: "X")
        expectInvalid(withHeaderCRC(magic), containing: "magic")
        bytes[8] = 2
        expectInvalid(withHeaderCRC(bytes), containing: "version 2.\(FormatConstants.minorVersion)")
    }

    func testOutOfRangeCSRColumn() {
        let bytes = FormatTests.model { b in
            .csr(CSRStorage(rows: 4, cols: 6, nonzeros: 2, rowPointers: b.blobs.append(le([UInt32(0), 1, 1, 2, 2])),
                            columnIndices: b.blobs.append([2, 9]), indexWidth: .u8,
                            values: b.blobs.append(leFloats([1, 2])), valueType: .float32))
        }
        expectInvalid(bytes, containing: "column index 9")
    }

    func testDecreasingRowPointers() {
        let bytes = FormatTests.model { b in
            .csr(CSRStorage(rows: 4, cols: 6, nonzeros: 2, rowPointers: b.blobs.append(le([UInt32(0), 2, 1, 2, 2])),
                            columnIndices: b.blobs.append([0, 1]), indexWidth: .u8,
                            values: b.blobs.append(leFloats([1, 2])), valueType: .float32))
        }
        expectInvalid(bytes, containing: "row pointer")
    }

    func testUnsortedCSRRowAndCOOOrder() {
        expectInvalid(FormatTests.model { b in
            .csr(CSRStorage(rows: 4, cols: 6, nonzeros: 2, rowPointers: b.blobs.append(le([UInt32(0), 2, 2, 2, 2])),
                            columnIndices: b.blobs.append([3, 1]), indexWidth: .u8,
                            values: b.blobs.append(leFloats([1, 2])), valueType: .float32))
        }, containing: "strictly increasing")
        expectInvalid(FormatTests.model { b in
            .coo(COOStorage(rows: 4, cols: 6, nonzeros: 2, rowIndices: b.blobs.append([2, 1]), rowIndexWidth: .u8,
                            columnIndices: b.blobs.append([0, 0]), columnIndexWidth: .u8,
                            values: b.blobs.append(leFloats([1, 2])), valueType: .float32))
        }, containing: "out of order")
        expectInvalid(FormatTests.model { b in
            .coo(COOStorage(rows: 4, cols: 6, nonzeros: 1, rowIndices: b.blobs.append([4]), rowIndexWidth: .u8,
                            columnIndices: b.blobs.append([0]), columnIndexWidth: .u8,
                            values: b.blobs.append(leFloats([1])), valueType: .float32))
        }, containing: "outside")
    }

    func testBlobSizeMustMatchShape() {
        expectInvalid(FormatTests.model { b in .dense(b.blobs.append(leFloats([1, 2, 3]))) }, containing: "expected 24")
        expectInvalid(FormatTests.model { b in
            .int8PerChannel(values: b.blobs.append([UInt8](repeating: 1, count: 24)),
                            scales: b.blobs.append(leFloats([1, 1, -1, 1])), zeroPoints: nil, axis: 0)
        }, containing: "scale 2")
    }

    func testDanglingReferencesAreRejected() {
        var b = ModelBuilder()
        let x = b.input("x", [.fixed(2)])
        let y = b.value("y")
        let z = b.value("z")
        b.node(.relu, "first", [z], [y])  // z is never defined
        b.node(.relu, "second", [x], [z])
        b.outputs = [y]
        expectInvalid(b.encode(), containing: "before anything defines it")
    }

    func testWrongInputShapeAndDTypeAreTypedErrors() throws {
        let model = try Model(bytes: FormatTests.model { _ in nil })
        let session = try Session(model: model)
        XCTAssertThrowsError(try session.run([Tensor(shape: [1, 5], floats: [1, 2, 3, 4, 5])])) { error in
            guard case SparrowError.inputMismatch = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try session.run([Tensor(zeros: [1, 6], dtype: .int64)])) { error in
            guard case SparrowError.inputMismatch = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try session.run([])) { error in
            guard case SparrowError.inputMismatch = error else { return XCTFail("\(error)") }
        }
    }

    /// Well-formed files whose shapes explode: planning must throw, not trap on overflow or run out of memory.
    func testHugeShapesAreTypedErrors() throws {
        for op in [OpKind.expand, .constantOfShape] {
            var b = ModelBuilder()
            let x = b.input("x", [.fixed(1)])
            let shape = b.constant("shape", [3], ints: [1 << 20, 1 << 20, 1 << 22])
            let y = b.value("y")
            b.node(op, "explode", op == .expand ? [x, shape] : [shape], [y])
            b.outputs = [y]
            let model = try Model(bytes: b.encode())
            XCTAssertThrowsError(try Session(model: model).run([Tensor(shape: [1], floats: [1])]), "\(op)") { error in
                guard case SparrowError.invalidGraph = error else { return XCTFail("\(op): \(error)") }
            }
        }
    }

    /// Random damage anywhere: a cheap fuzz pass over many mutations of a valid file.
    func testRandomMutationsNeverCrash() {
        let bytes = FormatTests.model(FormatTests.csr)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        for _ in 0..<2000 {
            var damaged = bytes
            for _ in 0..<(1 + Int(next() % 4)) {
                damaged[Int(next() % UInt64(damaged.count))] = UInt8(truncatingIfNeeded: next())
            }
            _ = try? Model(bytes: damaged)
        }
    }
}
