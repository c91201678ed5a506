import XCTest
@testable import Workflow

/// The one classification of tasks, typed settings, and the field declarations the validator reads.
final class TaskBodyTests: XCTestCase {
    private func task(_ text: String) throws -> TaskDefinition {
        try XCTUnwrap(TaskFile.parse(text, path: "t.txt", environment: [:]).tasks.first)
    }

    func testEachKindCarriesTheFieldsItUses() throws {
        XCTAssertEqual(try task("task=0\ntype=parallel\ntasks=1,2\nmax_parallel=3\nretry_count=2\n").body,
                       .parallel(.init(subtasks: .listed("1,2"), maxParallel: Setting("3"), retry: .init(count: Setting("2"), delay: Setting("1")))))
        XCTAssertEqual(try task("task=0\ntype=parallel\nhostnames=a, b,,c\ncommand=true\nretry_failed=true\n").body,
                       .parallel(.init(subtasks: .perHost(["a", "b", "c"]), maxParallel: nil, retry: .init(count: Setting("1"), delay: Setting("1")))))
        XCTAssertEqual(try task("task=0\ntype=conditional\ncondition=exit_0\nif_true_tasks=5\n").body,
                       .conditional(.init(condition: "exit_0", ifTrueTasks: "5", ifFalseTasks: nil, retry: nil)))
        XCTAssertEqual(try task("task=0\ntype=decision\nsuccess=exit_0\n").kind, .decision)
        XCTAssertEqual(try task("task=0\nhosts=web\ncommand=true\ntimeout=@T@\n").body,
                       .fanOut(.init(hosts: "web", timeout: Setting("@T@"), sleep: nil, maxParallel: nil, retry: nil, returnValue: nil)))
        XCTAssertEqual(try task("task=0\nreturn=3\n").body, .returnOnly(Setting("3")))
        XCTAssertEqual(try task("task=0\nhostname=h\ncommand=true\nreturn=3\n").body,
                       .command(.init(timeout: nil, sleep: nil, returnValue: Setting("3"))), "a return after a command")
        XCTAssertEqual(try task("task=0\ntype=Parallel\nhostname=h\ncommand=true\n").kind, .command, "type is compared as written")
    }

    func testSettingsReadTheirValueOncePlaceholdersAreResolved() {
        let resolver = PlaceholderResolver(globals: ["T": "30", "WORD": "soon"],
                                           results: [4: TaskResult(exitCode: 0, stdout: "2.5\n", stderr: "", success: true)])
        XCTAssertEqual(Setting<Int>("@T@").read(resolver), .value(30))
        XCTAssertEqual(Setting<Int>("@WORD@").read(resolver), .invalid("soon"))
        XCTAssertEqual(Setting<Int>("@9_stdout@").read(resolver), .unresolved)
        XCTAssertEqual(Setting<Double>("@4_stdout@").value(resolver), 2.5)
        XCTAssertEqual(Setting<Int>(" 7 ").literal, 7, "read as Python's int() reads it")
        XCTAssertNil(Setting<Int>("@T@").literal)
    }

    func testTheSettingsTaskBodyReadsAreOfTheTypesTheFieldsDeclare() {
        for field in [TaskField.timeout, .maxParallel, .retryCount, .retryDelay, .returnValue, .loop] {
            XCTAssertEqual(field.valueType, .integer, field.rawValue)
        }
        XCTAssertEqual(TaskField.sleep.valueType, .number)
        XCTAssertTrue(TaskField.sleep.accepts("0.5"))
        XCTAssertFalse(TaskField.timeout.accepts("0.5"))
        XCTAssertTrue(TaskField.command.accepts("anything"))
    }

    func testTheValidatorWarnsAboutARetryWhereTheDeclarationsSayItHasNoEffect() throws {
        for kind in TaskBody.Kind.allCases {
            XCTAssertEqual(TaskField.retryCount.kinds.contains(kind), [.parallel, .conditional, .fanOut].contains(kind), "\(kind)")
        }
        func warned(_ text: String) throws -> Bool {
            TaskFileValidator.validate(try TaskFile.parse(text, path: "t.txt", environment: [:])).warnings
                .contains { $0.contains("retry_count only has an effect") }
        }
        XCTAssertTrue(try warned("task=0\nhostname=h\ncommand=true\nexec=local\nretry_count=2\n"))
        XCTAssertFalse(try warned("task=0\nhosts=web\ncommand=true\nretry_count=2\n"))
        XCTAssertFalse(try warned("task=0\ntype=parallel\ntasks=1\nretry_count=2\ntask=1\nhostname=h\ncommand=true\nexec=local\n"))
        XCTAssertTrue(TaskField.timeout.kinds.isDisjoint(with: [.parallel, .conditional, .decision, .returnOnly]))
    }
}
