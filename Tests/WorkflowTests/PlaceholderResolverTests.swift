import Foundation
import XCTest
@testable import Workflow

final class PlaceholderResolverTests: XCTestCase {
    private let results: [Int: TaskResult] = [
        0: TaskResult(exitCode: 0, stdout: "hello\n\n", stderr: "warn\n", success: true),
        3: TaskResult(exitCode: 124, stdout: "", stderr: "", success: false),
    ]

    func testTaskResultsAndGlobals() {
        let resolver = PlaceholderResolver(globals: ["BASE": "/opt", "DIR": "@BASE@/app", "SELF": "x@SELF@"], results: results)
        XCTAssertEqual(resolver.resolve("@0_stdout@ @0_STDERR@ @0_exit@ @0_success@ @3_success@").text, "hello warn 0 True False")
        XCTAssertEqual(resolver.resolve("@DIR@/bin").text, "/opt/app/bin")
        XCTAssertEqual(resolver.resolve("@0_stdout_file@").text, "")
        let selfReference = resolver.resolve("@SELF@").text
        XCTAssertEqual(selfReference, String(repeating: "x", count: 11) + "@SELF@", "11 expansions, then it stops")
    }

    func testUnresolvedPlaceholdersStayLiteral() {
        let resolver = PlaceholderResolver(globals: ["A": "a"], results: results)
        let missingTask = resolver.resolve("x @7_stdout@ @A@")
        XCTAssertEqual(missingTask.text, "x @7_stdout@ a")
        XCTAssertFalse(missingTask.resolved)
        let missingGlobal = resolver.resolve("@NOPE@")
        XCTAssertEqual(missingGlobal.text, "@NOPE@")
        XCTAssertFalse(missingGlobal.resolved)
        let notImplemented = resolver.resolve("@0_duration@")
        XCTAssertEqual(notImplemented.text, "@0_duration@")
        XCTAssertTrue(notImplemented.resolved, "unknown kinds are not even flagged")
        XCTAssertEqual(resolver.resolve("@00_stdout@").text, "@00_stdout@", "leading zeros stay literal")
    }

    func testTaskOutputIsScannedForGlobals() {
        let resolver = PlaceholderResolver(globals: ["FOO": "bar"],
                                           results: [1: TaskResult(exitCode: 0, stdout: "@FOO@", stderr: "", success: true)])
        XCTAssertEqual(resolver.resolve("@1_stdout@").text, "bar")
    }

    func testSpilledStreamsAreCappedAt100KiB() throws {
        let path = NSTemporaryDirectory() + "/spill-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try String(repeating: "y", count: 200_000).write(toFile: path, atomically: true, encoding: .utf8)
        let resolver = PlaceholderResolver(results: [2: TaskResult(exitCode: 0, stdout: "", stderr: "", success: true, stdoutFile: path)])
        XCTAssertEqual(resolver.resolve("@2_stdout@").text.count, PlaceholderResolver.spillLimit)
        XCTAssertEqual(resolver.resolve("@2_stdout_file@").text, path)
    }

    func testTheGlobalScannerFindsWhatThePatternFinds() {
        let samples = ["@A@", "@A@B@", "@@A@@", "x@a_1@y@_b@", "@1A@ @A1@", "@A B@ @C@", "@é@ @D@", "@A", "A@", "@A@@B@", "@@", ""]
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("@aZ_1 é")
        let random = (0..<500).map { _ in String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }) }
        for text in samples + random {
            XCTAssertEqual(PlaceholderResolver.globalNames(in: Array(text.utf8)),
                           PlaceholderResolver.matches(PlaceholderResolver.globalPattern, in: text).map { $0[1] }, text)
        }
    }

    func testAGlobalThatRefersToItselfStopsGrowingAtTheExpansionLimit() {
        let resolver = PlaceholderResolver(globals: ["G": "@G@@G@@G@ and more text"])
        let started = Date()
        let output = resolver.resolve("@G@").text
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
        XCTAssertLessThanOrEqual(output.utf8.count, 4 * PlaceholderResolver.expansionLimit)
        XCTAssertTrue(output.contains("@G@"), "expansion stopped with references left")
    }
}

final class OutputSplitterTests: XCTestCase {
    func testKeywordsAndRegularExpressions() {
        XCTAssertEqual(OutputSplitter.split("a b c\n", spec: "space,2"), "c\n")
        XCTAssertEqual(OutputSplitter.split("l1\nl2\n", spec: "newline,2"), "")
        XCTAssertEqual(OutputSplitter.split("a,b", spec: "comma,1"), "b")
        XCTAssertEqual(OutputSplitter.split("a|b", spec: "pipe,0"), "a")
        XCTAssertEqual(OutputSplitter.split("k:v", spec: "colon,1"), "v")
        XCTAssertEqual(OutputSplitter.split("a;b", spec: "semi,1"), "b")
        XCTAssertEqual(OutputSplitter.split("a\t\tb", spec: "tab,1"), "b")
        XCTAssertEqual(OutputSplitter.split(" a  b", spec: "whitespace,0"), "")
        XCTAssertEqual(OutputSplitter.split("x1y22z", spec: "[0-9]+,2"), "z")
    }

    func testMalformedOrOutOfRangeLeavesTheStreamUnchanged() {
        for spec in ["", "space", "space,x", "space,5", "space,-1", "a,b,c"] {
            XCTAssertEqual(OutputSplitter.split("a b", spec: spec), "a b", spec)
        }
        XCTAssertEqual(OutputSplitter.split("", spec: "space,0"), "")
    }

    func testSubtasksSplitOnTheLiteralText() {
        XCTAssertEqual(OutputSplitter.splitLiterally("a,b", spec: "comma,1"), "a,b")
        XCTAssertEqual(OutputSplitter.splitLiterally("xcommay", spec: "comma,1"), "y")
    }
}

final class PythonSemanticsTests: XCTestCase {
    func testIntegersAsPythonParsesThem() {
        XCTAssertEqual(PythonSemantics.int(" 42 "), 42)
        XCTAssertEqual(PythonSemantics.int("+7"), 7)
        XCTAssertEqual(PythonSemantics.int("-3"), -3)
        XCTAssertEqual(PythonSemantics.int("1_000"), 1000)
        XCTAssertNil(PythonSemantics.int("1__0"))
        XCTAssertNil(PythonSemantics.int("_1"))
        XCTAssertNil(PythonSemantics.int("1.0"))
        XCTAssertNil(PythonSemantics.int(""))
        XCTAssertEqual(PythonSemantics.float(".5"), 0.5)
        XCTAssertEqual(PythonSemantics.float("1e3"), 1000)
        XCTAssertEqual(PythonSemantics.float("inf"), .infinity)
        XCTAssertNil(PythonSemantics.float("abc"))
    }

    func testExpandVariables() {
        let environment = ["HOME": "/home/u", "X1": "one"]
        XCTAssertEqual(PythonSemantics.expandVariables("$HOME/a ${HOME}/b $UNSET ${UNSET} $X1$", environment: environment),
                       "/home/u/a /home/u/b $UNSET ${UNSET} one$")
        XCTAssertEqual(PythonSemantics.referencedVariables("$A ${B} $1 ${C"), ["A", "B"])
    }
}
