import XCTest
@testable import Workflow

final class TaskFileValidatorTests: XCTestCase {
    private func report(_ text: String, environment: [String: String] = [:]) throws -> ValidationReport {
        TaskFileValidator.validate(try TaskFile.parse(text, path: "v.txt", environment: environment))
    }

    private let ok = "hostname=h\ncommand=true\nexec=local\n"

    func testValidFilesPass() throws {
        XCTAssertEqual(try report("task=0\n\(ok)task=1\n\(ok)success=exit_0|stdout~OK\ntask=2\nreturn=0\n").errors, [])
        XCTAssertEqual(try report("A=1\ntask=0\n\(ok)arguments=@A@\non_failure=95\ntask=95\nreturn=1\n").errors, [])
        XCTAssertEqual(try report("task=0\n\(ok)next=loop\nloop=3\nloop_break=stdout~done\ntask=1\nreturn=0\n").errors, [])
        XCTAssertEqual(try report("task=0\ntype=parallel\ntasks=100,101\nsuccess=min_success=1\ntask=1\nreturn=0\ntask=100\n\(ok)task=101\n\(ok)").errors, [])
    }

    func testExecTypesAndAliasesComeFromTheConfigurationTheRunUses() throws {
        let file = try TaskFile.parse("task=0\nhostname=h\ncommand=true\nexec=mytype\ntask=1\nhostname=h\ncommand=true\nexec=cmd\n"
                                      + "task=2\nhostname=h\ncommand=true\nexec=Shell\n", path: "v.txt", environment: [:])
        let plain = TaskFileValidator.validate(file).warnings
        XCTAssertTrue(plain.contains("task 0: unknown exec type 'mytype'"), "\(plain)")
        XCTAssertTrue(plain.contains("task 1: unknown exec type 'cmd'"), "without a configuration, TASKER's own list: \(plain)")
        var options = TaskFileValidator.Options()
        options.executionTypes = try ExecutionTypes.parse(yaml: """
        platforms:
          linux:
            mytype: {binary: /bin/true}
            shell: {binary: /bin/bash}
        aliases:
          cmd: shell
        """)
        let configured = TaskFileValidator.validate(file, options: options).warnings
        XCTAssertFalse(configured.contains { $0.contains("unknown exec type") }, "\(configured)")
        options.executionTypes = ExecutionTypes()
        XCTAssertEqual(TaskFileValidator.validate(file, options: options).warnings.filter { $0.contains("unknown exec type") }.count, 3,
                       "an empty configuration knows only the built-in types")
    }

    func testErrors() throws {
        let cases: [(String, String)] = [
            ("task=0\ncommand=true\n", "missing required field 'hostname'"),
            ("task=0\n\(ok)arguments=x # note\n", "inline comment"),
            ("task=0\n\(ok)task=2\n\(ok)", "task sequence has gaps"),
            ("task=0\n\(ok)on_success=0\n", "must be greater than the task's own ID"),
            ("task=0\n\(ok)on_success=5\n", "task 5 is referenced but not defined"),
            ("task=0\n\(ok)next=always\non_failure=1\ntask=1\nreturn=0\n", "next cannot be combined"),
            ("task=0\n\(ok)next=3\n", "direct task jumping"),
            ("task=0\n\(ok)loop=3\n", "loop requires next=loop"),
            ("task=0\n\(ok)next=loop\n", "next=loop requires loop"),
            ("task=0\n\(ok)success=exit_0\nfailure=exit_1\n", "success and failure cannot both be set"),
            ("task=0\n\(ok)success=exit=0\n", "use exit_N"),
            ("task=0\n\(ok)success=(exit_0|exit_1)\n", "operators inside parentheses"),
            ("task=0\n\(ok)success=exit_0&&stdout~x\n", "use single & and |"),
            ("task=0\n\(ok)success=bogus,thing\n", "is not a valid condition"),
            ("task=0\n\(ok)arguments=@NOPE@\n", "undefined global variable @NOPE@"),
            ("task=0\n\(ok)timeout=abc\n", "timeout must be an integer"),
            ("task=0\nreturn=abc\n", "invalid return value"),
            ("task=0\n\(ok)sleep=soon\n", "sleep must be a number"),
            ("task=0\n\(ok)stdout_split=space\n", "invalid stdout_split"),
            ("task=0\n\(ok)next=all_success\n", "only valid on parallel and conditional blocks"),
            ("task=0\nhostname=h\ncommand=ls;rm x\nexec=local\n", "security error in 'command'"),
            ("task=0\n\(ok)arguments=../../etc\n", "path traversal"),
            ("task=0\ntype=parallel\ntasks=1\nsuccess=always\ntask=1\n\(ok)", "invalid aggregate condition"),
            ("task=0\ntype=parallel\ntasks=0\n", "cannot run itself"),
            ("task=0\ntype=conditional\ncondition=true\nif_true_tasks=1\ntask=1\n\(ok)", "if_false_tasks is missing"),
            ("task=0\ntype=decision\nsuccess=true\ncommand=x\n", "cannot have command"),
            ("A=$UNSET_VARIABLE_X\ntask=0\n\(ok)arguments=@A@\n", "environment variable expansion failed for used global A"),
            ("task=12345\nreturn=0\n", "must be an integer from 0 to 9999"),
            ("task=0\nhostname=\(String(repeating: "h", count: 254))\ncommand=true\nexec=local\n", "hostname longer than 253"),
            ("task=0\nhostname=h\ncommand=\(String(repeating: "c", count: 4097))\nexec=local\n", "command longer than 4096"),
        ]
        for (text, message) in cases {
            let errors = try report(text).errors
            XCTAssertTrue(errors.contains { $0.contains(message) }, "\(text.debugDescription): \(errors)")
        }
    }

    func testHostnamesEntriesMustBeIPv4AddressesOrHostNames() throws {
        func errors(_ hosts: String) throws -> [String] {
            try report("task=0\ntype=parallel\nhostnames=\(hosts)\ncommand=true\nexec=local\n").errors
        }
        XCTAssertEqual(try errors("10.0.0.30,web-01.example.com,DB2"), [])
        for bad in ["10.0.0.300", "256.1.1.1", "-web", "web_01", "a..b", String(repeating: "a", count: 64)] {
            XCTAssertTrue(try errors("\(bad),ok").contains { $0.contains("hostnames entry '\(bad)' is not a valid IPv4 address or host name") },
                          bad)
        }
    }

    func testWarnings() throws {
        let warnings = try report("U=1\ntask=0\n\(ok)project=x\nnext=never\ntask=1\n\(ok)task=2\ntype=decision\nsuccess=exit_300\n").warnings
        XCTAssertTrue(warnings.contains("task 0: unknown field 'project'"), "\(warnings)")
        XCTAssertTrue(warnings.contains("unused global variable U=1"), "\(warnings)")
        XCTAssertTrue(warnings.contains("task 2: decision block without on_success, on_failure or next"), "\(warnings)")
        XCTAssertTrue(warnings.contains("task 2: unusual exit code 300 in success"), "\(warnings)")
        let unreachable = try report("task=0\n\(ok)on_success=2\ntask=1\n\(ok)task=2\n\(ok)").warnings
        XCTAssertTrue(unreachable.contains("task 1 is unreachable and never referenced"), "\(unreachable)")
    }

    func testDependencyReport() throws {
        let file = try TaskFile.parse("task=0\n\(ok)arguments=@1_stdout@ @9_exit@\ntask=1\n\(ok)condition=@0_success@=True\n", path: "d.txt")
        XCTAssertEqual(TaskFileValidator.dependencyIssues(file),
                       ["Task 0 references future task 1 in arguments", "Task 0 references non-existent task 9 in arguments"])
    }

    func testShellTasksMayUseMetacharacters() throws {
        XCTAssertEqual(try report("task=0\nhostname=h\ncommand=ls | wc -l\nexec=shell\n").errors, [])
    }

    func testStageTwoErrorsStopValidation() throws {
        let errors = try report("task=0\n\(ok)arguments=x # c\ntask=3\n\(ok)").errors
        XCTAssertEqual(errors.count, 1, "an inline comment is reported alone, without the gap: \(errors)")
    }
}

extension TaskFileValidatorTests {
    func testBecomeFieldsAreCheckedWhereTheyCanBe() throws {
        func errors(_ text: String) throws -> [String] {
            TaskFileValidator.validate(try TaskFile.parse(text, path: "b.txt", environment: [:])).errors
        }
        let remote = "task=0\nhostname=h\ncommand=id\nexec=ssh\n"
        XCTAssertEqual(try errors(remote + "become=Yes\nbecome_user=postgres\nbecome_method=SU\n"), [])
        XCTAssertEqual(try errors("B=off\n" + remote + "become=@B@\n"), [])
        XCTAssertEqual(try errors("task=0\nhostname=h\ncommand=id\nexec=local\nbecome=false\n"), [], "become off runs anywhere")
        XCTAssertEqual(try errors(remote + "become=maybe\n"), ["task 0: become=maybe is not a boolean (true/false, yes/no, on/off, 1/0)"])
        XCTAssertEqual(try errors(remote + "become_method=pbrun\n"), ["task 0: become_method=pbrun is not one of sudo, su, doas"])
        XCTAssertEqual(try errors(remote + "become_user= \n"), ["task 0: become_user is empty"])
        XCTAssertEqual(try errors("task=0\nhostname=h\ncommand=id\nexec=local\nbecome=true\n"),
                       ["task 0: become=true needs an SSH exec type (ssh, ssh_shell, ssh_push, ssh_pull, ssh_script), not exec=local"])
        XCTAssertEqual(try errors("task=0\ntype=decision\nsuccess=true\nbecome=true\n"),
                       ["task 0: become only apply to a task that runs a command"])
        XCTAssertEqual(try errors("task=0\ntype=parallel\nhostnames=a,b\ncommand=id\nexec=ssh\nbecome=true\n"), [])
        let file = try TaskFile.parse("become=x\ntask=0\n\(ok)", path: "g.txt", environment: [:])
        XCTAssertEqual(file.globalValues["become"], "x", "outside a task it is a global, as TASKER reads unknown keys")
    }
}

extension TaskFileValidatorTests {
    func testFileTaskPathsMayBeQuotedButNotInjected() throws {
        func errors(_ command: String, exec: String = "ssh_push") throws -> [String] {
            let text = "task=0\nhostname=h\nexec=\(exec)\ncommand=\(command)\narguments=/opt/app/\n"
            return TaskFileValidator.validate(try TaskFile.parse(text, path: "p.txt", environment: [:])).errors
        }
        XCTAssertEqual(try errors("\"build/my app.tgz\" conf/app.ini"), [])
        XCTAssertEqual(try errors("'logs/a b.txt'", exec: "ssh_pull"), [])
        XCTAssertEqual(try errors("a.tgz;rm"), ["task 0: task field security error in 'command' (shell metacharacters need exec=shell)"])
        XCTAssertEqual(try errors("$(id).tgz"), ["task 0: task field security error in 'command' (shell metacharacters need exec=shell)"])
        XCTAssertEqual(try errors("\"a b\"", exec: "ssh").count, 1, "other types keep the strict rule")
    }
}
