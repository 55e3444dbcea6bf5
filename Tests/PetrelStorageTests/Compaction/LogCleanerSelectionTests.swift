import Foundation
import Synchronization
import Testing
import PetrelFormat
@testable import PetrelStorage

/// The cleaner's choices and bounds: which log it cleans, that a compact-only log keeps old
/// records from retention, that a truncation clamps the checkpoint, and the I/O throttle.
@Suite struct LogCleanerSelectionTests {
    /// A LogManager of compacted logs with small segments.
    func manager(_ directory: TemporaryDirectory, ratio: Double) throws -> LogManager {
        var config = compactedConfig(segmentBytes: 2048)
        config.minCleanableDirtyRatio = ratio
        return try LogManager(dataDirectory: directory.path, defaultConfig: config)
    }

    func fill(_ log: Log, rounds: Int) throws {
        for round in 0..<rounds {
            for key in 0..<10 {
                var builder = RecordBatchBuilder()
                builder.append(key: Array("k\(key)".utf8), value: Array("round \(round) \(String(repeating: "v", count: 80))".utf8), timestamp: 1)
                try log.append(try builder.build())
            }
        }
    }

    @Test func theDirtiestLogPastTheRatioIsCleanedFirstAndACleanOneIsLeftAlone() throws {
        let directory = TemporaryDirectory()
        let manager = try manager(directory, ratio: 0.5)
        let small = try manager.createLog(for: TopicPartition(topic: "small", partition: 0))
        let large = try manager.createLog(for: TopicPartition(topic: "large", partition: 0))
        try fill(small, rounds: 5)
        try fill(large, rounds: 20)
        let cleaner = try manager.startCleaner(threads: false)
        let map = OffsetMap(memoryBytes: 1 << 16)
        // Both are all dirty (ratio 1): ties go to the last in name order, "small".
        #expect(cleaner.runDirtiest(map: map, nowMs: 1))
        #expect(cleaner.checkpoint(for: TopicPartition(topic: "small", partition: 0)) != nil)
        #expect(cleaner.checkpoint(for: TopicPartition(topic: "large", partition: 0)) == nil)
        #expect(cleaner.runDirtiest(map: map, nowMs: 1))
        #expect(cleaner.checkpoint(for: TopicPartition(topic: "large", partition: 0)) != nil)
        // Both clean now (dirty ratio 0 ≤ 0.5): nothing to do.
        #expect(!cleaner.runDirtiest(map: map, nowMs: 1))
        // New records in the active segment are not cleanable yet.
        try fill(large, rounds: 1)
        #expect(!cleaner.runDirtiest(map: map, nowMs: 1))
        #expect(cleaner.stats.passes == 2)
        // The checkpoints are kept across a restart.
        try manager.close()
        let reopened = try self.manager(directory, ratio: 0.5)
        #expect(try reopened.startCleaner(threads: false).checkpoint(for: TopicPartition(topic: "small", partition: 0)) != nil)
        try reopened.close()
    }

    @Test func aCompactOnlyLogKeepsOldRecordsThroughRetention() throws {
        let directory = TemporaryDirectory()
        var config = compactedConfig(segmentBytes: 2048)
        config.retentionMs = 1
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config)
        try fill(log, rounds: 10)
        #expect(try log.applyRetention(nowMs: 1_000_000) == 0, "compact alone: retention does not apply")
        config.cleanupPolicy = [.compact, .delete]
        try log.updateConfig(config)
        #expect(try log.applyRetention(nowMs: 1_000_000) > 0, "compact,delete: it does")
    }

    @Test func aTruncationBelowTheCheckpointClampsItToTheActiveSegment() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: compactedConfig(segmentBytes: 2048))
        try fill(log, rounds: 10)
        let checkpoint = log.segmentBaseOffsets.dropLast().last!
        let cut = log.segmentBaseOffsets[log.segmentCount / 2] + 2
        try log.truncate(removingFrom: cut)
        let range = try log.cleanableRange(checkpoint: checkpoint, nowMs: 1)
        #expect(range.firstDirtyOffset == log.segmentBaseOffsets.last!, "clamped to the new active segment's base, not the log start")
        #expect(try log.cleanableRange(checkpoint: -5, nowMs: 1).firstDirtyOffset == log.logStartOffset)
    }

    @Test func theThrottleHoldsTheCleanerToItsRate() {
        let now = Mutex<UInt64>(1_000_000_000)
        let slept = Mutex<[UInt64]>([])
        let throttle = CleanerThrottle(bytesPerSecond: 1_000_000, clock: { now.withLock { $0 } },
                                       sleep: { nanoseconds in slept.withLock { $0.append(nanoseconds) }; now.withLock { $0 += nanoseconds } })
        // 1 MB/s: 500 kB in no time must wait half a second.
        throttle.consume(bytes: 1)
        throttle.consume(bytes: 500_000)
        #expect(slept.withLock { $0 }.reduce(0, +) >= 490_000_000)
        // After a second of quiet, the burst is not held against the next bytes: 100 bytes wait
        // at most their own 100 µs.
        let before = slept.withLock { $0.reduce(0, +) }
        now.withLock { $0 += 1_000_000_000 }
        throttle.consume(bytes: 100)
        #expect(slept.withLock { $0.reduce(0, +) } - before <= 100_000)
    }
}
