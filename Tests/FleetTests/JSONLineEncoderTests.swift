import Foundation
import XCTest
@testable import Fleet

/// The records' own JSON writer writes what JSONEncoder (sorted keys, slashes as they are) writes.
final class JSONLineEncoderTests: XCTestCase {
    private func foundation(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    func testEveryEventIsWrittenAsJSONEncoderWritesIt() throws {
        let awkward = "quote \" backslash \\ slash / tab \t cr \r nl \n nul \u{0} bell \u{7} esc \u{1B} del \u{7F} é 😀 \u{2028}"
        var record = HostRecord(host: "web\"1", status: .failed, exitCode: -1, signal: "KILL",
                                stdout: CapturedStream(text: awkward, bytes: 1 << 40, truncated: true),
                                stderr: CapturedStream(text: "", bytes: 0), connectMilliseconds: 0, runMilliseconds: Int.max,
                                error: awkward, commandsRun: 0)
        record.via = ["a", "b/c"]
        for kind in RunRecordTests.everyKind(record) + [.commandStarted(.init(host: "h", index: 1, command: awkward))] {
            let event = RunEvent(offset: 7, kind)
            XCTAssertEqual(RecordCoding.line(event), try foundation(event))
        }
    }

    func testNestedContainersNullsAndNumbers() throws {
        struct Sample: Encodable {
            var list: [[Int]] = [[1, -2], [], [Int.min]]
            var table: [String: Bool] = ["z": true, "a": false, "_b": true, "B": false]
            var missing: String? = nil
            var numbers: [Double] = [1, 0.5, -3.25, 1e20]
            var unsigned: UInt64 = .max
            var nested = ["k": ["deep": [String?.none, "x"]]]

            func encode(to encoder: any Encoder) throws {
                enum Key: String, CodingKey { case list, table, missing, numbers, unsigned, nested }
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(list, forKey: .list)
                try container.encode(table, forKey: .table)
                try container.encode(missing, forKey: .missing)
                try container.encode(numbers, forKey: .numbers)
                try container.encode(unsigned, forKey: .unsigned)
                try container.encode(nested, forKey: .nested)
            }
        }
        XCTAssertEqual(RecordCoding.line(Sample()), try foundation(Sample()))
        XCTAssertEqual(RecordCoding.line([String]()), try foundation([String]()))
        XCTAssertEqual(RecordCoding.line("top"), try foundation("top"))
    }

    func testAKeyWrittenTwiceKeepsItsLastValue() throws {
        struct Twice: Encodable {
            enum Key: String, CodingKey { case a, b }
            func encode(to encoder: any Encoder) throws {
                var first = encoder.container(keyedBy: Key.self)
                try first.encode(1, forKey: .b)
                try first.encode("x", forKey: .a)
                var second = encoder.container(keyedBy: Key.self)
                try second.encode(2, forKey: .b)
            }
        }
        XCTAssertEqual(RecordCoding.line(Twice()), #"{"a":"x","b":2}"#)
        XCTAssertEqual(RecordCoding.line(Twice()), try foundation(Twice()))
    }
}
