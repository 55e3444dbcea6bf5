import Foundation
import PetrelFormat
import PetrelStorage

/// What walking one segment found.
struct SegmentScan {
    var firstOffset: Int64?
    /// The offset after the last valid batch (the segment's base when it has none).
    var nextOffset: Int64
    var fileBytes: Int
    /// Where the log must be cut (the first invalid batch), if anywhere.
    var cutAt: Int?
    var needsIndexRebuild = false
}

extension LogDirectoryChecker {
    /// Walks the segment's batches (magic, length, CRC32C, counts, offset order, timestamps)
    /// and checks its offset and time index against them in the same pass.
    func scanSegment(_ directory: String, base: Int64, isLast: Bool, into result: inout FsckResult) -> SegmentScan? {
        let logFile = SegmentFiles.logPath(directory, base)
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: logFile), options: .alwaysMapped) else {
            result.findings.append(Finding(.error, .unreadable, file: logFile, message: "cannot read the segment", repair: nil))
            return nil
        }
        var scan = SegmentScan(firstOffset: nil, nextOffset: base, fileBytes: data.count)
        var offsetIndex = IndexCursor(file: SegmentFiles.offsetIndexPath(directory, base), entryBytes: OffsetIndexEntry.bytes, base: base, kind: .offset)
        var timeIndex = IndexCursor(file: SegmentFiles.timeIndexPath(directory, base), entryBytes: TimeIndexEntry.bytes, base: base, kind: .time)
        for cursor in [offsetIndex, timeIndex] {
            if let problem = cursor.fileProblem {
                result.findings.append(problem)
                scan.needsIndexRebuild = true
            }
        }
        var warnedTimestamps = false
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            func reportStop(_ reason: SegmentBatchWalker.Stop, at position: Int) {
                let tail = UnsafeRawBufferPointer(rebasing: bytes[position...])
                let kind: Finding.Kind
                switch reason {
                case .invalidBatch: kind = tail.allSatisfy { $0 == 0 } ? .zeroFilledTail : .invalidBatch
                default: kind = .offsetsOutOfOrder
                }
                let zeros = kind == .zeroFilledTail
                result.findings.append(Finding(.error, kind, file: logFile, position: position, offset: scan.nextOffset,
                                               message: zeros ? "\(tail.count) zero bytes after the last batch" : "\(reason) (\(tail.count) bytes from here)",
                                               repair: "cut the segment at byte \(position); the \(tail.count) bytes go to quarantine"))
                scan.cutAt = position
            }
            var walker = SegmentBatchWalker(bytes, baseOffset: base, minimumFirstOffset: nil, offsetLimit: nil)
            var maxTimestamp = Int64.min
            while true {
                let position = walker.position
                guard let batch = walker.next() else {
                    if let stop = walker.stop { reportStop(stop.reason, at: stop.position) }
                    break
                }
                if scan.firstOffset == nil { scan.firstOffset = batch.baseOffset }
                if !warnedTimestamps, batch.timestampType == .createTime, !batch.hasDeleteHorizon, batch.recordsCount > 0,
                   batch.maxTimestamp < batch.baseTimestamp {
                    warnedTimestamps = true
                    result.findings.append(Finding(.warning, .timestampOrder, file: logFile, position: position, offset: batch.baseOffset,
                                                   message: "maxTimestamp \(batch.maxTimestamp) is below baseTimestamp \(batch.baseTimestamp)",
                                                   repair: nil))
                }
                maxTimestamp = max(maxTimestamp, batch.maxTimestamp)
                offsetIndex.advance(toBatchAt: position, baseOffset: batch.baseOffset, lastOffset: batch.lastOffset, maxTimestamp: maxTimestamp)
                timeIndex.advance(toBatchAt: position, baseOffset: batch.baseOffset, lastOffset: batch.lastOffset, maxTimestamp: maxTimestamp)
                scan.nextOffset = batch.nextOffset
            }
            let validEnd = scan.cutAt ?? bytes.count
            offsetIndex.finish(validEnd: validEnd, nextOffset: scan.nextOffset)
            timeIndex.finish(validEnd: validEnd, nextOffset: scan.nextOffset)
        }
        if let cut = scan.cutAt {
            result.actions.append(.cutFile(file: logFile, position: cut, reason: "first invalid batch of the segment"))
            scan.needsIndexRebuild = true
        }
        for cursor in [offsetIndex, timeIndex] {
            if let problem = cursor.entryProblem {
                var finding = problem
                if cursor.problemCount > 1 { finding.message += " (\(cursor.problemCount) entries in all)" }
                if finding.severity == .warning && !isLast { finding.severity = .error }
                result.findings.append(finding)
                scan.needsIndexRebuild = true
            }
        }
        checkTransactionIndex(SegmentFiles.transactionIndexPath(directory, base), base: base, next: scan.nextOffset, into: &result)
        return scan
    }

    func checkTransactionIndex(_ file: String, base: Int64, next: Int64, into result: inout FsckResult) {
        guard let data = FileManager.default.contents(atPath: file) else { return }
        func problem(_ position: Int, _ message: String) {
            result.findings.append(Finding(.error, .transactionIndexInvalid, file: file, position: position, message: message, repair: nil))
        }
        let size = TransactionIndexEntry.bytes
        guard data.count % size == 0 else { return problem(data.count - data.count % size, "length \(data.count) is not a multiple of \(size)") }
        var previousLast = Int64.min
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            for position in stride(from: 0, to: bytes.count, by: size) {
                let entry = TransactionIndexEntry(decoding: bytes.baseAddress! + position)
                let version = entry.version, first = entry.firstOffset, last = entry.lastOffset
                if version != 0 { return problem(position, "entry version \(version), expected 0") }
                if first > last || last < base || last >= next || last <= previousLast {
                    return problem(position, "aborted transaction \(first)...\(last) is out of order or outside the segment [\(base), \(next))")
                }
                previousLast = last
            }
        }
    }

    func checkProducerSnapshot(_ file: String, into result: inout FsckResult) {
        guard let data = FileManager.default.contents(atPath: file) else { return }
        if let problem = ProducerSnapshotFile.problem(in: Array(data)) {
            result.findings.append(Finding(.error, .producerSnapshotInvalid, file: file, message: problem,
                                           repair: "move it to quarantine (producer state is rebuilt from the log)"))
            result.actions.append(.quarantineFile(file: file, reason: "invalid producer snapshot"))
        }
    }
}

/// Walks an index file's entries alongside the batches of its segment, recording the first
/// entry that does not agree with the log.
struct IndexCursor {
    enum Kind { case offset, time }
    let file: String
    let entryBytes: Int
    let base: Int64
    let kind: Kind
    private var data: Data?
    private var next = 0
    private var previousKey = Int64.min
    private var previousOffset = Int64.min
    private(set) var fileProblem: Finding?
    private(set) var entryProblem: Finding?
    private(set) var problemCount = 0

    init(file: String, entryBytes: Int, base: Int64, kind: Kind) {
        self.file = file
        self.entryBytes = entryBytes
        self.base = base
        self.kind = kind
        data = FileManager.default.contents(atPath: file)
        if data == nil {
            fileProblem = Finding(.error, .missingIndex, file: file, message: "the \(kind == .offset ? "offset" : "time") index is missing",
                                  repair: "rebuild it from the log")
        } else if data!.count % entryBytes != 0 {
            fileProblem = Finding(.error, .truncatedIndex, file: file, position: data!.count - data!.count % entryBytes,
                                  message: "length \(data!.count) is not a multiple of \(entryBytes)", repair: "rebuild it from the log")
            data = nil
        }
    }

    private var count: Int { (data?.count ?? 0) / entryBytes }

    /// (relative offset or timestamp, position or offset) of entry `index`.
    private func entry(_ index: Int) -> (key: Int64, value: Int64) {
        data!.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> (key: Int64, value: Int64) in
            let entry = bytes.baseAddress! + index * entryBytes
            switch kind {
            case .offset:
                let (relativeOffset, position) = OffsetIndexEntry.decode(entry)
                return (base + Int64(relativeOffset), Int64(position))
            case .time:
                let (timestamp, relativeOffset) = TimeIndexEntry.decode(entry)
                return (timestamp, base + Int64(relativeOffset))
            }
        }
    }

    private mutating func report(_ kind: Finding.Kind, _ index: Int, _ message: String, severity: Finding.Severity = .error, offset: Int64? = nil) {
        problemCount += 1
        if entryProblem == nil {
            entryProblem = Finding(severity, kind, file: file, position: index * entryBytes, offset: offset,
                                   message: message, repair: "rebuild the index from the log")
        }
    }

    /// Checks the entries that belong at or before the batch at `position`.
    mutating func advance(toBatchAt position: Int, baseOffset: Int64, lastOffset: Int64, maxTimestamp: Int64) {
        guard data != nil else { return }
        switch kind {
        case .offset:
            while next < count, entry(next).value <= Int64(position), !isPreallocated(next) {
                let (offset, entryPosition) = entry(next)
                if offset <= previousKey || entryPosition <= previousOffset {
                    report(.indexEntryInvalid, next, "entry \(next) (offset \(offset), byte \(entryPosition)) does not increase", offset: offset)
                } else if entryPosition != Int64(position) {
                    report(.indexEntryInvalid, next, "entry \(next) points at byte \(entryPosition), inside a batch", offset: offset)
                } else if offset < baseOffset || offset > lastOffset {
                    report(.indexEntryInvalid, next, "entry \(next) names offset \(offset), but the batch at byte \(entryPosition) holds \(baseOffset)...\(lastOffset)", offset: offset)
                }
                previousKey = offset
                previousOffset = entryPosition
                next += 1
            }
        case .time:
            while next < count, entry(next).value <= lastOffset, !isPreallocated(next) {
                let (timestamp, offset) = entry(next)
                if timestamp <= previousKey || offset < previousOffset {
                    report(.timeIndexOutOfOrder, next, "entry \(next) (timestamp \(timestamp), offset \(offset)) does not increase", offset: offset)
                } else if timestamp > maxTimestamp {
                    report(.timeIndexInconsistent, next, "entry \(next) claims timestamp \(timestamp) by offset \(offset), the batches reach only \(maxTimestamp)", offset: offset)
                }
                previousKey = timestamp
                previousOffset = offset
                next += 1
            }
        }
    }

    /// An all-zero entry after the first: the unused, preallocated part of an untrimmed index.
    /// The first entry counts too when the log holds no batch (an empty segment's untrimmed
    /// index is all zeros: power loss between its msync and its trim leaves exactly that).
    private func isPreallocated(_ index: Int, logIsEmpty: Bool = false) -> Bool {
        guard index > 0 || logIsEmpty else { return false }
        let (key, value) = entry(index)
        return kind == .offset ? (key == base && value == 0) : (key == 0 && value == base)
    }

    /// Entries left after the last valid batch: past the end, or a preallocated zero tail.
    mutating func finish(validEnd: Int, nextOffset: Int64) {
        guard data != nil, next < count else { return }
        if (next..<count).allSatisfy({ isPreallocated($0, logIsEmpty: validEnd == 0) }) {
            report(.indexPreallocatedTail, next, "\(count - next) unused preallocated entries at the end (an index not trimmed at shutdown)",
                   severity: .warning)
            return
        }
        switch kind {
        case .offset:
            let (offset, position) = entry(next)
            if position >= Int64(validEnd) {
                report(.indexEntryPastEnd, next, "entry \(next) points at byte \(position), past the end \(validEnd) of the valid log", offset: offset)
            } else {
                report(.indexEntryInvalid, next, "entry \(next) points at byte \(position), inside the last batch", offset: offset)
            }
        case .time:
            let (timestamp, offset) = entry(next)
            report(.timeIndexInconsistent, next, "entry \(next) (timestamp \(timestamp)) names offset \(offset), past the log end \(nextOffset)", offset: offset)
        }
    }
}
