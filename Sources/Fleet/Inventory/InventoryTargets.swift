/// Turns the hosts an inventory pattern selects into connection specs, with
/// the Ansible connection variables Tasker honours.
public struct InventoryTargets: Sendable {
    public let inventory: Inventory

    public init(inventory: Inventory) {
        self.inventory = inventory
    }

    /// Variables that only matter to Ansible's other connection plugins or that
    /// Tasker cannot honour; using them gets a warning, not silence.
    static let ignoredVariables = ["ansible_password", "ansible_ssh_pass", "ansible_become"]

    /// Variables holding extra `ssh` arguments, of which Tasker honours the jump hosts.
    static let sshArgumentVariables = ["ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args"]

    /// The connection variables of `host`, with Ansible's legacy `ansible_ssh_*` spellings.
    public func connectionVariables(for host: String) throws -> (InventoryConnectionVariables, [String]) {
        let variables = inventory.variables(forHost: host)
        func text(_ keys: String...) -> String? {
            for key in keys { if let value = variables[key]?.scalarText { return value } }
            return nil
        }
        var result = InventoryConnectionVariables()
        result.address = text("ansible_host", "ansible_ssh_host")
        result.user = text("ansible_user", "ansible_ssh_user")
        result.identityFile = text("ansible_ssh_private_key_file", "ansible_private_key_file")
        if let port = text("ansible_port", "ansible_ssh_port") {
            guard let number = Int(port), (1...65535).contains(number) else {
                throw InventoryError.message("host \(host): ansible_port '\(port)' is not a port number")
            }
            result.port = number
        }
        var warnings: [String] = []
        for key in Self.sshArgumentVariables {
            guard let text = variables[key]?.scalarText else { continue }
            let arguments: InventorySSHArguments
            do { arguments = try InventorySSHArguments(parsing: text) } catch {
                throw InventoryError.message("host \(host): \(key): \(error)")
            }
            if result.jump == nil, result.proxyCommand == nil {
                result.jump = arguments.jump
                result.proxyCommand = arguments.proxyCommand
            }
            if !arguments.ignored.isEmpty {
                warnings.append("host \(host): \(key): \(arguments.ignored.joined(separator: " ")) ignored by Tasker's built-in SSH")
            }
        }
        for key in Self.ignoredVariables where variables[key] != nil {
            warnings.append("host \(host): \(key) is ignored by Tasker's built-in SSH")
        }
        if let connection = text("ansible_connection"), !["ssh", "smart", "paramiko"].contains(connection) {
            warnings.append("host \(host): ansible_connection=\(connection) is ignored; Tasker connects over SSH")
        }
        return (result, warnings)
    }

    /// Connection specs for `hosts`: ssh_config is matched against `ansible_host`
    /// when set (as `ssh` would be called with it), results are reported under the inventory name.
    public func specs(for hosts: [String], resolver: ConnectionResolver) throws -> (specs: [ConnectionSpec], warnings: [String]) {
        var specs: [ConnectionSpec] = []
        var warnings: [String] = []
        for host in hosts {
            var (variables, hostWarnings) = try connectionVariables(for: host)
            warnings += hostWarnings
            let target = HostTarget(host: variables.address ?? host)
            variables.address = nil
            specs.append(try resolver.resolve(target, inventory: variables, name: host))
        }
        return (specs, warnings)
    }
}
