/// The type of a control record, from its key (`version int16`, `type int16`).
public enum ControlRecordType: Int16, Sendable {
    case abort = 0
    case commit = 1
    case leaderChange = 2
    case snapshotHeader = 3
    case snapshotFooter = 4
    case kraftVersion = 5
    case kraftVoters = 6

    /// Reads the type from a control record's key. Unknown types give nil (Kafka ignores them).
    ///
    /// - Throws: `FormatError.invalidControlRecord` when the key is null or shorter than 4 bytes.
    public init?(key: UnsafeRawBufferPointer?) throws(FormatError) {
        guard let key, key.count >= 4 else {
            throw FormatError(.invalidControlRecord(detail: "key must hold version and type (4 bytes)"), position: 0)
        }
        let type = Int16(bigEndian: key.loadUnaligned(fromByteOffset: 2, as: Int16.self))
        self.init(rawValue: type)
    }
}

/// The value of a COMMIT or ABORT control record: `version int16`, `coordinatorEpoch int32`.
public struct EndTransactionMarker: Sendable, Equatable {
    public var type: ControlRecordType
    public var coordinatorEpoch: Int32

    public init(type: ControlRecordType, coordinatorEpoch: Int32) {
        precondition(type == .commit || type == .abort, "an end-transaction marker is a commit or an abort")
        self.type = type
        self.coordinatorEpoch = coordinatorEpoch
    }

    /// Reads the marker from a control record.
    public init(record: Record) throws(FormatError) {
        guard let type = try ControlRecordType(key: record.key), type == .commit || type == .abort else {
            throw FormatError(.invalidControlRecord(detail: "not a COMMIT or ABORT marker"), position: 0)
        }
        guard let value = record.value, value.count >= 6 else {
            throw FormatError(.invalidControlRecord(detail: "marker value must hold version and coordinator epoch"), position: 0)
        }
        self.init(type: type, coordinatorEpoch: Int32(bigEndian: value.loadUnaligned(fromByteOffset: 2, as: Int32.self)))
    }

    /// A control batch holding this marker, as a transaction coordinator writes it: transactional,
    /// control, uncompressed, one record, no base sequence.
    public func batch(
        producerId: Int64, producerEpoch: Int16, timestamp: Int64, baseOffset: Int64 = 0, partitionLeaderEpoch: Int32 = -1
    ) -> [UInt8] {
        var builder = RecordBatchBuilder()
        builder.baseOffset = baseOffset
        builder.partitionLeaderEpoch = partitionLeaderEpoch
        builder.producerId = producerId
        builder.producerEpoch = producerEpoch
        builder.isTransactional = true
        builder.isControl = true
        var key = [UInt8](), value = [UInt8]()
        func put<T: FixedWidthInteger>(_ field: T, _ bytes: inout [UInt8]) {
            withUnsafeBytes(of: field.bigEndian) { bytes.append(contentsOf: $0) }
        }
        put(Int16(0), &key)
        put(type.rawValue, &key)
        put(Int16(0), &value)
        put(coordinatorEpoch, &value)
        builder.append(key: key, value: value, timestamp: timestamp)
        do {
            return try builder.build()
        } catch {
            preconditionFailure("an uncompressed batch cannot fail to build: \(error)")
        }
    }
}
