import Foundation

/// Progress of a long command on standard error: a bar redrawn in place on a terminal, plain lines every `step`
/// items otherwise (a log file, CI).
final class ProgressPrinter: @unchecked Sendable {
    private let unit: String
    private let step: Int
    private let terminal = isatty(STDERR_FILENO) != 0
    private let lock = NSLock()
    private var lastLine = 0

    init(unit: String, step: Int) {
        self.unit = unit
        self.step = max(1, step)
    }

    func update(_ done: Int, of total: Int) {
        lock.lock()
        defer { lock.unlock() }
        if terminal {
            let width = 30
            let filled = total == 0 ? width : min(width, done * width / max(1, total))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\(bar) \(done)/\(total) \(unit)".utf8))
        } else if done - lastLine >= step || done == total {
            FileHandle.standardError.write(Data("\(done) of \(total) \(unit)\n".utf8))
            lastLine = done
        }
    }

    /// Ends the bar's line on a terminal.
    func finish() {
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
