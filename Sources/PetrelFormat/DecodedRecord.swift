/// A record copied out of its batch: owned bytes, for callers that keep records beyond the
/// batch's lifetime (tools, tests, small consumers). Hot paths use `Record` views instead.
public struct DecodedRecord: Equatable, Sendable {
    public var offset: Int64
    public var timestamp: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [DecodedHeader]

    public init(offset: Int64, timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [DecodedHeader] = []) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }

    public init(_ record: Record) {
        self.init(
            offset: record.offset, timestamp: record.timestamp,
            key: record.key.map { Array($0) }, value: record.value.map { Array($0) },
            headers: record.headers.map { DecodedHeader(key: String(decoding: $0.key, as: UTF8.self), value: $0.value.map { Array($0) }) })
    }
}

/// A record header copied out of its record.
public struct DecodedHeader: Equatable, Sendable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

extension RecordBatch {
    /// Every record of the batch, copied out.
    public func decodeRecords(limits: DecodeLimits = .default) throws(FormatError) -> [DecodedRecord] {
        var records: [DecodedRecord] = []
        records.reserveCapacity(Int(min(recordsCount, 4096)))
        try forEachRecord(limits: limits) { records.append(DecodedRecord($0)) }
        return records
    }
}
