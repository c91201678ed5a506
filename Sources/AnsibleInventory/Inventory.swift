/// Hosts, groups and variables read from one or more inventory sources, with
/// Ansible's membership, ordering and variable-precedence rules.
public struct Inventory: Sendable {
    public struct Group: Sendable {
        public let name: String
        /// Direct member hosts, in insertion order.
        public internal(set) var hosts: [String] = []
        /// The same hosts by their index in `hostOrder`: set operations on
        /// hosts work on these, without hashing names.
        var hostIndices: [Int] = []
        var hostSet: Set<Int> = []

        /// Adds the host at `index` in `hostOrder`, once.
        mutating func add(_ host: String, index: Int) {
            if hostSet.insert(index).inserted {
                hosts.append(host)
                hostIndices.append(index)
            }
        }
        public internal(set) var children: [String] = []
        public internal(set) var parents: [String] = []
        public internal(set) var variables = InventoryVariables()
        /// `ansible_group_priority`: breaks ties between groups of equal depth.
        public internal(set) var priority = 1
    }

    public struct Host: Sendable {
        public let name: String
        /// Where the host is in `hostOrder`.
        let index: Int
        public internal(set) var variables = InventoryVariables()
        /// Groups the host was added to directly.
        public internal(set) var groups: [String] = []

        /// Adds `group`; returns the host's index.
        mutating func addGroup(_ group: String) -> Int {
            if !groups.contains(group) { groups.append(group) }
            return index
        }
    }

    public private(set) var groups: [String: Group] = [:]
    /// Group names in creation order.
    public private(set) var groupOrder: [String] = []
    public private(set) var hosts: [String: Host] = [:]
    public private(set) var hostOrder: [String] = []
    /// Variables from `group_vars/` and `host_vars/` beside the sources, by group or host name.
    public private(set) var groupFileVariables: [String: InventoryVariables] = [:]
    public private(set) var hostFileVariables: [String: InventoryVariables] = [:]
    /// The vault password the inventory was loaded with, for `!vault` values read later.
    public internal(set) var vaultPassword: [UInt8]?
    /// The file each `!vault` value was read from, by its envelope (each one is
    /// unique: a fresh salt), so an error about it can name the file.
    private(set) var vaultValueFiles: [String: String] = [:]

    public init() {
        addGroup("all")
        addGroup("ungrouped")
        try? addChild("ungrouped", to: "all")
    }

    // MARK: Building

    mutating func addGroup(_ name: String) {
        guard groups[name] == nil else { return }
        groups[name] = Group(name: name)
        groupOrder.append(name)
    }

    mutating func addHost(_ name: String, to group: String) {
        addGroup(group)
        groups[group]!.add(name, index: hostIndex(name, joining: group))
    }

    /// Records that host `name` (new or known) joins `group`; returns its index in `hostOrder`.
    private mutating func hostIndex(_ name: String, joining group: String) -> Int {
        // One lookup of the name: hashing a long non-ASCII name is not cheap.
        let next = hostOrder.count
        let index = hosts[name, default: Host(name: name, index: next)].addGroup(group)
        if index == next { hostOrder.append(name) }
        return index
    }

    /// Adds the hosts of a range to `group`: as `addHost` for each, with room made
    /// at once and the group looked up once.
    mutating func addHosts(_ names: [String], to group: String) {
        addGroup(group)
        // Grown at least twofold: reserving exactly, line after line, would copy everything each time.
        func room(_ needed: Int, _ capacity: Int) -> Int? { needed > capacity ? max(needed, capacity * 2) : nil }
        if let size = room(hosts.count + names.count, hosts.capacity) { hosts.reserveCapacity(size) }
        if let size = room(hostOrder.count + names.count, hostOrder.capacity) { hostOrder.reserveCapacity(size) }
        var members = groups.removeValue(forKey: group)!
        if let size = room(members.hosts.count + names.count, members.hosts.capacity) {
            members.hosts.reserveCapacity(size)
            members.hostIndices.reserveCapacity(size)
        }
        if let size = room(members.hostSet.count + names.count, members.hostSet.capacity) { members.hostSet.reserveCapacity(size) }
        for name in names { members.add(name, index: hostIndex(name, joining: group)) }
        groups[group] = members
    }

    mutating func addChild(_ child: String, to parent: String) throws {
        addGroup(parent)
        addGroup(child)
        if child == parent || descendants(of: child).contains(parent) {
            throw InventoryError.message("adding group '\(child)' as a child of '\(parent)' creates a recursive dependency loop (a group cannot be its own ancestor)")
        }
        if !groups[parent]!.children.contains(child) { groups[parent]!.children.append(child) }
        if !groups[child]!.parents.contains(parent) { groups[child]!.parents.append(parent) }
    }

    mutating func setGroupVariable(_ group: String, _ key: String, _ value: InventoryValue) {
        addGroup(group)
        if key == "ansible_group_priority", case .int(let priority) = value {
            groups[group]!.priority = priority
            return
        }
        groups[group]!.variables.set(key, value)
    }

    mutating func setHostVariable(_ host: String, _ key: String, _ value: InventoryValue) {
        hosts[host]?.variables.set(key, value)
    }

    /// Adds what a `group_vars/` file holds for `group` on top of what earlier files gave it.
    mutating func addGroupFileVariables(_ group: String, _ variables: InventoryVariables) {
        groupFileVariables[group, default: InventoryVariables()].merge(variables)
    }

    mutating func addHostFileVariables(_ host: String, _ variables: InventoryVariables) {
        hostFileVariables[host, default: InventoryVariables()].merge(variables)
    }

    /// Ansible's `reconcile_inventory`: parentless groups join `all`; a host in
    /// no group but `all` joins `ungrouped`; a host in a real group leaves `ungrouped`.
    mutating func reconcile() {
        for name in groupOrder where name != "all" && groups[name]!.parents.isEmpty {
            try? addChild(name, to: "all")
        }
        // Whether a group, with its ancestors, lies in `ungrouped`, and in a real group.
        var reach: [String: (ungrouped: Bool, real: Bool)] = [:]
        for name in groupOrder {
            let closure = [name] + ancestors(of: name)
            reach[name] = (closure.contains("ungrouped"), closure.contains { $0 != "all" && $0 != "ungrouped" })
        }
        var leaving: Set<Int> = []
        var joining: [Int] = []
        for host in hosts.values {
            var inUngrouped = false
            var inReal = false
            for group in host.groups {
                let (ungrouped, real) = reach[group]!
                inUngrouped = inUngrouped || ungrouped
                inReal = inReal || real
            }
            if inUngrouped, inReal {
                leaving.insert(host.index)
            } else if !inUngrouped, !inReal {
                joining.append(host.index)
            }
        }
        for index in joining.sorted() { addHost(hostOrder[index], to: "ungrouped") }
        for index in leaving { hosts[hostOrder[index]]!.groups.removeAll { $0 == "ungrouped" } }
        if !leaving.isEmpty {
            groups["ungrouped"]!.hosts.removeAll { leaving.contains(hosts[$0]!.index) }
            groups["ungrouped"]!.hostIndices.removeAll(where: leaving.contains)
            groups["ungrouped"]!.hostSet.subtract(leaving)
        }
    }

    // MARK: Queries

    /// The group and its descendants, breadth-first in insertion order.
    public func descendants(of group: String, includingSelf: Bool = false) -> [String] {
        var ordered: [String] = includingSelf ? [group] : []
        var seen: Set<String> = [group]
        var queue = [group]
        while !queue.isEmpty {
            let current = queue.removeFirst()
            for child in groups[current]?.children ?? [] where !seen.contains(child) {
                seen.insert(child)
                ordered.append(child)
                queue.append(child)
            }
        }
        return ordered
    }

    /// Hosts of a group: its own, then its descendants' (breadth-first), without duplicates.
    public func hosts(ofGroup group: String) -> [String] {
        hostIndices(ofGroup: group).map { hostOrder[$0] }
    }

    /// `hosts(ofGroup:)` as indices in `hostOrder`.
    func hostIndices(ofGroup group: String) -> [Int] {
        let contributing = descendants(of: group, includingSelf: true).compactMap { groups[$0]?.hostIndices }.filter { !$0.isEmpty }
        // One group's own hosts are distinct already.
        if contributing.count <= 1 { return contributing.first ?? [] }
        var seen = [Bool](repeating: false, count: hostOrder.count)
        var result: [Int] = []
        for indices in contributing {
            for index in indices where !seen[index] {
                seen[index] = true
                result.append(index)
            }
        }
        return result
    }

    public func ancestors(of group: String) -> [String] {
        var result: [String] = []
        var queue = groups[group]?.parents ?? []
        var seen: Set<String> = []
        while !queue.isEmpty {
            let parent = queue.removeFirst()
            guard seen.insert(parent).inserted else { continue }
            result.append(parent)
            queue += groups[parent]?.parents ?? []
        }
        return result
    }

    public func groupsIncludingAncestors(ofHost host: String) -> [String] {
        var result: [String] = []
        for group in hosts[host]?.groups ?? [] {
            for name in [group] + ancestors(of: group) where !result.contains(name) {
                result.append(name)
            }
        }
        return result
    }

    /// Longest path from `all` (all = 0, a parentless group = 1).
    public func depth(of group: String) -> Int {
        var memo: [String: Int] = [:]
        return depth(of: group, memo: &memo)
    }

    private func depth(of group: String, memo: inout [String: Int]) -> Int {
        if group == "all" { return 0 }
        if let known = memo[group] { return known }
        let parents = groups[group]?.parents ?? []
        let value = parents.isEmpty ? 1 : parents.map { depth(of: $0, memo: &memo) + 1 }.max()!
        memo[group] = value
        return value
    }

    /// A host's effective variables, in Ansible's precedence (VariableManager with
    /// the default VARIABLE_PRECEDENCE): the inventory's `all` and group variables
    /// by (depth, priority, name); `group_vars/all`; the other `group_vars` in the
    /// same group order; the inventory's host variables; `host_vars`.
    public func variables(forHost host: String) -> InventoryVariables {
        var memo: [String: Int] = [:]
        var names = groupsIncludingAncestors(ofHost: host)
        if !names.contains("all") { names.append("all") }
        let ordered = names.map { name in (name, depth(of: name, memo: &memo), groups[name]?.priority ?? 1) }
            .sorted { ($0.1, $0.2, $0.0) < ($1.1, $1.2, $1.0) }
            .map(\.0)
        var merged = InventoryVariables()
        for name in ordered {
            if let variables = groups[name]?.variables { merged.merge(variables) }
        }
        if let all = groupFileVariables["all"] { merged.merge(all) }
        for name in ordered where name != "all" {
            if let variables = groupFileVariables[name] { merged.merge(variables) }
        }
        if let own = hosts[host]?.variables { merged.merge(own) }
        if let own = hostFileVariables[host] { merged.merge(own) }
        return merged
    }
}

extension Inventory {
    /// `value` as text, decrypting a `!vault` value with the inventory's vault password.
    public func text(of value: InventoryValue, variable: String, host: String) throws -> String? {
        guard let envelope = value.vaultEnvelope else { return value.scalarText }
        let origin = vaultValueFiles[envelope].map { " (from \($0))" } ?? ""
        guard let vaultPassword else {
            throw InventoryError.message("host \(host): \(variable)\(origin) is vault-encrypted: give --vault-password-file or --ask-vault-pass")
        }
        do {
            return String(decoding: try AnsibleVault.decrypt(envelope, password: vaultPassword), as: UTF8.self)
        } catch {
            throw InventoryError.message("host \(host): \(variable)\(origin): \(error)")
        }
    }

    /// Remembers which file the `!vault` values among `variables` came from.
    mutating func recordVaultValues(in variables: InventoryVariables, file: String) {
        func visit(_ value: InventoryValue) {
            if let envelope = value.vaultEnvelope {
                if vaultValueFiles[envelope] == nil { vaultValueFiles[envelope] = file }
                return
            }
            switch value {
            case .list(let items): items.forEach(visit)
            case .dict(let pairs): pairs.forEach { visit($0.1) }
            default: break
            }
        }
        variables.pairs.forEach { visit($0.1) }
    }
}
