import XCTest
@testable import AnsibleInventory
import TextFormats

final class HostRangeTests: XCTestCase {
    func testExpansions() throws {
        let cases: [(String, [String])] = [
            ("web", ["web"]),
            ("h[01:03]", ["h01", "h02", "h03"]),
            ("h[1:10:4]", ["h1", "h5", "h9"]),
            ("h[:2]", ["h0", "h1", "h2"]),
            ("h[y:B]", ["hy", "hz", "hA", "hB"]),
            ("h[a:e:2]", ["ha", "hc", "he"]),
            ("h[3:1]", []),
            ("r[1:2]-c[a:b].eu", ["r1-ca.eu", "r1-cb.eu", "r2-ca.eu", "r2-cb.eu"]),
            ("10.0.0.[1:3]", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]),
            ("h[08:10]", ["h08", "h09", "h10"]),
        ]
        for (pattern, expected) in cases {
            XCTAssertEqual(try HostRange.expand(pattern), expected, pattern)
        }
    }

    func testErrors() {
        let cases: [(String, String)] = [
            ("h[1]", "must be begin:end or begin:end:step"),
            ("h[1:2:3:4]", "must be begin:end or begin:end:step"),
            ("h[1:]", "must specify end value"),
            ("h[01:3]", "equal-length begin and end"),
            ("h[c:a]", "must have begin <= end"),
            ("h[a:1]", "mixes letters and numbers"),
            ("h[5:1:0]", "invalid step"),
            ("h[\(String(repeating: "j", count: 60)):k]", "mixes letters and numbers"),
        ]
        for (pattern, message) in cases {
            XCTAssertThrowsError(try HostRange.expand(pattern), pattern) { error in
                XCTAssertTrue("\(error)".contains(message), "\(pattern): \(error)")
            }
        }
    }
}

final class HostRangeLimitTests: XCTestCase {
    /// Ansible's recursive expansion, for comparison: leftmost range first, each item expanded again.
    private func recursive(_ name: String) throws -> [String] {
        guard let open = name.firstIndex(of: "["), let close = name[open...].firstIndex(of: "]") else {
            if name.contains("[") { throw InventoryError.message("unclosed '[' in host range '\(name)'") }
            return [name]
        }
        let head = String(name[..<open])
        let tail = String(name[name.index(after: close)...])
        var hosts: [String] = []
        for label in try HostRange.expand("[" + name[name.index(after: open)..<close] + "]") {
            hosts += try recursive(head + label + tail)
        }
        return hosts
    }

    func testExpansionMatchesAnsiblesRecursionIncludingErrors() {
        let pieces = ["a", "-", "[1:2]", "[3:1]", "[a:b]", "[x]", "[", "]", "[01:3]", "[0:4:2]"]
        for _ in 0..<3_000 {
            let name = (0..<Int.random(in: 1...5)).map { _ in pieces.randomElement()! }.joined()
            func outcome(_ body: () throws -> [String]) -> String {
                do { return "\(try body())" } catch { return "error: \(error)" }
            }
            XCTAssertEqual(outcome { try HostRange.expand(name) }, outcome { try recursive(name) }, name)
        }
    }

    func testAnEmptyRangeEndsTheExpansionWithoutExpandingWhatCameBefore() throws {
        let name = String(repeating: "h[1:60]", count: 5) + "[9:1]"
        let started = Date()
        XCTAssertEqual(try HostRange.expand(name), [])
        XCTAssertEqual(try HostRange.count(name), 0)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1, "60^5 combinations are never built")
    }

    func testCountsWithoutExpanding() throws {
        XCTAssertEqual(try HostRange.count("web"), 1)
        XCTAssertEqual(try HostRange.count("r[1:2]-c[a:e:2]"), 6)
        XCTAssertEqual(try HostRange.count("h[3:1]"), 0)
        XCTAssertEqual(try HostRange.count("h[0:999999999]x[0:999999999]y[0:999999999]"), Int.max, "saturates")
    }

    func testARangeBeyondTheCapIsRefusedWithFileLineAndCount() throws {
        let started = Date()
        for (text, name) in [("[web]\nweb[1:50000000]\n", "huge.ini"), ("all:\n  hosts:\n    web[1:50000000]:\n", "huge.yml")] {
            XCTAssertThrowsError(try loadInventory(text, named: name)) { error in
                XCTAssertTrue("\(error)".contains("\(name):"), "\(error)")
                XCTAssertTrue("\(error)".contains("expands to 50000000 hosts; an inventory source may define at most 1000000"), "\(error)")
            }
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "refused before anything is expanded")
    }

    func testTheCapCountsEveryHostLineOfASource() throws {
        XCTAssertThrowsError(try loadInventory("[a]\na[1:600000]\n[b]\nb[1:400001]\n", named: "two.ini")) { error in
            XCTAssertTrue("\(error)".contains("two.ini:4: host pattern 'b[1:400001]' adds 400001 hosts to the 600000 already defined"), "\(error)")
        }
    }
}

final class PythonLiteralTests: XCTestCase {
    func testTypesValuesAsAnsibleDoes() {
        let cases: [(String, InventoryValue)] = [
            ("1", .int(1)), ("-5", .int(-5)), ("0x10", .int(16)), ("1_000", .int(1000)),
            ("1.5", .float(1.5)), ("1e3", .float(1000)),
            ("True", .bool(true)), ("False", .bool(false)), ("None", .null),
            ("true", .string("true")), ("yes", .string("yes")), ("01", .string("01")),
            ("'01'", .string("01")), ("\"a b\"", .string("a b")),
            ("[1,2]", .list([.int(1), .int(2)])), ("[1, 'x']", .list([.int(1), .string("x")])),
            ("{'k': 1}", .dict([("k", .int(1))])), ("{k:1}", .string("{k:1}")),
            ("", .string("")), ("hello world # x", .string("hello world # x")),
            ("(1, 2)", .list([.int(1), .int(2)])), ("1 2", .string("1 2")),
            ("/usr/bin/python3", .string("/usr/bin/python3")), ("-x", .string("-x")),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(PythonLiteral.value(of: text), expected, text)
        }
    }

    func testShellWords() throws {
        XCTAssertEqual(try ShellWords.split("h1 a=1 b='x y' c=\"q\\\"r\" # comment"), ["h1", "a=1", "b=x y", "c=q\"r"])
        XCTAssertEqual(try ShellWords.split("h1 e={'k':1}"), ["h1", "e={k:1}"])
        XCTAssertThrowsError(try ShellWords.split("h1 a='open"))
    }

    func testShellWordsJoinIsSplitsInverse() throws {
        let words = ["echo", "it's", "a;b & c", "", "$HOME", "plain-word_1.0", "x\ny"]
        XCTAssertEqual(ShellWords.join(words), #"echo 'it'\''s' 'a;b & c' '' '$HOME' plain-word_1.0 'x"# + "\n" + #"y'"#)
        XCTAssertEqual(try ShellWords.split(ShellWords.join(words), comments: false), words)
    }
}
