import Foundation
import PetrelFormat
import PetrelRepair
import PetrelStorage

/// Judges one crash image of a `PowerLossWorkload`: fsck on the image as power loss left it,
/// the reopen (recovery) with every acknowledged record there, a second power loss right after
/// that recovery (fsck and reopen again), and retention on the recovered logs.
struct CrashCheck {
    /// What went wrong. `indexTrim` marks the known symptom of IndexFile.seal() trimming an index
    /// (ftruncate) without an fsync: a sealed segment's index keeps its preallocated zero tail.
    struct Problem {
        let indexTrim: Bool
        let message: String
    }

    let workload: PowerLossWorkload
    let image: FileSystemImage
    /// The first mutating call the crash prevented.
    let crashCall: Int
    /// Whether unsynced data may have reached the disk: the image may then hold torn tails,
    /// which only recovery is expected to clean up, so fsck looks only after it.
    let writtenBack: Bool
    private(set) var problems: [Problem] = []
    /// Kinds of fsck warnings seen (allowed: fsck's exit status ignores warnings).
    private(set) var warnings: Set<String> = []
    /// Kinds of fsck information seen (quarantined bytes: recovery cut a torn tail).
    private(set) var infos: Set<String> = []

    init(workload: PowerLossWorkload, image: FileSystemImage, crashCall: Int, writtenBack: Bool = false) {
        self.workload = workload
        self.image = image
        self.crashCall = crashCall
        self.writtenBack = writtenBack
        let checkpointed = Self.recoveryPoints(in: image)
        expected = workload.acknowledged.filter { record in
            record.acknowledgedAfterCall < crashCall
                && (record.durableWhenAcknowledged || record.offset < checkpointed[record.partition] ?? 0)
        }
    }

    /// The recovery-point checkpoint as the image holds it (empty when absent or unreadable:
    /// fsck reports the latter).
    static func recoveryPoints(in image: FileSystemImage) -> [TopicPartition: Int64] {
        let path = "\(PowerLossWorkload.dataDirectory)/\(LogDirectoryFiles.recoveryPointCheckpoint)"
        guard let bytes = image.files.first(where: { $0.path == path })?.bytes else { return [:] }
        var points: [TopicPartition: Int64] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst(2) {
            let fields = line.split(separator: " ")
            if fields.count == 3, let partition = Int32(fields[1]), let offset = Int64(fields[2]) {
                points[TopicPartition(topic: String(fields[0]), partition: partition)] = offset
            }
        }
        return points
    }

    /// The records that must survive: acknowledged before the crash, and either fsynced before
    /// that (`.beforeAcknowledge`) or below the partition's recovery point in the durable
    /// checkpoint.
    let expected: [PowerLossWorkload.AckedRecord]

    mutating func run() {
        if !writtenBack { fsck(image, stage: "crash image") }
        let rebooted = SimulatedFileIO(rebootingFrom: image)
        guard let manager = open(rebooted, stage: "reopen") else { return }
        verify(manager, stage: "reopen")

        // Power lost again right after recovery: what recovery rebuilt must be durable, or harmless.
        let second = rebooted.durableImage()
        fsck(second, stage: "crash image taken right after recovery")
        if let again = open(SimulatedFileIO(rebootingFrom: second), stage: "reopen after a second crash") {
            verify(again, stage: "reopen after a second crash")
            close(again, stage: "close after a second crash")
        }

        // Retention must not take recent records (it reads each sealed segment's time index).
        for partition in manager.partitions {
            do throws(StorageError) { _ = try manager.log(for: partition)!.applyRetention() } catch {
                problems.append(Problem(indexTrim: false, message: "retention on \(partition) after reopen failed: \(error)"))
            }
        }
        verify(manager, stage: "retention after reopen", indexTrimCaused: hasIndexTrimFinding)

        // The recovered directory stays usable: an append to each log, a clean close, and fsck
        // of what the process then sees.
        for partition in manager.partitions {
            do throws(StorageError) { try manager.log(for: partition)!.append(makeBatch(count: 1, timestamp: wallClockMs(), tag: 999)) } catch {
                problems.append(Problem(indexTrim: false, message: "append to \(partition) after reopen failed: \(error)"))
            }
        }
        close(manager, stage: "clean close after reopen")
        fsck(rebooted.liveImage(), stage: "directory after reopen, one append per log and a clean close")
    }

    private var hasIndexTrimFinding: Bool { problems.contains { $0.indexTrim } }

    private mutating func open(_ io: SimulatedFileIO, stage: String) -> LogManager? {
        do throws(StorageError) {
            return try LogManager(dataDirectory: PowerLossWorkload.dataDirectory, defaultConfig: PowerLossWorkload.config, io: io)
        } catch {
            problems.append(Problem(indexTrim: false, message: "\(stage): the data directory does not open: \(error)"))
            return nil
        }
    }

    private mutating func close(_ manager: LogManager, stage: String) {
        do throws(StorageError) { try manager.close() } catch {
            problems.append(Problem(indexTrim: false, message: "\(stage) failed: \(error)"))
        }
    }

    /// Every acknowledged record is in its log with its key and value.
    private mutating func verify(_ manager: LogManager, stage: String, indexTrimCaused: Bool = false) {
        let byPartition = Dictionary(grouping: expected, by: \.partition)
        for (partition, records) in byPartition.sorted(by: { $0.key < $1.key }) {
            guard let log = manager.log(for: partition) else {
                if let deleted = workload.deletionStarted[partition], deleted < crashCall { continue }  // deleted before the crash
                problems.append(Problem(indexTrim: indexTrimCaused, message: "\(stage): partition \(partition) with \(records.count) acknowledged records is gone"))
                continue
            }
            let found: [Int64: DecodedRecord]
            do {
                found = Dictionary(try log.readRecords(fromOffset: log.logStartOffset, maxRecords: .max).map { ($0.offset, $0) },
                                   uniquingKeysWith: { first, _ in first })
            } catch {
                problems.append(Problem(indexTrim: indexTrimCaused, message: "\(stage): reading \(partition) failed: \(error)"))
                continue
            }
            // Any record of an offset the workload wrote, required or not, holds what was written.
            let written = Dictionary(workload.acknowledged.filter { $0.partition == partition }.map { ($0.offset, $0) }, uniquingKeysWith: { $1 })
            let altered = found.values.filter { record in written[record.offset].map { $0.key != record.key || $0.value != record.value } ?? false }
            if let first = altered.min(by: { $0.offset < $1.offset }) {
                problems.append(Problem(indexTrim: false, message: "\(stage): \(altered.count) records of \(partition) differ from what was written, first at offset \(first.offset)"))
            }
            let lost = records.filter { found[$0.offset]?.key != $0.key || found[$0.offset]?.value != $0.value }
            if let first = lost.first {
                let what = found[first.offset] == nil ? "missing" : "different"
                problems.append(Problem(indexTrim: indexTrimCaused, message:
                    "\(stage): \(lost.count) of \(records.count) acknowledged records of \(partition) lost, first at offset \(first.offset) (\(what)); "
                    + "log now [\(log.logStartOffset), \(log.logEndOffset)), segments \(log.segmentBaseOffsets)"))
            }
        }
    }

    /// Where images are written for fsck: tmpfs when there is one (a shared VM disk takes ~3 ms
    /// per file to create and remove, which made the test 4× slower).
    static let scratchDirectory: String = {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDirectory), isDirectory.boolValue,
           FileManager.default.isWritableFile(atPath: "/dev/shm") {
            return "/dev/shm"
        }
        return URL(fileURLWithPath: NSTemporaryDirectory()).path
    }()

    /// fsck of `image`, materialized in a temporary directory (fsck reads through Foundation).
    private mutating func fsck(_ image: FileSystemImage, stage: String) {
        let root = Self.scratchDirectory + "/petrel-powerloss-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }  // cleanup only
        do {
            try image.materialize(at: root)
            let result = try LogDirectoryChecker(path: root + PowerLossWorkload.dataDirectory).check()
            for finding in result.findings {
                let file = finding.file.replacingOccurrences(of: root, with: "")
                switch finding.severity {
                case .error:
                    let trim = finding.kind == .indexPreallocatedTail
                    problems.append(Problem(indexTrim: trim, message: "\(stage): fsck error \(finding.kind.rawValue) in \(file): \(finding.message)"))
                case .warning:
                    let name = URL(fileURLWithPath: file).lastPathComponent
                    warnings.insert("\(finding.kind.rawValue) on *\(name.drop { $0.isNumber })")
                case .info:
                    infos.insert(finding.kind.rawValue)
                }
            }
        } catch {
            problems.append(Problem(indexTrim: false, message: "\(stage): fsck could not run: \(error)"))
        }
    }
}
