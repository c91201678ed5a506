import XCTest
@testable import SSH

/// One table for signal names and numbers, whichever way a process ended.
final class SignalNameTests: XCTestCase {
    func testNamesAndNumbersAgreeBothWays() {
        for number in Int32(1)...31 {
            let name = SignalName.name(of: number)
            XCTAssertNotEqual(name, String(number), "signal \(number) has a name")
            XCTAssertEqual(SignalName.number(of: name), number, name)
        }
        XCTAssertEqual(SignalName.number(of: "USR1"), 10)
        XCTAssertEqual(SignalName.number(of: "ABRT"), 6)
        XCTAssertEqual(SignalName.number(of: "SIGBUS"), 7)
        XCTAssertEqual(SignalName.name(of: 34), "34", "real-time signals keep their number")
        XCTAssertEqual(SignalName.number(of: "34"), 34)
        XCTAssertNil(SignalName.number(of: "NOPE"))
    }
}
