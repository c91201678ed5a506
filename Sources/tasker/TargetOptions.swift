import ArgumentParser
import Fleet
import AnsibleInventory

/// Which hosts a fleet command reaches: `-H`, `--hosts-file`, or `-i` with a pattern.
struct TargetOptions: ParsableArguments {
    @Option(name: .customShort("H"), help: ArgumentHelp("Targets, comma-separated [user@]host[:port] (repeatable).", valueName: "hosts"))
    var hosts: [String] = []

    @Option(name: .long, help: ArgumentHelp("File with one target per line (# comments).", valueName: "file"))
    var hostsFile: [String] = []

    @OptionGroup var inventory: InventoryOptions

    @Flag(name: .long, help: "With -i, an inventory pattern that matches no hosts is not an error.")
    var allowEmpty = false

    @OptionGroup var shard: ShardOptions

    @Option(name: .long, help: ArgumentHelp("After the run, write the hosts that did not succeed to FILE, one per line (rerun them with --limit @FILE).", valueName: "file"))
    var retryFile: String?

    /// Checks that targets were given, and a pattern exactly when an inventory was.
    func validate(pattern: String?) throws {
        if hosts.isEmpty, hostsFile.isEmpty, inventory.inventories.isEmpty {
            throw ValidationError("no targets: use -H host1,host2, --hosts-file FILE or -i INVENTORY PATTERN")
        }
        if !inventory.inventories.isEmpty, pattern == nil { throw ValidationError("-i needs a host pattern, e.g. 'all' or 'web:&eu'") }
        if inventory.inventories.isEmpty, let pattern { throw ValidationError("unexpected argument '\(pattern)' (a host pattern needs -i)") }
        if inventory.inventories.isEmpty, inventory.limit != nil { throw ValidationError("--limit needs -i") }
    }

    /// The targets' connection settings, in the order given; nil when an inventory
    /// pattern selected no host and `--allow-empty` says that is fine.
    func resolve(pattern: String?, resolver: ConnectionResolver) throws -> [ConnectionSpec]? {
        let specs: [ConnectionSpec]
        do {
            var targets: [HostTarget] = []
            for list in hosts { targets += try HostTarget.parseList(list) }
            for file in hostsFile { targets += try HostTarget.parseFile(file) }
            var seen: Set<HostTarget> = []
            targets = targets.filter { seen.insert($0).inserted }
            var resolved = try targets.map { try resolver.resolve($0) }
            if let pattern, !inventory.inventories.isEmpty {
                let loaded = try inventory.load()
                let selected = try inventory.select(pattern, in: loaded)
                let (inventorySpecs, warnings) = try InventoryTargets(inventory: loaded).specs(for: selected, resolver: resolver)
                for warning in warnings { ConsoleWriter.shared.write("tasker: warning: \(warning)\n", to: .stderr) }
                resolved += inventorySpecs
            }
            if let shard = try self.shard.resolved() {
                let all = resolved.count
                resolved = resolved.filter { shard.contains($0.name) }
                if resolved.isEmpty, all > 0 {
                    ConsoleWriter.shared.write("tasker: shard \(shard) holds none of the \(all) targets\n", to: .stderr)
                    return nil
                }
            }
            specs = resolved
        } catch let error as FleetError {
            throw UsageError(error.description)
        } catch let error as InventoryError {
            throw UsageError(error.description)
        }
        if specs.isEmpty {
            if allowEmpty { return nil }
            throw UsageError("pattern '\(pattern ?? "")' and --limit leave no hosts to target (use --allow-empty to accept that)")
        }
        return specs
    }
}
