import Foundation
import PetrelFormat
@testable import PetrelStorage
import Testing

@Suite struct RollAndIndexTests {
    @Test func rollsWhenTheSegmentWouldExceedSegmentBytes() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 2048))
        let batch = makeBatch(count: 5, valueBytes: 60)
        for _ in 0..<40 { try log.append(batch) }
        let perSegment = 2048 / batch.count
        #expect(log.segmentCount == Int((40 + perSegment - 1) / perSegment))
        // Segment base offsets are the first offsets they hold, and every segment is ≤ 2 KiB.
        #expect(log.segmentBaseOffsets == stride(from: 0, to: 200, by: perSegment * 5).map(Int64.init))
        for name in directory.files(in: "t-0") where name.hasSuffix(".log") {
            let size = try FileManager.default.attributesOfItem(atPath: "\(directory.path)/t-0/\(name)")[.size] as! Int
            #expect(size <= 2048)
        }
    }

    @Test func rollsWhenTheSegmentIsOlderThanSegmentMs() throws {
        let directory = TemporaryDirectory()
        var config = smallConfig(segmentBytes: 1 << 20)
        config.segmentMs = 1  // Kafka's minimum
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config)
        try log.append(makeBatch())
        Thread.sleep(forTimeInterval: 0.005)
        try log.append(makeBatch())
        #expect(log.segmentBaseOffsets == [0, 1])
    }

    @Test func rollsWhenAnIndexIsFull() throws {
        let directory = TemporaryDirectory()
        var config = smallConfig(segmentBytes: 1 << 20, indexIntervalBytes: 0)
        config.segmentIndexBytes = 48  // 6 offset entries, 4 time entries (one kept for the final entry)
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config)
        for index in 0..<30 { try log.append(makeBatch(timestamp: Int64(1000 + index))) }
        #expect(log.segmentCount > 1)
        try log.close()
        let (reopened, _) = try Log.open(directory: directory.path + "/t-0", config: config, hadCleanShutdown: true)
        #expect(try reopened.allValues().map(\.0) == (0..<30).map(Int64.init))
    }

    @Test func rollsWhenAnOffsetNoLongerFitsTheRelativeIndex() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 1 << 20))
        // A batch whose offsets span more than Int32.max (as compaction can leave them).
        var builder = RecordBatchBuilder()
        builder.append(key: [1], value: [1], timestamp: 1, offsetDelta: 0)
        builder.append(key: [2], value: [2], timestamp: 2, offsetDelta: Int32.max - 1)
        try log.append(try builder.build(), origin: .coordinator)
        try log.append(makeBatch(count: 2), origin: .coordinator)
        #expect(log.segmentBaseOffsets == [0, Int64(Int32.max)])
        #expect(log.logEndOffset == Int64(Int32.max) + 2)
    }

    @Test(arguments: [1, 2, 3])
    func readsMatchABruteForceScanOfRandomLogs(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        let directory = TemporaryDirectory()
        let config = smallConfig(segmentBytes: 8192, indexIntervalBytes: Int.random(in: 0...600, using: &generator))
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config)
        var batches: [(first: Int64, last: Int64, maxTimestamp: Int64)] = []
        var timestamp: Int64 = 10_000
        for tag in 0..<300 {
            let count = Int.random(in: 1...8, using: &generator)
            timestamp += Int64.random(in: -5...40, using: &generator)
            let info = try log.append(makeBatch(count: count, valueBytes: Int.random(in: 1...120, using: &generator), timestamp: timestamp, tag: tag))
            batches.append((info.firstOffset, info.lastOffset, info.maxTimestamp))
        }
        for _ in 0..<400 {
            let offset = Int64.random(in: 0..<log.logEndOffset, using: &generator)
            let expected = batches.first { $0.last >= offset }!.first
            let found = try log.read(fromOffset: offset, maxBytes: 1) { $0.firstBatchBaseOffset }
            #expect(found == expected, "offset \(offset)")
        }
        // The offset index points at batch boundaries holding the offsets it names, and the
        // time index never claims a timestamp the batches up to its offset do not reach.
        try log.structureLock.withReadLock {
            for segment in log.segments {
                try segment.withReadableBytes { (bytes, index) throws(StorageError) in
                    guard let index else { return }
                    for entry in 0..<index.file.count {
                        let (offset, position) = index.entry(entry)
                        let header = BatchHeader(in: bytes, at: position)
                        #expect(header.map { $0.baseOffset <= offset && offset <= $0.lastOffset } == true)
                    }
                }
            }
        }
        // Timestamp lookups agree with a scan of all records.
        let records = try log.readRecords(fromOffset: 0, maxRecords: .max)
        for target in stride(from: Int64(9_990), to: timestamp + 50, by: 37) {
            let expected = records.first { $0.timestamp >= target }.map { ($0.offset, $0.timestamp) }
            let found = try log.offset(forTimestamp: target)
            #expect(found?.offset == expected?.0 && found?.timestamp == expected?.1, "timestamp \(target)")
        }
    }
}
