import Sparrow

/// The storage chosen for one prunable weight: dense f32, or a sparse encoding with its index widths.
public enum WeightEncoding: Sendable, Equatable {
    case dense
    case csr(columnIndexWidth: IndexWidth)
    case coo(rowIndexWidth: IndexWidth, columnIndexWidth: IndexWidth)

    /// `dense`, `csr/u8`, `coo/u8,u16` (row, column widths).
    public var name: String {
        switch self {
        case .dense: return "dense"
        case .csr(let column): return "csr/u\(column.bits)"
        case .coo(let row, let column): return "coo/u\(row.bits),u\(column.bits)"
        }
    }

    /// The payload bytes of a weight of `matrix` shape with `nonzeros` nonzero f32 values in this encoding
    /// (alignment padding between blobs not counted).
    func byteCount(_ matrix: SparseMatrixShape, nonzeros: Int) -> Int {
        switch self {
        case .dense:
            return matrix.rows * matrix.cols * 4
        case .csr(let column):
            return (matrix.rows + 1) * 4 + nonzeros * (Int(column.rawValue) + 4)
        case .coo(let row, let column):
            return nonzeros * (Int(row.rawValue) + Int(column.rawValue) + 4)
        }
    }
}

/// The logical matrix of a sparse constant (`docs/FORMAT.md`): rows = shape[0], cols = product of the other
/// dimensions; a rank-1 tensor is one row. For a Conv weight `[Cout, Cin/group, kh, kw]` a row is one output
/// channel; a Gemm/MatMul constant keeps its own shape (`[N, K]` with transB = 1, `[K, N]` otherwise).
struct SparseMatrixShape: Equatable {
    var rows: Int
    var cols: Int

    init(rows: Int, cols: Int) {
        self.rows = rows
        self.cols = cols
    }

    init(_ shape: [Int]) {
        rows = shape.count >= 2 ? shape[0] : 1
        let count = shape.reduce(1, *)
        cols = rows == 0 ? 0 : count / rows
    }
}

extension IndexWidth {
    var bits: Int { Int(rawValue) * 8 }
}
