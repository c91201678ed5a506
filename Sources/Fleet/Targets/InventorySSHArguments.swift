import TextFormats
import AnsibleInventory

/// What Tasker takes from the `ssh` arguments an inventory gives a host
/// (`ansible_ssh_common_args`, `ansible_ssh_extra_args`, `ansible_ssh_args`):
/// the jump hosts (`-J LIST`, `-o ProxyJump=LIST`), a `ProxyCommand`, the
/// port, user and key (`-o Port=`, `-o User=`, `-p`, `-l`, `-i`). Every other
/// argument is listed so the caller can say it is ignored.
struct InventorySSHArguments: Equatable {
    var jump: String?
    var proxyCommand: String?
    var port: Int?
    var user: String?
    var identityFiles: [String] = []
    var ignored: [String] = []

    init(parsing text: String) throws {
        let words = try ShellWords.split(text, comments: false)
        var index = 0
        func next(after flag: String) throws -> String {
            index += 1
            guard index < words.count else { throw InventoryError.message("\(flag) needs a value in '\(text)'") }
            return words[index]
        }
        while index < words.count {
            let word = words[index]
            if word == "-J" {
                let list = try next(after: "-J")
                jump = jump ?? list
            } else if word.hasPrefix("-J") {
                jump = jump ?? String(word.dropFirst(2))
            } else if word == "-i" || word.hasPrefix("-i") {
                identityFiles.append(word == "-i" ? try next(after: "-i") : String(word.dropFirst(2)))
            } else if word == "-p" || word.hasPrefix("-p") {
                let value = word == "-p" ? try next(after: "-p") : String(word.dropFirst(2))
                try setPort(value, in: text)
            } else if word == "-l" || word.hasPrefix("-l") {
                let value = word == "-l" ? try next(after: "-l") : String(word.dropFirst(2))
                user = user ?? value
            } else if word == "-o" || word.hasPrefix("-o") {
                let option = word == "-o" ? try next(after: "-o") : String(word.dropFirst(2))
                try apply(option, in: text)
            } else {
                ignored.append(word)
            }
            index += 1
        }
    }

    /// `Keyword=value` or `Keyword value`; as in ssh, the first value of a keyword wins.
    private mutating func setPort(_ value: String, in text: String) throws {
        guard let number = Int(value), (1...65535).contains(number) else {
            throw InventoryError.message("'\(value)' is not a port number in '\(text)'")
        }
        port = port ?? number
    }

    private mutating func apply(_ option: String, in text: String) throws {
        let separator = option.firstIndex { $0 == "=" || $0 == " " || $0 == "\t" }
        let keyword = separator.map { String(option[..<$0]) } ?? option
        let value = separator.map { String(option[option.index(after: $0)...]).drop { $0 == " " || $0 == "\t" || $0 == "=" } }
            .map(String.init) ?? ""
        switch keyword.lowercased() {
        case "proxyjump" where !value.isEmpty:
            if jump == nil, proxyCommand == nil { jump = value }
        case "proxycommand" where !value.isEmpty:
            if jump == nil, proxyCommand == nil { proxyCommand = value }
        case "port" where !value.isEmpty:
            try setPort(value, in: text)
        case "user" where !value.isEmpty:
            user = user ?? value
        case "identityfile" where !value.isEmpty:
            identityFiles.append(value)
        default:
            ignored.append("-o \(option)")
        }
    }
}
