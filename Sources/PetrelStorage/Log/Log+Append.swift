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
    // memory belongs to the appender, which waits (inside `append`) until `result` is set.
    let batches: [BatchToWrite]
    let baseOffsetFields: OwnedBytes
    /// The batches' bytes when the log holds its own copy (asynchronous appends).
    let ownedBatches: OwnedBytes?
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

    init(batches: [BatchToWrite], baseOffsetFields: OwnedBytes, ownedBatches: OwnedBytes?, info: AppendInfo, bytes: Int,
         onComplete: @escaping @Sendable (Result<AppendInfo, StorageError>) -> Void) {
        self.batches = batches
        self.baseOffsetFields = baseOffsetFields
        self.ownedBatches = ownedBatches
        self.info = info
        self.bytes = bytes
        self.onComplete = onComplete
    }
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
        let bytes = UnsafeRawBufferPointer(start: owned.buffer.baseAddress, count: records.count)
        let validated = try validate(bytes, origin: origin)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<AppendInfo, StorageError>, Never>) in
            queueCondition.lock()
            defer { queueCondition.unlock() }
            do throws(StorageError) {
                if case let .duplicate(info) = try enqueueLocked(validated, ownedBatches: owned, onComplete: { continuation.resume(returning: $0) }) {
                    continuation.resume(returning: .success(info))
                    return
                }
            } catch {
                continuation.resume(returning: .failure(error))
                return
            }
            if !writerActive {
                writerActive = true
                writerQueue.async { [self] in
                    queueCondition.lock()
                    drainQueueLocked()
                    writerActive = false
                    queueCondition.broadcast()
                    queueCondition.unlock()
                }
            }
        }
        return try result.get()
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
                }
                batches.append(ValidatedBatch(bytes: batch.bytes, offsetCount: Int64(batch.lastOffsetDelta) + 1,
                                              maxTimestamp: batch.maxTimestamp, recordsCount: Int(batch.recordsCount),
                                              producerId: batch.producerId, producerEpoch: batch.producerEpoch,
                                              firstSequence: batch.baseSequence, lastSequence: batch.lastSequence, isControl: batch.isControl))
        }
        guard !batches.isEmpty else { throw StorageError(.invalidAppend(reason: "no batches")) }
        return batches
    }

    private func enqueueAndWait(_ batches: [ValidatedBatch]) throws(StorageError) -> AppendInfo {
        let done = DispatchSemaphore(value: 0)
        queueCondition.lock()
        defer { queueCondition.unlock() }
        let pending: PendingAppend
        switch try enqueueLocked(batches, ownedBatches: nil, onComplete: { _ in done.signal() }) {
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
    /// lock held. Waits while the queue holds `appendQueueBytesMax`.
    private func enqueueLocked(
        _ batches: [ValidatedBatch], ownedBatches: OwnedBytes?,
        onComplete: @escaping @Sendable (Result<AppendInfo, StorageError>) -> Void
    ) throws(StorageError) -> Enqueued {
        let bytes = batches.reduce(0) { $0 + $1.bytes.count }
        while offlineError == nil && queuedBytes > 0 && queuedBytes + bytes > config.appendQueueBytesMax { queueCondition.wait() }
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
        let pending = PendingAppend(batches: toWrite, baseOffsetFields: fields, ownedBatches: ownedBatches, info: info,
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
                // Nothing of the group or of what queued behind it (whose offsets follow it) was
                // kept: fail them all and hand their offsets out again.
                if offline, offlineError == nil { offlineError = error }
                for pending in group + queue { pending.complete(.failure(error)) }
                queuedBytes = 0
                queue.removeAll()
                nextOffset = logEndOffset
                producerState.forget(from: nextOffset)
            }
            queueCondition.broadcast()  // appenders waiting for queue space
        }
    }

    private enum GroupOutcome {
        case success
        case failure(StorageError, offline: Bool)
    }

    /// Writes a group (rolling segments as needed), fsyncs per policy, then publishes it.
    private func writeGroup(_ group: [PendingAppend]) -> GroupOutcome {
        let now = Log.nowMs()
        var pendingChunk: [BatchToWrite] = []
        var chunkBytes = 0
        var active = structureLock.withReadLock { segments.last! }
        let startSize = active.sizeBytes
        do throws(StorageError) {
            for batch in group.flatMap(\.batches) {
                if active.shouldRoll(pendingBytes: chunkBytes, incomingBytes: batch.sizeBytes, incomingLastOffset: batch.lastOffset, nowMs: now) {
                    if !pendingChunk.isEmpty {
                        try active.append(pendingChunk, nowMs: now)
                        pendingChunk.removeAll()
                        chunkBytes = 0
                    }
                    // Make what the old segment holds visible before it is sealed.
                    active.publish(upTo: active.sizeBytes)
                    setLogEndOffset(active.nextOffset)
                    active = try roll(at: batch.firstOffset)
                }
                pendingChunk.append(batch)
                chunkBytes += batch.sizeBytes
            }
            if !pendingChunk.isEmpty { try active.append(pendingChunk, nowMs: now) }
        } catch {
            if active.sizeBytes != startSize { active.publish(upTo: active.sizeBytes) }
            return .failure(error, offline: false)
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
        active.publish(upTo: active.sizeBytes)
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

    /// Seals the active segment and starts a new one at `baseOffset`; the sealed one is fsynced
    /// in the background (inline when acknowledging needs it), then the recovery point advances.
    private func roll(at baseOffset: Int64) throws(StorageError) -> Segment {
        try structureLock.withWriteLock { () throws(StorageError) -> Segment in
            let sealed = segments.last!
            try sealed.seal()
            let next = try Segment.create(directory: directory, baseOffset: baseOffset, config: config, io: io, handleCache: handleCache)
            segments.append(next)
            try io.fsyncDirectory(directory)
            let end = sealed.nextOffset
            if config.flushPolicy == .beforeAcknowledge {
                try sealed.syncSealed()
                advanceRecoveryPoint(to: end)
            } else {
                backgroundSync.async { [self] in
                    do throws(StorageError) {
                        try sealed.syncSealed()
                        advanceRecoveryPoint(to: end)
                    } catch {
                        takeOffline(error)
                    }
                }
            }
            return next
        }
    }
}
