#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PetrelFormat
public import PetrelStorage

/// Carries out a repair plan with a journal, so that a repair killed half-way can be run again
/// and finishes: the plan is written (and fsynced) before the first step, each finished step is
/// recorded, and every step is idempotent.
///
/// Nothing is deleted: every byte a step removes from the log directory is first written to the
/// quarantine directory and listed in its `MANIFEST.jsonl` (where it came from, how many bytes,
/// why).
public struct Repairer {
    public static let journalName = "repair-journal.json"
    public static let progressName = "repair-journal.done"
    public static let manifestName = "MANIFEST.jsonl"

    public let quarantineDirectory: String
    let io: any FileIO

    public init(quarantineDirectory: String, io: any FileIO = SystemFileIO()) {
        self.quarantineDirectory = quarantineDirectory
        self.io = io
    }

    var journalPath: String { "\(quarantineDirectory)/\(Self.journalName)" }
    var progressPath: String { "\(quarantineDirectory)/\(Self.progressName)" }

    /// The plan of a repair that was interrupted, if there is one.
    public func pendingJournal() throws -> [RepairAction]? {
        guard let data = FileManager.default.contents(atPath: journalPath) else { return nil }
        return try JSONDecoder().decode([RepairAction].self, from: data)
    }

    /// Runs `actions` (or finishes the pending journal first, when one exists). Returns the
    /// number of steps carried out.
    @discardableResult
    public func run(_ actions: [RepairAction]) throws -> Int {
        try FileManager.default.createDirectory(atPath: quarantineDirectory, withIntermediateDirectories: true)
        var executed = 0
        if let pending = try pendingJournal() {
            executed += try execute(pending)
        }
        guard !actions.isEmpty else { return executed }
        try io.writeFileAtomically(journalPath, bytes: Array(try JSONEncoder().encode(actions)))
        executed += try execute(actions)
        return executed
    }

    private func execute(_ actions: [RepairAction]) throws -> Int {
        let done = Set((try? String(contentsOfFile: progressPath, encoding: .utf8))?.split(separator: "\n").compactMap { Int($0) } ?? [])
        let crashAfter = ProcessInfo.processInfo.environment["PETREL_FSCK_CRASH_AFTER_STEPS"].flatMap(Int.init)
        var executed = 0
        for (index, action) in actions.enumerated() where !done.contains(index) {
            try perform(action)
            try appendLine("\(index)", to: progressPath)
            executed += 1
            // Test hook: die like a killed process after this many steps.
            if let crashAfter, executed >= crashAfter { _exit(9) }
        }
        try? FileManager.default.removeItem(atPath: progressPath)
        try? FileManager.default.removeItem(atPath: journalPath)
        try io.fsyncDirectory(quarantineDirectory)
        return executed
    }

    // MARK: Steps

    func perform(_ action: RepairAction) throws {
        switch action {
        case let .cutFile(file, position, reason):
            try cut(file, at: position, reason: reason)
        case let .quarantineFile(file, reason):
            try quarantine(file, reason: reason)
        case let .rebuildIndexes(directory, base, limit):
            for path in [SegmentFiles.offsetIndexPath(directory, base), SegmentFiles.timeIndexPath(directory, base)]
            where FileManager.default.fileExists(atPath: path) {
                try quarantine(path, reason: "index rebuilt from the log")
            }
            _ = try IndexRebuild.rebuild(directory: directory, baseOffset: base, offsetLimit: limit, io: io)
        case let .renameSegment(directory, from, to):
            let source = SegmentFiles.logPath(directory, from)
            if FileManager.default.fileExists(atPath: source) {
                for path in [SegmentFiles.offsetIndexPath(directory, from), SegmentFiles.timeIndexPath(directory, from)]
                where FileManager.default.fileExists(atPath: path) {
                    try quarantine(path, reason: "index of a segment renamed to \(to)")
                }
                try io.rename(source, to: SegmentFiles.logPath(directory, to))
                try io.fsyncDirectory(directory)
            }
        case let .finishSwap(file):
            try finishSwap(file)
        case let .rewriteCheckpoint(file, entries, reason):
            if FileManager.default.fileExists(atPath: file) {
                try copyToQuarantine(file, from: 0, reason: reason, name: uniqueName(for: file, suffix: ""))
            }
            try OffsetCheckpointFile(path: file, io: io).write(Dictionary(uniqueKeysWithValues: entries.map {
                (TopicPartition(topic: $0.topic, partition: $0.partition), $0.offset)
            }))
        }
    }

    /// Moves the bytes of `file` from `position` on into quarantine, then cuts the file.
    private func cut(_ file: String, at position: Int, reason: String) throws {
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        guard size > position else { return }  // already cut
        try copyToQuarantine(file, from: position, reason: reason, name: quarantineName(for: file) + ".\(position)")
        let descriptor = try io.open(file, flags: O_WRONLY, mode: 0)
        defer { io.close(descriptor) }
        try io.ftruncate(descriptor, length: Int64(position), path: file)
        try io.fsync(descriptor, path: file)
    }

    /// Moves a whole file into quarantine (rename when on the same file system, else copy).
    private func quarantine(_ file: String, reason: String) throws {
        guard FileManager.default.fileExists(atPath: file) else { return }  // already moved
        let target = uniqueName(for: file, suffix: "")
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        do {
            try io.rename(file, to: "\(quarantineDirectory)/\(target)")
            try recordManifest(quarantined: target, source: file, position: 0, bytes: size, reason: reason)
        } catch let error as StorageError where error.errno == EXDEV {
            try copyToQuarantine(file, from: 0, reason: reason, name: target)
            try io.unlink(file)
        }
        try io.fsyncDirectory(quarantineDirectory)
        try io.fsyncDirectory(parentDirectoryPath(file))
    }

    /// Copies `file` from `position` to its end into the quarantine under `name`, fsynced, and
    /// records it in the manifest.
    private func copyToQuarantine(_ file: String, from position: Int, reason: String, name: String) throws {
        let source = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
        defer { try? source.close() }
        try source.seek(toOffset: UInt64(position))
        let targetPath = "\(quarantineDirectory)/\(name)"
        let output = try io.open(targetPath, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        defer { io.close(output) }
        var written = 0
        while let chunk = try source.read(upToCount: 1 << 20), !chunk.isEmpty {
            try Array(chunk).withUnsafeBytes { bytes in
                try io.pwritevAll(output, [bytes], at: Int64(written), path: targetPath)
            }
            written += chunk.count
        }
        try io.fsync(output, path: targetPath)
        try io.fsyncDirectory(quarantineDirectory)
        try recordManifest(quarantined: name, source: file, position: position, bytes: written, reason: reason)
    }

    /// Finishes an interrupted compaction swap as Kafka's loader does: segments inside the swap
    /// file's offset range go to quarantine, then the `.swap` is renamed and its indexes rebuilt.
    private func finishSwap(_ file: String) throws {
        let finalPath = String(file.dropLast(SegmentFiles.swapSuffix.count))
        let directory = parentDirectoryPath(file)
        guard let base = SegmentFiles.baseOffset(ofFile: URL(fileURLWithPath: finalPath).lastPathComponent, suffix: SegmentFiles.logSuffix)
        else { return }
        if FileManager.default.fileExists(atPath: file) {
            // The same range and renames as `Log.open` (`SwapRecovery`); what it would delete goes
            // to quarantine instead.
            let next = try SwapRecovery.nextOffset(ofSwapLog: file, base: base, io: io)
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            for name in SwapRecovery.replacedFiles(names: names, swapBase: base, nextOffset: next) {
                try quarantine("\(directory)/\(name)", reason: "replaced by the compaction swap \(file)")
            }
            try io.rename(file, to: finalPath)
            try io.fsyncDirectory(directory)
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: directory)
        where name.hasPrefix(SegmentFiles.prefix(base))
            && [SegmentFiles.offsetIndexSuffix, SegmentFiles.timeIndexSuffix].contains(where: { name.hasSuffix($0 + SegmentFiles.swapSuffix) }) {
            try quarantine("\(directory)/\(name)", reason: "index of a swapped segment, rebuilt")
        }
        for path in [SegmentFiles.offsetIndexPath(directory, base), SegmentFiles.timeIndexPath(directory, base)]
        where FileManager.default.fileExists(atPath: path) {
            try quarantine(path, reason: "index of a swapped segment, rebuilt")
        }
        _ = try IndexRebuild.rebuild(directory: directory, baseOffset: base, offsetLimit: nil, io: io)
    }

    // MARK: Names and manifest

    /// `<partition directory name>__<file name>`: unique per file inside one log directory.
    private func quarantineName(for file: String) -> String {
        let url = URL(fileURLWithPath: file)
        return url.deletingLastPathComponent().lastPathComponent + "__" + url.lastPathComponent
    }

    private func uniqueName(for file: String, suffix: String) -> String {
        let base = quarantineName(for: file) + suffix
        var name = base
        var counter = 1
        while FileManager.default.fileExists(atPath: "\(quarantineDirectory)/\(name)") {
            name = "\(base).\(counter)"
            counter += 1
        }
        return name
    }

    private func recordManifest(quarantined: String, source: String, position: Int, bytes: Int, reason: String) throws {
        let entry: [String: Any] = [
            "quarantined": quarantined, "source": source, "sourcePosition": position, "bytes": bytes, "reason": reason,
            "time": ISO8601DateFormatter().string(from: Date()),
        ]
        let line = String(decoding: try JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]), as: UTF8.self)
        try appendLine(line, to: "\(quarantineDirectory)/\(Self.manifestName)")
    }

    private func appendLine(_ line: String, to path: String) throws {
        let descriptor = try io.open(path, flags: O_WRONLY | O_CREAT | O_APPEND, mode: 0o644)
        defer { io.close(descriptor) }
        let size = try io.fileSize(descriptor, path: path)
        try Array((line + "\n").utf8).withUnsafeBytes { bytes in
            try io.pwritevAll(descriptor, [bytes], at: size, path: path)
        }
        try io.fsync(descriptor, path: path)
    }
}

func parentDirectoryPath(_ path: String) -> String { URL(fileURLWithPath: path).deletingLastPathComponent().path }
