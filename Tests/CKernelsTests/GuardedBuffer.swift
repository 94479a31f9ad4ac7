#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Elements in their own pages, with an inaccessible page on each side, placed so that the last element ends at
/// the following page (`atEnd`) or the first begins right after the preceding one: a kernel that reads or writes
/// one element past (before) them faults.
final class GuardedBuffer<Element> {
    private let base: UnsafeMutableRawPointer
    private let mappedBytes: Int
    let pointer: UnsafeMutablePointer<Element>
    let count: Int

    init(_ values: [Element], atEnd: Bool) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let bytes = values.count * MemoryLayout<Element>.stride
        let dataPages = max(1, (bytes + page - 1) / page)
        mappedBytes = (dataPages + 2) * page
        let mapped = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else { fatalError("mmap failed") }
        base = mapped
        precondition(mprotect(base, page, PROT_NONE) == 0)
        precondition(mprotect(base + (dataPages + 1) * page, page, PROT_NONE) == 0)
        let start = atEnd ? (dataPages + 1) * page - bytes : page
        count = values.count
        pointer = (base + start).bindMemory(to: Element.self, capacity: max(values.count, 1))
        pointer.initialize(from: values, count: values.count)
    }

    /// The elements, as they are now.
    var array: [Element] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    deinit { munmap(base, mappedBytes) }
}

typealias GuardedFloats = GuardedBuffer<Float>
typealias GuardedBytes = GuardedBuffer<UInt8>
