import Fleet
import Foundation

/// The run report: one self-contained HTML page (inline styles and a few
/// lines of script, no external request) drawn from a `RunHistory`. Its
/// contract for scripts and tests is documented in docs/reports.md:
/// `#summary`, `#timeline`, `#matrix`, `#outputs` and their `data-*` attributes.
public enum ReportPage {
    /// Bytes of retained output a page holds at most, over all distinct outputs.
    static let outputBudget = 3 << 20

    /// What the page's script reads to draw a host's details on demand.
    struct HostDetail: Encodable {
        var n: String
        var s: String
        var c: Int?
        var r: Int?
        var e: String?
        var v: [String]
        var x: Int32?
        var g: String?
        var o: Int?
        var seg: [[String]]
    }

    struct OutputGroup {
        /// The group's place in first-seen order, which hosts' details refer to.
        var index: Int
        var hosts: [String]
        var out: String
        var err: String
    }

    public static func render(_ history: RunHistory) -> String {
        let statuses = history.hosts.map { ReportStatus.of($0, in: history) }
        let groups = outputGroups(history)
        let perGroup = groups.groups.isEmpty ? 0 : min(history.keptBytes, max(1 << 10, outputBudget / groups.groups.count))
        var trimmed = false
        let shown = groups.groups.enumerated().map { index, group -> OutputGroup in
            let out = RunHistory.trim(group.out, to: perGroup)
            let err = RunHistory.trim(group.err, to: perGroup)
            if out != group.out || err != group.err || group.truncated { trimmed = true }
            return OutputGroup(index: index, hosts: group.hosts, out: out, err: err)
        }
        let connects = history.hosts.map(connectMilliseconds)
        let runs = history.hosts.map(runMilliseconds)
        let slowConnect = threshold(connects.compactMap { $0 })
        let slowRun = threshold(runs.compactMap { $0 })
        let axisStart = history.hosts.flatMap(\.segments).map(\.start).min() ?? 0
        let axisEnd = max(history.lastOffset, history.summary?.wallMilliseconds ?? 0, axisStart + 1)

        var details: [HostDetail] = []
        var rows = ""
        var slow = (connects: 0, runs: 0)
        for (index, host) in history.hosts.enumerated() {
            let status = statuses[index]
            var classes = "row"
            var badges = ""
            if let connect = connects[index], let slowConnect, connect > slowConnect {
                classes += " slow"
                badges += "<b class=\"badge\">slow connect</b>"
                slow.connects += 1
            }
            if let run = runs[index], let slowRun, run > slowRun {
                classes += " slow"
                badges += "<b class=\"badge\">slow run</b>"
                slow.runs += 1
            }
            rows += "<div class=\"\(classes)\" data-i=\"\(index)\" data-host=\"\(HTMLText.escape(host.name))\" data-status=\"\(status)\""
            rows += " data-connect-ms=\"\(connects[index].map(String.init) ?? "")\" data-run-ms=\"\(runs[index].map(String.init) ?? "")\">"
            rows += "<span class=\"name\">\(HTMLText.escape(host.name))</span><span class=\"bar\">"
            for segment in host.segments {
                let end = segment.end ?? axisEnd
                let left = Double(segment.start - axisStart) / Double(axisEnd - axisStart) * 100
                let width = max(0.15, Double(end - segment.start) / Double(axisEnd - axisStart) * 100)
                let segmentStatus = segment.kind == .connect && segment.status == "ok" ? "connect" : (segment.status ?? status)
                rows += "<i class=\"seg k-\(segment.kind.rawValue) s-\(segmentStatus)\" style=\"left:\(format(left))%;width:\(format(width))%\""
                rows += " title=\"\(HTMLText.escape("\(segment.label): \(end - segment.start) ms\(segment.status.map { ", \($0)" } ?? "")"))\"></i>"
            }
            rows += "</span><span class=\"dur\">\(runs[index].map { seconds($0) } ?? "")</span>\(badges)</div>\n"
            details.append(HostDetail(n: host.name, s: status, c: connects[index], r: runs[index], e: host.record?.error ?? host.connectError,
                                      v: host.via, x: host.record?.exitCode, g: host.record?.signal, o: groups.groupOf[host.name],
                                      seg: host.segments.map { [$0.kind.rawValue, $0.label, String($0.start), $0.end.map(String.init) ?? "", $0.status ?? ""] }))
        }

        var page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        page += "<title>Tasker report: \(HTMLText.escape(title(history)))</title><style>\(ReportAssets.style)</style></head><body>\n"
        page += header(history, trimmed: trimmed, slow: slow)
        page += summary(statuses)
        page += "<section><h2>Hosts</h2><div class=\"tools\"><input id=\"search\" type=\"search\" placeholder=\"filter hosts\" aria-label=\"filter hosts\">"
        page += " <label>sort <select id=\"sort\"><option value=\"order\">as run</option><option value=\"name\">name</option>"
        page += "<option value=\"run\">run time</option><option value=\"connect\">connect time</option><option value=\"status\">status</option></select></label>"
        page += " <span class=\"axis\">0 – \(seconds(axisEnd - axisStart))</span></div>\n"
        page += batchMarks(history, axisStart: axisStart, axisEnd: axisEnd)
        page += "<div id=\"timeline\">\n\(rows)</div><div id=\"details\" hidden></div></section>\n"
        if history.isWorkflow { page += workflow(history) }
        page += outputs(shown)
        // Outputs are in the page once, in #outputs; a host's details copy its group's text from there.
        let data = "{\"hosts\":\(RecordCoding.line(details))}"
        page += "<script type=\"application/json\" id=\"data\">\(HTMLText.scriptJSON(data))</script>\n"
        page += "<script>\(ReportAssets.script)</script>\n</body></html>\n"
        return page
    }

    private static func title(_ history: RunHistory) -> String {
        guard let start = history.start else { return "run" }
        return "\(start.operation) \(start.subject.split(separator: "\n").first.map(String.init) ?? "")"
    }

    private static func header(_ history: RunHistory, trimmed: Bool, slow: (connects: Int, runs: Int)) -> String {
        var facts: [(String, String)] = []
        if let start = history.start {
            facts.append(("operation", start.operation))
            facts.append((start.operation == "workflow" ? "task file" : "what", start.subject))
            facts.append(("started", start.startedAt))
            if start.targets > 0 { facts.append(("targets", "\(start.targets)")) }
            facts.append(("command line", start.commandLine.joined(separator: " ")))
            facts.append(("Tasker", start.version))
        }
        if let summary = history.summary {
            facts.append(("exit status", "\(summary.exitCode)"))
            facts.append(("wall time", seconds(summary.wallMilliseconds)))
            facts.append(("connections opened", "\(summary.connectionsOpened)" + (summary.jumpHostConnectionsOpened > 0 ? " (+\(summary.jumpHostConnectionsOpened) to jump hosts)" : "")))
            facts.append(("peak memory", "\(summary.peakResidentKilobytes / 1024) MiB"))
        }
        var html = "<header><h1>\(HTMLText.escape(title(history)))</h1>"
        if !history.finished {
            html += "<p class=\"warning\" id=\"unfinished\">The run did not finish: this report shows what its journal held up to \(seconds(history.lastOffset)).</p>"
        }
        if slow.connects + slow.runs > 0 {
            html += "<p class=\"note\">Outliers (over twice the median): \(slow.connects) slow connect(s), \(slow.runs) slow run(s).</p>"
        }
        if trimmed { html += "<p class=\"note\" id=\"trimmed\">Outputs are trimmed in this report (head and tail kept); the full streams are in --output-dir or the journal.</p>" }
        html += "<dl>"
        for (name, value) in facts { html += "<dt>\(HTMLText.escape(name))</dt><dd>\(HTMLText.escape(value))</dd>" }
        return html + "</dl></header>\n"
    }

    private static func summary(_ statuses: [String]) -> String {
        var counts: [String: Int] = [:]
        for status in statuses { counts[status, default: 0] += 1 }
        var html = "<section><h2>\(statuses.count) host\(statuses.count == 1 ? "" : "s")</h2><div id=\"summary\">"
        for status in ReportStatus.order where counts[status] != nil {
            html += "<button class=\"count s-\(status)\" data-status=\"\(status)\" data-count=\"\(counts[status]!)\" aria-pressed=\"false\">"
            html += "\(counts[status]!) \(status)</button>"
        }
        return html + "</div></section>\n"
    }

    private static func workflow(_ history: RunHistory) -> String {
        var html = "<section><h2>Route</h2><p id=\"route\">"
        html += history.route.map { "<span class=\"step\">\($0)</span>" }.joined(separator: " → ")
        html += "</p>"
        html += batchList(history)
        guard !history.matrixTasks.isEmpty else { return html + "</section>\n" }
        let hosts = history.hosts.map(\.name).filter { name in history.matrixTasks.contains { history.matrix[$0]?[name] != nil } }
        html += "<h2>Hosts × tasks</h2><div class=\"scroll\"><table id=\"matrix\"><thead><tr><th>host</th>"
        for task in history.matrixTasks { html += "<th>task \(task)</th>" }
        html += "</tr></thead><tbody>\n"
        for host in hosts {
            html += "<tr><th><a href=\"#host=\(HTMLText.escape(host))\">\(HTMLText.escape(host))</a></th>"
            for task in history.matrixTasks {
                let status = history.cell(task: task, host: host)
                html += "<td class=\"s-\(status)\" data-task=\"\(task)\" data-host=\"\(HTMLText.escape(host))\" data-status=\"\(status)\" title=\"\(status)\"></td>"
            }
            html += "</tr>\n"
        }
        return html + "</tbody></table></div></section>\n"
    }

    /// Where each batch of a rolling block started, on the timeline's axis.
    private static func batchMarks(_ history: RunHistory, axisStart: Int, axisEnd: Int) -> String {
        guard !history.batches.isEmpty else { return "" }
        var html = "<div class=\"row batchrow\" id=\"batches\"><span class=\"name\">batches</span><span class=\"bar\">"
        for batch in history.batches {
            let left = Double(max(0, batch.start - axisStart)) / Double(axisEnd - axisStart) * 100
            let title = "task \(batch.task), batch \(batch.number)/\(batch.of) at \(seconds(batch.start - axisStart)): \(batch.hosts.count) host(s)"
            html += "<i class=\"batch\" style=\"left:\(format(left))%\" data-task=\"\(batch.task)\" data-batch=\"\(batch.number)\""
            html += " title=\"\(HTMLText.escape(title))\"></i>"
        }
        return html + "</span><span class=\"dur\"></span></div>\n"
    }

    private static func batchList(_ history: RunHistory) -> String {
        guard !history.batches.isEmpty else { return "" }
        var html = "<h2>Batches</h2><ol id=\"batch-list\">"
        for batch in history.batches {
            html += "<li data-task=\"\(batch.task)\" data-batch=\"\(batch.number)\">task \(batch.task), batch \(batch.number)/\(batch.of): "
            html += "\(HTMLText.escape(HostListFormatter.compact(batch.hosts)))</li>"
        }
        return html + "</ol>"
    }

    private static func outputs(_ groups: [OutputGroup]) -> String {
        var html = "<section><h2>Outputs (\(groups.count) distinct, fewest hosts first)</h2><div id=\"outputs\">\n"
        for group in groups.sorted(by: { $0.hosts.count < $1.hosts.count }) {
            html += "<details class=\"output\" id=\"output-\(group.index)\" data-hosts=\"\(group.hosts.count)\"\(groups.count <= 20 ? " open" : "")><summary>"
            html += "\(group.hosts.count) host\(group.hosts.count == 1 ? "" : "s"): \(HTMLText.escape(HostListFormatter.compact(group.hosts)))</summary>"
            html += "<pre>\(HTMLText.escape(group.out))</pre>"
            if !group.err.isEmpty { html += "<pre class=\"stderr\">\(HTMLText.escape(group.err))</pre>" }
            html += "</details>\n"
        }
        return html + "</div></section>\n"
    }

    /// Distinct (stdout, stderr) pairs of the hosts that ran something, each with its hosts, in order first seen.
    private static func outputGroups(_ history: RunHistory) -> (groups: [(hosts: [String], out: String, err: String, truncated: Bool)], groupOf: [String: Int]) {
        var groups: [(hosts: [String], out: String, err: String, truncated: Bool)] = []
        var index: [String: Int] = [:]
        var groupOf: [String: Int] = [:]
        for host in history.hosts {
            guard let record = host.record, record.commandsRun > 0 else { continue }
            let key = record.stdout.text + "\u{0}" + record.stderr.text
            if let known = index[key] {
                groups[known].hosts.append(host.name)
                groupOf[host.name] = known
            } else {
                index[key] = groups.count
                groupOf[host.name] = groups.count
                groups.append(([host.name], record.stdout.text, record.stderr.text, record.stdout.truncated || record.stderr.truncated))
            }
        }
        return (groups, groupOf)
    }

    private static func connectMilliseconds(_ host: RunHistory.Host) -> Int? {
        host.record?.connectMilliseconds ?? host.connectMilliseconds
    }

    private static func runMilliseconds(_ host: RunHistory.Host) -> Int? {
        if let record = host.record { return record.runMilliseconds }
        let closed = host.segments.filter { $0.kind == .task }.compactMap { segment in segment.end.map { $0 - segment.start } }
        return closed.isEmpty ? nil : closed.reduce(0, +)
    }

    /// Above this a value is an outlier: over twice the median and at least 100 ms above it.
    private static func threshold(_ values: [Int]) -> Int? {
        guard values.count >= 4 else { return nil }
        let sorted = values.sorted()
        let median = sorted[sorted.count / 2]
        return max(median * 2, median + 100)
    }

    private static func seconds(_ milliseconds: Int) -> String {
        String(format: "%.2fs", Double(milliseconds) / 1000)
    }

    private static func format(_ percent: Double) -> String {
        String(format: "%.2f", percent)
    }
}
