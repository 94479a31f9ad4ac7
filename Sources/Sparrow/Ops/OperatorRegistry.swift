/// Which type implements each op kind. One line per kind; kinds without a line are reported as unsupported
/// when a session is planned.
enum OperatorRegistry {
    static func lookup(_ kind: OpKind) -> (any Operator.Type)? { table[kind] }

    private static let table: [OpKind: any Operator.Type] = {
        var table: [OpKind: any Operator.Type] = [:]
        for (kind, op) in entries { table[kind] = op }
        return table
    }()

    private static var entries: [(OpKind, any Operator.Type)] {
        convolutionEntries + matrixEntries + elementwiseEntries + activationEntries + poolingEntries
            + layoutEntries + shapeEntries + normalizationEntries + quantizationEntries
    }
}
