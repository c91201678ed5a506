import XCTest
@testable import SSH

final class HostPatternTests: XCTestCase {
    func testGlobs() {
        let cases: [(String, String, Bool)] = [
            ("*", "anything", true),
            ("web*", "web01", true),
            ("web*", "db01", false),
            ("web?", "web1", true),
            ("web?", "web10", false),
            ("*.example.com", "a.b.example.com", true),
            ("*.example.com", "example.com", false),
            ("WEB*", "web1", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("", "", true),
            ("web[12]", "web[12]", true),
            ("web[12]", "web1", false),
        ]
        for (pattern, text, expected) in cases {
            XCTAssertEqual(HostPattern.glob(pattern, matches: text), expected, "\(pattern) vs \(text)")
        }
        XCTAssertFalse(HostPattern.glob("Admin", matches: "admin", caseSensitive: true), "user names keep their case")
    }

    func testNegationVetoesTheList() {
        XCTAssertTrue(HostPattern.list(["web*", "!web3"], matches: "web1"))
        XCTAssertFalse(HostPattern.list(["web*", "!web3"], matches: "web3"))
        XCTAssertFalse(HostPattern.list(["!web3"], matches: "db1"), "a list of only negations matches nothing")
    }
}
