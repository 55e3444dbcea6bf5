/// One record of `__transaction_state`, as Kafka's transaction coordinator frames it
/// (`TransactionLog`): the key is int16 version 0 and the transactional id; the value an int16
/// version and the transaction's state; a null value is a tombstone (the transactional id
/// expired).
public struct TransactionStateRecord: Sendable, Equatable {
    public var key: TransactionLogKey
    /// nil: a tombstone.
    public var value: TransactionLogValue?

    public init(key: TransactionLogKey, value: TransactionLogValue?) {
        self.key = key
        self.value = value
    }

    /// - Throws: `ProtocolError` when a key or value is truncated, has bytes after its struct,
    ///   or has a version its schema does not define (the only key version is 0).
    public static func decode(key: [UInt8], value: [UInt8]?) throws(ProtocolError) -> TransactionStateRecord {
        TransactionStateRecord(
            key: try RecordFraming.read(TransactionLogKey.self, framed: key),
            value: try value.map { bytes throws(ProtocolError) in try RecordFraming.read(TransactionLogValue.self, framed: bytes) })
    }

    /// Key v0 and value v0, what Kafka writes unless transaction version 2 (KIP-890) is in use,
    /// when it writes value v1; a nil value stays nil.
    ///
    /// - Throws: `ProtocolError` for a value v0 cannot carry: the v1-only tagged fields
    ///   (previous or next producer id, client transaction version) away from their defaults.
    public func encoded() throws(ProtocolError) -> (key: [UInt8], value: [UInt8]?) {
        (try RecordFraming.framed(key, version: 0), try value.map { value throws(ProtocolError) in try RecordFraming.framed(value, version: 0) })
    }
}
