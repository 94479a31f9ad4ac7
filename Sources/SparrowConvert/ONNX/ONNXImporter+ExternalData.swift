import Foundation

extension ONNXImportContext {
    /// Reads a tensor stored outside the model (`data_location = EXTERNAL`, keys `location`, `offset`, `length`).
    ///
    /// The model file is untrusted input: the location must be a relative path that stays inside the model's
    /// directory (no absolute paths, no `..`), and offset and length must lie inside the file.
    mutating func externalData(_ proto: Onnx_TensorProto, name: String, expectedBytes: Int) throws -> [UInt8] {
        var entries: [String: String] = [:]
        for entry in proto.externalData { entries[entry.key] = entry.value }
        guard let location = entries["location"], !location.isEmpty else {
            throw ConvertError.invalidONNX("tensor '\(name)' is external but has no 'location'")
        }
        let offset = try Self.externalInteger(entries["offset"], key: "offset", tensor: name) ?? 0
        let length = try Self.externalInteger(entries["length"], key: "length", tensor: name)

        let file = try externalFile(location, tensor: name)
        guard offset <= file.count else {
            throw ConvertError.invalidONNX("tensor '\(name)': offset \(offset) is past the end of '\(location)' "
                + "(\(file.count) bytes)")
        }
        // Without a length the data runs to the end of the file, as in ONNX's reference loader.
        let byteCount = length ?? (file.count - offset)
        guard byteCount <= file.count - offset else {
            throw ConvertError.invalidONNX("tensor '\(name)': bytes \(offset)..<\(offset + byteCount) lie outside "
                + "'\(location)' (\(file.count) bytes)")
        }
        guard byteCount == expectedBytes else {
            throw ConvertError.invalidONNX("tensor '\(name)' has \(byteCount) bytes of external data in "
                + "'\(location)'; its shape needs \(expectedBytes)")
        }
        let start = file.startIndex + offset
        return [UInt8](file[start..<(start + byteCount)])
    }

    private static func externalInteger(_ text: String?, key: String, tensor: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
            throw ConvertError.invalidONNX("tensor '\(tensor)': external data \(key) '\(text)' is not a "
                + "non-negative integer")
        }
        return value
    }

    /// Maps an external data file once, after checking that its path cannot leave the model's directory.
    private mutating func externalFile(_ location: String, tensor: String) throws -> Data {
        if let cached = externalFiles[location] { return cached }
        guard let baseDirectory else {
            throw ConvertError.invalidArgument("tensor '\(tensor)' keeps its data in '\(location)', but no base "
                + "directory was given to resolve it (load the model from a file)")
        }
        try Self.checkRelativeLocation(location, tensor: tensor)
        let path = URL(fileURLWithPath: baseDirectory).appendingPathComponent(location).path
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw ConvertError.io("cannot read external data '\(location)' of tensor '\(tensor)' (\(path)): "
                + error.localizedDescription)
        }
        externalFiles[location] = data
        return data
    }

    /// Rejects locations that could name a file outside the model's directory. Backslashes count as separators
    /// too, so that a Windows-style `..\x` cannot slip through.
    static func checkRelativeLocation(_ location: String, tensor: String) throws {
        let components = location.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        let isAbsolute = location.hasPrefix("/") || location.hasPrefix("\\") || location.hasPrefix("~")
            || (location.count >= 2 && location.dropFirst().first == ":")
        guard !isAbsolute, !components.contains(".."), !location.contains("\0") else {
            throw ConvertError.invalidONNX("tensor '\(tensor)': external data location '\(location)' must be a "
                + "relative path inside the model's directory")
        }
    }
}
