/// The values each size setting may take: the bounds `validated()` checks, also for those who
/// read settings from operators (the broker's properties) and refuse a bad value where it is
/// read, naming the setting.
extension LogConfig {
    /// `segment.bytes`: from one RecordBatch v2 header; offset-index positions are int32.
    public static var segmentBytesRange: ClosedRange<Int64> { Int64(segmentBytesMinimum)...Int64(Int32.max) }
    /// `segment.index.bytes`: two time-index entries at least.
    public static var segmentIndexBytesRange: ClosedRange<Int64> { Int64(segmentIndexBytesMinimum)...Int64(Int32.max) }
    /// `max.message.bytes`: Kafka's range.
    public static let maxMessageBytesRange: ClosedRange<Int64> = 0...Int64(Int32.max)
}
