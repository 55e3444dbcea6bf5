@testable import PetrelBroker
import PetrelCoordinator
import PetrelStorage
import Synchronization
import Testing

/// Delayed operations: a notification wakes only the operations waiting on its key, and an
/// operation leaves nothing behind (no waiter, no key, no timer) once woken, expired or
/// cancelled. Time moves through a manual scheduler, not sleeps.
@Suite struct PurgatoryTests {
    let a = PurgatoryKey.partition(TopicPartition(topic: "a", partition: 0))
    let b = PurgatoryKey.partition(TopicPartition(topic: "b", partition: 0))

    /// Polls (yielding) until `condition` holds: the waiter registers on another task.
    func eventually(_ condition: () -> Bool) async {
        for _ in 0..<100_000 where !condition() { await Task.yield() }
    }

    @Test func aNotificationWakesOnlyTheOperationsOfItsKey() async throws {
        let scheduler = ManualScheduler()
        let purgatory = Purgatory(scheduler: scheduler)
        let woken = Atomic<Bool>(false)
        let task = Task {
            await purgatory.wait(on: [a], timeoutMs: 60_000) { true }
            woken.store(true, ordering: .releasing)
        }
        await eventually { purgatory.count == 1 && scheduler.pendingCount == 1 }
        purgatory.notify(b)
        purgatory.notify(.group("a"))
        for _ in 0..<1000 { await Task.yield() }
        let wokenEarly = woken.load(ordering: .acquiring)
        #expect(!wokenEarly, "a notification of another key does not wake it")
        #expect(purgatory.count == 1)
        purgatory.notify(a)
        await task.value
        let wokenAfter = woken.load(ordering: .acquiring)
        #expect(wokenAfter)
        #expect(purgatory.count == 0 && purgatory.keyCount == 0)
        #expect(scheduler.pendingCount == 0, "its timer is cancelled with it")
    }

    @Test func anOperationAlreadySatisfiedReturnsAtOnce() async {
        let purgatory = Purgatory(scheduler: ManualScheduler())
        // It saw a state that has changed already (an append between read and wait).
        await purgatory.wait(on: [a], timeoutMs: 60_000) { false }
        #expect(purgatory.count == 0)
    }

    @Test func cancellingTheOperationEndsItsWaitAndLeavesNothing() async {
        let scheduler = ManualScheduler()
        let purgatory = Purgatory(scheduler: scheduler)
        let task = Task { await purgatory.wait(on: [a, b], timeoutMs: 60_000) { true } }
        await eventually { purgatory.count == 1 && scheduler.pendingCount == 1 }
        task.cancel()
        await task.value
        #expect(purgatory.count == 0 && purgatory.keyCount == 0)
        #expect(scheduler.pendingCount == 0)
    }

    @Test func anExpiredOperationLeavesNothing() async {
        let scheduler = ManualScheduler()
        let purgatory = Purgatory(scheduler: scheduler)
        let task = Task { await purgatory.wait(on: [a], timeoutMs: 500) { true } }
        await eventually { purgatory.count == 1 && scheduler.pendingCount == 1 }
        scheduler.advance(byMs: 499)
        #expect(purgatory.count == 1)
        scheduler.advance(byMs: 1)
        await task.value
        #expect(purgatory.count == 0 && purgatory.keyCount == 0)
    }
}
