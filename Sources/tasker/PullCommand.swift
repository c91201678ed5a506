import ArgumentParser
import Fleet
import Foundation

struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch files from many hosts at once, over SFTP on each host's connection.",
        discussion: """
        tasker pull [TARGETS] [PATTERN] REMOTE... LOCAL_DIR — each host's files go to LOCAL_DIR/<host>/<name>, or, \
        when LOCAL_DIR holds {host} or {address}, to that directory. Files are streamed to disk and renamed into place \
        when complete. A missing remote file fails that host only. Exit status as `tasker exec`.

        Example:
          tasker pull -H 'web[1-3]' /var/log/syslog ./logs
        """)

    @OptionGroup var targets: TargetOptions

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var records: RunRecordOptions

    @OptionGroup var progress: ProgressOptions

    @Flag(name: [.customShort("r"), .long], help: "Fetch directory trees.")
    var recursive = false

    @Flag(name: .long, help: "Keep the remote modification times.")
    var preserve = false

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("Hosts sending at once.", valueName: "n"))
    var forks: Int = 64

    @Option(name: .long, help: ArgumentHelp("Seconds one host's transfer may take; its partial files are removed after.", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .long, help: ArgumentHelp("Seconds the whole run may take.", valueName: "seconds"))
    var runTimeout: Double?

    @Flag(name: .long, help: "Print one JSON object per host (NDJSON) and a summary object.")
    var json = false

    @Argument(help: "With -i, the host pattern first; then the remote sources and the local directory.")
    var arguments: [String] = []

    private var pattern: String? { targets.inventory.inventories.isEmpty ? nil : arguments.first }
    private var paths: [String] { Array(arguments.dropFirst(pattern == nil ? 0 : 1)) }

    func validate() throws {
        try targets.validate(pattern: pattern)
        if paths.count < 2 { throw ValidationError("give at least one remote source and a local directory") }
        if forks < 1 { throw ValidationError("--forks must be at least 1") }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be positive") }
        if let runTimeout, !(runTimeout > 0) { throw ValidationError("--run-timeout must be positive") }
    }

    func run() async throws {
        let resolver = try connection.makeResolver()
        guard let specs = try targets.resolve(pattern: pattern, resolver: resolver) else { return }
        var request = PullRequest(sources: Array(paths.dropLast()), destination: paths.last!)
        request.recursive = recursive
        request.preserveTimes = preserve
        request.timeout = timeout
        let pull = FilePull(request)
        try await FleetCommandRun("pull", resolver: resolver, subject: paths.joined(separator: " "), connection: connection, targets: targets, records: records,
                                  forks: forks, hosts: specs.count, json: json,
                                  progress: progress.line("pull", json: json, hosts: specs.count, transfers: true))
            .perform(options: { FleetRunOptions(forks: $0, runTimeout: runTimeout) }, filesPerHost: 1) { pool, options in
                await pull.run(specs, pool: pool, options: options)
            }
    }
}
