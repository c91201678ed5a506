import Foundation
import TestFleet
import XCTest

/// `--report FILE.html` and `tasker report`, read as a browser reads them: headless Chromium's DOM.
final class RunReportBrowserTests: XCTestCase {
    private var fleet: TestFleet!
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
        directory = try TemporaryDirectory()
    }

    private var tasker: String { TestFleet.taskerExecutable }

    private static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The page's DOM after its script ran, as Chromium built it from the file.
    private func dom(_ path: String, fragment: String = "") throws -> String {
        guard let chromium = Self.chromium else { throw XCTSkip("chromium is not installed (scripts/test.sh installs Debian's chromium)") }
        let result = try ProcessRunner.run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", "file://\(path)\(fragment)"], timeout: 60)
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout
    }

    /// `name="value"` pairs of the elements inside the element with `id`, whose tag holds `marker`.
    private func elements(_ html: String, in id: String, having marker: String) -> [[String: String]] {
        guard let start = html.range(of: "id=\"\(id)\"") else { return [] }
        let section = html[start.upperBound...]
        let end = section.range(of: "</section>")?.lowerBound ?? section.endIndex
        var found: [[String: String]] = []
        let tags = try! NSRegularExpression(pattern: "<[a-z]+ [^>]*\(marker)[^>]*>")
        let attributes = try! NSRegularExpression(pattern: "([a-z-]+)=\"([^\"]*)\"")
        let text = String(section[..<end])
        for tag in tags.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let tagText = (text as NSString).substring(with: tag.range)
            var values: [String: String] = [:]
            for attribute in attributes.matches(in: tagText, range: NSRange(tagText.startIndex..., in: tagText)) {
                values[(tagText as NSString).substring(with: attribute.range(at: 1))] = (tagText as NSString).substring(with: attribute.range(at: 2))
            }
            found.append(values)
        }
        return found
    }

    private func assertSelfContained(_ path: String) throws {
        let page = try String(contentsOfFile: path, encoding: .utf8)
        for reference in ["src=", "href=\"http", "url(", "@import", "fetch(", "XMLHttpRequest"] {
            XCTAssertFalse(page.contains(reference), "the page loads nothing: \(reference)")
        }
    }

    func testAnExecReportShowsEveryHostWithItsStatusAndRendersTheSameFromTheJournal() throws {
        let report = directory.path + "/exec.html"
        let journal = directory.path + "/exec.ndjson"
        // 24 hosts: node033 fails, node034 times out, node009:2201 and :2202 refuse connections.
        let hosts = (33...54).map(TestFleet.name) + ["node009:2201", "node009:2202"]
        let command = #"case "$(hostname)-$SSH_CONNECTION" in *" 127.0.\#(TestFleet.baseOctet).33 "*) echo broken >&2; exit 3;; *" 127.0.\#(TestFleet.baseOctet).34 "*) sleep 30;; *) echo healthy;; esac"#
        let result = try ProcessRunner.run(tasker, ["exec", "-F", fleet.sshConfig, "-H", hosts.joined(separator: ","), "--timeout", "5",
                                                    "--report", report, "--journal", journal, "--", command], timeout: 120)
        XCTAssertEqual(result.status, 4, result.stderr)
        try assertSelfContained(report)
        let html = try dom(report)
        let rows = elements(html, in: "timeline", having: "data-host=")
        XCTAssertEqual(rows.count, 24)
        let statuses = Dictionary(uniqueKeysWithValues: rows.map { ($0["data-host"]!, $0["data-status"]!) })
        XCTAssertEqual(statuses["node033"], "failed")
        XCTAssertEqual(statuses["node034"], "timeout")
        XCTAssertEqual(statuses["node009:2201"], "unreachable")
        XCTAssertEqual(statuses.values.filter { $0 == "ok" }.count, 20)
        XCTAssertTrue(rows.allSatisfy { $0["data-run-ms"] != nil && $0["data-connect-ms"] != nil })
        let counts = Dictionary(uniqueKeysWithValues: elements(html, in: "summary", having: "data-count=").map { ($0["data-status"]!, $0["data-count"]!) })
        XCTAssertEqual(counts, ["ok": "20", "failed": "1", "timeout": "1", "unreachable": "2"])
        let outputs = elements(html, in: "outputs", having: "data-hosts=").map { $0["data-hosts"]! }
        XCTAssertEqual(outputs.sorted(), ["1", "20"], "the healthy hosts folded, the broken one apart (the killed sleep ran to no end)")

        // #host=NAME opens the host's details, its output copied from the folded outputs.
        let details = try dom(report, fragment: "#host=node033")
        XCTAssertTrue(details.contains(#"<div id="details" data-host="node033"><h3>node033 — failed</h3>"#), details)
        XCTAssertTrue(details.contains(#"<pre class="stderr">broken"#))

        let rendered = directory.path + "/again.html"
        let again = try ProcessRunner.run(tasker, ["report", journal, "-o", rendered])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try String(contentsOfFile: rendered, encoding: .utf8), try String(contentsOfFile: report, encoding: .utf8),
                       "the journal renders the same page")
    }

    func testAFanOutWorkflowReportHasTheMatrixAndTheRoute() throws {
        let flow = directory.path + "/flow.txt"
        try """
        task=0
        hosts=fleet[0:5]
        exec=ssh
        command=sh
        arguments=-c "test @inventory_hostname@ != node003"
        success=min_success=4

        task=1
        hosts=fleet[0:5]
        condition=@0_exit@=99
        exec=ssh
        command=true

        task=2
        hosts=@0_succeeded_hosts@
        exec=ssh
        command=true
        next=never

        task=3
        hosts=fleet[0:5]
        exec=ssh
        command=true
        """.write(toFile: flow, atomically: true, encoding: .utf8)
        let report = directory.path + "/flow.html"
        let result = try ProcessRunner.run(tasker, ["-r", flow, "--report", report, "-F", fleet.sshConfig, "-i", fleet.inventory,
                                                    "-l", directory.path + "/logs"], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        try assertSelfContained(report)
        let html = try dom(report)
        let cells = elements(html, in: "matrix", having: "data-task=")
        XCTAssertEqual(cells.count, 24, "a cell per hosts= task and host, for tasks skipped or never reached too")
        let byKey = Dictionary(uniqueKeysWithValues: cells.map { ("\($0["data-task"]!)/\($0["data-host"]!)", $0["data-status"]!) })
        XCTAssertEqual(byKey["0/node003"], "failed")
        XCTAssertEqual(byKey["1/node001"], "skipped")
        XCTAssertEqual(byKey["2/node003"], "not_reached")
        XCTAssertEqual(byKey["2/node006"], "ok")
        XCTAssertEqual(byKey["3/node001"], "not_reached")
        XCTAssertEqual(Set(elements(html, in: "timeline", having: "data-host=").map { $0["data-host"]! }), Set((1...6).map(TestFleet.name)))
        XCTAssertTrue(html.contains(#"<span class="step">0</span> → <span class="step">1</span> → <span class="step">2</span>"#), html)
        let counts = Dictionary(uniqueKeysWithValues: elements(html, in: "summary", having: "data-count=").map { ($0["data-status"]!, $0["data-count"]!) })
        XCTAssertEqual(counts, ["ok": "5", "failed": "1"])
    }

    func testARollingReportMarksItsBatchesAndEveryHostsOutcome() throws {
        let flow = directory.path + "/rolling.txt"
        try """
        task=10
        type=rolling
        hosts=fleet[0:5]
        tasks=11,12
        serial=1,2
        max_parallel=1

        task=11
        exec=ssh_shell
        command=echo ship

        task=12
        exec=ssh_shell
        command=test @inventory_hostname@ != node003
        """.write(toFile: flow, atomically: true, encoding: .utf8)
        let report = directory.path + "/rolling.html"
        let journal = directory.path + "/rolling.ndjson"
        let result = try ProcessRunner.run(tasker, ["-r", flow, "--report", report, "--journal", journal, "-F", fleet.sshConfig,
                                                    "-i", fleet.inventory, "-l", directory.path + "/logs"], timeout: 120)
        XCTAssertEqual(result.status, 10, result.stdout + result.stderr)
        let html = try dom(report)
        let marks = elements(html, in: "batches", having: "data-batch=")
        XCTAssertEqual(marks.map { $0["data-batch"]! }, ["1", "2"], "the third batch never started")
        XCTAssertTrue(html.contains("task 10, batch 2/4: node[002-003]"), html)
        let cells = Dictionary(uniqueKeysWithValues: elements(html, in: "matrix", having: "data-task=")
            .map { ("\($0["data-task"]!)/\($0["data-host"]!)", $0["data-status"]!) })
        XCTAssertEqual(cells["10/node001"], "ok")
        XCTAssertEqual(cells["10/node003"], "failed")
        XCTAssertEqual(cells["12/node003"], "failed", "each step is a column")
        XCTAssertEqual(cells["10/node005"], "held", "hosts never started are in the report as held")
        XCTAssertEqual(cells["11/node005"], "not_reached")
        let events = try String(contentsOfFile: journal, encoding: .utf8)
        XCTAssertEqual(events.components(separatedBy: "\"type\":\"batch_started\"").count - 1, 2)
    }

    func testAnInterruptedRunStillWritesItsReport() throws {
        let report = directory.path + "/interrupted.html"
        let marker = "44.\(Int.random(in: 100...999))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tasker)
        process.arguments = ["exec", "-F", fleet.sshConfig, "-H", "node055,node056,node057", "--report", report, "--", "sleep \(marker)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        XCTAssertGreaterThanOrEqual(try ProcessTable.waitFor("sleep \(marker)", atLeast: 3), 3)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        let html = try dom(report)
        let rows = elements(html, in: "timeline", having: "data-host=")
        XCTAssertEqual(rows.map { $0["data-status"]! }, ["cancelled", "cancelled", "cancelled"])
        XCTAssertEqual(elements(html, in: "summary", having: "data-count=").first?["data-count"], "3")
    }

    func testABadJournalIsAOneLineErrorNamingFileAndLine() throws {
        let journal = directory.path + "/bad.ndjson"
        try "{\"type\":\"host_connecting\",\"t_ms\":0,\"host\":\"a\"}\nnot json\n".write(toFile: journal, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run(tasker, ["report", journal, "-o", directory.path + "/x.html"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderr.hasPrefix("tasker: \(journal):2: not a Tasker run event"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1)
    }
}
