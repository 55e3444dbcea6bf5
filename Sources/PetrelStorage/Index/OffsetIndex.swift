/// The sparse `.index` of a segment: 8-byte entries `relativeOffset int32, position int32`,
/// mapping an offset to the byte position of the batch that holds it (Kafka's `OffsetIndex`).
final class OffsetIndex: Sendable {
    static let entryBytes = 8
    let file: IndexFile
    let baseOffset: Int64

    init(path: String, baseOffset: Int64, bytesMax: Int, writable: Bool, io: any FileIO) throws(StorageError) {
        file = try IndexFile(path: path, entryBytes: Self.entryBytes, bytesMax: bytesMax, writable: writable, io: io)
        self.baseOffset = baseOffset
    }

    func entry(_ index: Int) -> (offset: Int64, position: Int) {
        let pointer = file.entry(index)
        return (baseOffset + Int64(pointer.bigEndianInt32(at: 0)), Int(pointer.bigEndianInt32(at: 4)))
    }

    var lastOffset: Int64? { file.count > 0 ? entry(file.count - 1).offset : nil }

    /// The position to start scanning from for `offset`: the entry with the largest offset ≤ it,
    /// or position 0 when there is none.
    func lookup(_ offset: Int64) -> (offset: Int64, position: Int) {
        guard let index = file.largestLowerBound(offset, key: { baseOffset + Int64($0.bigEndianInt32(at: 0)) }) else {
            return (baseOffset, 0)
        }
        return entry(index)
    }

    func append(offset: Int64, position: Int) {
        precondition(offset >= baseOffset && offset - baseOffset <= Int64(Int32.max), "offset does not fit the index")
        precondition(lastOffset.map { offset > $0 } ?? true, "offset index entries must increase")
        file.append { pointer in
            pointer.storeBytes(of: Int32(offset - baseOffset).bigEndian, toByteOffset: 0, as: Int32.self)
            pointer.storeBytes(of: Int32(position).bigEndian, toByteOffset: 4, as: Int32.self)
        }
    }

    /// Removes entries for offsets ≥ `offset`.
    func truncate(removingFrom offset: Int64) {
        file.truncate(removingEntriesFrom: offset) { baseOffset + Int64($0.bigEndianInt32(at: 0)) }
    }
}
