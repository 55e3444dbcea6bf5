import Foundation
import PetrelFormat
@testable import PetrelStorage
import Testing

/// Producer snapshots written at each roll: recovery after a crash replays producer state from
/// the last roll, not from the log start, and ends with the state a full replay gives.
@Suite struct RollSnapshotTests {
    static let producers: [Int64] = [11, 12, 13]

    func idempotentBatch(producerId: Int64, sequence: Int32) -> [UInt8] {
        var builder = RecordBatchBuilder()
        builder.producerId = producerId
        builder.producerEpoch = 0
        builder.baseSequence = sequence
        for index in 0..<2 { builder.append(key: nil, value: Array("p\(producerId)-s\(Int(sequence) + index)".utf8), timestamp: Log.nowMs()) }
        return try! builder.build()
    }

    /// Many segments of batches from three producers in turn, until the active segment holds
    /// at least 15 batches (5 per producer: what the state remembers of each), then fsynced and
    /// abandoned without a close — a crash. Returns each producer's next sequence.
    func writeAndCrash(at path: String, config: LogConfig) throws -> [Int64: Int32] {
        let (log, _) = try Log.open(directory: path, config: config)
        var sequences: [Int64: Int32] = [:]
        var appended = 0
        while appended < 300 || log.logEndOffset - log.segmentBaseOffsets.last! < 30 {
            let producer = Self.producers[appended % Self.producers.count]
            try log.append(idempotentBatch(producerId: producer, sequence: sequences[producer, default: 0]))
            sequences[producer, default: 0] += 2
            appended += 1
        }
        try log.flush()  // the rolls' background work (segment syncs, snapshots) is done
        #expect(log.segmentCount >= 8)
        #expect(log.producerSnapshotFailures.load(ordering: .relaxed) == 0)
        return sequences
    }

    @Test func recoveryAfterACrashReplaysOnlyTheSegmentsAfterTheLastRollSnapshot() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/rolls-0"
        let config = smallConfig(segmentBytes: 2048)
        let sequences = try writeAndCrash(at: path, config: config)
        let snapshots = directory.files(in: "rolls-0").compactMap { SegmentFiles.baseOffset(ofFile: $0, suffix: SegmentFiles.snapshotSuffix) }
        let bases = directory.files(in: "rolls-0").compactMap { SegmentFiles.baseOffset(ofFile: $0, suffix: SegmentFiles.logSuffix) }.sorted()
        let lastBase = bases.last!
        #expect(snapshots.count == Log.rollSnapshotsRetained, "bounded")
        #expect(snapshots.max() == lastBase, "one at the last roll")

        // The full replay, for comparison: the same files without any snapshot.
        let fullPath = directory.path + "/full-0"
        try FileManager.default.copyItem(atPath: path, toPath: fullPath)
        for offset in snapshots { try FileManager.default.removeItem(atPath: SegmentFiles.snapshotPath(fullPath, offset)) }
        let (full, fullReport) = try Log.open(directory: fullPath, config: config, recoveryPoint: lastBase)
        #expect(fullReport.producerStateReplayedFrom == 0)

        // The recovery point a checkpoint taken at the last roll would hold.
        let io = RecordingFileIO()
        let (log, report) = try Log.open(directory: path, config: config, io: io, recoveryPoint: lastBase)
        #expect(report.segmentsRecovered == [lastBase])
        #expect(report.producerStateReplayedFrom == lastBase)
        let logsRead = Set(io.mappedPaths.filter { $0.hasSuffix(SegmentFiles.logSuffix) })
        #expect(logsRead == [SegmentFiles.logPath(path, lastBase)], "no segment before the snapshot was read")
        #expect(log.queueCondition.withLock { log.producerState } == full.queueCondition.withLock { full.producerState })

        // And it behaves so: each producer's next batch is taken, a resend of its last is not.
        for producer in Self.producers {
            let next = sequences[producer]!
            let resent = try log.append(idempotentBatch(producerId: producer, sequence: next - 2))
            let appended = try log.append(idempotentBatch(producerId: producer, sequence: next))
            #expect(resent.lastOffset < appended.firstOffset)
        }
        try log.close()
        try full.close()
    }

    /// The writer rolls while later batches are already queued (their offsets and sequences
    /// are in the producer state): a snapshot at the roll must not claim them, or after a crash
    /// that lost them a resend would be answered as a duplicate at offsets that hold nothing.
    @Test func aRollSnapshotHoldsNoBatchAtOrPastItsOffset() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/queued-0", config: smallConfig(segmentBytes: 1 << 20))
        for sequence in stride(from: Int32(0), to: 10, by: 2) { try log.append(idempotentBatch(producerId: 11, sequence: sequence)) }
        let entries = try #require(ProducerSnapshotFile.decode(log.producerSnapshotBytes(below: 4)))
        #expect(entries.map(\.producerId) == [11])
        #expect(entries.map(\.lastOffset) == [3] && entries.map(\.lastSequence) == [3])
        try log.close()
    }

    /// A truncation below a snapshot removes it durably: brought back by a power loss, it would
    /// describe batches the log no longer holds once appends pass its offset again.
    @Test func aTruncationRemovesLaterSnapshotsDurably() throws {
        let io = SimulatedFileIO()
        try io.mkdir("/data")
        try io.fsyncDirectory("/")
        let path = "/data/cut-0"
        let (log, _) = try Log.open(directory: path, config: smallConfig(segmentBytes: 2048), io: io)
        var sequence: Int32 = 0
        while log.segmentCount < 4 {
            try log.append(idempotentBatch(producerId: 11, sequence: sequence))
            sequence += 2
        }
        try log.flush()
        let bases = log.segmentBaseOffsets
        #expect(io.durableImage().files.contains { $0.path == SegmentFiles.snapshotPath(path, bases[2]) })
        try log.truncate(removingFrom: bases[1] + 1)
        let durable = io.durableImage().files.compactMap { file in
            SegmentFiles.baseOffset(ofFile: String(file.path.split(separator: "/").last!), suffix: SegmentFiles.snapshotSuffix)
        }
        #expect(durable.allSatisfy { $0 <= log.logEndOffset }, "snapshots \(durable) past the log end \(log.logEndOffset)")
    }

    @Test func rollSnapshotsAreFsyncedBeforeTheRecoveryPointPassesThem() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/ack-0"
        // Under fsync-before-acknowledge the recovery point moves with each append: a snapshot
        // must be on disk for every roll the recovery point has passed.
        let config = smallConfig(segmentBytes: 2048, flushPolicy: .beforeAcknowledge)
        _ = try writeAndCrash(at: path, config: config)
        let (log, report) = try Log.open(directory: path, config: config, recoveryPoint: .max)
        let bases = log.segmentBaseOffsets
        #expect(report.producerStateReplayedFrom == bases.last!)
        try log.close()
    }
}
