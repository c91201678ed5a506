import XCTest
@testable import Workflow

final class ConditionTests: XCTestCase {
    func testSearchesInOutputWithNULCharactersDoNotCrash() {
        // Foundation's contains crashes on these (found by the fuzzer); binary output has them.
        let context = ConditionContext(exitCode: 0, stdout: "x\u{E9}\u{0}", stderr: "")
        XCTAssertFalse(Condition.evaluate("stdout~\u{0}\u{0}", context: context))
        XCTAssertTrue(Condition.evaluate("contains:\u{0}", context: context))
        XCTAssertFalse(Condition.evaluate("stdout:0~\u{0}\u{0}\u{0}", context: context))
        XCTAssertTrue(Condition.evaluate("stdout~\u{E9}", context: context))
    }

    func testOuterParenthesesAreStrippedOnlyWhenTheFirstClosesAtTheEnd() {
        let cases: [(String, String)] = [
            ("(x)", "x"), ("((x))", "x"), ("( (x) )", "x"), ("(a)(b)", "(a)(b)"), ("()", ""), ("(()", "("), ("((()", "(("),
            ("x", "x"), ("( a )", "a"), ("((a) & (b))", "(a) & (b)"), ("(", "("),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(Condition.stripOuterParentheses(text), expected, text)
        }
        // The reference's quadratic algorithm, for comparison on random texts.
        func reference(_ text: String) -> String {
            var current = text
            while current.hasPrefix("("), current.hasSuffix(")"), current.count >= 2 {
                var depth = 0
                for (offset, character) in current.enumerated() {
                    if character == "(" { depth += 1 }
                    if character == ")" { depth -= 1 }
                    if depth == 0, offset < current.count - 1 { return current }
                }
                current = String(current.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
            }
            return current
        }
        for _ in 0..<2_000 {
            let text = String((0..<Int.random(in: 0...10)).map { _ in "() x".randomElement()! })
            XCTAssertEqual(Condition.stripOuterParentheses(text), reference(text), text)
        }
        let deep = String(repeating: "(", count: 50_000) + "exit_0" + String(repeating: ")", count: 50_000)
        let started = Date()
        XCTAssertEqual(Condition.stripOuterParentheses(deep), "exit_0")
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "deep nesting costs linear time")
    }

    private func check(_ condition: String, exit: Int = 0, stdout: String = "", stderr: String = "",
                       success: Bool? = nil, resolver: PlaceholderResolver = .init(), _ expected: Bool,
                       file: StaticString = #filePath, line: UInt = #line) {
        let context = ConditionContext(exitCode: exit, stdout: stdout, stderr: stderr, success: success)
        XCTAssertEqual(Condition.evaluate(condition, context: context, resolver: resolver), expected,
                       "\(condition) exit=\(exit) stdout=\(stdout.debugDescription)", file: file, line: line)
    }

    func testReferenceExamples() {
        // The table of the reference (§7.6).
        check("exit_0", exit: 0, true)
        check("stdout~OK", stdout: "xOKx\n", true)
        check("stdout~\"a=b\"", stdout: "xa=b", true)
        check("stdout=123", stdout: "123\n", false)
        check("stdout>5", stdout: "7.5\n", true)
        check("stdout~", stdout: "  \n", true)
        check("stderr~", stderr: " \n", false)
        check("stdout_count=1", stdout: "a\n", true)
        check("STDOUT_COUNT=1", stdout: "a\n", false)
        check("stdout_count>=1", stdout: "a\n", false)
        check("(exit_0|exit_1)", exit: 1, false)
        check("exit_0 AND stdout~OK", stdout: "OK", false)
        check("exit_0&stdout~OK|exit_1", stdout: "OK", false)
        check("stdout:space,1=b", stdout: "a b c\n", true)
        check("success", exit: 1, success: false, false)
        let resolver = PlaceholderResolver(results: [0: TaskResult(exitCode: 0, stdout: "5\n", stderr: "", success: true)])
        check("@0_success@=True", resolver: resolver, true)
        check("@0_success@=true", resolver: resolver, true)
        check("@0_stdout@=5", resolver: resolver, true)
        check("@0_exit@=0", resolver: resolver, true)
        check("@0_success@", resolver: resolver, true)
        check("@0_exit@", resolver: resolver, false)
    }

    func testExitForms() {
        check("exit_not_0", exit: 3, true)
        check("exit_3", exit: 3, true)
        check("exit_-1", exit: -1, true)
        check("exit_x", exit: 0, false)
        check("EXIT_0", exit: 0, false)
        check("exit=0", exit: 0, true)
        check("exit>2", exit: 3, true)
        check("exit!=0", exit: 0, false)
    }

    func testBooleanStructure() {
        check("exit_1|stdout~ok", exit: 0, stdout: "ok", true)
        check("exit_0&stdout~ok", exit: 0, stdout: "nope", false)
        check("((exit_0))", exit: 0, true)
        check("exit_0|", exit: 1, false)
        check("", false)
        check("true", true)
        check("FALSE", false)
        check("something else", false)
    }

    func testStreams() {
        check("stdout!~", stdout: "x", true)
        check("stdout!~error", stdout: "all good", true)
        check("stdout~'quoted'", stdout: "a quoted b", true)
        check("stdout=a~b", stdout: "xb", true)
        check("stderr~", stderr: "\n\n", true)
        check("stderr_count=2", stderr: "a\nb\n", true)
        check("stdout_count=0", stdout: "  \n", true)
        check("stdout=OK", stdout: "OK\n", true)
        check("stdout!=OK", stdout: "OK\n", false)
        check("stdout<10", stdout: "abc", false)
        check("stdout~123", stdout: "x123", true)
        check("contains:needle", stdout: "haystack with needle", true)
        check("not_contains:needle", stdout: "haystack", true)
    }

    func testTypedComparisons() {
        check("5=5", true)
        check("5=5.0", true)
        check("True=1", true)
        check("abc=abc", true)
        check("abc<5", false)
        check("2.5>=2.5", true)
        check("x~\"unclosed", false)
        check("a=\"b\\\"c\"", false)
    }

    func testTheGrammarKeepsTheReferenceStructure() throws {
        // `|` splits first and each `|`-piece is one term, `&` included.
        let mixed = Condition("exit_0&stdout~OK|exit_1")
        XCTAssertEqual(mixed.combination, .anyOf)
        XCTAssertEqual(mixed.terms, [.exitCode(nil), .exitCode(1)], "\"exit_0&stdout~OK\" reads as exit_ with a malformed code")
        XCTAssertEqual(Condition("exit_0 & stdout!~").terms, [.exitCode(0), .streamEmpty(.stdout, negated: true)])
        XCTAssertEqual(Condition("exit_0").combination, .allOf)
        XCTAssertEqual(Condition.Term("((stderr_count>2))"), .streamLineCount(.stderr, .greater, 2))
        XCTAssertEqual(Condition.Term("stdout_count>=1"), .unrecognized, "only =, < and > count lines")
        XCTAssertEqual(Condition.Term("EXIT_0"), .unrecognized)
        XCTAssertEqual(Condition.Term("exit_x"), .exitCode(nil))
        XCTAssertEqual(Condition.Term("stdout=a~b"), .streamContains(.stdout, pattern: "b", negated: false))
        XCTAssertEqual(Condition.Term("x~\"unclosed"), .unrecognized)
        XCTAssertEqual(Condition.Term("STDOUT_COUNT!=5"),
                       .comparison(try XCTUnwrap(Condition.Comparison("STDOUT_COUNT!=5"))), "`_count` is case-sensitive")
        let split = try XCTUnwrap(Condition.Comparison("stdout:comma,1 = \"a=b\""))
        XCTAssertEqual(split.left, .splitStream(.stdout, spec: "comma,1"))
        XCTAssertEqual(split.op, .equal)
        XCTAssertEqual(split.right, .string("a=b"))
        XCTAssertEqual(Condition.Comparison("exit<=2.5")?.right, .float(2.5))
        XCTAssertEqual(Condition.Comparison("a!=TRUE")?.right, .bool(true))
    }

    func testSyntaxCheckFollowsTheReferenceOrder() {
        func problem(_ text: String) -> String? { Condition(text).checkSyntax().problem }
        XCTAssertNil(problem("exit_0 & stdout~ok"))
        XCTAssertNil(problem("EXIT_0"), "accepted although it evaluates false")
        XCTAssertNil(problem("STDOUT_COUNT=1"))
        XCTAssertNil(problem("@3_stdout[0]@=ok|@3_success@|@4_failed_hosts@~web"))
        XCTAssertNil(problem("(exit_0)|(stdout~x)"))
        XCTAssertNil(problem("contains:a b"))
        XCTAssertEqual(problem("  "), "empty")
        XCTAssertEqual(problem("(exit_0"), "unbalanced parentheses")
        XCTAssertEqual(problem("exit_0|"), "leading or trailing operator")
        XCTAssertEqual(problem("exit_0&&exit_1"), "use single & and |")
        XCTAssertEqual(problem("exit=0"), "use exit_N instead of exit=N")
        XCTAssertEqual(problem("(exit_0|exit_1)"), "operators inside parentheses")
        XCTAssertEqual(problem("@3_hosts@"), "'@3_hosts@' is not a valid condition", "a host list needs an operator")
        XCTAssertEqual(problem("( exit_0 )"), "' exit_0 ' is not a valid condition", "stripped parentheses leave the spaces")
        XCTAssertEqual(problem("stdout:space,1=b"), "'stdout:space,1=b' is not a valid condition")
        XCTAssertEqual(problem("exit_0 AND stdout~OK"), "'exit_0 AND stdout~OK' is not a valid condition")
        XCTAssertEqual(Condition("exit_300|(exit_1&x=1)").checkSyntax(),
                       Condition.SyntaxCheck(problem: "operators inside parentheses", unusualExitCode: 300))
        XCTAssertEqual(Condition("exit=300|exit_300").checkSyntax().unusualExitCode, nil, "exit=N stops the check first")
    }

    func testAggregateForms() {
        XCTAssertEqual(AggregateCondition("min_success=2"), .bound(.minSuccess, 2))
        XCTAssertEqual(AggregateCondition("max_failed"), .bound(.maxFailed, nil))
        XCTAssertNil(AggregateCondition("min_success =2"))
        XCTAssertNil(AggregateCondition.judgingOutcomes("always"), "always and never are no criterion for fan-out tasks")
        XCTAssertEqual(AggregateCondition.judgingOutcomes("majority_success"), .majoritySuccess)
    }

    func testAggregates() {
        XCTAssertTrue(AggregateCondition.holds("all_success", successes: 3, failures: 0))
        XCTAssertFalse(AggregateCondition.holds("all_success", successes: 2, failures: 1))
        XCTAssertTrue(AggregateCondition.holds("any_success", successes: 1, failures: 5))
        XCTAssertFalse(AggregateCondition.holds("majority_success", successes: 2, failures: 2))
        XCTAssertTrue(AggregateCondition.holds("majority_success", successes: 3, failures: 2))
        XCTAssertTrue(AggregateCondition.holds("min_success=3", successes: 3, failures: 9))
        XCTAssertTrue(AggregateCondition.holds("max_failed=1", successes: 3, failures: 1))
        XCTAssertFalse(AggregateCondition.holds("min_failed=2", successes: 3, failures: 1))
        XCTAssertTrue(AggregateCondition.holds("max_success=0", successes: 0, failures: 1))
        XCTAssertFalse(AggregateCondition.holds("min_success = 1", successes: 3, failures: 0))
        XCTAssertFalse(AggregateCondition.holds("all_success", successes: 0, failures: 0), "an empty result list is false")
        XCTAssertTrue(AggregateCondition.holds("always", successes: 0, failures: 2))
        XCTAssertFalse(AggregateCondition.holds("bogus", successes: 1, failures: 0))
    }
}
