import Platform

/// Runs `body` for the indices `0..<count`, at most `limit` at once, starting
/// them in index order while `mayStart()` allows; `onResult` sees each result
/// as it arrives. When `deadline` passes, `onDeadline` runs, the running
/// bodies are cancelled and no more start. Returns how many indices started:
/// always the first ones, so the rest are `started..<count`.
public func forEachConcurrently<T: Sendable>(
    count: Int, limit: Int, deadline: Deadline = .distantFuture, onDeadline: @escaping @Sendable () -> Void = {},
    mayStart: () -> Bool = { true }, _ body: @escaping @Sendable (Int) async -> T, onResult: (Int, T) -> Void
) async -> Int {
    var next = 0
    await withTaskGroup(of: (index: Int, result: T)?.self) { group in
        var deadlinePassed = false
        if deadline != .distantFuture {
            group.addTask {
                try? await Task.sleep(for: .seconds(max(0, deadline.secondsRemaining)))
                if !Task.isCancelled { onDeadline() }
                return nil
            }
        }
        var running = 0
        while true {
            while next < count, running < max(1, limit), !deadlinePassed, !Task.isCancelled, mayStart() {
                let index = next
                next += 1
                running += 1
                group.addTask { (index, await body(index)) }
            }
            guard running > 0, let finished = await group.next() else { break }
            guard let (index, result) = finished else {
                deadlinePassed = true
                group.cancelAll()
                continue
            }
            running -= 1
            onResult(index, result)
        }
        group.cancelAll()
    }
    return next
}

/// `forEachConcurrently` collecting the results by index: nil for indices that never started.
public func concurrentMap<T: Sendable>(count: Int, limit: Int, mayStart: () -> Bool = { true },
                                       _ body: @escaping @Sendable (Int) async -> T) async -> [T?] {
    var results = [T?](repeating: nil, count: count)
    _ = await forEachConcurrently(count: count, limit: limit, mayStart: mayStart, body) { index, result in
        results[index] = result
    }
    return results
}
