public import PetrelFormat

/// Walks the batches of a segment's bytes in order and stops at the first one recovery must
/// cut: invalid bytes (CRC32C, structure), offsets that do not increase, offsets beyond the
/// segment's 32-bit relative range or at the next segment's base. Crash recovery and
/// `petrel fsck` share these rules through it.
public struct SegmentBatchWalker {
    /// Why the walk stopped before the end of the bytes.
    public enum Stop: Sendable, Equatable, CustomStringConvertible {
        case invalidBatch(FormatError)
        /// The batch starts below the offset after the previous batch (or the segment's base).
        case offsetsOutOfOrder(baseOffset: Int64, expectedAtLeast: Int64)
        /// The batch's last offset does not fit the segment's 32-bit relative offsets.
        case beyondRelativeOffsets(lastOffset: Int64)
        /// The batch reaches the next segment's base offset.
        case pastOffsetLimit(lastOffset: Int64, limit: Int64)

        public var description: String {
            switch self {
            case let .invalidBatch(error): "\(error)"
            case let .offsetsOutOfOrder(base, expected): "batch starts at offset \(base), expected at least \(expected)"
            case let .beyondRelativeOffsets(last): "batch reaches offset \(last), beyond the segment's 32-bit relative offsets"
            case let .pastOffsetLimit(last, limit): "batch reaches offset \(last), at or past the next segment's base \(limit)"
            }
        }
    }

    private var reader: RecordBatchReader
    private let baseOffset: Int64
    private let offsetLimit: Int64?
    private var relativeTo: Int64?
    /// The offset after the last valid batch (before any: `minimumFirstOffset` or the base).
    public private(set) var nextOffset: Int64
    /// Where and why the walk stopped early, once it has.
    public private(set) var stop: (position: Int, reason: Stop)?
    /// The end of the valid prefix so far.
    public var position: Int { reader.position }

    /// - Parameters:
    ///   - minimumFirstOffset: the least offset the first batch may start at (recovery: the
    ///     segment's base; fsck passes nil and reports a misnamed segment itself).
    ///   - offsetLimit: the next segment's base offset, if any.
    public init(_ bytes: UnsafeRawBufferPointer, baseOffset: Int64, minimumFirstOffset: Int64?, offsetLimit: Int64?) {
        reader = RecordBatchReader(bytes, limits: DecodeLimits(batchBytesMax: Int(Int32.max)))
        self.baseOffset = baseOffset
        self.offsetLimit = offsetLimit
        nextOffset = minimumFirstOffset ?? .min
    }

    /// The next valid batch, or nil at the end of the bytes or at the first problem (`stop`).
    public mutating func next() -> RecordBatch? {
        guard stop == nil else { return nil }
        let position = reader.position
        let batch: RecordBatch
        do throws(FormatError) {
            guard let next = try reader.next() else { return nil }
            batch = next
        } catch {
            stop = (position, .invalidBatch(error))
            return nil
        }
        let relative = relativeTo ?? min(baseOffset, batch.baseOffset)
        if batch.baseOffset < nextOffset {
            stop = (position, .offsetsOutOfOrder(baseOffset: batch.baseOffset, expectedAtLeast: nextOffset))
        } else if batch.lastOffset - relative > Int64(Int32.max) {
            stop = (position, .beyondRelativeOffsets(lastOffset: batch.lastOffset))
        } else if let offsetLimit, batch.lastOffset >= offsetLimit {
            stop = (position, .pastOffsetLimit(lastOffset: batch.lastOffset, limit: offsetLimit))
        }
        if stop != nil {
            reader = RecordBatchReader(UnsafeRawBufferPointer(start: nil, count: 0))  // nothing more after a stop
            return nil
        }
        relativeTo = relative
        nextOffset = batch.nextOffset
        return batch
    }
}
