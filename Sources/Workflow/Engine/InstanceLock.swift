import Fleet
import Foundation
import Glibc
import Platform
import TextFormats

/// `--instance-check`: one run per task file and globals at a time (§20.4),
/// held with an exclusive flock on `~/TASKER/locks/workflow_<hash>.lock`.
public final class InstanceLock {
    public let path: String
    private let fd: Int32

    /// Takes the lock or throws exit 25 when another run holds it.
    public init(file: TaskFile, project: String?, home: String) throws {
        let globals = file.globalValues.sorted { $0.key < $1.key }
            .map { "\(JSONString.quote($0.key)):\(JSONString.quote($0.value))" }.joined(separator: ",")
        let hash = String(Digest.sha256Hex(Array("\(Digest.sha256Hex(file.contents)):{\(globals)}".utf8)).prefix(16))
        let directory = "\(home)/TASKER/locks"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        path = "\(directory)/workflow_\(hash).lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TaskFileError(exitCode: 20, "cannot open lock file \(path)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw TaskFileError(exitCode: 25, "another instance of this workflow is running (lock \(path))")
        }
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, 255)
        let snapshot = Dictionary(uniqueKeysWithValues: file.globals.map {
            ($0.name, WorkflowLog.isSecretName($0.name) ? "<masked len=\($0.value.count)>" : $0.value)
        })
        let info: [String: Any] = [
            "pid": Int(getpid()), "task_file": URL(fileURLWithPath: file.path).standardizedFileURL.path,
            "workflow_hash": hash, "started_at": ISO8601DateFormatter().string(from: Date()),
            "hostname": String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), "project": project as Any? ?? NSNull(), "global_vars_snapshot": snapshot,
        ]
        if let data = try? JSONSerialization.data(withJSONObject: info, options: [.sortedKeys]) {
            ftruncate(fd, 0)
            _ = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
    }

    /// Releases and deletes the lock.
    public func release() {
        unlink(path)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
