import Foundation
import Testing
import PetrelFormat
import PetrelRepair
@testable import PetrelStorage

/// Passes from `checkpoint` until one covers the whole cleanable range (several when the map fills).
@discardableResult
func compactFully(_ log: Log, map: OffsetMap, nowMs: Int64, checkpoint: inout Int64?, hooks: CleanerHooks? = nil) throws -> [CleaningResult] {
    var results: [CleaningResult] = []
    repeat {
        let result = try log.clean(checkpoint: checkpoint, map: map, options: CleaningOptions(nowMs: nowMs, ioBufferBytes: 4096, hooks: hooks))
        results.append(result)
        checkpoint = result.endOffset
        precondition(results.count < 1000, "compaction makes no progress")
    } while results.last!.offsetMapFilled && results.last!.abortedBecause == nil
    return results
}

/// fsck's errors for a partition directory.
func fsckErrors(_ directory: String) throws -> [String] {
    try LogDirectoryChecker(path: directory).check().findings.filter { $0.severity == .error }.map { "\($0)" }
}

@Suite struct LogCleanerTests {
    @Test(arguments: 0..<12)
    func aRandomHistoryCompactsToTheLastRecordOfEveryKeyAndReplaysToTheSameTable(seed: Int) throws {
        var random = SeededGenerator(seed: UInt64(seed) &* 7919 &+ 1)
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: compactedConfig())
        var model = CompactionModel()
        try model.appendRandom(to: log, batches: 300, keySpace: Int.random(in: 5...120, using: &random), using: &random)
        let before = try allRecords(log)
        #expect(CompactionModel.table(before) == model.table)
        // A map smaller than the key space: several passes, each cleaning what its map covered.
        let map = OffsetMap(memoryBytes: 24 * Int.random(in: 4...200, using: &random))
        var checkpoint: Int64?
        let passes = try compactFully(log, map: map, nowMs: 10_000, checkpoint: &checkpoint)
        let after = try allRecords(log)
        #expect(model.problems(in: after, cleanedBelow: checkpoint!, tombstonesExpired: false) == [], "seed \(seed), \(passes.count) passes")
        #expect(after.count < before.count)
        // Past every delete horizon (set at 10 000 + delete.retention.ms), a pass removes the tombstones.
        try compactFully(log, map: map, nowMs: 20_000, checkpoint: &checkpoint)
        let expired = try allRecords(log)
        #expect(model.problems(in: expired, cleanedBelow: checkpoint!, tombstonesExpired: true) == [], "seed \(seed)")
        // Reopened, the log reads the same and fsck finds nothing wrong.
        try log.close()
        let (reopened, report) = try Log.open(directory: directory.path + "/t-0", config: compactedConfig(), hadCleanShutdown: true)
        #expect(report.segmentsRecovered == [])
        #expect(try allRecords(reopened) == expired)
        try reopened.close()
        #expect(try fsckErrors(directory.path + "/t-0") == [])
    }

    @Test func tombstonesStayUntilTheirDeleteHorizonThenGo() throws {
        let directory = TemporaryDirectory()
        let (log, model, _) = try logWithRandomHistory(directory.path + "/t-0", seed: 42, batches: 200, keySpace: 30)
        let map = OffsetMap(memoryBytes: 1 << 16)
        var checkpoint: Int64?
        try compactFully(log, map: map, nowMs: 5_000, checkpoint: &checkpoint)
        let tombstones = try allRecords(log).filter { $0.value == nil && $0.offset < checkpoint! }
        #expect(!tombstones.isEmpty)
        // 5 000 + delete.retention.ms (1 000) is the horizon: just before it they stay.
        try compactFully(log, map: map, nowMs: 5_999, checkpoint: &checkpoint)
        #expect(try allRecords(log).filter { $0.value == nil && $0.offset < checkpoint! } == tombstones)
        let result = try compactFully(log, map: map, nowMs: 6_000, checkpoint: &checkpoint)
        #expect(result.last!.tombstonesRemoved == tombstones.count)
        #expect(try allRecords(log).filter { $0.value == nil && $0.offset < checkpoint! } == [])
        #expect(model.problems(in: try allRecords(log), cleanedBelow: checkpoint!, tombstonesExpired: true) == [])
    }

    @Test func theActiveSegmentAndRecordsNewerThanTheMinimumLagAreNotCleaned() throws {
        let directory = TemporaryDirectory()
        var config = compactedConfig()
        config.minCompactionLagMs = 1_000
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config)
        var model = CompactionModel()
        var random = SeededGenerator(seed: 7)
        try model.appendRandom(to: log, batches: 100, keySpace: 5, using: &random, timestamp: 1_000)
        try model.appendRandom(to: log, batches: 100, keySpace: 5, using: &random, timestamp: 9_000)
        let before = try allRecords(log)
        var checkpoint: Int64?
        // At 9 500, records stamped 9 000 are younger than the lag: their segments stay dirty.
        try compactFully(log, map: OffsetMap(memoryBytes: 1 << 16), nowMs: 9_500, checkpoint: &checkpoint)
        let after = try allRecords(log)
        let young = before.filter { $0.timestamp == 9_000 }
        #expect(young.allSatisfy { after.contains($0) })
        #expect(checkpoint! <= young.first!.offset)
        let active = log.segmentBaseOffsets.last!
        #expect(before.filter { $0.offset >= active } == after.filter { $0.offset >= active })
        #expect(model.problems(in: after, cleanedBelow: checkpoint!, tombstonesExpired: false) == [])
    }

    @Test func smallCleanedSegmentsAreMergedUpToTheSegmentSize() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: compactedConfig())
        var model = CompactionModel()
        var random = SeededGenerator(seed: 3)
        try model.appendRandom(to: log, batches: 400, keySpace: 4, using: &random, codecs: [.none])
        let segmentsBefore = log.segmentCount
        var checkpoint: Int64?
        let map = OffsetMap(memoryBytes: 1 << 16)
        try compactFully(log, map: map, nowMs: 1, checkpoint: &checkpoint)
        // The second pass finds the first one's small outputs and merges them.
        try compactFully(log, map: map, nowMs: 1, checkpoint: &checkpoint)
        #expect(log.segmentCount < segmentsBefore / 4, "\(log.segmentCount) segments of \(segmentsBefore)")
        #expect(model.problems(in: try allRecords(log), cleanedBelow: checkpoint!, tombstonesExpired: false) == [])
        try log.close()
        #expect(try fsckErrors(directory.path + "/t-0") == [])
    }

    @Test func keylessRecordsAreDroppedWhenALogBecomesCompacted() throws {
        let directory = TemporaryDirectory()
        var config = compactedConfig()
        config.cleanupPolicy = .delete
        var (log, _) = try Log.open(directory: directory.path + "/t-0", config: config)
        for index in 0..<300 {
            var builder = RecordBatchBuilder()
            builder.append(key: index % 2 == 0 ? nil : Array("k\(index % 10)".utf8), value: Array("v\(index)".utf8), timestamp: 1)
            try log.append(try builder.build())
        }
        try log.close()
        (log, _) = try Log.open(directory: directory.path + "/t-0", config: compactedConfig(), hadCleanShutdown: true)
        var checkpoint: Int64?
        let results = try compactFully(log, map: OffsetMap(memoryBytes: 1 << 16), nowMs: 1, checkpoint: &checkpoint)
        #expect(results.reduce(0) { $0 + $1.keylessRecordsRemoved } > 100)
        #expect(try allRecords(log).filter { $0.offset < checkpoint! && $0.key == nil } == [])
    }

    /// Segments compaction emptied (each left with one record-less batch) are passed over by a
    /// read, which returns the next records instead: one fetch, not one per empty segment
    /// (librdkafka gives up after ten fetches without a record, MSG_SIZE_TOO_LARGE).
    @Test func aReadPassesOverSegmentsLeftWithOnlyEmptyBatches() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: compactedConfig(segmentBytes: 1024))
        func write(round: Int) throws {
            for key in 0..<10 {
                var builder = RecordBatchBuilder()
                builder.append(key: Array("k\(key)".utf8), value: Array("round \(round) \(String(repeating: "v", count: 60))".utf8), timestamp: 1)
                try log.append(try builder.build())
            }
        }
        for round in 0..<8 { try write(round: round) }
        var checkpoint: Int64?
        try compactFully(log, map: OffsetMap(memoryBytes: 1 << 16), nowMs: 1, checkpoint: &checkpoint)
        let emptied = try log.segmentBaseOffsets.dropLast().filter { base in
            try log.read(fromOffset: base, maxBytes: 1 << 20, passingOverEmptySegments: true) { slice in
                var reader = RecordBatchReader(slice.bytes)
                var records = 0
                while let batch = try reader.next() { records += Int(batch.recordsCount) }
                return slice.segmentBaseOffset == base && records == 0
            }
        }
        #expect(emptied.isEmpty, "no read from a segment start returns only empty batches while records follow")
        let first = try log.read(fromOffset: 0, maxBytes: 1 << 20, passingOverEmptySegments: true) { slice in
            var reader = RecordBatchReader(slice.bytes)
            return try reader.next()?.recordsCount
        }
        #expect(first != nil && first! > 0)
        #expect(try allRecords(log).count == 10 + log.logEndOffset - log.segmentBaseOffsets.last!)
        // With no record after them (every record cut away), the emptied batches are returned
        // after all: the reader still moves on.
        try log.truncate(removingFrom: try allRecords(log).first!.offset)
        #expect(try log.read(fromOffset: 0, maxBytes: 1 << 20) { $0.segmentBaseOffset } == 0, "without the option, every batch is read")
        let end = try log.read(fromOffset: 0, maxBytes: 100, passingOverEmptySegments: true) { slice in
            var reader = RecordBatchReader(slice.bytes)
            return (slice.bytes.count, try reader.next()?.recordsCount)
        }
        #expect(end.0 > 0 && end.1 == 0)
    }
}

