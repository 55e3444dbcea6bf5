internal import PetrelFormat

/// Writes the cleaner's output for one group of segments: `<base>.log.cleaned` with its
/// `.index.cleaned` and `.timeindex.cleaned`, through a `Segment` (so its indexes follow the
/// same rules as the log's own), buffering batches so that a write is one `pwritev` per buffer.
struct CleanedSegmentWriter: ~Copyable {
    let segment: Segment
    private var buffer: [UInt8] = []
    private var pending: [(position: Int, size: Int, lastOffset: Int64, maxTimestamp: Int64)] = []
    private let bufferBytes: Int
    /// The writer's mapping reservation: output beyond it is refused (`.corrupt` never; an
    /// abort of the group), since a segment's positions must fit the mapping and int32.
    private let bytesMax: Int
    private(set) var bytesWritten = 0

    init(directory: String, baseOffset: Int64, config: LogConfig, inputBytes: Int, io: any FileIO, bufferBytes: Int) throws(StorageError) {
        var writerConfig = config
        // Rewritten batches can be a little larger than their sources (a delete horizon's wider
        // timestamp deltas, a codec compressing fewer records less well).
        bytesMax = min(Int(Int32.max), max(config.segmentBytes, inputBytes * 2 + (1 << 20)))
        writerConfig.segmentBytes = bytesMax
        // A leftover of an earlier attempt is overwritten, never appended to.
        try Segment.removeFiles(directory: directory, baseOffset: baseOffset, io: io, fileSuffix: SegmentFiles.cleanedSuffix)
        segment = try Segment.create(directory: directory, baseOffset: baseOffset, config: writerConfig, io: io, handleCache: nil,
                                     fileSuffix: SegmentFiles.cleanedSuffix)
        self.bufferBytes = bufferBytes
        buffer.reserveCapacity(bufferBytes)
    }

    /// Adds one whole batch (already in its final form).
    mutating func write(_ batch: [UInt8], lastOffset: Int64, maxTimestamp: Int64) throws(StorageError) {
        guard bytesWritten + buffer.count + batch.count <= bytesMax else {
            throw StorageError(.invalidAppend(reason: "cleaned output outgrew \(bytesMax) bytes"), path: segment.logPath)
        }
        pending.append((buffer.count, batch.count, lastOffset, maxTimestamp))
        buffer.append(contentsOf: batch)
        if buffer.count >= bufferBytes { try flushBuffer() }
    }

    /// Adds one whole batch (already in its final form).
    mutating func write(_ batch: UnsafeRawBufferPointer, lastOffset: Int64, maxTimestamp: Int64) throws(StorageError) {
        guard bytesWritten + buffer.count + batch.count <= bytesMax else {
            throw StorageError(.invalidAppend(reason: "cleaned output outgrew \(bytesMax) bytes"), path: segment.logPath)
        }
        pending.append((buffer.count, batch.count, lastOffset, maxTimestamp))
        buffer.append(contentsOf: batch)
        if buffer.count >= bufferBytes { try flushBuffer() }
    }

    private mutating func flushBuffer() throws(StorageError) {
        guard !pending.isEmpty else { return }
        let entries = pending
        let segment = segment
        let outcome: Result<Void, StorageError> = buffer.withUnsafeBytes { bytes in
            let batches = entries.map { entry in
                BatchToWrite(baseOffsetField: UnsafeRawBufferPointer(rebasing: bytes[entry.position..<(entry.position + 8)]),
                             rest: UnsafeRawBufferPointer(rebasing: bytes[(entry.position + 8)..<(entry.position + entry.size)]),
                             firstOffset: 0, lastOffset: entry.lastOffset, maxTimestamp: entry.maxTimestamp)
            }
            return Result { () throws(StorageError) in try segment.append(batches, nowMs: 0) }
        }
        try outcome.get()
        bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
        pending.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered, seals the indexes (final time-index entry, trimmed) and fsyncs
    /// the three files. Returns the log's size, and its largest timestamp with its offset.
    mutating func finish() throws(StorageError) -> (sizeBytes: Int, largest: (timestamp: Int64, offset: Int64)) {
        try flushBuffer()
        segment.publishWritten()
        let largest = (segment.maxTimestamp, segment.offsetOfMaxTimestamp)
        try segment.seal()
        try segment.syncSealed()
        return (bytesWritten, largest)
    }
}
