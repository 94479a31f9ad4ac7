#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory the whole process has used, for `sparrow bench`.
enum ProcessMemory {
    /// Where `peakResidentBytes` comes from, as the reports name it.
    static let peakResidentSource = "getrusage(RUSAGE_SELF).ru_maxrss"

    /// The high-water mark of the process's resident set in bytes (the same figure as `VmHWM` in
    /// `/proc/self/status`), or `nil` if `getrusage` fails. It covers everything the process did so far: for an
    /// `.onnx` model, the in-memory conversion too.
    static func peakResidentBytes() -> Int? {
        var usage = rusage()
        #if canImport(Glibc)
        let who = __rusage_who_t(RUSAGE_SELF.rawValue)  // Glibc imports the constant as an enum case
        #else
        let who = RUSAGE_SELF
        #endif
        guard getrusage(who, &usage) == 0 else { return nil }
        #if canImport(Darwin)
        return Int(usage.ru_maxrss)  // bytes on Darwin
        #else
        return Int(usage.ru_maxrss) * 1024  // KiB on Linux
        #endif
    }
}
