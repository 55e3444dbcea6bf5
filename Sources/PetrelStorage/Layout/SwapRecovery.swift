#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a crash in the middle of a compaction swap left in a partition directory, and what
/// finishing or rolling it back takes, by Kafka's rules (`LogLoader.load`, kafka-storage §1.3):
/// the one decision shared by `Log.open` (which carries it out) and `petrel fsck` (which reports
/// it, and on repair moves what it would delete to quarantine instead).
///
/// - Every `.cleaned` file is output not yet complete: discarded. A `.swap` file at or above the
///   lowest `.cleaned` base offset belongs to a swap whose renames had not all happened (the log
///   file is renamed first): discarded too, which rolls the swap back — the old segments are all
///   still there.
/// - A remaining log `.swap` is a finished copy: the segment files (not `.swap`) whose base offset
///   lies in its offset range are the ones it replaces and are removed, then the `.swap` files are
///   renamed to their final names.
public struct SwapRecovery: Sendable, Equatable {
    /// Files (names in the directory) to discard: `.cleaned`, and `.swap` files of swaps rolled back.
    public var discarded: [String] = []
    /// Base offsets of the log `.swap` files to finish, ascending.
    public var swapBases: [Int64] = []

    /// The decision for a directory holding `names`.
    public init(names: [String]) {
        var cleanedBases: [Int64] = []
        var swaps: [(name: String, base: Int64)] = []
        for name in names {
            if name.hasSuffix(SegmentFiles.cleanedSuffix) {
                discarded.append(name)
                if let base = SegmentFiles.baseOffset(ofMarked: name, SegmentFiles.cleanedSuffix) { cleanedBases.append(base) }
            } else if name.hasSuffix(SegmentFiles.swapSuffix) {
                if let base = SegmentFiles.baseOffset(ofMarked: name, SegmentFiles.swapSuffix) { swaps.append((name, base)) }
                else { discarded.append(name) }
            }
        }
        let lowestCleaned = cleanedBases.min() ?? .max
        let logSwaps = Set(swaps.filter { $0.name.hasSuffix(SegmentFiles.logSuffix + SegmentFiles.swapSuffix) }.map(\.base))
        for swap in swaps {
            // An index `.swap` without its log `.swap` has nothing to finish.
            if swap.base >= lowestCleaned || !logSwaps.contains(swap.base) { discarded.append(swap.name) }
        }
        swapBases = logSwaps.filter { $0 < lowestCleaned }.sorted()
        discarded.sort()
    }

    /// The segment files among `names` that the log `.swap` at `base`, holding offsets up to
    /// (not including) `nextOffset`, replaces: `.log`, `.index`, `.timeindex` and `.txnindex`
    /// files whose base offset is in `[base, max(nextOffset, base + 1))`.
    public static func replacedFiles(names: [String], swapBase base: Int64, nextOffset: Int64) -> [String] {
        let range = base..<max(nextOffset, base + 1)
        return names.filter { name in
            SegmentFiles.segmentFileSuffixes.contains { suffix in SegmentFiles.baseOffset(ofFile: name, suffix: suffix).map(range.contains) ?? false }
        }.sorted()
    }

    /// The `.swap` files of the swap at `base` (log and indexes), as renames to their final names.
    public static func renames(names: [String], swapBase base: Int64) -> [(from: String, to: String)] {
        let prefix = SegmentFiles.prefix(base)
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(SegmentFiles.swapSuffix) && SegmentFiles.baseOffset(ofMarked: $0, SegmentFiles.swapSuffix) == base }
            .sorted()
            .map { ($0, String($0.dropLast(SegmentFiles.swapSuffix.count))) }
    }
}

extension Log {
    /// Carries out `SwapRecovery` in `directory` before the log's segments are listed: removes
    /// what it discards and what finished swaps replace, renames the `.swap` files, fsyncs the
    /// directory. Returns the names removed.
    static func recoverSwaps(directory: String, io: any FileIO) throws(StorageError) -> [String] {
        let names = try io.listDirectory(directory)
        let plan = SwapRecovery(names: names)
        guard !plan.discarded.isEmpty || !plan.swapBases.isEmpty else { return [] }
        var removed: [String] = []
        for name in plan.discarded {
            try io.unlink("\(directory)/\(name)")
            removed.append(name)
        }
        var current = try io.listDirectory(directory)
        for base in plan.swapBases {
            let next = try SwapRecovery.nextOffset(ofSwapLog: SegmentFiles.logPath(directory, base) + SegmentFiles.swapSuffix, base: base, io: io)
            for name in SwapRecovery.replacedFiles(names: current, swapBase: base, nextOffset: next) {
                try io.unlink("\(directory)/\(name)")
                removed.append(name)
            }
            for (from, to) in SwapRecovery.renames(names: current, swapBase: base) {
                try io.rename("\(directory)/\(from)", to: "\(directory)/\(to)")
            }
            current = try io.listDirectory(directory)
        }
        try io.fsyncDirectory(directory)
        return removed
    }
}

extension SwapRecovery {
    /// The offset after the last whole batch of a `.swap` log file (its first invalid byte ends
    /// it): with its base, the range of offsets the swap replaces.
    public static func nextOffset(ofSwapLog path: String, base: Int64, io: any FileIO = SystemFileIO()) throws(StorageError) -> Int64 {
        let descriptor = try io.open(path, flags: O_RDONLY, mode: 0)
        defer { io.close(descriptor) }
        let size = Int(try io.fileSize(descriptor, path: path))
        var batches = SegmentFileBatches(descriptor: descriptor, path: path, fileBytes: size, io: io, bufferBytes: 256 << 10)
        var next = base
        while true {
            do throws(StorageError) {
                guard try batches.next({ (batch, _) throws(StorageError) in next = batch.nextOffset }) else { return next }
            } catch {
                guard case .corrupt = error.code else { throw error }
                return next
            }
        }
    }
}
