import Fleet
import Locking
import SSH
import XCTest

final class BoundedConcurrencyTests: XCTestCase {
    func testAtMostLimitRunAtOnceAndResultsComeBackByIndex() async {
        let load = Locked((now: 0, peak: 0))
        let results = await concurrentMap(count: 20, limit: 3) { index in
            load.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
            try? await Task.sleep(for: .milliseconds(5))
            load.withLock { $0.now -= 1 }
            return index * 2
        }
        XCTAssertEqual(results, (0..<20).map { $0 * 2 })
        XCTAssertEqual(load.withLock { $0.peak }, 3)
    }

    func testNothingStartsOnceMayStartSaysNo() async {
        let started = Locked(0)
        let results = await concurrentMap(count: 10, limit: 2, mayStart: { started.withLock { $0 } < 4 }) { index in
            started.withLock { $0 += 1 }
            return index
        }
        XCTAssertEqual(results.compactMap { $0 }.count, results.prefix { $0 != nil }.count, "the ones started come first")
        XCTAssertLessThan(results.compactMap { $0 }.count, 10)
    }

    func testTheDeadlineCancelsRunningBodiesAndStopsStarting() async {
        let deadlinePassed = Locked(false)
        var finished: [Int: Bool] = [:]
        let started = await forEachConcurrently(
            count: 10, limit: 2, deadline: .after(seconds: 0.2), onDeadline: { deadlinePassed.withLock { $0 = true } },
            { _ in
                try? await Task.sleep(for: .seconds(30))
                return Task.isCancelled
            }
        ) { index, cancelled in finished[index] = cancelled }
        XCTAssertTrue(deadlinePassed.withLock { $0 })
        XCTAssertEqual(started, 2)
        XCTAssertEqual(finished, [0: true, 1: true], "both running bodies were cancelled")
    }
}
