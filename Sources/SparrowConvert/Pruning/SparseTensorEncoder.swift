import Sparrow

/// Writes a float32 weight as CSR or COO blobs (`docs/FORMAT.md`): each index or value array is its own blob,
/// 64-byte aligned by `BlobSection`. An element is stored when it is not zero (`-0.0` counts as zero; NaN is kept).
enum SparseTensorEncoder {
    /// Appends the blobs of `values` (C order, `shape`) in `encoding` and returns the storage that refers to them.
    /// `.dense` appends the f32 bytes as they are.
    /// - Throws: `ConvertError.invalidArgument` when an index width cannot hold the matrix's indices or the
    ///   nonzeros overflow the u32 row pointers.
    /// - Parameter int8: the weight quantized with one scale per row (axis 0): the nonzeros' values are stored
    ///   as its int8 codes and the scales as the int8 value type's scales blob.
    static func encode(_ values: [Float], shape: [Int], as encoding: WeightEncoding, int8: Int8Weights? = nil,
                       into blobs: inout BlobSection) throws -> StorageEncoding {
        precondition(int8 == nil || (int8!.axis == 0 && int8!.values.count == values.count))
        let matrix = SparseMatrixShape(shape)
        guard values.count == matrix.rows * matrix.cols else {
            throw ConvertError.invalidArgument("\(values.count) values do not fill shape \(shape)")
        }
        try checkWidths(encoding, matrix, nonzeros: values.count(where: { $0 != 0 }))
        switch encoding {
        case .dense:
            return .dense(blobs.append(littleEndian(values.map(\.bitPattern))))
        case .csr(let columnWidth):
            var rowPointers: [UInt32] = [0]
            rowPointers.reserveCapacity(matrix.rows + 1)
            var columns: [Int] = []
            var nonzeros: [Float] = []
            var positions: [Int] = []
            for row in 0..<matrix.rows {
                for column in 0..<matrix.cols where values[row * matrix.cols + column] != 0 {
                    columns.append(column)
                    nonzeros.append(values[row * matrix.cols + column])
                    positions.append(row * matrix.cols + column)
                }
                rowPointers.append(UInt32(nonzeros.count))
            }
            let storage = CSRStorage(
                rows: matrix.rows, cols: matrix.cols, nonzeros: nonzeros.count,
                rowPointers: blobs.append(littleEndian(rowPointers)),
                columnIndices: blobs.append(indices(columns, columnWidth)), indexWidth: columnWidth,
                values: valueBlob(positions, nonzeros, int8, &blobs), valueType: valueType(int8, &blobs))
            return .csr(storage)
        case .coo(let rowWidth, let columnWidth):
            var rows: [Int] = []
            var columns: [Int] = []
            var nonzeros: [Float] = []
            var positions: [Int] = []
            for row in 0..<matrix.rows {
                for column in 0..<matrix.cols where values[row * matrix.cols + column] != 0 {
                    rows.append(row)
                    columns.append(column)
                    nonzeros.append(values[row * matrix.cols + column])
                    positions.append(row * matrix.cols + column)
                }
            }
            let storage = COOStorage(
                rows: matrix.rows, cols: matrix.cols, nonzeros: nonzeros.count,
                rowIndices: blobs.append(indices(rows, rowWidth)), rowIndexWidth: rowWidth,
                columnIndices: blobs.append(indices(columns, columnWidth)), columnIndexWidth: columnWidth,
                values: valueBlob(positions, nonzeros, int8, &blobs), valueType: valueType(int8, &blobs))
            return .coo(storage)
        }
    }

    /// The nonzeros' f32 values, or their int8 codes.
    private static func valueBlob(_ positions: [Int], _ nonzeros: [Float], _ int8: Int8Weights?,
                                  _ blobs: inout BlobSection) -> BlobRef {
        guard let int8 else { return blobs.append(littleEndian(nonzeros.map(\.bitPattern))) }
        return blobs.append(positions.map { UInt8(bitPattern: int8.values[$0]) })
    }

    private static func valueType(_ int8: Int8Weights?, _ blobs: inout BlobSection) -> SparseValueType {
        guard let int8 else { return .float32 }
        return .int8(scales: blobs.append(littleEndian(int8.scales.map(\.bitPattern))))
    }

    private static func checkWidths(_ encoding: WeightEncoding, _ matrix: SparseMatrixShape, nonzeros: Int) throws {
        var widths: [(IndexWidth, Int, String)] = []
        switch encoding {
        case .dense: return
        case .csr(let column): widths = [(column, matrix.cols, "column")]
        case .coo(let row, let column): widths = [(row, matrix.rows, "row"), (column, matrix.cols, "column")]
        }
        for (width, count, what) in widths where IndexWidth.narrowest(forCount: count).rawValue > width.rawValue {
            throw ConvertError.invalidArgument("\(what) indices below \(count) do not fit in u\(width.bits)")
        }
        guard nonzeros <= Int(UInt32.max) else {
            throw ConvertError.invalidArgument("\(nonzeros) nonzeros overflow u32 sparse row pointers")
        }
    }

    /// Indices as unsigned little-endian integers of `width`; the policy chose a width that holds them all.
    private static func indices(_ values: [Int], _ width: IndexWidth) -> [UInt8] {
        switch width {
        case .u8: return values.map { UInt8($0) }
        case .u16: return littleEndian(values.map { UInt16($0) })
        case .u32: return littleEndian(values.map { UInt32($0) })
        }
    }

    private static func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * MemoryLayout<T>.size)
        for value in values { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes
    }
}
