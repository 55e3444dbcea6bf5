#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
internal import PetrelFormat

/// One segment of a partition log: a `.log` file of record batches starting at `baseOffset`,
/// with its sparse offset and time indexes.
///
/// The active segment is written by the log's single writer with `pwritev` and read through a
/// mapping reserved at `segment.bytes`; readers see only bytes below `publishedBytes`. A sealed
/// segment is opened lazily on first read (mapping and indexes), so opening a log costs the same
/// whatever its number of segments.
final class Segment: @unchecked Sendable {
    // Safe: the mutable fields are written by the log's single writer (append, seal) or with
    // readers excluded by the log's structure lock (truncate, recovery); readers use only
    // `publishedBytes` (atomic), the mapping below it, and the lazily opened handles (a lock);
    // `handle` is replaced only with readers excluded (truncate); leases keep their own.
    let baseOffset: Int64
    let directory: String
    let io: any FileIO
    let config: LogConfig
    let handleCache: SegmentHandleCache?
    /// Appended to every file name: empty for a segment of the log, `.cleaned` for the
    /// cleaner's output while it is written (`SegmentFiles.cleanedSuffix`).
    let fileSuffix: String
    /// Owner of the `.log` file's inode for leases (sendfile): replaced when a truncation has to
    /// copy the file because the old one is still leased.
    private(set) var handle: SegmentHandle

    private(set) var isActive: Bool
    private var descriptor: Int32 = -1
    private var activeMapping: FileMapping?
    private(set) var offsetIndex: OffsetIndex?
    private(set) var timeIndex: TimeIndex?
    private let sealedHandles = Locked<(mapping: FileMapping?, offsetIndex: OffsetIndex, timeIndex: TimeIndex)?>(nil)
    /// Indexes sealed (trimmed) but not yet fsynced: held here, not through `sealedHandles`, which
    /// the handle cache may drop before `syncSealed` runs.
    private var indexesAwaitingSync: [IndexFile] = []
    /// The largest timestamp of the published batches and the last offset of the first batch
    /// that has it (Kafka's `maxTimestampSoFar` and its offset), for lookups by timestamp; nil
    /// while unknown (a sealed segment whose time index was not read since start-up).
    private let publishedLargestTimestamp = Locked<(timestamp: Int64, offset: Int64)?>(nil)

    /// Bytes written so far (the writer's view).
    private(set) var sizeBytes: Int
    private let published = Atomic<Int>(0)
    /// Offset after the last batch of this segment. Atomic because readers (a lookup by
    /// timestamp choosing segments) read it while the writer advances it.
    private let nextOffsetValue: Atomic<Int64>
    var nextOffset: Int64 {
        get { nextOffsetValue.load(ordering: .acquiring) }
        set { nextOffsetValue.store(newValue, ordering: .releasing) }
    }
    private(set) var maxTimestamp: Int64 = -1
    private(set) var offsetOfMaxTimestamp: Int64 = -1
    private var bytesSinceLastIndexEntry = 0
    /// When the segment got its first batch (wall clock), for `segment.ms`.
    private(set) var firstAppendTimeMs: Int64?

    var logPath: String { SegmentFiles.logPath(directory, baseOffset) + fileSuffix }
    var offsetIndexPath: String { SegmentFiles.offsetIndexPath(directory, baseOffset) + fileSuffix }
    var timeIndexPath: String { SegmentFiles.timeIndexPath(directory, baseOffset) + fileSuffix }
    var publishedBytes: Int { published.load(ordering: .acquiring) }

    /// Creates a new, empty active segment.
    static func create(directory: String, baseOffset: Int64, config: LogConfig, io: any FileIO,
                       handleCache: SegmentHandleCache?, fileSuffix: String = "") throws(StorageError) -> Segment {
        let segment = Segment(directory: directory, baseOffset: baseOffset, sizeBytes: 0, nextOffset: baseOffset,
                              active: true, config: config, io: io, handleCache: handleCache, fileSuffix: fileSuffix)
        try segment.openForAppend(truncatingIndexes: true)
        return segment
    }

    /// A segment already on disk, sealed; its files are opened on first use.
    static func existing(directory: String, baseOffset: Int64, sizeBytes: Int, nextOffset: Int64,
                         config: LogConfig, io: any FileIO, handleCache: SegmentHandleCache?) -> Segment {
        Segment(directory: directory, baseOffset: baseOffset, sizeBytes: sizeBytes, nextOffset: nextOffset,
                active: false, config: config, io: io, handleCache: handleCache)
    }

    private init(directory: String, baseOffset: Int64, sizeBytes: Int, nextOffset: Int64, active: Bool, config: LogConfig,
                 io: any FileIO, handleCache: SegmentHandleCache?, fileSuffix: String = "") {
        self.handleCache = handleCache
        self.fileSuffix = fileSuffix
        self.directory = directory
        self.baseOffset = baseOffset
        self.sizeBytes = sizeBytes
        self.nextOffsetValue = Atomic(nextOffset)
        self.isActive = active
        self.config = config
        self.io = io
        handle = SegmentHandle(path: SegmentFiles.logPath(directory, baseOffset) + fileSuffix, io: io)
        published.store(sizeBytes, ordering: .releasing)
    }

    deinit { if descriptor >= 0 { io.close(descriptor) } }

    /// Opens the files for appending: the log read-write with a mapping reserved up to
    /// `segment.bytes`, indexes preallocated. With `truncatingIndexes`, existing index files are
    /// emptied (they are rebuilt from the log).
    func openForAppend(truncatingIndexes: Bool) throws(StorageError) {
        descriptor = try io.open(logPath, flags: O_RDWR | O_CREAT, mode: 0o644)
        if truncatingIndexes {
            for path in [offsetIndexPath, timeIndexPath] where io.exists(path) { try io.unlink(path) }
        }
        let reserve = (max(config.segmentBytes, sizeBytes) + 4095) & ~4095
        activeMapping = try FileMapping(descriptor: descriptor, length: reserve, writable: false, path: logPath, io: io)
        offsetIndex = try OffsetIndex(path: offsetIndexPath, baseOffset: baseOffset, bytesMax: config.segmentIndexBytes, writable: true, io: io)
        timeIndex = try TimeIndex(path: timeIndexPath, baseOffset: baseOffset, bytesMax: config.segmentIndexBytes, writable: true, io: io)
        if let last = timeIndex?.last { (maxTimestamp, offsetOfMaxTimestamp) = last }
        isActive = true
    }

    // MARK: Reading

    /// Calls `body` with the segment's published bytes and its offset index (opening a sealed
    /// segment's files on first use). Callers hold the log's structure read lock.
    func withReadableBytes<R>(_ body: (UnsafeRawBufferPointer, OffsetIndex?) throws(StorageError) -> R) throws(StorageError) -> R {
        let limit = publishedBytes
        if isActive, let mapping = activeMapping {
            return try withExtendedLifetime(mapping) { () throws(StorageError) -> R in
                try body(mapping.bytes(from: 0, count: limit), offsetIndex)
            }
        }
        let handles = try openSealed()
        handleCache?.touch(self)
        guard let mapping = handles.mapping else { return try body(UnsafeRawBufferPointer(start: nil, count: 0), handles.offsetIndex) }
        // The body gets raw pointers into the mapping, which Swift does not count as a use: the
        // mapping's last use would otherwise be computing them, and a concurrent eviction from the
        // handle cache could drop the last reference and unmap it while `body` reads.
        return try withExtendedLifetime(mapping) { () throws(StorageError) -> R in
            try body(mapping.bytes(from: 0, count: min(limit, mapping.length)), handles.offsetIndex)
        }
    }

    /// The time index (opening a sealed segment's files on first use).
    func readableTimeIndex() throws(StorageError) -> TimeIndex {
        if isActive, let timeIndex { return timeIndex }
        let handles = try openSealed()
        handleCache?.touch(self)
        return handles.timeIndex
    }

    /// The max timestamp of the segment's first batch, or nil when it has none (KIP-354's
    /// reference for `max.compaction.lag.ms`). Callers hold the log's structure read lock.
    func firstBatchTimestamp() throws(StorageError) -> Int64? {
        try withReadableBytes { bytes, _ in BatchHeader(in: bytes, at: 0)?.maxTimestamp }
    }

    /// The largest timestamp among the published batches (-1 when none has one) and the last
    /// offset of the first batch that has it, known without I/O when `knownLargestTimestamp` is
    /// set, else read from the time index's last entry.
    func largestTimestamp() throws(StorageError) -> (timestamp: Int64, offset: Int64) {
        if let known = knownLargestTimestamp { return known }
        let last = try readableTimeIndex().last ?? (-1, -1)
        noteLargestTimestamp(last)
        return last
    }

    var knownLargestTimestamp: (timestamp: Int64, offset: Int64)? { publishedLargestTimestamp.withLock { $0 } }

    /// Records a sealed segment's largest timestamp found elsewhere (its time index's last entry).
    func noteLargestTimestamp(_ largest: (timestamp: Int64, offset: Int64)) {
        publishedLargestTimestamp.withLock { if $0 == nil { $0 = largest } }
    }

    private func openSealed() throws(StorageError) -> (mapping: FileMapping?, offsetIndex: OffsetIndex, timeIndex: TimeIndex) {
        try sealedHandles.withLock { (handles) throws(StorageError) in
            if let handles { return handles }
            let descriptor = try io.open(logPath, flags: O_RDONLY, mode: 0)
            defer { io.close(descriptor) }
            let mapping = sizeBytes > 0
                ? try FileMapping(descriptor: descriptor, length: sizeBytes, writable: false, path: logPath, io: io) : nil
            let offsetIndex = try OffsetIndex(path: offsetIndexPath, baseOffset: baseOffset, bytesMax: config.segmentIndexBytes, writable: false, io: io)
            let timeIndex = try TimeIndex(path: timeIndexPath, baseOffset: baseOffset, bytesMax: config.segmentIndexBytes, writable: false, io: io)
            let opened = (mapping, offsetIndex, timeIndex)
            handles = opened
            noteLargestTimestamp(timeIndex.last ?? (-1, -1))
            return opened
        }
    }

    /// Why this segment's index files, written earlier, cannot be trusted, or nil: a size that
    /// is not a whole number of entries, or a last entry out of place (offset outside the
    /// segment, position outside the log, not after the entry before it, zero padding). A power
    /// loss before a trim was durable leaves an index at its preallocated size, padded with
    /// zero entries; used as is, lookups and retention would read the padding as entries.
    /// Reads two entries of each file, no mapping. `nextOffset` bounds the offsets (`.max` when
    /// unknown); the largest timestamp found is kept for lookups by timestamp.
    func indexProblem(nextOffset end: Int64) throws(StorageError) -> String? {
        let offsets = try IndexFile.tail(path: offsetIndexPath, entryBytes: OffsetIndex.entryBytes, io: io)
        guard offsets.sizeBytes % OffsetIndex.entryBytes == 0 else {
            return "offset index of \(offsets.sizeBytes) bytes is not a whole number of \(OffsetIndex.entryBytes)-byte entries"
        }
        let lastRelative = end == .max ? Int64(Int32.max) : end - 1 - baseOffset
        let offsetEntries = offsets.entries.map { entry in entry.withUnsafeBytes { OffsetIndexEntry.decode($0.baseAddress!) } }
        if let last = offsetEntries.last {
            // Entries pair a batch's last offset with its start, never the first batch's: both > 0.
            guard last.0 > 0, Int64(last.0) <= lastRelative, last.1 > 0, Int(last.1) < sizeBytes else {
                return "offset index's last entry (relative offset \(last.0), position \(last.1)) is outside the segment"
            }
            if offsetEntries.count == 2, !(offsetEntries[0].0 < last.0 && offsetEntries[0].1 < last.1) {
                return "offset index's last entry does not follow the one before it"
            }
        }
        let times = try IndexFile.tail(path: timeIndexPath, entryBytes: TimeIndex.entryBytes, io: io)
        guard times.sizeBytes % TimeIndex.entryBytes == 0 else {
            return "time index of \(times.sizeBytes) bytes is not a whole number of \(TimeIndex.entryBytes)-byte entries"
        }
        let timeEntries = times.entries.map { entry in entry.withUnsafeBytes { TimeIndexEntry.decode($0.baseAddress!) } }
        if let last = timeEntries.last {
            guard last.0 >= 0, last.1 >= 0, Int64(last.1) <= lastRelative else {
                return "time index's last entry (timestamp \(last.0), relative offset \(last.1)) is outside the segment"
            }
            if timeEntries.count == 2, !(timeEntries[0].0 < last.0 && timeEntries[0].1 <= last.1) {
                return "time index's last entry does not follow the one before it"
            }
        }
        if !isActive {
            noteLargestTimestamp(timeEntries.last.map { ($0.0, baseOffset + Int64($0.1)) } ?? (-1, -1))
        }
        return nil
    }

    /// Drops a sealed segment's mapping and index handles (they reopen on next use). Readers in
    /// progress keep their own references, so this never unmaps bytes under them.
    func releaseSealedHandles() { sealedHandles.withLock { $0 = nil } }

    /// Position of the batch holding `offset` (or the first batch after it), scanning batch
    /// headers forward from the offset index's hint. Nil when no batch at or after it exists.
    static func findBatch(holding offset: Int64, in bytes: UnsafeRawBufferPointer, index: OffsetIndex?) -> BatchHeader? {
        var position = index?.lookup(offset).position ?? 0
        while let header = BatchHeader(in: bytes, at: position) {
            if header.lastOffset >= offset { return header }
            position = header.endPosition
        }
        return nil
    }

    // MARK: Writing (the log's writer only)

    /// Whether a batch of `incomingBytes` ending at `incomingLastOffset` needs a new segment,
    /// given `pendingBytes` already bound for this segment but not yet written.
    func shouldRoll(pendingBytes: Int, incomingBytes: Int, incomingLastOffset: Int64, nowMs: Int64) -> Bool {
        let currentBytes = sizeBytes + pendingBytes
        guard currentBytes > 0 else { return false }
        if currentBytes > config.segmentBytes - incomingBytes { return true }
        if let first = firstAppendTimeMs, nowMs - first > config.segmentMs { return true }
        if offsetIndex?.file.isFull ?? false || timeIndex?.isFull ?? false { return true }
        return incomingLastOffset - baseOffset > Int64(Int32.max)
    }

    /// Writes batches (already assigned their offsets) at the end of the segment and adds index
    /// entries. Not yet visible to readers: see `publishWritten()`. On a failed write the file is
    /// cut back, so a retry starts from a clean end.
    func append(_ batches: [BatchToWrite], nowMs: Int64) throws(StorageError) {
        precondition(isActive && descriptor >= 0, "append to a sealed segment")
        let start = sizeBytes
        precondition(start + batches.reduce(0) { $0 + $1.sizeBytes } <= activeMapping!.length, "a segment outgrew its mapping: the roll rules were not applied")
        // Disk blocks for the index entries these batches may add, before any byte is written: on
        // a full disk the append fails here, cleanly, instead of faulting in a mapped store.
        try reserveIndexEntries(batches.count)
        do throws(StorageError) {
            try io.pwritevAll(descriptor, batches.flatMap { [$0.baseOffsetField, $0.rest] }, at: Int64(start), path: logPath)
        } catch {
            try io.ftruncate(descriptor, length: Int64(start), path: logPath)
            throw error
        }
        var position = start
        for batch in batches {
            noteBatch(position: position, sizeBytes: batch.sizeBytes, lastOffset: batch.lastOffset, maxTimestamp: batch.maxTimestamp)
            position += batch.sizeBytes
        }
        if firstAppendTimeMs == nil { firstAppendTimeMs = nowMs }
        sizeBytes = position
    }

    /// Reserves index space for `batches` more batches (at most one entry each, plus the time
    /// index's final entry).
    private func reserveIndexEntries(_ batches: Int) throws(StorageError) {
        try offsetIndex!.file.reserve(entries: batches)
        try timeIndex!.file.reserve(entries: batches + 1)
    }

    /// Index bookkeeping for a batch written (or found by recovery) at `position`: an offset and
    /// a time index entry once more than `index.interval.bytes` were written since the last
    /// one, pairing the batch's last offset with its start position, as Kafka does.
    private func noteBatch(position: Int, sizeBytes: Int, lastOffset: Int64, maxTimestamp batchMaxTimestamp: Int64) {
        // A full index only gets sparser here; the next roll check starts a new segment.
        if bytesSinceLastIndexEntry > config.indexIntervalBytes && !offsetIndex!.file.isFull && !timeIndex!.isFull {
            offsetIndex!.append(offset: lastOffset, position: position)
            timeIndex!.maybeAppend(timestamp: maxTimestamp, offset: offsetOfMaxTimestamp)
            bytesSinceLastIndexEntry = 0
        }
        if batchMaxTimestamp > maxTimestamp {
            maxTimestamp = batchMaxTimestamp
            offsetOfMaxTimestamp = lastOffset
        }
        bytesSinceLastIndexEntry += sizeBytes
        nextOffset = lastOffset + 1
    }

    /// The log file's size, with the read mapping grown to cover it if the file is larger than
    /// the reservation (written under a larger `segment.bytes`).
    private func mapWholeFile() throws(StorageError) -> Int {
        let fileBytes = Int(try io.fileSize(descriptor, path: logPath))
        if fileBytes > activeMapping!.length {
            activeMapping = try FileMapping(descriptor: descriptor, length: fileBytes, writable: false, path: logPath, io: io)
        }
        return fileBytes
    }

    /// What recovering a segment found.
    struct RecoveryScan {
        /// Bytes at the start of the file that hold valid batches.
        let validBytes: Int
        let fileBytes: Int
        /// Why the scan stopped before the end of the file, if it did.
        let problem: String?
    }

    /// Rebuilds the segment's state and indexes from its log file: each batch is validated
    /// (CRC32C, structure, offsets increasing, inside this segment and below `offsetLimit`) up to
    /// the first invalid one. The segment is left open for appending; the caller cuts the file.
    func recover(offsetLimit: Int64?) throws(StorageError) -> RecoveryScan {
        try openForAppend(truncatingIndexes: true)
        let fileBytes = try mapWholeFile()
        sizeBytes = 0
        nextOffset = baseOffset
        maxTimestamp = -1
        offsetOfMaxTimestamp = -1
        bytesSinceLastIndexEntry = 0
        let bytes = activeMapping!.bytes(from: 0, count: fileBytes)
        let mappedBytes = (fileBytes + 4095) & ~4095
        if fileBytes > 0 { io.advise(activeMapping!.base, length: mappedBytes, .sequential) }
        // Ask for the file ahead of the scan in large windows, so that a cold scan reads the disk
        // in big requests rather than one readahead window per page fault.
        let windowBytes = 8 << 20
        var advisedUpTo = 0
        var walker = SegmentBatchWalker(bytes, baseOffset: baseOffset, minimumFirstOffset: baseOffset, offsetLimit: offsetLimit)
        while true {
            let position = walker.position
            if position + windowBytes > advisedUpTo && advisedUpTo < mappedBytes {
                let length = min(2 * windowBytes, mappedBytes - advisedUpTo)
                io.advise(activeMapping!.base + advisedUpTo, length: length, .willNeed)
                advisedUpTo += length
            }
            guard let batch = walker.next() else { break }
            try reserveIndexEntries(1)
            noteBatch(position: position, sizeBytes: batch.sizeBytes, lastOffset: batch.lastOffset, maxTimestamp: batch.maxTimestamp)
            sizeBytes = position + batch.sizeBytes
        }
        let problem = walker.stop.map { "at byte \($0.position): \($0.reason)" }
        publishWritten()
        return RecoveryScan(validBytes: sizeBytes, fileBytes: fileBytes, problem: problem)
    }

    /// Moves the bytes after `validBytes` into a quarantine file next to the segment
    /// (`<base>.log.<position>.quarantined`, fsynced), then cuts the log there. Never drops a byte.
    func quarantineTail(from position: Int, fileBytes: Int) throws(StorageError) -> String {
        precondition(position <= fileBytes && descriptor >= 0, "quarantine outside the file")
        let path = SegmentFiles.quarantinePath(logPath: logPath, position: position)
        let output = try io.open(path, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        defer { io.close(output) }
        try copyLogBytes(from: descriptor, position..<fileBytes, to: output, path: path)
        try io.fsync(output, path: path)
        try io.fsyncDirectory(directory)
        try io.ftruncate(descriptor, length: Int64(position), path: logPath)
        try io.fdatasync(descriptor, path: logPath)
        return path
    }

    /// Copies bytes `range` of the log (read through `source`) to the start of `output`, in
    /// 1 MiB steps.
    private func copyLogBytes(from source: Int32, _ range: Range<Int>, to output: Int32, path: String) throws(StorageError) {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var at = range.lowerBound
        while at < range.upperBound {
            let count = min(chunk.count, range.upperBound - at)
            try chunk.withMutableBytes { (buffer) throws(StorageError) in
                let part = UnsafeMutableRawBufferPointer(rebasing: buffer[..<count])
                try io.preadAll(source, into: part, at: Int64(at), path: logPath)
                try io.pwritevAll(output, [UnsafeRawBufferPointer(part)], at: Int64(at - range.lowerBound), path: path)
            }
            at += count
        }
    }

    /// State of a segment reopened as the active one after a clean shutdown: its end is found
    /// from the last offset index entry by scanning batch headers (no CRC: the data was trusted
    /// at shutdown).
    func resumeAfterCleanShutdown() throws(StorageError) {
        try openForAppend(truncatingIndexes: false)
        let fileBytes = try mapWholeFile()
        let bytes = activeMapping!.bytes(from: 0, count: fileBytes)
        // Start at the last indexed batch (or the start): the scan sets the end offset.
        let hintPosition = offsetIndex!.file.count > 0 ? offsetIndex!.entry(offsetIndex!.file.count - 1).position : 0
        var position = hintPosition
        nextOffset = baseOffset
        while let header = BatchHeader(in: bytes, at: position) {
            nextOffset = header.nextOffset
            if header.maxTimestamp > maxTimestamp {
                maxTimestamp = header.maxTimestamp
                offsetOfMaxTimestamp = header.lastOffset
            }
            position = header.endPosition
        }
        guard position == fileBytes else {
            throw StorageError(.corrupt(reason: "the active segment does not end on a batch boundary after a clean shutdown"),
                               path: logPath, position: Int64(position))
        }
        sizeBytes = fileBytes
        bytesSinceLastIndexEntry = fileBytes - hintPosition
        publishWritten()
    }

    /// Makes every written byte visible to readers, with the largest timestamp they hold. The
    /// bytes are stored first: a reader that reads the largest timestamp, then the published
    /// bytes, always finds the batch holding it.
    func publishWritten() {
        published.store(sizeBytes, ordering: .releasing)
        publishedLargestTimestamp.withLock { $0 = (maxTimestamp, offsetOfMaxTimestamp) }
    }

    /// fsyncs the log file. Index files are not synced here: recovery rebuilds the indexes of
    /// every segment past the recovery point from the log, so their durability does not decide
    /// what survives a crash (they are synced when sealed and at close).
    func flush() throws(StorageError) {
        guard descriptor >= 0 else { return }
        try io.fdatasync(descriptor, path: logPath)
    }

    /// Turns the active segment into a sealed one: final time-index entry, indexes trimmed to
    /// their entries. The caller then fsyncs it with `syncSealed` (off the hot path unless
    /// acknowledging needs it), which also makes the trims durable.
    func seal() throws(StorageError) {
        guard isActive else { return }
        try sealIndexes()
        indexesAwaitingSync = [offsetIndex!.file, timeIndex!.file]
        isActive = false
        sealedHandles.withLock { $0 = (activeMapping, offsetIndex!, timeIndex!) }
        activeMapping = nil
        offsetIndex = nil
        timeIndex = nil
        handleCache?.touch(self)
    }

    /// The final time-index entry (so a reopened segment knows its largest timestamp without a
    /// scan, as in Kafka), then both indexes trimmed to their entries.
    private func sealIndexes() throws(StorageError) {
        if maxTimestamp >= 0, let timeIndex {
            try timeIndex.file.reserve(entries: 1)
            timeIndex.maybeAppend(timestamp: maxTimestamp, offset: offsetOfMaxTimestamp, final: true)
        }
        try offsetIndex?.file.seal()
        try timeIndex?.file.seal()
    }

    /// fsyncs a sealed segment's log and its trimmed indexes, and closes their descriptors.
    /// What survives a power loss after this returns is exactly the sealed segment, which is what
    /// lets the recovery point move past it.
    func syncSealed() throws(StorageError) {
        if descriptor >= 0 {
            try io.fdatasync(descriptor, path: logPath)
            io.close(descriptor)
            descriptor = -1
        }
        while let index = indexesAwaitingSync.first {
            try index.syncAndClose()
            indexesAwaitingSync.removeFirst()
        }
    }

    /// Cuts the segment so it ends before `offset` (at the start of the batch holding it).
    /// The caller excludes readers and the writer.
    func truncate(removingFrom offset: Int64) throws(StorageError) {
        let cut: Int = try withReadableBytes { bytes, index in
            Segment.findBatch(holding: offset, in: bytes, index: index)?.position ?? bytes.count
        }
        let headers: [BatchHeader] = try withReadableBytes { bytes, _ in
            var list: [BatchHeader] = []
            var position = 0
            while position < cut, let header = BatchHeader(in: bytes, at: position) {
                list.append(header)
                position = header.endPosition
            }
            return list
        }
        if handle.leaseCount > 0 && cut < sizeBytes {
            try replaceLeasedFile(keepingBytes: cut)
        } else {
            if !isActive { try openForAppend(truncatingIndexes: false) }
            try io.ftruncate(descriptor, length: Int64(cut), path: logPath)
        }
        sizeBytes = cut
        let newNext = headers.last?.nextOffset ?? baseOffset
        offsetIndex?.truncate(removingFrom: newNext)
        timeIndex?.truncate(removingFrom: newNext)
        nextOffset = newNext
        maxTimestamp = -1
        offsetOfMaxTimestamp = -1
        for header in headers where header.maxTimestamp > maxTimestamp {
            maxTimestamp = header.maxTimestamp
            offsetOfMaxTimestamp = header.lastOffset
        }
        bytesSinceLastIndexEntry = 0
        publishWritten()
        sealedHandles.withLock { $0 = nil }
    }

    /// Cuts a leased `.log` without touching the leased inode: its first `count` bytes are
    /// copied to `<name>.cleaned` (fsynced), which is renamed over the log (directory fsynced),
    /// and the segment reopens the new file for appending. The old inode lives on, whole, until
    /// the last lease closes its descriptor; nothing is left to unlink. A crash before the
    /// rename leaves the uncut log and a `.cleaned` leftover that start-up removes. Costs a copy
    /// of the prefix, paid only when a truncation meets a sender (replication truncations are
    /// rare, short suffixes of the active segment).
    private func replaceLeasedFile(keepingBytes count: Int) throws(StorageError) {
        let copyPath = logPath + SegmentFiles.cleanedSuffix
        let source = try io.open(logPath, flags: O_RDONLY, mode: 0)
        defer { io.close(source) }
        let output = try io.open(copyPath, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
        do throws(StorageError) {
            try copyLogBytes(from: source, 0..<count, to: output, path: copyPath)
            try io.fsync(output, path: copyPath)
        } catch {
            io.close(output)
            // The partial copy is only ever a `.cleaned` leftover: if it cannot be removed now,
            // start-up removes it.
            do { try io.unlink(copyPath) } catch {}
            throw error
        }
        io.close(output)
        try io.rename(copyPath, to: logPath)
        // From here the name is the copy's: the segment reopens it before anything else can
        // fail (a failure still leaves the log to be taken offline by its caller).
        try handle.retire(unlinking: [])
        handle = SegmentHandle(path: logPath, io: io)
        if descriptor >= 0 {
            io.close(descriptor)
            descriptor = -1
        }
        if isActive, let reserved = activeMapping?.length {
            // The indexes stay as they are (the caller truncates them): reopening a preallocated
            // index would take its padding for entries. Only the log is a new file.
            activeMapping = nil
            descriptor = try io.open(logPath, flags: O_RDWR, mode: 0)
            activeMapping = try FileMapping(descriptor: descriptor, length: reserved, writable: false, path: logPath, io: io)
        } else {
            try openForAppend(truncatingIndexes: false)
        }
        try io.fsyncDirectory(directory)
    }

    /// A lease on bytes `position..<position + count` of the `.log`, for a sender. Called with
    /// the log's structure read lock held.
    func lease(position: Int, count: Int) throws(StorageError) -> SegmentLease {
        try SegmentLease(handle: handle, position: Int64(position), count: count, segmentBaseOffset: baseOffset)
    }

    /// Removes the files of segment `baseOffset` that exist (a segment half created by a failed roll).
    static func removeFiles(directory: String, baseOffset: Int64, io: any FileIO, fileSuffix: String = "") throws(StorageError) {
        var removed = false
        for path in SegmentFiles.files(directory, baseOffset, marker: fileSuffix) where io.exists(path) {
            try io.unlink(path)
            removed = true
        }
        if removed { try io.fsyncDirectory(directory) }
    }

    /// Removes the segment's files, as Kafka does: each is renamed `<name>.deleted` first (so a
    /// crash leaves names start-up removes, never a segment half gone), then unlinked — at once
    /// when no lease holds the log, else when the last lease is released. Mappings held by
    /// readers stay valid until they let go. The caller fsyncs the directory.
    func deleteFiles() throws(StorageError) {
        if descriptor >= 0 {
            io.close(descriptor)
            descriptor = -1
        }
        var doomed: [String] = []
        for path in [logPath, offsetIndexPath, timeIndexPath] where io.exists(path) {
            let deleted = path + SegmentFiles.deletedSuffix
            try io.rename(path, to: deleted)
            doomed.append(deleted)
        }
        sealedHandles.withLock { $0 = nil }
        handleCache?.forget(self)
        try handle.retire(unlinking: doomed)
    }

    /// Closes the segment's files; the active one's indexes are sealed and fsynced first, before
    /// the clean-shutdown marker (written after every log is closed) vouches for them.
    func closeFiles() throws(StorageError) {
        if isActive {
            try sealIndexes()
            try offsetIndex?.file.syncAndClose()
            try timeIndex?.file.syncAndClose()
        }
        try syncSealed()
        if descriptor >= 0 {
            io.close(descriptor)
            descriptor = -1
        }
    }
}

/// A batch ready to be written, without a copy: its first 8 bytes (the base offset the log
/// assigned) come from a small buffer the log owns, the rest straight from the appender's
/// memory, which stays valid because the appender waits until its batches are written.
struct BatchToWrite {
    let baseOffsetField: UnsafeRawBufferPointer
    let rest: UnsafeRawBufferPointer
    let firstOffset: Int64
    let lastOffset: Int64
    let maxTimestamp: Int64

    var sizeBytes: Int { baseOffsetField.count + rest.count }
}

/// Heap bytes with a stable address, freed with the object: the base-offset fields of a
/// pending append.
final class OwnedBytes: @unchecked Sendable {
    // Safe: written only by the appender that creates it, before sharing; read-only afterwards.
    let buffer: UnsafeMutableRawBufferPointer

    init(byteCount: Int) {
        buffer = .allocate(byteCount: max(byteCount, 1), alignment: 16)
    }

    deinit { buffer.deallocate() }
}
