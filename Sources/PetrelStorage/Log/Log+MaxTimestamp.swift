public import PetrelFormat

extension Log {
    /// The record with the largest timestamp (the first such offset when several share it), for
    /// ListOffsets' MAX_TIMESTAMP (KIP-734); nil for an empty log. Walks the batch headers of
    /// every segment, and the records of the batches that hold the maximum.
    public func offsetOfMaxTimestamp() throws -> (offset: Int64, timestamp: Int64)? {
        var best: (offset: Int64, timestamp: Int64)?
        var next = logStartOffset
        let end = logEndOffset
        while next < end {
            let advanced: Int64? = try read(fromOffset: next, maxBytes: 1 << 20) { slice in
                var reader = RecordBatchReader(slice.bytes)
                var last: Int64?
                while let batch = try reader.next() {
                    if best == nil || batch.maxTimestamp > best!.timestamp {
                        try batch.forEachRecord { record throws(FormatError) in
                            if record.offset >= next, best == nil || record.timestamp > best!.timestamp {
                                best = (record.offset, record.timestamp)
                            }
                        }
                    }
                    last = batch.lastOffset
                }
                return last
            }
            guard let advanced else { break }
            next = advanced + 1
        }
        return best
    }
}
