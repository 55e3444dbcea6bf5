import Foundation
import PetrelFormat
import PetrelRepair
import PetrelStorage
import PetrelTestSupport
import Testing

/// A healthy log directory written by the engine, and what it held.
struct HealthyDirectory {
    let root: String
    let partitionDirectory: String
    /// Every batch's bytes by base offset, as the engine wrote them.
    let batches: [Int64: [UInt8]]
    let logEndOffset: Int64
    let segmentBases: [Int64]

    static let partition = TopicPartition(topic: "orders", partition: 0)

    init() throws {
        root = NSTemporaryDirectory() + "petrel-fsck-\(UUID().uuidString)"
        var config = LogConfig()
        config.segmentBytes = 2048
        config.indexIntervalBytes = 200
        config.segmentIndexBytes = 4096
        let manager = try LogManager(dataDirectory: root, defaultConfig: config)
        let log = try manager.createLog(for: Self.partition)
        for tag in 0..<60 {
            var builder = RecordBatchBuilder()
            for index in 0..<3 {
                builder.append(key: Array("key-\(tag)".utf8), value: Array("value \(tag)-\(index) with some padding".utf8),
                               timestamp: 1_700_000_000_000 + Int64(tag * 10 + index))
            }
            try log.append(try builder.build())
        }
        var batches: [Int64: [UInt8]] = [:]
        var next: Int64 = 0
        while next < log.logEndOffset {
            next = try log.read(fromOffset: next, maxBytes: 1 << 20) { slice in
                var reader = RecordBatchReader(slice.bytes)
                var last = next
                while let batch = try reader.next() {
                    batches[batch.baseOffset] = Array(batch.bytes)
                    last = batch.nextOffset
                }
                return last
            }
        }
        self.batches = batches
        logEndOffset = log.logEndOffset
        segmentBases = log.segmentBaseOffsets
        partitionDirectory = log.directory
        try manager.close()
    }

    func logPath(_ base: Int64) -> String { SegmentFiles.logPath(partitionDirectory, base) }
    func bytes(_ path: String) -> [UInt8] { Array(FileManager.default.contents(atPath: path) ?? Data()) }
    func write(_ path: String, _ bytes: [UInt8]) { FileManager.default.createFile(atPath: path, contents: Data(bytes)) }
    /// Byte positions of the batches in a segment file.
    func batchPositions(_ base: Int64) -> [Int] {
        var positions: [Int] = []
        let data = bytes(logPath(base))
        var position = 0
        while position + 12 <= data.count {
            positions.append(position)
            position += Int(Int32(bigEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position + 8, as: Int32.self) })) + 12
        }
        return positions
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// One kind of damage: how to make it, and what fsck must report.
struct Corruption: CustomTestStringConvertible, Sendable {
    let name: String
    let kind: Finding.Kind
    /// Damages the directory; returns the file and byte position fsck must name (nil: any).
    let apply: @Sendable (HealthyDirectory) -> (file: String, position: Int?)
    var testDescription: String { name }
}

let corruptions: [Corruption] = [
    Corruption(name: "bit flip in a batch header", kind: .invalidBatch) { dir in
        let base = dir.segmentBases[1], at = dir.batchPositions(base)[1]
        var bytes = dir.bytes(dir.logPath(base)); bytes[at + 22] ^= 0x04; dir.write(dir.logPath(base), bytes)
        return (dir.logPath(base), at)
    },
    Corruption(name: "bit flip in a record", kind: .invalidBatch) { dir in
        let base = dir.segmentBases[1], at = dir.batchPositions(base)[2]
        var bytes = dir.bytes(dir.logPath(base)); bytes[at + 70] ^= 0x01; dir.write(dir.logPath(base), bytes)
        return (dir.logPath(base), at)
    },
    Corruption(name: "bit flip in the CRC field", kind: .invalidBatch) { dir in
        let base = dir.segmentBases[2], at = dir.batchPositions(base)[0]
        var bytes = dir.bytes(dir.logPath(base)); bytes[at + 18] ^= 0x80; dir.write(dir.logPath(base), bytes)
        return (dir.logPath(base), at)
    },
    Corruption(name: "torn tail", kind: .invalidBatch) { dir in
        let base = dir.segmentBases.last!, at = dir.batchPositions(base).last!
        let bytes = dir.bytes(dir.logPath(base)); dir.write(dir.logPath(base), Array(bytes[..<(at + 40)]))
        return (dir.logPath(base), at)
    },
    Corruption(name: "zero-filled tail", kind: .zeroFilledTail) { dir in
        let base = dir.segmentBases.last!
        let bytes = dir.bytes(dir.logPath(base)); dir.write(dir.logPath(base), bytes + [UInt8](repeating: 0, count: 4096))
        return (dir.logPath(base), bytes.count)
    },
    Corruption(name: "garbage appended", kind: .invalidBatch) { dir in
        let base = dir.segmentBases.last!
        var generator = SeededGenerator(seed: 9)
        let bytes = dir.bytes(dir.logPath(base))
        dir.write(dir.logPath(base), bytes + (0..<777).map { _ in UInt8.random(in: 0...255, using: &generator) })
        return (dir.logPath(base), bytes.count)
    },
    Corruption(name: "truncated index", kind: .truncatedIndex) { dir in
        let path = SegmentFiles.offsetIndexPath(dir.partitionDirectory, dir.segmentBases[0])
        let bytes = dir.bytes(path); dir.write(path, Array(bytes[..<(bytes.count - 3)]))
        return (path, bytes.count - 8)
    },
    Corruption(name: "index entry pointing mid-batch", kind: .indexEntryInvalid) { dir in
        let path = SegmentFiles.offsetIndexPath(dir.partitionDirectory, dir.segmentBases[1])
        var bytes = dir.bytes(path)
        let position = Int32(bigEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: Int32.self) }) + 5
        bytes.replaceSubrange(4..<8, with: withUnsafeBytes(of: position.bigEndian, Array.init)); dir.write(path, bytes)
        return (path, 0)
    },
    Corruption(name: "index entry past the end", kind: .indexEntryPastEnd) { dir in
        let base = dir.segmentBases[1]
        let path = SegmentFiles.offsetIndexPath(dir.partitionDirectory, base)
        let size = Int32(dir.bytes(dir.logPath(base)).count)
        var bytes = dir.bytes(path)
        let entry = withUnsafeBytes(of: Int32(5000).bigEndian, Array.init) + withUnsafeBytes(of: (size + 100).bigEndian, Array.init)
        bytes += entry; dir.write(path, bytes)
        return (path, bytes.count - 8)
    },
    Corruption(name: "deleted index", kind: .missingIndex) { dir in
        let path = SegmentFiles.offsetIndexPath(dir.partitionDirectory, dir.segmentBases[2])
        try? FileManager.default.removeItem(atPath: path)
        return (path, nil)
    },
    Corruption(name: "time index out of order", kind: .timeIndexOutOfOrder) { dir in
        let path = SegmentFiles.timeIndexPath(dir.partitionDirectory, dir.segmentBases[1])
        var bytes = dir.bytes(path)
        precondition(bytes.count >= 24, "the fixture's time index needs two entries")
        let first = Array(bytes[0..<12]); bytes.replaceSubrange(0..<12, with: bytes[12..<24]); bytes.replaceSubrange(12..<24, with: first)
        dir.write(path, bytes)
        return (path, 12)
    },
    Corruption(name: "segment with the wrong name", kind: .segmentNameMismatch) { dir in
        let base = dir.segmentBases[2]
        for suffix in [".log", ".index", ".timeindex"] {
            try? FileManager.default.moveItem(atPath: "\(dir.partitionDirectory)/\(SegmentFiles.prefix(base))\(suffix)",
                                              toPath: "\(dir.partitionDirectory)/\(SegmentFiles.prefix(base + 1))\(suffix)")
        }
        return (dir.logPath(base + 1), nil)
    },
    Corruption(name: "overlapping segments", kind: .overlappingSegment) { dir in
        let base = dir.segmentBases[1]
        let copy = SegmentFiles.logPath(dir.partitionDirectory, base + 1)
        dir.write(copy, dir.bytes(dir.logPath(base)))
        return (copy, 0)
    },
    Corruption(name: "missing middle segment", kind: .offsetGap) { dir in
        let base = dir.segmentBases[2]
        for suffix in [".log", ".index", ".timeindex"] {
            try? FileManager.default.removeItem(atPath: "\(dir.partitionDirectory)/\(SegmentFiles.prefix(base))\(suffix)")
        }
        return (dir.logPath(dir.segmentBases[3]), 0)
    },
    Corruption(name: "leftover .cleaned file", kind: .leftoverFile) { dir in
        let path = dir.logPath(dir.segmentBases[1]) + ".cleaned"
        dir.write(path, dir.bytes(dir.logPath(dir.segmentBases[1])))
        return (path, nil)
    },
    Corruption(name: "leftover .swap file", kind: .interruptedSwap) { dir in
        let base = dir.segmentBases[1]
        let path = dir.logPath(base) + ".swap"
        dir.write(path, dir.bytes(dir.logPath(base)))
        return (path, nil)
    },
    Corruption(name: "checkpoint out of range", kind: .checkpointOutOfRange) { dir in
        let path = "\(dir.root)/\(LogDirectoryFiles.recoveryPointCheckpoint)"
        try? "0\n1\norders 0 \(dir.logEndOffset + 100)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return (path, nil)
    },
]

@Suite struct CorruptionMatrixTests {
    @Test(arguments: corruptions)
    func fsckReportsAndRepairsWithoutLosingAByte(corruption: Corruption) throws {
        let healthy = try HealthyDirectory()
        defer { healthy.remove() }
        let expected = corruption.apply(healthy)
        let before = logBytes(in: healthy.partitionDirectory)

        // fsck reports it: the right kind, file and byte position; errors mean exit status 4.
        let result = try LogDirectoryChecker(path: healthy.root).check()
        let finding = try #require(result.findings.first { $0.kind == corruption.kind }, "\(result.findings.map(\.line))")
        #expect(finding.severity == .error)
        #expect(finding.file == expected.file)
        if let position = expected.position { #expect(finding.position == position) }
        #expect(result.errorCount > 0)

        // --repair leaves a directory fsck calls clean.
        let quarantine = "\(healthy.root)/petrel-quarantine"
        let repairer = Repairer(quarantineDirectory: quarantine)
        try repairer.run(result.actions)
        var after = try LogDirectoryChecker(path: healthy.root).check()
        if !after.actions.isEmpty {
            try repairer.run(after.actions)
            after = try LogDirectoryChecker(path: healthy.root).check()
        }
        #expect(after.errorCount == 0, "\(after.findings.filter { $0.severity == .error }.map(\.line))")
        #expect(after.actions.isEmpty)

        // The engine opens it, and every batch it holds is byte-identical to what was written;
        // none is missing before the damage.
        let manager = try LogManager(dataDirectory: healthy.root)
        let log = try #require(manager.log(for: HealthyDirectory.partition))
        var next: Int64 = log.logStartOffset
        var kept: [Int64] = []
        while next < log.logEndOffset {
            next = try log.read(fromOffset: next, maxBytes: 1 << 20) { slice in
                var reader = RecordBatchReader(slice.bytes)
                var last = next
                while let batch = try reader.next() {
                    #expect(Array(batch.bytes) == healthy.batches[batch.baseOffset], "batch \(batch.baseOffset) changed")
                    kept.append(batch.baseOffset)
                    last = batch.nextOffset
                }
                return last
            }
        }
        #expect(kept == healthy.batches.keys.sorted().filter { $0 < log.logEndOffset })
        try manager.close()

        // Every byte removed from a segment is in quarantine, named in the manifest.
        let manifest = try manifestEntries(quarantine)
        let quarantinedLogBytes = manifest.filter { ($0["source"] as! String).contains(".log") && !($0["source"] as! String).hasSuffix(".quarantined") }
            .reduce(0) { $0 + ($1["bytes"] as! Int) }
        #expect(before == logBytes(in: healthy.partitionDirectory) + quarantinedLogBytes)
        for entry in manifest {
            let file = "\(quarantine)/\(entry["quarantined"] as! String)"
            #expect(FileManager.default.fileExists(atPath: file), "\(file) named in the manifest")
        }

        // Repair run twice equals repair run once.
        let listing = try FileManager.default.subpathsOfDirectory(atPath: healthy.root).sorted()
        #expect(try LogDirectoryChecker(path: healthy.root).check().actions.isEmpty)
        #expect(try repairer.run([]) == 0)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: healthy.root).sorted() == listing)
    }

    @Test func aHealthyDirectoryIsClean() throws {
        let healthy = try HealthyDirectory()
        defer { healthy.remove() }
        let result = try LogDirectoryChecker(path: healthy.root).check()
        #expect(result.errorCount == 0, "\(result.findings.map(\.line))")
        #expect(result.actions.isEmpty)
        #expect(result.segmentsChecked == healthy.segmentBases.count)
        // A partition directory can be checked on its own.
        #expect(try LogDirectoryChecker(path: healthy.partitionDirectory).check().errorCount == 0)
    }

    /// Bytes in the `.log` files of a partition directory (segments and swap/cleaned leftovers).
    func logBytes(in directory: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.contains(".log") && !$0.hasSuffix(".quarantined") }
            .reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: "\(directory)/\($1)")[.size] as? Int) ?? 0) }
    }

    func manifestEntries(_ quarantine: String) throws -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: "\(quarantine)/\(Repairer.manifestName)", encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }
}
