import Foundation
import PetrelFormat
@testable import PetrelStorage
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct IndexDurabilityTests {
    static let config = smallConfig(segmentBytes: 1024, indexIntervalBytes: 0)

    func fileSize(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    }

    func grow(_ path: String, to size: Int) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
    }

    /// What a power loss leaves when a sealed index's trim was not durable: the index at its
    /// preallocated size, padded with zero entries. Open after a clean shutdown detects it and
    /// rebuilds the index; reads by offset and by timestamp are right afterwards.
    @Test func aSealedIndexPaddedWithZerosIsRebuiltAtOpen() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/t-0"
        var timestamps: [Int64] = []
        do {
            let (log, _) = try Log.open(directory: path, config: Self.config)
            for tag in 0..<60 {
                let timestamp = 5_000 + Int64(tag / 2) * 7  // pairs of batches share a timestamp
                try log.append(makeBatch(count: 1, timestamp: timestamp, tag: tag))
                timestamps.append(timestamp)
            }
            try log.close()
        }
        let (probe, _) = try Log.open(directory: path, config: Self.config, hadCleanShutdown: true)
        let bases = probe.segmentBaseOffsets
        try probe.close()
        #expect(bases.count > 3)
        let damaged = bases[1]
        let offsetIndexPath = SegmentFiles.offsetIndexPath(path, damaged), timeIndexPath = SegmentFiles.timeIndexPath(path, damaged)
        let sizes = (try fileSize(offsetIndexPath), try fileSize(timeIndexPath))
        #expect(sizes.0 > 0 && sizes.1 > 0)
        try grow(offsetIndexPath, to: Self.config.segmentIndexBytes)
        try grow(timeIndexPath, to: Self.config.segmentIndexBytes / TimeIndex.entryBytes * TimeIndex.entryBytes)

        let (log, report) = try Log.open(directory: path, config: Self.config, hadCleanShutdown: true)
        #expect(report.indexesRebuilt.map(\.baseOffset) == [damaged])
        #expect(try fileSize(offsetIndexPath) == sizes.0, "trimmed back to its entries")
        #expect(try fileSize(timeIndexPath) == sizes.1)
        #expect(try log.allValues().map(\.1) == (0..<60).map { expectedValue(tag: $0, index: 0) })
        for target in stride(from: Int64(4_990), through: 5_220, by: 3) {
            let want = timestamps.firstIndex { $0 >= target }.map(Int64.init)
            #expect(try log.offset(forTimestamp: target)?.offset == want, "target \(target)")
        }
        #expect(try log.offsetOfMaxTimestamp()?.offset == 58)
        try log.close()
        let (again, secondReport) = try Log.open(directory: path, config: Self.config, hadCleanShutdown: true)
        #expect(secondReport.indexesRebuilt.isEmpty, "the rebuilt index was made durable")
        try again.close()
    }

    /// An index that is not a whole number of entries is rebuilt too.
    @Test func aSealedIndexOfAPartialEntryIsRebuiltAtOpen() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/t-0"
        do {
            let (log, _) = try Log.open(directory: path, config: Self.config)
            for tag in 0..<30 { try log.append(makeBatch(count: 1, timestamp: 1_000 + Int64(tag), tag: tag)) }
            try log.close()
        }
        let indexPath = SegmentFiles.offsetIndexPath(path, 0)
        try grow(indexPath, to: try fileSize(indexPath) + 3)
        let (log, report) = try Log.open(directory: path, config: Self.config, hadCleanShutdown: true)
        #expect(report.indexesRebuilt.map(\.baseOffset) == [0])
        #expect(try log.allValues().count == 30)
    }

    /// The trim of a sealed index is fsynced before the recovery point moves past it: under
    /// `.beforeAcknowledge` a failed fsync of the sealed index fails the roll and takes the log
    /// offline (nothing fsynced the trimmed index before).
    @Test func theTrimOfASealedIndexIsFsyncedAtTheRoll() throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        var config = Self.config
        config.flushPolicy = .beforeAcknowledge
        let rollAt = try appendsBeforeFirstRoll(config: config)
        let (log, _) = try Log.open(directory: directory.path + "/t-0", config: config, io: io)
        for tag in 0..<rollAt { try log.append(makeBatch(count: 1, tag: tag)) }
        io.inject(.failSyncsOf(pathSuffix: SegmentFiles.prefix(0) + SegmentFiles.offsetIndexSuffix, errno: EIO))
        let error = #expect(throws: StorageError.self) { try log.append(makeBatch(count: 1, tag: rollAt)) }
        #expect(error?.errno == EIO)
        #expect(error?.path?.hasSuffix(SegmentFiles.offsetIndexSuffix) == true)
        io.clearFaults()
        #expect(throws: StorageError.self) { try log.append(makeBatch(count: 1, tag: rollAt)) }
    }
}

/// An index whose initializer fails closes its descriptor once. It closed it twice (in its
/// catch and again in deinit, which runs for a throwing initializer once every property is
/// set): the second close hit a number another file had been given meanwhile, and a concurrent
/// test's mmap then failed with EBADF.
@Suite struct IndexDescriptorTests {
    @Test(arguments: [FaultInjectingFileIO.Fault.failAllocations(errno: ENOSPC), .failMappings(pathSuffix: "", errno: ENOMEM)])
    func aFailedIndexOpenClosesItsDescriptorOnce(fault: FaultInjectingFileIO.Fault) throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        io.inject(fault)
        #expect(throws: StorageError.self) {
            _ = try IndexFile(path: directory.path + "/0.index", entryBytes: 8, bytesMax: 4096, writable: true, io: io)
        }
        #expect(io.callCount("open") == 1)
        #expect(io.callCount("close") == 1, "closed exactly once")
    }
}
