/// One thing fsck found: what, where (file, byte position, offset), and what `--repair` does.
public struct Finding: Sendable, Equatable, Codable {
    public enum Severity: String, Sendable, Codable, Comparable {
        /// Worth knowing, nothing wrong (e.g. bytes quarantined by an earlier recovery).
        case info
        /// Unusual but not damage; fsck's exit status ignores it.
        case warning
        /// Damage: the directory is not what Kafka or Petrel would have written.
        case error

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            let order: [Severity] = [.info, .warning, .error]
            return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
        }
    }

    /// Stable names for each kind of finding, for scripts.
    public enum Kind: String, Sendable, Codable {
        case invalidBatch = "invalid-batch"
        case zeroFilledTail = "zero-filled-tail"
        case offsetsOutOfOrder = "offsets-out-of-order"
        case segmentNameMismatch = "segment-name-mismatch"
        case overlappingSegment = "overlapping-segment"
        case offsetGap = "offset-gap"
        case timestampOrder = "timestamp-order"
        case missingIndex = "missing-index"
        case truncatedIndex = "truncated-index"
        case indexEntryInvalid = "index-entry-invalid"
        case indexEntryPastEnd = "index-entry-past-end"
        case indexPreallocatedTail = "index-preallocated-tail"
        case timeIndexOutOfOrder = "time-index-out-of-order"
        case timeIndexInconsistent = "time-index-inconsistent"
        case transactionIndexInvalid = "transaction-index-invalid"
        case producerSnapshotInvalid = "producer-snapshot-invalid"
        case leftoverFile = "leftover-file"
        case interruptedSwap = "interrupted-swap"
        case unknownFile = "unknown-file"
        case quarantinedBytes = "quarantined-bytes"
        case partitionMetadataInvalid = "partition-metadata-invalid"
        case partitionMetadataMissing = "partition-metadata-missing"
        case checkpointInvalid = "checkpoint-invalid"
        case checkpointOutOfRange = "checkpoint-out-of-range"
        case checkpointUnknownPartition = "checkpoint-unknown-partition"
        case orphanIndex = "orphan-index"
        case unreadable = "unreadable"
        case brokerFileInvalid = "broker-file-invalid"
    }

    public var severity: Severity
    public var kind: Kind
    /// The file concerned (absolute or as given).
    public var file: String
    /// Byte position in `file`, when the finding is about one place.
    public var position: Int?
    /// The offset concerned, when known.
    public var offset: Int64?
    public var message: String
    /// What `--repair` does about it; nil when fsck cannot repair it (it is then reported and
    /// left alone, and the exit status says errors remain).
    public var repair: String?

    public init(_ severity: Severity, _ kind: Kind, file: String, position: Int? = nil, offset: Int64? = nil,
                message: String, repair: String?) {
        self.severity = severity
        self.kind = kind
        self.file = file
        self.position = position
        self.offset = offset
        self.message = message
        self.repair = repair
    }

    /// One line for people: `ERROR file: byte N: offset O: message; repair: action`.
    public var line: String {
        var text = "\(severity.rawValue.uppercased()) \(file)"
        if let position { text += ": byte \(position)" }
        if let offset { text += ": offset \(offset)" }
        text += ": \(message) [\(kind.rawValue)]"
        if severity != .info { text += "; repair: \(repair ?? "none (left as is)")" }
        return text
    }
}
