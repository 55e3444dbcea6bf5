extension Log {
    /// Removes every offset ≥ `offset` (for replication: a follower dropping a divergent suffix).
    /// The log then ends at the start of the batch holding `offset`. Waits for readers of the
    /// bytes concerned to finish: a mapped file is never shrunk under a reader, nor one a
    /// sender holds a lease on (that one is replaced by a copy of what stays, see
    /// `Segment.truncate`).
    ///
    /// - Throws: `StorageError` when a file could not be cut, copied, renamed or synced; the log
    ///   is then offline, since its segments may no longer match its files.
    public func truncate(removingFrom offset: Int64) throws(StorageError) {
        precondition(offset >= 0, "offsets are never negative")
        excludeWriters()
        defer { readmitWriters() }
        if let offlineError = queueCondition.withLock({ offlineError }) { throw offlineError }
        guard offset < logEndOffset else { return }
        // A cleaning pass in progress gives up before its next swap (Kafka aborts and pauses
        // the cleaner around a truncation): its cleaned copy may hold offsets cut here.
        cleaningGeneration.add(1, ordering: .acquiringAndReleasing)
        backgroundSync.sync {}  // no fsync of a segment about to be cut or deleted is in flight
        do throws(StorageError) {
            try cutSegments(removingFrom: offset)
        } catch {
            takeOffline(error)
            throw error
        }
        // Durably: a snapshot past the new end that a power loss brought back would describe
        // batches this log no longer holds, once appends pass its offset again.
        let stale = try snapshotOffsets().filter { $0 > logEndOffset }
        for offset in stale { try io.unlink(snapshotPath(offset)) }
        if !stale.isEmpty { try io.fsyncDirectory(directory) }
        try loadProducerState()
    }

    /// Removes the segments at or past `offset` and cuts the last one left before it.
    private func cutSegments(removingFrom offset: Int64) throws(StorageError) {
        try structureLock.withWriteLock { () throws(StorageError) in
            while segments.count > 1 && segments.last!.baseOffset >= offset {
                try segments.removeLast().deleteFiles()
            }
            let last = segments.last!
            if last.baseOffset >= offset {
                try last.truncate(removingFrom: last.baseOffset)
            } else {
                try last.truncate(removingFrom: offset)
            }
            try io.fsyncDirectory(directory)
            let end = last.nextOffset
            setLogEndOffset(end)
            lowerRecoveryPoint(to: end)
            if logStartOffset > end { setLogStartOffset(end) }
        }
    }

    /// Moves the log start offset up to `offset` (Kafka's DeleteRecords) and deletes the
    /// segments wholly below it. Readers already reading them finish undisturbed.
    ///
    /// - Throws: `.offsetOutOfRange` when `offset` is past the log end.
    public func deleteRecords(before offset: Int64) throws(StorageError) {
        let end = logEndOffset
        guard offset <= end else {
            throw StorageError(.offsetOutOfRange(requested: offset, logStartOffset: logStartOffset, logEndOffset: end), path: directory)
        }
        guard offset > logStartOffset else { return }
        setLogStartOffset(offset)
        try deleteSegmentsBelowLogStart()
    }

    /// Deletes sealed segments whose every offset is below the log start offset.
    func deleteSegmentsBelowLogStart() throws(StorageError) {
        let start = logStartOffset
        let doomed: [Segment] = structureLock.withWriteLock {
            var removed: [Segment] = []
            while segments.count > 1 && segments[1].baseOffset <= start {
                removed.append(segments.removeFirst())
            }
            return removed
        }
        guard !doomed.isEmpty else { return }
        backgroundSync.sync {}
        for segment in doomed { try segment.deleteFiles() }
        try io.fsyncDirectory(directory)
    }
}
