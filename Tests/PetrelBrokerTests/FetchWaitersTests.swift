@testable import PetrelBroker
import PetrelFormat
import PetrelStorage
import Synchronization
import Testing

/// Long-poll waiters: an append wakes only the fetches of its partition, and a waiter leaves
/// nothing behind (no waiter, no timer task) once woken, expired or cancelled.
@Suite struct FetchWaitersTests {
    let directory = BrokerTestDirectory()

    func openLog(_ name: String) throws -> Log {
        try Log.open(directory: "\(directory.path)/\(name)", config: LogConfig()).log
    }

    func waitUntil(_ condition: () -> Bool) async {
        for _ in 0..<2000 where !condition() { await Task.yield() ; try? await Task.sleep(nanoseconds: 1_000_000) }
    }

    @Test func anAppendWakesOnlyTheFetchesOfItsPartition() async throws {
        let waiters = FetchWaiters()
        let a = TopicPartition(topic: "a", partition: 0), b = TopicPartition(topic: "b", partition: 0)
        let logA = try openLog("a-0")
        let woken = Atomic<Bool>(false)
        let task = Task {
            await waiters.wait(for: [(a, logA, logA.logEndOffset)], timeoutNanoseconds: 60_000_000_000)
            woken.store(true, ordering: .releasing)
        }
        await waitUntil { waiters.count == 1 }
        waiters.notify(b)
        try await Task.sleep(nanoseconds: 20_000_000)
        let wokenEarly = woken.load(ordering: .acquiring)
        #expect(!wokenEarly, "an append to another partition does not wake it")
        #expect(waiters.count == 1)
        waiters.notify(a)
        await task.value
        let wokenAfter = woken.load(ordering: .acquiring)
        #expect(wokenAfter)
        #expect(waiters.count == 0)
    }

    @Test func aWaiterWhosePartitionMovedReturnsAtOnce() async throws {
        let waiters = FetchWaiters()
        let log = try openLog("c-0")
        var builder = RecordBatchBuilder()
        builder.append(key: nil, value: [1], timestamp: 1)
        _ = try await log.append(try builder.build())
        // It saw offset 0, but the log end is 1 already: an append between read and wait.
        await waiters.wait(for: [(TopicPartition(topic: "c", partition: 0), log, 0)], timeoutNanoseconds: 60_000_000_000)
        #expect(waiters.count == 0)
    }

    @Test func cancellingTheFetchEndsItsWaitAndLeavesNothing() async throws {
        let waiters = FetchWaiters()
        let log = try openLog("d-0")
        let task = Task { await waiters.wait(for: [(TopicPartition(topic: "d", partition: 0), log, 0)], timeoutNanoseconds: 60_000_000_000) }
        await waitUntil { waiters.count == 1 }
        task.cancel()
        await task.value
        #expect(waiters.count == 0)
    }

    @Test func anExpiredWaitLeavesNothing() async throws {
        let waiters = FetchWaiters()
        let log = try openLog("e-0")
        await waiters.wait(for: [(TopicPartition(topic: "e", partition: 0), log, 0)], timeoutNanoseconds: 5_000_000)
        #expect(waiters.count == 0)
    }
}
