import Foundation
import Glibc
import SSH

/// An executable inventory source, run as Ansible's script plugin runs it:
/// `SCRIPT --list` prints the inventory as JSON; without `_meta.hostvars`,
/// `SCRIPT --host HOST` prints each host's variables. Each run has a deadline;
/// a failure, a hang or bad JSON is an error naming the script, with its stderr.
public enum InventoryScript {
    /// An executable file that starts like a program (`#!` or an ELF header): an INI
    /// file that merely has its execute bit set is read as text.
    static func isScript(_ path: String) -> Bool {
        guard access(path, X_OK) == 0, let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 4)) ?? Data()
        return head.starts(with: Array("#!".utf8)) || head.starts(with: [0x7f, 0x45, 0x4c, 0x46])
    }

    static func load(_ path: String, timeout: Double, into inventory: inout Inventory) throws {
        let reader = JSONInventoryReader(path: path)
        let listed = try json(run(path, ["--list"], timeout: timeout), from: "\(path) --list")
        let (needsHostVariables, hosts) = try reader.read(listed, into: &inventory)
        guard needsHostVariables else { return }
        for host in hosts {
            let variables = try json(run(path, ["--host", host], timeout: timeout), from: "\(path) --host \(host)")
            try reader.setHostVariables(host, variables, into: &inventory)
        }
    }

    private static func json(_ output: Data, from command: String) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: output) as? [String: Any] else {
            throw InventoryError.located(file: command, line: nil, message: "did not print a JSON object")
        }
        return object
    }

    /// Runs the script with `arguments`; returns its stdout when it exits 0 within `timeout`.
    public static func run(_ path: String, _ arguments: [String], timeout: Double) throws -> Data {
        let command = ([path] + arguments).joined(separator: " ")
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        guard pipe(&out) == 0, pipe(&err) == 0 else {
            throw InventoryError.located(file: command, line: nil, message: "cannot create pipes")
        }
        for fd in [out[0], err[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let pid: pid_t
        do {
            pid = try ProcessSpawn.start([path] + arguments, stdin: null, stdout: out[1], stderr: err[1])
        } catch {
            for fd in [out[0], out[1], err[0], err[1], null] { close(fd) }
            throw InventoryError.located(file: command, line: nil, message: "cannot run the inventory script: \(error)")
        }
        for fd in [out[1], err[1], null] { close(fd) }
        var open = [out[0], err[0]]
        var collected: [Int32: Data] = [out[0]: Data(), err[0]: Data()]
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                timedOut = true
                kill(-pid, SIGKILL)
                break
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), Int32(min(remaining * 1000 + 1, 1000)))
            for entry in fds where entry.revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    collected[entry.fd]!.append(contentsOf: buffer[0..<n])
                } else if n == 0 || errno != EINTR {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        for fd in [out[0], err[0]] { close(fd) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let stdout = collected[out[0]]!
        let stderr = collected[err[0]]!
        if timedOut {
            throw InventoryError.located(file: command, line: nil, message: "inventory script did not finish within \(Int(timeout))s (killed)")
        }
        guard status == 0 else {
            let said = String(decoding: stderr, as: UTF8.self).split(separator: "\n").last.map { ": \($0)" } ?? ""
            let how = status & 0x7f != 0 ? "killed by signal \(status & 0x7f)" : "exited \((status >> 8) & 0xff)"
            throw InventoryError.located(file: command, line: nil, message: "inventory script \(how)\(said)")
        }
        return stdout
    }
}
