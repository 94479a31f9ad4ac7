import Benchmark
import Sparrow

// Single layers of MobileNetV2 and ResNet-50 at batch 1, fp32, each a one-node model run through the public API
// (`Session.run(_:into:)` with preallocated outputs), so the numbers include the per-run session overhead.
// GFLOP/s = 2 · MACs / wall-clock time; the MACs are in each name, and the `MFLOP/s` metric is that ratio
// measured per iteration. See README.md for how to compare it with this CPU's fp32 peak.

/// Layers as they appear in the networks (torchvision shapes); `threads` lists the session sizes benchmarked.
let layers: [(layer: Layer, threads: [Int])] = [
    (Layer(network: "ResNet50", label: "conv1 7x7/2 3->64 224x224",
           kind: .conv(inputChannels: 3, outputChannels: 64, height: 224, width: 224,
                       kernel: 7, stride: 2, pad: 3, group: 1),
           activation: .relu), [1]),
    (Layer(network: "ResNet50", label: "stage1 conv3x3 64->64 56x56",
           kind: .conv(inputChannels: 64, outputChannels: 64, height: 56, width: 56,
                       kernel: 3, stride: 1, pad: 1, group: 1),
           activation: .relu), [1, 2]),
    (Layer(network: "ResNet50", label: "stage1 conv1x1 64->256 56x56",
           kind: .conv(inputChannels: 64, outputChannels: 256, height: 56, width: 56,
                       kernel: 1, stride: 1, pad: 0, group: 1),
           activation: .none), [1, 2]),
    (Layer(network: "ResNet50", label: "stage3 conv3x3 256->256 14x14",
           kind: .conv(inputChannels: 256, outputChannels: 256, height: 14, width: 14,
                       kernel: 3, stride: 1, pad: 1, group: 1),
           activation: .relu), [1]),
    (Layer(network: "ResNet50", label: "stage3 conv1x1 256->1024 14x14",
           kind: .conv(inputChannels: 256, outputChannels: 1024, height: 14, width: 14,
                       kernel: 1, stride: 1, pad: 0, group: 1),
           activation: .none), [1]),
    (Layer(network: "ResNet50", label: "stage4 conv1x1 512->2048 7x7",
           kind: .conv(inputChannels: 512, outputChannels: 2048, height: 7, width: 7,
                       kernel: 1, stride: 1, pad: 0, group: 1),
           activation: .none), [1]),
    (Layer(network: "MobileNetV2", label: "conv1x1 16->96 112x112",
           kind: .conv(inputChannels: 16, outputChannels: 96, height: 112, width: 112,
                       kernel: 1, stride: 1, pad: 0, group: 1),
           activation: .relu6), [1]),
    (Layer(network: "MobileNetV2", label: "conv1x1 24->144 56x56",
           kind: .conv(inputChannels: 24, outputChannels: 144, height: 56, width: 56,
                       kernel: 1, stride: 1, pad: 0, group: 1),
           activation: .relu6), [1]),
    (Layer(network: "MobileNetV2", label: "dw3x3/2 96ch 112x112",
           kind: .conv(inputChannels: 96, outputChannels: 96, height: 112, width: 112,
                       kernel: 3, stride: 2, pad: 1, group: 96),
           activation: .relu6), [1]),
    (Layer(network: "MobileNetV2", label: "dw3x3 144ch 56x56",
           kind: .conv(inputChannels: 144, outputChannels: 144, height: 56, width: 56,
                       kernel: 3, stride: 1, pad: 1, group: 144),
           activation: .relu6), [1]),
    (Layer(network: "MobileNetV2", label: "dw3x3 960ch 7x7",
           kind: .conv(inputChannels: 960, outputChannels: 960, height: 7, width: 7,
                       kernel: 3, stride: 1, pad: 1, group: 960),
           activation: .relu6), [1]),
    (Layer(network: "MobileNetV2", label: "conv1x1 320->1280 7x7",
           kind: .conv(inputChannels: 320, outputChannels: 1280, height: 7, width: 7,
                       kernel: 1, stride: 1, pad: 0, group: 1),
           activation: .relu6), [1]),
    (Layer(network: "MobileNetV2", label: "gemm 1x1280->1000",
           kind: .gemm(inputs: 1280, outputs: 1000),
           activation: .none), [1]),
]

/// 1x1 convolutions (pointwise GEMMs) with the sparse and int8 variants: ResNet-50 bottleneck expansions at
/// 56x56, 14x14 and 7x7, and a MobileNetV2 expansion. The dense fp32 rows of the same shapes are in `layers`.
let pointwiseLayers: [Layer] = layers.map(\.layer).filter {
    ["ResNet50 stage1 conv1x1 64->256 56x56", "ResNet50 stage3 conv1x1 256->1024 14x14",
     "ResNet50 stage4 conv1x1 512->2048 7x7", "MobileNetV2 conv1x1 24->144 56x56"].contains("\($0.network) \($0.label)")
}

/// Sparsities of the CSR (SpMM) variants: fraction of zero weights.
let sparsities = [0.5, 0.7, 0.9, 0.95]

/// 2 · MACs / wall-clock of the measured iteration, in MFLOP/s (metrics are integers; 1 MFLOP/s resolution).
let mflops = BenchmarkMetric.custom("MFLOP/s", polarity: .prefersLarger, useScalingFactor: false)

/// Builds a layer's model and session on the first (warm-up) iteration, outside the measurement, and keeps it.
final class LazyFixture {
    private let layer: Layer
    private let threads: Int
    private var fixture: LayerFixture?

    init(layer: Layer, threads: Int) {
        self.layer = layer
        self.threads = threads
    }

    func get() throws -> LayerFixture {
        if let fixture { return fixture }
        let made = try LayerFixture(layer: layer, threads: threads)
        fixture = made
        return made
    }
}

/// The int8 GEMM fixture, made on the first (warm-up) iteration like `LazyFixture`.
final class LazyInt8Fixture {
    private let layer: Layer
    private var fixture: Int8GemmFixture?

    init(layer: Layer) { self.layer = layer }

    func get() -> Int8GemmFixture {
        if let fixture { return fixture }
        let made = Int8GemmFixture(layer: layer)
        fixture = made
        return made
    }
}

let benchmarks: @Sendable () -> Void = {
    // Short runs: a few seconds per benchmark at most. Override with --max-duration / --max-iterations.
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, mflops],
        units: [mflops: .count],
        warmupIterations: 3,
        scalingFactor: .one,
        maxDuration: .seconds(2),
        maxIterations: 1_000)

    var sessionLayers = layers
    for layer in pointwiseLayers {
        for sparsity in sparsities {
            var sparse = layer
            sparse.sparsity = sparsity
            sessionLayers.append((sparse, [1]))
        }
    }

    for (layer, threadCounts) in sessionLayers {
        for threads in threadCounts {
            let lazy = LazyFixture(layer: layer, threads: threads)
            let flopsPerRun = 2 * Double(layer.macs)
            Benchmark(layer.benchmarkName(threads: threads)) { benchmark in
                let fixture = try lazy.get()
                benchmark.startMeasurement()
                let start = monotonicSeconds()
                for _ in benchmark.scaledIterations { try fixture.run() }
                let seconds = monotonicSeconds() - start
                benchmark.stopMeasurement()
                let runs = Double(benchmark.scaledIterations.count)
                benchmark.measurement(mflops, Int((flopsPerRun * runs / seconds / 1e6).rounded()))
            }
        }
    }

    // int8: the C GEMM kernel alone (no Session), u8 × s8 → requantized u8, one thread. MFLOP/s here counts
    // int8 ops (2 per MAC), i.e. MOP/s.
    for layer in pointwiseLayers {
        let lazy = LazyInt8Fixture(layer: layer)
        let opsPerRun = 2 * Double(layer.macs)
        Benchmark(layer.benchmarkName(threads: 1, suffix: "int8")) { benchmark in
            let gemm = lazy.get()
            benchmark.startMeasurement()
            let start = monotonicSeconds()
            for _ in benchmark.scaledIterations { gemm.run() }
            let seconds = monotonicSeconds() - start
            benchmark.stopMeasurement()
            blackHole(gemm.checksum)
            let runs = Double(benchmark.scaledIterations.count)
            benchmark.measurement(mflops, Int((opsPerRun * runs / seconds / 1e6).rounded()))
        }
    }
}
