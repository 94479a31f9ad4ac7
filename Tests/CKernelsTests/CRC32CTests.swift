import CKernels
import XCTest

/// CRC-32C: known vectors, every variant against the scalar slice-by-8 reference, streaming.
final class CRC32CTests: XCTestCase {
    /// Finished CRC of `bytes[offset ..< offset + length]` with a raw-register kernel.
    static func crc(_ fn: spw_crc32c_ukernel_fn, _ bytes: [UInt8], offset: Int = 0, length: Int? = nil) -> UInt32 {
        let n = length ?? bytes.count - offset
        return bytes.withUnsafeBufferPointer { buffer in
            ~fn(0xFFFF_FFFF, buffer.baseAddress.map { $0 + offset }, n)
        }
    }

    static let vectors: [(bytes: [UInt8], crc: UInt32)] = [
        (Array("123456789".utf8), 0xE306_9283),
        ([], 0),
        // RFC 3720 (iSCSI) B.4.
        ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        ((0..<32).map { UInt8($0) }, 0x46DD_794E),
        ((0..<32).map { UInt8(31 - $0) }, 0x113F_DB5C),
        (Array("The quick brown fox jumps over the lazy dog".utf8), 0x2262_0404),
    ]

    func testKnownVectorsAllVariants() {
        for entry in KernelRegistry.variants(of: SPW_OP_CRC32C) where KernelRegistry.isSupported(entry) {
            for (bytes, expected) in Self.vectors {
                XCTAssertEqual(Self.crc(entry.fn.crc32c!, bytes), expected,
                               "\(KernelRegistry.name(entry)) on \(bytes.count) bytes")
            }
        }
    }

    func testKnownVectorsDispatch() {
        for (bytes, expected) in Self.vectors {
            XCTAssertEqual(bytes.withUnsafeBytes { spw_crc32c($0.baseAddress, $0.count) }, expected)
        }
        XCTAssertEqual(spw_crc32c(nil, 0), 0)
    }

    /// Lengths 0...1000 at start offsets 0...7, then lengths around multiples of the 3-way block sizes.
    func testVariantsMatchReference() {
        var rng = SplitMix64(seed: 11)
        let buffer = rng.bytes(3 * 4096 * 3 + 4096)
        let reference = KernelRegistry.reference(of: SPW_OP_CRC32C).fn.crc32c!
        let variants = KernelRegistry.testableVariants(of: SPW_OP_CRC32C)
        #if arch(x86_64)
        XCTAssertFalse(variants.isEmpty, "an x86-64 CPU with SSE4.2 and PCLMUL has a hardware CRC variant")
        #endif
        var lengths = Array(0...1000)
        for block in [64, 256, 4096] {
            for multiple in [1, 2, 3] {
                for delta in -9...9 { lengths.append(3 * block * multiple + delta) }
            }
        }
        for variant in variants {
            let fn = variant.fn.crc32c!
            for length in lengths {
                let offset = length % 8
                let expected = Self.crc(reference, buffer, offset: offset, length: length)
                let actual = Self.crc(fn, buffer, offset: offset, length: length)
                if actual != expected {
                    return XCTFail("\(KernelRegistry.name(variant)): length \(length) offset \(offset): "
                        + "\(String(actual, radix: 16)) != \(String(expected, radix: 16))")
                }
            }
            // Whole buffer at every offset (several 12 KiB chunks).
            for offset in 0..<8 {
                XCTAssertEqual(Self.crc(fn, buffer, offset: offset), Self.crc(reference, buffer, offset: offset))
            }
        }
    }

    /// Extending in random pieces gives the CRC of the whole.
    func testStreamingUpdate() {
        var rng = SplitMix64(seed: 12)
        let bytes = rng.bytes(50_000)
        let whole = bytes.withUnsafeBytes { spw_crc32c($0.baseAddress, $0.count) }
        for _ in 0..<20 {
            var crc: UInt32 = 0
            var position = 0
            while position < bytes.count {
                let piece = min(bytes.count - position, rng.int(0...9000))
                crc = bytes.withUnsafeBytes { spw_crc32c_update(crc, $0.baseAddress! + position, piece) }
                position += piece
            }
            XCTAssertEqual(crc, whole)
        }
        XCTAssertEqual(spw_crc32c_update(0x1234_5678, nil, 0), 0x1234_5678)
    }
}
