import PetrelStorage

/// A clock and scheduler that move only when a test says so: `advance(byMs:)` runs, in time
/// order, every piece of work that falls due, each with the clock set to its due time.
///
/// Work scheduled by work that runs during an advance runs in the same advance when it falls
/// due within it, as it would have in real time.
public final class ManualScheduler: Scheduler {
    private struct Entry {
        let dueMs: Int64
        let sequence: UInt64
        let work: @Sendable () -> Void
    }

    private struct State {
        var nowMs: Int64
        var nextSequence: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
    }

    private let state: Locked<State>

    public init(startMs: Int64 = 1_700_000_000_000) { state = Locked(State(nowMs: startMs)) }

    public var nowMs: Int64 { state.withLock { $0.nowMs } }

    /// Work scheduled and neither run nor cancelled.
    public var pendingCount: Int { state.withLock { $0.entries.count } }

    @discardableResult
    public func schedule(afterMs delayMs: Int64, _ work: @escaping @Sendable () -> Void) -> any ScheduledWork {
        let sequence = state.withLock { state -> UInt64 in
            let sequence = state.nextSequence
            state.nextSequence += 1
            let (due, overflow) = state.nowMs.addingReportingOverflow(max(0, delayMs))
            state.entries[sequence] = Entry(dueMs: overflow ? .max : due, sequence: sequence, work: work)
            return sequence
        }
        return Cancellation(scheduler: self, sequence: sequence)
    }

    /// Moves the clock forward by `deltaMs`, running what falls due on the way.
    public func advance(byMs deltaMs: Int64) {
        precondition(deltaMs >= 0, "a clock does not go backwards")
        let target = state.withLock { $0.nowMs + deltaMs }
        while let next = state.withLock({ state -> Entry? in
            guard let entry = state.entries.values.filter({ $0.dueMs <= target })
                .min(by: { ($0.dueMs, $0.sequence) < ($1.dueMs, $1.sequence) }) else { return nil }
            state.entries.removeValue(forKey: entry.sequence)
            state.nowMs = max(state.nowMs, entry.dueMs)
            return entry
        }) {
            next.work()
        }
        state.withLock { $0.nowMs = target }
    }

    fileprivate func cancel(_ sequence: UInt64) { _ = state.withLock { $0.entries.removeValue(forKey: sequence) } }

    private struct Cancellation: ScheduledWork {
        let scheduler: ManualScheduler
        let sequence: UInt64
        func cancel() { scheduler.cancel(sequence) }
    }
}
