/// Byte positions of the RecordBatch v2 header fields (all big-endian), as Kafka's
/// `DefaultRecordBatch` lays them out. The CRC covers `attributes` to the end of the batch, so
/// `baseOffset` and `partitionLeaderEpoch` can be patched in place without a new CRC.
public enum RecordBatchLayout {
    public static let baseOffsetPosition = 0
    public static let lengthPosition = 8
    public static let partitionLeaderEpochPosition = 12
    public static let magicPosition = 16
    public static let crcPosition = 17
    public static let attributesPosition = 21
    public static let lastOffsetDeltaPosition = 23
    public static let baseTimestampPosition = 27
    public static let maxTimestampPosition = 35
    public static let producerIdPosition = 43
    public static let producerEpochPosition = 51
    public static let baseSequencePosition = 53
    public static let recordsCountPosition = 57
    /// Size of the header; records start here.
    public static let headerBytes = 61
    /// Bytes before the `length` field's coverage starts (baseOffset + length).
    public static let logOverheadBytes = 12
    /// The only magic value this codec reads and writes.
    public static let currentMagic: Int8 = 2

    static let compressionCodecMask: Int16 = 0x07
    static let timestampTypeMask: Int16 = 0x08
    static let transactionalMask: Int16 = 0x10
    static let controlMask: Int16 = 0x20
    static let deleteHorizonMask: Int16 = 0x40
}

/// Bounds for decoding untrusted batches, so that no input can make a decoder allocate or loop
/// without limit.
public struct DecodeLimits: Sendable, Equatable {
    /// Largest batch (`length` + 12) accepted. Kafka's `message.max.bytes` defaults to about 1 MiB;
    /// this bound is for the decoder's safety, not a topic policy.
    public var batchBytesMax: Int
    /// Largest decompressed records section accepted for a compressed batch.
    public var decompressedBytesMax: Int

    public init(batchBytesMax: Int = 1 << 30, decompressedBytesMax: Int = 64 << 20) {
        precondition(batchBytesMax >= RecordBatchLayout.headerBytes, "a batch bound below the header size admits nothing")
        precondition(decompressedBytesMax >= 0, "a negative decompression bound makes no sense")
        self.batchBytesMax = batchBytesMax
        self.decompressedBytesMax = decompressedBytesMax
    }

    public static let `default` = DecodeLimits()
}
