#if canImport(Glibc)
import Glibc
#endif
internal import PetrelFormat

extension Log {
    static let snapshotSuffix = ".snapshot"

    /// Offsets of the producer snapshots in the directory, ascending.
    func snapshotOffsets() throws(StorageError) -> [Int64] {
        try io.listDirectory(directory).compactMap { SegmentFiles.baseOffset(ofFile: $0, suffix: Self.snapshotSuffix) }.sorted()
    }

    func snapshotPath(_ offset: Int64) -> String { "\(directory)/\(SegmentFiles.prefix(offset))\(Self.snapshotSuffix)" }

    /// Writes `<log end offset>.snapshot` (Kafka's format) and removes older snapshots. Called
    /// with no writer running (close).
    func writeProducerSnapshot() throws(StorageError) {
        let end = logEndOffset
        let state = queueCondition.withLock { producerState }
        try io.writeFileAtomically(snapshotPath(end), bytes: state.snapshotBytes())
        for offset in try snapshotOffsets() where offset != end { try io.unlink(snapshotPath(offset)) }
    }

    /// Rebuilds producer state: the newest valid snapshot at or below the log end, then every
    /// producer batch after it, replayed from the log (batch headers only).
    func loadProducerState() throws(StorageError) {
        let end = logEndOffset
        var state = ProducerState()
        var replayFrom = logStartOffset
        for offset in try snapshotOffsets().reversed() {
            guard offset <= end, offset >= logStartOffset,
                  let loaded = ProducerState.fromSnapshot(try io.readSmallFile(snapshotPath(offset))) else { continue }
            state = loaded
            replayFrom = offset
            break
        }
        var next = replayFrom
        while next < end {
            let advanced: Int64? = try? read(fromOffset: next, maxBytes: 1 << 20) { slice -> Int64? in
                var reader = RecordBatchReader(slice.bytes, verifyingCRC: false)
                var last: Int64?
                while let batch = try reader.next() {
                    if batch.baseOffset >= next { state.record(batch) }
                    last = batch.nextOffset
                }
                return last
            }
            guard let advanced, advanced > next else { break }
            next = advanced
        }
        queueCondition.withLock { producerState = state }
    }
}
