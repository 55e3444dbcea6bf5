import Foundation
import PetrelFormat
@testable import PetrelStorage
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct ProducerStateTests {
    func idempotentBatch(producerId: Int64 = 7, epoch: Int16 = 0, sequence: Int32, count: Int = 2,
                         timestamp: Int64 = Log.nowMs()) -> [UInt8] {
        var builder = RecordBatchBuilder()
        builder.producerId = producerId
        builder.producerEpoch = epoch
        builder.baseSequence = sequence
        for index in 0..<count { builder.append(key: nil, value: Array("s\(Int(sequence) + index)".utf8), timestamp: timestamp) }
        return try! builder.build()
    }

    @Test func duplicatesOutOfOrderAndFencedEpochs() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig())
        #expect(try log.append(idempotentBatch(sequence: 0)).firstOffset == 0)
        #expect(try log.append(idempotentBatch(sequence: 2)).firstOffset == 2)
        #expect(try log.append(idempotentBatch(sequence: 0)).firstOffset == 0, "duplicate: original offsets")
        #expect(log.logEndOffset == 4, "nothing appended for a duplicate")
        let gap = #expect(throws: StorageError.self) { try log.append(idempotentBatch(sequence: 9)) }
        #expect(gap?.code == .outOfOrderSequence(producerId: 7, sequence: 9, expected: 4))
        #expect(try log.append(idempotentBatch(epoch: 1, sequence: 0)).firstOffset == 4)
        let fenced = #expect(throws: StorageError.self) { try log.append(idempotentBatch(epoch: 0, sequence: 4)) }
        #expect(fenced?.code == .invalidProducerEpoch(producerId: 7, epoch: 0, currentEpoch: 1))
        // Only the last five batches are remembered.
        for sequence in stride(from: Int32(2), to: 14, by: 2) { _ = try log.append(idempotentBatch(epoch: 1, sequence: sequence)) }
        #expect(throws: StorageError.self) { try log.append(idempotentBatch(epoch: 1, sequence: 2)) }
        #expect(try log.append(idempotentBatch(epoch: 1, sequence: 12)).firstOffset == log.logEndOffset - 2)
        try log.close()
    }

    @Test func stateSurvivesCleanCloseAndCrashRecovery() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/t-0"
        try writeTwentyIdempotentBatches(at: path)
        #expect(FileManager.default.fileExists(atPath: "\(path)/\(SegmentFiles.prefix(40)).snapshot"))
        do {
            let (log, _) = try Log.open(directory: path, config: smallConfig(segmentBytes: 1024), hadCleanShutdown: true)
            #expect(try log.append(idempotentBatch(sequence: 38)).firstOffset == 38, "from the snapshot")
            _ = try log.append(idempotentBatch(sequence: 40))
            // No close: a crash. The snapshot says 40; the batch at 40 is replayed from the log.
        }
        let (log, _) = try Log.open(directory: path, config: smallConfig(segmentBytes: 1024))
        #expect(try log.append(idempotentBatch(sequence: 40)).firstOffset == 40, "replayed from the log")
        #expect(try log.append(idempotentBatch(sequence: 42)).firstOffset == 42)
    }

    @Test func snapshotBytesRoundTrip() {
        var state = ProducerState()
        state.record(producerId: 3, epoch: 2, batch: .init(firstSequence: 10, lastSequence: 14, firstOffset: 100, lastOffset: 104, timestamp: 55))
        state.record(producerId: 9, epoch: 0, batch: .init(firstSequence: 0, lastSequence: 0, firstOffset: 105, lastOffset: 105, timestamp: 56))
        let bytes = state.snapshotBytes()
        #expect(bytes.count == 10 + 2 * 46)
        #expect(ProducerState.fromSnapshot(bytes) == state)
        var damaged = bytes
        damaged[20] ^= 1
        #expect(ProducerState.fromSnapshot(damaged) == nil)
    }

    /// Producers whose last batch is older than producer.id.expiration.ms are forgotten: by the
    /// periodic pass, and in snapshots.
    @Test func producersExpireAfterProducerIdExpirationMs() throws {
        let directory = TemporaryDirectory()
        var config = smallConfig()
        config.producerIdExpirationMs = 60_000
        let path = directory.path + "/t-0"
        let (log, _) = try Log.open(directory: path, config: config)
        try log.append(idempotentBatch(producerId: 1, sequence: 0, timestamp: 1_000_000))
        try log.append(idempotentBatch(producerId: 2, sequence: 0, timestamp: 1_050_000))
        log.removeExpiredProducers(nowMs: 1_059_999)
        #expect(log.producerCount == 2, "neither is a minute old at its last batch")
        log.removeExpiredProducers(nowMs: 1_060_000)
        #expect(log.producerCount == 1, "producer 1's last batch is a minute old")
        // Forgotten: producer 1 is unknown, so any sequence is accepted (Kafka's rule).
        #expect(try log.append(idempotentBatch(producerId: 1, sequence: 9, timestamp: 1_060_000)).firstOffset == 4)
        // The snapshot leaves out the producers expired when it is taken.
        try log.writeProducerSnapshot(nowMs: 1_110_000)
        #expect(log.producerCount == 1, "producer 2 expired at the snapshot")
        let snapshot = try SystemFileIO().readSmallFile("\(path)/\(SegmentFiles.prefix(log.logEndOffset)).snapshot")
        #expect(ProducerState.fromSnapshot(snapshot)?.entries.keys.sorted() == [1])
    }

    /// Batch timestamps are whatever producers send: one at Int64.min made the age overflow and
    /// trapped the broker at the next snapshot (found by the fuzz test, through a DeleteTopics).
    @Test func aProducerWithAnExtremeTimestampExpiresWithoutOverflow() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig())
        try log.append(idempotentBatch(producerId: 1, sequence: 0, timestamp: .min))
        try log.append(idempotentBatch(producerId: 2, sequence: 0, timestamp: .max))
        log.removeExpiredProducers(nowMs: 1_000_000)
        #expect(log.producerCount == 1, "the producer from the far past expired; the one from the far future is kept")
        try log.writeProducerSnapshot(nowMs: 1_000_000)
    }

    /// A replay that cannot read the log is an error, not a silently partial state (it used to
    /// stop at the first error: `try?`).
    @Test func aProducerStateReplayThatCannotReadTheLogFailsTheOpen() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/t-0"
        try writeTwentyIdempotentBatches(at: path)
        // No snapshot: the state is replayed from the first segment, whose mapping fails.
        for name in try FileManager.default.contentsOfDirectory(atPath: path) where name.hasSuffix(".snapshot") {
            try FileManager.default.removeItem(atPath: "\(path)/\(name)")
        }
        let io = FaultInjectingFileIO()
        io.inject(.failMappings(pathSuffix: SegmentFiles.prefix(0) + SegmentFiles.logSuffix, errno: ENOMEM))
        let error = #expect(throws: StorageError.self) {
            try Log.open(directory: path, config: smallConfig(segmentBytes: 1024), io: io, hadCleanShutdown: true)
        }
        #expect(error?.errno == ENOMEM)
    }

    /// 20 batches of 2 records from one idempotent producer, over 1 KiB segments, then a clean close.
    func writeTwentyIdempotentBatches(at path: String) throws {
        let (log, _) = try Log.open(directory: path, config: smallConfig(segmentBytes: 1024))
        for sequence in stride(from: Int32(0), to: 40, by: 2) { _ = try log.append(idempotentBatch(sequence: sequence)) }
        try log.close()
    }
}
