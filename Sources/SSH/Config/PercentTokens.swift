/// OpenSSH's `%` tokens (`%h`, `%p`, `%r`, …, and `%%` for a percent sign), as
/// ssh expands them in ssh_config values. A token without a value is left as written.
public struct PercentTokens: Sendable {
    public var values: [Character: String]

    public init(_ values: [Character: String]) {
        self.values = values
    }

    public func expand(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var result = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            guard character == "%", let token = iterator.next() else {
                result.append(character)
                continue
            }
            if token == "%" {
                result += "%"
            } else if let value = values[token] {
                result += value
            } else {
                result += "%\(token)"
            }
        }
        return result
    }
}
