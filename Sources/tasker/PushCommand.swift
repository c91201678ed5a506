import ArgumentParser
import Fleet
import Foundation

struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Copy local files to many hosts at once, over SFTP on each host's connection.",
        discussion: """
        tasker push [TARGETS] [PATTERN] SRC... DEST — as `cp -r` does: into DEST when it is a directory on the host, \
        ends in '/', or there are several sources; else as DEST. Missing parent directories are created (mkdir -p).

        Each file is written to a temporary name beside its destination and renamed over it once all of the host's \
        files are complete: a failed, timed-out or interrupted push leaves no partial or temporary file. \
        {host} and {address} in SRC or DEST are replaced by each host's name and address. \
        A file is read once for all hosts. Exit status as `tasker exec`; a host that already had every file is `unchanged`.

        Examples:
          tasker push -H 'web[1-3]' app.tar.gz /opt/app/
          tasker push -i hosts.ini webservers -r --mode 0644 conf/ /etc/app/
        """)

    @OptionGroup var targets: TargetOptions

    @OptionGroup var connection: ConnectionOptions

    @OptionGroup var records: RunRecordOptions

    @OptionGroup var progress: ProgressOptions

    @Flag(name: [.customShort("r"), .long], help: "Copy directory trees.")
    var recursive = false

    @Option(name: .long, help: ArgumentHelp("Permission bits for every file, in octal (default: the source's).", valueName: "mode"))
    var mode: String?

    @Flag(name: .long, help: "Keep the source's modification time.")
    var preserve = false

    @Option(name: .long, help: ArgumentHelp("chown the files to this user (the remote user must be allowed to).", valueName: "user"))
    var owner: String?

    @Option(name: .long, help: ArgumentHelp("chgrp the files to this group.", valueName: "group"))
    var group: String?

    @Flag(name: .long, help: "Skip files whose SHA-256 on the host (sha256sum) equals the local one.")
    var checksum = false

    @Flag(name: .long, help: "Skip files whose size and modification time on the host equal the local ones (see --preserve).")
    var update = false

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("Hosts receiving at once.", valueName: "n"))
    var forks: Int = 64

    @Option(name: .long, help: ArgumentHelp("Seconds one host's transfer may take; its temporary files are removed after.", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .long, help: ArgumentHelp("Seconds the whole run may take.", valueName: "seconds"))
    var runTimeout: Double?

    @Flag(name: .long, help: "Print one JSON object per host (NDJSON) and a summary object.")
    var json = false

    @Argument(help: "With -i, the host pattern first; then the local sources and the remote destination.")
    var arguments: [String] = []

    private var pattern: String? { targets.inventory.inventories.isEmpty ? nil : arguments.first }
    private var paths: [String] { Array(arguments.dropFirst(pattern == nil ? 0 : 1)) }

    func validate() throws {
        try targets.validate(pattern: pattern)
        if paths.count < 2 { throw ValidationError("give at least one source and a destination") }
        if let mode, UInt32(mode, radix: 8).map({ $0 <= 0o7777 }) != true { throw ValidationError("--mode must be octal permission bits, e.g. 0644") }
        if checksum, update { throw ValidationError("--checksum and --update cannot be combined") }
        if forks < 1 { throw ValidationError("--forks must be at least 1") }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be positive") }
        if let runTimeout, !(runTimeout > 0) { throw ValidationError("--run-timeout must be positive") }
    }

    func run() async throws {
        let resolver = try connection.makeResolver()
        guard let specs = try targets.resolve(pattern: pattern, resolver: resolver) else { return }
        var request = PushRequest(sources: Array(paths.dropLast()), destination: paths.last!)
        request.recursive = recursive
        request.mode = mode.flatMap { UInt32($0, radix: 8) }
        request.preserveTimes = preserve
        request.owner = owner
        request.group = group
        request.skipCheck = checksum ? .checksum : update ? .sizeAndTime : .none
        request.timeout = timeout

        let push: FilePush
        do { push = try FilePush(request) } catch let error as FleetError { throw UsageError(error.description) }
        try await FleetCommandRun("push", resolver: resolver, subject: paths.joined(separator: " "), connection: connection, targets: targets, records: records,
                                  forks: forks, hosts: specs.count, json: json,
                                  progress: progress.line("push", json: json, hosts: specs.count, transfers: true,
                                                          totalBytes: push.bytesPerHost.map { $0 * UInt64(specs.count) }))
            .perform(options: { FleetRunOptions(forks: $0, runTimeout: runTimeout) }, filesPerHost: 1) { pool, options in
                await push.run(specs, pool: pool, options: options)
            }
    }
}
