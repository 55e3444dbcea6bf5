/// InitProducerId (key 22), versions 0–4: gives an idempotent (or transactional) producer its
/// producer id and epoch.
public struct InitProducerIdRequest: Sendable, Equatable {
    public var transactionalId: String?
    public var transactionTimeoutMs: Int32
    /// v3+: the producer's current id and epoch when it asks for an epoch bump (KIP-360), else -1.
    public var producerId: Int64
    public var producerEpoch: Int16

    public init(transactionalId: String?, transactionTimeoutMs: Int32, producerId: Int64, producerEpoch: Int16) {
        self.transactionalId = transactionalId
        self.transactionTimeoutMs = transactionTimeoutMs
        self.producerId = producerId
        self.producerEpoch = producerEpoch
    }

    public static func read(version: Int16, from reader: inout ProtocolReader) throws(ProtocolError) -> InitProducerIdRequest {
        let flexible = ApiKey.initProducerId.isFlexible(version)
        let transactionalId = try reader.readString(compact: flexible, field: "transactional_id")
        let timeout = try reader.readInt32()
        let producerId = version >= 3 ? try reader.readInt64() : -1
        let epoch = version >= 3 ? try reader.readInt16() : -1
        if flexible { try reader.skipTaggedFields() }
        return InitProducerIdRequest(transactionalId: transactionalId, transactionTimeoutMs: timeout, producerId: producerId, producerEpoch: epoch)
    }
}

public struct InitProducerIdResponse: Sendable, Equatable {
    public var throttleTimeMs: Int32
    public var errorCode: ErrorCode
    public var producerId: Int64
    public var producerEpoch: Int16

    public init(throttleTimeMs: Int32 = 0, errorCode: ErrorCode = .none, producerId: Int64, producerEpoch: Int16) {
        self.throttleTimeMs = throttleTimeMs
        self.errorCode = errorCode
        self.producerId = producerId
        self.producerEpoch = producerEpoch
    }

    public func write(version: Int16, to writer: inout ProtocolWriter) {
        writer.writeInt32(throttleTimeMs)
        writer.writeInt16(errorCode.rawValue)
        writer.writeInt64(producerId)
        writer.writeInt16(producerEpoch)
        if ApiKey.initProducerId.isFlexible(version) { writer.writeEmptyTaggedFields() }
    }
}
