import Dispatch
import Foundation
import PetrelStorage
import Testing

/// Shows that the Thread Sanitizer run can fail: `Tools/test-tsan` runs the first case alone,
/// with `PETREL_TSAN_SELF_CHECK=1`, and requires TSan to report its race; the normal runs skip
/// it. The second case is the control: the same contended counter behind `Locked` is clean.
@Suite struct ThreadSanitizerSelfCheckTests {
    /// Deliberately unguarded: two threads increment `count` with nothing ordering them.
    final class UnguardedCounter: @unchecked Sendable { var count = 0 }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["PETREL_TSAN_SELF_CHECK"] == "1", "only for Tools/test-tsan's self-check"))
    func anUnguardedCounterIsADataRace() {
        let counter = UnguardedCounter()
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            for _ in 0..<100_000 { counter.count += 1 }
        }
        // Without TSan the lost updates may or may not show; with it the run halts before here.
        #expect(counter.count > 0)
    }

    @Test func aContendedLockedCounterIsNoRace() {
        let counter = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            for _ in 0..<20_000 { counter.withLock { $0 += 1 } }
        }
        #expect(counter.withLock { $0 } == 40_000)
    }
}
