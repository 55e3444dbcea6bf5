/// The sparse `.timeindex` of a segment: 12-byte entries `timestamp int64, relativeOffset int32`
/// meaning "the largest timestamp up to and including this offset is T" (Kafka's `TimeIndex`).
/// Entries increase in both fields; the last slot is kept for the final entry written at roll.
final class TimeIndex: Sendable {
    static let entryBytes = 12
    let file: IndexFile
    let baseOffset: Int64

    init(path: String, baseOffset: Int64, bytesMax: Int, writable: Bool, io: any FileIO) throws(StorageError) {
        file = try IndexFile(path: path, entryBytes: Self.entryBytes, bytesMax: bytesMax, writable: writable, io: io)
        self.baseOffset = baseOffset
    }

    func entry(_ index: Int) -> (timestamp: Int64, offset: Int64) {
        let pointer = file.entry(index)
        return (pointer.bigEndianInt64(at: 0), baseOffset + Int64(pointer.bigEndianInt32(at: 8)))
    }

    var last: (timestamp: Int64, offset: Int64)? { file.count > 0 ? entry(file.count - 1) : nil }
    /// Full when only the slot reserved for the final entry is left.
    var isFull: Bool { file.count >= file.capacity - 1 }

    /// The offset to start searching from for records with timestamp ≥ `timestamp`.
    func lookup(_ timestamp: Int64) -> Int64 {
        guard let index = file.largestLowerBound(timestamp, key: { $0.bigEndianInt64(at: 0) }) else { return baseOffset }
        return entry(index).offset
    }

    /// Appends an entry if it moves the timestamp forward (keeping the file monotone).
    func maybeAppend(timestamp: Int64, offset: Int64, final: Bool = false) {
        if let last, timestamp <= last.timestamp || offset < last.offset { return }
        guard final ? file.count < file.capacity : !isFull else { return }
        precondition(offset >= baseOffset && offset - baseOffset <= Int64(Int32.max), "offset does not fit the index")
        file.append { pointer in
            pointer.storeBytes(of: timestamp.bigEndian, toByteOffset: 0, as: Int64.self)
            pointer.storeBytes(of: Int32(offset - baseOffset).bigEndian, toByteOffset: 8, as: Int32.self)
        }
    }

    /// Removes entries for offsets ≥ `offset`.
    func truncate(removingFrom offset: Int64) {
        file.truncate(removingEntriesFrom: offset) { baseOffset + Int64($0.bigEndianInt32(at: 8)) }
    }
}
