import CKernels

/// Registry helpers shared by the kernel tests.
enum KernelRegistry {
    /// Every registered variant, in registry order.
    static var all: [spw_kernel_info] {
        var count = 0
        guard let base = spw_kernel_registry(&count) else { return [] }
        return (0..<count).map { base[$0] }
    }

    static func variants(of op: spw_kernel_op) -> [spw_kernel_info] {
        all.filter { $0.op == op }
    }

    /// The scalar reference of `op` (the first entry of the op).
    static func reference(of op: spw_kernel_op) -> spw_kernel_info {
        let entries = variants(of: op)
        precondition(!entries.isEmpty && entries[0].isa == SPW_ISA_SCALAR, "no scalar reference")
        return entries[0]
    }

    static func isSupported(_ entry: spw_kernel_info) -> Bool {
        withUnsafePointer(to: entry) { spw_kernel_is_supported($0) }
    }

    /// The variants of `op` this CPU can run, excluding the reference. Prints the ones it cannot.
    static func testableVariants(of op: spw_kernel_op) -> [spw_kernel_info] {
        var result: [spw_kernel_info] = []
        for (index, entry) in variants(of: op).enumerated() where index > 0 {
            if isSupported(entry) {
                result.append(entry)
            } else {
                print("note: \(name(entry)) not tested: this CPU lacks its features")
            }
        }
        return result
    }

    static func name(_ entry: spw_kernel_info) -> String { String(cString: entry.name) }
}
