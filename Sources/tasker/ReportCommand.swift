import ArgumentParser
import Fleet
import Foundation
import RunReport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render the HTML report of a saved run.",
        discussion: """
        Reads a --journal file, or the --json stream of exec, push, pull or script, and writes the same page --report writes at the end of a run. A journal cut short by a kill renders what it holds and says the run did not finish. Several files are shown as one run.
        """)

    @Argument(help: ArgumentHelp("Journals or --json streams.", valueName: "journal"))
    var files: [String]

    @Option(name: .customShort("o"), help: ArgumentHelp("The HTML file to write.", valueName: "file"))
    var output: String

    func validate() throws {
        if files.isEmpty { throw ValidationError("give a journal file") }
    }

    func run() throws {
        var history = RunHistory()
        for file in files {
            do {
                for event in try JournalReader.events(at: file) { history.apply(event) }
            } catch {
                throw UsageError(error.description)
            }
        }
        do {
            try ReportPage.render(history).write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            throw UsageError("cannot write report \(output): \(error.localizedDescription)")
        }
    }
}
