import ArgumentParser
import Fleet
import Foundation

struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command on many hosts at once.",
        discussion: """
        The words after -- are joined with spaces and run by each remote user's shell, as `ssh host cmd` does. \
        With -c (repeatable) each host runs the commands in order over its one connection, stopping at its \
        first failure unless --keep-going.

        Exit status (first match wins): 2 usage or bad input (nothing run); 4 some host timed out; \
        3 some host unreachable, authentication failed or host key refused; 1 some command failed; 0 all succeeded.

        Examples:
          tasker exec -H 'web[01-20]' -- uptime
          tasker exec -i hosts.ini webservers --fold -- cat /etc/debian_version
          tasker exec -H db1,db2 -c 'systemctl stop app' -c 'systemctl start app' --json
        """)

    @OptionGroup var targets: TargetOptions

    @Option(name: .customShort("c"), help: ArgumentHelp("A command to run (repeatable; run in order).", valueName: "command"))
    var commands: [String] = []

    @Flag(name: .long, help: "With several -c, run every command even after one fails.")
    var keepGoing = false

    @Flag(name: .long, help: "Run commands on a pseudo-terminal (as ssh -t); stderr then arrives merged into stdout.")
    var pty = false

    @Option(name: .long, help: ArgumentHelp("Send FILE to every command's standard input (read once, shared); '-' for Tasker's own stdin. A file redirected to Tasker's stdin is sent without it.", valueName: "file"))
    var stdin: String?

    @OptionGroup var connection: ConnectionOptions

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("Hosts running at once.", valueName: "n"))
    var forks: Int = 64

    @Option(name: .long, help: ArgumentHelp("Seconds each command may run; the remote process group is killed after.", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .long, help: ArgumentHelp("Seconds the whole run may take.", valueName: "seconds"))
    var runTimeout: Double?

    @OptionGroup var output: OutputOptions

    @OptionGroup var records: RunRecordOptions

    @OptionGroup var progress: ProgressOptions

    @Argument(help: "With -i: the inventory host pattern (e.g. 'web:&eu').")
    var pattern: String?

    @Argument(parsing: .postTerminator, help: "The command (after --).")
    var words: [String] = []

    func validate() throws {
        if words.isEmpty, commands.isEmpty { throw ValidationError("no command: give it after -- or with -c") }
        if !words.isEmpty, !commands.isEmpty { throw ValidationError("give the command either after -- or with -c, not both") }
        try targets.validate(pattern: pattern)
        if forks < 1 { throw ValidationError("--forks must be at least 1") }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be positive") }
        if let runTimeout, !(runTimeout > 0) { throw ValidationError("--run-timeout must be positive") }
    }

    func run() async throws {
        let resolver = try connection.makeResolver()
        guard let specs = try targets.resolve(pattern: pattern, resolver: resolver) else { return }
        let commandList = commands.isEmpty ? [words.joined(separator: " ")] : commands
        let capture = output.capture(shard: try targets.shard.resolved())
        let input = try CommandStandardInput.open(stdin)
        try await FleetCommandRun("exec", resolver: resolver, subject: commandList.joined(separator: "\n"), connection: connection, targets: targets, records: records,
                                  forks: forks, hosts: specs.count, json: output.json, fold: output.fold,
                                  progress: progress.line("exec", json: output.json, hosts: specs.count, minimumHosts: 9))
            .perform(options: {
                var options = FleetRunOptions(forks: $0, commandTimeout: timeout, runTimeout: runTimeout, keepGoing: keepGoing, capture: capture)
                options.input = input
                options.pty = pty
                return options
            },
                     filesPerHost: output.filesPerHost) { pool, options in
                await FleetRunner(pool: pool).run(specs, commands: commandList, options: options)
            }
    }
}
