/// Builds one Kafka RecordBatch v2 from records: encodes them as they are appended, then
/// compresses the records section with the chosen codec and writes the header and CRC32C.
///
/// Offsets are relative until a log assigns them: `baseOffset` stays 0 unless set, as in a
/// producer's request.
public struct RecordBatchBuilder {
    public var baseOffset: Int64 = 0
    public var partitionLeaderEpoch: Int32 = -1
    public var compression: CompressionCodec
    /// Codec level; nil is the codec's Kafka default (gzip 6, lz4 fast, zstd 3).
    public var compressionLevel: Int32?
    public var timestampType: TimestampType = .createTime
    /// For `.logAppendTime` batches: the broker's append time, written as `maxTimestamp` and
    /// read back as every record's timestamp. Required when `timestampType == .logAppendTime`.
    public var logAppendTime: Int64?
    public var producerId: Int64 = -1
    public var producerEpoch: Int16 = -1
    public var baseSequence: Int32 = -1
    public var isTransactional = false
    public var isControl = false
    /// When set, written as `baseTimestamp` with the delete-horizon attribute (KIP-534); record
    /// timestamp deltas are then relative to it.
    public let deleteHorizonMs: Int64?

    public private(set) var recordsCount: Int32 = 0
    /// Set by `keepOffsets(throughDelta:)`: the batch's last offset delta whatever records it holds.
    private var lastOffsetDeltaKept: Int32?
    private var encodedRecords: [UInt8] = []
    private var baseTimestamp: Int64?
    private var maxTimestamp: Int64 = -1
    private var lastOffsetDelta: Int32 = -1

    public init(compression: CompressionCodec = .none, compressionLevel: Int32? = nil, deleteHorizonMs: Int64? = nil) {
        self.compression = compression
        self.compressionLevel = compressionLevel
        self.deleteHorizonMs = deleteHorizonMs
        self.baseTimestamp = deleteHorizonMs
    }

    /// Appends a record. `offsetDelta` defaults to the next one; give it explicitly only to build
    /// batches with gaps, as compaction leaves them.
    public mutating func append(
        key: [UInt8]?, value: [UInt8]?, headers: [(key: String, value: [UInt8]?)] = [],
        timestamp: Int64, offsetDelta: Int32? = nil
    ) {
        let delta = offsetDelta ?? (lastOffsetDelta + 1)
        precondition(delta > lastOffsetDelta, "record offset deltas must increase within a batch")
        let base = baseTimestamp ?? timestamp
        baseTimestamp = base
        let timestampDelta = timestamp &- base
        var bodyBytes = 1 + Varint.size(timestampDelta) + Varint.size(delta)
        bodyBytes += Self.fieldSize(key) + Self.fieldSize(value) + Varint.size(Int32(headers.count))
        for header in headers {
            bodyBytes += Self.fieldSize(Array(header.key.utf8)) + Self.fieldSize(header.value)
        }
        Varint.append(Int32(bodyBytes), to: &encodedRecords)
        encodedRecords.append(0)  // record attributes: unused
        Varint.append(timestampDelta, to: &encodedRecords)
        Varint.append(delta, to: &encodedRecords)
        Self.appendField(key, to: &encodedRecords)
        Self.appendField(value, to: &encodedRecords)
        Varint.append(Int32(headers.count), to: &encodedRecords)
        for header in headers {
            Self.appendField(Array(header.key.utf8), to: &encodedRecords)
            Self.appendField(header.value, to: &encodedRecords)
        }
        recordsCount += 1
        lastOffsetDelta = delta
        maxTimestamp = recordsCount == 1 ? timestamp : max(maxTimestamp, timestamp)
    }

    /// Appends a record as it was in another batch with the same base offset: its offset delta,
    /// timestamp and bytes (key, value, headers) unchanged. Compaction rebuilds batches so.
    public mutating func append(copying record: Record) {
        let delta = record.offsetDelta
        precondition(delta > lastOffsetDelta, "record offset deltas must increase within a batch")
        let base = baseTimestamp ?? record.timestamp
        baseTimestamp = base
        let timestampDelta = record.timestamp &- base
        var bodyBytes = 1 + Varint.size(timestampDelta) + Varint.size(delta)
        bodyBytes += Self.fieldSize(record.key) + Self.fieldSize(record.value) + Varint.size(Int32(record.headers.count))
        bodyBytes += record.headers.encoded.count
        Varint.append(Int32(bodyBytes), to: &encodedRecords)
        encodedRecords.append(UInt8(bitPattern: record.attributes))
        Varint.append(timestampDelta, to: &encodedRecords)
        Varint.append(delta, to: &encodedRecords)
        Self.appendField(record.key, to: &encodedRecords)
        Self.appendField(record.value, to: &encodedRecords)
        Varint.append(Int32(record.headers.count), to: &encodedRecords)
        encodedRecords.append(contentsOf: record.headers.encoded)
        recordsCount += 1
        lastOffsetDelta = delta
        maxTimestamp = recordsCount == 1 ? record.timestamp : max(maxTimestamp, record.timestamp)
    }

    /// Keeps the batch's offsets through `delta` even when its last records were removed, as
    /// Kafka's cleaner does (`overrideLastOffset`): the producer's last sequence, read from
    /// `baseSequence + lastOffsetDelta`, must not move backwards.
    public mutating func keepOffsets(throughDelta delta: Int32) {
        precondition(delta >= lastOffsetDelta, "a batch's offsets cannot end before its last record")
        lastOffsetDeltaKept = delta
    }

    /// A batch like `batch` (same offsets, producer fields, sequence, timestamp type, flags) with
    /// no records left, as Kafka's `writeEmptyHeader` writes it: compaction keeps such a batch
    /// when it is a producer's last, so the producer's sequence survives.
    public static func emptyBatch(like batch: RecordBatch) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(RecordBatchLayout.headerBytes)
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
        let kept = RecordBatchLayout.timestampTypeMask | RecordBatchLayout.transactionalMask | RecordBatchLayout.controlMask
        put(batch.baseOffset)
        put(Int32(RecordBatchLayout.headerBytes - RecordBatchLayout.logOverheadBytes))
        put(batch.partitionLeaderEpoch)
        put(RecordBatchLayout.currentMagic)
        put(UInt32(0))
        put(batch.attributes & kept)
        put(batch.lastOffsetDelta)
        put(batch.maxTimestamp)
        put(batch.maxTimestamp)
        put(batch.producerId)
        put(batch.producerEpoch)
        put(batch.baseSequence)
        put(Int32(0))
        bytes.withUnsafeMutableBytes { header in
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: header[RecordBatchLayout.attributesPosition...]))
            header.storeBytes(of: crc.bigEndian, toByteOffset: RecordBatchLayout.crcPosition, as: UInt32.self)
        }
        return bytes
    }

    private static func fieldSize(_ field: UnsafeRawBufferPointer?) -> Int {
        guard let field else { return 1 }
        return Varint.size(Int32(field.count)) + field.count
    }

    private static func appendField(_ field: UnsafeRawBufferPointer?, to bytes: inout [UInt8]) {
        guard let field else {
            Varint.append(Int32(-1), to: &bytes)
            return
        }
        Varint.append(Int32(field.count), to: &bytes)
        bytes.append(contentsOf: field)
    }

    private static func fieldSize(_ field: [UInt8]?) -> Int {
        guard let field else { return 1 }
        return Varint.size(Int32(field.count)) + field.count
    }

    private static func appendField(_ field: [UInt8]?, to bytes: inout [UInt8]) {
        guard let field else {
            Varint.append(Int32(-1), to: &bytes)
            return
        }
        Varint.append(Int32(field.count), to: &bytes)
        bytes.append(contentsOf: field)
    }

    /// The finished batch: header, (compressed) records and CRC32C.
    ///
    /// - Throws: `FormatError.compressionFailed` if the codec library fails.
    public func build() throws(FormatError) -> [UInt8] {
        precondition(recordsCount > 0, "a batch needs at least one record")
        precondition(!isTransactional || producerId >= 0, "a transactional batch needs a producer id")
        precondition(timestampType == .createTime || logAppendTime != nil, "a LogAppendTime batch needs logAppendTime")
        let records = try encodedRecords.withUnsafeBytes { encoded in
            Result { () throws(FormatError) in try Compression.compress(encoded, codec: compression, level: compressionLevel) }
        }.get()
        var attributes = compression.rawValue
        if timestampType == .logAppendTime { attributes |= RecordBatchLayout.timestampTypeMask }
        if isTransactional { attributes |= RecordBatchLayout.transactionalMask }
        if isControl { attributes |= RecordBatchLayout.controlMask }
        if deleteHorizonMs != nil { attributes |= RecordBatchLayout.deleteHorizonMask }

        var batch = [UInt8]()
        batch.reserveCapacity(RecordBatchLayout.headerBytes + records.count)
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { batch.append(contentsOf: $0) } }
        put(baseOffset)
        put(Int32(RecordBatchLayout.headerBytes - RecordBatchLayout.logOverheadBytes + records.count))
        put(partitionLeaderEpoch)
        put(RecordBatchLayout.currentMagic)
        put(UInt32(0))  // CRC, filled in below
        put(attributes)
        put(lastOffsetDeltaKept ?? lastOffsetDelta)
        put(baseTimestamp!)
        put(timestampType == .logAppendTime ? logAppendTime! : maxTimestamp)
        put(producerId)
        put(producerEpoch)
        put(baseSequence)
        put(recordsCount)
        batch.append(contentsOf: records)
        batch.withUnsafeMutableBytes { bytes in
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[RecordBatchLayout.attributesPosition...]))
            bytes.storeBytes(of: crc.bigEndian, toByteOffset: RecordBatchLayout.crcPosition, as: UInt32.self)
        }
        return batch
    }
}

extension RecordBatchBuilder {
    /// A builder for a rewritten copy of `batch` (compaction): the same base offset, leader
    /// epoch, codec, timestamp type, producer id, epoch, base sequence and flags; records are
    /// added with `append(copying:)`. With `deleteHorizonMs`, the copy carries that delete
    /// horizon (KIP-534) as its base timestamp.
    public init(rewriting batch: RecordBatch, deleteHorizonMs: Int64?) {
        self.init(compression: batch.compressionCodec, deleteHorizonMs: deleteHorizonMs)
        baseOffset = batch.baseOffset
        partitionLeaderEpoch = batch.partitionLeaderEpoch
        timestampType = batch.timestampType
        if batch.timestampType == .logAppendTime { logAppendTime = batch.maxTimestamp }
        producerId = batch.producerId
        producerEpoch = batch.producerEpoch
        baseSequence = batch.baseSequence
        isTransactional = batch.isTransactional
        isControl = batch.isControl
    }
}
