/// The broker-level settings of the log cleaner, named after Kafka's (defaults as in Kafka).
public struct LogCleanerConfig: Sendable, Equatable {
    /// `log.cleaner.enable`.
    public var enabled = true
    /// `log.cleaner.threads`: passes run at once, each on its own log.
    public var threads = 1
    /// `log.cleaner.dedupe.buffer.size`: the offset maps' memory, shared equally by the threads.
    public var dedupeBufferBytes = 128 << 20
    /// `log.cleaner.io.buffer.size`: read and write buffers of all threads together.
    public var ioBufferBytes = 512 << 10
    /// `log.cleaner.io.max.bytes.per.second`: all threads' reads and writes together; nil: no bound.
    public var ioMaxBytesPerSecond: Double?
    /// `log.cleaner.backoff.ms`: how long a thread sleeps when no log needs cleaning.
    public var backoffMs: Int64 = 15_000

    public init() {}

    /// Kafka's bounds: at most 2 GiB of map per thread, at least 1 MiB (a map of a few slots
    /// would make every pass a tiny one).
    public func validated() throws(StorageError) -> LogCleanerConfig {
        func refuse(_ setting: String, _ value: String, _ requirement: String) -> StorageError {
            StorageError(.invalidConfig(LogConfigProblem(setting: setting, brokerSetting: setting, value: value, requirement: requirement)))
        }
        guard (1...64).contains(threads) else { throw refuse("log.cleaner.threads", String(threads), "must be in [1, 64]") }
        let perThread = dedupeBufferBytes / threads
        guard perThread >= 1 << 20 else {
            throw refuse("log.cleaner.dedupe.buffer.size", String(dedupeBufferBytes), "must give each of the \(threads) threads at least 1 MiB")
        }
        guard ioBufferBytes >= 2 * 4096 * threads else {
            throw refuse("log.cleaner.io.buffer.size", String(ioBufferBytes), "must give each thread at least 8 KiB")
        }
        if let rate = ioMaxBytesPerSecond, !(rate > 0) {
            throw refuse("log.cleaner.io.max.bytes.per.second", String(rate), "must be positive")
        }
        guard backoffMs >= 0 else { throw refuse("log.cleaner.backoff.ms", String(backoffMs), "must be at least 0") }
        return self
    }

    /// Each thread's offset map, capped at 2 GiB as Kafka caps it.
    var mapBytesPerThread: Int { min(dedupeBufferBytes / threads, Int(Int32.max)) }
    /// Each thread's read and write buffers.
    var ioBufferBytesPerThread: Int { ioBufferBytes / threads / 2 }
}
