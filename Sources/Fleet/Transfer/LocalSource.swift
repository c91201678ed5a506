import Foundation
import Glibc

/// A local file or directory to push, walked into the entries that go to a host.
struct LocalEntry: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case file(size: UInt64)
        case directory
    }

    /// Where it is on the controller.
    var localPath: String
    /// Its path below the destination: the source's own name first (`app/bin/run`).
    var relativePath: String
    var kind: Kind
    /// Permission bits (`st_mode & 07777`).
    var mode: UInt32
    /// Seconds since the epoch.
    var modificationTime: UInt64
}

enum LocalSource {
    /// The entries of `path`: the file itself, or with `recursive` the directory
    /// and everything below it (directories before their contents, names sorted).
    /// Symbolic links are followed; other special files are refused.
    static func entries(of path: String, recursive: Bool) throws -> [LocalEntry] {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let name = (trimmed as NSString).lastPathComponent
        var entries: [LocalEntry] = []
        try walk(trimmed, relative: name, recursive: recursive, into: &entries)
        return entries
    }

    private static func walk(_ path: String, relative: String, recursive: Bool, into entries: inout [LocalEntry]) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw FleetError.badInput("cannot read \(path): \(String(cString: strerror(errno)).lowercased())")
        }
        let mode = UInt32(info.st_mode) & 0o7777
        let modified = UInt64(max(0, info.st_mtim.tv_sec))
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            entries.append(LocalEntry(localPath: path, relativePath: relative, kind: .file(size: UInt64(info.st_size)),
                                      mode: mode, modificationTime: modified))
        case S_IFDIR:
            guard recursive else { throw FleetError.badInput("\(path) is a directory (use -r to push a tree)") }
            entries.append(LocalEntry(localPath: path, relativePath: relative, kind: .directory, mode: mode, modificationTime: modified))
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: path).sorted() } catch {
                throw FleetError.badInput("cannot list \(path): \(error.localizedDescription)")
            }
            for child in names {
                try walk(path + "/" + child, relative: relative + "/" + child, recursive: true, into: &entries)
            }
        default:
            throw FleetError.badInput("\(path) is not a regular file or directory")
        }
    }
}
