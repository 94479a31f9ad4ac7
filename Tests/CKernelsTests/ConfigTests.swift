import CKernels
import XCTest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU features, ISA selection, the selection tables and the registry.
final class ConfigTests: XCTestCase {
    func testFeaturesAreConsistent() {
        let features = spw_cpu_features()
        var buffer = [CChar](repeating: 0, count: 256)
        let length = spw_cpu_features_describe(&buffer, buffer.count)
        let description = String(cString: buffer)
        XCTAssertEqual(description.utf8.count, length)
        print("CPU features: \(description); selected ISA: \(String(cString: spw_isa_name()))")
        #if arch(x86_64)
        XCTAssertNotEqual(features & SPW_CPU_SSE42, 0, "every x86-64 host of this project has SSE4.2")
        XCTAssertTrue(description.contains("sse4.2"))
        if features & SPW_CPU_AVX512F != 0 { XCTAssertNotEqual(features & SPW_CPU_AVX2, 0) }
        #endif
        // Truncation: a short buffer is NUL-terminated and holds whole names only.
        var small = [CChar](repeating: 1, count: 8)
        XCTAssertEqual(spw_cpu_features_describe(&small, small.count), length)
        XCTAssertTrue(description.hasPrefix(String(cString: small)))
        XCTAssertEqual(spw_cpu_features_describe(nil, 0), length)
    }

    func testISASelection() {
        XCTAssertEqual(spw_isa_select("scalar"), SPW_ISA_SCALAR)
        let best = spw_isa_select(nil)
        XCTAssertTrue(spw_isa_is_supported(best))
        XCTAssertEqual(spw_isa_select(""), best)
        XCTAssertEqual(spw_isa_select("no-such-isa"), best)
        #if arch(x86_64)
        if spw_isa_is_supported(SPW_ISA_AVX512) {
            XCTAssertEqual(best, SPW_ISA_AVX512)
            XCTAssertEqual(spw_isa_select("avx2"), SPW_ISA_AVX2)
        } else if spw_isa_is_supported(SPW_ISA_AVX2) {
            XCTAssertEqual(best, SPW_ISA_AVX2)
            XCTAssertEqual(spw_isa_select("avx512"), SPW_ISA_AVX2, "an unsupported level falls back down")
        }
        XCTAssertFalse(spw_isa_is_supported(SPW_ISA_NEON))
        #endif
        // The process-wide table follows SPARROW_ISA.
        let request = getenv("SPARROW_ISA")
        XCTAssertEqual(spw_get_kernel_config().pointee.isa, spw_isa_select(request))
        XCTAssertEqual(String(cString: spw_isa_name()), String(cString: spw_isa_label(spw_isa_select(request))))
    }

    static func entries(of config: spw_kernel_config) -> [UnsafePointer<spw_kernel_info>?] {
        withUnsafeBytes(of: config.entries) { Array($0.bindMemory(to: UnsafePointer<spw_kernel_info>?.self)) }
    }

    func testTablesOfSupportedLevels() {
        XCTAssertNotNil(spw_config_for_isa(SPW_ISA_SCALAR))
        for raw in 0..<UInt32(SPW_ISA_COUNT) {
            let isa = spw_isa(rawValue: raw)
            guard let config = spw_config_for_isa(isa)?.pointee else {
                XCTAssertFalse(spw_isa_is_supported(isa))
                continue
            }
            XCTAssertEqual(config.isa, isa)
            XCTAssertNotNil(config.crc32c)
            XCTAssertNotNil(config.f32_dwconv)
            XCTAssertNotNil(config.f32_im2col)
            XCTAssertNotNil(config.f32_bias_act)
            XCTAssertNotNil(config.f32_maxpool)
            XCTAssertNotNil(config.f32_avgpool)
            XCTAssertNotNil(config.f32_gavgpool)
            XCTAssertNotNil(config.f32_spmm)
            XCTAssertNotNil(config.qs8_gemm)
            XCTAssertNotNil(config.f32_qu8_cvt)
            XCTAssertNotNil(config.qu8_f32_cvt)
            XCTAssertNotNil(config.qu8_add)
            XCTAssertNotNil(config.qu8_maxpool)
            XCTAssertNotNil(config.qu8_gavgpool)
            XCTAssertNotNil(config.qu8_dwconv)
            let entries = Self.entries(of: config)
            XCTAssertEqual(entries.count, Int(SPW_KERNEL_OP_COUNT))
            for (op, entry) in entries.enumerated() {
                guard let entry = entry else {
                    XCTFail("\(isa): no kernel for op \(op)")
                    continue
                }
                XCTAssertEqual(Int(entry.pointee.op.rawValue), op)
                XCTAssertTrue(spw_kernel_is_supported(entry))
                if isa == SPW_ISA_SCALAR {
                    XCTAssertTrue(String(cString: entry.pointee.name).hasSuffix("__scalar"))
                }
            }
            print("\(String(cString: spw_isa_label(isa))): "
                + entries.compactMap { $0.map { String(cString: $0.pointee.name) } }.joined(separator: ", "))
        }
        #if arch(x86_64)
        if let avx2 = spw_config_for_isa(SPW_ISA_AVX2)?.pointee {
            XCTAssertEqual(String(cString: spw_kernel_name(SPW_OP_F32_DWCONV)).hasSuffix("__scalar"),
                           spw_get_kernel_config().pointee.isa == SPW_ISA_SCALAR)
            let dwconv = Self.entries(of: avx2)[Int(SPW_OP_F32_DWCONV.rawValue)]
            XCTAssertEqual(dwconv.map { String(cString: $0.pointee.name) }, "spw_f32_dwconv_ukernel_1x8__avx2")
        }
        #endif
    }

    func testRegistryIsWellFormed() {
        let all = KernelRegistry.all
        XCTAssertFalse(all.isEmpty)
        let names = all.map { KernelRegistry.name($0) }
        XCTAssertEqual(Set(names).count, names.count, "kernel names are unique")
        for raw in 0..<UInt32(SPW_KERNEL_OP_COUNT) {
            let variants = KernelRegistry.variants(of: spw_kernel_op(rawValue: raw))
            XCTAssertFalse(variants.isEmpty, "op \(raw) has kernels")
            XCTAssertEqual(variants.first?.isa, SPW_ISA_SCALAR, "op \(raw): the scalar reference comes first")
            XCTAssertTrue(variants.first.map { KernelRegistry.name($0).hasSuffix("__scalar") } ?? false)
        }
        for entry in all {
            // spw_<dtype>_<op>_ukernel_<tile>__<isa>, with the entry's tile.
            let name = KernelRegistry.name(entry)
            let tile = String(cString: entry.tile)
            XCTAssertTrue(name.hasPrefix("spw_"), name)
            XCTAssertTrue(name.contains("_ukernel_\(tile)__"), "\(name) has tile \(tile)")
            XCTAssertNotNil(entry.fn.crc32c, name)  // any member: the union holds the entry point
        }
    }
}
