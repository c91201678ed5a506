import ArgumentParser
import Fleet

/// What a run keeps of itself beyond its console output (every command that runs work).
struct RunRecordOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Write every event of the run to FILE as NDJSON, each line as it happens (see docs/journal.md).", valueName: "file"))
    var journal: String?

    /// The journal subscriber, its file created; a file that cannot be written is a usage error.
    func openJournal(masker: SecretMasker = SecretMasker()) throws -> RunJournal? {
        guard let journal else { return nil }
        do {
            return try RunJournal(path: journal, masker: masker)
        } catch let error as FleetError {
            throw UsageError(error.description)
        }
    }
}
