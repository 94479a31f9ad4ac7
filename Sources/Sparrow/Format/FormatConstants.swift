/// Fixed numbers of the `.sparrow` format, version 1 (`docs/FORMAT.md`).
package enum FormatConstants {
    package static let magic: [UInt8] = Array("SPARROW".utf8) + [0]
    package static let majorVersion: UInt16 = 1
    package static let minorVersion: UInt16 = 1
    package static let headerSize = 64
    package static let sectionEntrySize = 32
    package static let maxSections = 64
    package static let alignment = 64
    package static let maxRank = 8
    package static let absentInput: UInt32 = 0xFFFF_FFFF

    package enum SectionKind: UInt32 {
        case metadata = 1
        case graph = 2
        case blobs = 3
    }

    package static let sectionRequiredFlag: UInt32 = 1

    package enum AttributeType: UInt8 {
        case int = 1
        case float = 2
        case ints = 3
        case floats = 4
        case string = 5
    }

    package enum DimKind: UInt8 {
        case fixed = 0
        case symbolic = 1
    }
}
