import ArgumentParser
import Fleet
import Foundation

struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command on many hosts at once.",
        discussion: """
        The words after -- are joined with spaces and run by each remote user's shell, as `ssh host cmd` does.
        With -c (repeatable) each host runs the commands in order over its one connection, stopping at its
        first failure unless --keep-going.

        Exit status (first match wins): 2 usage or bad input (nothing run); 4 some host timed out;
        3 some host unreachable, authentication failed or host key refused; 1 some command failed; 0 all succeeded.
        """)

    @Option(name: .customShort("H"), help: ArgumentHelp("Targets, comma-separated [user@]host[:port] (repeatable).", valueName: "hosts"))
    var hosts: [String] = []

    @Option(name: .long, help: ArgumentHelp("File with one target per line (# comments).", valueName: "file"))
    var hostsFile: [String] = []

    @OptionGroup var inventory: InventoryOptions

    @Flag(name: .long, help: "With -i, an inventory pattern that matches no hosts is not an error.")
    var allowEmpty = false

    @Option(name: .customShort("c"), help: ArgumentHelp("A command to run (repeatable; run in order).", valueName: "command"))
    var commands: [String] = []

    @Flag(name: .long, help: "With several -c, run every command even after one fails.")
    var keepGoing = false

    @OptionGroup var connection: ConnectionOptions

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("Hosts running at once.", valueName: "n"))
    var forks: Int = 64

    @Option(name: .long, help: ArgumentHelp("Seconds each command may run; the remote process group is killed after.", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .long, help: ArgumentHelp("Seconds the whole run may take.", valueName: "seconds"))
    var runTimeout: Double?

    @Flag(name: .long, help: "Print one JSON object per host (NDJSON) and a summary object.")
    var json = false

    @Flag(name: [.customShort("b"), .long], help: "At the end, print each distinct output once with its hosts.")
    var fold = false

    @Option(name: .long, help: ArgumentHelp("Write each host's full stdout/stderr to DIR/HOST.stdout and DIR/HOST.stderr.", valueName: "dir"))
    var outputDir: String?

    @Option(name: .long, help: ArgumentHelp("Bytes kept from the start and from the end of each stream.", valueName: "bytes"))
    var keepBytes: Int = 64 << 10

    @Argument(help: "With -i: the inventory host pattern (e.g. 'web:&eu').")
    var pattern: String?

    @Argument(parsing: .postTerminator, help: "The command (after --).")
    var words: [String] = []

    func validate() throws {
        if words.isEmpty, commands.isEmpty { throw ValidationError("no command: give it after -- or with -c") }
        if !words.isEmpty, !commands.isEmpty { throw ValidationError("give the command either after -- or with -c, not both") }
        if hosts.isEmpty, hostsFile.isEmpty, inventory.inventories.isEmpty {
            throw ValidationError("no targets: use -H host1,host2, --hosts-file FILE or -i INVENTORY PATTERN")
        }
        if !inventory.inventories.isEmpty, pattern == nil { throw ValidationError("-i needs a host pattern, e.g. 'all' or 'web:&eu'") }
        if inventory.inventories.isEmpty, let pattern { throw ValidationError("unexpected argument '\(pattern)' (a host pattern needs -i)") }
        if inventory.inventories.isEmpty, inventory.limit != nil { throw ValidationError("--limit needs -i") }
        if forks < 1 { throw ValidationError("--forks must be at least 1") }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be positive") }
        if let runTimeout, !(runTimeout > 0) { throw ValidationError("--run-timeout must be positive") }
        if keepBytes < 0 { throw ValidationError("--keep-bytes must not be negative") }
        if json, fold { throw ValidationError("--json and --fold cannot be combined") }
    }

    func run() async throws {
        let specs: [ConnectionSpec]
        do {
            specs = try resolveTargets()
        } catch let error as FleetError {
            throw UsageError(error.description)
        } catch let error as InventoryError {
            throw UsageError(error.description)
        }
        if specs.isEmpty {
            if allowEmpty { return }
            throw UsageError("pattern '\(pattern ?? "")' and --limit leave no hosts to target (use --allow-empty to accept that)")
        }
        let commandList = commands.isEmpty ? [words.joined(separator: " ")] : commands
        let live = !json && !fold
        let budget: FileDescriptorBudget
        do {
            budget = try FileDescriptorBudget.plan(requestedForks: min(forks, specs.count), filesPerHost: outputDir == nil ? 0 : 2)
        } catch let error as FleetError {
            throw UsageError(error.description)
        }
        if let warning = budget.warning { ConsoleWriter.shared.write("tasker: warning: \(warning)\n", to: .stderr) }
        let options = FleetRunOptions(
            forks: budget.forks, commandTimeout: timeout, runTimeout: runTimeout, keepGoing: keepGoing,
            capture: CaptureOptions(headBytes: keepBytes, tailBytes: keepBytes, outputDirectory: outputDir, live: live ? .console : nil))

        let pool = connection.ssh.makePool(oneShot: true, budget: budget)
        let runner = FleetRunner(pool: pool)
        let reporter = ExecReporter(mode: json ? .json : fold ? .fold : .live, hosts: specs.count)
        let started = Deadline.now()
        let work = Task {
            await runner.run(specs, commands: commandList, options: options) { reporter.record($0) }
        }
        let interrupts = InterruptHandler()
        interrupts.install { work.cancel() }
        let tally = await work.value
        await pool.closeAll()

        let status = interrupts.exitStatus ?? ExitPolicy.exitStatus(for: tally)
        let statistics = pool.statistics
        reporter.finish(RunSummary(tally: tally, exitCode: status, wallMilliseconds: Deadline.milliseconds(since: started),
                                   connectionsOpened: statistics.connectionsOpened,
                                   jumpHostConnectionsOpened: statistics.jumpHostConnectionsOpened))
        if status != 0 { throw ExitCode(status) }
    }

    private func resolveTargets() throws -> [ConnectionSpec] {
        var targets: [HostTarget] = []
        for list in hosts { targets += try HostTarget.parseList(list) }
        for file in hostsFile { targets += try HostTarget.parseFile(file) }
        var seen: Set<HostTarget> = []
        targets = targets.filter { seen.insert($0).inserted }
        let resolver = try connection.makeResolver()
        var specs = try targets.map { try resolver.resolve($0) }
        if let pattern, !inventory.inventories.isEmpty {
            let loaded = try inventory.load()
            let selected = try inventory.select(pattern, in: loaded)
            let (inventorySpecs, warnings) = try InventoryTargets(inventory: loaded).specs(for: selected, resolver: resolver)
            for warning in warnings { ConsoleWriter.shared.write("tasker: warning: \(warning)\n", to: .stderr) }
            specs += inventorySpecs
        }
        return specs
    }
}
