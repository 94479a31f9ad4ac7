/// What a validated `.sparrow` file holds. Blob references point into the same buffer that was read.
package struct ModelContents: Sendable {
    package var metadata: [(key: String, value: String)]
    package var graph: GraphDescription
    /// Byte range of the BLOBS section.
    package var blobRange: Range<Int>
}

/// Parses and validates a `.sparrow` file (`docs/FORMAT.md`, "What the reader validates") before any use.
package enum ModelReader {
    package static func read(_ file: UnsafeRawBufferPointer) throws -> ModelContents {
        let sections = try readSections(file)
        guard let graphRange = sections[.graph] else { throw SparrowError.invalidModel("GRAPH section missing") }
        guard let blobRange = sections[.blobs] else { throw SparrowError.invalidModel("BLOBS section missing") }
        var metadata: [(key: String, value: String)] = []
        if let range = sections[.metadata] {
            metadata = try readMetadata(slice(file, range))
        }
        var reader = ByteReader(slice(file, graphRange), context: "GRAPH")
        let graph = try GraphDecoder.decode(&reader)
        try GraphValidator.validate(graph)
        try StorageValidator(file: file, blobRange: blobRange).validate(graph)
        return ModelContents(metadata: metadata, graph: graph, blobRange: blobRange)
    }

    static func slice(_ file: UnsafeRawBufferPointer, _ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: file[range])
    }

    /// Header and section table: magic, version, sizes, alignment, overlap and checksums.
    static func readSections(_ file: UnsafeRawBufferPointer) throws -> [FormatConstants.SectionKind: Range<Int>] {
        let fileSize = file.count
        guard fileSize >= FormatConstants.headerSize else {
            throw SparrowError.invalidModel("file is \(fileSize) bytes, shorter than the 64-byte header")
        }
        var header = ByteReader(slice(file, 0..<FormatConstants.headerSize), context: "header")
        var magic: [UInt8] = []
        for _ in 0..<8 { magic.append(try header.u8()) }
        guard magic == FormatConstants.magic else { throw SparrowError.invalidModel("bad magic: not a .sparrow file") }
        let major = try header.u16()
        let minor = try header.u16()
        guard major == FormatConstants.majorVersion else {
            throw SparrowError.invalidModel("format version \(major).\(minor) is not supported (this reader reads 1.x)")
        }
        guard try header.u32() == UInt32(FormatConstants.headerSize) else {
            throw SparrowError.invalidModel("header size is not 64")
        }
        let declaredSize = try header.u64()
        let tableOffset = try header.u64()
        let sectionCount = Int(try header.u32())
        _ = try header.u32()  // flags
        let tableCRC = try header.u32()
        let headerCRC = slice(file, 60..<64).loadUnaligned(as: UInt32.self).littleEndian
        guard crc32c(slice(file, 0..<60)) == headerCRC else { throw SparrowError.invalidModel("header checksum mismatch") }
        guard declaredSize == UInt64(fileSize) else {
            throw SparrowError.invalidModel("header says \(declaredSize) bytes but the file has \(fileSize) (truncated or padded)")
        }
        guard (1...FormatConstants.maxSections).contains(sectionCount) else {
            throw SparrowError.invalidModel("section count \(sectionCount) outside 1...\(FormatConstants.maxSections)")
        }
        let tableLength = sectionCount * FormatConstants.sectionEntrySize
        guard tableOffset >= UInt64(FormatConstants.headerSize), tableOffset <= UInt64(fileSize),
              UInt64(tableLength) <= UInt64(fileSize) - tableOffset
        else { throw SparrowError.invalidModel("section table at \(tableOffset) lies outside the file") }
        let tableRange = Int(tableOffset)..<Int(tableOffset) + tableLength
        guard crc32c(slice(file, tableRange)) == tableCRC else {
            throw SparrowError.invalidModel("section table checksum mismatch")
        }
        var table = ByteReader(slice(file, tableRange), context: "section table")
        var result: [FormatConstants.SectionKind: Range<Int>] = [:]
        var occupied: [Range<Int>] = [0..<FormatConstants.headerSize, tableRange]
        for index in 0..<sectionCount {
            let kindCode = try table.u32()
            let flags = try table.u32()
            let offset = try table.u64()
            let length = try table.u64()
            let crc = try table.u32()
            _ = try table.u32()
            guard offset <= UInt64(fileSize), length <= UInt64(fileSize) - offset else {
                throw SparrowError.invalidModel("section \(index) (kind \(kindCode)) extends past the end of the file")
            }
            guard offset % UInt64(FormatConstants.alignment) == 0 else {
                throw SparrowError.invalidModel("section \(index) (kind \(kindCode)) is not 64-byte aligned")
            }
            let range = Int(offset)..<Int(offset + length)
            if !range.isEmpty, occupied.contains(where: { $0.overlaps(range) }) {
                throw SparrowError.invalidModel("section \(index) (kind \(kindCode)) overlaps another part of the file")
            }
            occupied.append(range)
            guard let kind = FormatConstants.SectionKind(rawValue: kindCode) else {
                if flags & FormatConstants.sectionRequiredFlag != 0 {
                    throw SparrowError.invalidModel("unknown required section kind \(kindCode)")
                }
                continue
            }
            guard result[kind] == nil else { throw SparrowError.invalidModel("duplicate \(kind) section") }
            guard crc32c(slice(file, range)) == crc else {
                throw SparrowError.invalidModel("\(kind) section checksum mismatch")
            }
            result[kind] = range
        }
        return result
    }

    static func readMetadata(_ bytes: UnsafeRawBufferPointer) throws -> [(key: String, value: String)] {
        var reader = ByteReader(bytes, context: "METADATA")
        let count = try reader.count(minimumElementSize: 8, what: "metadata entry")
        var entries: [(key: String, value: String)] = []
        for _ in 0..<count {
            let key = try reader.string(what: "metadata key")
            let value = try reader.string(what: "metadata value")
            entries.append((key, value))
        }
        guard reader.isAtEnd else { throw reader.fail("trailing bytes") }
        return entries
    }
}
