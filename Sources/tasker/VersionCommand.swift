import ArgumentParser
import Fleet

/// `tasker version` (and `tasker --version`): Tasker's version, from `TaskerVersion`.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print Tasker's version.")

    static let line = "tasker \(TaskerVersion.current)"

    func run() {
        ConsoleWriter.shared.write(Self.line + "\n")
    }
}
