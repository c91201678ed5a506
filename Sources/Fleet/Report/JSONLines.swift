import TextFormats

/// NDJSON for `--json`: one object per host as it finishes, then a summary.
public enum JSONLines {
    enum Value {
        case string(String?)
        case integer(Int64?)
        case bool(Bool)
        case strings([String])

        static func int<T: BinaryInteger>(_ value: T?) -> Value { .integer(value.map { Int64($0) }) }
    }

    public static func hostLine(_ result: HostResult) -> String {
        encode([
            ("type", .string("host")),
            ("host", .string(result.host)),
            ("status", .string(result.status.rawValue)),
            ("exit_code", .int(result.exitCode)),
            ("signal", .string(result.signal)),
            ("stdout", .string(result.stdout.text)),
            ("stderr", .string(result.stderr.text)),
            ("stdout_bytes", .int(result.stdout.bytes)),
            ("stderr_bytes", .int(result.stderr.bytes)),
            ("stdout_truncated", .bool(result.stdout.truncated)),
            ("stderr_truncated", .bool(result.stderr.truncated)),
            ("connect_ms", .int(result.connectMilliseconds)),
            ("run_ms", .int(result.runMilliseconds)),
            ("commands_run", .int(result.commandsRun)),
            ("error", .string(result.error)),
            ("via", .strings(result.via)),
            ("bytes_transferred", .int(result.bytesTransferred)),
            ("pty", .bool(result.streamsMerged)),
        ])
    }

    public static func summaryLine(_ summary: RunSummary) -> String {
        var fields: [(String, Value)] = [("type", .string("summary")), ("hosts", .int(summary.hosts))]
        for status in HostStatus.allCases {
            fields.append((status.rawValue, .int(summary.counts[status] ?? 0)))
        }
        fields += [
            ("exit_code", .int(summary.exitCode)),
            ("wall_ms", .int(summary.wallMilliseconds)),
            ("connections_opened", .int(summary.connectionsOpened)),
            ("jump_host_connections_opened", .int(summary.jumpHostConnectionsOpened)),
            ("peak_rss_kb", .int(summary.peakResidentKilobytes)),
        ]
        return encode(fields)
    }

    /// Encodes the fields in the given order; missing values become `null`.
    static func encode(_ fields: [(String, Value)]) -> String {
        let parts = fields.map { key, value -> String in
            let text: String
            switch value {
            case .string(let string): text = string.map(JSONString.quote) ?? "null"
            case .integer(let int): text = int.map { String($0) } ?? "null"
            case .bool(let bool): text = bool ? "true" : "false"
            case .strings(let strings): text = "[" + strings.map(JSONString.quote).joined(separator: ",") + "]"
            }
            return "\(JSONString.quote(key)):\(text)"
        }
        return "{" + parts.joined(separator: ",") + "}"
    }


}
