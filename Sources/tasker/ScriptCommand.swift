import ArgumentParser
import Fleet

struct ScriptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "script",
        abstract: "Upload a local script to many hosts and run it there.",
        discussion: """
        tasker script [TARGETS] [PATTERN] FILE [-- ARGS...] — the script goes to a private temporary directory on each \
        host (mktemp -d, mode 0700), runs with ARGS as `tasker exec` runs a command (live output, --timeout kills its \
        process group), and the directory is removed afterwards, also after a failure, a timeout or Ctrl-C. \
        The script's #! line is honoured; --interpreter runs it with another program. Exit status as `tasker exec`.

        Example:
          tasker script -H 'web[1-3]' check.sh -- --verbose
        """)

    @OptionGroup var targets: TargetOptions

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp("Run the script with this program (e.g. 'python3 -u') instead of its #! line.", valueName: "command"))
    var interpreter: String?

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("Hosts running at once.", valueName: "n"))
    var forks: Int = 64

    @Option(name: .long, help: ArgumentHelp("Seconds the script may run; its process group is killed after.", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .long, help: ArgumentHelp("Seconds the whole run may take.", valueName: "seconds"))
    var runTimeout: Double?

    @OptionGroup var output: OutputOptions

    @OptionGroup var records: RunRecordOptions

    @OptionGroup var progress: ProgressOptions

    @Argument(help: "With -i, the host pattern; otherwise the local script.")
    var first: String?

    @Argument(help: "With -i, the local script.")
    var second: String?

    @Argument(parsing: .postTerminator, help: "The script's arguments (after --).")
    var scriptArguments: [String] = []

    private var pattern: String? { targets.inventory.inventories.isEmpty ? nil : first }
    private var script: [String] { (pattern == nil ? [first, second] : [second]).compactMap { $0 } }

    func validate() throws {
        try targets.validate(pattern: pattern)
        if script.count != 1 { throw ValidationError("give one script file (its arguments go after --)") }
        if forks < 1 { throw ValidationError("--forks must be at least 1") }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be positive") }
        if let runTimeout, !(runTimeout > 0) { throw ValidationError("--run-timeout must be positive") }
    }

    func run() async throws {
        let resolver = try connection.makeResolver()
        guard let specs = try targets.resolve(pattern: pattern, resolver: resolver) else { return }
        let scriptRun: ScriptRun
        do {
            scriptRun = try ScriptRun(ScriptRequest(localPath: script[0], arguments: scriptArguments, interpreter: interpreter))
        } catch let error as FleetError {
            throw UsageError(error.description)
        }
        let capture = output.capture(shard: try targets.shard.resolved())
        try await FleetCommandRun("script", resolver: resolver, subject: ([script[0]] + scriptArguments).joined(separator: " "), connection: connection, targets: targets,
                                  records: records, forks: forks, hosts: specs.count, json: output.json, fold: output.fold,
                                  progress: progress.line("script", json: output.json, hosts: specs.count, minimumHosts: 9))
            .perform(options: { FleetRunOptions(forks: $0, commandTimeout: timeout, runTimeout: runTimeout, capture: capture) },
                     filesPerHost: output.filesPerHost) { pool, options in
                await scriptRun.run(specs, pool: pool, options: options)
            }
    }
}
