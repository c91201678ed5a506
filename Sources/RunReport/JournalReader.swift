import Fleet
import Foundation

/// Reads a saved run back as events: a `--journal` file, or an `exec`/`push`/`pull`/`script`
/// `--json` stream (its `host` and `summary` lines become `host_ended` and `run_ended`).
public enum JournalReader {
    public struct Failure: Error, CustomStringConvertible {
        public var file: String
        public var line: Int?
        public var problem: String
        public var description: String { line.map { "\(file):\($0): \(problem)" } ?? "\(file): \(problem)" }
    }

    private struct TypeOnly: Decodable { var type: String }

    public static func events(at path: String) throws(Failure) -> [RunEvent] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(file: path, line: nil, problem: "cannot read the file")
        }
        var events: [RunEvent] = []
        var number = 0
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for line in lines {
            number += 1
            if line.isEmpty || line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
            let bytes = Data(line)
            do {
                let type = try RecordCoding.decode(TypeOnly.self, from: bytes).type
                switch type {
                case "host":
                    let record = try RecordCoding.decode(HostRecord.self, from: bytes)
                    events.append(RunEvent(offset: record.endedMilliseconds ?? record.runMilliseconds, .hostEnded(record)))
                case "summary":
                    let summary = try RecordCoding.decode(RunSummary.self, from: bytes)
                    events.append(RunEvent(offset: summary.wallMilliseconds, .runEnded(summary)))
                default:
                    events.append(try RecordCoding.decode(RunEvent.self, from: bytes))
                }
            } catch {
                let cutOff = number == lines.count && data.last != UInt8(ascii: "\n")
                throw Failure(file: path, line: number, problem: cutOff ? "cut off mid-line (\(error))" : "not a Tasker run event: \(error)")
            }
        }
        if events.isEmpty { throw Failure(file: path, line: nil, problem: "no run events in the file") }
        return events
    }
}
