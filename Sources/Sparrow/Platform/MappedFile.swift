#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only bytes of a model: an mmap of a file, or an aligned copy of a caller's buffer. Blobs inside stay
/// 64-byte aligned because the base address is page- (or 64-) aligned.
final class ModelBytes: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    private let release: () -> Void

    private init(base: UnsafeRawPointer, count: Int, release: @escaping () -> Void) {
        self.base = base
        self.count = count
        self.release = release
    }

    deinit { release() }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Maps `path` read-only.
    static func map(path: String) throws -> ModelBytes {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SparrowError.io(path: path, reason: errnoMessage()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SparrowError.io(path: path, reason: errnoMessage()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw SparrowError.io(path: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        guard size > 0 else { throw SparrowError.invalidModel("file is empty") }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw SparrowError.io(path: path, reason: "mmap: " + errnoMessage())
        }
        return ModelBytes(base: UnsafeRawPointer(address), count: size) { munmap(address, size) }
    }

    /// Copies `bytes` into a 64-byte aligned buffer owned by the model.
    static func copy(_ bytes: UnsafeRawBufferPointer) -> ModelBytes {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        if let source = bytes.baseAddress, bytes.count > 0 {
            storage.copyMemory(from: source, byteCount: bytes.count)
        }
        return ModelBytes(base: UnsafeRawPointer(storage), count: bytes.count) { storage.deallocate() }
    }
}

func errnoMessage() -> String {
    if let text = strerror(errno) { return String(cString: text) }
    return "errno \(errno)"
}
