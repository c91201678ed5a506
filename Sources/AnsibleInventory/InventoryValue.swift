import Foundation
import TextFormats

/// A variable value from an inventory, typed as Ansible types it (Python
/// literals in INI, YAML 1.1 scalars in YAML).
public indirect enum InventoryValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case float(Double)
    case bool(Bool)
    case null
    case list([InventoryValue])
    case dict([(String, InventoryValue)])

    public static func == (lhs: InventoryValue, rhs: InventoryValue) -> Bool {
        switch (lhs, rhs) {
        case let (.string(a), .string(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.float(a), .float(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.null, .null): return true
        case let (.list(a), .list(b)): return a == b
        case let (.dict(a), .dict(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// A `!vault` value is kept encrypted as `{"__ansible_vault": ENVELOPE}`, as
    /// `ansible-inventory` prints it, and decrypted only where Tasker needs it.
    static let vaultKey = "__ansible_vault"

    /// The encrypted text of a `!vault` value.
    var vaultEnvelope: String? {
        guard case .dict(let pairs) = self, pairs.count == 1, pairs[0].0 == Self.vaultKey, case .string(let envelope) = pairs[0].1 else {
            return nil
        }
        return envelope
    }

    /// The value as a string when it is a scalar (used for connection variables).
    public var scalarText: String? {
        switch self {
        case .string(let text): return text
        case .int(let value): return String(value)
        case .float(let value): return Self.pythonFloat(value)
        case .bool(let value): return value ? "True" : "False"
        case .null, .list, .dict: return nil
        }
    }

    /// JSON text; dictionaries with sorted keys, as `ansible-inventory` prints them.
    public func json(indent: Int? = nil, level: Int = 0) -> String {
        let newline = indent == nil ? "" : "\n"
        let pad = { (depth: Int) in String(repeating: " ", count: (indent ?? 0) * depth) }
        let separator = indent == nil ? "," : ","
        switch self {
        case .string(let text): return JSONString.quote(text)
        case .int(let value): return String(value)
        case .float(let value): return value.isFinite ? Self.pythonFloat(value) : (value.isNaN ? "NaN" : (value > 0 ? "Infinity" : "-Infinity"))
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .list(let items):
            if items.isEmpty { return "[]" }
            let body = items.map { pad(level + 1) + $0.json(indent: indent, level: level + 1) }
            return "[" + newline + body.joined(separator: separator + newline) + newline + pad(level) + "]"
        case .dict(let pairs):
            if pairs.isEmpty { return "{}" }
            let colon = indent == nil ? ":" : ": "
            let body = pairs.sorted { $0.0 < $1.0 }.map {
                pad(level + 1) + JSONString.quote($0.0) + colon + $0.1.json(indent: indent, level: level + 1)
            }
            return "{" + newline + body.joined(separator: separator + newline) + newline + pad(level) + "}"
        }
    }

    /// Python's `repr` of a float: `1.5`, `1000.0`, `1e+16`.
    static func pythonFloat(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e16 { return String(format: "%.1f", value) }
        var text = "\(value)"
        if let e = text.firstIndex(of: "e"), text[text.index(after: e)] != "-", text[text.index(after: e)] != "+" {
            text.insert("+", at: text.index(after: e))
        }
        return text
    }
}

/// Variables in insertion order; setting an existing key replaces its value in place.
public struct InventoryVariables: Sendable, Equatable {
    public private(set) var pairs: [(String, InventoryValue)] = []

    public init() {}

    public static func == (lhs: InventoryVariables, rhs: InventoryVariables) -> Bool {
        InventoryValue.dict(lhs.pairs) == InventoryValue.dict(rhs.pairs)
    }

    public subscript(key: String) -> InventoryValue? {
        pairs.first { $0.0 == key }?.1
    }

    public var isEmpty: Bool { pairs.isEmpty }

    public mutating func set(_ key: String, _ value: InventoryValue) {
        if let index = pairs.firstIndex(where: { $0.0 == key }) {
            pairs[index].1 = value
        } else {
            pairs.append((key, value))
        }
    }

    /// Top-level keys of `other` replace ours (no deep merge), as Ansible's combine_vars.
    public mutating func merge(_ other: InventoryVariables) {
        for (key, value) in other.pairs { set(key, value) }
    }

    public mutating func remove(_ key: String) {
        pairs.removeAll { $0.0 == key }
    }
}
