import PetrelCoordinator
import PetrelStorage

/// What a delayed operation waits on: a partition (fetches waiting for appends; later, produces
/// waiting for the high watermark) or a group (joins waiting for members).
enum PurgatoryKey: Hashable, Sendable {
    case partition(TopicPartition)
    case group(String)
}

/// Delayed operations, keyed by what they wait on: `notify(key)` wakes only the operations
/// waiting on that key (an append wakes the fetches of its partition, not every fetch of the
/// broker), and an operation leaves nothing behind once woken, expired or cancelled — its timer
/// is cancelled with it.
///
/// An operation states, at registration, whether it is still unsatisfied (`stillWaiting`).
/// Registration evaluates that under the same lock `notify` takes; an event publishes its
/// effect (a log end offset, a member list) before it notifies, so an event between an
/// operation's check and its wait wakes it at once. A woken operation re-checks for itself —
/// a wake-up is a hint, not a result, as in Kafka's `DelayedOperation.tryComplete`.
final class Purgatory: Sendable {
    private struct Waiter {
        let keys: [PurgatoryKey]
        let continuation: CheckedContinuation<Void, Never>
        var timer: (any ScheduledWork)?
    }

    private struct State {
        var nextId: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
        var byKey: [PurgatoryKey: Set<UInt64>] = [:]

        /// Removes a waiter everywhere; returns it if it was still waiting.
        mutating func remove(_ id: UInt64) -> Waiter? {
            guard let waiter = waiters.removeValue(forKey: id) else { return nil }
            for key in waiter.keys {
                byKey[key]?.remove(id)
                if byKey[key]?.isEmpty == true { byKey.removeValue(forKey: key) }
            }
            return waiter
        }
    }

    private let state = Locked(State())
    private let scheduler: any Scheduler

    init(scheduler: any Scheduler = TaskScheduler()) { self.scheduler = scheduler }

    /// Waiting operations (for tests and metrics).
    var count: Int { state.withLock { $0.waiters.count } }
    /// Keys with at least one waiter: empty once nothing waits, so nothing leaks per key.
    var keyCount: Int { state.withLock { $0.byKey.count } }

    /// Wakes the operations waiting on `key`.
    func notify(_ key: PurgatoryKey) {
        let woken = state.withLock { state -> [Waiter] in
            guard let ids = state.byKey[key] else { return [] }
            return ids.compactMap { state.remove($0) }
        }
        for waiter in woken {
            waiter.timer?.cancel()
            waiter.continuation.resume()
        }
    }

    /// Returns when one of `keys` is notified, after `timeoutMs`, or when the task is cancelled
    /// (its connection went away), whichever comes first; at once when `stillWaiting` is false.
    func wait(on keys: [PurgatoryKey], timeoutMs: Int64, stillWaiting: () -> Bool) async {
        guard !keys.isEmpty, timeoutMs > 0 else { return }
        let id = state.withLock { state -> UInt64 in
            defer { state.nextId &+= 1 }
            return state.nextId
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let registered = state.withLock { state -> Bool in
                    guard !Task.isCancelled, stillWaiting() else { return false }
                    state.waiters[id] = Waiter(keys: keys, continuation: continuation)
                    for key in keys { state.byKey[key, default: []].insert(id) }
                    return true
                }
                guard registered else { return continuation.resume() }
                // The timer is armed outside the lock (a manual scheduler may run it at once).
                let timer = scheduler.schedule(afterMs: timeoutMs) { [weak self] in self?.expire(id) }
                let stillRegistered = state.withLock { state -> Bool in
                    guard state.waiters[id] != nil else { return false }
                    state.waiters[id]?.timer = timer
                    return true
                }
                if !stillRegistered { timer.cancel() }
            }
        } onCancel: {
            expire(id)
        }
    }

    private func expire(_ id: UInt64) {
        guard let waiter = state.withLock({ $0.remove(id) }) else { return }
        waiter.timer?.cancel()
        waiter.continuation.resume()
    }
}
