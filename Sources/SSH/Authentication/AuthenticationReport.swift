import Foundation

/// What happened while logging in, for the one-line `auth_failed` error: each
/// identity offered, with its algorithms and the server's answer, in order,
/// then the methods the server allows.
struct AuthenticationReport: CustomStringConvertible {
    enum Answer: Equatable {
        /// The server would not take the key (its query was refused).
        case refused
        /// The server took the key but not the signature.
        case signatureRejected
        /// Not offered, or given up before signing, for a local reason.
        case notOffered(String)
        /// The server refused the password.
        case passwordRefused
    }

    struct Entry {
        var identity: String
        var algorithms: [String]
        var answer: Answer
    }

    private(set) var entries: [Entry] = []
    /// Problems that belong to no identity (an agent that did not answer).
    private(set) var notes: [String] = []
    /// `libssh2_userauth_list`'s answer, when it could be asked.
    var allowedMethods: [String]?

    mutating func record(_ identity: String, algorithm: String?, _ answer: Answer) {
        if let last = entries.last, last.identity == identity, last.answer == answer, let algorithm {
            entries[entries.count - 1].algorithms.append(algorithm)
            return
        }
        entries.append(Entry(identity: identity, algorithms: algorithm.map { [$0] } ?? [], answer: answer))
    }

    mutating func note(_ text: String) {
        if !notes.contains(text) { notes.append(text) }
    }

    var description: String {
        var parts: [String] = []
        let offered = entries.map { entry -> String in
            let algorithms = entry.algorithms.isEmpty ? "" : " (\(entry.algorithms.joined(separator: ", ")))"
            let answer: String
            switch entry.answer {
            case .refused: answer = "refused"
            case .signatureRejected: answer = "signature rejected"
            case .notOffered(let why): answer = "not offered: \(why)"
            case .passwordRefused: answer = "refused"
            }
            return "\(entry.identity)\(algorithms): \(answer)"
        }
        parts.append(offered.isEmpty ? "no identities to offer" : "offered " + offered.joined(separator: "; "))
        parts += notes
        if let allowedMethods {
            parts.append("server allows: " + (allowedMethods.isEmpty ? "nothing" : allowedMethods.joined(separator: ", ")))
        }
        return parts.joined(separator: "; ")
    }

    /// Read once: building `ProcessInfo.environment` on every connection cost more than the rest of labelling keys.
    private static let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()

    /// A path as the user would write it: the home directory as `~`.
    static func displayPath(_ path: String) -> String {
        guard !home.isEmpty, home != "/", path.hasPrefix(home + "/") else { return path }
        return "~" + path.dropFirst(home.count)
    }
}
