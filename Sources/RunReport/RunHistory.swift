import Fleet

/// What a report shows of a run, folded from its events as they come (or as
/// a journal replays them): the run's start and end, every host with its
/// segments on the run's time axis, the hosts × tasks matrix of a workflow,
/// and the route. Outputs are kept trimmed to `keptBytes` per stream, so a
/// report of any run holds a bounded amount per host.
public struct RunHistory: Sendable {
    /// A stretch of a host's time: connecting, a command, a workflow task.
    public struct Segment: Sendable, Equatable {
        public enum Kind: String, Sendable { case connect, command, task }
        public var kind: Kind
        public var label: String
        public var start: Int
        public var end: Int?
        public var status: String?
    }

    public struct Host: Sendable {
        public var name: String
        public var segments: [Segment] = []
        /// The record of its `host_ended` (exec, push, pull, script).
        public var record: HostRecord?
        public var connectError: String?
        public var via: [String] = []
        public var connectMilliseconds: Int?
    }

    public private(set) var start: RunEvent.RunStart?
    public private(set) var summary: RunSummary?
    public private(set) var hosts: [Host] = []
    private var hostIndex: [String: Int] = [:]
    /// The matrix's columns: a workflow's `hosts=` tasks (all of them, from `run_started`,
    /// then any other task seen running per host), and each (task, host)'s last attempt's status.
    public private(set) var matrixTasks: [Int] = []
    public private(set) var matrix: [Int: [String: String]] = [:]
    /// Tasks skipped as a whole (by their condition, or an empty host list): their cells say `skipped`, not `not_reached`.
    public private(set) var skippedTasks: Set<Int> = []
    /// A rolling block's batch: which, on which hosts, and when it started.
    public struct Batch: Sendable, Equatable {
        public var task: Int
        public var number: Int
        public var of: Int
        public var hosts: [String]
        public var start: Int
    }

    /// Rolling blocks' batches, as they started.
    public private(set) var batches: [Batch] = []
    /// The top-level task IDs the run went through, in order (from its `routed` events).
    public private(set) var route: [Int] = []
    /// The last offset seen.
    public private(set) var lastOffset = 0
    public let keptBytes: Int

    public init(keptBytes: Int = 8 << 10) {
        self.keptBytes = keptBytes
    }

    public var finished: Bool { summary != nil }
    public var isWorkflow: Bool { start?.operation == "workflow" || !matrixTasks.isEmpty }

    /// A matrix cell: the host's status in the task, or why it has none.
    public func cell(task: Int, host: String) -> String {
        matrix[task]?[host] ?? (skippedTasks.contains(task) ? "skipped" : "not_reached")
    }

    public mutating func apply(_ event: RunEvent) {
        lastOffset = max(lastOffset, event.offset)
        let at = event.offset
        switch event.kind {
        case .runStarted(let start):
            self.start = start
            for task in start.fanOutTasks ?? [] where !matrixTasks.contains(task) { matrixTasks.append(task) }
        case .hostConnecting(let connecting):
            update(connecting.host) { $0.segments.append(Segment(kind: .connect, label: "connect", start: at)) }
        case .hostConnected(let connected):
            update(connected.host) { host in
                host.via = connected.via
                host.connectMilliseconds = connected.connectMilliseconds
                host.close(.connect, at: at, status: "ok")
            }
        case .hostConnectFailed(let failed):
            update(failed.host) { host in
                host.connectError = failed.error
                host.close(.connect, at: at, status: failed.status.rawValue)
            }
        case .commandStarted(let command):
            update(command.host) { $0.segments.append(Segment(kind: .command, label: command.command, start: at)) }
        case .commandEnded(let ended):
            update(ended.host) { $0.close(.command, at: at, status: ended.status.rawValue) }
        case .transferProgress:
            break
        case .hostEnded(var record):
            record.stdout.text = Self.trim(record.stdout.text, to: keptBytes)
            record.stderr.text = Self.trim(record.stderr.text, to: keptBytes)
            update(record.host) { host in
                for index in host.segments.indices where host.segments[index].end == nil {
                    host.segments[index].end = at
                    host.segments[index].status = host.segments[index].status ?? record.status.rawValue
                }
                if host.segments.isEmpty, let started = record.startedMilliseconds {
                    host.segments.append(Segment(kind: .command, label: "run", start: started, end: at, status: record.status.rawValue))
                }
                host.record = record
            }
        case .taskStarted(let started):
            guard let name = started.host else { return }
            update(name) { $0.segments.append(Segment(kind: .task, label: "task \(started.label)", start: at)) }
        case .taskEnded(let ended):
            guard let name = ended.host else {
                if ended.status == "skipped" { skippedTasks.insert(ended.task) }
                return
            }
            if !matrixTasks.contains(ended.task) { matrixTasks.append(ended.task) }
            matrix[ended.task, default: [:]][name] = ended.status
            update(name) { host in
                if ended.attempt == 0 { return }
                host.close(.task, at: at, status: ended.status)
            }
        case .batchStarted(let batch):
            batches.append(Batch(task: batch.task, number: batch.batch, of: batch.batches, hosts: batch.hosts, start: at))
        case .routed(let step):
            if route.isEmpty { route.append(step.from) }
            if let next = step.to, next != route.last { route.append(next) }
        case .runEnded(let summary):
            self.summary = summary
        }
    }

    private mutating func update(_ name: String, _ body: (inout Host) -> Void) {
        let index: Int
        if let known = hostIndex[name] {
            index = known
        } else {
            index = hosts.count
            hostIndex[name] = index
            hosts.append(Host(name: name))
        }
        body(&hosts[index])
    }

    /// The first and last `limit / 2` bytes of `text` around an omission marker; whole characters only.
    static func trim(_ text: String, to limit: Int) -> String {
        let bytes = text.utf8.count
        guard bytes > limit else { return text }
        let half = max(1, limit / 2)
        let head = String(decoding: text.utf8.prefix(half), as: UTF8.self).replacingOccurrences(of: "\u{FFFD}", with: "")
        let tail = String(decoding: text.utf8.suffix(half), as: UTF8.self).replacingOccurrences(of: "\u{FFFD}", with: "")
        return head + "\n[… \(bytes - 2 * half) bytes left out of this report …]\n" + tail
    }
}

extension RunHistory.Host {
    mutating func close(_ kind: RunHistory.Segment.Kind, at offset: Int, status: String) {
        if let index = segments.lastIndex(where: { $0.kind == kind && $0.end == nil }) {
            segments[index].end = offset
            segments[index].status = status
        }
    }
}
