import XCTest
@testable import Sparrow

/// The pool runs every index exactly once, loop after loop, without holding on to a finished loop's closure.
final class ThreadPoolTests: XCTestCase {
    func testEveryIndexRunsOnceAcrossManyLoops() {
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threadCount: threads)
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: 64)
            defer { counts.deallocate() }
            for loop in 0..<3000 {
                let n = 1 + loop % 64
                counts.initialize(repeating: 0, count: 64)
                pool.parallelFor(n) { i in counts[i] += 1 }
                for i in 0..<64 where counts[i] != (i < n ? 1 : 0) {
                    return XCTFail("threads \(threads), loop \(loop): index \(i) ran \(counts[i]) times")
                }
            }
        }
    }

    func testPoolShutsDownCleanly() {
        for _ in 0..<50 {
            let pool = ThreadPool(threadCount: 2)
            var total = 0
            let lock = NSLock()
            pool.parallelFor(10) { i in
                lock.lock()
                total += i
                lock.unlock()
            }
            XCTAssertEqual(total, 45)
        }
    }
}
