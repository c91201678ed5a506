import Foundation
import Locking
import XCTest
@testable import Fleet

/// Records and events round-trip through JSON, and reading a bad one names the field.
final class RunRecordTests: XCTestCase {
    private let record: HostRecord = {
        var record = HostRecord(host: "web1", status: .failed, exitCode: 3, signal: nil,
                                stdout: CapturedStream(text: "out\n", bytes: 4), stderr: CapturedStream(text: "err", bytes: 1 << 20, truncated: true),
                                connectMilliseconds: 12, runMilliseconds: 40, error: nil, commandsRun: 2)
        record.via = ["bastion"]
        record.startedMilliseconds = 5
        record.endedMilliseconds = 45
        return record
    }()

    func testHostRecordRoundTrips() throws {
        let decoded = try RecordCoding.decode(HostRecord.self, from: Data(RecordCoding.bytes(record)))
        XCTAssertEqual(decoded, record)
        var transfer = HostRecord(host: "db1", status: .unchanged)
        transfer.bytesTransferred = 0
        transfer.streamsMerged = true
        XCTAssertEqual(try RecordCoding.decode(HostRecord.self, from: Data(RecordCoding.bytes(transfer))), transfer)
    }

    func testSummaryRoundTripsWithEveryStatusCounted() throws {
        let summary = RunSummary(tally: RunTally([.ok, .ok, .timeout]), exitCode: 4, wallMilliseconds: 900, connectionsOpened: 3,
                                 jumpHostConnectionsOpened: 1)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(RecordCoding.bytes(summary))) as? [String: Any])
        for status in HostStatus.allCases { XCTAssertNotNil(object[status.rawValue] as? Int, status.rawValue) }
        XCTAssertEqual(object["ok"] as? Int, 2)
        XCTAssertEqual(try RecordCoding.decode(RunSummary.self, from: Data(RecordCoding.bytes(summary))), summary)
    }

    /// One event of every kind.
    static func everyKind(_ record: HostRecord) -> [RunEvent.Kind] {
        [
            .runStarted(.init(operation: "exec", commandLine: ["tasker", "exec"], subject: "uptime", targets: 2,
                              startedAt: "2026-12-07T10:00:00.000Z")),
            .runStarted(.init(operation: "workflow", commandLine: ["tasker", "-r", "f.txt"], subject: "f.txt", targets: 0,
                              startedAt: "2026-12-07T10:00:00.000Z", fanOutTasks: [0, 12])),
            .hostConnecting(.init(host: "web1")),
            .hostConnected(.init(host: "web1", via: ["b"], connectMilliseconds: 7)),
            .hostConnectFailed(.init(host: "web2", status: .unreachable, error: "connect: refused")),
            .commandStarted(.init(host: "web1", index: 0, command: "uptime")),
            .commandEnded(.init(host: "web1", index: 0, status: .ok, exitCode: 0, signal: nil, stdoutBytes: 10, stderrBytes: 0)),
            .transferProgress(.init(host: "web1", bytes: 1 << 30)),
            .hostEnded(record),
            .taskStarted(.init(task: 3, label: "3.2", host: "web1", attempt: 2)),
            .taskEnded(.init(task: 3, label: "3", status: "failed", exitCode: 1, success: false)),
            .batchStarted(.init(task: 10, batch: 2, batches: 3, hosts: ["web1", "web2"])),
            .routed(.init(from: 3, to: nil)),
            .runEnded(RunSummary(tally: RunTally([.ok]), exitCode: 0, wallMilliseconds: 10, connectionsOpened: 1)),
        ]
    }

    func testEveryEventKindRoundTrips() throws {
        let kinds = Self.everyKind(record)
        for (offset, kind) in kinds.enumerated() {
            let event = RunEvent(offset: offset * 10, kind)
            let line = RecordCoding.line(event)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(object["type"] as? String, kind.name)
            XCTAssertEqual(object["t_ms"] as? Int, offset * 10)
            XCTAssertEqual(try RecordCoding.decode(RunEvent.self, from: Data(line.utf8)), event, line)
        }
    }

    func testBadRecordsNameTheField() {
        func problem(_ text: String) -> RecordError? {
            do {
                _ = try RecordCoding.decode(RunEvent.self, from: Data(text.utf8))
                return nil
            } catch {
                return error
            }
        }
        XCTAssertEqual(problem(#"{"type":"host_connecting","t_ms":1}"#)?.description, "field 'host': missing")
        XCTAssertEqual(problem(#"{"type":"host_connecting","t_ms":"soon","host":"a"}"#)?.field, "t_ms")
        XCTAssertEqual(problem(#"{"type":"nonsense","t_ms":1}"#)?.field, "type")
        XCTAssertTrue(problem("not json")?.description.hasPrefix("not JSON") ?? false)
        var line = RecordCoding.line(RunEvent(offset: 1, .hostEnded(record)))
        line = line.replacingOccurrences(of: #""status":"failed""#, with: #""status":"melted""#)
        XCTAssertEqual(problem(line)?.field, "status")
    }

    func testMaskingHidesSecretsInEveryFreeTextField() {
        let masker = SecretMasker(secrets: ["hunter2", "s3cret"])
        XCTAssertEqual(masker.mask("pw=hunter2 and hunter22 and s3cret."), "pw=<masked len=7> and hunter22 and <masked len=6>.")
        XCTAssertEqual(SecretMasker(secrets: ["ab", "abc"]).mask("abc ab"), "<masked len=3> <masked len=2>", "the longer secret wins")
        var secretRecord = record
        secretRecord.stdout.text = "token hunter2\n"
        secretRecord.error = "bad s3cret"
        let masked = RunEvent(offset: 0, .hostEnded(secretRecord)).masked(by: masker)
        guard case .hostEnded(let maskedRecord) = masked.kind else { return XCTFail() }
        XCTAssertEqual(maskedRecord.stdout.text, "token <masked len=7>\n")
        XCTAssertEqual(maskedRecord.error, "bad <masked len=6>")
        let started = RunEvent(offset: 0, .commandStarted(.init(host: "a", index: 0, command: "login hunter2")))
        XCTAssertEqual(started.masked(by: masker).kind, .commandStarted(.init(host: "a", index: 0, command: "login <masked len=7>")))
    }

    func testWallClockStartIsISO8601InUTC() {
        let clock = RunClock(wallStart: Date(timeIntervalSince1970: 1_796_637_776.839))
        XCTAssertEqual(clock.wallStartText, "2026-12-07T10:02:56.839Z")
    }
}

/// The sink delivers in order to every subscriber, never on the emitter's stack, and drops only droppable events when full.
final class RunEventSinkTests: XCTestCase {
    final class Collector: RunEventSubscriber {
        let events = Locked<[RunEvent]>([])
        func receive(_ event: RunEvent) { events.withLock { $0.append(event) } }
    }

    func testEventsReachEverySubscriberInOrderWithRisingOffsets() async {
        let first = Collector()
        let second = Collector()
        let sink = RunEventSink(subscribers: [first, second])
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in 0..<500 { sink.emit(.commandStarted(.init(host: "h\(worker)", index: index, command: ""))) }
                }
            }
        }
        await sink.drain()
        let seen = first.events.withLock { $0 }
        XCTAssertEqual(seen.count, 4000)
        XCTAssertEqual(seen, second.events.withLock { $0 }, "every subscriber sees the same order")
        for worker in 0..<8 {
            let indices = seen.compactMap { event -> Int? in
                guard case .commandStarted(let started) = event.kind, started.host == "h\(worker)" else { return nil }
                return started.index
            }
            XCTAssertEqual(indices, Array(0..<500), "one emitter's events stay in its order")
        }
        XCTAssertEqual(seen.map(\.offset), seen.map(\.offset).sorted(), "offsets never go back")
    }

    func testAFullQueueDropsOnlyProgress() async {
        final class Slow: RunEventSubscriber {
            let gate = DispatchSemaphore(value: 0)
            let count = Locked(0)
            func receive(_ event: RunEvent) {
                if count.withLock({ $0 += 1; return $0 }) == 1 { gate.wait() }
            }
        }
        let slow = Slow()
        let sink = RunEventSink(subscribers: [slow], capacity: 10)
        sink.emit(.hostConnecting(.init(host: "first")))
        // The first event holds the delivery; the queue fills behind it.
        while slow.count.withLock({ $0 }) == 0 { await Task.yield() }
        for _ in 0..<50 { sink.emit(.transferProgress(.init(host: "a", bytes: 1))) }
        for index in 0..<50 { sink.emit(.commandStarted(.init(host: "a", index: index, command: ""))) }
        slow.gate.signal()
        await sink.drain()
        XCTAssertEqual(sink.droppedEvents, 40)
        XCTAssertEqual(slow.count.withLock { $0 }, 1 + 10 + 50)
    }
}
