import Foundation
import PetrelFormat
@testable import PetrelStorage
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct FaultTests {
    @Test(arguments: [ENOSPC, EIO])
    func failedWritesAreTypedAndAppendsResumeCleanly(errno: Int32) throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 1 << 20), io: io)
        for tag in 0..<5 { try log.append(makeBatch(count: 2, tag: tag)) }
        io.inject(.failWrites(errno: errno))
        for tag in 5..<8 {
            let error = #expect(throws: StorageError.self) { try log.append(makeBatch(count: 2, tag: tag)) }
            #expect(error?.errno == errno)
        }
        #expect(log.logEndOffset == 10)
        io.clearFaults()
        let info = try log.append(makeBatch(count: 2, tag: 100))
        #expect(info.firstOffset == 10, "offsets of failed appends are handed out again")
        try log.close()
        let (reopened, report) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 1 << 20))
        #expect(report.quarantined.isEmpty, "nothing corrupt was left on disk")
        #expect(try reopened.allValues().map(\.0) == (0..<12).map(Int64.init))
    }

    @Test func shortWritesAreCompleted() throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        io.inject(.shortWrites(bytesMax: 7))
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 1 << 20), io: io)
        for tag in 0..<10 { try log.append(makeBatch(count: 3, tag: tag)) }
        try log.close()
        let (reopened, report) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 1 << 20))
        #expect(report.quarantined.isEmpty)
        #expect(try reopened.allValues().map(\.0) == (0..<30).map(Int64.init))
    }

    @Test func aFailedFsyncTakesTheLogOffline() throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        let config = smallConfig(segmentBytes: 1 << 20, flushPolicy: .beforeAcknowledge)
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config, io: io)
        try log.append(makeBatch(count: 2))
        io.inject(.failSyncs(errno: EIO))
        let error = #expect(throws: StorageError.self) { try log.append(makeBatch(count: 2)) }
        #expect(error?.errno == EIO)
        io.clearFaults()
        // Never retried: the page cache's state is unknown after a failed fsync.
        let after = #expect(throws: StorageError.self) { try log.append(makeBatch(count: 2)) }
        #expect(after?.errno == EIO)
        #expect(log.logEndOffset == 2, "the unsynced append was never acknowledged nor published")
    }
}

@Suite struct TruncationTests {
    @Test func suffixTruncationCutsAtTheBatchHoldingTheOffset() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 1024))
        for tag in 0..<40 { try log.append(makeBatch(count: 3, tag: tag)) }
        let segmentsBefore = log.segmentCount
        try log.truncate(removingFrom: 31)  // inside the batch 30...32
        #expect(log.logEndOffset == 30)
        #expect(log.segmentCount < segmentsBefore)
        #expect(try log.allValues().map(\.0) == (0..<30).map(Int64.init))
        let info = try log.append(makeBatch(count: 2, tag: 500))
        #expect(info.firstOffset == 30)
        try log.close()
        let (reopened, report) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 1024))
        #expect(report.quarantined.isEmpty)
        #expect(try reopened.allValues().map(\.0) == (0..<32).map(Int64.init))
    }

    @Test func prefixDeletionMovesTheStartAndDeletesWholeSegments() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 1024))
        for tag in 0..<40 { try log.append(makeBatch(count: 3, tag: tag)) }
        let bases = log.segmentBaseOffsets
        try log.deleteRecords(before: bases[2] + 1)
        #expect(log.logStartOffset == bases[2] + 1)
        #expect(log.segmentBaseOffsets.first == bases[2])
        #expect(!FileManager.default.fileExists(atPath: SegmentFiles.logPath(log.directory, bases[0])))
        #expect(throws: StorageError.self) { try log.read(fromOffset: bases[2], maxBytes: 100) { _ in } }
        #expect(try log.allValues().first?.0 == bases[2] + 1)
        #expect(throws: StorageError.self) { try log.deleteRecords(before: log.logEndOffset + 1) }
    }
}

@Suite struct ConcurrentReaderTests {
    /// Readers run while a writer appends, rolls and deletes old segments: every read returns
    /// whole valid batches (CRC checked) with contiguous offsets, never a torn one.
    @Test func readersDuringAppendsRollsAndDeletion() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: smallConfig(segmentBytes: 2048, indexIntervalBytes: 128))
        let done = Atomic<Bool>(false)
        let failures = Locked<[String]>([])
        let readsDone = Atomic<Int>(0)
        let group = DispatchGroup()
        for reader in 0..<3 {
            DispatchQueue.global().async(group: group) {
                var generator = SeededGenerator(seed: UInt64(reader))
                while !done.load(ordering: .relaxed) {
                    let start = log.logStartOffset, end = log.logEndOffset
                    guard end > start else { continue }
                    let offset = Int64.random(in: start..<end, using: &generator)
                    do {
                        try log.read(fromOffset: offset, maxBytes: 600) { slice in
                            var batches = RecordBatchReader(slice.bytes)
                            var expectedNext: Int64?
                            while let batch = try batches.next() {
                                if let expectedNext, batch.baseOffset != expectedNext { throw StorageError(.corrupt(reason: "gap")) }
                                _ = try batch.decodeRecords()
                                expectedNext = batch.nextOffset
                            }
                        }
                        readsDone.add(1, ordering: .relaxed)
                    } catch let error as StorageError {
                        if case .offsetOutOfRange = error.code { continue }  // the start moved under us
                        failures.withLock { $0.append("\(error)") }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        // Keep writing until the readers have had a fair share of reads, within a time bound.
        let deadline = Date().addingTimeInterval(20)
        var tag = 0
        while tag < 600 || (readsDone.load(ordering: .relaxed) < 300 && Date() < deadline) {
            try log.append(makeBatch(count: 2, valueBytes: 40, tag: tag))
            if tag % 50 == 49 { try log.deleteRecords(before: log.logEndOffset - 200) }
            tag += 1
        }
        done.store(true, ordering: .relaxed)
        group.wait()
        #expect(failures.withLock { $0 } == [])
        #expect(readsDone.load(ordering: .relaxed) >= 300)
        #expect(log.segmentCount < 40, "old segments were deleted")
    }
}

@Suite struct AsyncAppendTests {
    @Test func concurrentAsyncAppendsGetDistinctContiguousOffsets() async throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/t-0",
                                    config: smallConfig(segmentBytes: 4096, flushPolicy: .beforeAcknowledge))
        let infos = try await withThrowingTaskGroup(of: (tag: Int, info: AppendInfo).self) { group in
            for tag in 0..<200 {
                group.addTask { (tag, try await log.append(makeBatch(count: 2, tag: tag))) }
            }
            var infos: [(tag: Int, info: AppendInfo)] = []
            for try await info in group { infos.append(info) }
            return infos
        }.sorted { $0.tag < $1.tag }
        #expect(infos.map(\.info.firstOffset).sorted() == stride(from: 0, to: 400, by: 2).map(Int64.init))
        #expect(log.recoveryPoint == 400)
        // Each append's offsets hold that append's records.
        let values = try log.readRecords(fromOffset: 0, maxRecords: .max)
        #expect(values.map(\.offset) == (0..<400).map(Int64.init))
        guard values.count == 400 else { return }
        for (tag, info) in infos {
            #expect(info.lastOffset == info.firstOffset + 1)
            let first = String(decoding: values[Int(info.firstOffset)].value!, as: UTF8.self)
            let second = String(decoding: values[Int(info.lastOffset)].value!, as: UTF8.self)
            #expect(first == expectedValue(tag: tag, index: 0), "append \(tag)'s first offset holds its first record")
            #expect(second == expectedValue(tag: tag, index: 1), "append \(tag)'s last offset holds its second record")
        }
        try log.close()
    }
}

@Suite struct RetentionTests {
    @Test func oldSegmentsGoByTimeAndBySize() throws {
        let directory = TemporaryDirectory()
        var config = smallConfig(segmentBytes: 1024)
        config.retentionMs = 60_000
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config)
        // Old records (timestamps far in the past), then recent ones.
        for tag in 0..<30 { try log.append(makeBatch(count: 2, timestamp: 1_000 + Int64(tag), tag: tag)) }
        let now = Log.nowMs()
        for tag in 30..<60 { try log.append(makeBatch(count: 2, timestamp: now, tag: tag)) }
        let before = log.segmentBaseOffsets
        let deleted = try log.applyRetention(nowMs: now)
        #expect(deleted > 0)
        #expect(log.segmentBaseOffsets == Array(before.dropFirst(deleted)))
        #expect(log.logStartOffset == log.segmentBaseOffsets.first)
        let values = try log.allValues()
        #expect(values.first.map { $0.0 } == log.logStartOffset)
        #expect(values.last?.0 == 119)
        // Every record still there is younger than the retention, except in the segment that
        // straddles the boundary; nothing recent was deleted.
        #expect(log.logStartOffset <= 60)

        // By size: keep at most ~3 KiB.
        var sized = config
        sized.retentionMs = -1
        sized.retentionBytes = 3000
        try log.close()
        let (bounded, _) = try Log.open(directory: directory.path + "/t-0", config: sized, hadCleanShutdown: true)
        try bounded.applyRetention(nowMs: now)
        #expect(bounded.sizeBytes >= 3000 - 1024 && bounded.sizeBytes <= 3000 + 1024)
        #expect(bounded.logEndOffset == 120)
        #expect(throws: StorageError.self) { try bounded.read(fromOffset: 0, maxBytes: 100) { _ in } }
    }
}
