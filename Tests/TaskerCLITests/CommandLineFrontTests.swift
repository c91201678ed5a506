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

    private var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// docs/man is what generate-manual makes of today's declarations (dated as the checked-in pages are).
    func testManPagesAreCurrent() throws {
        let tool = URL(fileURLWithPath: tasker).deletingLastPathComponent().appendingPathComponent("generate-manual").path
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            return XCTFail("\(tool) is missing: build it with `swift build --product generate-manual` (scripts/test.sh does)")
        }
        let checkedIn = repositoryRoot + "/docs/man"
        let header = try String(contentsOfFile: checkedIn + "/tasker.1", encoding: .utf8)
        let dated = try XCTUnwrap(header.split(separator: "\n").first { $0.hasPrefix(".Dd ") }).dropFirst(4)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "MMMM d, yyyy"
        let date = try XCTUnwrap(formatter.date(from: String(dated)), String(dated))
        formatter.dateFormat = "yyyy-MM-dd"
        let scratch = try TemporaryDirectory()
        let result = try ProcessRunner.run(tool, [tasker, "--multi-page", "--section", "1", "--date", formatter.string(from: date), "-o", scratch.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: checkedIn).sorted(), names, "run scripts/man.sh")
        for name in names {
            XCTAssertEqual(try String(contentsOfFile: checkedIn + "/" + name, encoding: .utf8),
                           try String(contentsOfFile: scratch.path + "/" + name, encoding: .utf8), "docs/man/\(name) is stale: run scripts/man.sh")
        }
    }

    func testInstallPutsBinaryManPagesAndCompletionsWhereDebianLooks() throws {
        let prefix = try TemporaryDirectory()
        let result = try ProcessRunner.run(repositoryRoot + "/scripts/install.sh", ["--binary", tasker, prefix.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        for path in ["bin/tasker", "share/man/man1/tasker.1", "share/man/man1/tasker.exec.1", "share/bash-completion/completions/tasker",
                     "share/zsh/vendor-completions/_tasker", "share/fish/vendor_completions.d/tasker.fish"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: prefix.path + "/" + path), path)
        }
        XCTAssertEqual(try ProcessRunner.run(prefix.path + "/bin/tasker", ["--version"]).stdout, "tasker 0.9.0\n")
        let completion = try ProcessRunner.run("/bin/bash", ["-c", "source '\(prefix.path)/share/bash-completion/completions/tasker' && complete -p tasker"])
        XCTAssertTrue(completion.stdout.contains("-F _tasker tasker"), completion.stdout + completion.stderr)
    }

    /// Every option a command's --help lists is documented on its page in docs/.
    func testEveryOptionInHelpIsOnItsDocsPage() throws {
        let pages = ["exec": ["exec.md"], "push": ["files.md", "exec.md"], "pull": ["files.md", "exec.md"],
                     "script": ["files.md", "exec.md"], "inventory": ["inventories.md"], "report": ["reports.md"],
                     "run": ["workflows.md"]]
        for (command, files) in pages {
            let text = try files.map { try String(contentsOfFile: repositoryRoot + "/docs/" + $0, encoding: .utf8) }.joined()
            let help = try ProcessRunner.run(tasker, [command, "--help"]).stdout
            // The name column of each option line: "  -K, --ask-become-pass   Ask once…".
            // Option lines come after USAGE, under ARGUMENTS:/OPTIONS:/group headings (the discussion is above them).
            let listing = help.components(separatedBy: "\nUSAGE:").last ?? ""
            let options = Set(listing.split(separator: "\n").flatMap { line -> [String] in
                // Two spaces, then the names; deeper lines continue a help text.
                guard line.hasPrefix("  -") else { return [] }
                let trimmed = String(line.dropFirst(2))
                let names = trimmed.components(separatedBy: "  ").first ?? ""
                return names.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "/" }).filter { $0.hasPrefix("--") }.map(String.init)
            })
            XCTAssertGreaterThan(options.count, 1, command)
            for option in options.subtracting(["--help", "--version"]) {
                XCTAssertTrue(Self.mentions(text, option),
                              "\(option) of tasker \(command) is not in docs/\(files[0])")
            }
        }
    }

    /// Whether `option` appears in `text` as a whole option name (not as the start of a longer one).
    private static func mentions(_ text: String, _ option: String) -> Bool {
        var rest = text[...]
        while let found = rest.range(of: option) {
            let next = rest[found.upperBound...].first
            if next.map({ !$0.isLetter && $0 != "-" }) ?? true { return true }
            rest = rest[found.upperBound...]
        }
        return false
    }
}
