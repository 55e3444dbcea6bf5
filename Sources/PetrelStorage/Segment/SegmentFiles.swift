/// File names of a segment: the base offset as 20 zero-padded digits, so that `ls` order is
/// offset order, with Kafka's suffixes.
public enum SegmentFiles {
    public static let logSuffix = ".log"
    public static let offsetIndexSuffix = ".index"
    public static let timeIndexSuffix = ".timeindex"
    /// Bytes cut from a log by recovery: `<base>.log.<position>.quarantined`.
    public static let quarantineSuffix = ".quarantined"

    public static func prefix(_ baseOffset: Int64) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    public static func logPath(_ directory: String, _ baseOffset: Int64) -> String { "\(directory)/\(prefix(baseOffset))\(logSuffix)" }
    public static func offsetIndexPath(_ directory: String, _ baseOffset: Int64) -> String { "\(directory)/\(prefix(baseOffset))\(offsetIndexSuffix)" }
    public static func timeIndexPath(_ directory: String, _ baseOffset: Int64) -> String { "\(directory)/\(prefix(baseOffset))\(timeIndexSuffix)" }

    /// The base offset named by a segment file (`00000000000000000042.log` → 42), or nil.
    public static func baseOffset(ofFile name: String, suffix: String) -> Int64? {
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        guard stem.count == 20, stem.allSatisfy(\.isASCII), stem.allSatisfy(\.isNumber) else { return nil }
        return Int64(stem)
    }
}
