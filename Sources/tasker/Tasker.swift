import ArgumentParser
import Fleet
import Foundation

@main
struct Tasker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasker",
        abstract: "Run commands and workflows across server fleets over pooled, in-process SSH.",
        version: VersionCommand.line,
        subcommands: [RunCommand.self, ExecCommand.self, PushCommand.self, PullCommand.self, ScriptCommand.self, InventoryCommand.self, ReportCommand.self,
                      VersionCommand.self],
        defaultSubcommand: RunCommand.self)

    /// Parses and runs, mapping every usage error to exit status 2 with a one-line reason.
    static func main() async {
        // Every connection holds a socket: use what the hard limit allows.
        FileDescriptorBudget.raiseLimit()
        // Output is written by a writer thread: whatever way the process ends, let it finish.
        atexit { ConsoleWriter.shared.flush() }
        do {
            var command = try parseAsRoot(arguments(CommandLine.arguments.dropFirst()))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            ConsoleWriter.shared.flush()
            if exitCode(for: error) == .success { self.exit(withError: error) }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            ConsoleWriter.shared.write("tasker: \(message)\n", to: .stderr)
            Foundation.exit(ExitPolicy.usage)
        }
    }

    /// The command line as ArgumentParser should see it: `--output-json` may be
    /// given without a value (TASKER's default report path). Words after `--`
    /// belong to the remote command and are left alone.
    static func arguments<Words: Collection<String>>(_ words: Words) -> [String] {
        var seenTerminator = false
        return words.map { word in
            if word == "--" { seenTerminator = true }
            return !seenTerminator && word == "--output-json" ? "--output-json=\(RunCommand.defaultReportMarker)" : word
        }
    }
}

/// A user-facing failure before anything ran; exits 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
