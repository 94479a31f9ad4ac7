import Sparrow

/// The elements of one weight that pruning set to zero, and the node inputs that read the weight.
///
/// Positions are C-order element indices of the weight as the converted graph holds it: after BatchNorm folding,
/// which scales whole output channels and so keeps every position where it was. A mask therefore applies as it
/// is to the source model's weight (`MaskedONNXExport`).
public struct PruningMask: Sendable, Equatable {
    /// One input of one node that reads the weight.
    public struct Reader: Sendable, Hashable {
        /// Node name: the name the importer gave the node, which the passes keep for Conv, Gemm and MatMul.
        public let node: String
        public let opType: String
        /// Input slot of the node that holds the weight.
        public let input: Int
    }

    /// Initializer name in the converted graph. BatchNorm folding may have given the weight a fresh name, so the
    /// source's name is found through `readers`.
    public let weight: String
    public let shape: [Int]
    /// Every input that reads the weight in the converted graph, in node order.
    public let readers: [Reader]
    /// Number of elements pruning set to zero.
    public let zeroedCount: Int
    /// Bit `i % 64` of word `i / 64` is set when element `i` was nonzero before pruning and is zero after it: a
    /// bit set, so that a 25-million-weight model costs 3 MB here rather than 100 MB of indices.
    let zeroedBits: [UInt64]

    /// Number of elements of the weight.
    public var elementCount: Int { shape.reduce(1, *) }

    /// Whether pruning set element `index` (C order) to zero.
    public func isZeroed(_ index: Int) -> Bool {
        zeroedBits[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    /// The zeroed element indices, ascending.
    public var zeroedIndices: [Int] {
        var indices: [Int] = []
        indices.reserveCapacity(zeroedCount)
        for (wordIndex, word) in zeroedBits.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                indices.append(wordIndex << 6 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return indices
    }
}

/// What pruning changed in one conversion: the zeroed positions of every weight it touched
/// (`ConversionResult.pruningMasks`), measured by comparing the graph before pruning with the graph that is
/// lowered, so that every way of zeroing weights is covered without each having to report itself.
public struct PruningMasks: Sendable {
    /// One mask per weight with at least one element zeroed, by weight name.
    public var masks: [PruningMask] = []
    /// Changes that zeroed positions cannot express, one sentence each (a weight whose shape changed under
    /// channel pruning, a value changed other than to zero, nodes added or removed). Empty after magnitude
    /// pruning alone.
    public var otherChanges: [String] = []

    public init(masks: [PruningMask] = [], otherChanges: [String] = []) {
        self.masks = masks
        self.otherChanges = otherChanges
    }

    /// Elements zeroed over all weights.
    public var zeroedCount: Int { masks.reduce(0) { $0 + $1.zeroedCount } }

    /// The changes from `before` (the graph after the pass pipeline) to `after` (the graph that is lowered).
    /// A float compares equal to 0 when it is zero (`-0.0` included), as in pruning; turning `-0.0` into `0.0`
    /// is no change.
    init(before: IRGraph, after: IRGraph) {
        // Arrays that were not copied compare by identity first, so an unchanged graph costs next to nothing.
        if before.nodes != after.nodes {
            otherChanges.append("the nodes changed (\(before.nodes.count) nodes before pruning, "
                + "\(after.nodes.count) after)")
        }
        if before.inputs != after.inputs || before.outputs != after.outputs {
            otherChanges.append("the graph's inputs or outputs changed")
        }
        var changed: [(name: String, bits: [UInt64], count: Int, shape: [Int])] = []
        for name in after.initializers.keys.sorted() {
            let new = after.initializers[name]!
            guard let old = before.initializers[name] else {
                otherChanges.append("constant '\(name)' was added")
                continue
            }
            if old == new { continue }
            guard old.dtype == .float32, new.dtype == .float32, old.shape == new.shape,
                  old.bytes.count == old.elementCount * 4, new.bytes.count == old.bytes.count else {
                otherChanges.append("constant '\(name)' changed from \(old.dtype) \(old.shape) to "
                    + "\(new.dtype) \(new.shape)")
                continue
            }
            switch Self.zeroedBits(old: old.bytes, new: new.bytes) {
            case .zeroed(let bits, let count):
                if count > 0 { changed.append((name, bits, count, new.shape)) }
            case .changed(let index, let from, let to):
                otherChanges.append("constant '\(name)': element \(index) changed from \(from) to \(to)")
            }
        }
        for name in before.initializers.keys.sorted() where after.initializers[name] == nil {
            otherChanges.append("constant '\(name)' was removed")
        }
        guard !changed.isEmpty else { return }

        let names = Set(changed.map(\.name))
        var readers: [String: [PruningMask.Reader]] = [:]
        for node in after.nodes {
            for (slot, input) in node.inputs.enumerated() where names.contains(input) {
                readers[input, default: []].append(.init(node: node.name, opType: node.opType, input: slot))
            }
        }
        masks = changed.map {
            PruningMask(weight: $0.name, shape: $0.shape, readers: readers[$0.name] ?? [], zeroedCount: $0.count,
                        zeroedBits: $0.bits)
        }
    }

    private enum Difference {
        case zeroed(bits: [UInt64], count: Int)
        /// The first element that changed other than from nonzero to zero.
        case changed(index: Int, from: Float, to: Float)
    }

    /// Compares two little-endian float32 buffers of equal length element by element.
    private static func zeroedBits(old: [UInt8], new: [UInt8]) -> Difference {
        let count = old.count / 4
        var bits = [UInt64](repeating: 0, count: (count + 63) / 64)
        var zeroed = 0
        return old.withUnsafeBytes { oldRaw in
            new.withUnsafeBytes { newRaw in
                for index in 0..<count {
                    let before = oldRaw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)
                    let after = newRaw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)
                    if before == after { continue }
                    let from = Float(bitPattern: UInt32(littleEndian: before))
                    let to = Float(bitPattern: UInt32(littleEndian: after))
                    if to == 0 {
                        if from == 0 { continue }
                        bits[index >> 6] |= 1 << UInt64(index & 63)
                        zeroed += 1
                    } else {
                        return .changed(index: index, from: from, to: to)
                    }
                }
                return .zeroed(bits: bits, count: zeroed)
            }
        }
    }
}
