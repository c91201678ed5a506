import SSH
import AnsibleInventory

/// Turns the hosts an inventory pattern selects into connection specs, with
/// the Ansible connection variables Tasker honours.
public struct InventoryTargets: Sendable {
    public let inventory: Inventory

    public init(inventory: Inventory) {
        self.inventory = inventory
    }

    /// Variables of capabilities Tasker does not have yet; using them gets one warning per run.
    static let unsupportedVariables = ["ansible_become_exe", "ansible_become_flags"]

    /// Variables holding extra `ssh` arguments.
    static let sshArgumentVariables = ["ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args"]

    /// The connection variables of `host`, with Ansible's legacy `ansible_ssh_*` spellings,
    /// and what about them is ignored (said without the host, so one line can cover many).
    public func connectionVariables(for host: String) throws -> (InventoryConnectionVariables, ConnectionTransport, [String]) {
        let variables = inventory.variables(forHost: host)
        // Ansible reads a setting's aliases in order and keeps the last one set.
        func text(_ keys: String...) throws -> String? {
            for key in keys.reversed() {
                if let value = variables[key], let text = try inventory.text(of: value, variable: key, host: host) { return text }
            }
            return nil
        }
        var result = InventoryConnectionVariables()
        var problems: [String] = []
        result.address = try text("ansible_host", "ansible_ssh_host")
        result.user = try text("ansible_user", "ansible_ssh_user")
        result.password = try text("ansible_password", "ansible_ssh_pass", "ansible_ssh_password")
        if let key = try text("ansible_private_key_file", "ansible_ssh_private_key_file") { result.identityFiles.append(key) }
        if let port = try text("ansible_port", "ansible_ssh_port") {
            guard let number = Int(port), (1...65535).contains(number) else {
                throw InventoryError.message("host \(host): ansible_port '\(port)' is not a port number")
            }
            result.port = number
        }
        func boolean(_ key: String) -> Bool? {
            switch variables[key] {
            case nil: return nil
            case .bool(let on)?: return on
            case .string(let text)? where ["true", "yes", "1", "on"].contains(text.lowercased()): return true
            case .string(let text)? where ["false", "no", "0", "off"].contains(text.lowercased()): return false
            default:
                problems.append("\(key) is not a boolean and is ignored")
                return nil
            }
        }
        if let checking = boolean("ansible_ssh_host_key_checking") ?? boolean("ansible_host_key_checking") {
            result.hostKeyPolicy = checking ? .strict : .off
        }
        result.become.enabled = boolean("ansible_become")
        result.become.user = try text("ansible_become_user")
        if let method = try text("ansible_become_method") {
            guard let known = Become.Method(rawValue: method.lowercased().replacingOccurrences(of: "ansible.builtin.", with: "")) else {
                throw InventoryError.message("host \(host): ansible_become_method '\(method)' is not supported (sudo, su or doas)")
            }
            result.become.method = known
        }
        result.become.password = try text("ansible_become_password", "ansible_become_pass").map(Secret.init)
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
            problems.append("\(key) is ignored: Tasker runs sudo, su or doas by name with its own flags")
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
