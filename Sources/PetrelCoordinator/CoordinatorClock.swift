import Foundation

/// Wall-clock milliseconds, injected so that coordinators' timers (session timeouts,
/// rebalance delays, transaction timeouts) are driven by a manual clock in tests, not by sleeps.
public protocol CoordinatorClock: Sendable {
    /// Milliseconds since the Unix epoch.
    var nowMs: Int64 { get }
}

/// The real clock.
public struct SystemClock: CoordinatorClock {
    public init() {}
    public var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
