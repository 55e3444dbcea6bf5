internal import PetrelFormat

extension Log {
    /// Cleans one group of sealed segments into one `.cleaned` segment and swaps it in.
    func cleanGroup(_ group: [(segment: Segment, end: Int64)], filter: BatchFilter, generation: UInt64, options: CleaningOptions,
                    counts: inout BatchFilter.Counts, result: inout CleaningResult) throws {
        let base = group[0].segment.baseOffset
        let leases = try structureLock.withReadLock { () throws -> [SegmentLease] in
            var leases: [SegmentLease] = []
            for (segment, _) in group {
                guard segments.contains(where: { $0 === segment }) else {
                    for lease in leases { lease.release() }
                    throw CleaningAborted(reason: "segment \(segment.baseOffset) was removed from the log")
                }
                leases.append(try segment.lease(position: 0, count: segment.publishedBytes))
            }
            return leases
        }
        defer { for lease in leases { lease.release() } }
        let inputBytes = leases.reduce(0) { $0 + $1.count }
        let groupEnd = group.last!.end
        var writer = try CleanedSegmentWriter(directory: directory, baseOffset: base, config: config, inputBytes: inputBytes, io: io,
                                              bufferBytes: options.ioBufferBytes)
        var written: (sizeBytes: Int, largest: (timestamp: Int64, offset: Int64))
        do {
            for ((segment, _), lease) in zip(group, leases) {
                result.bytesRead += try forEachBatch(of: segment, lease: lease, verifyingCRC: true, generation: generation,
                                                     options: options) { (batch, position) throws(StorageError) in
                    let outcome: BatchFilter.Outcome
                    do throws(FormatError) { outcome = try filter.decision(for: batch, groupEnd: groupEnd, counts: &counts) } catch {
                        throw StorageError(.corrupt(reason: error.description), path: segment.logPath, position: Int64(position),
                                           offset: batch.baseOffset)
                    }
                    switch outcome {
                    case .keep: try writer.write(batch.bytes, lastOffset: batch.lastOffset, maxTimestamp: batch.maxTimestamp)
                    case let .rewrite(bytes, maxTimestamp):
                        try writer.write(bytes, lastOffset: batch.lastOffset, maxTimestamp: maxTimestamp)
                    case .drop: break
                    }
                    return true
                }
            }
            written = try writer.finish()
        } catch {
            try removeCleanerOutput(base: base, suffix: SegmentFiles.cleanedSuffix)
            throw error
        }
        result.bytesWritten += Int64(written.sizeBytes)
        try options.hooks?.atStep(.cleanedWritten, base)
        try renameCleanerOutput(base: base, from: SegmentFiles.cleanedSuffix, to: SegmentFiles.swapSuffix, hooks: options.hooks)
        try io.fsyncDirectory(directory)
        try options.hooks?.atStep(.swapWritten, base)

        let replacement = Segment.existing(directory: directory, baseOffset: base, sizeBytes: written.sizeBytes, nextOffset: groupEnd,
                                           config: config, io: io, handleCache: handleCache)
        if written.largest.timestamp >= 0 { replacement.noteLargestTimestamp(written.largest) }
        let swapped = try replaceSegments(group.map(\.segment), with: replacement, generation: generation, hooks: options.hooks)
        guard swapped else {
            try removeCleanerOutput(base: base, suffix: SegmentFiles.swapSuffix)
            throw CleaningAborted(reason: "the log changed while segment \(base) was cleaned")
        }
        try options.hooks?.atStep(.swapRenamed, base)
        result.segmentsCleaned += group.count
        result.groupsSwapped += 1
    }

    private func removeCleanerOutput(base: Int64, suffix: String) throws(StorageError) {
        for path in SegmentFiles.files(directory, base, marker: suffix) where io.exists(path) { try io.unlink(path) }
    }

    /// Renames the output's files, the log first (as Kafka's `changeFileSuffixes`): a crash
    /// between the renames leaves a `.cleaned` index beside the `.log.swap`, which start-up
    /// takes for a swap not yet decided and rolls back.
    private func renameCleanerOutput(base: Int64, from: String, to: String, hooks: CleanerHooks?) throws(StorageError) {
        let paths = SegmentFiles.files(directory, base)
        for (index, path) in paths.enumerated() {
            try io.rename(path + from, to: path + to)
            if index == 0 && to == SegmentFiles.swapSuffix { try hooks?.atStep(.logRenamedToSwap, base) }
        }
    }

    /// Replaces `old` (consecutive sealed segments) with `replacement`, whose files are `.swap`:
    /// under the structure write lock (no reader or swap in between), the old segments' files
    /// are renamed `.deleted` (unlinked once no lease holds them), the `.swap` files take their
    /// final names, the directory is fsynced. Returns false, changing nothing, when the log was
    /// truncated or `old` is no longer in it as it was (a cleaned copy is never swapped over a
    /// source that changed).
    func replaceSegments(_ old: [Segment], with replacement: Segment, generation: UInt64, hooks: CleanerHooks?) throws -> Bool {
        backgroundSync.sync {}  // no background fsync of a replaced segment is in flight
        return try structureLock.withWriteLock { () throws -> Bool in
            guard cleaningGeneration.load(ordering: .acquiring) == generation,
                  let first = segments.firstIndex(where: { $0 === old[0] }), first + old.count < segments.count,
                  zip(segments[first..<(first + old.count)], old).allSatisfy({ $0 === $1 }) else { return false }
            do {
                for segment in old { try segment.deleteFiles() }
                try hooks?.atStep(.replacedSegmentsDeleted, replacement.baseOffset)
                for path in SegmentFiles.files(directory, replacement.baseOffset) {
                    try io.rename(path + SegmentFiles.swapSuffix, to: path)
                }
                try io.fsyncDirectory(directory)
            } catch let error as StorageError {
                // The files are half-way through the swap: only `Log.open` can finish it.
                takeOffline(error)
                throw error
            }
            segments.replaceSubrange(first..<(first + old.count), with: [replacement])
            return true
        }
    }
}
