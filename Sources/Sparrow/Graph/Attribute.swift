/// A typed node attribute. Type codes are on-disk values (`docs/FORMAT.md`).
public enum Attribute: Sendable, Equatable {
    case int(Int64)
    case float(Float)
    case ints([Int64])
    case floats([Float])
    case string(String)

    public var intValue: Int64? { if case .int(let v) = self { return v } else { return nil } }
    public var floatValue: Float? {
        switch self {
        case .float(let v): return v
        case .int(let v): return Float(v)
        default: return nil
        }
    }
    public var intsValue: [Int64]? {
        switch self {
        case .ints(let v): return v
        case .int(let v): return [v]
        default: return nil
        }
    }
    public var floatsValue: [Float]? { if case .floats(let v) = self { return v } else { return nil } }
    public var stringValue: String? { if case .string(let v) = self { return v } else { return nil } }
}
