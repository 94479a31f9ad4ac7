import XCTest

/// Fill value for outputs a kernel must not write (channels outside the range, guard elements past the end).
let sentinel: Float = -7777.25

/// Elements appended after every output buffer to catch writes past its end.
let guardCount = 19

/// Output size of a sliding window: floor((input + pads - dilated kernel) / stride) + 1, or 0 if it does not fit.
func windowOutputSize(input: Int, kernel: Int, stride: Int, dilation: Int, padBefore: Int, padAfter: Int) -> Int {
    let span = (kernel - 1) * dilation + 1
    let room = input + padBefore + padAfter - span
    return room < 0 ? 0 : room / stride + 1
}

/// Compares a variant against the reference: equal, or within `tolerance * scale[i]` (scale: the reference run on
/// magnitudes, so that cancellation does not make a relative test meaningless). Reports the first mismatch only.
func assertClose(
    _ actual: [Float], _ expected: [Float], scale: [Float], tolerance: Float = 1e-5,
    _ context: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line
) -> Bool {
    XCTAssertEqual(actual.count, expected.count, context(), file: file, line: line)
    for i in 0..<min(actual.count, expected.count) {
        let a = actual[i], e = expected[i]
        if a == e || (a.isNaN && e.isNaN) { continue }
        let bound = tolerance * scale[i] + 16 * Float.leastNormalMagnitude
        if scale[i] > 0, !a.isNaN, abs(a - e) <= bound { continue }
        XCTFail("\(context()): element \(i): got \(a), expected \(e) (bound \(bound))", file: file, line: line)
        return false
    }
    return true
}

/// Exact comparison (for kernels that must match the reference bit for bit; +0 and -0 count as equal).
func assertIdentical(
    _ actual: [Float], _ expected: [Float], _ context: @autoclosure () -> String,
    file: StaticString = #filePath, line: UInt = #line
) -> Bool {
    XCTAssertEqual(actual.count, expected.count, context(), file: file, line: line)
    for i in 0..<min(actual.count, expected.count) {
        let a = actual[i], e = expected[i]
        if a == e || (a.isNaN && e.isNaN) { continue }
        XCTFail("\(context()): element \(i): got \(a), expected \(e)", file: file, line: line)
        return false
    }
    return true
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with a pointer to the array's elements, or nil.
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .some(let array): return array.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: return body(nil)
        }
    }
}
