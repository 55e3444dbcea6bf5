import PetrelStorage
import PetrelCoordinator
import Testing

@Suite struct ManualSchedulerTests {
    final class Log: Sendable {
        let entries = Locked<[String]>([])
        func add(_ entry: String) { entries.withLock { $0.append(entry) } }
        var all: [String] { entries.withLock { $0 } }
    }

    @Test func runsDueWorkInTimeOrderWithTheClockAtItsDueTime() {
        let scheduler = ManualScheduler(startMs: 1000)
        let log = Log()
        scheduler.schedule(afterMs: 300) { log.add("c@\(scheduler.nowMs)") }
        scheduler.schedule(afterMs: 100) { log.add("a@\(scheduler.nowMs)") }
        scheduler.schedule(afterMs: 100) { log.add("b@\(scheduler.nowMs)") }
        scheduler.advance(byMs: 99)
        #expect(log.all.isEmpty)
        scheduler.advance(byMs: 201)
        #expect(log.all == ["a@1100", "b@1100", "c@1300"])
        #expect(scheduler.nowMs == 1300)
        #expect(scheduler.pendingCount == 0)
    }

    @Test func cancelledWorkNeverRunsAndLeavesNothingBehind() {
        let scheduler = ManualScheduler()
        let log = Log()
        let work = scheduler.schedule(afterMs: 10) { log.add("ran") }
        work.cancel()
        #expect(scheduler.pendingCount == 0)
        scheduler.advance(byMs: 100)
        #expect(log.all.isEmpty)
    }

    /// A session timer that re-arms itself (as a heartbeat expiry does) runs at each period
    /// within one long advance.
    @Test func workScheduledByWorkRunsInTheSameAdvance() {
        let scheduler = ManualScheduler(startMs: 0)
        let log = Log()
        @Sendable func tick() {
            log.add("\(scheduler.nowMs)")
            if scheduler.nowMs < 300 { scheduler.schedule(afterMs: 100, tick) }
        }
        scheduler.schedule(afterMs: 100, tick)
        scheduler.advance(byMs: 1000)
        #expect(log.all == ["100", "200", "300"])
        #expect(scheduler.nowMs == 1000)
    }

    @Test func taskSchedulerRunsAndCancels() async throws {
        let scheduler = TaskScheduler()
        let log = Log()
        let cancelled = scheduler.schedule(afterMs: 0) { log.add("cancelled") }
        cancelled.cancel()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            scheduler.schedule(afterMs: 1) {
                log.add("ran")
                done.resume()
            }
        }
        #expect(log.all.contains("ran"))
    }
}
