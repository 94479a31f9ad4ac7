/// Checks every constant's blobs against the BLOBS section and its shape, and the contents of sparse index
/// arrays, so that kernels may trust them without further checks.
struct StorageValidator {
    let file: UnsafeRawBufferPointer
    let blobRange: Range<Int>

    func validate(_ graph: GraphDescription) throws {
        for tensor in graph.tensors {
            guard let storage = tensor.storage, let shape = tensor.fixedShape else { continue }
            let count = try elementCount(shape, tensor: tensor.name)
            for blob in storage.blobs { try check(blob, tensor: tensor.name) }
            switch storage {
            case .dense(let data):
                try expect(data, bytes: count, times: tensor.dtype.size, tensor: tensor.name, what: "data")
            case .int8PerChannel(let values, let scales, let zeroPoints, let axis):
                try requireFloat(tensor)
                guard axis < shape.count else {
                    throw fail(tensor.name, "quantization axis \(axis) outside rank \(shape.count)")
                }
                try expect(values, bytes: count, times: 1, tensor: tensor.name, what: "int8 values")
                try expect(scales, bytes: shape[axis], times: 4, tensor: tensor.name, what: "scales")
                if let zeroPoints {
                    try expect(zeroPoints, bytes: shape[axis], times: 1, tensor: tensor.name, what: "zero points")
                }
                try checkScales(scales, count: shape[axis], tensor: tensor.name)
            case .csr(let csr):
                try requireFloat(tensor)
                try checkMatrix(rows: csr.rows, cols: csr.cols, nnz: csr.nonzeros, shape: shape, count: count,
                                tensor: tensor.name)
                try expect(csr.rowPointers, bytes: csr.rows + 1, times: 4, tensor: tensor.name, what: "row pointers")
                try expect(csr.columnIndices, bytes: csr.nonzeros, times: Int(csr.indexWidth.rawValue),
                           tensor: tensor.name, what: "column indices")
                try checkValues(csr.values, csr.valueType, nnz: csr.nonzeros, rows: csr.rows, tensor: tensor.name)
                try checkCSRIndices(csr, tensor: tensor.name)
            case .coo(let coo):
                try requireFloat(tensor)
                try checkMatrix(rows: coo.rows, cols: coo.cols, nnz: coo.nonzeros, shape: shape, count: count,
                                tensor: tensor.name)
                try expect(coo.rowIndices, bytes: coo.nonzeros, times: Int(coo.rowIndexWidth.rawValue),
                           tensor: tensor.name, what: "row indices")
                try expect(coo.columnIndices, bytes: coo.nonzeros, times: Int(coo.columnIndexWidth.rawValue),
                           tensor: tensor.name, what: "column indices")
                try checkValues(coo.values, coo.valueType, nnz: coo.nonzeros, rows: coo.rows, tensor: tensor.name)
                try checkCOOIndices(coo, tensor: tensor.name)
            }
        }
    }

    private func fail(_ tensor: String, _ reason: String) -> SparrowError {
        .invalidModel("constant '\(tensor)': \(reason)")
    }

    private func requireFloat(_ tensor: TensorDecl) throws {
        guard tensor.dtype == .float32 else {
            throw fail(tensor.name, "\(tensor.storage!.name) storage needs dtype f32, not \(tensor.dtype)")
        }
    }

    private func elementCount(_ shape: [Int], tensor: String) throws -> Int {
        var count = 1
        for dim in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product < 1 << 40 else { throw fail(tensor, "element count overflows") }
            count = product
        }
        return count
    }

    private func check(_ blob: BlobRef, tensor: String) throws {
        guard blob.offset % FormatConstants.alignment == 0 else {
            throw fail(tensor, "blob at \(blob.offset) is not 64-byte aligned")
        }
        guard blob.offset >= blobRange.lowerBound, blob.offset <= blobRange.upperBound,
              blob.length <= blobRange.upperBound - blob.offset
        else { throw fail(tensor, "blob \(blob.offset)+\(blob.length) lies outside the BLOBS section") }
    }

    private func expect(_ blob: BlobRef, bytes count: Int, times size: Int, tensor: String, what: String) throws {
        let (expected, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, blob.length == expected else {
            throw fail(tensor, "\(what) blob has \(blob.length) bytes, expected \(count) × \(size)")
        }
    }

    private func checkMatrix(rows: Int, cols: Int, nnz: Int, shape: [Int], count: Int, tensor: String) throws {
        let expectedRows = shape.isEmpty ? 1 : (shape.count == 1 ? 1 : shape[0])
        guard rows == expectedRows, rows * cols == count || (count == 0 && rows * cols == 0) else {
            throw fail(tensor, "sparse matrix \(rows)×\(cols) does not match shape \(shape)")
        }
        guard nnz <= count else { throw fail(tensor, "\(nnz) nonzeros exceed \(count) elements") }
    }

    private func checkValues(_ values: BlobRef, _ type: SparseValueType, nnz: Int, rows: Int, tensor: String) throws {
        switch type {
        case .float32:
            try expect(values, bytes: nnz, times: 4, tensor: tensor, what: "values")
        case .int8(let scales):
            try expect(values, bytes: nnz, times: 1, tensor: tensor, what: "int8 values")
            try expect(scales, bytes: rows, times: 4, tensor: tensor, what: "row scales")
            try checkScales(scales, count: rows, tensor: tensor)
        }
    }

    private func checkScales(_ blob: BlobRef, count: Int, tensor: String) throws {
        for i in 0..<count {
            let scale = Float(bitPattern: loadIndex(blob, i, width: 4))
            guard scale.isFinite, scale > 0 else { throw fail(tensor, "scale \(i) is \(scale), must be finite and > 0") }
        }
    }

    private func loadIndex(_ blob: BlobRef, _ i: Int, width: Int) -> UInt32 {
        let at = blob.offset + i * width
        switch width {
        case 1: return UInt32(file.load(fromByteOffset: at, as: UInt8.self))
        case 2: return UInt32(UInt16(littleEndian: file.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
        default: return UInt32(littleEndian: file.loadUnaligned(fromByteOffset: at, as: UInt32.self))
        }
    }

    private func checkCSRIndices(_ csr: CSRStorage, tensor: String) throws {
        let width = Int(csr.indexWidth.rawValue)
        guard loadIndex(csr.rowPointers, 0, width: 4) == 0 else { throw fail(tensor, "CSR row pointers do not start at 0") }
        var previous = 0
        for row in 0..<csr.rows {
            let end = Int(loadIndex(csr.rowPointers, row + 1, width: 4))
            guard end >= previous, end <= csr.nonzeros else {
                throw fail(tensor, "CSR row pointer \(row + 1) = \(end) decreases or exceeds nnz \(csr.nonzeros)")
            }
            var lastColumn = -1
            for k in previous..<end {
                let column = Int(loadIndex(csr.columnIndices, k, width: width))
                guard column < csr.cols else {
                    throw fail(tensor, "CSR column index \(column) in row \(row) is ≥ cols \(csr.cols)")
                }
                guard column > lastColumn else {
                    throw fail(tensor, "CSR column indices of row \(row) are not strictly increasing")
                }
                lastColumn = column
            }
            previous = end
        }
        guard previous == csr.nonzeros else { throw fail(tensor, "CSR last row pointer \(previous) ≠ nnz \(csr.nonzeros)") }
    }

    private func checkCOOIndices(_ coo: COOStorage, tensor: String) throws {
        var last = (-1, -1)
        for k in 0..<coo.nonzeros {
            let row = Int(loadIndex(coo.rowIndices, k, width: Int(coo.rowIndexWidth.rawValue)))
            let column = Int(loadIndex(coo.columnIndices, k, width: Int(coo.columnIndexWidth.rawValue)))
            guard row < coo.rows, column < coo.cols else {
                throw fail(tensor, "COO entry \(k) at (\(row), \(column)) lies outside \(coo.rows)×\(coo.cols)")
            }
            guard row > last.0 || (row == last.0 && column > last.1) else {
                throw fail(tensor, "COO entry \(k) is out of order or duplicated")
            }
            last = (row, column)
        }
    }
}
