import Synchronization

/// Wakes long-polling fetches when something is appended: a fetch that found too little waits
/// here until the next append or its `max_wait_ms`, whichever comes first. A generation counter
/// closes the race between a fetch's read and its wait: an append in between wakes it at once.
final class AppendWaiters: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextId: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    var generation: UInt64 { state.withLock { $0.generation } }

    /// Wakes every waiting fetch.
    func notifyAll() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns after the next append following `generation`, or after `timeoutNanoseconds`.
    func wait(after generation: UInt64, timeoutNanoseconds: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let id: UInt64? = state.withLock { state in
                guard state.generation == generation else { return nil }
                let id = state.nextId
                state.nextId &+= 1
                state.waiters[id] = continuation
                return id
            }
            guard let id else {
                continuation.resume()
                return
            }
            Task {
                try? await Task.sleep(nanoseconds: timeoutNanoseconds)
                if let continuation = self.state.withLock({ $0.waiters.removeValue(forKey: id) }) { continuation.resume() }
            }
        }
    }
}
