/// The sparse `.index` of a segment: 8-byte entries `relativeOffset int32, position int32`,
/// mapping an offset to the byte position of the batch that holds it (Kafka's `OffsetIndex`).
final class OffsetIndex: Sendable {
    static let entryBytes = OffsetIndexEntry.bytes
    let file: IndexFile
    let baseOffset: Int64

    init(path: String, baseOffset: Int64, bytesMax: Int, writable: Bool, io: any FileIO) throws(StorageError) {
        file = try IndexFile(path: path, entryBytes: Self.entryBytes, bytesMax: bytesMax, writable: writable, io: io)
        self.baseOffset = baseOffset
    }

    func entry(_ index: Int) -> (offset: Int64, position: Int) {
        let entry = OffsetIndexEntry.decode(file.entry(index))
        return (baseOffset + Int64(entry.relativeOffset), Int(entry.position))
    }

    var lastOffset: Int64? { file.count > 0 ? entry(file.count - 1).offset : nil }

    /// The position to start scanning from for `offset`: the entry with the largest offset ≤ it,
    /// or position 0 when there is none.
    func lookup(_ offset: Int64) -> (offset: Int64, position: Int) {
        guard let index = file.largestLowerBound(offset, key: { baseOffset + Int64(OffsetIndexEntry.relativeOffset($0)) }) else {
            return (baseOffset, 0)
        }
        return entry(index)
    }

    func append(offset: Int64, position: Int) {
        guard let relative = Int32(exactly: offset - baseOffset), relative >= 0 else { preconditionFailure("offset does not fit the index") }
        guard let position = Int32(exactly: position) else { preconditionFailure("position does not fit the index") }
        precondition(lastOffset.map { offset > $0 } ?? true, "offset index entries must increase")
        file.append { pointer in OffsetIndexEntry.encode(relativeOffset: relative, position: position, into: pointer) }
    }

    /// Removes entries for offsets ≥ `offset`.
    func truncate(removingFrom offset: Int64) {
        file.truncate(removingEntriesFrom: offset) { baseOffset + Int64(OffsetIndexEntry.relativeOffset($0)) }
    }
}
