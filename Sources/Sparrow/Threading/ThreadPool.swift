#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A fixed pool of worker threads that split a loop with the calling thread. Made once per session, so
/// `run` never creates threads; idle workers spin briefly, then sleep, so that they do not steal the cores
/// OpenBLAS uses for its own threads.
package final class ThreadPool: @unchecked Sendable {
    /// Threads that execute a loop, the caller included.
    package let threadCount: Int
    private var threads: [pthread_t] = []
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    private let generation = Atomic<Int>(0)
    private let nextIndex = Atomic<Int>(0)
    private let completed = Atomic<Int>(0)
    /// Workers inside `drain`: a loop returns only when none holds its closure any more.
    private let active = Atomic<Int>(0)
    private var jobCount = 0
    /// The current loop body. Not an Optional: an optional closure is stored reabstracted, and converting it
    /// back allocates a thunk context on every call in unoptimised builds.
    private var job: (Int) -> Void = ThreadPool.idle
    private var hasJob = false
    private var stopping = false

    package init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        mutex = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        for _ in 1..<self.threadCount {
            let context = Unmanaged.passUnretained(self).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                Unmanaged<ThreadPool>.fromOpaque(raw!).takeUnretainedValue().workerLoop()
                return nil
            }, context)
            if status == 0 { threads.append(thread) }
        }
    }

    deinit {
        pthread_mutex_lock(mutex)
        stopping = true
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        wake.deallocate()
    }

    /// Calls `body(i)` for every `i` in `0..<count`, spread over the pool; returns when all calls are done.
    /// The body is escaping on purpose: a closure built once at plan time is handed to the workers by
    /// reference, where a non-escaping one would need `withoutActuallyEscaping`, which heap-allocates a
    /// wrapper on every call. Build bodies once (`ParallelLoop`), not inside a kernel.
    package func parallelFor(_ count: Int, _ body: @escaping (Int) -> Void) {
        if count <= 0 { return }
        if threads.isEmpty || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        pthread_mutex_lock(mutex)
        job = body
        hasJob = true
        jobCount = count
        nextIndex.store(0, ordering: .sequentiallyConsistent)
        completed.store(0, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        drain(body, count: count)
        while completed.load(ordering: .acquiring) < count { spinPause() }
        pthread_mutex_lock(mutex)
        job = ThreadPool.idle
        hasJob = false
        pthread_mutex_unlock(mutex)
        // Workers still inside `drain` hold the body; waiting for them keeps a loop's captures alive no
        // longer than the call.
        while active.load(ordering: .acquiring) > 0 { spinPause() }
    }

    /// The job between loops; one shared closure, so that resetting `job` allocates nothing.
    private static let idle: (Int) -> Void = { _ in }

    private func drain(_ body: (Int) -> Void, count: Int) {
        while true {
            let i = nextIndex.add(1, ordering: .relaxed).oldValue
            if i >= count { return }
            body(i)
            completed.add(1, ordering: .releasing)
        }
    }

    private func workerLoop() {
        var seen = 0
        while true {
            // Spin briefly (~1k loads) before sleeping: longer spins steal the core OpenBLAS threads need (measured
            // ResNet-50 at 2 threads: 128 ms with 20k spins, 101 ms with 1k).
            var spins = 0
            while generation.load(ordering: .acquiring) == seen && spins < 1_000 {
                spinPause()
                spins += 1
            }
            pthread_mutex_lock(mutex)
            while generation.load(ordering: .acquiring) == seen && !stopping {
                pthread_cond_wait(wake, mutex)
            }
            if stopping {
                pthread_mutex_unlock(mutex)
                return
            }
            seen = generation.load(ordering: .acquiring)
            var body = job
            let count = jobCount
            let working = hasJob
            if working { active.add(1, ordering: .sequentiallyConsistent) }
            pthread_mutex_unlock(mutex)
            if working {
                drain(body, count: count)
                // Drop the reference before reporting done, so that the body's captures die with the loop.
                body = ThreadPool.idle
                active.subtract(1, ordering: .releasing)
            }
        }
    }
}

/// Busy-wait step; the atomic load in the caller's loop keeps it from being optimised away.
@inline(__always)
private func spinPause() {}
