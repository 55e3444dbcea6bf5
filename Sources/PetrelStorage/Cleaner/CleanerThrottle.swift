#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Holds the cleaner threads together to `log.cleaner.io.max.bytes.per.second` (Kafka's
/// `Throttler`): each reports the bytes it read or wrote, and sleeps when the threads' total
/// over the current window ran ahead of the rate. Sleeping is its purpose: it runs only on
/// cleaner threads, never on an event loop or the cooperative pool.
public final class CleanerThrottle: Sendable {
    public let bytesPerSecond: Double
    private let state = Mutex<(windowStartNs: UInt64, bytes: Double)>((0, 0))
    private let clock: @Sendable () -> UInt64
    private let sleep: @Sendable (UInt64) -> Void

    /// Measured over windows of this length; a long pass is held to the rate window by window.
    static let windowNs: UInt64 = 300_000_000

    public init(bytesPerSecond: Double, clock: @escaping @Sendable () -> UInt64 = CleanerThrottle.monotonicNs,
                sleep: @escaping @Sendable (UInt64) -> Void = CleanerThrottle.sleepNs) {
        precondition(bytesPerSecond > 0, "a throttle's rate must be positive")
        self.bytesPerSecond = bytesPerSecond
        self.clock = clock
        self.sleep = sleep
    }

    public func consume(bytes: Int) {
        let now = clock()
        let wait: UInt64 = state.withLock { state in
            if state.windowStartNs == 0 || now - state.windowStartNs > Self.windowNs * 4 {
                state = (now, 0)
            }
            state.bytes += Double(bytes)
            let elapsedNs = Double(now - state.windowStartNs)
            let allowedNs = state.bytes / bytesPerSecond * 1e9
            guard allowedNs > elapsedNs else {
                if elapsedNs > Double(Self.windowNs) { state = (now, 0) }
                return 0
            }
            return UInt64(allowedNs - elapsedNs)
        }
        if wait > 0 { sleep(wait) }
    }

    public static func sleepNs(_ nanoseconds: UInt64) {
        usleep(useconds_t(min(nanoseconds / 1000, UInt64(UInt32.max))))
    }

    public static func monotonicNs() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
