import Foundation
import TestFleet
import XCTest

/// What a newcomer meets first: the version, help that wraps as paragraphs, completion scripts.
final class CommandLineFrontTests: XCTestCase {
    private let tasker = TestFleet.taskerExecutable
    static let subcommands = ["run", "exec", "push", "pull", "script", "inventory", "report", "version"]

    func testVersionIsPrintedByTheFlagAndTheCommand() throws {
        for arguments in [["--version"], ["version"]] {
            let result = try ProcessRunner.run(tasker, arguments)
            XCTAssertEqual(result.status, 0, arguments.joined())
            XCTAssertEqual(result.stdout, "tasker 0.9.0\n")
        }
        // TASKER's own flag answers as TASKER does, with or without a task file.
        for arguments in [["-V"], ["run", "--version"], ["run", "-V", "flow.txt"]] {
            let result = try ProcessRunner.run(tasker, arguments)
            XCTAssertEqual(result.status, 0, arguments.joined(separator: " "))
            XCTAssertEqual(result.stdout, "TASKER v2.2.0\n")
        }
        let missing = try ProcessRunner.run(tasker, ["run"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("Missing expected argument '<task-file>'"), missing.stderr)
    }

    /// At 80 columns (a pipe), a line of a paragraph that ends where the next line's first word
    /// would still have fitted was broken by hand, mid-sentence, not by the wrapper.
    func testHelpIsWrittenInParagraphsThatWrap() throws {
        for command in [[]] + Self.subcommands.map({ [$0] }) {
            let result = try ProcessRunner.run(tasker, command + ["--help"])
            XCTAssertEqual(result.status, 0)
            let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            // (ArgumentParser writes the usage line unwrapped.)
            XCTAssertLessThanOrEqual(lines.filter { !$0.hasPrefix("USAGE:") }.map(\.count).max() ?? 0, 80, "wrapped to the terminal")
            for (line, next) in zip(lines, lines.dropFirst()) {
                let text = line.trimmingCharacters(in: .whitespaces)
                let following = next.trimmingCharacters(in: .whitespaces)
                guard !text.isEmpty, !following.isEmpty, !following.hasPrefix("tasker "),
                      line.prefix(while: { $0 == " " }).count == next.prefix(while: { $0 == " " }).count,
                      let last = text.last, !".:;!?".contains(last),
                      let first = following.first, first.isLowercase || "(`'\"".contains(first) else { continue }
                let firstWord = following.split(separator: " ").first ?? ""
                let trimmedLength = line.count - line.reversed().prefix(while: { $0 == " " }).count
                XCTAssertGreaterThan(trimmedLength + 1 + firstWord.count, 79,
                                     "tasker \(command.joined()) --help breaks a sentence by hand:\n\(line)\n\(next)")
            }
        }
    }

    func testCompletionScriptsAreGenerated() throws {
        for shell in ["bash", "zsh", "fish"] {
            let result = try ProcessRunner.run(tasker, ["--generate-completion-script", shell])
            XCTAssertEqual(result.status, 0, shell)
            for command in Self.subcommands { XCTAssertTrue(result.stdout.contains(command), "\(shell) completes \(command)") }
            XCTAssertTrue(result.stdout.contains("journal"), "\(shell) completes options")
        }
    }
}
