/// Shell-style wildcards, in the two dialects operators' files use: Python's
/// fnmatch (`*`, `?`, `[seq]`, `[!seq]`; Ansible host patterns) and OpenSSH's
/// (`*` and `?` only; ssh_config `Host` lines and known_hosts). Compared by code
/// point, in time proportional to pattern × name: each `*` is retried from the
/// last one only, never nested (as Python 3.9+ and OpenSSH avoid backtracking too).
public struct Glob: Sendable {
    public enum Syntax: Sendable {
        /// `*`, `?` and `[…]` sets, as Python's fnmatch.translate reads them.
        case fnmatch
        /// `*` and `?`; `[` is an ordinary character.
        case openSSH
    }

    private enum Token: Equatable {
        case star
        case any
        case scalar(Unicode.Scalar)
        /// A `[…]` set: single scalars and ranges; `negated` for `[!…]`.
        case set(ranges: [ClosedRange<Unicode.Scalar>], negated: Bool)

        func matches(_ scalar: Unicode.Scalar) -> Bool {
            switch self {
            case .star, .any: return true
            case .scalar(let expected): return scalar == expected
            case .set(let ranges, let negated): return ranges.contains { $0.contains(scalar) } != negated
            }
        }
    }

    private let tokens: [Token]
    private let caseSensitive: Bool

    /// Letter case is ignored unless `caseSensitive` (host names compare without it, user names with it).
    public init(_ pattern: String, syntax: Syntax = .fnmatch, caseSensitive: Bool = true) {
        self.caseSensitive = caseSensitive
        let scalars = Array((caseSensitive ? pattern : pattern.lowercased()).unicodeScalars)
        var tokens: [Token] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            index += 1
            switch scalar {
            case "*": if tokens.last != .star { tokens.append(.star) }
            case "?": tokens.append(.any)
            case "[" where syntax == .fnmatch:
                // fnmatch.translate: `!` negates, a `]` right after `[` or `[!` is literal.
                var end = index
                if end < scalars.count, scalars[end] == "!" { end += 1 }
                if end < scalars.count, scalars[end] == "]" { end += 1 }
                while end < scalars.count, scalars[end] != "]" { end += 1 }
                guard end < scalars.count else {
                    tokens.append(.scalar("["))
                    continue
                }
                tokens.append(Self.set(Array(scalars[index..<end])))
                index = end + 1
            default:
                tokens.append(.scalar(scalar))
            }
        }
        self.tokens = tokens
    }

    /// A `[…]` body as Python's fnmatch.translate renders it and `re` reads it:
    /// split at the `-`s that can make ranges, reversed ranges dropped together
    /// with their ends, then `!` first negates, an empty set matches nothing
    /// and a lone `!` any character; the remaining `-` joins make ranges.
    private static func set(_ body: [Unicode.Scalar]) -> Token {
        var chunks: [[Unicode.Scalar]] = []
        var start = 0
        var scan = body.first == "!" ? 2 : 1
        while let dash = body.indices.first(where: { $0 >= scan && body[$0] == "-" }) {
            chunks.append(Array(body[start..<dash]))
            start = dash + 1
            scan = dash + 3
        }
        let last = Array(body[start...])
        if last.isEmpty { chunks[chunks.count - 1].append("-") } else { chunks.append(last) }
        var k = chunks.count - 1
        while k > 0 {
            if let high = chunks[k - 1].last, let low = chunks[k].first, high > low {
                chunks[k - 1] = Array(chunks[k - 1].dropLast()) + chunks[k].dropFirst()
                chunks.remove(at: k)
            }
            k -= 1
        }
        // nil marks a `-` that joins two chunks; every other scalar is literal.
        var items: [Unicode.Scalar?] = []
        for (index, chunk) in chunks.enumerated() {
            if index > 0 { items.append(nil) }
            items += chunk.map(Optional.some)
        }
        if items.isEmpty { return .set(ranges: [], negated: false) }
        if items == ["!"] { return .set(ranges: [], negated: true) }
        let negated = items.first == "!"
        if negated { items.removeFirst() }
        var ranges: [ClosedRange<Unicode.Scalar>] = []
        var index = 0
        while index < items.count {
            let low = items[index] ?? "-"
            if index + 2 < items.count, items[index + 1] == nil, let high = items[index + 2] {
                if low <= high { ranges.append(low...high) }
                index += 3
            } else {
                ranges.append(low...low)
                index += 1
            }
        }
        return .set(ranges: ranges, negated: negated)
    }

    public func matches(_ name: String) -> Bool {
        let text = Array((caseSensitive ? name : name.lowercased()).unicodeScalars)
        var token = 0
        var position = 0
        var lastStar: Int?
        var resumeAt = 0
        while position < text.count {
            if token < tokens.count, tokens[token] == .star {
                lastStar = token
                resumeAt = position
                token += 1
            } else if token < tokens.count, tokens[token].matches(text[position]) {
                token += 1
                position += 1
            } else if let star = lastStar {
                // Let the last `*` take one more character and try again from there.
                token = star + 1
                resumeAt += 1
                position = resumeAt
            } else {
                return false
            }
        }
        while token < tokens.count, tokens[token] == .star { token += 1 }
        return token == tokens.count
    }
}
