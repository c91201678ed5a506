import Foundation

/// Python's `shlex.split` (POSIX mode), which Ansible uses for INI host lines
/// (with comments) and TASKER for `arguments` (without): quotes group words
/// and are removed, backslash escapes outside single quotes (inside double
/// quotes only `"` and `\`), and with `comments` an unquoted `#` ends the line.
public enum ShellWords {
    /// Python's `shlex.join`: the words quoted so a POSIX shell splits them back
    /// unchanged (single quotes around any word with characters outside a safe set).
    public static func join(_ words: [String]) -> String {
        words.map { word in
            let safe = !word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0)) }
            return safe ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }

    public static func split(_ text: String, comments: Bool = true) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaping = false
        for character in text {
            if escaping {
                // Inside double quotes only `"` and `\` are escapable.
                if quote == "\"", character != "\"", character != "\\" { current.append("\\") }
                current.append(character)
                escaping = false
                continue
            }
            if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\", open == "\"" {
                    escaping = true
                } else {
                    current.append(character)
                }
                continue
            }
            switch character {
            case " ", "\t", "\r", "\n":
                if inWord { words.append(current) }
                current = ""
                inWord = false
            case "#" where comments:
                if inWord { words.append(current) }
                return words
            case "'", "\"":
                quote = character
                inWord = true
            case "\\":
                escaping = true
                inWord = true
            default:
                current.append(character)
                inWord = true
            }
        }
        if quote != nil { throw ShellWordsError(message: "no closing quotation") }
        if escaping { throw ShellWordsError(message: "no escaped character") }
        if inWord { words.append(current) }
        return words
    }
}

public struct ShellWordsError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}
