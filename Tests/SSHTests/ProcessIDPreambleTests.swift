import XCTest
@testable import SSH

final class ProcessIDPreambleTests: XCTestCase {
    private func feed(_ chunks: [String]) -> (pid: Int32?, output: String) {
        var preamble = ProcessIDPreamble()
        var output: [UInt8] = []
        for chunk in chunks {
            Array(chunk.utf8).withUnsafeBytes { preamble.consume($0) { output += $0 } }
        }
        preamble.flush { output += $0 }
        return (preamble.pid, String(decoding: output, as: UTF8.self))
    }

    func testStripsThePIDLineEvenWhenSplitAcrossReads() {
        let result = feed(["12", "345\nhello\n", "world"])
        XCTAssertEqual(result.pid, 12345)
        XCTAssertEqual(result.output, "hello\nworld")
    }

    func testPassesThroughOutputThatIsNotAPreamble() {
        XCTAssertEqual(feed(["not a pid\nrest"]).output, "not a pid\nrest")
        XCTAssertNil(feed(["not a pid\nrest"]).pid)
        XCTAssertEqual(feed(["42"]).output, "42", "an unterminated first line is flushed")
    }

    func testWrapPutsTheCommandOnItsOwnLine() {
        XCTAssertEqual(ProcessIDPreamble.wrap("ls -l"), "echo $$\nls -l")
    }
}
