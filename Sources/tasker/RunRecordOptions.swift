import ArgumentParser
import Fleet
import RunReport

/// What a run keeps of itself beyond its console output (every command that runs work).
struct RunRecordOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Write every event of the run to FILE as NDJSON, each line as it happens (see docs/reports.md).", valueName: "file"))
    var journal: String?

    @Option(name: .long, help: ArgumentHelp("Write a self-contained HTML report of the run to FILE when it ends, also after a failure or Ctrl-C (see docs/reports.md).", valueName: "file"))
    var report: String?

    /// The run's record subscribers, their files created; a file that cannot be written is a usage error.
    /// With a shard, `{shard}` in the paths is its index.
    func open(masker: SecretMasker = SecretMasker(), shard: Shard? = nil) throws -> RunRecords {
        func path(_ path: String) -> String { shard?.expand(path) ?? path }
        do {
            return RunRecords(journal: try journal.map { try RunJournal(path: path($0), masker: masker) },
                              report: try report.map { try RunReportWriter(path: path($0), masker: masker) })
        } catch let error as FleetError {
            throw UsageError(error.description)
        }
    }
}

/// The journal and the report of one run, once their files are open.
struct RunRecords {
    let journal: RunJournal?
    let report: RunReportWriter?

    var subscribers: [any RunEventSubscriber] {
        [journal as (any RunEventSubscriber)?, report].compactMap { $0 }
    }

    /// After the run's events are drained: closes the journal and writes the report.
    func finish() {
        journal?.close()
        do {
            try report?.write()
        } catch {
            ConsoleWriter.shared.write("tasker: \(error)\n", to: .stderr)
        }
    }
}
