/// Where `reset-offsets` moves a group's committed offset, as Kafka's
/// `kafka-consumer-groups.sh --reset-offsets` options say.
public enum OffsetResetStrategy: Sendable, Equatable {
    /// The log start offset.
    case earliest
    /// The log end offset.
    case latest
    /// This offset.
    case offset(Int64)
    /// The committed offset moved by this many (negative: back).
    case shiftBy(Int64)
    /// The first offset whose record timestamp is at or after this time (milliseconds since
    /// the epoch); the log end when there is none.
    case datetime(milliseconds: Int64)

    /// The offset to commit for one partition, clamped into `logStart...logEnd` as Kafka's tool
    /// does (an offset outside the log would only make consumers apply `auto.offset.reset`).
    /// `offsetForTime` is ListOffsets' answer for `.datetime` (nil: no record at or after it).
    /// Nil when there is nothing to shift: `.shiftBy` with no committed offset.
    public func target(committed: Int64?, logStart: Int64, logEnd: Int64, offsetForTime: Int64? = nil) -> Int64? {
        precondition(logStart <= logEnd, "a log whose start is after its end")
        let wanted: Int64
        switch self {
        case .earliest: wanted = logStart
        case .latest: wanted = logEnd
        case let .offset(offset): wanted = offset
        case let .shiftBy(delta):
            guard let committed else { return nil }
            wanted = committed.addingReportingOverflow(delta).overflow ? (delta < 0 ? logStart : logEnd) : committed + delta
        case .datetime: wanted = offsetForTime ?? logEnd
        }
        return min(max(wanted, logStart), logEnd)
    }
}
