import Foundation

/// Inventory JSON as Ansible's script plugin reads an inventory script's
/// `--list` output (also the shape `ansible-inventory --list` prints): each
/// key but `_meta` is a group, given as a list of hosts or as an object with
/// `hosts`, `vars` and `children`; `_meta.hostvars` holds each host's variables.
struct JSONInventoryReader {
    let path: String

    /// Whether `object` has the script shape: every value an object or a list, and no YAML-inventory `hosts` mapping.
    static func looksLikeScriptOutput(_ object: [String: Any]) -> Bool {
        guard !object.isEmpty else { return false }
        if object["_meta"] != nil { return true }
        return object.values.allSatisfy { value in
            if value is [Any] { return true }
            guard let group = value as? [String: Any] else { return false }
            return group["hosts"] == nil || group["hosts"] is [Any]
        }
    }

    /// Reads `object` into `inventory`; returns the hosts that need `--host` for their
    /// variables (no `_meta` given).
    func read(_ object: [String: Any], into inventory: inout Inventory) throws -> (needsHostVariables: Bool, hosts: [String]) {
        var hosts: [String] = []
        func addHost(_ host: Any, to group: String) throws {
            guard let name = host as? String else { throw fail("group \(group): host names must be strings") }
            inventory.addHost(name, to: group)
            if !hosts.contains(name) { hosts.append(name) }
        }
        for (group, value) in object.sorted(by: { $0.key < $1.key }) where group != "_meta" {
            inventory.addGroup(group)
            if let list = value as? [Any] {
                for host in list { try addHost(host, to: group) }
                continue
            }
            guard let body = value as? [String: Any] else { throw fail("group \(group) must be a list of hosts or an object") }
            for host in body["hosts"] as? [Any] ?? [] { try addHost(host, to: group) }
            if let variables = body["vars"] {
                guard let dictionary = variables as? [String: Any] else { throw fail("group \(group): vars must be an object") }
                for (key, raw) in dictionary.sorted(by: { $0.key < $1.key }) {
                    inventory.setGroupVariable(group, key, try Self.value(raw))
                }
            }
            for child in body["children"] as? [Any] ?? [] {
                guard let name = child as? String else { throw fail("group \(group): children must be group names") }
                inventory.addGroup(name)
                do { try inventory.addChild(name, to: group) } catch let error as InventoryError { throw fail(error.description) }
            }
        }
        guard let meta = object["_meta"] as? [String: Any] else { return (true, hosts) }
        for (host, raw) in (meta["hostvars"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            try setHostVariables(host, raw, into: &inventory)
        }
        return (false, hosts)
    }

    func setHostVariables(_ host: String, _ raw: Any, into inventory: inout Inventory) throws {
        guard let variables = raw as? [String: Any] else { throw fail("variables of host \(host) must be an object") }
        if inventory.hosts[host] == nil { inventory.addHost(host, to: "ungrouped") }
        for (key, value) in variables.sorted(by: { $0.key < $1.key }) {
            inventory.setHostVariable(host, key, try Self.value(value))
        }
    }

    private func fail(_ message: String) -> InventoryError {
        .located(file: path, line: nil, message: message)
    }

    static func value(_ raw: Any) throws -> InventoryValue {
        switch raw {
        case is NSNull: return .null
        case let number as NSNumber:
            // JSONSerialization's booleans are the char-typed NSNumbers; its floats are doubles.
            switch String(cString: number.objCType) {
            case "c": return .bool(number.boolValue)
            case "d", "f": return .float(number.doubleValue)
            default: return .int(number.intValue)
            }
        case let text as String: return .string(text)
        case let list as [Any]: return .list(try list.map(value))
        case let dictionary as [String: Any]:
            return .dict(try dictionary.sorted { $0.key < $1.key }.map { ($0.key, try value($0.value)) })
        default: return .string("\(raw)")
        }
    }
}
