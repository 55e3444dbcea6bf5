#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What opening a log found and did, for operators and tests.
public struct RecoveryReport: Sendable, Equatable {
    /// Segments whose batches were scanned and validated.
    public var segmentsRecovered: [Int64] = []
    /// Files holding bytes cut from the log, with the number of bytes and why.
    public var quarantined: [(path: String, bytes: Int, reason: String)] = []
    /// Leftover files removed (`.deleted`, `.cleaned`, orphaned indexes, temporary files).
    public var removedFiles: [String] = []
    /// Segments trusted by a clean shutdown or the recovery point whose index files failed the
    /// open-time check (a trim lost to a power loss, say), with why: their indexes were rebuilt.
    public var indexesRebuilt: [(baseOffset: Int64, reason: String)] = []
    /// Where the replay of producer state began: the offset of the snapshot loaded, or the log
    /// start when none was usable. Everything below it was not read for producer state.
    public var producerStateReplayedFrom: Int64 = 0

    public static func == (lhs: RecoveryReport, rhs: RecoveryReport) -> Bool {
        lhs.segmentsRecovered == rhs.segmentsRecovered && lhs.removedFiles == rhs.removedFiles
            && lhs.quarantined.map(\.path) == rhs.quarantined.map(\.path) && lhs.quarantined.map(\.bytes) == rhs.quarantined.map(\.bytes)
            && lhs.indexesRebuilt.map(\.baseOffset) == rhs.indexesRebuilt.map(\.baseOffset)
    }
}

extension Log {
    /// Opens (or creates) the log in `directory`.
    ///
    /// After a clean shutdown, segments are trusted and their files mapped lazily; only each
    /// index's size and last two entries are checked (`Segment.indexProblem`, two small reads
    /// per index), and a segment whose index fails is recovered like one past the recovery
    /// point. Otherwise every segment from the one holding `recoveryPoint` on is
    /// scanned batch by batch; the log is cut at the first invalid batch, the cut bytes (and any
    /// later segment) are moved to quarantine files in the directory, never dropped, and the
    /// indexes are rebuilt. The log always wins over an index.
    public static func open(
        directory: String, config: LogConfig = LogConfig(), io: any FileIO = SystemFileIO(),
        recoveryPoint: Int64 = 0, logStartOffset: Int64 = 0, hadCleanShutdown: Bool = false,
        handleCache: SegmentHandleCache? = nil
    ) throws(StorageError) -> (log: Log, report: RecoveryReport) {
        let config = try config.validated()
        var report = RecoveryReport()
        if !io.exists(directory) {
            try io.mkdir(directory)
            try io.fsyncDirectory(parentDirectory(of: directory))
        }
        // First, a compaction swap a crash cut short is finished or rolled back (`SwapRecovery`).
        report.removedFiles += try recoverSwaps(directory: directory, io: io)
        let names = try io.listDirectory(directory)
        var baseOffsets: [Int64] = []
        for name in names {
            let path = "\(directory)/\(name)"
            if SegmentFiles.isStartupLeftover(name) {
                try io.unlink(path)
                report.removedFiles.append(name)
            } else if let base = SegmentFiles.baseOffset(ofFile: name, suffix: SegmentFiles.logSuffix) {
                baseOffsets.append(base)
            }
        }
        baseOffsets.sort()
        let logBases = Set(baseOffsets)
        for name in names {
            let base = SegmentFiles.baseOffset(ofFile: name, suffix: SegmentFiles.offsetIndexSuffix)
                ?? SegmentFiles.baseOffset(ofFile: name, suffix: SegmentFiles.timeIndexSuffix)
            if let base, !logBases.contains(base) {
                try io.unlink("\(directory)/\(name)")
                report.removedFiles.append(name)
            }
        }

        var segments: [Segment] = []
        for (index, base) in baseOffsets.enumerated() {
            let nextBase = index + 1 < baseOffsets.count ? baseOffsets[index + 1] : nil
            let path = SegmentFiles.logPath(directory, base)
            let descriptor = try io.open(path, flags: O_RDONLY, mode: 0)
            let size = Int(try io.fileSize(descriptor, path: path))
            io.close(descriptor)
            segments.append(.existing(directory: directory, baseOffset: base, sizeBytes: size, nextOffset: nextBase ?? base,
                                      config: config, io: io, handleCache: handleCache))
        }

        // Which segments to scan: after an unclean shutdown, all from the one holding the
        // recovery point; in any case, those whose offset index is missing.
        let firstUnflushed = hadCleanShutdown ? segments.count
            : (segments.lastIndex { $0.baseOffset <= recoveryPoint } ?? 0)
        var index = 0
        while index < segments.count {
            let segment = segments[index]
            let isLast = index == segments.count - 1
            let indexMissing = !io.exists(segment.offsetIndexPath) || !io.exists(segment.timeIndexPath)
            let nextBase = isLast ? nil : segments[index + 1].baseOffset
            let mustScan = index >= firstUnflushed || indexMissing
            let indexProblem = mustScan ? nil : try segment.indexProblem(nextOffset: nextBase ?? .max)
            if let indexProblem { report.indexesRebuilt.append((segment.baseOffset, indexProblem)) }
            if mustScan || indexProblem != nil {
                let scan = try segment.recover(offsetLimit: nextBase)
                report.segmentsRecovered.append(segment.baseOffset)
                if scan.validBytes < scan.fileBytes {
                    let reason = scan.problem ?? "invalid bytes"
                    let path = try segment.quarantineTail(from: scan.validBytes, fileBytes: scan.fileBytes)
                    report.quarantined.append((path, scan.fileBytes - scan.validBytes, reason))
                    // The log ends at the first damage: later segments no longer chain.
                    for later in segments[(index + 1)...] {
                        let target = "\(later.logPath).0\(SegmentFiles.quarantineSuffix)"
                        try io.rename(later.logPath, to: target)
                        for indexPath in [later.offsetIndexPath, later.timeIndexPath] where io.exists(indexPath) {
                            try io.unlink(indexPath)
                        }
                        report.quarantined.append((target, later.sizeBytes, "follows damage at offset \(segment.nextOffset)"))
                    }
                    segments.removeSubrange((index + 1)...)
                    try io.fsyncDirectory(directory)
                }
                if index < segments.count - 1 {
                    try segment.seal()
                    try segment.syncSealed()
                }
            }
            index += 1
        }

        if let last = segments.last, !last.isActive {
            do throws(StorageError) {
                try last.resumeAfterCleanShutdown()
            } catch {
                // The marker said clean, the files disagree: trust the log, recover it.
                let scan = try last.recover(offsetLimit: nil)
                report.segmentsRecovered.append(last.baseOffset)
                if scan.validBytes < scan.fileBytes {
                    let path = try last.quarantineTail(from: scan.validBytes, fileBytes: scan.fileBytes)
                    report.quarantined.append((path, scan.fileBytes - scan.validBytes, scan.problem ?? "invalid bytes"))
                }
            }
        }
        // Recovery recreated the index files of the segments it scanned (unlink, create): make
        // the new names durable, or a later power loss brings the old files back — torn ones
        // too, and after a clean shutdown nothing rescans them.
        if !report.segmentsRecovered.isEmpty { try io.fsyncDirectory(directory) }
        if segments.isEmpty {
            segments.append(try Segment.create(directory: directory, baseOffset: logStartOffset, config: config, io: io, handleCache: handleCache))
            try io.fsyncDirectory(directory)
        }
        let end = segments.last!.nextOffset
        let start = min(max(logStartOffset, segments.first!.baseOffset), end)
        let log = Log(directory: directory, config: config, io: io, handleCache: handleCache, segments: segments, logStartOffset: start,
                      recoveryPoint: hadCleanShutdown ? end : min(recoveryPoint, end))
        report.producerStateReplayedFrom = try log.loadProducerState()
        return (log, report)
    }
}
