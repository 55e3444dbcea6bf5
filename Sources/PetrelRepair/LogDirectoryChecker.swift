import Foundation
public import PetrelFormat
public import PetrelStorage

/// What a check found, and the repair it plans.
public struct FsckResult: Sendable {
    public var findings: [Finding] = []
    public var actions: [RepairAction] = []
    public var partitionsChecked = 0
    public var segmentsChecked = 0
    public var bytesChecked = 0

    public var errorCount: Int { findings.filter { $0.severity == .error }.count }
    /// Errors fsck cannot repair (reported and left alone).
    public var unrepairableCount: Int { findings.filter { $0.severity == .error && $0.repair == nil }.count }
}

/// Checks a log directory (Kafka's `log.dirs` entry) or one partition directory, read-only,
/// and plans the repair of what it finds. Works on directories written by Petrel or by Apache
/// Kafka (same format). Memory stays bounded: segments are mapped, not read into memory, and
/// indexes are checked while the batches are walked.
public struct LogDirectoryChecker {
    public let path: String
    /// Called after each segment with (segments done, segments in all).
    public var progress: ((Int, Int) -> Void)?
    /// Files fsck itself keeps (its quarantine), never reported as unknown.
    public var quarantineDirectoryName = LogDirectoryFiles.fsckQuarantineDirectory

    public init(path: String) { self.path = path }

    /// - Throws: only when `path` itself cannot be read (an operational error).
    public func check() throws -> FsckResult {
        var result = FsckResult()
        let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        if isPartitionDirectory(path, names: names) {
            let total = names.filter { $0.hasSuffix(SegmentFiles.logSuffix) }.count
            var done = 0
            _ = checkPartition(path, compacted: false, into: &result) { done += 1; progress?(done, total) }
            return result
        }
        var partitions: [(TopicPartition, String)] = []
        for name in names {
            let full = "\(path)/\(name)"
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory)
            if isDirectory.boolValue, let partition = TopicPartition(directoryName: name) {
                partitions.append((partition, full))
            } else if !isKnownLogDirectoryEntry(name, isDirectory: isDirectory.boolValue) {
                result.findings.append(Finding(.warning, .unknownFile, file: full, message: "unknown file in the log directory", repair: nil))
            }
        }
        let cleaner = (try? OffsetCheckpointFile(path: "\(path)/\(LogDirectoryFiles.cleanerOffsetCheckpoint)").read()) ?? [:]
        let total = partitions.reduce(0) { total, entry in
            total + ((try? FileManager.default.contentsOfDirectory(atPath: entry.1))?.filter { $0.hasSuffix(SegmentFiles.logSuffix) }.count ?? 0)
        }
        var done = 0
        var ranges: [TopicPartition: (start: Int64, end: Int64)] = [:]
        for (partition, directory) in partitions {
            ranges[partition] = checkPartition(directory, compacted: cleaner[partition] != nil, into: &result) {
                done += 1
                progress?(done, total)
            }
        }
        checkCheckpoints(ranges: ranges, into: &result)
        checkBrokerStateFiles(into: &result)
        return result
    }

    /// Whether `path` is one partition's directory (checked as such) rather than a log directory.
    public var isPartitionDirectory: Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return false }
        return isPartitionDirectory(path, names: names)
    }

    /// Whether `path` can be a log directory: empty (a new one), or holding a partition
    /// directory or one of the files a broker keeps there. `/etc` is not one.
    public func looksLikeLogDirectory() -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return false }
        return names.isEmpty || names.contains { name in
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: "\(path)/\(name)", isDirectory: &isDirectory)
            if isDirectory.boolValue && TopicPartition(directoryName: name) != nil {
                // Named like a partition is not enough (/etc/dbus-1): it must hold a segment or
                // partition.metadata, or nothing at all yet.
                let inside = (try? FileManager.default.contentsOfDirectory(atPath: "\(path)/\(name)")) ?? []
                return inside.isEmpty || inside.contains { $0.hasSuffix(SegmentFiles.logSuffix) || $0 == PartitionFiles.partitionMetadata }
            }
            return isKnownLogDirectoryEntry(name, isDirectory: isDirectory.boolValue) && name != quarantineDirectoryName
        }
    }

    private func isPartitionDirectory(_ path: String, names: [String]) -> Bool {
        guard TopicPartition(directoryName: URL(fileURLWithPath: path).lastPathComponent) != nil else { return false }
        return names.contains { $0.hasSuffix(SegmentFiles.logSuffix) || $0 == PartitionFiles.partitionMetadata }
            || !names.contains { TopicPartition(directoryName: $0) != nil }
    }

    private func isKnownLogDirectoryEntry(_ name: String, isDirectory: Bool) -> Bool {
        let known: Set<String> = [
            LogDirectoryFiles.recoveryPointCheckpoint, LogDirectoryFiles.logStartOffsetCheckpoint, LogDirectoryFiles.cleanerOffsetCheckpoint,
            LogDirectoryFiles.replicationOffsetCheckpoint, LogDirectoryFiles.cleanShutdownMarker, LogDirectoryFiles.lock,
            quarantineDirectoryName,
            // The broker's own files beside the partitions.
            BrokerStateFiles.clusterMetadataName, BrokerStateFiles.producerIdBlockName, BrokerStateFiles.topicConfigsName,
            BrokerStateFiles.topicsName, BrokerStateFiles.brokerConfigsName,
        ]
        return known.contains(name) || (isDirectory && LogDirectoryFiles.isInactivePartitionDirectory(name))
    }

    // MARK: The broker's files

    /// `meta.properties`, `producer-id-block` and `topics` that the broker would refuse to start with.
    /// fsck cannot repair them: it cannot know the cluster id, nor which producer ids were used.
    private func checkBrokerStateFiles(into result: inout FsckResult) {
        let parsers: [(String, ([UInt8], String) throws(StorageError) -> Void)] = [
            (BrokerStateFiles.clusterMetadataName, { bytes, path throws(StorageError) in _ = try BrokerStateFiles.clusterId(parsing: bytes, path: path) }),
            (BrokerStateFiles.producerIdBlockName, { bytes, path throws(StorageError) in _ = try BrokerStateFiles.nextProducerId(parsing: bytes, path: path) }),
            (BrokerStateFiles.topicsName, { bytes, path throws(StorageError) in _ = try BrokerStateFiles.topics(parsing: bytes, path: path) }),
            (BrokerStateFiles.brokerConfigsName, { bytes, path throws(StorageError) in _ = try BrokerStateFiles.brokerConfigs(parsing: bytes, path: path) }),
        ]
        for (name, parse) in parsers {
            let file = "\(path)/\(name)"
            guard FileManager.default.fileExists(atPath: file) else { continue }
            do throws(StorageError) { try parse(try SystemFileIO().readSmallFile(file, bytesMax: 64 << 20), file) } catch {
                result.findings.append(Finding(.error, .brokerFileInvalid, file: file, message: "\(error)", repair: nil))
            }
        }
    }

    // MARK: Checkpoints

    private func checkCheckpoints(ranges: [TopicPartition: (start: Int64, end: Int64)], into result: inout FsckResult) {
        for name in [LogDirectoryFiles.recoveryPointCheckpoint, LogDirectoryFiles.logStartOffsetCheckpoint, LogDirectoryFiles.cleanerOffsetCheckpoint] {
            let file = "\(path)/\(name)"
            guard FileManager.default.fileExists(atPath: file) else { continue }
            let isRecoveryPoint = name == LogDirectoryFiles.recoveryPointCheckpoint
            let entries: [TopicPartition: Int64]
            do {
                entries = try OffsetCheckpointFile(path: file).read()
            } catch {
                // A recovery point of 0 only costs a full scan at start-up; a log start offset at
                // each log's first segment loses nothing.
                let rebuilt = ranges.map { CheckpointEntry(topic: $0.key.topic, partition: $0.key.partition, offset: isRecoveryPoint ? 0 : $0.value.start) }
                result.findings.append(Finding(.error, .checkpointInvalid, file: file, message: "\(error)",
                                               repair: "rewrite it from the logs (\(isRecoveryPoint ? "recovery points 0" : "log start offsets at the first segments"))"))
                result.actions.append(.rewriteCheckpoint(file: file, entries: rebuilt.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) },
                                                         reason: "malformed checkpoint"))
                continue
            }
            var fixed: [CheckpointEntry] = []
            var changed = false
            for (partition, offset) in entries.sorted(by: { $0.key < $1.key }) {
                guard let range = ranges[partition] else {
                    result.findings.append(Finding(.error, .checkpointUnknownPartition, file: file, offset: offset,
                                                   message: "entry for \(partition), which has no directory here",
                                                   repair: "drop the entry"))
                    changed = true
                    continue
                }
                if offset > range.end || offset < 0 {
                    result.findings.append(Finding(.error, .checkpointOutOfRange, file: file, offset: offset,
                                                   message: "\(partition) checkpoint \(offset) is outside its log [\(range.start), \(range.end)]",
                                                   repair: "set it to \(max(0, min(offset, range.end)))"))
                    fixed.append(CheckpointEntry(topic: partition.topic, partition: partition.partition, offset: max(0, min(offset, range.end))))
                    changed = true
                } else {
                    fixed.append(CheckpointEntry(topic: partition.topic, partition: partition.partition, offset: offset))
                }
            }
            if changed { result.actions.append(.rewriteCheckpoint(file: file, entries: fixed, reason: "entries out of range")) }
        }
    }

    // MARK: Partitions

    /// Checks one partition directory; returns the log's offset range as it will be after repair.
    @discardableResult
    func checkPartition(_ directory: String, compacted: Bool, into result: inout FsckResult, segmentDone: () -> Void) -> (start: Int64, end: Int64) {
        result.partitionsChecked += 1
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory).sorted()) ?? []
        var bases: [Int64] = []
        for name in names {
            let file = "\(directory)/\(name)"
            if let base = SegmentFiles.baseOffset(ofFile: name, suffix: SegmentFiles.logSuffix) {
                bases.append(base)
            } else if name.hasSuffix(SegmentFiles.swapSuffix) || name.hasSuffix(SegmentFiles.cleanedSuffix) {
                continue  // an interrupted compaction: decided below, as the engine decides it
            } else if name.hasSuffix(SegmentFiles.deletedSuffix) {
                leftover(file, "a file scheduled for deletion (.deleted)", into: &result)
            } else if name.hasSuffix(SegmentFiles.quarantineSuffix) {
                result.findings.append(Finding(.info, .quarantinedBytes, file: file,
                                               message: "bytes an earlier recovery cut from the log and kept", repair: nil))
            } else if let base = SegmentFiles.baseOffset(ofFile: name, suffix: SegmentFiles.offsetIndexSuffix)
                ?? SegmentFiles.baseOffset(ofFile: name, suffix: SegmentFiles.timeIndexSuffix)
                ?? SegmentFiles.baseOffset(ofFile: name, suffix: SegmentFiles.transactionIndexSuffix) {
                if !names.contains(SegmentFiles.prefix(base) + SegmentFiles.logSuffix) {
                    result.findings.append(Finding(.error, .orphanIndex, file: file, message: "index without its segment",
                                                   repair: "move it to quarantine"))
                    result.actions.append(.quarantineFile(file: file, reason: "orphaned index"))
                }
            } else if name.hasSuffix(SegmentFiles.snapshotSuffix) {
                checkProducerSnapshot(file, into: &result)
            } else if name == PartitionFiles.partitionMetadata {
                do { _ = try PartitionMetadataFile(directory: directory).read() } catch {
                    result.findings.append(Finding(.error, .partitionMetadataInvalid, file: file, message: "\(error)", repair: nil))
                }
            } else if name != PartitionFiles.leaderEpochCheckpoint {
                result.findings.append(Finding(.warning, .unknownFile, file: file, message: "unknown file, left alone", repair: nil))
            }
        }
        if !names.contains(PartitionFiles.partitionMetadata) {
            result.findings.append(Finding(.warning, .partitionMetadataMissing, file: "\(directory)/\(PartitionFiles.partitionMetadata)",
                                           message: "no partition.metadata (topic id)", repair: nil))
        }
        // Interrupted compaction swaps, decided by the rules `Log.open` follows (`SwapRecovery`):
        // unfinished output is a leftover; a finished `.swap` replaces the segments in its range.
        let swaps = SwapRecovery(names: names)
        for name in swaps.discarded {
            leftover("\(directory)/\(name)", name.hasSuffix(SegmentFiles.cleanedSuffix)
                ? "output of an interrupted compaction (.cleaned)" : "a .swap file of a compaction swap rolled back", into: &result)
        }
        for base in swaps.swapBases {
            let file = SegmentFiles.logPath(directory, base) + SegmentFiles.swapSuffix
            result.findings.append(Finding(.error, .interruptedSwap, file: file, message: "compaction swap interrupted before its rename",
                                           repair: "replace the segments it covers (to quarantine) and rename it"))
            result.actions.append(.finishSwap(file: file))
            let next = (try? SwapRecovery.nextOffset(ofSwapLog: file, base: base)) ?? base
            bases.removeAll { $0 >= base && $0 < max(next, base + 1) }
        }

        var previousNext: Int64?
        var chainBroken: (offset: Int64, reason: String)?
        var firstKept: Int64?
        bases.sort()
        for (index, base) in bases.enumerated() {
            defer { segmentDone() }
            result.segmentsChecked += 1
            let logFile = SegmentFiles.logPath(directory, base)
            if let broken = chainBroken {
                quarantineSegment(directory, base, reason: broken.reason, into: &result, finding: Finding(
                    .error, .offsetGap, file: logFile, offset: base,
                    message: "follows the break in the offsets at \(broken.offset)", repair: "move the segment to quarantine"))
                continue
            }
            let nextBase = index + 1 < bases.count ? bases[index + 1] : nil
            let isLast = index == bases.count - 1
            guard let scan = scanSegment(directory, base: base, isLast: isLast, into: &result) else { continue }
            result.bytesChecked += scan.fileBytes
            guard let first = scan.firstOffset else {
                // No valid batch (empty, or cut at byte 0): the segment stays, empty, under its name.
                if scan.needsIndexRebuild {
                    result.actions.append(.rebuildIndexes(directory: directory, baseOffset: base, offsetLimit: nextBase))
                }
                if scan.cutAt != nil { chainBroken = (base, "follows the cut at offset \(base)") }
                if previousNext == nil || base >= previousNext! { previousNext = max(previousNext ?? base, base) }
                if firstKept == nil { firstKept = base }
                continue
            }
            if let previous = previousNext, first < previous {
                quarantineSegment(directory, base, reason: "overlaps the segment before it", into: &result, finding: Finding(
                    .error, .overlappingSegment, file: logFile, position: 0, offset: first,
                    message: "starts at offset \(first), below the end \(previous) of the segment before it",
                    repair: "move the segment to quarantine"))
                continue
            }
            if let previous = previousNext, first > previous, base > previous, !compacted {
                result.findings.append(Finding(.error, .offsetGap, file: logFile, position: 0, offset: previous,
                                               message: "offsets \(previous)..<\(first) are missing (a missing segment?)",
                                               repair: "move this and every later segment to quarantine: the log ends at \(previous)"))
                chainBroken = (previous, "follows an offset gap at \(previous)")
                quarantineSegment(directory, base, reason: "follows an offset gap at \(previous)", into: &result, finding: nil)
                continue
            }
            var newBase = base
            if first < base || (previousNext.map { base < $0 } ?? false) {
                newBase = first
                result.findings.append(Finding(.error, .segmentNameMismatch, file: logFile, offset: first,
                                               message: "named for offset \(base) but its first batch is at offset \(first)",
                                               repair: "rename it to \(SegmentFiles.prefix(first))\(SegmentFiles.logSuffix)"))
                result.actions.append(.renameSegment(directory: directory, fromBaseOffset: base, toBaseOffset: first))
            }
            if scan.needsIndexRebuild || newBase != base {
                result.actions.append(.rebuildIndexes(directory: directory, baseOffset: newBase, offsetLimit: nextBase))
            }
            if scan.cutAt != nil {
                // The log ends where it was cut; what follows no longer chains.
                chainBroken = (scan.nextOffset, "follows the cut at offset \(scan.nextOffset)")
            }
            previousNext = scan.nextOffset
            if firstKept == nil { firstKept = newBase }
        }
        return (firstKept ?? 0, previousNext ?? firstKept ?? 0)
    }

    private func leftover(_ file: String, _ what: String, into result: inout FsckResult) {
        result.findings.append(Finding(.error, .leftoverFile, file: file, message: what, repair: "move it to quarantine"))
        result.actions.append(.quarantineFile(file: file, reason: what))
    }

    private func quarantineSegment(_ directory: String, _ base: Int64, reason: String, into result: inout FsckResult, finding: Finding?) {
        if let finding { result.findings.append(finding) }
        for path in [SegmentFiles.logPath(directory, base), SegmentFiles.offsetIndexPath(directory, base),
                     SegmentFiles.timeIndexPath(directory, base), SegmentFiles.transactionIndexPath(directory, base)]
        where FileManager.default.fileExists(atPath: path) {
            result.actions.append(.quarantineFile(file: path, reason: reason))
        }
    }
}

extension LogDirectoryChecker {
    /// Checks one segment's offset and time index against its log (for `petrel dump
    /// --verify-index`): the index findings only.
    public static func verifyIndexes(ofSegment logFile: String) -> [Finding] {
        let url = URL(fileURLWithPath: logFile)
        guard let base = SegmentFiles.baseOffset(ofFile: url.lastPathComponent, suffix: SegmentFiles.logSuffix) else {
            return [Finding(.error, .unknownFile, file: logFile, message: "not a segment file name", repair: nil)]
        }
        var result = FsckResult()
        _ = LogDirectoryChecker(path: url.deletingLastPathComponent().path)
            .scanSegment(url.deletingLastPathComponent().path, base: base, isLast: false, into: &result)
        let indexKinds: Set<Finding.Kind> = [.missingIndex, .truncatedIndex, .indexEntryInvalid, .indexEntryPastEnd, .indexPreallocatedTail,
                                             .timeIndexOutOfOrder, .timeIndexInconsistent]
        return result.findings.filter { indexKinds.contains($0.kind) }
    }
}
