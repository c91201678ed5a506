import ArgumentParser
import Fleet
import Foundation

@main
struct Tasker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasker",
        abstract: "Run commands and workflows across server fleets over pooled, in-process SSH.",
        subcommands: [RunCommand.self, ExecCommand.self, InventoryCommand.self],
        defaultSubcommand: RunCommand.self)

    /// Parses and runs, mapping every usage error to exit status 2 with a one-line reason.
    static func main() async {
        // Every connection holds a socket: use what the hard limit allows.
        FileDescriptorBudget.raiseLimit()
        do {
            // `--output-json` may be given without a value (TASKER's default report path).
            let arguments = CommandLine.arguments.dropFirst().map {
                $0 == "--output-json" ? "--output-json=\(RunCommand.defaultReportMarker)" : $0
            }
            var command = try parseAsRoot(Array(arguments))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            if exitCode(for: error) == .success { self.exit(withError: error) }
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("tasker: \(message)\n".utf8))
            Foundation.exit(ExitPolicy.usage)
        }
    }
}

/// A user-facing failure before anything ran; exits 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
