import Foundation
import PetrelFormat
@testable import PetrelStorage
import Testing

@Suite struct RecoveryTests {
    /// Writes `batches` batches and closes uncleanly (no close: files stay as written).
    func writeLog(at path: String, batches: Int, config: LogConfig = smallConfig(segmentBytes: 1 << 20)) throws -> [[UInt8]] {
        let (log, _) = try Log.open(directory: path, config: config)
        var written: [[UInt8]] = []
        for tag in 0..<batches {
            let info = try log.append(makeBatch(count: 3, tag: tag))
            try log.read(fromOffset: info.firstOffset, maxBytes: 1) { written.append(Array($0.bytes)) }
        }
        try log.flush()
        return written
    }

    func segmentBytes(_ path: String, base: Int64 = 0) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: SegmentFiles.logPath(path, base))))
    }

    /// Cuts the last batch at every byte: recovery keeps exactly the batches before it and
    /// quarantines the cut bytes.
    @Test func tornLastBatchAtEveryByte() throws {
        let directory = TemporaryDirectory()
        let source = directory.path + "/source-0"
        let batches = try writeLog(at: source, batches: 4)
        let whole = try segmentBytes(source)
        let prefix = batches.dropLast().reduce(0) { $0 + $1.count }
        for cut in prefix..<whole.count {
            let path = directory.path + "/cut\(cut)-0"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try Data(whole[..<cut]).write(to: URL(fileURLWithPath: SegmentFiles.logPath(path, 0)))
            let (log, report) = try Log.open(directory: path, config: smallConfig(segmentBytes: 1 << 20))
            #expect(log.logEndOffset == 9, "cut at \(cut)")
            #expect(try segmentBytes(path) == Array(whole[..<prefix]))
            if cut > prefix {
                let quarantined = try #require(report.quarantined.first)
                #expect(try Data(contentsOf: URL(fileURLWithPath: quarantined.path)) == Data(whole[prefix..<cut]))
            } else {
                #expect(report.quarantined.isEmpty)
            }
            // Appends go on after the cut.
            try log.append(makeBatch(count: 1, tag: 99))
            #expect(try log.allValues().map(\.0) == (0..<10).map(Int64.init))
        }
    }

    @Test(arguments: ["zeros", "garbage", "bitflip"])
    func damagedTailIsQuarantined(kind: String) throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/t-0"
        let batches = try writeLog(at: path, batches: 5)
        var bytes = try segmentBytes(path)
        let validEnd: Int
        switch kind {
        case "zeros":
            bytes += [UInt8](repeating: 0, count: 4096)
            validEnd = batches.reduce(0) { $0 + $1.count }
        case "garbage":
            var generator = SeededGenerator(seed: 42)
            bytes += (0..<1000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            validEnd = batches.reduce(0) { $0 + $1.count }
        default:
            validEnd = batches.prefix(3).reduce(0) { $0 + $1.count }
            bytes[validEnd + 70] ^= 0x08  // inside the fourth batch's records
        }
        try Data(bytes).write(to: URL(fileURLWithPath: SegmentFiles.logPath(path, 0)))
        let (log, report) = try Log.open(directory: path, config: smallConfig(segmentBytes: 1 << 20))
        #expect(try segmentBytes(path) == Array(bytes[..<validEnd]))
        #expect(log.logEndOffset == Int64(validEnd == bytes.count ? 15 : (kind == "bitflip" ? 9 : 15)))
        let quarantined = try #require(report.quarantined.first)
        #expect(try Data(contentsOf: URL(fileURLWithPath: quarantined.path)) == Data(bytes[validEnd...]))
        #expect(quarantined.path.hasSuffix(".log.\(validEnd).quarantined"))
    }

    @Test func damageInAnEarlierSegmentQuarantinesTheSegmentsAfterIt() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/t-0"
        let config = smallConfig(segmentBytes: 1024)
        do {
            let (log, _) = try Log.open(directory: path, config: config)
            for tag in 0..<30 { try log.append(makeBatch(count: 2, tag: tag)) }
            #expect(log.segmentCount >= 3)
            // Not closed, but its rolls' background work (the roll snapshots' temporary files
            // and renames) is let finish: reopening meanwhile races with it (see RollFailureTests).
            log.backgroundSync.sync {}
        }
        let bases = directory.files(in: "t-0").compactMap { SegmentFiles.baseOffset(ofFile: $0, suffix: ".log") }
        var first = try segmentBytes(path, base: bases[0])
        first[first.count - 5] ^= 0xFF
        try Data(first).write(to: URL(fileURLWithPath: SegmentFiles.logPath(path, bases[0])))
        let (log, report) = try Log.open(directory: path, config: config)
        #expect(log.segmentBaseOffsets == [bases[0]])
        #expect(report.quarantined.count == bases.count)  // the cut tail, then every later segment whole
        let values = try log.allValues()
        #expect(values.map(\.0) == (0..<log.logEndOffset).map { $0 })
    }

    @Test func missingIndexIsRebuiltFromTheLog() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/t-0"
        let config = smallConfig(segmentBytes: 2048, indexIntervalBytes: 100)
        do {
            let (log, _) = try Log.open(directory: path, config: config)
            for tag in 0..<40 { try log.append(makeBatch(count: 2, tag: tag)) }
            try log.close()
        }
        try FileManager.default.removeItem(atPath: SegmentFiles.offsetIndexPath(path, 0))
        let (log, report) = try Log.open(directory: path, config: config, hadCleanShutdown: true)
        #expect(report.segmentsRecovered == [0])
        #expect(try log.allValues().map(\.0) == (0..<80).map(Int64.init))
        #expect(FileManager.default.fileExists(atPath: SegmentFiles.offsetIndexPath(path, 0)))
    }

    @Test func uncleanReopenOfAManagerRecoversFromTheCheckpoint() throws {
        let directory = TemporaryDirectory()
        let partition = TopicPartition(topic: "orders", partition: 2)
        do {
            let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig(segmentBytes: 2048))
            let log = try manager.createLog(for: partition)
            for tag in 0..<30 { try log.append(makeBatch(count: 2, tag: tag)) }
            try log.flush()
            try manager.checkpoint()
            // No close: the process "dies" here, the lock goes with it.
        }
        let manager = try LogManager(dataDirectory: directory.path, defaultConfig: smallConfig(segmentBytes: 2048))
        #expect(!manager.hadCleanShutdown)
        let report = try #require(manager.recoveryReports[partition])
        #expect(report.segmentsRecovered == [manager.log(for: partition)!.segmentBaseOffsets.last!])
        #expect(try manager.log(for: partition)!.allValues().count == 60)
        try manager.close()
        let again = try LogManager(dataDirectory: directory.path)
        #expect(again.hadCleanShutdown)
        #expect(again.recoveryReports[partition]?.segmentsRecovered == [])
    }

    @Test func checkpointFilesRoundTripInKafkasFormat() throws {
        let directory = TemporaryDirectory()
        let file = OffsetCheckpointFile(path: directory.path + "/recovery-point-offset-checkpoint")
        let offsets = [TopicPartition(topic: "a", partition: 0): Int64(5), TopicPartition(topic: "b.c_d-e", partition: 12): 99]
        try file.write(offsets)
        #expect(try file.read() == offsets)
        #expect(try String(contentsOfFile: file.path, encoding: .utf8) == "0\n2\na 0 5\nb.c_d-e 12 99\n")
        try "0\n2\na 0 5\n".write(toFile: file.path, atomically: true, encoding: .utf8)
        #expect(throws: StorageError.self) { try file.read() }
    }

    @Test func partitionMetadataRoundTrips() throws {
        let directory = TemporaryDirectory()
        let file = PartitionMetadataFile(directory: directory.path)
        let id: [UInt8] = (0..<16).map { UInt8($0 * 17) }
        try file.write(topicId: id)
        #expect(try file.read() == id)
    }
}
