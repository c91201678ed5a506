/// Python's `shlex.split(text, comments=True)` (POSIX mode), which Ansible
/// uses to split INI host lines: quotes group words and are removed,
/// backslash escapes outside single quotes, an unquoted `#` starts a comment.
enum ShellWords {
    static func split(_ text: String) throws -> [String] {
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
            case "#":
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
        if quote != nil { throw InventoryError.message("no closing quotation") }
        if escaping { throw InventoryError.message("no escaped character") }
        if inWord { words.append(current) }
        return words
    }
}
