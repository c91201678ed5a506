import Foundation
import Platform

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

    /// The most an inventory script may print on each stream.
    static let outputLimit = 256 << 20

    /// Runs the script with `arguments`; returns its stdout when it exits 0 within `timeout`.
    public static func run(_ path: String, _ arguments: [String], timeout: Double) throws -> Data {
        let command = ([path] + arguments).joined(separator: " ")
        let run: LocalProcess.Collected
        do {
            run = try LocalProcess.runBlocking([path] + arguments, timeout: timeout, limit: outputLimit)
        } catch {
            throw InventoryError.located(file: command, line: nil, message: "cannot run the inventory script: \(error)")
        }
        if run.ending.timedOut {
            throw InventoryError.located(file: command, line: nil, message: "inventory script did not finish within \(Int(timeout))s (killed)")
        }
        if run.truncated {
            throw InventoryError.located(file: command, line: nil, message: "inventory script printed more than \(outputLimit >> 20) MiB")
        }
        guard run.ending.exitCode == 0 else {
            let said = String(decoding: run.stderr, as: UTF8.self).split(separator: "\n").last.map { ": \($0)" } ?? ""
            let how = run.ending.signal.map { "killed by signal \($0)" } ?? "exited \(run.ending.status)"
            throw InventoryError.located(file: command, line: nil, message: "inventory script \(how)\(said)")
        }
        return Data(run.stdout)
    }
}
