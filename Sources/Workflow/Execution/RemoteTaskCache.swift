import Locking

/// The remote work of tasks that run at the same time, per distinct command and
/// arguments (after placeholders): a fan-out task's hosts, a parallel block's
/// subtasks. Those that come out the same share one, so a push reads its files
/// once for all of them. Not shared across sequential steps, where an earlier
/// step may have changed the files.
final class RemoteTaskCache: Sendable {
    private let tasks = Locked<[String: RemoteTask]>([:])

    func task(command: String, arguments: String, make: () throws -> RemoteTask?) throws -> RemoteTask? {
        try tasks.withLock { tasks in
            let key = command + "\u{0}" + arguments
            if let task = tasks[key] { return task }
            guard let task = try make() else { return nil }
            tasks[key] = task
            return task
        }
    }
}
