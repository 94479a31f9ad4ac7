#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that readers see either the old file or the complete new one: a temporary file in the
/// same directory, fsync, then rename over the destination. A failed write leaves no half file behind.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ConvertError.io("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        let written = bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return true
        }
        guard written, fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ConvertError.io("cannot write \(temporary): \(reason)")
        }
        guard close(fd) == 0 else { throw ConvertError.io("cannot close \(temporary)") }
        guard rename(temporary, path) == 0 else {
            throw ConvertError.io("cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
        }
        ok = true
    }
}
