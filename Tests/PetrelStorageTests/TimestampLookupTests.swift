import Foundation
import PetrelFormat
@testable import PetrelStorage
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A batch of records with the given timestamps, values "v<index>".
func batch(timestamps: [Int64]) -> [UInt8] {
    var builder = RecordBatchBuilder()
    for (index, timestamp) in timestamps.enumerated() { builder.append(key: nil, value: Array("v\(index)".utf8), timestamp: timestamp) }
    return try! builder.build()
}

@Suite struct TimestampLookupTests {
    /// Review §4.3: the time index holds (1000, 2), the last offset of the batch; the first
    /// record at 1000 is offset 0, and Kafka answers 0.
    @Test func timestampLookupReturnsTheFirstRecordOfATie() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 1 << 20, indexIntervalBytes: 0))
        try log.append(batch(timestamps: [1000, 1000, 1000]))  // offsets 0...2, all at 1000
        try log.append(makeBatch(timestamp: 2000))               // the writer adds the time-index entry (1000, 2)
        #expect(try log.offset(forTimestamp: 1000)?.offset == 0)
        #expect(try log.offset(forTimestamp: 1000)?.timestamp == 1000)
        #expect(try log.offset(forTimestamp: 1001)?.offset == 3)
        #expect(try log.offset(forTimestamp: 2001) == nil)
    }

    /// After a roll the same holds in a sealed segment, and the log start offset filters.
    @Test func timestampLookupInASealedSegmentAndAboveTheLogStart() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 1024, indexIntervalBytes: 0))
        var expected: [(offset: Int64, timestamp: Int64)] = []
        var offset: Int64 = 0
        for step in 0..<60 {
            let timestamp = 10_000 + Int64(step / 3) * 10  // every timestamp shared by three batches
            try log.append(batch(timestamps: [timestamp, timestamp]))
            expected.append((offset, timestamp))
            offset += 2
        }
        #expect(log.segmentCount > 3)
        for target in stride(from: Int64(9_995), through: 10_200, by: 5) {
            let want = expected.first { $0.timestamp >= target }
            let got = try log.offset(forTimestamp: target)
            #expect(got?.offset == want?.offset && got?.timestamp == want?.timestamp, "target \(target)")
        }
        try log.deleteRecords(before: 7)
        #expect(try log.offset(forTimestamp: 0)?.offset == 7, "nothing below the log start")
        // Reopened lazily: the sealed segments' largest timestamps come from their time indexes.
        try log.close()
        let (reopened, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 1024, indexIntervalBytes: 0),
                                         logStartOffset: 7, hadCleanShutdown: true)
        for target in stride(from: Int64(10_000), through: 10_200, by: 5) {
            let want = expected.first { $0.timestamp >= target && $0.offset >= 6 }.map { max($0.offset, 7) }
            #expect(try reopened.offset(forTimestamp: target)?.offset == want, "target \(target) after reopening")
        }
    }

    /// Lookups by timestamp while the writer appends and rolls: they read each segment's end
    /// offset and largest timestamp as the writer moves them (atomics; run this under
    /// `swift test --sanitize=thread` to check), and always find a record that exists.
    @Test func timestampLookupsDuringAppendsAreRaceFree() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 2048, indexIntervalBytes: 64))
        try log.append(makeBatch(count: 1, timestamp: 0, tag: 0))
        let done = Atomic<Bool>(false)
        let failures = Locked<[String]>([])
        let group = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: group) {
                while !done.load(ordering: .acquiring) {
                    do throws(StorageError) {
                        let end = log.logEndOffset
                        if let found = try log.offset(forTimestamp: end - 1), found.timestamp < end - 1 {
                            failures.withLock { $0.append("\(found) for \(end - 1)") }
                        }
                        _ = try log.offsetOfMaxTimestamp()
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        for tag in 1..<400 { try log.append(makeBatch(count: 1, timestamp: Int64(tag), tag: tag)) }
        done.store(true, ordering: .releasing)
        group.wait()
        #expect(failures.withLock { $0 } == [])
        #expect(try log.offset(forTimestamp: 399)?.offset == 399)
    }

    /// KIP-734 MAX_TIMESTAMP: the first record carrying the largest timestamp.
    @Test func offsetOfMaxTimestampIsTheFirstRecordWithTheLargestTimestamp() throws {
        let directory = TemporaryDirectory()
        let config = smallConfig(segmentBytes: 1024, indexIntervalBytes: 0)
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config)
        #expect(try log.offsetOfMaxTimestamp() == nil)
        for step in 0..<20 { try log.append(batch(timestamps: [Int64(100 + step), Int64(100 + step)])) }  // 0...39
        try log.append(batch(timestamps: [500, 900, 900]))  // 40...42: the max first at 41
        for step in 0..<20 { try log.append(batch(timestamps: [Int64(200 + step), 900])) }  // ties later
        #expect(log.segmentCount > 2)
        let found = try log.offsetOfMaxTimestamp()
        #expect(found?.offset == 41 && found?.timestamp == 900)
        try log.close()
        let (reopened, _) = try Log.open(directory: directory.path + "/t-0", config: config, hadCleanShutdown: true)
        let again = try reopened.offsetOfMaxTimestamp()
        #expect(again?.offset == 41 && again?.timestamp == 900)
        try reopened.append(batch(timestamps: [901]))
        #expect(try reopened.offsetOfMaxTimestamp()?.offset == reopened.logEndOffset - 1)
    }
}

@Suite struct IndexAllocationTests {
    /// A full disk when an index needs its next blocks: a typed ENOSPC, nothing written, and the
    /// log goes on once there is room (never a store into an unallocated mapped page).
    @Test func aFullDiskWhenAnIndexGrowsIsATypedErrorNotACrash() throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        var config = smallConfig(segmentBytes: 1 << 20, indexIntervalBytes: 0)
        config.segmentIndexBytes = 1 << 20
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config, io: io)
        try log.append(makeBatch(count: 1, timestamp: 0, tag: 0))
        let allocationsBefore = io.callCount("allocate")
        io.inject(.failAllocations(errno: ENOSPC))
        var appended = 1
        var failure: StorageError?
        // The time index (12-byte entries, one per batch here) needs new blocks after 64 KiB.
        while appended < 2 * IndexFile.allocationChunkBytes / TimeIndex.entryBytes {
            do throws(StorageError) {
                try log.append(makeBatch(count: 1, timestamp: Int64(appended), tag: appended))
                appended += 1
            } catch {
                failure = error
                break
            }
        }
        #expect(failure?.errno == ENOSPC)
        #expect(appended <= IndexFile.allocationChunkBytes / TimeIndex.entryBytes + 1)
        #expect(log.logEndOffset == Int64(appended), "the failed append wrote nothing")
        io.clearFaults()
        for tag in appended..<(appended + 10) { try log.append(makeBatch(count: 1, timestamp: Int64(tag), tag: tag)) }
        #expect(io.callCount("allocate") > allocationsBefore)
        #expect(try log.allValues().map(\.1) == (0..<(appended + 10)).map { expectedValue(tag: $0, index: 0) })
        #expect(try log.offset(forTimestamp: Int64(appended + 5))?.offset == Int64(appended + 5))
    }
}
