/// What `tasker inventory` prints: `--list` in the shape of
/// `ansible-inventory --list`, `--graph`, and one host's variables.
public enum InventoryReport {
    /// Groups reachable from `all` with their direct hosts and children (empty
    /// lists and empty groups left out) and `_meta.hostvars` with merged variables.
    public static func list(_ inventory: Inventory) -> String {
        var top: [(String, InventoryValue)] = []
        var seen: Set<String> = []
        let available = Set(inventory.hosts(ofGroup: "all"))

        func format(_ name: String) {
            guard let group = inventory.groups[name] else { return }
            var entry: [(String, InventoryValue)] = []
            if name != "all" {
                let hosts = group.hosts.filter(available.contains)
                if !hosts.isEmpty { entry.append(("hosts", .list(hosts.map(InventoryValue.string)))) }
            }
            if !group.children.isEmpty { entry.append(("children", .list(group.children.map(InventoryValue.string)))) }
            if !entry.isEmpty { top.append((name, .dict(entry))) }
            for child in group.children where seen.insert(child).inserted {
                format(child)
            }
        }
        seen.insert("all")
        format("all")

        var hostvars: [(String, InventoryValue)] = []
        for host in inventory.hosts(ofGroup: "all") {
            let variables = inventory.variables(forHost: host)
            if !variables.isEmpty { hostvars.append((host, .dict(variables.pairs))) }
        }
        top.append(("_meta", .dict([("hostvars", .dict(hostvars)), ("profile", .string("inventory_legacy"))])))
        return InventoryValue.dict(top).json(indent: 4)
    }

    /// The tree `ansible-inventory --graph` prints: child groups first, then hosts.
    /// `ansible-inventory --graph`'s tree. With `hostsPerGroup`, a group lists at
    /// most that many of its hosts and then how many more it has (for large inventories).
    public static func graph(_ inventory: Inventory, group: String = "all", hostsPerGroup: Int? = nil) -> String {
        var lines: [String] = []
        func name(_ text: String, _ depth: Int) -> String {
            depth == 0 ? text : String(repeating: "  |", count: depth) + "--" + text
        }
        func walk(_ group: String, _ depth: Int) {
            lines.append(name("@\(group):", depth))
            guard let entry = inventory.groups[group] else { return }
            for child in entry.children { walk(child, depth + 1) }
            if group != "all" {
                let shown = hostsPerGroup.map { min($0, entry.hosts.count) } ?? entry.hosts.count
                for host in entry.hosts.prefix(shown) { lines.append(name(host, depth + 1)) }
                if shown < entry.hosts.count { lines.append(name("… \(entry.hosts.count - shown) more hosts", depth + 1)) }
            }
        }
        walk(group, 0)
        return lines.joined(separator: "\n")
    }

    /// One host's merged variables as JSON.
    public static func host(_ inventory: Inventory, _ name: String) throws -> String {
        guard inventory.hosts[name] != nil else { throw InventoryError.message("you must pass a single valid host to --host parameter: \(name) is not in the inventory") }
        return InventoryValue.dict(inventory.variables(forHost: name).pairs).json(indent: 4)
    }
}
