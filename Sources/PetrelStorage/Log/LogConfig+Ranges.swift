/// The values each size setting may take, for those who read settings from operators (the
/// broker's properties, CreateTopics configs): checked there, so a bad value is an error naming
/// the setting instead of a trap in `Log.open`.
extension LogConfig {
    /// `segment.bytes`: Kafka's minimum is 14 bytes (one legacy record's overhead); a batch
    /// larger than a segment is refused as too large, so a small value is slow but safe. The
    /// relative positions in the offset index are 32-bit, hence the maximum.
    public static let segmentBytesRange: ClosedRange<Int64> = 14...Int64(Int32.max)
    /// `segment.index.bytes`: Kafka accepts 4, an index that holds no entry and so rolls the
    /// log at every batch; Petrel asks for room for four time-index entries (48 bytes).
    public static let segmentIndexBytesRange: ClosedRange<Int64> = 48...Int64(Int32.max)
    /// `max.message.bytes`: at least one byte, and a size the wire's int32 lengths can carry.
    public static let maxMessageBytesRange: ClosedRange<Int64> = 1...Int64(Int32.max)
}
