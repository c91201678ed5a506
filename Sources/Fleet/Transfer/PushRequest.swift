import Foundation

/// What `tasker push` sends, and how.
public struct PushRequest: Sendable {
    /// Local files or directories; `{host}` and `{address}` are replaced per host.
    public var sources: [String]
    /// The remote destination; the same tokens apply.
    public var destination: String
    /// Push directory trees.
    public var recursive = false
    /// Permission bits for every file instead of the source's.
    public var mode: UInt32?
    /// Keep the source's modification time.
    public var preserveTimes = false
    /// `chown` the files to this owner and/or group (the remote user must be allowed to).
    public var owner: String?
    public var group: String?

    /// `chown`'s `OWNER[:GROUP]` (or `:GROUP`) argument; nil when neither is asked for.
    var chownOwner: String? {
        guard owner != nil || group != nil else { return nil }
        return (owner ?? "") + (group.map { ":" + $0 } ?? "")
    }
    public var skipCheck: SkipCheck = .none
    /// Seconds one host's whole transfer may take; nil for no limit.
    public var timeout: Double?

    public enum SkipCheck: Sendable {
        case none
        /// Skip files whose remote SHA-256 (`sha256sum` on the host) equals the local one.
        case checksum
        /// Skip files whose remote size and modification time equal the local ones.
        case sizeAndTime
    }

    public init(sources: [String], destination: String) {
        self.sources = sources
        self.destination = destination
    }

    /// `text` with the host's tokens replaced: `{host}` its name, `{address}` its address.
    static func expand(_ text: String, for spec: ConnectionSpec) -> String {
        text.replacingOccurrences(of: "{host}", with: spec.name)
            .replacingOccurrences(of: "{address}", with: spec.settings.address)
    }

    static func isPerHost(_ text: String) -> Bool {
        text.contains("{host}") || text.contains("{address}")
    }
}
