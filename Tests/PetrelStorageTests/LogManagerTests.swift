import Foundation
import PetrelFormat
@testable import PetrelStorage
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct LogManagerTests {
    /// close() stops the background thread and waits for it: when close returns, no background
    /// checkpoint, flush or retention can still run beside what close does.
    /// An unreadable checkpoint is ignored (recovery starts from each log's first segment,
    /// losing nothing) and reported among the skipped entries, not silently dropped.
    @Test func anUnreadableCheckpointIsReportedAndIgnored() throws {
        let directory = TemporaryDirectory()
        var manager: LogManager? = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig())
        try manager!.createLog(for: TopicPartition(topic: "t", partition: 0)).append(makeBatch())
        try manager!.close()
        manager = nil
        try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: "\(directory.path)/\(LogDirectoryFiles.recoveryPointCheckpoint)"))
        let reopened = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig())
        #expect(reopened.skippedEntries.map(\.name) == [LogDirectoryFiles.recoveryPointCheckpoint])
        #expect(reopened.log(for: TopicPartition(topic: "t", partition: 0))?.logEndOffset == 1)
        try reopened.close()
    }

    @Test func closeReturnsOnlyAfterTheBackgroundThreadFinished() throws {
        let directory = TemporaryDirectory()
        let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig())
        try manager.createLog(for: TopicPartition(topic: "t", partition: 0)).append(makeBatch())
        #expect(!manager.isBackgroundThreadRunning)
        // A long period: without the hand-shake, close would return while the thread sleeps.
        manager.startBackgroundTasks(periodMs: 60_000, checkpointIntervalMs: 0)
        #expect(manager.isBackgroundThreadRunning)
        try manager.close()
        #expect(!manager.isBackgroundThreadRunning)
    }

    /// A background pass in progress when close() is called (here a checkpoint parked in its
    /// write) finishes before close() returns: close never writes checkpoints or closes logs
    /// beside it. The timed wait can only expire when close waits, as it must.
    @Test func closeWaitsForABackgroundPassInProgress() throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig(), io: io)
        try manager.createLog(for: TopicPartition(topic: "t", partition: 0)).append(makeBatch())
        io.parkNextWrite()
        manager.startBackgroundTasks(periodMs: 60_000, checkpointIntervalMs: 0)
        io.waitUntilWriteParked()  // the background checkpoint is inside its write
        let returned = DispatchSemaphore(value: 0)
        let closeError = Locked<String?>(nil)
        Thread {
            do throws(StorageError) { try manager.close() } catch { closeError.withLock { $0 = "\(error)" } }
            returned.signal()
        }.start()
        let closedEarly = returned.wait(timeout: .now() + .milliseconds(300)) == .success
        #expect(!closedEarly, "close waits for the background pass")
        io.releaseParkedWrite()
        if !closedEarly { returned.wait() }
        #expect(closeError.withLock { $0 } == nil)
        #expect(!manager.isBackgroundThreadRunning)
    }

    /// Concurrent atomic writes of one file never share a temporary file: each succeeds, and the
    /// file ends whole, as one of them wrote it.
    @Test func concurrentAtomicWritesOfOneFileDoNotCollide() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/checkpoint"
        let io = SystemFileIO()
        let failures = Locked<[String]>([])
        let contents = (0..<8).map { writer in [UInt8](repeating: UInt8(65 + writer), count: 4096 + writer) }
        DispatchQueue.concurrentPerform(iterations: contents.count) { writer in
            for _ in 0..<40 {
                do throws(StorageError) { try io.writeFileAtomically(path, bytes: contents[writer]) } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 } == [])
        #expect(contents.contains(try io.readSmallFile(path)))
        #expect(directory.files() == ["checkpoint"], "no temporary file left")
    }

    /// Leftover temporary files of checkpoints (in the data directory) and of partition files
    /// (in a partition directory) are removed at start-up.
    @Test func leftoverTemporaryFilesAreRemovedAtStartUp() throws {
        let directory = TemporaryDirectory()
        let partition = TopicPartition(topic: "t", partition: 0)
        do {
            let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig())
            try manager.createLog(for: partition).append(makeBatch())
            try manager.close()
        }
        let checkpointLeftover = "\(LogDirectoryFiles.recoveryPointCheckpoint).4242.7.tmp"
        let partitionLeftover = "partition.metadata.4242.8.tmp"
        FileManager.default.createFile(atPath: "\(directory.path)/\(checkpointLeftover)", contents: Data("0\n".utf8))
        FileManager.default.createFile(atPath: "\(directory.path)/t-0/\(partitionLeftover)", contents: Data("x".utf8))
        let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig())
        #expect(!directory.files().contains(checkpointLeftover))
        #expect(!directory.files(in: "t-0").contains(partitionLeftover))
        #expect(manager.skippedEntries.map(\.name) == [checkpointLeftover])
        #expect(manager.recoveryReports[partition]?.removedFiles == [partitionLeftover])
        try manager.close()
    }

    /// Creating the data directory fsyncs its parent, so the directory itself survives a power
    /// loss: a failing fsync of the parent fails the start-up.
    @Test func creatingTheDataDirectoryFsyncsItsParent() throws {
        let parent = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        io.inject(.failSyncsOf(pathSuffix: parent.path, errno: EIO))
        let error = #expect(throws: StorageError.self) {
            try LogManager(dataDirectory: parent.path + "/data", defaultConfig: smallConfig(), io: io)
        }
        #expect(error?.errno == EIO)
        #expect(error?.path == parent.path)
    }

    /// A regular file named like a partition is skipped and reported, not a start-up failure.
    @Test func aStrayFileNamedLikeAPartitionIsSkippedAndReported() throws {
        let directory = TemporaryDirectory()
        do {
            let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig())
            try manager.createLog(for: TopicPartition(topic: "t", partition: 0)).append(makeBatch())
            try manager.close()
        }
        FileManager.default.createFile(atPath: "\(directory.path)/zz-0", contents: Data("stray".utf8))
        let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig())
        #expect(manager.partitions == [TopicPartition(topic: "t", partition: 0)])
        #expect(manager.skippedEntries.map(\.name) == ["zz-0"])
        #expect(try manager.log(for: TopicPartition(topic: "t", partition: 0))?.allValues().count == 1)
        try manager.close()
    }

    /// A symbolic link to a partition directory would open the same files as a second log:
    /// start-up refuses with a typed error naming both. A link to a directory of its own (a
    /// partition moved to another disk) is followed, as Kafka does.
    @Test func aSymlinkedPartitionDirectoryIsNeverOpenedTwice() throws {
        let directory = TemporaryDirectory()
        let elsewhere = TemporaryDirectory()
        do {
            let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig())
            try manager.createLog(for: TopicPartition(topic: "t", partition: 0)).append(makeBatch())
            try manager.createLog(for: TopicPartition(topic: "moved", partition: 0)).append(makeBatch(count: 2))
            try manager.close()
        }
        try FileManager.default.moveItem(atPath: "\(directory.path)/moved-0", toPath: "\(elsewhere.path)/moved-0")
        try FileManager.default.createSymbolicLink(atPath: "\(directory.path)/moved-0", withDestinationPath: "\(elsewhere.path)/moved-0")
        do {
            let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig())
            #expect(try manager.log(for: TopicPartition(topic: "moved", partition: 0))?.allValues().count == 2)
            try manager.close()
        }
        try FileManager.default.createSymbolicLink(atPath: "\(directory.path)/u-0", withDestinationPath: "\(directory.path)/t-0")
        let error = #expect(throws: StorageError.self) { try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig()) }
        #expect(error?.code == .duplicatePartitionDirectory(otherPath: "\(directory.path)/t-0"))
        #expect(error?.path == "\(directory.path)/u-0")
    }
}
