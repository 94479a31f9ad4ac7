/// A constant stored as CSR or COO, in the form the SpMM kernels read: `rows + 1` u32 row pointers, u32 column
/// indices and f32 values, row by row. The logical matrix is rows = shape[0], cols = product of the other
/// dimensions (`docs/SPARSE.md`). CSR row pointers and f32 values are used straight from the mapped file;
/// column indices (any width) are widened once, and COO and int8 values are converted once, at plan time.
package final class SparseMatrix {
    package let rows: Int
    package let cols: Int
    package let nonzeros: Int
    package let rowPointers: UnsafePointer<UInt32>
    package let values: UnsafePointer<Float>
    /// Column of each nonzero, row by row.
    package let columns: [UInt32]
    /// Keeps the mapped file alive while its blobs are read in place.
    private let model: Model
    private var owned: [UnsafeMutableRawPointer] = []

    /// Fraction of zeros.
    package var sparsity: Double { rows * cols == 0 ? 0 : 1 - Double(nonzeros) / Double(rows * cols) }

    /// `nil` for dense and int8 dense storage. The storage was validated when the model was read: monotonic
    /// row pointers, column indices in range, sizes that match the blobs.
    package init?(_ storage: StorageEncoding, model: Model) {
        self.model = model
        switch storage {
        case .csr(let csr):
            rows = csr.rows
            cols = csr.cols
            nonzeros = csr.nonzeros
            rowPointers = model.pointer(to: csr.rowPointers).assumingMemoryBound(to: UInt32.self)
            columns = Self.widen(csr.columnIndices, csr.indexWidth, csr.nonzeros, model)
            var ownedBlocks: [UnsafeMutableRawPointer] = []
            values = Self.values(csr.values, csr.valueType, rowPointers: rowPointers, rows: csr.rows,
                                 nonzeros: csr.nonzeros, model: model, owned: &ownedBlocks)
            owned = ownedBlocks
        case .coo(let coo):
            rows = coo.rows
            cols = coo.cols
            nonzeros = coo.nonzeros
            let rowIndices = Self.widen(coo.rowIndices, coo.rowIndexWidth, coo.nonzeros, model)
            columns = Self.widen(coo.columnIndices, coo.columnIndexWidth, coo.nonzeros, model)
            // Entries are sorted by (row, column): row pointers are a prefix count.
            let pointers = UnsafeMutablePointer<UInt32>.allocate(capacity: coo.rows + 1)
            pointers.initialize(repeating: 0, count: coo.rows + 1)
            for row in rowIndices { pointers[Int(row) + 1] += 1 }
            for row in 0..<coo.rows { pointers[row + 1] += pointers[row] }
            rowPointers = UnsafePointer(pointers)
            var ownedBlocks: [UnsafeMutableRawPointer] = [UnsafeMutableRawPointer(pointers)]
            values = Self.values(coo.values, coo.valueType, rowPointers: rowPointers, rows: coo.rows,
                                 nonzeros: coo.nonzeros, model: model, owned: &ownedBlocks)
            owned = ownedBlocks
        case .dense, .int8PerChannel:
            return nil
        }
    }

    deinit { for block in owned { block.deallocate() } }

    /// Nonzeros of row `row`.
    package func range(ofRow row: Int) -> Range<Int> { Int(rowPointers[row])..<Int(rowPointers[row + 1]) }

    private static func widen(_ blob: BlobRef, _ width: IndexWidth, _ count: Int, _ model: Model) -> [UInt32] {
        let raw = model.buffer(of: blob)
        switch width {
        case .u8: return (0..<count).map { UInt32(raw.load(fromByteOffset: $0, as: UInt8.self)) }
        case .u16: return (0..<count).map { UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        case .u32: return (0..<count).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
        }
    }

    private static func values(_ blob: BlobRef, _ type: SparseValueType, rowPointers: UnsafePointer<UInt32>, rows: Int,
                               nonzeros: Int, model: Model, owned: inout [UnsafeMutableRawPointer]) -> UnsafePointer<Float> {
        switch type {
        case .float32:
            return model.pointer(to: blob).assumingMemoryBound(to: Float.self)
        case .int8(let scalesBlob):
            let quantized = model.buffer(of: blob)
            let scales = model.buffer(of: scalesBlob)
            let decoded = UnsafeMutablePointer<Float>.allocate(capacity: max(nonzeros, 1))
            for row in 0..<rows {
                let scale = Float(bitPattern: UInt32(littleEndian: scales.loadUnaligned(fromByteOffset: row * 4, as: UInt32.self)))
                for k in Int(rowPointers[row])..<Int(rowPointers[row + 1]) {
                    decoded[k] = Float(quantized.load(fromByteOffset: k, as: Int8.self)) * scale
                }
            }
            owned.append(UnsafeMutableRawPointer(decoded))
            return UnsafePointer(decoded)
        }
    }
}
