/// One step of a repair. Every step is idempotent, so a repair killed half-way can replay its
/// journal from the start and finish.
public enum RepairAction: Sendable, Equatable, Codable {
    /// Moves the bytes of `file` from `position` on into quarantine, then cuts the file there.
    case cutFile(file: String, position: Int, reason: String)
    /// Moves a whole file into quarantine.
    case quarantineFile(file: String, reason: String)
    /// Rebuilds the offset and time index of a segment from its log (the old ones go to quarantine).
    case rebuildIndexes(directory: String, baseOffset: Int64, offsetLimit: Int64?)
    /// Renames a segment's log to the name of its first offset (its indexes are rebuilt after).
    case renameSegment(directory: String, fromBaseOffset: Int64, toBaseOffset: Int64)
    /// Renames a `.swap` file to its final name, finishing an interrupted compaction swap.
    case finishSwap(file: String)
    /// Rewrites an offset checkpoint with these entries (the old file goes to quarantine).
    case rewriteCheckpoint(file: String, entries: [CheckpointEntry], reason: String)

    public var description: String {
        switch self {
        case let .cutFile(file, position, _): "cut \(file) at byte \(position), moving the rest to quarantine"
        case let .quarantineFile(file, _): "move \(file) to quarantine"
        case let .rebuildIndexes(directory, base, _): "rebuild the indexes of segment \(base) in \(directory)"
        case let .renameSegment(directory, from, to): "rename segment \(from) to \(to) in \(directory)"
        case let .finishSwap(file): "rename \(file) to its final name"
        case let .rewriteCheckpoint(file, entries, _): "rewrite \(file) with \(entries.count) entries"
        }
    }
}

/// One line of an offset checkpoint.
public struct CheckpointEntry: Sendable, Equatable, Codable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
}
