import Foundation
import Glibc
import Platform

/// Asks the user for a passphrase or password the way OpenSSH's `ssh` does:
/// on the controlling terminal with echo off, or through the `SSH_ASKPASS`
/// program, as `SSH_ASKPASS_REQUIRE` and `DISPLAY` decide (readpass.c).
///
/// One question at a time: prompts from many connections queue behind each
/// other. Reading blocks, so it runs on a thread of its own, never on an
/// event loop.
public actor SecretPrompt {
    public enum Channel: Equatable, Sendable {
        case terminal
        case askpass(program: String)
        /// No terminal and no askpass allowed: nothing can be asked.
        case none
    }

    private let environment: [String: String]
    private var previous: Task<Void, Never>?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Where a question goes, by OpenSSH's rules.
    public nonisolated func channel(terminalAvailable: Bool = SecretPrompt.canOpenTerminal()) -> Channel {
        var allowAskpass = !(environment["DISPLAY"] ?? "").isEmpty
        var useAskpass = false
        switch environment["SSH_ASKPASS_REQUIRE"]?.lowercased() {
        case "force":
            useAskpass = true
            allowAskpass = true
        case "prefer":
            useAskpass = allowAskpass
        case "never":
            allowAskpass = false
        default:
            break
        }
        if !useAskpass, !terminalAvailable { useAskpass = true }
        if useAskpass {
            guard allowAskpass else { return .none }
            let program = environment["SSH_ASKPASS"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/bin/ssh-askpass"
            return .askpass(program: program)
        }
        return .terminal
    }

    /// The user's answer, or nil when nothing could be asked, the user gave
    /// nothing (an empty line, a cancelled askpass), or reading failed.
    public func ask(_ question: String) async -> [UInt8]? {
        let waitFor = previous
        let channel = channel()
        let task = Task<[UInt8]?, Never> {
            await waitFor?.value
            return await Self.readAnswer(question, from: channel)
        }
        previous = Task { _ = await task.value }
        let answer = await task.value
        return answer.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Asks at once on the calling thread, blocking it: for a command line that needs
    /// an answer before anything else runs (a vault password).
    public nonisolated func askNow(_ question: String) -> [UInt8]? {
        let answer: [UInt8]?
        switch channel() {
        case .terminal: answer = Self.readFromTerminal(question)
        case .askpass(let program): answer = Self.runAskpass(program, question)
        case .none: answer = nil
        }
        return answer.flatMap { $0.isEmpty ? nil : $0 }
    }

    private static func readAnswer(_ question: String, from channel: Channel) async -> [UInt8]? {
        guard channel != .none else { return nil }
        return await withCheckedContinuation { continuation in
            let thread = Thread {
                switch channel {
                case .terminal: continuation.resume(returning: readFromTerminal(question))
                case .askpass(let program): continuation.resume(returning: runAskpass(program, question))
                case .none: continuation.resume(returning: nil)
                }
            }
            thread.name = "tasker-prompt"
            thread.start()
        }
    }

    public static func canOpenTerminal() -> Bool {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    /// Reads one line from /dev/tty with echo off, as readpassphrase(3) does.
    private static func readFromTerminal(_ question: String) -> [UInt8]? {
        let fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var saved = termios()
        let haveTermios = tcgetattr(fd, &saved) == 0
        if haveTermios {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO | ECHONL)
            _ = tcsetattr(fd, TCSAFLUSH, &quiet)
        }
        defer {
            if haveTermios { _ = tcsetattr(fd, TCSAFLUSH, &saved) }
            _ = write(fd, "\n", 1)
        }
        let prompt = Array(("\r" + question).utf8)
        _ = prompt.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let n = Glibc.read(fd, &byte, 1)
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return line.isEmpty ? nil : line }
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { return line }
            line.append(byte)
            if line.count > 8192 { return nil }
        }
    }

    /// Runs the askpass program with the question as its argument and takes
    /// the first line of its output; a failed program means no answer.
    private static func runAskpass(_ program: String, _ question: String) -> [UInt8]? {
        // Its messages go to Tasker's stderr, where the user sees them.
        guard var run = try? LocalProcess.runBlocking([program, question], errors: .inherited, timeout: nil, limit: 65536) else {
            return nil
        }
        defer { run.stdout.withUnsafeMutableBytes { if let base = $0.baseAddress { memset(base, 0, $0.count) } } }
        guard run.ending.exitCode == 0 else { return nil }
        return Array(run.stdout.prefix { $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") })
    }
}
