import Sparrow

/// Decides dense, CSR or COO for one prunable weight from its layer kind, shape and sparsity.
///
/// In `auto` a weight goes sparse when its sparsity reaches the crossover of its kind (`SparseCrossover`).
/// CSR is the default sparse encoding; COO is chosen only when it is strictly smaller, which happens when many
/// rows are empty: COO pays a narrow row index per nonzero, CSR pays a 4-byte row pointer per row. Index widths
/// are the narrowest unsigned types that hold every column (row) index.
struct SparseEncodingPolicy: Sendable {
    var crossover: SparseCrossover = .provisional
    var format: SparseFormat = .auto

    /// The encoding of a weight of `shape` with `zeros` zero elements in a layer of `kind`. A weight without
    /// zeros is always dense; a forced format (`csr`, `coo`, `dense`) applies to every other weight.
    func encoding(kind: SparseLayerKind, shape: [Int], zeros: Int) -> WeightEncoding {
        let count = shape.reduce(1, *)
        guard zeros > 0, count > 0 else { return .dense }
        let matrix = SparseMatrixShape(shape)
        let nonzeros = count - zeros
        // Row pointers are u32 (docs/FORMAT.md): a weight with more nonzeros cannot be CSR, nor COO for symmetry.
        guard nonzeros <= Int(UInt32.max) else { return .dense }
        let csr = WeightEncoding.csr(columnIndexWidth: .narrowest(forCount: matrix.cols))
        let coo = WeightEncoding.coo(rowIndexWidth: .narrowest(forCount: matrix.rows),
                                     columnIndexWidth: .narrowest(forCount: matrix.cols))
        switch format {
        case .dense: return .dense
        case .csr: return csr
        case .coo: return coo
        case .auto:
            // Half a weight of slack: `--prune 0.7` rounds to a count that can land a hair under 0.7.
            guard let minimum = crossover[kind], Double(zeros) + 0.5 >= minimum * Double(count) else { return .dense }
            return coo.byteCount(matrix, nonzeros: nonzeros) < csr.byteCount(matrix, nonzeros: nonzeros) ? coo : csr
        }
    }
}
