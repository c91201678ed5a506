/// Runs `body` for every index in `0..<count`, at most `limit` at once, in
/// index order of starting; no further index starts once `cancel` is set.
/// Results come back by index, nil for indices that never started.
func concurrentMap<T: Sendable>(count: Int, limit: Int, cancel: CancellationFlag,
                                _ body: @escaping @Sendable (Int) async -> T) async -> [T?] {
    var results = [T?](repeating: nil, count: count)
    await withTaskGroup(of: (Int, T).self) { group in
        var next = 0
        var running = 0
        while true {
            while next < count, running < max(1, limit), !cancel.isSet {
                let index = next
                next += 1
                running += 1
                group.addTask { (index, await body(index)) }
            }
            guard running > 0, let (index, result) = await group.next() else { break }
            running -= 1
            results[index] = result
        }
    }
    return results
}
