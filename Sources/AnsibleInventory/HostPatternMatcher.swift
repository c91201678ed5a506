import Foundation
import TextFormats

/// Selects hosts with Ansible's pattern language: unions (`a:b`, `a,b`),
/// intersections (`&b`), exclusions (`!b`), globs, `~regex`, subscripts
/// (`g[0]`, `g[1:3]`) and `--limit`.
public struct HostPatternMatcher: Sendable {
    public let inventory: Inventory
    static let implicitLocalhost: Set<String> = ["localhost", "127.0.0.1", "::1"]

    public init(inventory: Inventory) {
        self.inventory = inventory
    }

    public struct Selection: Sendable, Equatable {
        public var hosts: [String]
        public var warnings: [String]
    }

    /// Hosts matching `pattern`, narrowed to those matching `limit`; order follows `pattern`.
    public func select(_ pattern: String, limit: String? = nil) throws -> Selection {
        var warnings: [String] = []
        var space = HostIndexSpace(inventory: inventory)
        var hosts = try evaluate(Self.split(pattern), in: &space, warnings: &warnings)
        if let limit {
            let limited = try evaluate(try Self.limitPatterns(limit), in: &space, warnings: &warnings)
            let allowed = space.membership(limited)
            hosts = hosts.filter { allowed[$0] }
        }
        return Selection(hosts: hosts.map(space.name), warnings: warnings)
    }

    /// Splits on commas if there are any; otherwise keeps an address (`host:port`,
    /// IPv6, a host range) whole, or splits on colons outside brackets.
    static func split(_ pattern: String) -> [String] {
        let trimmed = pattern.trimmingCharacters(in: .whitespaces)
        let parts: [String]
        if trimmed.contains(",") {
            parts = trimmed.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        } else if looksLikeAddress(trimmed) {
            parts = [trimmed]
        } else {
            var collected: [String] = []
            var current = ""
            var depth = 0
            for character in trimmed {
                switch character {
                case "[": depth += 1; current.append(character)
                case "]": depth = max(0, depth - 1); current.append(character)
                case ":" where depth == 0, " " where depth == 0, "\t" where depth == 0:
                    collected.append(current)
                    current = ""
                default: current.append(character)
                }
            }
            collected.append(current)
            parts = collected
        }
        return parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// What Ansible's parse_address accepts: a host name or IPv4 (ranges allowed)
    /// with an optional numeric port, or an IPv6 address.
    private static func looksLikeAddress(_ text: String) -> Bool {
        if text.isEmpty { return false }
        var hexColons = 0
        if text.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) {
            hexColons = text.filter { $0 == ":" }.count
            if hexColons >= 2 { return true }
        }
        var body = Substring(text)
        if let split = INIInventoryParser.splitPort(text) { body = Substring(split.host) }
        else if text.contains(where: { $0 == ":" }) && !text.contains("[") { return false }
        var depth = 0
        for character in body {
            switch character {
            case "[": depth += 1
            case "]": depth -= 1
            case ":" where depth == 0: return false
            case _ where character.isLetter || character.isNumber || character == "." || character == "-" || character == "_": break
            case ":" where depth > 0: break
            default: return false
            }
        }
        return depth == 0 && (body.first?.isLetter == true || body.first?.isNumber == true)
    }

    private static func limitPatterns(_ limit: String) throws -> [String] {
        var patterns: [String] = []
        for part in split(limit) {
            if part.hasPrefix("@") {
                let path = String(part.dropFirst())
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                    throw InventoryError.message("unable to find limit file \(path)")
                }
                guard !isDirectory.boolValue, let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw InventoryError.message("limit starting with \"@\" must be a readable file, not a directory: \(path)")
                }
                patterns += text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            } else {
                patterns.append(part)
            }
        }
        return patterns.filter { !$0.isEmpty }
    }

    /// Plain parts first (union), then `&` parts, then `!` parts; no plain part
    /// means `all`. Returns distinct host indices in `space`.
    private func evaluate(_ patterns: [String], in space: inout HostIndexSpace, warnings: inout [String]) throws -> [Int] {
        var regular = patterns.filter { !$0.hasPrefix("!") && !$0.hasPrefix("&") }
        if regular.isEmpty { regular = ["all"] }
        let ordered = regular + patterns.filter { $0.hasPrefix("&") } + patterns.filter { $0.hasPrefix("!") }
        var hosts: [Int] = []
        var selected = [Bool](repeating: false, count: space.count)
        func add(_ index: Int) {
            if index >= selected.count { selected += [Bool](repeating: false, count: index + 1 - selected.count) }
            if !selected[index] {
                selected[index] = true
                hosts.append(index)
            }
        }
        for part in ordered {
            if let host = inventory.hosts[part] {
                add(host.index)
                continue
            }
            let matched = try matchOne(part, in: &space, warnings: &warnings)
            if part.hasPrefix("!") || part.hasPrefix("&") {
                let inMatched = space.membership(matched)
                let keep = part.hasPrefix("&")
                hosts.removeAll { index in
                    let drop = inMatched[index] != keep
                    if drop { selected[index] = false }
                    return drop
                }
            } else {
                matched.forEach(add)
            }
        }
        return hosts
    }

    private func matchOne(_ part: String, in space: inout HostIndexSpace, warnings: inout [String]) throws -> [Int] {
        let pattern = part.hasPrefix("!") || part.hasPrefix("&") ? String(part.dropFirst()) : part
        guard !pattern.isEmpty else { return [] }
        let (expression, slice) = Self.splitSubscript(pattern)
        let hosts = try enumerate(expression, in: &space, warnings: &warnings)
        guard let slice else { return hosts }
        if let end = slice.end, end != 0 {
            let last = end == -1 ? hosts.count - 1 : end
            guard slice.start < hosts.count, slice.start <= last else { return [] }
            return Array(hosts[slice.start...min(last, hosts.count - 1)])
        }
        // `[i]`, and Ansible's quirk `[i:0]`: a single host, Python-indexed.
        let index = slice.start < 0 ? hosts.count + slice.start : slice.start
        guard hosts.indices.contains(index) else {
            throw InventoryError.message("no hosts matched the subscripted pattern '\(pattern)'")
        }
        return [hosts[index]]
    }

    /// `^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]+)?)\]$`, not for `~regex`.
    static func splitSubscript(_ pattern: String) -> (String, (start: Int, end: Int?)?) {
        guard !pattern.hasPrefix("~"), pattern.hasSuffix("]"), let open = pattern.lastIndex(of: "["),
              open > pattern.startIndex else { return (pattern, nil) }
        let inside = String(pattern[pattern.index(after: open)..<pattern.index(before: pattern.endIndex)])
        let base = String(pattern[..<open])
        if let index = Int(inside), inside.allSatisfy({ $0.isNumber || $0 == "-" }), !inside.dropFirst().contains("-") {
            return (base, (index, nil))
        }
        for separator: Character in [":", "-"] {
            let parts = inside.split(separator: separator, maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy(\.isNumber), let start = Int(parts[0]) else { continue }
            if parts[1].isEmpty { return (base, (start, -1)) }
            guard parts[1].allSatisfy(\.isNumber), let end = Int(parts[1]) else { continue }
            return (base, (start, end))
        }
        return (pattern, nil)
    }

    private func enumerate(_ pattern: String, in space: inout HostIndexSpace, warnings: inout [String]) throws -> [Int] {
        let matcher = try NameMatcher(pattern)
        var results: [Int] = []
        let groups = inventory.groupOrder.filter(matcher.matches)
        for group in groups { results += inventory.hostIndices(ofGroup: group) }
        if groups.isEmpty || pattern.hasPrefix("~") || pattern.contains(where: { ".?*[".contains($0) }) {
            for (index, name) in inventory.hostOrder.enumerated() where matcher.matches(name) { results.append(index) }
        }
        if results.isEmpty, Self.implicitLocalhost.contains(pattern) { results = [space.implicitHost(pattern)] }
        if results.isEmpty, groups.isEmpty, pattern != "all" {
            warnings.append("could not match supplied host pattern, ignoring: \(pattern)")
        }
        return results
    }
}

/// Hosts as indices: the inventory's, by their place in `hostOrder`, then the
/// implicit `localhost` names a pattern may select without the inventory holding them.
struct HostIndexSpace {
    let inventory: Inventory
    private var implicit: [String] = []

    init(inventory: Inventory) {
        self.inventory = inventory
    }

    var count: Int { inventory.hostOrder.count + implicit.count }

    mutating func implicitHost(_ name: String) -> Int {
        if let known = implicit.firstIndex(of: name) { return inventory.hostOrder.count + known }
        implicit.append(name)
        return count - 1
    }

    func name(_ index: Int) -> String {
        index < inventory.hostOrder.count ? inventory.hostOrder[index] : implicit[index - inventory.hostOrder.count]
    }

    /// Which indices are among `indices`.
    func membership(_ indices: [Int]) -> [Bool] {
        var member = [Bool](repeating: false, count: count)
        for index in indices { member[index] = true }
        return member
    }
}

/// fnmatch (anchored, case-sensitive) or, with a leading `~`, a regex matched at the start.
struct NameMatcher {
    private enum Kind {
        case glob(Glob)
        case regex(NSRegularExpression)
    }

    private let kind: Kind

    init(_ pattern: String) throws {
        guard pattern.hasPrefix("~") else {
            kind = .glob(Glob(pattern))
            return
        }
        do {
            kind = .regex(try NSRegularExpression(pattern: String(pattern.dropFirst()), options: [.dotMatchesLineSeparators]))
        } catch {
            throw InventoryError.message("invalid host list pattern: \(pattern)")
        }
    }

    func matches(_ name: String) -> Bool {
        switch kind {
        case .glob(let glob):
            return glob.matches(name)
        case .regex(let regex):
            let range = NSRange(name.startIndex..., in: name)
            return regex.firstMatch(in: name, options: [.anchored], range: range) != nil
        }
    }
}
