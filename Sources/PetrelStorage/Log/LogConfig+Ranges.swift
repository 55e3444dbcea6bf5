/// The values each size setting may take, for those who read settings from operators (the
/// broker's properties, CreateTopics configs), so that a bad value is refused where it is read,
/// naming the setting. The same bounds as `validated()`.
extension LogConfig {
    /// `segment.bytes`: from one RecordBatch v2 header; offset-index positions are int32.
    public static var segmentBytesRange: ClosedRange<Int64> { Int64(segmentBytesMinimum)...Int64(Int32.max) }
    /// `segment.index.bytes`: two time-index entries at least.
    public static var segmentIndexBytesRange: ClosedRange<Int64> { Int64(segmentIndexBytesMinimum)...Int64(Int32.max) }
    /// `max.message.bytes`: Kafka's range.
    public static let maxMessageBytesRange: ClosedRange<Int64> = 0...Int64(Int32.max)
}
