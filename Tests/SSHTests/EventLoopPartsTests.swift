import Foundation
import Glibc
import Locking
import Platform
@testable import SSH
import XCTest

/// The event loop's parts on their own, without sshd: the timer heap, the loop's
/// closures, timers and descriptor watches, a socket watcher's waiters, the slot queue.
final class EventLoopPartsTests: XCTestCase {
    private static func nonBlockingPipe() throws -> (Int32, Int32) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw XCTSkip("no pipe: \(errno)") }
        for fd in ends { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return (ends[0], ends[1])
    }

    // MARK: TimerHeap

    func testTimersComeDueInDeadlineOrderThenInTheOrderScheduled() {
        var heap = TimerHeap()
        let fired = Locked<[Int]>([])
        let base = Deadline.now()
        func at(_ milliseconds: UInt64) -> Deadline { Deadline(uptimeNanoseconds: base.uptimeNanoseconds + milliseconds * 1_000_000) }
        var generator = SystemRandomNumberGenerator()
        var expected: [(UInt64, Int)] = []
        var ids: [Int: UInt64] = [:]
        for label in 0..<300 {
            let offset = UInt64.random(in: 0...50, using: &generator)
            ids[label] = heap.schedule(at: at(offset)) { fired.withLock { $0.append(label) } }
            expected.append((offset, label))
        }
        // Cancel every third: a cancelled timer never fires, and is skipped as the next deadline.
        for label in stride(from: 0, to: 300, by: 3) { heap.cancel(ids[label]!) }
        expected.removeAll { $0.1 % 3 == 0 }
        let first = expected.min { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }!
        XCTAssertEqual(heap.nextDeadline(), at(first.0))
        XCTAssertTrue(heap.popExpired(now: Deadline(uptimeNanoseconds: base.uptimeNanoseconds - 1)).isEmpty, "nothing is due before its deadline")
        for handler in heap.popExpired(now: at(25)) { handler() }
        for handler in heap.popExpired(now: at(50)) { handler() }
        let order = expected.sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }.map(\.1)
        XCTAssertEqual(fired.withLock { $0 }, order)
        XCTAssertTrue(heap.isEmpty)
        XCTAssertNil(heap.nextDeadline())
    }

    func testCancelledFarTimersDoNotPileUpBehindALiveOne() {
        var heap = TimerHeap()
        let far = Deadline.after(seconds: 3600)
        let fired = Locked(0)
        _ = heap.schedule(at: .after(seconds: 1)) { fired.withLock { $0 += 1 } }
        for _ in 0..<10_000 {
            let id = heap.schedule(at: far) {}
            heap.cancel(id)
        }
        XCTAssertLessThanOrEqual(heap.storedEntries, 130, "cancelled entries are dropped once they are the majority")
        // The heap still orders after rebuilding: live timers, old and new, come due by deadline.
        let base = Deadline.now()
        let order = Locked<[UInt64]>([])
        for offset in (0..<200).map({ _ in UInt64.random(in: 1...5_000) }) {
            _ = heap.schedule(at: Deadline(uptimeNanoseconds: base.uptimeNanoseconds + offset * 1_000_000)) {
                order.withLock { $0.append(offset) }
            }
            let cancelled = heap.schedule(at: far) {}
            heap.cancel(cancelled)
        }
        for handler in heap.popExpired(now: .after(seconds: 10)) { handler() }
        let offsets = order.withLock { $0 }
        XCTAssertEqual(offsets.count, 200)
        XCTAssertEqual(offsets, offsets.sorted())
        XCTAssertEqual(fired.withLock { $0 }, 1)
        XCTAssertTrue(heap.isEmpty)
    }

    // MARK: EventLoop
    // MARK: EventLoop

    func testClosuresRunOnTheLoopAndTimersFireInOrderUnlessCancelled() async {
        let loop = EventLoop(name: "test-loop")
        XCTAssertFalse(loop.inLoop)
        let onLoop = await withCheckedContinuation { continuation in
            loop.execute { continuation.resume(returning: loop.inLoop) }
        }
        XCTAssertTrue(onLoop)
        let fired = Locked<[String]>([])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            loop.execute {
                _ = loop.scheduleTimer(at: .after(seconds: 0.06)) { fired.withLock { $0.append("late") }; done.resume() }
                let cancelled = loop.scheduleTimer(at: .after(seconds: 0.02)) { fired.withLock { $0.append("cancelled") } }
                _ = loop.scheduleTimer(at: .after(seconds: 0.03)) { fired.withLock { $0.append("early") } }
                loop.cancelTimer(cancelled)
            }
        }
        XCTAssertEqual(fired.withLock { $0 }, ["early", "late"])
    }

    func testAWatchedPipeWakesItsHandlerUntilUnwatched() async throws {
        let loop = EventLoop(name: "test-loop")
        let (readEnd, writeEnd) = try Self.nonBlockingPipe()
        defer { [readEnd, writeEnd].forEach { close($0) } }
        let events = Locked(0)
        let readable = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            loop.execute {
                loop.watch(readEnd, interest: .readable) { _ in
                    var byte: UInt8 = 0
                    while read(readEnd, &byte, 1) > 0 {}
                    let count = events.withLock { count -> Int in
                        count += 1
                        return count
                    }
                    if count == 1 { continuation.resume(returning: true) }
                }
                var byte: UInt8 = 1
                _ = write(writeEnd, &byte, 1)
            }
        }
        XCTAssertTrue(readable)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            loop.execute {
                loop.unwatch(readEnd)
                var byte: UInt8 = 2
                _ = write(writeEnd, &byte, 1)
                _ = loop.scheduleTimer(at: .after(seconds: 0.05)) { done.resume() }
            }
        }
        XCTAssertEqual(events.withLock { $0 }, 1, "no event after unwatch")
    }

    // MARK: SocketWatcher

    func testASocketWatcherTimesOutALoneWaiterAndWakesEveryWaiterOnReadiness() async throws {
        let loop = EventLoop(name: "test-loop")
        let (readEnd, writeEnd) = try Self.nonBlockingPipe()
        defer { [readEnd, writeEnd].forEach { close($0) } }
        let watcher = await withCheckedContinuation { continuation in
            loop.execute { continuation.resume(returning: SocketWatcher(loop: loop, fd: readEnd)) }
        }
        func wait(_ seconds: Double?) async -> SocketWatcher.Outcome {
            await withCheckedContinuation { continuation in
                loop.execute {
                    watcher.register(watcher.makeWaiterID(), interest: .readable, deadline: .after(seconds: seconds),
                                     continuation: continuation)
                }
            }
        }
        let early = await wait(0.05)
        XCTAssertEqual(early, .timedOut, "nothing to read before the deadline")
        async let first = wait(10)
        async let second = wait(nil)
        try await Task.sleep(nanoseconds: 50_000_000)
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
        let outcomes = await [first, second]
        XCTAssertEqual(outcomes, [.ready, .ready], "any readiness wakes all waiters")
        await withCheckedContinuation { continuation in loop.execute { watcher.stop(); continuation.resume() } }
    }

    // MARK: SlotQueue

    private actor Slots {
        var queue = SlotQueue(limit: 1)
        var waiting: [UInt64] = []

        func acquire() async -> SlotQueue.Grant {
            if queue.tryAcquire() { return .granted }
            let id = queue.makeWaiterID()
            waiting.append(id)
            return await withCheckedContinuation { queue.enqueue(id, $0) }
        }

        func release() { queue.release() }
        func remove(_ index: Int, _ outcome: SlotQueue.Grant) { queue.remove(waiting[index], outcome) }
        func removeAll(_ outcome: SlotQueue.Grant) { queue.removeAll(outcome) }
        var queued: Int { waiting.count }
        var inUse: Int { queue.inUse }
    }

    func testSlotsAreHandedOnInOrderAndWaitersLeaveWithTheirReason() async throws {
        let slots = Slots()
        let first = await slots.acquire()
        XCTAssertEqual(first, .granted)
        func queued(_ count: Int) async throws {
            while await slots.queued < count { try await Task.sleep(nanoseconds: 1_000_000) }
        }
        let second = Task { await slots.acquire() }
        try await queued(1)
        let third = Task { await slots.acquire() }
        try await queued(2)
        let fourth = Task { await slots.acquire() }
        try await queued(3)
        await slots.release()
        let handedOn = await second.value
        XCTAssertEqual(handedOn, .granted, "the first in the queue gets the freed slot")
        await slots.remove(1, .timedOut)
        let timedOut = await third.value
        XCTAssertEqual(timedOut, .timedOut)
        await slots.removeAll(.connectionFailed)
        let failed = await fourth.value
        XCTAssertEqual(failed, .connectionFailed)
        let held = await slots.inUse
        XCTAssertEqual(held, 1, "the slot handed on is still held")
        await slots.release()
        let free = await slots.inUse
        XCTAssertEqual(free, 0)
    }
}
