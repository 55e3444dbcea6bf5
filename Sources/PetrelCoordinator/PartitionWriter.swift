public import PetrelStorage

/// How a coordinator (group or transaction state) reaches the partitions of its internal topic:
/// through the broker, never through a `Log`, so that whatever the broker does to a partition
/// — replication, fencing, leadership moves — applies to coordinator state as to any other.
///
/// The broker implements it (`BrokerPartitionWriter`); an embedder implements it over its own
/// storage. Every method may suspend; none blocks the calling thread.
public protocol PartitionWriter: Sendable {
    /// Appends `records` (one or more encoded RecordBatch v2 batches) to `partition` with
    /// `acks=all` semantics: it returns once the records are durable under the partition's
    /// policy (and, in a cluster, replicated to the in-sync replicas), with the offset assigned
    /// to the first record.
    ///
    /// - Throws: `PartitionWriteError` when the partition is not here, not led here, or the
    ///   append failed; nothing was acknowledged then.
    func append(_ records: [UInt8], to partition: TopicPartition) async throws(PartitionWriteError) -> Int64

    /// Reads committed batches (below the high watermark) from `fromOffset`, at most about
    /// `maxBytes` (at least one whole batch when one is there).
    func read(_ partition: TopicPartition, fromOffset: Int64, maxBytes: Int) async throws(PartitionWriteError) -> PartitionReadResult

    /// Calls `listener` whenever this broker gains or loses leadership of a partition of
    /// `topic` (and once per partition it already leads, at registration), so that a
    /// coordinator loads or unloads that partition's state.
    func watchLeadership(of topic: String, _ listener: @escaping @Sendable (LeadershipChange) -> Void)
}

/// What a read of a coordinator partition returns.
public struct PartitionReadResult: Sendable, Equatable {
    /// Whole batches, as stored.
    public var records: [UInt8]
    /// The offset after the last committed record: a coordinator has loaded a partition when
    /// its reads reach this.
    public var highWatermark: Int64
    public var logStartOffset: Int64

    public init(records: [UInt8], highWatermark: Int64, logStartOffset: Int64) {
        self.records = records
        self.highWatermark = highWatermark
        self.logStartOffset = logStartOffset
    }
}

/// A partition of a coordinator's topic became led here (load its state) or stopped being led
/// here (drop it); `leaderEpoch` orders changes of one partition.
public struct LeadershipChange: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case elected, resigned }
    public var partition: TopicPartition
    public var kind: Kind
    public var leaderEpoch: Int32

    public init(partition: TopicPartition, kind: Kind, leaderEpoch: Int32) {
        self.partition = partition
        self.kind = kind
        self.leaderEpoch = leaderEpoch
    }
}

/// Why a coordinator's append or read failed, in terms a coordinator can act on.
public struct PartitionWriteError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The partition does not exist here.
        case unknownPartition
        /// Another broker leads it (or leadership is moving): the coordinator must unload.
        case notLeader
        /// The append was not made durable (storage failure, offline log, timeout).
        case storage
        /// The records were refused (too large, malformed).
        case invalidRecords
    }

    public var kind: Kind
    public var partition: TopicPartition
    public var message: String

    public init(_ kind: Kind, partition: TopicPartition, message: String) {
        self.kind = kind
        self.partition = partition
        self.message = message
    }

    public var description: String { "\(partition): \(kind): \(message)" }
}
