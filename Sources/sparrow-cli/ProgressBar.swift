#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SparrowConvert

/// Progress of the pruning steps that evaluate many models, on standard error: a bar redrawn in place on a
/// terminal, and a plain line every tenth of the way (and at the end) otherwise, so that logs stay readable.
final class ProgressBar: @unchecked Sendable {
    private let interactive: Bool
    private let write: (String) -> Void
    private let lock = NSLock()
    private var task = ""
    private var lastTenth = -1
    private var lastDraw = -Double.infinity
    private var drawn = false

    /// - Parameters:
    ///   - interactive: Whether standard error is a terminal (the default asks `isatty(2)`).
    ///   - write: Where the text goes (standard error by default).
    init(interactive: Bool = isatty(2) != 0,
         write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.interactive = interactive
        self.write = write
    }

    /// The callback to give `Converter.convert`.
    var handler: PruningProgressHandler { { [self] progress in update(progress) } }

    func update(_ progress: PruningProgress) {
        lock.lock()
        defer { lock.unlock() }
        let done = progress.completed >= progress.total
        if interactive {
            // A redraw costs a write per candidate; ten a second is smooth enough.
            let now = Date().timeIntervalSinceReferenceDate
            guard done || progress.task != task || now - lastDraw >= 0.1 else { return }
            lastDraw = now
            task = progress.task
            write("\r\u{1B}[2K" + Self.line(progress))
            drawn = true
        } else {
            let tenth = progress.total > 0 ? min(progress.completed * 10 / progress.total, 10) : 10
            guard progress.task != task || tenth > lastTenth else { return }
            task = progress.task
            lastTenth = tenth
            write("\(progress.task): \(progress.completed)/\(progress.total)\n")
        }
    }

    /// Clears the bar so that the report starts on a clean line.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if interactive, drawn { write("\r\u{1B}[2K") }
        drawn = false
    }

    /// `sensitivity [#########...........]  61/136  45%  conv_21_node @ 90%`
    static func line(_ progress: PruningProgress, width: Int = 24) -> String {
        let fraction = progress.total > 0 ? min(Double(progress.completed) / Double(progress.total), 1) : 1
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        var item = progress.item
        if item.count > 40 { item = String(item.prefix(39)) + "…" }
        return "\(progress.task) [\(bar)] \(progress.completed)/\(progress.total) "
            + String(format: "%3.0f%%", fraction * 100) + "  " + item
    }
}
