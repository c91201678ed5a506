import ArgumentParser
import Fleet

/// `-i` and `--limit`, shared by the commands that read inventories.
struct InventoryOptions: ParsableArguments {
    @Option(name: [.customShort("i"), .customLong("inventory")], help: ArgumentHelp("Inventory: INI or YAML file, directory, or 'host1,host2,' (repeatable).", valueName: "inventory"))
    var inventories: [String] = []

    @Option(name: .long, help: ArgumentHelp("Further narrow the selected hosts (pattern, or @file).", valueName: "pattern"))
    var limit: String?

    @Option(name: .long, help: ArgumentHelp("Seconds an executable inventory (a script) may take per run (default 60).", valueName: "seconds"))
    var inventoryTimeout: Double?

    func validate() throws {
        if let inventoryTimeout, !(inventoryTimeout > 0) { throw ValidationError("--inventory-timeout must be positive") }
    }

    /// Loads every inventory; prints Ansible-style warnings to stderr.
    func load() throws -> Inventory {
        do {
            let loaded = try InventoryLoader.load(inventories, scriptTimeout: inventoryTimeout ?? InventoryLoader.defaultScriptTimeout)
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
}
