/// Element type of a tensor. Raw values are the on-disk codes of `docs/FORMAT.md` and are never reused.
public enum DType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case float32 = 1
    case float16 = 2
    case int8 = 3
    case uint8 = 4
    case int32 = 5
    case int64 = 6
    case bool = 7

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: return 4
        case .float16: return 2
        case .int8, .uint8, .bool: return 1
        case .int64: return 8
        }
    }

    public var description: String {
        switch self {
        case .float32: return "f32"
        case .float16: return "f16"
        case .int8: return "i8"
        case .uint8: return "u8"
        case .int32: return "i32"
        case .int64: return "i64"
        case .bool: return "bool"
        }
    }

    /// Integer types hold shape arithmetic; the runtime evaluates them at plan time.
    public var isInteger: Bool {
        switch self {
        case .int8, .uint8, .int32, .int64, .bool: return true
        case .float32, .float16: return false
        }
    }
}
