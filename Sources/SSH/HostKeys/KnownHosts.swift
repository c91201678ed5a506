import Foundation
import Locking
import Platform

/// A host key as the server presented it.
public struct HostKey: Sendable, Equatable {
    /// The key type name, e.g. `ssh-ed25519`.
    public var type: String
    /// The public key blob (what known_hosts stores in base64).
    public var blob: [UInt8]

    /// SHA-256 digest of the blob, as libssh2 computed it.
    public var sha256: [UInt8]

    public init(type: String, blob: [UInt8], sha256: [UInt8]) {
        self.type = type
        self.blob = blob
        self.sha256 = sha256
    }

    /// `SHA256:…` as `ssh-keygen -l` prints it.
    public var fingerprint: String {
        "SHA256:" + Data(sha256).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }
}

/// The outcome of looking a host key up in known_hosts.
public enum HostKeyVerdict: Sendable, Equatable {
    case trusted
    case unknown
    /// A key of the same type is recorded for this host and differs; `file:line` points at it.
    case changed(location: String)
    case revoked(location: String)
}

/// How unknown and changed host keys are treated (`--host-key-policy`).
public enum HostKeyPolicy: String, Sendable, CaseIterable {
    /// Unknown or changed keys are refused (OpenSSH `StrictHostKeyChecking yes`).
    case strict
    /// Unknown keys are added to known_hosts; changed keys are refused.
    case acceptNew = "accept-new"
    /// No verification (testing only).
    case off
}

/// The known_hosts files of a run, parsed once.
///
/// Host names are looked up the way OpenSSH does: `host` for port 22 and
/// `[host]:port` otherwise, so a port-less entry never vouches for another port.
public struct KnownHosts: Sendable {
    struct Entry: Sendable {
        enum Marker: Sendable { case none, revoked, certAuthority }
        var marker: Marker
        var patterns: [String]
        var hashed: (salt: [UInt8], hash: [UInt8])?
        var keyType: String
        var keyBlob: [UInt8]
        var location: String

        func matches(_ name: String) -> Bool {
            if let hashed {
                return Cryptography.hmacSHA1(key: hashed.salt, data: Array(name.utf8)) == hashed.hash
            }
            return HostPattern.list(patterns, matches: name)
        }
    }

    /// Files read, in order; new keys are appended to the first one.
    public let files: [String]
    let entries: [Entry]
    /// Entries whose host list is plain names, by lower-cased name; the rest
    /// (wildcards, negations, hashed names) are scanned. Large fleets' files are
    /// mostly plain names, so a lookup stays cheap however many hosts they list.
    private let exactIndex: [String: [Int]]
    private let scanned: [Int]

    public init(files: [String]) {
        var entries: [Entry] = []
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            entries += Self.parse(text, file: file)
        }
        self.init(files: files, entries: entries)
    }

    /// known_hosts text that did not come from a file Tasker reads (tests, fuzzing).
    public init(parsing text: String, file: String) {
        self.init(files: [file], entries: Self.parse(text, file: file))
    }

    private init(files: [String], entries: [Entry]) {
        self.files = files
        var exactIndex: [String: [Int]] = [:]
        var scanned: [Int] = []
        for (index, entry) in entries.enumerated() {
            let plain = entry.hashed == nil && entry.patterns.allSatisfy { !$0.contains(where: { "*?!".contains($0) }) }
            if plain {
                for pattern in Set(entry.patterns.map { $0.lowercased() }) { exactIndex[pattern, default: []].append(index) }
            } else {
                scanned.append(index)
            }
        }
        self.entries = entries
        self.exactIndex = exactIndex
        self.scanned = scanned
    }

    /// Entries that match `name`, in file order.
    func matching(_ name: String) -> [Entry] {
        let candidates = (exactIndex[name.lowercased()] ?? []) + scanned.filter { entries[$0].matches(name) }
        return candidates.sorted().map { entries[$0] }
    }

    public static func lookupName(host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    public func verify(_ key: HostKey, host: String, port: Int) -> HostKeyVerdict {
        let name = Self.lookupName(host: host, port: port)
        var changedAt: String?
        for entry in matching(name) where entry.marker != .certAuthority {
            if entry.marker == .revoked {
                if entry.keyBlob == key.blob { return .revoked(location: entry.location) }
                continue
            }
            if entry.keyType == key.type {
                if entry.keyBlob == key.blob { return .trusted }
                changedAt = changedAt ?? entry.location
            }
        }
        if let changedAt { return .changed(location: changedAt) }
        return .unknown
    }

    private static let appendLock = Locked(())

    /// Records `key` for `host:port` in the first known_hosts file (accept-new).
    public func append(_ key: HostKey, host: String, port: Int) throws {
        guard let file = files.first else { return }
        let line = "\(Self.lookupName(host: host, port: port)) \(key.type) \(Data(key.blob).base64EncodedString())\n"
        try Self.appendLock.withLock { _ in
            let directory = (file as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if !FileManager.default.fileExists(atPath: file) {
                _ = FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            guard let handle = FileHandle(forWritingAtPath: file) else {
                throw SSHError(.other, phase: .hostKey, "cannot open \(file) to record the host key")
            }
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(line.utf8))
        }
    }

    static func parse(_ text: String, file: String) -> [Entry] {
        var entries: [Entry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var fields = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            var marker = Entry.Marker.none
            if first == "@revoked" {
                marker = .revoked
                fields.removeFirst()
            } else if first == "@cert-authority" {
                marker = .certAuthority
                fields.removeFirst()
            }
            guard fields.count >= 3, let blob = Data(base64Encoded: fields[2]) else { continue }
            let hostField = fields[0]
            var hashed: (salt: [UInt8], hash: [UInt8])?
            if hostField.hasPrefix("|1|") {
                let parts = hostField.dropFirst(3).split(separator: "|")
                guard parts.count == 2,
                      let salt = Data(base64Encoded: String(parts[0])),
                      let hash = Data(base64Encoded: String(parts[1])) else { continue }
                hashed = ([UInt8](salt), [UInt8](hash))
            }
            entries.append(Entry(
                marker: marker,
                patterns: hostField.split(separator: ",").map(String.init),
                hashed: hashed,
                keyType: fields[1],
                keyBlob: [UInt8](blob),
                location: "\(file):\(index + 1)"))
        }
        return entries
    }
}

extension KnownHosts {
    /// Where `@cert-authority` lines vouch for `host:port`'s certificates.
    public func certificateAuthorityLocations(host: String, port: Int) -> [String] {
        matching(Self.lookupName(host: host, port: port)).filter { $0.marker == .certAuthority }.map(\.location)
    }

    /// Key types recorded for `host:port`, most recent entries last; used to
    /// steer key exchange toward a key type we can verify.
    public func keyTypes(host: String, port: Int) -> [String] {
        let name = Self.lookupName(host: host, port: port)
        var types: [String] = []
        for entry in matching(name) where entry.marker == .none && !types.contains(entry.keyType) {
            types.append(entry.keyType)
        }
        return types
    }
}

extension HostKey {
    /// The type name at the start of an SSH public key blob (a length-prefixed string).
    static func typeName(fromBlob blob: [UInt8]) -> String? {
        guard blob.count >= 4 else { return nil }
        let length = Int(blob[0]) << 24 | Int(blob[1]) << 16 | Int(blob[2]) << 8 | Int(blob[3])
        guard length > 0, 4 + length <= blob.count else { return nil }
        return String(decoding: blob[4..<(4 + length)], as: UTF8.self)
    }
}
