import Workflow
import XCTest
@testable import tasker

/// The merge of a task file's header options with the command line (§3).
final class FileHeaderMergeTests: XCTestCase {
    /// Every option of `tasker run`, as property paths, found by reflection.
    private func optionPaths(of value: Any, prefix: String = "") -> [String] {
        Mirror(reflecting: value).children.flatMap { child -> [String] in
            guard let label = child.label, label.hasPrefix("_") else { return [] }
            let name = prefix + label.dropFirst()
            let wrapped = Mirror(reflecting: child.value)
            // An option group wraps a value whose own children are options.
            if String(describing: wrapped.subjectType).hasPrefix("OptionGroup"), let group = wrapped.children.first {
                let inner = Mirror(reflecting: group.value).children.first.map(\.value) ?? group.value
                return optionPaths(of: inner, prefix: name + ".")
            }
            return [name]
        }
    }

    func testEveryOptionButTheTaskFileHasAMergeRule() throws {
        let command = try RunCommand.parse(["flow.txt"])
        // The task file itself, and -V/--version, which a header may not hold (exit 20).
        let options = Set(optionPaths(of: command)).subtracting(["taskFileArgument", "taskerVersion"])
        let merged = Set(RunCommand.fileHeaderMerges.map(\.path))
        XCTAssertFalse(options.isEmpty)
        XCTAssertEqual(options.subtracting(merged), [], "options the file header merge would drop")
        XCTAssertEqual(merged.subtracting(options), [], "merge rules for options that do not exist")
    }

    func testFlagsCombineAndTheCommandLineWinsForValues() throws {
        let cli = try RunCommand.parse(["--log-level=ERROR", "flow.txt"])
        let header = FileArguments(tokens: ["--strict-env-validation", "-y", "--instance-check", "--exec-config=x.yaml",
                                            "--show-plan", "--skip-host-validation", "--skip-command-validation",
                                            "--log-level=DEBUG", "--inventory=prod.ini", "--server-alive-interval=5",
                                            "--not-an-option"])
        let merged = try cli.merged(with: header)
        XCTAssertTrue(merged.strictEnvValidation)
        XCTAssertTrue(merged.yes)
        XCTAssertTrue(merged.instanceCheck)
        XCTAssertEqual(merged.execConfig, "x.yaml")
        XCTAssertTrue(merged.showPlan)
        XCTAssertTrue(merged.skipHostValidation)
        XCTAssertTrue(merged.skipCommandValidation)
        XCTAssertEqual(merged.logLevel, "ERROR", "the command line wins")
        XCTAssertEqual(merged.remote.inventory.inventories, ["prod.ini"])
        XCTAssertEqual(merged.remote.ssh.serverAliveInterval, 5)
        XCTAssertThrowsError(try cli.merged(with: FileArguments(tokens: ["--start-from=x"])), "an invalid value is an error")
    }
}
