import PetrelProtocol

/// The topics of a consumer's subscription, from the opaque protocol metadata it joins with
/// when the protocol type is `consumer` (apache/kafka `ConsumerProtocolSubscription.json`,
/// versions 0–3, never flexible: int16 version, then an int32-counted array of int16-length
/// topic names, then fields this reader does not need).
enum ConsumerSubscription {
    static let protocolType = "consumer"

    /// The subscribed topics, or nil when the bytes do not decode (a negative version included).
    static func topics(_ metadata: [UInt8]) -> [String]? {
        var reader = ProtocolReader(metadata)
        do {
            guard try reader.readInt16() >= 0 else { return nil }
            let count = try reader.readArrayCount(compact: false, nullable: false, field: "Topics", minimumElementBytes: 2) ?? 0
            var topics: [String] = []
            for _ in 0..<count { topics.append(try reader.readNonNullString(compact: false, field: "Topic")) }
            return topics
        } catch {
            return nil
        }
    }
}
