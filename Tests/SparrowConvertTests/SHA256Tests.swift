import Foundation
import XCTest

@testable import SparrowConvert

/// FIPS 180-4 test vectors (NIST CSRC "SHA256.pdf" examples and the long-message vectors).
final class SHA256Tests: XCTestCase {
    private func digest(_ text: String) -> String { SHA256.hexDigest(Array(text.utf8)) }

    func testNISTShortMessages() {
        XCTAssertEqual(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(digest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testNIST448BitMessage() {
        XCTAssertEqual(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testNIST896BitMessage() {
        XCTAssertEqual(digest("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
                              + "lmnopqrsmnopqrstnopqrstu"),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    func testNISTMillionA() {
        XCTAssertEqual(SHA256.hexDigest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Padding boundaries: lengths around 55/56/64 bytes put the length field in the same or the next block.
    func testIncrementalUpdatesMatchOneShotAtBlockBoundaries() {
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000] {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let oneShot = SHA256.hash(message)
            for chunk in [1, 3, 63, 64, 100] {
                var hasher = SHA256()
                var start = 0
                while start < message.count {
                    let end = min(start + chunk, message.count)
                    hasher.update(Array(message[start..<end]))
                    start = end
                }
                XCTAssertEqual(hasher.finalize(), oneShot, "length \(length), chunk \(chunk)")
            }
        }
    }

    func testFileDigestStreamsChunks() throws {
        // Larger than the 1 MiB read chunk, and not a multiple of it.
        let message = (0..<(3 << 20) + 17).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 9)) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sha256-\(UUID().uuidString).bin")
        try Data(message).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try SHA256.hexDigest(ofFileAtPath: url.path), SHA256.hexDigest(message))
    }

    func testMissingFileThrowsIOError() {
        XCTAssertThrowsError(try SHA256.hexDigest(ofFileAtPath: "/nonexistent/sparrow-sha256-test")) { error in
            guard case ConvertError.io = error else { return XCTFail("expected .io, got \(error)") }
        }
    }
}
