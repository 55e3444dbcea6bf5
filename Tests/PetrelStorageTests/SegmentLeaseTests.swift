#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PetrelFormat
@testable import PetrelStorage
import Testing

/// Leases (`LogReadSlice.lease()`, `Log.lease(fromOffset:maxBytes:)`): a sender's range of a
/// segment file stays readable, byte for byte, while retention and truncation change the log,
/// and nothing — descriptor, file — outlives the last release.
@Suite struct SegmentLeaseTests {
    /// A log of several sealed segments and an active one, 40 one-record batches.
    func segmentedLog(_ directory: TemporaryDirectory, io: any FileIO = SystemFileIO()) throws -> Log {
        let (log, _) = try Log.open(directory: directory.path + "/leases-0", config: smallConfig(segmentBytes: 1024), io: io)
        for tag in 0..<40 { try log.append(makeBatch(count: 1, valueBytes: 100, tag: tag)) }
        #expect(log.segmentCount >= 4)
        return log
    }

    /// The leased range read through the lease's own descriptor, as `sendfile` reads it.
    func leasedBytes(_ lease: SegmentLease) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: lease.count)
        let read = bytes.withUnsafeMutableBytes { pread(lease.descriptor, $0.baseAddress, lease.count, off_t(lease.position)) }
        try #require(read >= 0, "pread: errno \(errno)")
        return Array(bytes[..<read])
    }

    /// The bytes a lease covers, copied while the read lends them.
    func leaseWithCopy(_ log: Log, fromOffset: Int64, maxBytes: Int = 1 << 20) throws -> (SegmentLease, [UInt8]) {
        try log.read(fromOffset: fromOffset, maxBytes: maxBytes) { slice in (try slice.lease(), Array(slice.bytes)) }
    }

    @Test func aLeaseOnASegmentRetentionDeletesStillReadsItsBytesAndTheFileGoesOnRelease() throws {
        let directory = TemporaryDirectory()
        let log = try segmentedLog(directory)
        let first = log.segments[0]
        let (lease, expected) = try leaseWithCopy(log, fromOffset: 0)
        #expect(lease.segmentBaseOffset == 0 && !expected.isEmpty)
        #expect(first.handle.leaseCount == 1)

        try log.deleteRecords(before: log.segmentBaseOffsets[2])
        let names = directory.files(in: "leases-0")
        #expect(!names.contains("00000000000000000000.log"))
        #expect(names.contains("00000000000000000000.log.deleted"), "renamed, not unlinked, while leased")
        #expect(try leasedBytes(lease) == expected)

        lease.release()
        #expect(first.handle.leaseCount == 0)
        #expect(!first.handle.hasOpenDescriptor)
        #expect(!directory.files(in: "leases-0").contains { $0.hasSuffix(SegmentFiles.deletedSuffix) }, "unlinked by the last release")
        try log.close()
    }

    @Test func retentionWithoutLeasesRemovesFilesAtOnce() throws {
        let directory = TemporaryDirectory()
        let log = try segmentedLog(directory)
        try log.deleteRecords(before: log.segmentBaseOffsets[2])
        #expect(!directory.files(in: "leases-0").contains { $0.hasSuffix(SegmentFiles.deletedSuffix) })
        try log.close()
    }

    @Test func truncatingTheActiveSegmentUnderALeaseLeavesTheLeasedBytesWhole() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/cut-0", config: smallConfig(segmentBytes: 1 << 20))
        for tag in 0..<20 { try log.append(makeBatch(count: 1, valueBytes: 100, tag: tag)) }
        let (lease, expected) = try leaseWithCopy(log, fromOffset: 0)
        #expect(lease.count == expected.count && log.segmentCount == 1)

        try log.truncate(removingFrom: 10)
        // Not cut under the sender: a short read here is what `sendfile` would have hit (and a
        // mapping of it, SIGBUS).
        #expect(try leasedBytes(lease) == expected)
        #expect(log.logEndOffset == 10)
        #expect(try log.allValues().map(\.1) == (0..<10).map { expectedValue(tag: $0, index: 0, valueBytes: 100) })
        try log.append(makeBatch(count: 1, valueBytes: 100, tag: 99))
        #expect(try log.allValues().last?.1 == expectedValue(tag: 99, index: 0, valueBytes: 100))
        lease.release()
        #expect(!directory.files(in: "cut-0").contains { $0.hasSuffix(SegmentFiles.cleanedSuffix) })
        try log.close()

        let (reopened, _) = try Log.open(directory: directory.path + "/cut-0", config: smallConfig(segmentBytes: 1 << 20))
        #expect(try reopened.allValues().count == 11)
        try reopened.close()
    }

    /// A leased truncation that cannot write its copy fails typed, takes the log offline (its
    /// segments may no longer match its files) and loses nothing: reopened, the log is whole
    /// up to where the truncation was asked to cut, and no partial copy is left.
    @Test func aLeasedTruncationThatCannotCopyTakesTheLogOffline() throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        let path = directory.path + "/fail-0"
        let (log, _) = try Log.open(directory: path, config: smallConfig(segmentBytes: 1 << 20), io: io)
        for tag in 0..<20 { try log.append(makeBatch(count: 1, valueBytes: 100, tag: tag)) }
        let (lease, expected) = try leaseWithCopy(log, fromOffset: 0)
        io.inject(.failWritesTo(pathSuffix: SegmentFiles.cleanedSuffix, errno: ENOSPC))
        #expect(throws: StorageError.self) { try log.truncate(removingFrom: 10) }
        #expect(throws: StorageError.self) { try log.append(makeBatch(count: 1, tag: 99)) }
        #expect(try leasedBytes(lease) == expected)
        lease.release()
        #expect(!directory.files(in: "fail-0").contains { $0.hasSuffix(SegmentFiles.cleanedSuffix) })
        io.clearFaults()
        let (reopened, _) = try Log.open(directory: path, config: smallConfig(segmentBytes: 1 << 20))
        #expect(try reopened.allValues().count == 20)
        try reopened.close()
    }

    @Test func truncatingIntoALeasedSealedSegmentKeepsBothLeasesWhole() throws {
        let directory = TemporaryDirectory()
        let log = try segmentedLog(directory)
        let bases = log.segmentBaseOffsets
        let (inCut, cutBytes) = try leaseWithCopy(log, fromOffset: bases[1])
        let (inDropped, droppedBytes) = try leaseWithCopy(log, fromOffset: bases[2])

        try log.truncate(removingFrom: bases[1] + 1)
        #expect(log.segmentCount == 2 && log.logEndOffset == bases[1] + 1)
        #expect(try leasedBytes(inCut) == cutBytes)
        #expect(try leasedBytes(inDropped) == droppedBytes)
        inCut.release()
        inDropped.release()
        #expect(!directory.files(in: "leases-0").contains { $0.hasSuffix(SegmentFiles.deletedSuffix) })
        try log.close()
    }

    @Test func leasesOpenOneDescriptorPerLeasedSegmentAndCloseEveryOne() throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        let log = try segmentedLog(directory, io: io)
        try log.flush()  // rolled segments' descriptors closed by their background sync first
        let opensBefore = io.callCount("open"), closesBefore = io.callCount("close")

        var leases: [SegmentLease] = []
        for _ in 0..<3 {
            for base in log.segmentBaseOffsets { leases.append(try #require(try log.lease(fromOffset: base, maxBytes: 1 << 20))) }
        }
        // One shared descriptor per leased segment, however many leases.
        #expect(io.callCount("open") - opensBefore == log.segmentCount)
        try log.deleteRecords(before: log.segmentBaseOffsets[1])
        for (index, lease) in leases.enumerated() where index % 2 == 0 { lease.release() }
        leases.removeAll()  // the others are released by their deinit: a forgotten release leaks nothing
        #expect(io.callCount("open") - opensBefore == io.callCount("close") - closesBefore)
        #expect(log.segments.allSatisfy { $0.handle.leaseCount == 0 && !$0.handle.hasOpenDescriptor })
        #expect(!directory.files(in: "leases-0").contains { $0.hasSuffix(SegmentFiles.deletedSuffix) })
        try log.close()
    }

    @Test func aLeaseThatCannotOpenItsDescriptorIsATypedErrorAndTakesNothing() throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        let log = try segmentedLog(directory, io: io)
        let first = log.segments[0]
        _ = try log.allValues()  // mapped now: only the lease's own open can fail below
        io.inject(.failOpens(pathSuffix: SegmentFiles.logSuffix, errno: EMFILE))
        #expect(throws: StorageError.self) { try log.lease(fromOffset: 0, maxBytes: 1 << 20) }
        #expect(first.handle.leaseCount == 0 && !first.handle.hasOpenDescriptor)
        io.clearFaults()
        let lease = try #require(try log.lease(fromOffset: 0, maxBytes: 1 << 20))
        #expect(first.handle.leaseCount == 1)
        lease.release()
        try log.close()
    }

    /// Senders on several threads lease, read and release while retention deletes segments
    /// under them: every leased range reads whole batches, and at the end no lease, descriptor
    /// or `.deleted` file is left.
    @Test func concurrentLeasesAndRetention() throws {
        let directory = TemporaryDirectory()
        let (log, _) = try Log.open(directory: directory.path + "/busy-0", config: smallConfig(segmentBytes: 1024))
        for tag in 0..<200 { try log.append(makeBatch(count: 1, valueBytes: 100, tag: tag)) }
        let handles = log.segments.map(\.handle)
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 5) { worker in
            if worker == 0 {
                for cut in stride(from: Int64(10), to: 190, by: 10) {
                    do { try log.deleteRecords(before: cut) } catch { failures.withLock { $0.append("delete: \(error)") } }
                }
                return
            }
            for round in 0..<200 {
                do {
                    let from = max(log.logStartOffset, Int64((round * 7 + worker) % 190))
                    guard let lease = try log.lease(fromOffset: from, maxBytes: 512) else { continue }
                    defer { lease.release() }
                    let bytes = try leasedBytes(lease)
                    let batches = try bytes.withUnsafeBytes { buffer in
                        var reader = RecordBatchReader(buffer)
                        var count = 0
                        while try reader.next() != nil { count += 1 }
                        return count
                    }
                    if bytes.count != lease.count || batches == 0 { failures.withLock { $0.append("short range at \(from)") } }
                } catch let error as StorageError {
                    // The start may pass `from` between reading it and leasing.
                    if case .offsetOutOfRange = error.code { continue }
                    failures.withLock { $0.append("\(error)") }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        #expect(handles.allSatisfy { $0.leaseCount == 0 && !$0.hasOpenDescriptor })
        #expect(!directory.files(in: "busy-0").contains { $0.hasSuffix(SegmentFiles.deletedSuffix) })
        try log.close()
    }

    @Test func leasingAtTheLogEndGivesNone() throws {
        let directory = TemporaryDirectory()
        let log = try segmentedLog(directory)
        #expect(try log.lease(fromOffset: log.logEndOffset, maxBytes: 1024) == nil)
        try log.close()
    }
}
