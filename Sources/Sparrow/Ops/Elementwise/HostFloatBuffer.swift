/// Floats computed while preparing a kernel (folded BatchNorm coefficients, a converted exponent), owned by
/// the kernel closure that captures this buffer, so that running the kernel reads a fixed address.
final class HostFloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: max(values.count, 1))
        pointer.initialize(repeating: 0, count: max(values.count, 1))
        values.withUnsafeBufferPointer { if let base = $0.baseAddress { pointer.update(from: base, count: count) } }
    }

    /// Zero-filled storage for `count` floats.
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }
}
