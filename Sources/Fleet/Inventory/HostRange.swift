/// Ansible's host ranges: `head[BEGIN:END(:STEP)]tail`, leftmost bracket
/// first, expanded recursively (the outer range varies slowest).
enum HostRange {
    private static let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    static func containsRange(_ name: String) -> Bool {
        guard let open = name.firstIndex(of: "[") else { return false }
        return name[open...].contains("]")
    }

    static func expand(_ name: String) throws -> [String] {
        guard containsRange(name), let open = name.firstIndex(of: "["),
              let close = name[open...].firstIndex(of: "]") else {
            if name.contains("[") { throw InventoryError.message("unclosed '[' in host range '\(name)'") }
            return [name]
        }
        let head = String(name[..<open])
        let body = String(name[name.index(after: open)..<close])
        let tail = String(name[name.index(after: close)...])
        let bounds = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard bounds.count == 2 || bounds.count == 3 else {
            throw InventoryError.message("host range '[\(body)]' must be begin:end or begin:end:step")
        }
        let begin = bounds[0].isEmpty ? "0" : bounds[0]
        let end = bounds[1]
        guard !end.isEmpty else { throw InventoryError.message("host range '[\(body)]' must specify end value") }
        var step = 1
        if bounds.count == 3 {
            guard let value = Int(bounds[2]), value > 0 else {
                throw InventoryError.message("host range '[\(body)]' has an invalid step '\(bounds[2])'")
            }
            step = value
        }
        let width = begin.hasPrefix("0") && begin.count > 1 ? begin.count : 0
        if width > 0, end.count != width {
            throw InventoryError.message("host range '[\(body)]' must specify equal-length begin and end formats")
        }
        var items: [String] = []
        if let first = letterIndex(begin), let last = letterIndex(end) {
            guard first <= last else { throw InventoryError.message("host range '[\(body)]' must have begin <= end") }
            items = stride(from: first, through: last, by: step).map { String(letters[$0]) }
        } else {
            guard let low = Int(begin), let high = Int(end) else {
                throw InventoryError.message("host range '[\(body)]' mixes letters and numbers or is not a range")
            }
            // Ansible yields no hosts (and no error) when a numeric begin exceeds end.
            if low <= high {
                items = stride(from: low, through: high, by: step).map { number in
                    let text = String(number)
                    return width > text.count ? String(repeating: "0", count: width - text.count) + text : text
                }
            }
        }
        var hosts: [String] = []
        for item in items {
            hosts += try expand(head + item + tail)
        }
        return hosts
    }

    /// Position of `text` in a..zA..Z, as Python's `ascii_letters.index` finds it.
    private static func letterIndex(_ text: String) -> Int? {
        let needle = Array(text)
        guard !needle.isEmpty, needle.allSatisfy({ $0.isASCII && $0.isLetter }) else { return nil }
        for start in 0...(letters.count - needle.count) where Array(letters[start..<(start + needle.count)]) == needle {
            return start
        }
        return nil
    }
}

/// An inventory problem; the loader adds the file and line.
public enum InventoryError: Error, CustomStringConvertible, Sendable, Equatable {
    case message(String)
    case located(file: String, line: Int?, message: String)

    public var description: String {
        switch self {
        case .message(let message): return message
        case .located(let file, let line, let message):
            if let line { return "\(file):\(line): \(message)" }
            return "\(file): \(message)"
        }
    }
}
