import Foundation
import TextFormats

/// Reads an Ansible INI inventory into an `Inventory`, as ansible-core's ini plugin does.
struct INIInventoryParser {
    private enum SectionKind: String { case hosts, children, vars }

    private struct Pending {
        var line: Int
        var kind: SectionKind
        var parents: [String] = []
    }

    let path: String
    var maximumHosts = HostRange.maximumHostsPerSource

    func parse(_ text: String, into inventory: inout Inventory) throws {
        var budget = HostBudget(limit: maximumHosts)
        var group = "ungrouped"
        var kind = SectionKind.hosts
        var pending: [String: Pending] = [:]
        var pendingOrder: [String] = []
        func note(_ name: String, _ entry: Pending) {
            if pending[name] == nil { pendingOrder.append(name) }
            pending[name] = entry
        }
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            func fail(_ message: String) -> InventoryError { .located(file: path, line: lineNumber, message: message) }
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }

            if let section = Self.section(line) {
                group = section.name
                guard let sectionKind = SectionKind(rawValue: section.kind ?? "hosts") else {
                    throw fail("section [\(section.name):\(section.kind!)] has unknown type: \(section.kind!)")
                }
                kind = sectionKind
                if inventory.groups[group] == nil {
                    if kind == .vars, pending[group] == nil { note(group, Pending(line: lineNumber, kind: .vars)) }
                    inventory.addGroup(group)
                }
                if kind != .vars, let waiting = pending[group] {
                    if waiting.kind == .children {
                        try resolvePendingChildren(group, &pending, &inventory, line: lineNumber)
                    } else {
                        pending[group] = nil
                    }
                }
                continue
            }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                throw fail("invalid section entry '\(line)': section names may not contain spaces or other invalid characters")
            }

            switch kind {
            case .hosts:
                let words: [String]
                do { words = try ShellWords.split(line) } catch { throw fail("error parsing host definition '\(line)': \(error)") }
                guard let pattern = words.first else { continue }
                if pattern == "---" { throw fail("'---' is not a host: is this a YAML file?") }
                let (names, port) = try expandHostPattern(pattern, budget: &budget, fail: fail)
                var variables: [(String, InventoryValue)] = []
                for word in words.dropFirst() {
                    guard let equals = word.firstIndex(of: "=") else {
                        throw fail("expected key=value host variable assignment, got: \(word)")
                    }
                    variables.append((String(word[..<equals]), PythonLiteral.value(of: String(word[word.index(after: equals)...]))))
                }
                inventory.addHosts(names, to: group)
                for name in names {
                    if let port { inventory.setHostVariable(name, "ansible_port", .int(port)) }
                    for (key, value) in variables { inventory.setHostVariable(name, key, value) }
                }
            case .vars:
                guard let equals = line.firstIndex(of: "=") else { throw fail("expected key=value, got: \(line)") }
                let key = line[..<equals].trimmingCharacters(in: .whitespaces)
                let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                inventory.setGroupVariable(group, key, PythonLiteral.value(of: value))
            case .children:
                let words = (try? ShellWords.split(line)) ?? [line]
                guard let child = words.first else { continue }
                if inventory.groups[child] == nil {
                    if var waiting = pending[child], waiting.kind == .children {
                        waiting.parents.append(group)
                        pending[child] = waiting
                    } else {
                        note(child, Pending(line: lineNumber, kind: .children, parents: [group]))
                    }
                } else {
                    // Naming a group as a child declares it, even if only its :vars were seen.
                    if pending[child]?.kind == .vars { pending[child] = nil }
                    do { try inventory.addChild(child, to: group) } catch { throw fail("\(error)") }
                }
            }
        }
        for name in pendingOrder {
            guard let waiting = pending[name] else { continue }
            switch waiting.kind {
            case .vars:
                throw InventoryError.located(file: path, line: waiting.line,
                                             message: "section [\(name):vars] not valid for undefined group: \(name)")
            default:
                throw InventoryError.located(file: path, line: waiting.line,
                                             message: "section [\(waiting.parents.last ?? "?"):children] includes undefined group: \(name)")
            }
        }
    }

    private func resolvePendingChildren(_ group: String, _ pending: inout [String: Pending],
                                        _ inventory: inout Inventory, line: Int) throws {
        guard let waiting = pending.removeValue(forKey: group) else { return }
        for parent in waiting.parents {
            do { try inventory.addChild(group, to: parent) } catch {
                throw InventoryError.located(file: path, line: line, message: "\(error)")
            }
            if pending[parent]?.kind == .children {
                try resolvePendingChildren(parent, &pending, &inventory, line: line)
            }
        }
    }

    /// `^\[([^:\]\s]+)(:\w+)?\]\s*(#.*)?$`
    static func section(_ line: String) -> (name: String, kind: String?)? {
        guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return nil }
        let after = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
        guard after.isEmpty || after.hasPrefix("#") else { return nil }
        let inside = line[line.index(after: line.startIndex)..<close]
        let parts = inside.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        guard !name.isEmpty, !name.contains(where: { $0.isWhitespace }) else { return nil }
        if parts.count == 2 {
            let kind = String(parts[1])
            guard !kind.isEmpty, kind.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return nil }
            return (name, kind)
        }
        return (name, nil)
    }

    /// Splits an optional `:port` off a host pattern (IPv6 in brackets, ranges
    /// kept intact) and expands ranges within what is left of the source's budget.
    /// `h:abc` is a host literally named so.
    func expandHostPattern(_ pattern: String, budget: inout HostBudget,
                           fail: (String) -> InventoryError) throws -> ([String], Int?) {
        if pattern.hasSuffix(":") { throw fail("invalid host pattern '\(pattern)': ends with a colon") }
        var host = pattern
        var port: Int?
        if let split = Self.splitPort(pattern) {
            host = split.host
            port = split.port
        }
        do {
            try budget.take(HostRange.count(host), for: pattern)
            return (try HostRange.expand(host), port)
        } catch {
            throw fail("\(error)")
        }
    }

    /// Ansible's parse_address, enough for inventories: `[v6]:port`, `name:port`
    /// (with ranges), bare IPv6 (no port).
    static func splitPort(_ pattern: String) -> (host: String, port: Int)? {
        if pattern.hasPrefix("["), let close = pattern.firstIndex(of: "]") {
            let inside = pattern[pattern.index(after: pattern.startIndex)..<close]
            let rest = pattern[pattern.index(after: close)...]
            if inside.contains(":"), !inside.contains("["), rest.hasPrefix(":"), let port = Int(rest.dropFirst()) {
                return (String(inside), port)
            }
        }
        var depth = 0
        var colonOutside: String.Index?
        var colons = 0
        for index in pattern.indices {
            switch pattern[index] {
            case "[": depth += 1
            case "]": depth -= 1
            case ":" where depth == 0:
                colons += 1
                colonOutside = index
            default: break
            }
        }
        guard colons == 1, let colon = colonOutside else { return nil }
        let portText = pattern[pattern.index(after: colon)...]
        guard !portText.isEmpty, portText.allSatisfy(\.isNumber), let port = Int(portText) else { return nil }
        return (String(pattern[..<colon]), port)
    }
}

/// Hosts an inventory source may still define (`HostRange.maximumHostsPerSource`).
struct HostBudget {
    let limit: Int
    private(set) var used = 0

    init(limit: Int = HostRange.maximumHostsPerSource) {
        self.limit = limit
    }

    mutating func take(_ count: Int, for pattern: String) throws {
        guard count <= limit - used else {
            if count > limit {
                throw InventoryError.message("host pattern '\(pattern)' expands to \(count) hosts; an inventory source may define at most \(limit)")
            }
            throw InventoryError.message("host pattern '\(pattern)' adds \(count) hosts to the \(used) already defined; an inventory source may define at most \(limit)")
        }
        used += count
    }
}
