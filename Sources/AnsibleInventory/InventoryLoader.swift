import Foundation

/// Loads inventory sources as `-i` names them: a file (YAML or INI, as
/// Ansible's plugins decide), a directory (every inventory file in it), or an
/// inline host list with a comma (`host1,host2,`). Unlike Ansible, which
/// warns and drops a source it cannot parse, any broken source is an error:
/// nothing runs against a half-read inventory.
public enum InventoryLoader {
    public struct Result: Sendable {
        public var inventory: Inventory
        public var warnings: [String]
    }

    /// Extensions Ansible ignores when reading a directory.
    static let ignoredExtensions = [".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry"]
    static let yamlExtensions = [".yml", ".yaml", ".json"]

    /// Seconds each run of an executable inventory source may take, unless told otherwise.
    public static let defaultScriptTimeout: Double = 60

    /// `scriptTimeout` bounds each run of an executable inventory source.
    /// `vaultPassword` decrypts vault-encrypted files and `!vault` values.
    /// Without `variableFiles`, `group_vars/` and `host_vars/` are not read
    /// (hosts and groups alone, for listing the hosts a pattern selects).
    public static func load(_ sources: [String], scriptTimeout: Double = defaultScriptTimeout,
                            vaultPassword: [UInt8]? = nil, variableFiles: Bool = true) throws -> Result {
        var inventory = Inventory()
        inventory.vaultPassword = vaultPassword
        var warnings: [String] = []
        for source in sources {
            try load(source, scriptTimeout: scriptTimeout, into: &inventory, warnings: &warnings)
        }
        inventory.reconcile()
        for name in inventory.hostOrder where inventory.groups[name] != nil {
            warnings.append("found both group and host with same name: \(name)")
        }
        // group_vars/ and host_vars/ beside each source, after every source is read
        // (a source's variable files apply to groups and hosts of any source).
        var seen: Set<String> = []
        for source in sources where variableFiles {
            guard let directory = variablesDirectory(of: source), seen.insert(directory).inserted else { continue }
            try InventoryVariableFiles.load(beside: directory, into: &inventory)
        }
        return Result(inventory: inventory, warnings: warnings)
    }

    /// Where a source's `group_vars`/`host_vars` are: the directory itself, or the
    /// directory holding the file (real paths, as Ansible resolves them); none for a host list.
    private static func variablesDirectory(of source: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else { return nil }
        let directory = isDirectory.boolValue ? source : (source as NSString).deletingLastPathComponent
        return URL(fileURLWithPath: directory.isEmpty ? "." : directory).resolvingSymlinksInPath().path
    }

    private static func load(_ source: String, scriptTimeout: Double, into inventory: inout Inventory, warnings: inout [String]) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                try loadDirectory(source, scriptTimeout: scriptTimeout, into: &inventory, warnings: &warnings)
            } else {
                try loadFile(source, scriptTimeout: scriptTimeout, into: &inventory, warnings: &warnings)
            }
        } else if source.contains(",") {
            try loadInlineList(source, into: &inventory)
        } else {
            throw InventoryError.located(file: source, line: nil, message: "inventory source not found")
        }
    }

    private static func loadDirectory(_ path: String, scriptTimeout: Double, into inventory: inout Inventory, warnings: inout [String]) throws {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path).sorted() } catch {
            throw InventoryError.located(file: path, line: nil, message: "cannot read directory")
        }
        for name in names where !name.hasPrefix(".") && !ignoredExtensions.contains(where: name.hasSuffix) {
            let full = (path as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), isDirectory.boolValue {
                // Variable directories are not inventories.
                if name == "group_vars" || name == "host_vars" { continue }
                try loadDirectory(full, scriptTimeout: scriptTimeout, into: &inventory, warnings: &warnings)
            } else {
                try loadFile(full, scriptTimeout: scriptTimeout, into: &inventory, warnings: &warnings)
            }
        }
    }

    /// Reads `text` as the inventory file `name` would be read (tests, fuzzing),
    /// refusing more than `maximumHosts` hosts (the fuzzer keeps each input fast with a lower cap).
    public static func parse(_ text: String, named name: String,
                             maximumHosts: Int = HostRange.maximumHostsPerSource) throws -> Result {
        var inventory = Inventory()
        var warnings: [String] = []
        try parse(text, path: name, maximumHosts: maximumHosts, into: &inventory, warnings: &warnings)
        inventory.reconcile()
        return Result(inventory: inventory, warnings: warnings)
    }

    private static func loadFile(_ path: String, scriptTimeout: Double, into inventory: inout Inventory, warnings: inout [String]) throws {
        if InventoryScript.isScript(path) {
            try InventoryScript.load(path, timeout: scriptTimeout, into: &inventory)
            return
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InventoryError.located(file: path, line: nil, message: "cannot read file")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            throw InventoryError.located(file: path, line: nil, message: "file is not UTF-8 text")
        }
        if AnsibleVault.isEncrypted(text) { text = try decryptFile(text, path: path, password: inventory.vaultPassword) }
        try parse(text, path: path, into: &inventory, warnings: &warnings)
    }

    /// YAML first for `.yml`/`.yaml`/`.json` or extension-less files, INI otherwise
    /// or when YAML fails, as Ansible's plugin order does.
    private static func parse(_ text: String, path: String, maximumHosts: Int = HostRange.maximumHostsPerSource,
                              into inventory: inout Inventory, warnings: inout [String]) throws {
        let name = (path as NSString).lastPathComponent
        if name.hasSuffix(".toml") {
            throw InventoryError.located(file: path, line: nil, message: "TOML inventories are not supported; use INI or YAML")
        }
        // The JSON an inventory script prints (or `ansible-inventory --list`), kept in a file.
        if text.first(where: { !$0.isWhitespace }) == "{",
           let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
           JSONInventoryReader.looksLikeScriptOutput(object) {
            _ = try JSONInventoryReader(path: path).read(object, into: &inventory)
            return
        }
        let hasExtension = name.dropFirst().contains(".")
        let yamlCandidate = !hasExtension || yamlExtensions.contains(where: name.hasSuffix)
        var yamlError: InventoryError?
        if yamlCandidate {
            var attempt = inventory
            do {
                let yamlWarnings = try YAMLInventoryParser(path: path, maximumHosts: maximumHosts).parse(text, into: &attempt)
                if text.contains("!vault") {
                    for group in attempt.groups.values { attempt.recordVaultValues(in: group.variables, file: path) }
                    for host in attempt.hosts.values { attempt.recordVaultValues(in: host.variables, file: path) }
                }
                inventory = attempt
                warnings += yamlWarnings
                return
            } catch let error as InventoryError {
                yamlError = error
            }
        }
        var attempt = inventory
        do {
            try INIInventoryParser(path: path, maximumHosts: maximumHosts).parse(text, into: &attempt)
            inventory = attempt
        } catch let iniError as InventoryError {
            if let yamlError, yamlExtensions.contains(where: name.hasSuffix) || looksLikeYAML(text) { throw yamlError }
            throw iniError
        }
    }

    /// A whole vault-encrypted file (an inventory or a variables file), decrypted.
    static func decryptFile(_ text: String, path: String, password: [UInt8]?) throws -> String {
        guard let password else {
            throw InventoryError.located(file: path, line: 1, message: "vault-encrypted: give --vault-password-file or --ask-vault-pass")
        }
        do {
            return String(decoding: try AnsibleVault.decrypt(text, password: password), as: UTF8.self)
        } catch {
            throw InventoryError.located(file: path, line: 1, message: "\(error)")
        }
    }

    private static func looksLikeYAML(_ text: String) -> Bool {
        let first = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty && !$0.hasPrefix("#") }
        return first.map { $0 == "---" || $0.hasSuffix(":") } ?? false
    }

    /// `host1,host2:2222,` — Ansible's host_list plugin; hosts join `ungrouped`.
    private static func loadInlineList(_ list: String, into inventory: inout Inventory) throws {
        for item in list.split(separator: ",") {
            let entry = item.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty { continue }
            var host = entry
            var port: Int?
            if let split = INIInventoryParser.splitPort(entry) {
                host = split.host
                port = split.port
            }
            inventory.addHost(host, to: "ungrouped")
            if let port { inventory.setHostVariable(host, "ansible_port", .int(port)) }
        }
    }
}
