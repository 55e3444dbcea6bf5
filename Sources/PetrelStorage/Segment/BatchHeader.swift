internal import PetrelFormat

/// The header fields of a batch already validated when it was written or recovered, read
/// straight from mapped bytes without a CRC pass (reads, index rebuilds from trusted data).
struct BatchHeader {
    let position: Int
    let sizeBytes: Int
    let baseOffset: Int64
    let lastOffset: Int64
    let maxTimestamp: Int64
    /// Records left in the batch: 0 for a batch compaction emptied (kept for its offsets and
    /// its producer's sequence).
    let recordsCount: Int32
    let isControl: Bool

    /// Reads the header at `position` of `bytes`, or nil if a whole batch does not fit.
    init?(in bytes: UnsafeRawBufferPointer, at position: Int) {
        guard bytes.count - position >= RecordBatchLayout.headerBytes else { return nil }
        let base = bytes.baseAddress! + position
        let length = Int(base.bigEndianInt32(at: RecordBatchLayout.lengthPosition))
        let size = length + RecordBatchLayout.logOverheadBytes
        guard length >= RecordBatchLayout.headerBytes - RecordBatchLayout.logOverheadBytes, size <= bytes.count - position else { return nil }
        self.position = position
        self.sizeBytes = size
        self.baseOffset = base.bigEndianInt64(at: RecordBatchLayout.baseOffsetPosition)
        self.lastOffset = baseOffset &+ Int64(base.bigEndianInt32(at: RecordBatchLayout.lastOffsetDeltaPosition))
        self.maxTimestamp = base.bigEndianInt64(at: RecordBatchLayout.maxTimestampPosition)
        self.recordsCount = base.bigEndianInt32(at: RecordBatchLayout.recordsCountPosition)
        self.isControl = UInt16(bitPattern: base.bigEndianInt16(at: RecordBatchLayout.attributesPosition)) & 0x20 != 0
    }

    var nextOffset: Int64 { lastOffset + 1 }
    var endPosition: Int { position + sizeBytes }
}
