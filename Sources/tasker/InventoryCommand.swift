import ArgumentParser
import Fleet
import Glibc
import AnsibleInventory

struct InventoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Show inventories as Ansible reads them.",
        discussion: """
        --list prints JSON in the shape of `ansible-inventory --list`; --graph a tree; --host one host's \
        merged variables; a bare PATTERN prints the hosts it selects, one per line.

        Examples:
          tasker inventory -i hosts.ini --graph
          tasker inventory -i hosts.ini 'webservers:&eu'
        """)

    @OptionGroup var inventory: InventoryOptions

    @Flag(name: .long, help: "All groups and hosts as JSON, like ansible-inventory --list.")
    var list = false

    @Flag(name: .long, help: "The group tree (from PATTERN's group, default all).")
    var graph = false

    @Option(name: .long, help: ArgumentHelp("With --graph, list at most N hosts per group, then how many more.", valueName: "n"))
    var hostsPerGroup: Int?

    @Option(name: .long, help: ArgumentHelp("Print one host's variables as JSON.", valueName: "name"))
    var host: String?

    @OptionGroup var shard: ShardOptions

    @Argument(help: "A host pattern (e.g. 'web:&eu', 'all:!db').")
    var pattern: String?

    func validate() throws {
        if inventory.inventories.isEmpty { throw ValidationError("give at least one inventory with -i") }
        let modes = [list, graph, host != nil].filter { $0 }.count
        if modes > 1 { throw ValidationError("choose one of --list, --graph and --host") }
        if modes == 0, pattern == nil { throw ValidationError("give --list, --graph, --host NAME or a host pattern") }
        if shard.shard != nil, list || graph || host != nil { throw ValidationError("--shard goes with a host pattern") }
        if let hostsPerGroup {
            guard graph else { throw ValidationError("--hosts-per-group goes with --graph") }
            if hostsPerGroup < 0 { throw ValidationError("--hosts-per-group must not be negative") }
        }
    }

    func run() throws {
        // Listing the hosts a pattern selects needs no variables.
        let loaded = try inventory.load(variableFiles: list || graph || host != nil)
        if list {
            ConsoleWriter.shared.write(InventoryReport.list(loaded) + "\n")
        } else if graph {
            let group = pattern ?? "all"
            guard loaded.groups[group] != nil else { throw UsageError("no group named '\(group)' in the inventory") }
            ConsoleWriter.shared.write(InventoryReport.graph(loaded, group: group, hostsPerGroup: hostsPerGroup) + "\n")
        } else if let host {
            do { ConsoleWriter.shared.write(try InventoryReport.host(loaded, host) + "\n") } catch { throw UsageError("\(error)") }
        } else if let pattern {
            let selected = try inventory.select(pattern, in: loaded)
            if selected.isEmpty { throw UsageError("pattern '\(pattern)' matches no hosts") }
            // With --shard: the slice of them this shard works on (possibly none).
            let hosts = try shard.resolved().map { shard in selected.filter(shard.contains) } ?? selected
            ConsoleWriter.shared.write(hosts.map { $0 + "\n" }.joined())
            // Done: the process ends without taking a large inventory apart first.
            withExtendedLifetime(loaded) {
                ConsoleWriter.shared.flush()
                Glibc.exit(0)
            }
        }
    }
}
