import Foundation

/// Hides a run's secret values in text that leaves the process (log lines,
/// the journal, reports): each occurrence that is not part of a longer word
/// becomes `<masked len=N>`. All secrets are found in one pass of one
/// expression, compiled once.
public struct SecretMasker: Sendable {
    private let expression: Expression?

    /// NSRegularExpression is immutable once made, and documented safe to share between threads.
    private struct Expression: @unchecked Sendable {
        let regex: NSRegularExpression
    }

    public init(secrets: [String] = []) {
        // Longest first, so a secret that contains another is masked whole.
        let alternatives = Set(secrets.filter { !$0.isEmpty }).sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
        guard !alternatives.isEmpty else {
            expression = nil
            return
        }
        let pattern = "(?<![A-Za-z0-9_])(?:" + alternatives.map(NSRegularExpression.escapedPattern(for:)).joined(separator: "|")
            + ")(?![A-Za-z0-9_])"
        expression = (try? NSRegularExpression(pattern: pattern)).map(Expression.init)
    }

    public var isEmpty: Bool { expression == nil }

    public func mask(_ text: String) -> String {
        guard let regex = expression?.regex, !text.isEmpty else { return text }
        let source = text as NSString
        let matches = regex.matches(in: text, range: NSRange(location: 0, length: source.length))
        guard !matches.isEmpty else { return text }
        var output = ""
        var position = 0
        for match in matches {
            output += source.substring(with: NSRange(location: position, length: match.range.location - position))
            output += "<masked len=\(source.substring(with: match.range).count)>"
            position = match.range.location + match.range.length
        }
        output += source.substring(from: position)
        return output
    }
}

extension RunEvent {
    /// The event with every free-text field (command lines, commands, outputs, errors) masked.
    public func masked(by masker: SecretMasker) -> RunEvent {
        guard !masker.isEmpty else { return self }
        var event = self
        switch kind {
        case .runStarted(var start):
            start.commandLine = start.commandLine.map(masker.mask)
            start.subject = masker.mask(start.subject)
            event.kind = .runStarted(start)
        case .hostConnectFailed(var failure):
            failure.error = masker.mask(failure.error)
            event.kind = .hostConnectFailed(failure)
        case .commandStarted(var command):
            command.command = masker.mask(command.command)
            event.kind = .commandStarted(command)
        case .hostEnded(var record):
            record.stdout.text = masker.mask(record.stdout.text)
            record.stderr.text = masker.mask(record.stderr.text)
            record.error = record.error.map(masker.mask)
            event.kind = .hostEnded(record)
        case .hostConnecting, .hostConnected, .commandEnded, .transferProgress, .taskStarted, .taskEnded, .batchStarted, .routed, .runEnded:
            break
        }
        return event
    }
}
