/// A byte range of the model file (absolute offset, 64-byte aligned, inside the blob section).
public struct BlobRef: Sendable, Hashable {
    public var offset: Int
    public var length: Int
    public init(offset: Int, length: Int) {
        self.offset = offset
        self.length = length
    }
}

/// Width of the unsigned integers of a sparse index array: the narrowest that holds the largest index.
public enum IndexWidth: UInt8, Sendable {
    case u8 = 1
    case u16 = 2
    case u32 = 4

    /// The narrowest width that can hold every value in `0..<count`.
    public static func narrowest(forCount count: Int) -> IndexWidth {
        if count <= 1 << 8 { return .u8 }
        if count <= 1 << 16 { return .u16 }
        return .u32
    }
}

/// Values of a sparse tensor: f32, or int8 with one f32 scale per row (output channel).
public enum SparseValueType: Sendable, Equatable {
    case float32
    case int8(scales: BlobRef)
}

/// CSR view of a constant whose logical matrix is rows = shape[0], cols = product of the other dimensions.
public struct CSRStorage: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    public var nonzeros: Int
    /// `rows + 1` u32 offsets, non-decreasing, first 0, last `nonzeros`.
    public var rowPointers: BlobRef
    /// `nonzeros` column indices of `indexWidth`, strictly increasing within a row, each `< cols`.
    public var columnIndices: BlobRef
    public var indexWidth: IndexWidth
    public var values: BlobRef
    public var valueType: SparseValueType

    public init(rows: Int, cols: Int, nonzeros: Int, rowPointers: BlobRef, columnIndices: BlobRef,
                indexWidth: IndexWidth, values: BlobRef, valueType: SparseValueType) {
        self.rows = rows
        self.cols = cols
        self.nonzeros = nonzeros
        self.rowPointers = rowPointers
        self.columnIndices = columnIndices
        self.indexWidth = indexWidth
        self.values = values
        self.valueType = valueType
    }
}

/// COO view (same logical matrix as CSR); entries sorted by (row, column) without duplicates.
public struct COOStorage: Sendable, Equatable {
    public var rows: Int
    public var cols: Int
    public var nonzeros: Int
    public var rowIndices: BlobRef
    public var rowIndexWidth: IndexWidth
    public var columnIndices: BlobRef
    public var columnIndexWidth: IndexWidth
    public var values: BlobRef
    public var valueType: SparseValueType

    public init(rows: Int, cols: Int, nonzeros: Int, rowIndices: BlobRef, rowIndexWidth: IndexWidth,
                columnIndices: BlobRef, columnIndexWidth: IndexWidth, values: BlobRef, valueType: SparseValueType) {
        self.rows = rows
        self.cols = cols
        self.nonzeros = nonzeros
        self.rowIndices = rowIndices
        self.rowIndexWidth = rowIndexWidth
        self.columnIndices = columnIndices
        self.columnIndexWidth = columnIndexWidth
        self.values = values
        self.valueType = valueType
    }
}

/// How a constant tensor's data is stored. Codes are on-disk values (`docs/FORMAT.md`).
public enum StorageEncoding: Sendable, Equatable {
    /// Raw little-endian elements of the tensor's dtype, C order.
    case dense(BlobRef)
    /// A float32 tensor as int8 `q`: `x = (q - zeroPoint[c]) * scale[c]`, `c` the index along `axis`.
    case int8PerChannel(values: BlobRef, scales: BlobRef, zeroPoints: BlobRef?, axis: Int)
    case csr(CSRStorage)
    case coo(COOStorage)

    public var code: UInt8 {
        switch self {
        case .dense: return 1
        case .int8PerChannel: return 2
        case .csr: return 3
        case .coo: return 4
        }
    }

    /// Short name for reports and `sparrow inspect`.
    public var name: String {
        switch self {
        case .dense: return "dense"
        case .int8PerChannel: return "int8/ch"
        case .csr(let s): return "csr/u\(s.indexWidth.rawValue * 8)"
        case .coo: return "coo"
        }
    }

    /// Every blob this storage refers to.
    public var blobs: [BlobRef] {
        switch self {
        case .dense(let b): return [b]
        case .int8PerChannel(let v, let s, let z, _): return [v, s] + (z.map { [$0] } ?? [])
        case .csr(let c):
            var r = [c.rowPointers, c.columnIndices, c.values]
            if case .int8(let s) = c.valueType { r.append(s) }
            return r
        case .coo(let c):
            var r = [c.rowIndices, c.columnIndices, c.values]
            if case .int8(let s) = c.valueType { r.append(s) }
            return r
        }
    }
}
