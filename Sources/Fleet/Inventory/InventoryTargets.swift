/// Turns the hosts an inventory pattern selects into connection specs, with
/// the Ansible connection variables Tasker honours.
public struct InventoryTargets: Sendable {
    public let inventory: Inventory

    public init(inventory: Inventory) {
        self.inventory = inventory
    }

    /// Variables of capabilities Tasker does not have yet; using them gets one warning per run.
    static let unsupportedVariables = ["ansible_become", "ansible_become_user", "ansible_become_method",
                                       "ansible_become_password", "ansible_become_pass", "ansible_become_exe",
                                       "ansible_become_flags"]

    /// Variables holding extra `ssh` arguments.
    static let sshArgumentVariables = ["ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args"]

    /// The connection variables of `host`, with Ansible's legacy `ansible_ssh_*` spellings,
    /// and what about them is ignored (said without the host, so one line can cover many).
    public func connectionVariables(for host: String) throws -> (InventoryConnectionVariables, ConnectionTransport, [String]) {
        let variables = inventory.variables(forHost: host)
        func text(_ keys: String...) throws -> String? {
            for key in keys {
                if let value = variables[key], let text = try inventory.text(of: value, variable: key, host: host) { return text }
            }
            return nil
        }
        var result = InventoryConnectionVariables()
        var problems: [String] = []
        result.address = try text("ansible_host", "ansible_ssh_host")
        result.user = try text("ansible_user", "ansible_ssh_user")
        result.password = try text("ansible_password", "ansible_ssh_pass", "ansible_ssh_password")
        if let key = try text("ansible_ssh_private_key_file", "ansible_private_key_file") { result.identityFiles.append(key) }
        if let port = try text("ansible_port", "ansible_ssh_port") {
            guard let number = Int(port), (1...65535).contains(number) else {
                throw InventoryError.message("host \(host): ansible_port '\(port)' is not a port number")
            }
            result.port = number
        }
        if let checking = variables["ansible_ssh_host_key_checking"] ?? variables["ansible_host_key_checking"] {
            switch checking {
            case .bool(let on): result.hostKeyPolicy = on ? .strict : .off
            case .string(let text) where ["false", "no", "0", "off"].contains(text.lowercased()): result.hostKeyPolicy = .off
            case .string(let text) where ["true", "yes", "1", "on"].contains(text.lowercased()): result.hostKeyPolicy = .strict
            default: problems.append("ansible_host_key_checking is not a boolean and is ignored")
            }
        }
        // Ansible's ssh plugin puts ansible_port, ansible_user and the key before these
        // arguments, and ssh keeps the first value: the variables win.
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
            result.port = result.port ?? arguments.port
            result.user = result.user ?? arguments.user
            result.identityFiles += arguments.identityFiles
            if !arguments.ignored.isEmpty {
                problems.append("\(key): \(arguments.ignored.joined(separator: " ")) ignored by Tasker's built-in SSH")
            }
        }
        for key in Self.unsupportedVariables where variables[key] != nil {
            problems.append("\(key) is ignored: become (sudo/su/doas) is not built yet")
        }
        var transport = ConnectionTransport.ssh
        if let connection = try text("ansible_connection")?.lowercased() {
            switch connection {
            case "ssh", "smart", "paramiko", "paramiko_ssh", "ansible.builtin.ssh": break
            case "local", "ansible.builtin.local": transport = .local
            default: transport = .unsupported(connection)
            }
        }
        return (result, transport, problems)
    }

    /// Connection specs for `hosts`: ssh_config is matched against `ansible_host`
    /// when set (as `ssh` would be called with it), results are reported under the
    /// inventory name. Each distinct problem is reported once, with the hosts it concerns.
    public func specs(for hosts: [String], resolver: ConnectionResolver) throws -> (specs: [ConnectionSpec], warnings: [String]) {
        var specs: [ConnectionSpec] = []
        var problems: [(problem: String, hosts: [String])] = []
        for host in hosts {
            var (variables, transport, hostProblems) = try connectionVariables(for: host)
            for problem in hostProblems {
                if let index = problems.firstIndex(where: { $0.problem == problem }) {
                    problems[index].hosts.append(host)
                } else {
                    problems.append((problem, [host]))
                }
            }
            let target = HostTarget(host: variables.address ?? host)
            variables.address = nil
            var spec = try resolver.resolve(target, inventory: variables, name: host)
            spec.transport = transport
            specs.append(spec)
        }
        let warnings = problems.map { problem, hosts in
            let shown = hosts.prefix(3).joined(separator: ", ") + (hosts.count > 3 ? ", …" : "")
            return "\(hosts.count == 1 ? "host" : "\(hosts.count) hosts") \(shown): \(problem)"
        }
        return (specs, warnings)
    }
}
