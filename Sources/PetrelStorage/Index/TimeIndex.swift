/// The sparse `.timeindex` of a segment: 12-byte entries `timestamp int64, relativeOffset int32`
/// meaning "the largest timestamp up to and including this offset is T" (Kafka's `TimeIndex`).
/// Entries increase in both fields; the last slot is kept for the final entry written at roll.
final class TimeIndex: Sendable {
    static let entryBytes = TimeIndexEntry.bytes
    let file: IndexFile
    let baseOffset: Int64

    init(path: String, baseOffset: Int64, bytesMax: Int, writable: Bool, io: any FileIO) throws(StorageError) {
        file = try IndexFile(path: path, entryBytes: Self.entryBytes, bytesMax: bytesMax, writable: writable, io: io)
        self.baseOffset = baseOffset
    }

    func entry(_ index: Int) -> (timestamp: Int64, offset: Int64) {
        let entry = TimeIndexEntry.decode(file.entry(index))
        return (entry.timestamp, baseOffset + Int64(entry.relativeOffset))
    }

    var last: (timestamp: Int64, offset: Int64)? { file.count > 0 ? entry(file.count - 1) : nil }
    /// Full when only the slot reserved for the final entry is left.
    var isFull: Bool { file.count >= file.capacity - 1 }

    /// The offset to start searching from for records with timestamp ≥ `timestamp`.
    func lookup(_ timestamp: Int64) -> Int64 {
        guard let index = file.largestLowerBound(timestamp, key: { TimeIndexEntry.timestamp($0) }) else { return baseOffset }
        return entry(index).offset
    }

    /// Appends an entry if it moves the timestamp forward (keeping the file monotone).
    func maybeAppend(timestamp: Int64, offset: Int64, final: Bool = false) {
        if let last, timestamp <= last.timestamp || offset < last.offset { return }
        guard final ? file.count < file.capacity : !isFull else { return }
        guard let relative = Int32(exactly: offset - baseOffset), relative >= 0 else { preconditionFailure("offset does not fit the index") }
        file.append { pointer in TimeIndexEntry.encode(timestamp: timestamp, relativeOffset: relative, into: pointer) }
    }

    /// Removes entries for offsets ≥ `offset`.
    func truncate(removingFrom offset: Int64) {
        file.truncate(removingEntriesFrom: offset) { baseOffset + Int64(TimeIndexEntry.relativeOffset($0)) }
    }
}
