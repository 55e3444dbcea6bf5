import Foundation
import PetrelFormat
@testable import PetrelStorage
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a roll does when the disk or the kernel says no: the log stays consistent, either still
/// appending to the old segment or offline with a typed error, never trapping.
@Suite struct RollFailureTests {
    static let config = smallConfig(segmentBytes: 1024)

    /// Creating the new segment fails (out of descriptors, a failed mmap, no disk for the index):
    /// nothing changed, the old segment stays active, and the roll succeeds once the fault goes.
    @Test(arguments: [
        FaultInjectingFileIO.Fault.failOpens(pathSuffix: "", errno: EMFILE),
        .failMappings(pathSuffix: ".log", errno: ENOMEM),
        .failAllocations(errno: ENOSPC),
    ])
    func aFailedSegmentCreationKeepsTheOldSegmentActive(fault: FaultInjectingFileIO.Fault) throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        let path = directory.path + "/t-0"
        let (log, _) = try Log.open(directory: path, config: Self.config, io: io)
        let rollAt = try appendsBeforeFirstRoll(config: Self.config)
        for tag in 0..<rollAt { try log.append(makeBatch(count: 1, tag: tag)) }
        io.inject(fault)
        for _ in 0..<2 {  // the roll is retried by every append, and fails the same way
            let error = #expect(throws: StorageError.self) { try log.append(makeBatch(count: 1, tag: rollAt)) }
            #expect(error?.errno != nil)
            #expect(log.segmentCount == 1)
        }
        #expect(log.logEndOffset == Int64(rollAt))
        io.clearFaults()
        for tag in rollAt..<(rollAt + 5) { try log.append(makeBatch(count: 1, tag: tag)) }
        #expect(log.segmentCount == 2)
        #expect(log.segmentBaseOffsets == [0, Int64(rollAt)])
        #expect(try log.allValues().map(\.1) == (0..<(rollAt + 5)).map { expectedValue(tag: $0, index: 0) })
        // Not closed: recovery of what is on disk finds the same log and nothing to cut. The
        // roll's background work (fsync of the sealed segment, the roll snapshot written through
        // a temporary file and renamed) is let finish first: opening meanwhile raced with it,
        // start-up listed the snapshot's temporary file as a leftover and its unlink failed
        // with ENOENT once the rename had taken it away (seen under the thread sanitizer's
        // timing). Two logs on one directory at once is not a state the engine supports.
        log.backgroundSync.sync {}
        let (reopened, report) = try Log.open(directory: path, config: Self.config)
        #expect(report.quarantined.isEmpty)
        #expect(try reopened.allValues().map(\.1) == (0..<(rollAt + 5)).map { expectedValue(tag: $0, index: 0) })
    }

    /// A failed directory fsync in a roll takes the log offline, as any failed fsync does.
    @Test(arguments: [FlushPolicy.kafkaDefault, .beforeAcknowledge])
    func aFailedDirectoryFsyncDuringARollTakesTheLogOffline(policy: FlushPolicy) throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        var config = Self.config
        config.flushPolicy = policy
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config, io: io)
        let rollAt = try appendsBeforeFirstRoll(config: config)
        for tag in 0..<rollAt { try log.append(makeBatch(count: 1, tag: tag)) }
        io.inject(.failSyncsOf(pathSuffix: "/t-0", errno: EIO))
        let error = #expect(throws: StorageError.self) { try log.append(makeBatch(count: 1, tag: rollAt)) }
        #expect(error?.errno == EIO)
        io.clearFaults()
        let after = #expect(throws: StorageError.self) { try log.append(makeBatch(count: 1, tag: rollAt)) }
        #expect(after?.errno == EIO, "offline for good: a failed fsync is never retried")
        #expect(log.logEndOffset == Int64(rollAt))
    }

    /// Under `.beforeAcknowledge`, a failed fdatasync of the segment being sealed takes the log
    /// offline (it used to be reported as a plain write failure, and appends went on).
    @Test func aFailedFsyncOfTheSealedSegmentTakesTheLogOffline() throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        var config = Self.config
        config.flushPolicy = .beforeAcknowledge
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config, io: io)
        let rollAt = try appendsBeforeFirstRoll(config: config)
        for tag in 0..<rollAt { try log.append(makeBatch(count: 1, tag: tag)) }
        io.inject(.failSyncsOf(pathSuffix: SegmentFiles.prefix(0) + SegmentFiles.logSuffix, errno: EIO))
        let error = #expect(throws: StorageError.self) { try log.append(makeBatch(count: 1, tag: rollAt)) }
        #expect(error?.errno == EIO)
        io.clearFaults()
        let after = #expect(throws: StorageError.self) { try log.append(makeBatch(count: 1, tag: rollAt)) }
        #expect(after?.errno == EIO)
        #expect(log.recoveryPoint <= log.logEndOffset)
    }

    /// Under `.beforeAcknowledge`, what a group wrote to the old segment before a roll is
    /// published only after that segment's fsync: when the roll fails, readers saw none of it.
    @Test func aGroupWrittenBeforeAFailedRollIsNeverPublishedUnsynced() throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        var config = Self.config
        config.flushPolicy = .beforeAcknowledge
        let rollAt = try appendsBeforeFirstRoll(config: config)
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config, io: io)
        io.inject(.failSyncsOf(pathSuffix: "/t-0", errno: EIO))  // only a roll fsyncs the directory
        let results = appendAsOneGroupBehindAParkedWrite(log, io: io, batches: (0..<(rollAt + 3)).map { makeBatch(count: 1, tag: $0) })
        #expect((try? results[0].get())?.firstOffset == 0, "the first append, written alone, was synced")
        for result in results.dropFirst() {
            #expect(throws: StorageError.self) { try result.get() }
        }
        #expect(log.logEndOffset == 1, "nothing of the failed group became visible")
        #expect(try log.allValues().map(\.0) == [0])
    }

    /// Under `.beforeAcknowledge`, a group whose roll cannot create the new segment: what it
    /// wrote to the old segment is fsynced and published (those appends succeed), the rest fail,
    /// and the next offsets follow what the old segment holds.
    @Test func aGroupWhoseRollCannotCreateTheSegmentKeepsWhatItWrote() throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        var config = Self.config
        config.flushPolicy = .beforeAcknowledge
        let rollAt = try appendsBeforeFirstRoll(config: config)
        let path = directory.path + "/t-0"
        let (log, _) = try Log.open(directory: path, config: config, io: io)
        io.inject(.failOpens(pathSuffix: SegmentFiles.prefix(Int64(rollAt)) + SegmentFiles.logSuffix, errno: EMFILE))
        let count = rollAt + 3
        let results = appendAsOneGroupBehindAParkedWrite(log, io: io, batches: (0..<count).map { makeBatch(count: 1, tag: $0) })
        let succeeded = results.enumerated().compactMap { index, result in (try? result.get()).map { (tag: index, offset: $0.firstOffset) } }
        #expect(succeeded.map(\.offset).sorted() == (0..<Int64(rollAt)).map { $0 })
        #expect(log.logEndOffset == Int64(rollAt))
        #expect(log.recoveryPoint == Int64(rollAt))
        io.clearFaults()
        #expect(try log.append(makeBatch(count: 1, tag: count)).firstOffset == Int64(rollAt))
        let expected = succeeded.sorted { $0.offset < $1.offset }.map { expectedValue(tag: $0.tag, index: 0) } + [expectedValue(tag: count, index: 0)]
        #expect(try log.allValues().map(\.1) == expected)
        let (reopened, report) = try Log.open(directory: path, config: config)
        #expect(report.quarantined.isEmpty)
        #expect(try reopened.allValues().map(\.1) == expected)
    }

    /// A group spanning a roll whose later write fails: the appends the roll published succeed,
    /// only the rest fail, and their offsets are handed out again.
    @Test func aGroupSpanningARollFailsOnlyTheAppendsNotPublished() throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        let rollAt = try appendsBeforeFirstRoll(config: Self.config)
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: Self.config, io: io)
        io.inject(.failWritesTo(pathSuffix: SegmentFiles.prefix(Int64(rollAt)) + SegmentFiles.logSuffix, errno: ENOSPC))
        let count = rollAt + 3
        let results = appendAsOneGroupBehindAParkedWrite(log, io: io, batches: (0..<count).map { makeBatch(count: 1, tag: $0) })
        // Offsets follow queue order, which the appender threads race for; sizes decide the roll.
        let succeeded = results.enumerated().compactMap { index, result in (try? result.get()).map { (tag: index, offset: $0.firstOffset) } }
        #expect(succeeded.map(\.offset).sorted() == (0..<Int64(rollAt)).map { $0 }, "every append the roll published succeeded")
        let errors = results.compactMap { result -> StorageError? in
            if case let .failure(error) = result { return error }
            return nil
        }
        #expect(errors.count == count - rollAt)
        #expect(errors.allSatisfy { $0.errno == ENOSPC })
        #expect(log.logEndOffset == Int64(rollAt))
        io.clearFaults()
        #expect(try log.append(makeBatch(count: 1, tag: count)).firstOffset == Int64(rollAt))
        let expected = succeeded.sorted { $0.offset < $1.offset }.map { expectedValue(tag: $0.tag, index: 0) } + [expectedValue(tag: count, index: 0)]
        #expect(try log.allValues().map(\.1) == expected)
    }
}

@Suite struct GroupCommitTests {
    /// Appends that queue behind a parked write are written as one group with one fdatasync.
    @Test func appendsQueuedBehindAWriteShareOneFsync() throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        let config = smallConfig(segmentBytes: 1 << 22, flushPolicy: .beforeAcknowledge)
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config, io: io)
        let appends = 32
        let before = io.callCount("fdatasync")
        let results = appendAsOneGroupBehindAParkedWrite(log, io: io, batches: (0..<appends).map { makeBatch(count: 1, tag: $0) })
        #expect(results.compactMap { try? $0.get().firstOffset }.sorted() == (0..<Int64(appends)).map { $0 })
        #expect(io.callCount("fdatasync") - before <= 2, "one fdatasync for the first append, one for the group behind it")
        #expect(log.recoveryPoint == log.logEndOffset)
    }
}
