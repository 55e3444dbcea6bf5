internal import PetrelFormat
import Dispatch

/// What an append was given: the offsets and timestamp assigned to its batches.
public struct AppendInfo: Sendable, Equatable {
    public let firstOffset: Int64
    public let lastOffset: Int64
    public let maxTimestamp: Int64
    public let recordsCount: Int
}

/// Who is appending, which decides the rules a batch must pass.
public enum AppendOrigin: Sendable {
    /// A producer: no control batches; `lastOffsetDelta + 1 == recordsCount > 0`.
    case client
    /// The broker itself (transaction markers and such): control batches allowed.
    case coordinator
}

/// One append waiting for the writer.
final class PendingAppend: @unchecked Sendable {
    // Safe: `result` is written and read only under the log's queue condition; the batches'
    // memory belongs to `owner` (asynchronous appends) or to the appender, which waits (inside
    // `append`) until `result` is set.
    let batches: [BatchToWrite]
    let baseOffsetFields: OwnedBytes
    /// What keeps the batches' bytes alive for an asynchronous append (the caller's lent bytes).
    let owner: (any AppendableBytes)?
    let info: AppendInfo
    let bytes: Int
    var result: Result<AppendInfo, StorageError>?
    /// Called once `result` is set. Each appender is woken on its own, so finishing a group
    /// wakes exactly the appenders it served, not every appender of the log.
    let onComplete: @Sendable (Result<AppendInfo, StorageError>) -> Void

    func complete(_ result: Result<AppendInfo, StorageError>) {
        self.result = result
        onComplete(result)
    }

    init(batches: [BatchToWrite], baseOffsetFields: OwnedBytes, owner: (any AppendableBytes)?, info: AppendInfo, bytes: Int,
         onComplete: @escaping @Sendable (Result<AppendInfo, StorageError>) -> Void) {
        self.batches = batches
        self.baseOffsetFields = baseOffsetFields
        self.owner = owner
        self.info = info
        self.bytes = bytes
        self.onComplete = onComplete
    }
}

/// An asynchronous append that found the queue full, waiting in line for the writer to admit
/// it. `admit` runs with the queue lock held.
struct ParkedAppend {
    let bytes: Int
    let admit: () -> Void
}

/// Bytes lent to an asynchronous append without a copy: the log holds the value until the
/// append completes, and reads `unsafeBytes` meanwhile.
public protocol AppendableBytes: Sendable {
    /// The bytes: valid and unchanged for as long as this value lives.
    var unsafeBytes: UnsafeRawBufferPointer { get }
}

extension OwnedBytes: AppendableBytes {
    var unsafeBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(buffer) }
}

extension Log {
    /// Most batches the writer hands to one `pwritev`.
    static let groupBatchesMax = 1024

    /// Appends one or more RecordBatch v2 batches laid end to end, assigning them the next
    /// offsets, and returns once they are acknowledged under the flush policy: written to the
    /// page cache, or fsynced for `.beforeAcknowledge`. Concurrent appends are written together
    /// (one `pwritev`, and at most one fsync for the whole group). The bytes are written from
    /// `records` itself, without a copy; the log's offsets go in through a separate 8-byte vector.
    ///
    /// - Throws: `StorageError` — `.invalidBatch`, `.batchTooLarge`, `.invalidAppend` for bad
    ///   input (nothing written); `.systemCall` when the write fails (nothing kept, retry later);
    ///   `.logOffline` after a failed fsync or close.
    @discardableResult
    public func append(_ records: UnsafeRawBufferPointer, origin: AppendOrigin = .client) throws(StorageError) -> AppendInfo {
        let validated = try validate(records, origin: origin)
        return try enqueueAndWait(validated)
    }

    @discardableResult
    public func append(_ records: [UInt8], origin: AppendOrigin = .client) throws(StorageError) -> AppendInfo {
        try records.withBytes { (bytes) throws(StorageError) in try append(bytes, origin: origin) }
    }

    /// The same append without blocking a thread: the log keeps a copy of `records`, and the
    /// writer runs on the log's own queue. For event loops and many concurrent appends from a
    /// few threads (their appends share groups and fsyncs just the same).
    @discardableResult
    public func append(_ records: [UInt8], origin: AppendOrigin = .client) async throws(StorageError) -> AppendInfo {
        let owned = OwnedBytes(byteCount: records.count)
        records.withUnsafeBytes { owned.buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return try await append(owned, origin: origin)
    }

    /// Appends bytes the caller lends without a copy (a slice of a request as it arrived): the
    /// log keeps `records` alive, and writes its bytes with `pwritev`, until the append
    /// completes. Never blocks the calling thread: when the append queue is full the append
    /// waits in line (first come, first admitted) and the writer admits it once there is room.
    @discardableResult
    public func append(_ records: some AppendableBytes, origin: AppendOrigin = .client) async throws(StorageError) -> AppendInfo {
        let validated = try validate(records.unsafeBytes, origin: origin)
        let bytes = validated.reduce(0) { $0 + $1.bytes.count }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<AppendInfo, StorageError>, Never>) in
            queueCondition.lock()
            defer { queueCondition.unlock() }
            // Called with the queue lock held, now or by the writer once there is room.
            let admit: () -> Void = { [self] in
                do throws(StorageError) {
                    if case let .duplicate(info) = try enqueueLocked(validated, keepingAlive: records, waitForSpace: false,
                                                                     onComplete: { continuation.resume(returning: $0) }) {
                        continuation.resume(returning: .success(info))
                    }
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            if offlineError != nil || (parkedAppends.isEmpty && hasQueueSpaceLocked(forBytes: bytes)) {
                admit()
            } else {
                parkedAppends.append(ParkedAppend(bytes: bytes, admit: admit))
            }
            startWriterLocked()
        }
        return try result.get()
    }

    /// Starts the log's writer on its queue unless one is running (which drains what this
    /// caller queued before it stops). Called with the queue lock held.
    private func startWriterLocked() {
        guard !writerActive, !queue.isEmpty || !parkedAppends.isEmpty else { return }
        writerActive = true
        writerQueue.async { [self] in
            queueCondition.lock()
            drainQueueLocked()
            writerActive = false
            queueCondition.broadcast()
            queueCondition.unlock()
        }
    }

    func hasQueueSpaceLocked(forBytes bytes: Int) -> Bool {
        queuedBytes == 0 || queuedBytes + bytes <= config.appendQueueBytesMax
    }

    /// Admits parked asynchronous appends, oldest first, while the queue has room for them (all
    /// of them once the log is offline: they fail at once). Called with the queue lock held.
    func admitParkedAppendsLocked() {
        while let next = parkedAppends.first, offlineError != nil || hasQueueSpaceLocked(forBytes: next.bytes) {
            parkedAppends.removeFirst()
            next.admit()
        }
    }

    private struct ValidatedBatch {
        let bytes: UnsafeRawBufferPointer
        let offsetCount: Int64
        let maxTimestamp: Int64
        let recordsCount: Int
        let producerId: Int64
        let producerEpoch: Int16
        let firstSequence: Int32
        let lastSequence: Int32
        let isControl: Bool
    }

    private func validate(_ records: UnsafeRawBufferPointer, origin: AppendOrigin) throws(StorageError) -> [ValidatedBatch] {
        var reader = RecordBatchReader(records, limits: DecodeLimits(batchBytesMax: Int(Int32.max)))
        var batches: [ValidatedBatch] = []
        let config = self.config
        func nextBatch() throws(StorageError) -> RecordBatch? {
            do throws(FormatError) { return try reader.next() } catch { throw StorageError(.invalidBatch(error)) }
        }
        while let batch = try nextBatch() {
                let limit = min(config.maxMessageBytes, config.segmentBytes)
                guard batch.sizeBytes <= limit else {
                    throw StorageError(.batchTooLarge(sizeBytes: batch.sizeBytes, limitBytes: limit))
                }
                if origin == .client {
                    guard !batch.isControl else { throw StorageError(.invalidAppend(reason: "clients may not write control batches")) }
                    guard batch.recordsCount > 0, Int64(batch.lastOffsetDelta) + 1 == Int64(batch.recordsCount) else {
                        throw StorageError(.invalidAppend(reason: "recordsCount \(batch.recordsCount) does not match lastOffsetDelta \(batch.lastOffsetDelta)"))
                    }
                    if config.cleanupPolicy.contains(.compact) { try Self.requireKeys(batch) }
                }
                batches.append(ValidatedBatch(bytes: batch.bytes, offsetCount: Int64(batch.lastOffsetDelta) + 1,
                                              maxTimestamp: batch.maxTimestamp, recordsCount: Int(batch.recordsCount),
                                              producerId: batch.producerId, producerEpoch: batch.producerEpoch,
                                              firstSequence: batch.baseSequence, lastSequence: batch.lastSequence, isControl: batch.isControl))
        }
        guard !batches.isEmpty else { throw StorageError(.invalidAppend(reason: "no batches")) }
        return batches
    }

    /// Kafka's rule for compacted topics (`LogValidator`): every record has a key, since the
    /// cleaner keeps records by key and would drop a keyless one. Refused with INVALID_RECORD.
    private static func requireKeys(_ batch: RecordBatch) throws(StorageError) {
        var keyless: [Int32] = []
        do throws(FormatError) {
            var records = try batch.makeRecordIterator()
            var index: Int32 = 0
            while let record = try records.next() {
                if record.key == nil { keyless.append(index) }
                index += 1
            }
        } catch {
            throw StorageError(.invalidBatch(error))
        }
        if !keyless.isEmpty { throw StorageError(.recordsWithoutKey(recordIndexes: keyless)) }
    }

    private func enqueueAndWait(_ batches: [ValidatedBatch]) throws(StorageError) -> AppendInfo {
        let done = DispatchSemaphore(value: 0)
        queueCondition.lock()
        defer { queueCondition.unlock() }
        let pending: PendingAppend
        switch try enqueueLocked(batches, keepingAlive: nil, waitForSpace: true, onComplete: { _ in done.signal() }) {
        case let .duplicate(info): return info
        case let .queued(queued): pending = queued
        }
        while true {
            if let result = pending.result { return try result.get() }
            if !writerActive {
                writerActive = true
                drainQueueLocked()
                writerActive = false
                queueCondition.broadcast()  // for structural changes waiting for the writer
                continue
            }
            // The active writer serves every queued append before it stops.
            queueCondition.unlock()
            done.wait()
            queueCondition.lock()
        }
    }

    private enum Enqueued {
        case queued(PendingAppend)
        /// An idempotent producer resent a batch already in the log: its original offsets.
        case duplicate(AppendInfo)
    }

    /// Checks producer sequences, assigns offsets and queues an append; called with the queue
    /// lock held. With `waitForSpace` (synchronous appends) it waits while the queue holds
    /// `appendQueueBytesMax`; asynchronous appends are admitted only when there is room.
    private func enqueueLocked(
        _ batches: [ValidatedBatch], keepingAlive owner: (any AppendableBytes)?, waitForSpace: Bool,
        onComplete: @escaping @Sendable (Result<AppendInfo, StorageError>) -> Void
    ) throws(StorageError) -> Enqueued {
        let bytes = batches.reduce(0) { $0 + $1.bytes.count }
        while waitForSpace && offlineError == nil && !hasQueueSpaceLocked(forBytes: bytes) { queueCondition.wait() }
        if let offlineError { throw offlineError }
        for batch in batches where batch.producerId >= 0 && !batch.isControl {
            let decision = try producerState.check(producerId: batch.producerId, epoch: batch.producerEpoch,
                                                   firstSequence: batch.firstSequence, lastSequence: batch.lastSequence)
            if case let .duplicate(original) = decision {
                guard batches.count == 1 else {
                    throw StorageError(.invalidAppend(reason: "a resent batch of producer \(batch.producerId) came with others"))
                }
                return .duplicate(AppendInfo(firstOffset: original.firstOffset, lastOffset: original.lastOffset,
                                             maxTimestamp: original.timestamp, recordsCount: batch.recordsCount))
            }
        }
        // Offsets are assigned in queue order, under the queue lock, by patching baseOffset in
        // place (outside the CRC's coverage).
        let first = nextOffset
        let fields = OwnedBytes(byteCount: 8 * batches.count)
        var toWrite: [BatchToWrite] = []
        for (index, batch) in batches.enumerated() {
            let base = nextOffset
            fields.buffer.storeBytes(of: base.bigEndian, toByteOffset: 8 * index, as: Int64.self)
            nextOffset += batch.offsetCount
            if batch.producerId >= 0 && !batch.isControl {
                producerState.record(producerId: batch.producerId, epoch: batch.producerEpoch, batch: ProducerState.Batch(
                    firstSequence: batch.firstSequence, lastSequence: batch.lastSequence, firstOffset: base,
                    lastOffset: nextOffset - 1, timestamp: batch.maxTimestamp))
            }
            toWrite.append(BatchToWrite(
                baseOffsetField: UnsafeRawBufferPointer(rebasing: fields.buffer[(8 * index)..<(8 * index + 8)]),
                rest: UnsafeRawBufferPointer(rebasing: batch.bytes[RecordBatchLayout.lengthPosition...]),
                firstOffset: base, lastOffset: nextOffset - 1, maxTimestamp: batch.maxTimestamp))
        }
        let info = AppendInfo(firstOffset: first, lastOffset: nextOffset - 1,
                              maxTimestamp: batches.map(\.maxTimestamp).max()!, recordsCount: batches.reduce(0) { $0 + $1.recordsCount })
        let pending = PendingAppend(batches: toWrite, baseOffsetFields: fields, owner: owner, info: info,
                                    bytes: bytes, onComplete: onComplete)
        queue.append(pending)
        queuedBytes += bytes
        return .queued(pending)
    }

    /// Writes queued appends in groups until the queue is empty. Called with the queue lock
    /// held by the thread that became the writer; releases it around I/O.
    private func drainQueueLocked() {
        while !queue.isEmpty && offlineError == nil {
            var group: [PendingAppend] = []
            var batchCount = 0
            while let next = queue.first, group.isEmpty || batchCount + next.batches.count <= Self.groupBatchesMax {
                group.append(queue.removeFirst())
                batchCount += next.batches.count
            }
            queueCondition.unlock()
            let outcome = writeGroup(group)
            queueCondition.lock()
            queuedBytes -= group.reduce(0) { $0 + $1.bytes }
            switch outcome {
            case .success:
                for pending in group { pending.complete(.success(pending.info)) }
            case let .failure(error, offline):
                // Appends that a roll published before the failure are in the log and readable:
                // they succeeded (failing them would make producers resend, hence duplicates).
                // Nothing after them was kept, nor of what queued behind (whose offsets follow):
                // fail those and hand their offsets out again.
                if offline, offlineError == nil { offlineError = error }
                let published = logEndOffset
                for pending in group {
                    pending.complete(pending.info.lastOffset < published ? .success(pending.info) : .failure(error))
                }
                for pending in queue { pending.complete(.failure(error)) }
                queuedBytes = 0
                queue.removeAll()
                nextOffset = published
                producerState.forget(from: nextOffset)
            }
            admitParkedAppendsLocked()
            queueCondition.broadcast()  // appenders waiting for queue space
        }
    }

    private enum GroupOutcome {
        case success
        case failure(StorageError, offline: Bool)
    }

    /// Writes a group (rolling segments as needed), fsyncs per policy, then publishes it.
    ///
    /// An append that fits in one segment is never split by a roll: the roll check runs before
    /// its first batch with its whole size, so a roll publishes whole appends only. (An append
    /// larger than `segment.bytes` is rolled batch by batch, as it must be.)
    private func writeGroup(_ group: [PendingAppend]) -> GroupOutcome {
        let now = Log.nowMs()
        var chunk: [BatchToWrite] = []
        var chunkBytes = 0
        var active = structureLock.withReadLock { segments.last! }
        var offline = false
        do throws(StorageError) {
            for pending in group {
                let whole = pending.bytes <= config.segmentBytes
                for (index, batch) in pending.batches.enumerated() {
                    if index == 0 || !whole, active.shouldRoll(
                        pendingBytes: chunkBytes, incomingBytes: whole ? pending.bytes : batch.sizeBytes,
                        incomingLastOffset: whole ? pending.info.lastOffset : batch.lastOffset, nowMs: now) {
                        if !chunk.isEmpty {
                            try active.append(chunk, nowMs: now)
                            chunk.removeAll()
                            chunkBytes = 0
                        }
                        active = try roll(sealing: active, at: batch.firstOffset, offline: &offline)
                    }
                    chunk.append(batch)
                    chunkBytes += batch.sizeBytes
                }
            }
            if !chunk.isEmpty { try active.append(chunk, nowMs: now) }
        } catch {
            return .failure(error, offline: offline)
        }
        let records = Int64(group.reduce(0) { $0 + $1.info.recordsCount })
        if shouldFlush(afterRecords: records, nowMs: now) {
            do throws(StorageError) {
                try active.flush()
                unflushedMessages = 0
                lastFlushMs.store(now, ordering: .relaxed)
            } catch {
                return .failure(error, offline: true)
            }
        }
        active.publishWritten()
        setLogEndOffset(active.nextOffset)
        if config.flushPolicy == .beforeAcknowledge { advanceRecoveryPoint(to: active.nextOffset) }
        return .success
    }

    private func shouldFlush(afterRecords records: Int64, nowMs: Int64) -> Bool {
        switch config.flushPolicy {
        case .beforeAcknowledge:
            return true
        case let .interval(messages, milliseconds):
            unflushedMessages += records
            return unflushedMessages >= messages || nowMs - lastFlushMs.load(ordering: .relaxed) >= milliseconds
        }
    }

    /// Seals `sealing` (the active segment, all of its batches written) and starts a new one at
    /// `baseOffset`, publishing what the sealed one holds: at once under an interval policy (the
    /// page cache is what acknowledges), only after its fsync under `.beforeAcknowledge` (readers
    /// see only acknowledged batches). Otherwise the sealed one is fsynced in the background, then
    /// the recovery point advances.
    ///
    /// Failures leave the log consistent. The new segment is created first: if that fails (out of
    /// descriptors or disk, a failed mmap) nothing changed, the old segment stays the active one
    /// and the roll is tried again by the next append. Once sealing has begun, a failure (of the
    /// seal's index trim, of an fsync of the directory or of the sealed segment) sets `offline`:
    /// the state of the files is unknown, and a failed fsync is never retried.
    private func roll(sealing: Segment, at baseOffset: Int64, offline: inout Bool) throws(StorageError) -> Segment {
        precondition(sealing.nextOffset == baseOffset, "a new segment starts where the active one ends")
        let beforeAcknowledge = config.flushPolicy == .beforeAcknowledge
        if !beforeAcknowledge {
            sealing.publishWritten()
            setLogEndOffset(sealing.nextOffset)
        }
        let next: Segment
        do throws(StorageError) {
            next = try Segment.create(directory: directory, baseOffset: baseOffset, config: config, io: io, handleCache: handleCache)
        } catch {
            do throws(StorageError) {
                // A half-created segment's files must go: a `.log` named after an offset the old
                // segment goes on to hold would cut the old one there at the next recovery.
                try Segment.removeFiles(directory: directory, baseOffset: baseOffset, io: io)
                // What the group wrote to the old segment stays there (its offsets are taken):
                // under `.beforeAcknowledge` it is fsynced and published now, so that those
                // appends succeed and the offsets handed out next follow them.
                if beforeAcknowledge && sealing.publishedBytes < sealing.sizeBytes {
                    try sealing.flush()
                    sealing.publishWritten()
                    setLogEndOffset(sealing.nextOffset)
                    advanceRecoveryPoint(to: sealing.nextOffset)
                }
            } catch {
                offline = true
                throw error
            }
            throw error
        }
        let snapshot = producerSnapshotBytes(below: baseOffset)
        do throws(StorageError) {
            try structureLock.withWriteLock { () throws(StorageError) in
                try sealing.seal()
                segments.append(next)
            }
            // Under fsync-before-acknowledge the sealed segment (its data and its trimmed
            // indexes) is durable before the new segment's name is: a power loss in between
            // never leaves a durable successor beside an untrimmed, zero-padded index.
            if beforeAcknowledge { try sealing.syncSealed() }
            try io.fsyncDirectory(directory)
        } catch {
            offline = true
            throw error
        }
        let end = sealing.nextOffset
        if beforeAcknowledge {
            writeRollSnapshot(snapshot, at: end)
            sealing.publishWritten()
            setLogEndOffset(end)
            advanceRecoveryPoint(to: end)
        } else {
            if backgroundSyncsPending.load(ordering: .acquiring) >= Self.backgroundSyncsPendingMax { backgroundSync.sync {} }
            backgroundSyncsPending.add(1, ordering: .acquiringAndReleasing)
            backgroundSync.async { [self] in
                defer { backgroundSyncsPending.subtract(1, ordering: .acquiringAndReleasing) }
                do throws(StorageError) {
                    try sealing.syncSealed()
                    writeRollSnapshot(snapshot, at: end)
                    advanceRecoveryPoint(to: end)
                } catch {
                    takeOffline(error)
                }
            }
        }
        return next
    }
}
