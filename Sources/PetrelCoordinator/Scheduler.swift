/// Runs work after a delay. Coordinators schedule their timers through it (heartbeat expiry,
/// join and rebalance timeouts, transaction expiry), so that a test can move time by hand.
public protocol Scheduler: CoordinatorClock {
    /// Runs `work` once, `delayMs` from now, unless cancelled first. `work` must not block.
    @discardableResult
    func schedule(afterMs delayMs: Int64, _ work: @escaping @Sendable () -> Void) -> any ScheduledWork
}

/// A scheduled piece of work; cancelling it after it ran does nothing.
public protocol ScheduledWork: Sendable {
    func cancel()
}
