extension RecordBatch {
    /// The same batch with its records section compressed by `codec` instead: what a broker
    /// stores for a topic whose `compression.type` names a codec other than the producer's.
    /// Everything but the codec is kept — producer id, epoch and sequence, transactional flag,
    /// partition leader epoch, timestamp type, each record's offset delta, timestamp, key, value
    /// and headers — so offsets, deduplication and ordering are unchanged. Nil when nothing is
    /// to change (the codec is already `codec`) or the batch is a control batch, which Kafka
    /// never recompresses.
    ///
    /// - Throws: `FormatError` when a record cannot be decoded.
    public func recompressed(to codec: CompressionCodec, limits: DecodeLimits = .default) throws(FormatError) -> [UInt8]? {
        guard codec != compressionCodec, !isControl, !hasDeleteHorizon else { return nil }
        var builder = RecordBatchBuilder(compression: codec)
        builder.baseOffset = baseOffset
        builder.partitionLeaderEpoch = partitionLeaderEpoch
        builder.timestampType = timestampType
        if timestampType == .logAppendTime { builder.logAppendTime = maxTimestamp }
        builder.producerId = producerId
        builder.producerEpoch = producerEpoch
        builder.baseSequence = baseSequence
        builder.isTransactional = isTransactional
        try forEachRecord(limits: limits) { record throws(FormatError) in
            builder.append(key: record.key.map { Array($0) }, value: record.value.map { Array($0) },
                           headers: record.headers.map { (String(decoding: $0.key, as: UTF8.self), $0.value.map { Array($0) }) },
                           timestamp: record.timestamp, offsetDelta: record.offsetDelta)
        }
        return try builder.build()
    }
}
