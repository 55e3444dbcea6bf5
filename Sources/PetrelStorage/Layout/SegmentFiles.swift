/// File names of a segment: the base offset as 20 zero-padded digits, so that `ls` order is
/// offset order, with Kafka's suffixes. The one place these names are spelled: the engine,
/// fsck and `petrel dump` all ask here.
public enum SegmentFiles {
    public static let logSuffix = ".log"
    public static let offsetIndexSuffix = ".index"
    public static let timeIndexSuffix = ".timeindex"
    public static let transactionIndexSuffix = ".txnindex"
    /// Producer state at an offset: `<offset>.snapshot` (the offset is the first one it does
    /// not cover).
    public static let snapshotSuffix = ".snapshot"
    /// Bytes cut from a log by recovery: `<base>.log.<position>.quarantined`.
    public static let quarantineSuffix = ".quarantined"
    /// A segment file removed from the log but still read by someone (`<name>.deleted`): it is
    /// unlinked when the last reader lets go, and by start-up if a crash came first.
    public static let deletedSuffix = ".deleted"
    /// Output of an unfinished compaction (`<name>.cleaned`), discarded at start-up.
    public static let cleanedSuffix = ".cleaned"
    /// A compacted segment about to replace the one it was made from (`<name>.swap`).
    public static let swapSuffix = ".swap"

    public static func prefix(_ baseOffset: Int64) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    public static func logPath(_ directory: String, _ baseOffset: Int64) -> String { "\(directory)/\(prefix(baseOffset))\(logSuffix)" }
    public static func offsetIndexPath(_ directory: String, _ baseOffset: Int64) -> String { "\(directory)/\(prefix(baseOffset))\(offsetIndexSuffix)" }
    public static func timeIndexPath(_ directory: String, _ baseOffset: Int64) -> String { "\(directory)/\(prefix(baseOffset))\(timeIndexSuffix)" }
    public static func transactionIndexPath(_ directory: String, _ baseOffset: Int64) -> String {
        "\(directory)/\(prefix(baseOffset))\(transactionIndexSuffix)"
    }
    public static func snapshotPath(_ directory: String, _ offset: Int64) -> String { "\(directory)/\(prefix(offset))\(snapshotSuffix)" }
    /// Where recovery moves the bytes of `logPath` from `position` on.
    public static func quarantinePath(logPath: String, position: Int) -> String { "\(logPath).\(position)\(quarantineSuffix)" }

    /// The base offset named by a segment file (`00000000000000000042.log` → 42), or nil.
    public static func baseOffset(ofFile name: String, suffix: String) -> Int64? {
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        guard stem.count == 20, stem.allSatisfy(\.isASCII), stem.allSatisfy(\.isNumber) else { return nil }
        return Int64(stem)
    }

    /// The suffixes of a segment's files: its log and its three indexes.
    public static let segmentFileSuffixes = [logSuffix, offsetIndexSuffix, timeIndexSuffix, transactionIndexSuffix]

    /// The log, offset index and time index of segment `baseOffset` (the files a segment is made
    /// and removed with), each followed by `marker` (`.cleaned` while the cleaner writes them).
    public static func files(_ directory: String, _ baseOffset: Int64, marker: String = "") -> [String] {
        [logPath(directory, baseOffset), offsetIndexPath(directory, baseOffset), timeIndexPath(directory, baseOffset)].map { $0 + marker }
    }

    /// The base offset of one of a segment's files kept under `marker` (`<base>.log.swap`,
    /// `<base>.index.cleaned` → base), or nil when `name` is not `<segment file name><marker>`.
    public static func baseOffset(ofMarked name: String, _ marker: String) -> Int64? {
        guard name.hasSuffix(marker) else { return nil }
        let inner = String(name.dropLast(marker.count))
        for suffix in segmentFileSuffixes {
            if let base = baseOffset(ofFile: inner, suffix: suffix) { return base }
        }
        return nil
    }

    /// Whether start-up removes `name` as a leftover: a file already scheduled for deletion, an
    /// unfinished compaction's output, or a half-written temporary.
    public static func isStartupLeftover(_ name: String) -> Bool {
        name.hasSuffix(deletedSuffix) || name.hasSuffix(cleanedSuffix) || name.hasSuffix(temporaryFileSuffix)
    }
}
