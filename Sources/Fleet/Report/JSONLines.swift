/// NDJSON for `--json`: one `host` line per host as it finishes, then a `summary` line.
/// Each is its record with `"type"` added.
public enum JSONLines {
    public static func hostLine(_ record: HostRecord) -> String {
        RecordCoding.line(Typed(type: "host", record: record))
    }

    public static func summaryLine(_ summary: RunSummary) -> String {
        RecordCoding.line(Typed(type: "summary", record: summary))
    }

    /// A record with its line's `type`.
    struct Typed<Record: Codable>: Codable {
        var type: String
        var record: Record

        private enum CodingKeys: String, CodingKey { case type }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try record.encode(to: encoder)
        }

        init(type: String, record: Record) {
            self.type = type
            self.record = record
        }

        init(from decoder: any Decoder) throws {
            type = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .type)
            record = try Record(from: decoder)
        }
    }
}
