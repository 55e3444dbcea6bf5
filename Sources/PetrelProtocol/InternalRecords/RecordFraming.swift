/// The framing Kafka's coordinators put around internal-topic record data
/// (`CoordinatorRecordSerde`, `TransactionLog`): an int16 version, then the struct in that
/// version, and nothing after it. A key's version doubles as its record type.
enum RecordFraming {
    /// The leading int16 and a reader positioned after it.
    static func version(of bytes: [UInt8]) throws(ProtocolError) -> (Int16, ProtocolReader) {
        var reader = ProtocolReader(bytes)
        return (try reader.readInt16(), reader)
    }

    /// The struct after the version, which must use every remaining byte.
    static func read<T: KafkaRecordData>(_: T.Type, version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> T {
        let value = try T.read(version: version, from: &reader)
        try reader.expectEnd()
        return value
    }

    /// A whole framed value (its version comes from the bytes).
    static func read<T: KafkaRecordData>(_ type: T.Type, framed bytes: [UInt8]) throws(ProtocolError) -> T {
        var (version, reader) = try self.version(of: bytes)
        return try read(type, version: version, from: &reader)
    }

    static func framed(_ value: some KafkaRecordData, version: Int16) throws(ProtocolError) -> [UInt8] {
        var writer = ProtocolWriter(reservingCapacity: 64)
        writer.writeInt16(version)
        try value.write(version: version, to: &writer)
        return writer.bytes
    }
}
