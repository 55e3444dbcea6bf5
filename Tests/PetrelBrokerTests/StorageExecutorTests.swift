@testable import PetrelBroker
import Foundation
import Synchronization
import Testing

/// The storage executor runs work on its own threads, at most its thread count at once, and
/// holds at most its queue bound: a caller beyond it suspends instead of queueing more.
@Suite struct StorageExecutorTests {
    struct Failure: Error, Equatable { let code: Int }

    final class Counter: Sendable {
        private let value = Atomic<Int>(0)
        func add() { value.add(1, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }

    @Test func runsOnItsOwnThreadsAndReturnsResultsAndTypedErrors() async throws {
        let executor = StorageExecutor(threads: 2, queuedJobsMax: 4)
        defer { executor.shutdown() }
        #expect(!executor.ownsCurrentThread)
        let onExecutor = await executor.run { executor.ownsCurrentThread }
        #expect(onExecutor, "the job ran on one of the executor's threads")
        await #expect(throws: Failure(code: 7)) {
            try await executor.run { () throws(Failure) -> Int in throw Failure(code: 7) }
        }
    }

    /// Every thread has its name from its first job on, however the start-up interleaves:
    /// naming through Foundation's `Thread.name` from inside the new thread was lost whenever the
    /// thread ran before `start()` had stored its handle (seen under the thread sanitizer).
    @Test func everyThreadIsNamedFromItsFirstJob() async {
        for _ in 0..<20 {
            let executor = StorageExecutor(threads: 2, queuedJobsMax: 2)
            // Each job waits (bounded) until both are running, so the two run on the two threads
            // and each thread's name is looked at.
            let arrived = Counter()
            let job: @Sendable () -> String = {
                arrived.add()
                for _ in 0..<10_000 where arrived.count < 2 { usleep(1_000) }
                return Thread.current.name ?? ""
            }
            async let first = executor.run(job)
            async let second = executor.run(job)
            let names = await [first, second]
            #expect(Set(names) == ["petrel-io-0", "petrel-io-1"])
            executor.shutdown()
        }
    }

    /// Blocked jobs occupy every thread and the queue; the next caller is held back (not
    /// queued) until a job finishes, and everything completes once the jobs are released.
    @Test func aFullQueueHoldsCallersBackUntilThereIsRoom() async throws {
        let executor = StorageExecutor(threads: 1, queuedJobsMax: 2)
        defer { executor.shutdown() }
        let gate = DispatchSemaphore(value: 0)
        let started = Counter(), finished = Counter()
        let tasks = (0..<4).map { _ in
            Task {
                await executor.run {
                    started.add()
                    gate.wait()
                }
                finished.add()
            }
        }
        // One job runs (one thread; taking it freed its slot), two wait in the queue, and the
        // fourth caller is held back: the queue holds two at most.
        for _ in 0..<100_000 where executor.heldBackCount + executor.queuedCount + executor.runningCount < 4 { await Task.yield() }
        #expect(started.count == 1)
        #expect(executor.runningCount == 1)
        #expect(executor.queuedCount == 2)
        #expect(executor.heldBackCount == 1)
        for _ in 0..<4 { gate.signal() }
        for task in tasks { await task.value }
        #expect(finished.count == 4)
    }
}
