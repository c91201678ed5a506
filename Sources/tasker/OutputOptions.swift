import ArgumentParser
import Fleet

/// How `exec` and `script` show and keep each host's output.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON object per host (NDJSON) and a summary object.")
    var json = false

    @Flag(name: [.customShort("b"), .long], help: "At the end, print each distinct output once with its hosts.")
    var fold = false

    @Option(name: .long, help: ArgumentHelp("Write each host's full stdout/stderr to DIR/HOST.stdout and DIR/HOST.stderr.", valueName: "dir"))
    var outputDir: String?

    @Option(name: .long, help: ArgumentHelp("Bytes kept from the start and from the end of each stream.", valueName: "bytes"))
    var keepBytes: Int = 64 << 10

    func validate() throws {
        if keepBytes < 0 { throw ValidationError("--keep-bytes must not be negative") }
        if json, fold { throw ValidationError("--json and --fold cannot be combined") }
    }

    /// Lines go to the console as they arrive unless the output is JSON or folded; with a shard,
    /// `{shard}` in `--output-dir` is its index.
    func capture(shard: Shard?) -> CaptureOptions {
        CaptureOptions(headBytes: keepBytes, tailBytes: keepBytes, outputDirectory: outputDir.map { shard?.expand($0) ?? $0 },
                       live: json || fold ? nil : .console)
    }

    /// Descriptors each host needs for `--output-dir`.
    var filesPerHost: Int { outputDir == nil ? 0 : 2 }
}
