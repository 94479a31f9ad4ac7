// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Sparrow",
    products: [
        .library(name: "Sparrow", targets: ["Sparrow"]),
        .library(name: "SparrowConvert", targets: ["SparrowConvert"]),
        // Exported only so that the nested Benchmarks/ package can call the C kernels directly (int8 GEMM rows);
        // the runtime's public API is `Sparrow`, and CKernels has no stability promise.
        .library(name: "CKernels", targets: ["CKernels"]),
        .executable(name: "sparrow", targets: ["sparrow-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // MARK: System libraries (pkg-config, Debian packages)
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CLAPACKE", path: "Sources/CLAPACKE", pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev"])]),

        // MARK: C kernels: scalar references + per-ISA variants chosen at run time
        .target(
            name: "CKernels", path: "CKernels",
            exclude: ["bench"],  // stand-alone C benchmarks, built by hand (see CKernels/bench/spmm_bench.c)
            cSettings: [
                .headerSearchPath("src"),
                .define("DEBUG", .when(configuration: .debug)),
            ]),

        // MARK: Runtime (no Foundation)
        .target(name: "Sparrow", dependencies: ["CKernels", "COpenBLAS"]),

        // MARK: Converter
        .target(
            name: "SparrowConvert",
            dependencies: [
                "Sparrow", "CLAPACKE",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["ONNX/onnx-subset.proto"]),

        // MARK: CLI
        .executableTarget(
            name: "sparrow-cli",
            dependencies: [
                "Sparrow", "SparrowConvert",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: Tests
        .testTarget(name: "CKernelsTests", dependencies: ["CKernels"]),
        // Interposes malloc in the test executable to count allocations during Session.run.
        .target(name: "MallocCounter", path: "Tests/MallocCounter"),
        .testTarget(name: "SparrowTests", dependencies: ["Sparrow", "CKernels"]),
        .testTarget(
            name: "SparrowConvertTests", dependencies: ["SparrowConvert", "Sparrow", "MallocCounter", "sparrow-cli"],
            exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v5]
)
