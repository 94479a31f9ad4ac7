import ArgumentParser
import Foundation
import Sparrow
import SparrowConvert

/// The `sparrow` command: convert, run, inspect and benchmark models.
@main
struct SparrowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparrow",
        abstract: "Convert, run, inspect and benchmark compressed neural networks.",
        discussion: """
            Typical use:
              sparrow convert model.onnx -o model.sparrow
              sparrow inspect model.sparrow
              sparrow run model.sparrow --input image.npy --runs 50
              sparrow bench model.sparrow --threads 2 --json bench.json
            """,
        subcommands: [ConvertCommand.self, RunCommand.self, InspectCommand.self, BenchCommand.self])

    /// Runs the command line. Every failure ends with one line `error: …` on stderr and exit code 1; help and
    /// version requests print as usual and exit with 0.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            standardError("error: " + errorMessage(for: error))
            Foundation.exit(1)
        }
    }

    /// The one-line text of an error: the description of Sparrow's own errors, ArgumentParser's message for
    /// usage errors.
    static func errorMessage(for error: Error) -> String {
        let text: String
        switch error {
        case let error as SparrowError: text = error.description
        case let error as ConvertError: text = error.description
        case let error as CLIError: text = error.message
        default: text = message(for: error) + " (see --help)"
        }
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// A failure found by the command-line tool itself (bad arguments, inputs that do not fit the model).
struct CLIError: Error, CustomStringConvertible {
    let message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}

/// Writes one line to standard error.
func standardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
