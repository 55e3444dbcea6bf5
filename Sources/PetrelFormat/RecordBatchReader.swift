/// Walks the batches laid end to end in a buffer, as in a `.log` segment or a produce request's
/// records field, validating each header as it goes.
///
/// Stops with an error at the first batch that is not valid; `position` then says where the
/// valid prefix ends, which is what recovery and fsck cut at.
public struct RecordBatchReader {
    public let buffer: UnsafeRawBufferPointer
    public let limits: DecodeLimits
    public let verifyingCRC: Bool
    /// Where the next batch starts: after a thrown error, the end of the valid prefix.
    public private(set) var position: Int

    public init(_ buffer: UnsafeRawBufferPointer, limits: DecodeLimits = .default, verifyingCRC: Bool = true) {
        self.buffer = buffer
        self.limits = limits
        self.verifyingCRC = verifyingCRC
        self.position = 0
    }

    /// The next batch, or nil at the end of the buffer.
    public mutating func next() throws(FormatError) -> RecordBatch? {
        guard position < buffer.count else { return nil }
        let batch = try RecordBatch(parsing: buffer, at: position, limits: limits, verifyingCRC: verifyingCRC)
        position += batch.sizeBytes
        return batch
    }
}
