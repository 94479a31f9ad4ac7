// swift-tools-version: 6.1
import PackageDescription

// Nested package so that the benchmark dependency (and its build time) stays out of the root package.
// Run from this folder: `swift package --disable-sandbox benchmark` (see README.md).
let package = Package(
    name: "SparrowBenchmarks",
    dependencies: [
        // The root package; its manifest name is required for a path dependency here.
        .package(name: "Sparrow", path: ".."),
        // MallocInterposer gives the malloc counters (mallocCountTotal) on Linux.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // MARK: Benchmarks (ordo-one convention: one executable per folder under Benchmarks/)
        .executableTarget(
            name: "SparrowKernels",
            dependencies: [
                .product(name: "Sparrow", package: "Sparrow"),
                .product(name: "SparrowConvert", package: "Sparrow"),
                // The C kernels themselves, for the int8 GEMM benchmarks (spw_qs8_gemm has no fp32 Session path here).
                .product(name: "CKernels", package: "Sparrow"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/SparrowKernels",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ],
    swiftLanguageModes: [.v6]
)
