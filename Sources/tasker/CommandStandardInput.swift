import Fleet
import Foundation
import Glibc
import SSH

/// Where `tasker exec` takes its commands' standard input from: `--stdin FILE`,
/// `--stdin -` (Tasker's stdin, spooled to a temporary file first so every
/// host can read it), or a regular file redirected to Tasker's stdin.
/// Otherwise none: commands see EOF at once.
enum CommandStandardInput {
    static func open(_ option: String?) throws -> (any CommandInput)? {
        do {
            switch option {
            case "-"?:
                let spooled = try spoolStandardInput()
                // The reader holds the file open; its name is not needed after that.
                defer { unlink(spooled) }
                return try SharedFileInput(path: spooled)
            case let path?:
                return try SharedFileInput(path: path)
            case nil:
                var info = stat()
                guard fstat(0, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
                return try SharedFileInput(path: "/dev/stdin")
            }
        } catch let error as FleetError {
            throw UsageError("--stdin: \(error.description)")
        }
    }

    /// Copies Tasker's standard input (a pipe) to a temporary file only its owner can read.
    private static func spoolStandardInput() throws -> String {
        let path = NSTemporaryDirectory() + "/tasker-stdin-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw UsageError("--stdin -: cannot create a temporary file")
        }
        defer { try? handle.close() }
        while let data = try FileHandle.standardInput.read(upToCount: 1 << 20), !data.isEmpty {
            try handle.write(contentsOf: data)
        }
        return path
    }
}
