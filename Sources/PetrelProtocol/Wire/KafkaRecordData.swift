/// What every generated internal-topic record struct is (`OffsetCommitKey`, `GroupMetadataValue`,
/// `TransactionLogValue`, ...): a Kafka "type": "data" schema, read and written in any version it
/// defines. Unlike a `KafkaMessage` it has no API key: such structs travel as the keys and values
/// of records in `__consumer_offsets` and `__transaction_state`, where an int16 version precedes
/// each (that framing is `ConsumerOffsetsRecord`'s and `TransactionStateRecord`'s).
public protocol KafkaRecordData: Sendable, Equatable {
    static var validVersions: ClosedRange<Int16> { get }
    /// - Throws: `ProtocolError` for malformed bytes or a version outside `validVersions`.
    static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> Self
    /// - Throws: `ProtocolError` for a value this version cannot carry (see the reasons).
    func write(version: Int16, to writer: inout ProtocolWriter) throws(ProtocolError)
}
