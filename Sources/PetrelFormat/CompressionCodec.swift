/// The compression codec of a batch, bits 0–2 of its attributes.
public enum CompressionCodec: Int16, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case gzip = 1
    /// Snappy in the xerial snappy-java stream format Kafka uses (raw snappy is accepted on read).
    case snappy = 2
    /// The LZ4 frame format (64 KiB independent blocks), as Kafka's own LZ4 streams write it.
    case lz4 = 3
    case zstd = 4

    public var description: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    /// The codec named as in Kafka's `compression.type` (`none`, `gzip`, `snappy`, `lz4`, `zstd`).
    public init?(name: String) {
        guard let codec = Self.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
        self = codec
    }
}

/// Whether record timestamps are the producer's (CreateTime) or the broker's (LogAppendTime).
public enum TimestampType: Sendable, Equatable {
    case createTime
    case logAppendTime
}
