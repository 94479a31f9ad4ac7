import XCTest
@testable import Sparrow

/// binary16 ↔ binary32 conversions used for f16 tensors (runtime and converter share them).
final class HalfFloatTests: XCTestCase {
    func testEveryHalfRoundTrips() {
        for bits in 0...UInt16.max {
            let value = Float(halfBits: bits)
            if value.isNaN {
                XCTAssertTrue(Float(halfBits: value.halfBits).isNaN)
                continue
            }
            XCTAssertEqual(value.halfBits, bits, "half 0x\(String(bits, radix: 16))")
        }
    }

    func testRoundingToNearestEven() {
        XCTAssertEqual(Float(1).halfBits, 0x3C00)
        XCTAssertEqual(Float(65504).halfBits, 0x7BFF)
        XCTAssertEqual(Float(65520).halfBits, 0x7C00, "halfway above the largest half rounds to infinity")
        XCTAssertEqual(Float(-2).halfBits, 0xC000)
        let tiny = Float(sign: .plus, exponent: -24, significand: 1)
        XCTAssertEqual(tiny.halfBits, 0x0001)
        XCTAssertEqual((tiny / 2).halfBits, 0x0000, "a tie rounds to even (zero)")
        XCTAssertEqual((tiny * 1.5).halfBits, 0x0002, "a tie rounds to even (two)")
        XCTAssertEqual(Float(1 + 1.0 / 2048).halfBits, 0x3C00, "a tie between 1 and its successor rounds to even")
        XCTAssertEqual(Float(1 + 3.0 / 2048).halfBits, 0x3C02)
    }
}
