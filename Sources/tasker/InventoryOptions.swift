import ArgumentParser
import Foundation
import Fleet
import SSH
import AnsibleInventory

/// `-i` and `--limit`, shared by the commands that read inventories.
struct InventoryOptions: ParsableArguments {
    @Option(name: [.customShort("i"), .customLong("inventory")], help: ArgumentHelp("Inventory: INI or YAML file, directory, or 'host1,host2,' (repeatable).", valueName: "inventory"))
    var inventories: [String] = []

    @Option(name: .long, help: ArgumentHelp("Further narrow the selected hosts (pattern, or @file).", valueName: "pattern"))
    var limit: String?

    @Option(name: .long, help: ArgumentHelp("Seconds an executable inventory (a script) may take per run (default 60).", valueName: "seconds"))
    var inventoryTimeout: Double?

    @Option(name: .long, help: ArgumentHelp("Ansible Vault password: a file holding it, or a program printing it.", valueName: "file"))
    var vaultPasswordFile: String?

    @Flag(name: .long, help: "Ask for the Ansible Vault password (terminal or SSH_ASKPASS).")
    var askVaultPass = false

    func validate() throws {
        if let inventoryTimeout, !(inventoryTimeout > 0) { throw ValidationError("--inventory-timeout must be positive") }
        if askVaultPass, vaultPasswordFile != nil { throw ValidationError("--ask-vault-pass and --vault-password-file cannot be used together") }
    }

    /// Loads every inventory; prints Ansible-style warnings to stderr.
    /// Without `variableFiles`, `group_vars/` and `host_vars/` are not read (a host listing needs none).
    func load(variableFiles: Bool = true) throws -> Inventory {
        do {
            let loaded = try InventoryLoader.load(inventories, scriptTimeout: inventoryTimeout ?? InventoryLoader.defaultScriptTimeout,
                                                  vaultPassword: try vaultPassword(), variableFiles: variableFiles)
            for warning in loaded.warnings { ConsoleWriter.shared.write("tasker: warning: \(warning)\n", to: .stderr) }
            return loaded.inventory
        } catch let error as InventoryError {
            throw UsageError("inventory \(error)")
        }
    }

    func select(_ pattern: String, in inventory: Inventory) throws -> [String] {
        do {
            let selection = try HostPatternMatcher(inventory: inventory).select(pattern, limit: limit)
            for warning in selection.warnings { ConsoleWriter.shared.write("tasker: warning: \(warning)\n", to: .stderr) }
            return selection.hosts
        } catch let error as InventoryError {
            throw UsageError("\(error)")
        }
    }

    /// The vault password, as Ansible reads it: a file's contents or a program's
    /// output, surrounding whitespace removed; or asked once.
    private func vaultPassword() throws -> [UInt8]? {
        if askVaultPass {
            guard let answer = SecretPrompt().askNow("Vault password: ") else { throw UsageError("no vault password was given") }
            return answer
        }
        guard let path = vaultPasswordFile else { return nil }
        let raw: Data
        if FileManager.default.isExecutableFile(atPath: path) {
            do { raw = try InventoryScript.run(path, [], timeout: inventoryTimeout ?? InventoryLoader.defaultScriptTimeout) } catch {
                throw UsageError("vault password program \(error)")
            }
        } else {
            guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("cannot read vault password file \(path)") }
            raw = data
        }
        let password = Array(String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        guard !password.isEmpty else { throw UsageError("vault password file \(path) is empty") }
        return password
    }
}
