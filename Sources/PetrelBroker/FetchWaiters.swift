import PetrelStorage
import Synchronization

/// Long-polling fetches waiting for appends, keyed by partition: an append wakes only the
/// fetches waiting on its partition (not every fetch of the broker), and a waiter leaves
/// nothing behind once woken, expired or cancelled — its timer task is cancelled with it.
///
/// A waiter states what it saw (each partition's log end offset when it read). Registration
/// checks that under the same lock `notify` takes, and appends publish their log end offset
/// before they notify, so an append between a fetch's read and its wait wakes it at once.
final class FetchWaiters: Sendable {
    private struct Waiter {
        let partitions: [TopicPartition]
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var nextId: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
        var byPartition: [TopicPartition: Set<UInt64>] = [:]
        var timers: [UInt64: Task<Void, Never>] = [:]

        /// Removes a waiter everywhere; returns it if it was still waiting.
        mutating func remove(_ id: UInt64) -> (Waiter, Task<Void, Never>?)? {
            guard let waiter = waiters.removeValue(forKey: id) else { return nil }
            for partition in waiter.partitions {
                byPartition[partition]?.remove(id)
                if byPartition[partition]?.isEmpty == true { byPartition.removeValue(forKey: partition) }
            }
            return (waiter, timers.removeValue(forKey: id))
        }
    }

    private let state = Mutex(State())

    /// Waiting fetches (for tests and metrics).
    var count: Int { state.withLock { $0.waiters.count } }

    /// Wakes the fetches waiting on `partition`.
    func notify(_ partition: TopicPartition) {
        let woken = state.withLock { state -> [(Waiter, Task<Void, Never>?)] in
            guard let ids = state.byPartition[partition] else { return [] }
            return ids.compactMap { state.remove($0) }
        }
        for (waiter, timer) in woken {
            timer?.cancel()
            waiter.continuation.resume()
        }
    }

    /// Returns when one of `observed`'s partitions has an append past the log end offset
    /// observed, after `timeoutNanoseconds`, or when the task is cancelled (its connection went
    /// away), whichever comes first.
    func wait(for observed: [(partition: TopicPartition, log: Log, logEndOffset: Int64)], timeoutNanoseconds: UInt64) async {
        guard !observed.isEmpty, timeoutNanoseconds > 0 else { return }
        let id = state.withLock { state -> UInt64 in
            defer { state.nextId &+= 1 }
            return state.nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let registered = state.withLock { state -> Bool in
                    guard !Task.isCancelled, observed.allSatisfy({ $0.log.logEndOffset == $0.logEndOffset }) else { return false }
                    let partitions = observed.map(\.partition)
                    state.waiters[id] = Waiter(partitions: partitions, continuation: continuation)
                    for partition in partitions { state.byPartition[partition, default: []].insert(id) }
                    state.timers[id] = Task { [weak self] in
                        try? await Task.sleep(nanoseconds: timeoutNanoseconds)
                        self?.expire(id)
                    }
                    return true
                }
                if !registered { continuation.resume() }
            }
        } onCancel: {
            expire(id)
        }
    }

    private func expire(_ id: UInt64) {
        guard let (waiter, timer) = state.withLock({ $0.remove(id) }) else { return }
        timer?.cancel()
        waiter.continuation.resume()
    }
}
