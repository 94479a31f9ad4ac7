internal import CKernels

/// CRC-32C of a byte range (hardware CRC instructions where the CPU has them; see CKernels/src/crc32c).
package func crc32c(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    spw_crc32c(bytes.baseAddress, bytes.count)
}

/// CRC-32C of an array, for the writer and tests.
package func crc32c(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBytes { crc32c($0) }
}
