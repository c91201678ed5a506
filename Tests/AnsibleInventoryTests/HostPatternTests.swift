import XCTest
@testable import AnsibleInventory
import TextFormats

final class InventoryPatternTests: XCTestCase {
    private var inventory: Inventory!

    override func setUpWithError() throws {
        inventory = try loadInventory("""
        [web]
        web1
        web2
        web3
        web10
        [db]
        db1
        web2
        [app]
        app1
        app2
        app3
        [grp2]
        other
        [eu:children]
        web
        [eu]
        euonly
        [misc]
        grp2
        """).inventory
    }

    func testTable() throws {
        let cases: [(String, [String])] = [
            ("web", ["web1", "web2", "web3", "web10"]),
            ("web:!db:app", ["web1", "web3", "web10", "app1", "app2", "app3"]),
            ("!db:web", ["web1", "web3", "web10"]),
            ("&db", ["db1", "web2"]),
            ("web,db", ["web1", "web2", "web3", "web10", "db1"]),
            ("db,web", ["db1", "web2", "web1", "web3", "web10"]),
            ("web:&db", ["web2"]),
            ("~web", ["web1", "web2", "web3", "web10"]),
            ("~eb", []),
            ("WEB1", []),
            ("web1.*", []),
            ("web?", ["web1", "web2", "web3"]),
            ("w*1*", ["web1", "web10"]),
            ("web[1:2]", ["web2", "web3"]),
            ("app[-1]", ["app3"]),
            ("app[1:0]", ["app2"]),
            ("app[1:]", ["app2", "app3"]),
            ("app[0:9]", ["app1", "app2", "app3"]),
            ("app[0-1]", ["app1", "app2"]),
            ("grp2", ["grp2"]),
            ("&grp2", ["other"]),
            ("eu", ["euonly", "web1", "web2", "web3", "web10"]),
            ("localhost", ["localhost"]),
            // all's direct children in creation order (web sits under eu), then deeper groups.
            ("", ["db1", "web2", "app1", "app2", "app3", "other", "euonly", "grp2", "web1", "web3", "web10"]),
        ]
        for (pattern, expected) in cases {
            XCTAssertEqual(try select(inventory, pattern), expected, pattern)
        }
        XCTAssertEqual(Set(try select(inventory, "al*")), Set(inventory.hostOrder))
        XCTAssertEqual(Set(try select(inventory, "*")), Set(inventory.hostOrder))
    }

    func testLimitFiltersButKeepsTheMainOrder() throws {
        XCTAssertEqual(try select(inventory, "web", limit: "web3,web1"), ["web1", "web3"])
        XCTAssertEqual(try select(inventory, "all", limit: "!web"), ["db1", "app1", "app2", "app3", "other", "euonly", "grp2"])
        XCTAssertEqual(try select(inventory, "all", limit: "localhost"), [])
        let file = NSTemporaryDirectory() + "/limit-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try "app2\n\napp1\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try select(inventory, "app", limit: "@\(file)"), ["app1", "app2"])
        XCTAssertThrowsError(try select(inventory, "app", limit: "@/nonexistent")) { error in
            XCTAssertTrue("\(error)".contains("unable to find limit file"))
        }
    }

    func testSubscriptOutOfRangeAndWarnings() throws {
        XCTAssertThrowsError(try select(inventory, "app[9]")) { error in
            XCTAssertTrue("\(error)".contains("no hosts matched the subscripted pattern"))
        }
        let selection = try HostPatternMatcher(inventory: inventory).select("nothing:web1")
        XCTAssertEqual(selection.hosts, ["web1"])
        XCTAssertEqual(selection.warnings, ["could not match supplied host pattern, ignoring: nothing"])
    }

    func testSplitting() {
        XCTAssertEqual(HostPatternMatcher.split("a:b,c"), ["a:b", "c"])
        XCTAssertEqual(HostPatternMatcher.split("web:&db:!x"), ["web", "&db", "!x"])
        XCTAssertEqual(HostPatternMatcher.split("web[0:2]"), ["web[0:2]"])
        XCTAssertEqual(HostPatternMatcher.split("host:22"), ["host:22"])
        XCTAssertEqual(HostPatternMatcher.split("fe80::1"), ["fe80::1"])
        XCTAssertEqual(HostPatternMatcher.split(" a , ,b "), ["a", "b"])
        XCTAssertEqual(HostPatternMatcher.split("web[0: 2]:db other"), ["web[0: 2]", "db", "other"],
                       "whitespace separates patterns only outside brackets")
    }

    /// Python's own `fnmatch.fnmatchcase` for each (glob, name) pair: the reference Ansible's patterns follow.
    private func pythonMatches(_ pairs: [(glob: String, name: String)]) throws -> [Bool] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import fnmatch, json, sys
            for line in sys.stdin:
                glob, name = json.loads(line)
                print(int(fnmatch.fnmatchcase(name, glob)))
            """]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        for pair in pairs {
            input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: [pair.glob, pair.name]) + Data("\n".utf8))
        }
        try input.fileHandleForWriting.close()
        let answers = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return answers.split(separator: "\n").map { $0 == "1" }
    }

    func testSetsFollowPythonsQuirks() {
        // fnmatch drops the reversed range `]-[` with its ends, so `!a` is left: a negated set.
        XCTAssertTrue(Glob("[]-[!a]").matches("."))
        XCTAssertFalse(Glob("[]-[!a]").matches("a"))
        XCTAssertFalse(Glob("[c-a]").matches("c"), "an empty set matches nothing")
        XCTAssertTrue(Glob("[!c-a]").matches("x"), "a negated empty set matches any character")
        XCTAssertTrue(Glob("[a-c-e]").matches("-"))
        XCTAssertFalse(Glob("[a-c-e]").matches("d"))
    }

    func testGlobsMatchWhatPythonsFnmatchMatches() throws {
        let globPieces = ["*", "?", "a", "b", "-", "[ab]", "[!a]", "[a-c]", "[]a]", "[!]]", "[", "]", "[c-a]", "."]
        let namePieces = ["a", "b", "c", "-", "]", "[", "."]
        let pairs = (0..<5_000).map { _ in
            (glob: (0..<Int.random(in: 0...5)).map { _ in globPieces.randomElement()! }.joined(),
             name: (0..<Int.random(in: 0...6)).map { _ in namePieces.randomElement()! }.joined())
        }
        let expected = try pythonMatches(pairs)
        XCTAssertEqual(expected.count, pairs.count)
        for (pair, python) in zip(pairs, expected) {
            XCTAssertEqual(Glob(pair.glob).matches(pair.name), python, "\(pair.glob) ~ \(pair.name)")
        }
    }

    func testManyStarsCostLinearTime() {
        let glob = String(repeating: "*a", count: 40) + "b"
        let name = String(repeating: "a", count: 2_000)
        let started = Date()
        XCTAssertFalse(Glob(glob).matches(name))
        XCTAssertTrue(Glob(String(repeating: "*", count: 30) + "a").matches(name))
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
    }
}
