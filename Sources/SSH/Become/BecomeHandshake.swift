import Foundation
import Platform

/// Reads the start of a become'd command's output: everything before the
/// wrapper's marker line belongs to sudo, su or doas — password prompts,
/// refusals — and is held back; the password prompts are counted so the
/// caller can answer the first and treat a second as a wrong password.
/// After the marker, output passes through untouched.
struct BecomeHandshake {
    /// What the caller writes to the command's standard input for a new prompt.
    enum Answer: Equatable {
        case password
        /// No (more) password to give: end the input so the program gives up at once.
        case endOfInput
    }

    enum Refusal: Equatable {
        case passwordRequired
        case incorrectPassword
    }

    let invocation: BecomeInvocation
    /// The command has a pseudo-terminal: the end of input is the terminal's EOF character.
    let terminal: Bool
    private(set) var isReady = false
    private(set) var refusal: Refusal?
    private var held: [OutputStreamKind: [UInt8]] = [.stdout: [], .stderr: []]
    /// Where each stream's search for the next prompt starts.
    private var scanned: [OutputStreamKind: Int] = [.stdout: 0, .stderr: 0]
    private var prompts: [OutputStreamKind: [Range<Int>]] = [.stdout: [], .stderr: []]
    private var promptsSeen = 0
    private var answered = 0
    private let marker: [UInt8]
    private let exactPrompt: [UInt8]?

    /// Bytes kept per stream before the marker; a become program says far less.
    static let heldLimit = 64 << 10

    init(_ invocation: BecomeInvocation, terminal: Bool) {
        self.invocation = invocation
        self.terminal = terminal
        marker = Array(invocation.marker.utf8)
        exactPrompt = invocation.become.method == .sudo ? Array(invocation.sudoPrompt.utf8) : nil
    }

    /// Feeds output from `stream`; what belongs to the command goes to `deliver`.
    mutating func consume(_ bytes: UnsafeRawBufferPointer, from stream: OutputStreamKind,
                          deliver: (UnsafeRawBufferPointer, OutputStreamKind) -> Void) {
        if isReady {
            deliver(bytes, stream)
            return
        }
        let searchFrom = max(0, held[stream]!.count - marker.count - 1)
        held[stream, default: []].append(contentsOf: bytes)
        if stream == .stdout, let (start, end) = markerLine(from: searchFrom) {
            isReady = true
            // On a terminal, what came before is the become program's side of a conversation: not output.
            let before = terminal ? [] : residual(.stdout, upTo: start)
            let after = Array(held[.stdout]![end...])
            let errors = residual(.stderr, upTo: held[.stderr]!.count)
            held = [:]
            for (text, kind) in [(before, OutputStreamKind.stdout), (errors, .stderr), (after, .stdout)] where !text.isEmpty {
                text.withUnsafeBytes { deliver($0, kind) }
            }
            return
        }
        findPrompts(in: stream)
        trim(stream)
    }

    /// The answer owed to a prompt not yet answered, if any.
    mutating func nextAnswer() -> Answer? {
        guard !isReady, refusal == nil, promptsSeen > answered else { return nil }
        answered = promptsSeen
        if answered == 1, invocation.become.password != nil { return .password }
        refusal = invocation.become.password == nil ? .passwordRequired : .incorrectPassword
        return .endOfInput
    }

    /// Why become failed, once the channel ended before the marker.
    func failureReason(_ exit: RemoteExit) -> String {
        let method = invocation.become.method.rawValue
        let said = (residualLines(.stderr) + residualLines(.stdout)).suffix(3)
        let text = said.joined(separator: "; ")
        let lowered = text.lowercased()
        let requiredHint = "a password is required: give one with -K/--ask-become-pass or --become-password-file"
        if refusal == .passwordRequired || lowered.contains("a password is required") {
            return "\(method) to \(invocation.become.user): \(requiredHint)"
        }
        if method == "doas", !terminal, invocation.become.password != nil, promptsSeen == 0 {
            return "doas reads a password only from a terminal: run with --pty"
        }
        if refusal == .incorrectPassword || ["incorrect password", "authentication failure", "authentication failed"].contains(where: lowered.contains) {
            return "\(method) refused the become password (incorrect password)"
        }
        if lowered.contains("must have a tty") || lowered.contains("a tty is required") || lowered.contains("must be run from a terminal") {
            return "\(method) needs a terminal on this host (\(text)): run with --pty"
        }
        if lowered.contains("not found") && said.count <= 1 && lowered.contains(method) {
            return "\(method) is not installed on this host (\(text))"
        }
        let status = exit.signal.map { "killed by SIG\($0)" } ?? "exit \(exit.exitCode.map(String.init) ?? "?")"
        return text.isEmpty ? "\(method) to \(invocation.become.user) failed (\(status)) before running the command"
            : "\(method) to \(invocation.become.user) failed (\(status)): \(text)"
    }

    // MARK: - Scanning

    /// The marker's line in the held stdout, looked for from `from` on (where
    /// the new bytes could complete it): where it starts and where the line after it starts.
    private func markerLine(from: Int) -> (Int, Int)? {
        let bytes = held[.stdout]!
        guard let start = Self.find(marker, in: bytes, from: from) else { return nil }
        var end = start + marker.count
        if end < bytes.count, bytes[end] == UInt8(ascii: "\r") { end += 1 }
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\n") else { return nil }
        return (start, end + 1)
    }

    private mutating func findPrompts(in stream: OutputStreamKind) {
        let bytes = held[stream]!
        var from = scanned[stream]!
        if let exactPrompt {
            while let start = Self.find(exactPrompt, in: bytes, from: from) {
                prompts[stream]!.append(start..<(start + exactPrompt.count))
                promptsSeen += 1
                from = start + exactPrompt.count
            }
            // Only the last bytes can still grow into a prompt.
            scanned[stream] = max(from, bytes.count - exactPrompt.count + 1)
            return
        }
        // su and doas print their own prompt ("Password: ", "doas (me@host) password: "):
        // an unfinished last line that asks for a password. Finished lines are not looked at again.
        let lineStart = (bytes[from...].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 }) ?? from
        scanned[stream] = lineStart
        // A prompt is short: a long unfinished line is judged by its end.
        guard lineStart < bytes.count, Self.looksLikePasswordPrompt(bytes[max(lineStart, bytes.count - 256)...]) else { return }
        prompts[stream]!.append(lineStart..<bytes.count)
        promptsSeen += 1
        scanned[stream] = bytes.count
    }

    /// Localised password prompts end in a colon after a word for "password".
    static func looksLikePasswordPrompt(_ line: ArraySlice<UInt8>) -> Bool {
        let text = String(decoding: line, as: UTF8.self).lowercased()
        let trimmed = text.reversed().drop { $0 == " " || $0 == "\t" }
        guard let last = trimmed.first, last == ":" || last == "：" else { return false }
        return ["password", "passwort", "mot de passe", "contraseña", "senha", "parola", "wachtwoord", "lösenord",
                "hasło", "heslo", "jelszó", "пароль", "密码", "密碼", "パスワード", "암호", "비밀번호"].contains { text.contains($0) }
    }

    /// Held bytes of `stream` before `end`, prompts removed; empty when only whitespace is left.
    private func residual(_ stream: OutputStreamKind, upTo end: Int) -> [UInt8] {
        let bytes = held[stream]!
        var kept: [UInt8] = []
        var position = 0
        for prompt in prompts[stream]! where prompt.lowerBound < end {
            kept += bytes[position..<prompt.lowerBound]
            position = min(prompt.upperBound, end)
        }
        if position < end { kept += bytes[position..<end] }
        let isBlank = kept.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }
        return isBlank ? [] : kept
    }

    private func residualLines(_ stream: OutputStreamKind) -> [String] {
        String(decoding: residual(stream, upTo: held[stream]?.count ?? 0), as: UTF8.self)
            .split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Keeps a program that talks without end from growing the held bytes.
    private mutating func trim(_ stream: OutputStreamKind) {
        let count = held[stream]!.count
        guard count > Self.heldLimit else { return }
        let drop = count - Self.heldLimit / 2
        held[stream]!.removeFirst(drop)
        scanned[stream] = max(0, scanned[stream]! - drop)
        prompts[stream] = prompts[stream]!.compactMap {
            $0.upperBound <= drop ? nil : max(0, $0.lowerBound - drop)..<($0.upperBound - drop)
        }
    }

    private static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, bytes.count - from >= needle.count else { return nil }
        var index = from
        while index + needle.count <= bytes.count {
            if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

/// The become handshake's reading of a command's output, for callers outside
/// the SSH layer (the fuzz targets): `chunks` arrive in turn on stdout and
/// stderr, each prompt is answered as a run with a password would; returns what
/// reached the output and, if the marker never came, the failure reason.
public enum BecomeOutputReader {
    public static func read(_ chunks: [[UInt8]], method: Become.Method, terminal: Bool) -> (output: [UInt8], failure: String?) {
        let invocation = BecomeInvocation(Become(method: method, password: Secret("fuzz")))
        var handshake = BecomeHandshake(invocation, terminal: terminal)
        var output: [UInt8] = []
        for (index, chunk) in chunks.enumerated() {
            let marked = index % 3 == 2 ? Array(invocation.marker.utf8) + chunk : chunk
            marked.withUnsafeBytes { bytes in
                handshake.consume(bytes, from: index % 2 == 0 ? .stdout : .stderr) { chunk, _ in output += chunk }
            }
            _ = handshake.nextAnswer()
        }
        return (output, handshake.isReady ? nil : handshake.failureReason(RemoteExit(exitCode: 1, signal: nil)))
    }
}
