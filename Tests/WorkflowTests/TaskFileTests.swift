import XCTest
@testable import Workflow

final class TaskFileTests: XCTestCase {
    private func parse(_ text: String, environment: [String: String] = [:], strict: Bool = false) throws -> TaskFile {
        try TaskFile.parse(text, path: "flow.txt", environment: environment, strictEnvironment: strict)
    }

    private func expectError(_ text: String, exitCode: Int32, _ message: String, environment: [String: String] = [:],
                             strict: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(text, environment: environment, strict: strict), file: file, line: line) { error in
            let taskFileError = error as? TaskFileError
            XCTAssertEqual(taskFileError?.exitCode, exitCode, "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(message), "\(error)", file: file, line: line)
        }
    }

    func testZonesGlobalsAndTasks() throws {
        let file = try parse("""
        # header comment
        --log-level=DEBUG
        -r
        --skip-validation

        BASE=$HOME/app
        EMPTY=
        hostname=ignored-in-globals
        hostnames=becomes-a-global
        MISSING=${NOPE}/x
        task=0
          hostname=localhost
          command=echo
          arguments=a=b # not a comment
          command=printf
          bogus=kept for the validator
        task = 1
        return=0
        LATE=not a global
        """, environment: ["HOME": "/home/u"])
        XCTAssertEqual(file.arguments.tokens, ["--log-level=DEBUG", "-r"])
        XCTAssertEqual(file.arguments.warnings.count, 1)
        XCTAssertEqual(file.globals.map(\.name), ["BASE", "EMPTY", "hostnames", "MISSING"])
        XCTAssertEqual(file.globalValues["BASE"], "/home/u/app")
        XCTAssertTrue(file.globals[0].fromEnvironment)
        XCTAssertEqual(file.globals[3].value, "${NOPE}/x")
        XCTAssertEqual(file.globals[3].unsetReferences, ["NOPE"])
        XCTAssertEqual(file.tasks.map(\.id), [0, 1])
        let first = try XCTUnwrap(file.task(0))
        XCTAssertEqual(first.command, "printf", "a repeated key: last one wins")
        XCTAssertEqual(first.arguments, "a=b # not a comment", "no inline comments")
        XCTAssertNil(TaskField(rawValue: "bogus"))
        XCTAssertTrue(first.written.contains { $0.key == "bogus" })
        XCTAssertNil(file.task(1)?.arguments, "arguments as written: none")
        XCTAssertNil(file.globalValues["LATE"], "KEY=value in the task zone is not a global")
        XCTAssertNotNil(file.task(1)?.written.first { $0.key == "LATE" }, "but an unknown field of the task")
        XCTAssertTrue(file.warnings.contains { $0.contains("'hostname' outside a task") })
    }

    func testFileArgumentErrors() {
        expectError("-auto-recovery\ntask=0\nreturn=0\n", exitCode: 2, "double dash")
        expectError("--force-instance\ntask=0\nreturn=0\n", exitCode: 20, "not allowed in a task file")
        expectError("--help\ntask=0\nreturn=0\n", exitCode: 20, "not allowed")
    }

    func testTaskIDAndStructureErrors() {
        expectError("task=abc\nreturn=0\n", exitCode: 20, "flow.txt:1: task ID 'abc' is not a valid integer")
        expectError("task=1\nreturn=0\ntask=01\nreturn=1\n", exitCode: 20, "flow.txt:3: duplicate task ID 1")
        expectError("A=1\n# nothing else\n", exitCode: 24, "no tasks found")
        XCTAssertEqual(try parse("task= +5 \nreturn=0\n").tasks.first?.id, 5)
        XCTAssertEqual(try parse("task=1_0\nreturn=0\n").tasks.first?.id, 10)
    }

    func testGlobalSecurityAndStrictMode() {
        expectError("MY-VAR=x\ntask=0\nreturn=0\n", exitCode: 20, "name 'MY-VAR' is invalid")
        expectError("P=../x\ntask=0\nreturn=0\n", exitCode: 20, "path traversal")
        expectError("F=/etc/passwd\ntask=0\nreturn=0\n", exitCode: 20, "path traversal")
        expectError("C=a; rm -rf x\ntask=0\nreturn=0\n", exitCode: 20, "shell injection")
        expectError("C=$(id)\ntask=0\nreturn=0\n", exitCode: 20, "shell injection")
        expectError("L=\(String(repeating: "x", count: 1025))\ntask=0\nreturn=0\n", exitCode: 20, "longer than 1024")
        XCTAssertNoThrow(try parse("S=-c \"echo; rm x\"\ntask=0\nreturn=0\n"), "-c with a quote skips the injection patterns")
        expectError("A=$HOME\ntask=0\nreturn=0\n", exitCode: 20, "only TASKER_* variables", strict: true)
        XCTAssertNoThrow(try parse("A=$TASKER_HOME\ntask=0\nreturn=0\n", strict: true))
    }

    func testCRLFAndBlankLines() throws {
        let file = try parse("task=0\r\n\r\nhostname=h\r\ncommand=c\r\n")
        XCTAssertEqual(file.task(0)?.hostname, "h")
        XCTAssertEqual(file.task(0)?.command, "c")
    }
}
