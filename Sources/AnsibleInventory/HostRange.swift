/// Ansible's host ranges: `head[BEGIN:END(:STEP)]tail`, several per name,
/// the leftmost range varying slowest.
public enum HostRange {
    fileprivate static let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    /// Hosts one inventory source may define through its host lines and ranges:
    /// a mistyped range (`web[1:50000000]`) is refused instead of filling memory.
    public static let maximumHostsPerSource = 1_000_000

    /// How many names `name` expands to, computed without expanding it.
    static func count(_ name: String) throws -> Int {
        var total = 1
        var rest = Substring(name)
        while let open = rest.firstIndex(of: "["), let close = rest[open...].firstIndex(of: "]") {
            let body = String(rest[rest.index(after: open)..<close])
            let items = try range(body).count
            total = total.multipliedReportingOverflow(by: items).overflow ? Int.max : total * items
            if total == 0 { return 0 }
            rest = rest[rest.index(after: close)...]
        }
        return total
    }

    /// Every name `name` stands for, the leftmost range varying slowest, as
    /// Ansible's recursive expansion orders them. Like Ansible, an empty range
    /// (`[3:1]`) ends the expansion with no hosts before anything after it is read.
    static func expand(_ name: String) throws -> [String] {
        var literals: [Substring] = []
        var ranges: [Range] = []
        var rest = Substring(name)
        while let open = rest.firstIndex(of: "["), let close = rest[open...].firstIndex(of: "]") {
            let range = try range(String(rest[rest.index(after: open)..<close]))
            if range.count == 0 { return [] }
            literals.append(rest[..<open])
            ranges.append(range)
            rest = rest[rest.index(after: close)...]
        }
        // Built only now: a huge range before an empty one makes no names.
        let labels = ranges.map { Array($0.labels) }
        if rest.contains("[") {
            let first = zip(literals, labels).map { $0 + $1[0] }.joined() + rest
            throw InventoryError.message("unclosed '[' in host range '\(first)'")
        }
        var hosts: [String] = []
        var positions = [Int](repeating: 0, count: labels.count)
        while true {
            var host = ""
            for index in labels.indices { host += literals[index] + labels[index][positions[index]] }
            hosts.append(host + rest)
            // Advance like an odometer: the rightmost range turns fastest.
            var index = labels.count - 1
            while index >= 0 {
                positions[index] += 1
                if positions[index] < labels[index].count { break }
                positions[index] = 0
                index -= 1
            }
            if index < 0 { return hosts }
        }
    }

    /// One `[begin:end(:step)]`: letters (positions in a..zA..Z) or numbers.
    private struct Range {
        var low: Int
        var high: Int
        var step: Int
        var letters: Bool
        /// Zero-padded width of numbers (`[01:50]`), 0 for none.
        var width: Int

        var count: Int { high < low ? 0 : (high - low) / step + 1 }

        var labels: some Sequence<String> {
            stride(from: low, through: high, by: step).lazy.map { item in
                if letters { return String(HostRange.letters[item]) }
                let text = String(item)
                return width > text.count ? String(repeating: "0", count: width - text.count) + text : text
            }
        }
    }

    private static func range(_ body: String) throws -> Range {
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
        if let first = letterIndex(begin), let last = letterIndex(end) {
            guard first <= last else { throw InventoryError.message("host range '[\(body)]' must have begin <= end") }
            return Range(low: first, high: last, step: step, letters: true, width: width)
        }
        guard let low = Int(begin), let high = Int(end) else {
            throw InventoryError.message("host range '[\(body)]' mixes letters and numbers or is not a range")
        }
        // Ansible yields no hosts (and no error) when a numeric begin exceeds end.
        return Range(low: low, high: high, step: step, letters: false, width: width)
    }

    /// Position of `text` in a..zA..Z, as Python's `ascii_letters.index` finds it.
    private static func letterIndex(_ text: String) -> Int? {
        let needle = Array(text)
        guard !needle.isEmpty, needle.count <= letters.count, needle.allSatisfy({ $0.isASCII && $0.isLetter }) else { return nil }
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
