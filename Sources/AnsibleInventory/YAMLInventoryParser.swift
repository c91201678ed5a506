import Foundation
import Yams

/// Reads an Ansible YAML inventory (`all:` / `hosts:` / `children:` / `vars:`),
/// as ansible-core's yaml plugin does, with YAML 1.1 scalar typing.
struct YAMLInventoryParser {
    let path: String
    var maximumHosts = HostRange.maximumHostsPerSource

    /// Parses `text`; returns warnings for parts Ansible skips.
    func parse(_ text: String, into inventory: inout Inventory) throws -> [String] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw InventoryError.located(file: path, line: Self.line(of: error), message: "YAML syntax error: \(Self.summary(of: error))")
        }
        guard let root else { throw InventoryError.located(file: path, line: nil, message: "empty YAML inventory") }
        guard let mapping = root.mapping else {
            throw InventoryError.located(file: path, line: root.mark.map { $0.line }, message: "YAML inventory has invalid structure, it should be a dictionary of groups")
        }
        var warnings: [String] = []
        var budget = HostBudget(limit: maximumHosts)
        for (key, value) in mapping {
            _ = try parseGroup(key, value, into: &inventory, budget: &budget, warnings: &warnings, topLevel: true)
        }
        return warnings
    }

    private func fail(_ node: Node, _ message: String) -> InventoryError {
        .located(file: path, line: node.mark.map { $0.line }, message: message)
    }

    /// Returns the group's name, or nil when the definition was skipped.
    private func parseGroup(_ keyNode: Node, _ body: Node, into inventory: inout Inventory, budget: inout HostBudget,
                            warnings: inout [String], topLevel: Bool) throws -> String? {
        let group = keyNode.string ?? "\(keyNode)"
        if !(body.mapping != nil || Self.isNull(body)) {
            warnings.append("\(path): skipping '\(group)' as this is not a valid group definition")
            return nil
        }
        inventory.addGroup(group)
        guard let sections = body.mapping else { return group }
        for (sectionKey, rawSection) in sections {
            let section = sectionKey.string ?? ""
            var entries: [(Node, Node)] = []
            if let text = rawSection.scalar, !Self.isNull(rawSection), ["vars", "hosts", "children"].contains(section) {
                entries = [(Node(text.string), Node("~", Tag(.null)))]
            } else if let mapping = rawSection.mapping {
                entries = mapping.map { ($0.key, $0.value) }
            } else if Self.isNull(rawSection) {
                continue
            } else if ["vars", "hosts", "children"].contains(section) {
                throw fail(rawSection, "invalid \"\(section)\" entry for group \"\(group)\": requires a dictionary, found a \(Self.kind(rawSection))")
            } else {
                warnings.append("\(path): skipping key (\(section)) in group (\(group)) as it is not a mapping")
                continue
            }
            switch section {
            case "vars":
                for (name, value) in entries {
                    inventory.setGroupVariable(group, name.string ?? "\(name)", try Self.value(value))
                }
            case "children":
                for (childKey, childBody) in entries {
                    guard let child = try parseGroup(childKey, childBody, into: &inventory, budget: &budget, warnings: &warnings, topLevel: false) else {
                        throw fail(childKey, "\(childKey.string ?? "?") is not a known host nor group")
                    }
                    do { try inventory.addChild(child, to: group) } catch { throw fail(childKey, "\(error)") }
                }
            case "hosts":
                for (hostKey, variables) in entries {
                    guard Self.tagName(hostKey) == .str || Self.tagName(hostKey) == .null, let pattern = hostKey.string else {
                        throw fail(hostKey, "host pattern '\(hostKey.string ?? "?")' must be a string: enclose integers/floats in quotation marks")
                    }
                    let (names, port) = try INIInventoryParser(path: path).expandHostPattern(pattern, budget: &budget) { self.fail(hostKey, $0) }
                    var pairs: [(String, InventoryValue)] = []
                    if let mapping = variables.mapping {
                        for (name, value) in mapping { pairs.append((name.string ?? "\(name)", try Self.value(value))) }
                    } else if !Self.isNull(variables) {
                        throw fail(variables, "variables of host '\(pattern)' must be a dictionary")
                    }
                    for name in names {
                        inventory.addHost(name, to: group)
                        if let port { inventory.setHostVariable(name, "ansible_port", .int(port)) }
                        for (key, value) in pairs { inventory.setHostVariable(name, key, value) }
                    }
                }
            default:
                warnings.append("\(path): skipping unexpected key (\(section)) in group (\(group)), only \"vars\", \"children\" and \"hosts\" are valid")
            }
        }
        return group
    }

    static func isNull(_ node: Node) -> Bool {
        node.scalar != nil && tagName(node) == .null
    }

    static func tagName(_ node: Node) -> Tag.Name {
        Tag.Name(rawValue: node.tag.rawValue)
    }

    static func kind(_ node: Node) -> String {
        switch node {
        case .scalar: return "string"
        case .mapping: return "dictionary"
        case .sequence: return "list"
        case .alias: return "alias"
        }
    }

    /// YAML 1.1 typing as PyYAML applies it.
    static func value(_ node: Node) throws -> InventoryValue {
        switch node {
        case .scalar(let scalar):
            let text = scalar.string
            if node.tag.rawValue == "!vault" { return .dict([(InventoryValue.vaultKey, .string(text))]) }
            switch tagName(node) {
            case .null: return .null
            case .bool: return .bool(["yes", "true", "on"].contains(text.lowercased()))
            case .int:
                // PyYAML has no `0o` octal form.
                if text.lowercased().contains("0o") { return .string(text) }
                return yamlInt(text).map(InventoryValue.int) ?? .string(text)
            case .float:
                guard isPyYAMLFloat(text) else { return .string(text) }
                let lower = text.lowercased().replacingOccurrences(of: "_", with: "")
                if lower.hasSuffix(".inf") { return .float(lower.hasPrefix("-") ? -.infinity : .infinity) }
                if lower == ".nan" { return .float(.nan) }
                return Double(lower).map(InventoryValue.float) ?? .string(text)
            default: return .string(text)
            }
        case .sequence(let sequence):
            return .list(try sequence.map(value))
        case .mapping(let mapping):
            return .dict(try mapping.map { ($0.key.string ?? "\($0.key)", try value($0.value)) })
        case .alias:
            return .string("\(node)")
        }
    }

    /// PyYAML's float rule is stricter than Yams's: a mantissa needs a dot and an
    /// exponent needs a sign (`1e3` stays a string, `1.0e+3` is a float).
    static func isPyYAMLFloat(_ text: String) -> Bool {
        let pattern = #"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"#
        return text.range(of: pattern, options: .regularExpression) != nil
    }

    /// YAML 1.1 integers: `0b`, `0x`, leading-zero octal, sexagesimal, underscores.
    static func yamlInt(_ text: String) -> Int? {
        var digits = text.replacingOccurrences(of: "_", with: "")
        var sign = 1
        if digits.hasPrefix("-") { sign = -1; digits.removeFirst() } else if digits.hasPrefix("+") { digits.removeFirst() }
        let value: Int?
        if digits.hasPrefix("0b") {
            value = Int(digits.dropFirst(2), radix: 2)
        } else if digits.hasPrefix("0x") {
            value = Int(digits.dropFirst(2), radix: 16)
        } else if digits.hasPrefix("0o") {
            value = Int(digits.dropFirst(2), radix: 8)
        } else if digits.contains(":") {
            value = digits.split(separator: ":").reduce(0) { total, part in total * 60 + (Int(part) ?? 0) }
        } else if digits.count > 1, digits.hasPrefix("0") {
            value = Int(digits.dropFirst(), radix: 8)
        } else {
            value = Int(digits)
        }
        return value.map { $0 * sign }
    }

    static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _), .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "invalid YAML"
        }
    }
}
