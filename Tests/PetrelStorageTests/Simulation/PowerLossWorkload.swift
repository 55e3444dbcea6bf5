#if canImport(Glibc)
import Glibc
#endif
import PetrelFormat
import PetrelStorage
import PetrelTestSupport

/// A seeded run of a `LogManager` on a `SimulatedFileIO` that touches every path a power loss
/// can interrupt: topic (partition) creation and deletion, appends acknowledged only after
/// fsync, segment rolls (index trims), checkpoints, a clean close and reopen, and the final
/// close. It records
/// which records were acknowledged, and after which mutating call, so that a crash before any
/// call N can be judged: every record acknowledged after a call below N must survive it.
final class PowerLossWorkload {
    static let dataDirectory = "/data"

    /// Small sizes, so that a run of ~100 appends rolls many segments, both on `segment.bytes`
    /// and on full indexes (8 time-index entries).
    static var config: LogConfig {
        var config = LogConfig()
        config.segmentBytes = 2048
        config.indexIntervalBytes = 128
        config.segmentIndexBytes = 96
        config.flushPolicy = .beforeAcknowledge
        return config
    }

    struct AckedRecord {
        let partition: TopicPartition
        let offset: Int64
        let key: [UInt8]
        let value: [UInt8]
        /// The simulator's mutation count when `append` returned.
        let acknowledgedAfterCall: Int
        /// Whether the log fsynced before acknowledging (`.beforeAcknowledge`); otherwise only
        /// a recovery point checkpointed above it promises that it survives.
        let durableWhenAcknowledged: Bool
    }

    let seed: UInt64
    private(set) var acknowledged: [AckedRecord] = []
    /// What the workload did, with the first mutating call of each step, for failure messages.
    private(set) var steps: [(firstCall: Int, what: String)] = []
    /// Partitions that exist (created, not deleted).
    private(set) var partitions: [TopicPartition] = []
    /// The first mutating call of each partition's deletion: a crash from then on may take it.
    private(set) var deletionStarted: [TopicPartition: Int] = [:]
    private var partitionsMade: [String: Int32] = [:]

    /// Whether some partitions acknowledge before fsync (Kafka's default policy). Off in the
    /// acceptance test: a crash right after such a partition's roll leaves an offset gap (see
    /// `PowerLossTests`), which fsck calls an error.
    let withUnflushedPartitions: Bool

    init(seed: UInt64, withUnflushedPartitions: Bool = false) {
        self.seed = seed
        self.withUnflushedPartitions = withUnflushedPartitions
    }

    /// Runs the whole workload. The data directory exists, durably, before the recording
    /// starts (as one made by an operator); LogManager's own mkdir is a separate test.
    func run(on io: SimulatedFileIO) throws {
        var random = SeededGenerator(seed: seed)
        try io.mkdir(Self.dataDirectory)
        try io.fsyncDirectory("/")
        io.startRecordingCrashImages()

        note(io, "open the log manager")
        var manager = try LogManager(dataDirectory: Self.dataDirectory, defaultConfig: Self.config, io: io)
        try createPartition(manager, io, &random)
        let stepCount = Int.random(in: 60...110, using: &random)
        for _ in 0..<stepCount {
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<7 where partitions.count < 5:
                try createPartition(manager, io, &random)
            case 7..<13:
                note(io, "checkpoint")
                try manager.checkpoint()
            case 13..<16 where partitions.count > 1:
                let doomed = partitions.randomElement(using: &random)!
                note(io, "delete \(doomed)")
                deletionStarted[doomed] = io.mutationCount + 1
                try manager.deleteLog(for: doomed)
                partitions.removeAll { $0 == doomed }
            case 16..<19:
                note(io, "clean close")
                try manager.close()
                note(io, "reopen after a clean close")
                manager = try LogManager(dataDirectory: Self.dataDirectory, defaultConfig: Self.config, io: io)
            default:
                try append(manager, io, &random)
            }
        }
        note(io, "final clean close")
        try manager.close()
    }

    private func note(_ io: SimulatedFileIO, _ what: String) { steps.append((io.mutationCount + 1, what)) }

    private func createPartition(_ manager: LogManager, _ io: SimulatedFileIO, _ random: inout SeededGenerator) throws {
        let topic = ["orders", "payments", "audit-log"].randomElement(using: &random)!
        // Numbers are never reused, so that a deleted partition's records are never mistaken for
        // a new one's.
        let partition = TopicPartition(topic: topic, partition: partitionsMade[topic, default: 0])
        partitionsMade[topic, default: 0] += 1
        // With `withUnflushedPartitions`, some partitions get Kafka's default policy (no fsync on
        // the append path): rolled segments are synced in the background, and what they promise
        // is the recovery point. (Until a reopen: LogManager reopens every log with its default.)
        var config = Self.config
        if withUnflushedPartitions && Bool.random(using: &random) { config.flushPolicy = .kafkaDefault }
        note(io, "create \(partition)\(config.flushPolicy == .beforeAcknowledge ? "" : " (no fsync before acknowledging)")")
        try manager.createLog(for: partition, topicId: (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }, config: config)
        partitions.append(partition)
    }

    private func append(_ manager: LogManager, _ io: SimulatedFileIO, _ random: inout SeededGenerator) throws {
        let partition = partitions.randomElement(using: &random)!
        let log = manager.log(for: partition)!  // created above, never deleted
        let count = Int.random(in: 1...4, using: &random)
        var builder = RecordBatchBuilder()
        var records: [(key: [UInt8], value: [UInt8])] = []
        let now = wallClockMs()
        for index in 0..<count {
            let key = Array("k\(acknowledged.count + index)".utf8)
            var value = Array("\(partition) #\(acknowledged.count + index) ".utf8)
            let length = Int.random(in: value.count...300, using: &random)
            while value.count < length { value.append(UInt8.random(in: 97...122, using: &random)) }
            builder.append(key: key, value: value, timestamp: now + Int64(index))
            records.append((key, value))
        }
        note(io, "append \(count) records to \(partition)")
        let info = try log.append(try builder.build())
        let after = io.mutationCount
        for (index, record) in records.enumerated() {
            acknowledged.append(AckedRecord(partition: partition, offset: info.firstOffset + Int64(index), key: record.key,
                                            value: record.value, acknowledgedAfterCall: after,
                                            durableWhenAcknowledged: log.config.flushPolicy == .beforeAcknowledge))
        }
    }

    /// The workload step that mutating call `call` belongs to.
    func step(ofCall call: Int) -> String { steps.last { $0.firstCall <= call }?.what ?? "setup" }
}

/// Wall-clock milliseconds: records carry current timestamps, so that retention (7 days) has
/// no business deleting them.
func wallClockMs() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
}
