import Foundation
import PetrelFormat
import PetrelProtocol
import PetrelStorage

/// `petrel dump --records` for the coordinators' internal topics: in a segment of a
/// `__consumer_offsets-N` or `__transaction_state-N` directory each record's key and value are
/// shown decoded (`offset-commit group=g topic=t partition=3 offset=42 ...`), so an operator can
/// read what the coordinator will load without a Kafka installation. A record that does not
/// decode is shown raw with the reason; control records (transaction markers) are never decoded.
enum InternalRecordFormatting {
    enum Topic {
        case consumerOffsets, transactionState

        /// The internal topic whose partition directory holds the segment, if any.
        init?(segmentPath: String) {
            let directory = URL(fileURLWithPath: segmentPath).deletingLastPathComponent().lastPathComponent
            switch TopicPartition(directoryName: directory)?.topic {
            case "__consumer_offsets": self = .consumerOffsets
            case "__transaction_state": self = .transactionState
            default: return nil
            }
        }
    }

    /// A decoded field's value, kept in schema order so the text and the JSON list the same.
    indirect enum Value {
        case string(String?), integer(Int64), bytes([UInt8]), integers([Int32]), structs([[(String, Value)]])
    }

    /// What one record holds: its kind, the key's fields, and the value's (nil: a tombstone).
    struct Decoded {
        var kind: String
        var key: [(String, Value)]
        var value: [(String, Value)]?
    }

    /// The record decoded, nil for a record type left alone (`.other`), or the decode error.
    static func decode(_ record: DecodedRecord, topic: Topic) -> Result<Decoded?, ProtocolError> {
        guard let key = record.key else { return .failure(ProtocolError(.truncated(neededBytes: 2, availableBytes: 0), position: 0)) }
        do throws(ProtocolError) {
            switch topic {
            case .consumerOffsets: return .success(fields(try ConsumerOffsetsRecord.decode(key: key, value: record.value)))
            case .transactionState: return .success(fields(try TransactionStateRecord.decode(key: key, value: record.value)))
            }
        } catch {
            return .failure(error)
        }
    }

    /// `| offset: 5 timestamp: ... offset-commit group=g ...`, or the raw form with the reason.
    static func text(_ record: DecodedRecord, topic: Topic) -> String {
        let raw = RecordFormatting.text(record)
        switch decode(record, topic: topic) {
        case let .success(decoded?):
            let value = decoded.value.map(text) ?? "<tombstone>"
            return "offset: \(record.offset) timestamp: \(record.timestamp) \(decoded.kind) \(text(decoded.key)) \(value)"
        case .success(nil): return raw + " (record type \(recordType(record)) not decoded)"
        case let .failure(error): return raw + " decodeError: \(error)"
        }
    }

    /// The record's JSON object with `decoded` ({kind, key, value}; value null for a tombstone)
    /// or `decodeError` added; key and value stay as hex.
    static func appendJSON(_ record: DecodedRecord, topic: Topic, to line: inout [UInt8]) {
        record.appendJSON(to: &line)
        let extra: (String, Any)
        switch decode(record, topic: topic) {
        case let .success(decoded?):
            extra = ("decoded", ["kind": decoded.kind, "key": json(decoded.key), "value": decoded.value.map(json) ?? NSNull()] as [String: Any])
        case .success(nil): return
        case let .failure(error): extra = ("decodeError", error.description)
        }
        line.removeLast()  // the closing brace
        line.append(UInt8(ascii: ","))
        JSONText.appendString(extra.0, to: &line)
        line.append(UInt8(ascii: ":"))
        line.append(contentsOf: try! JSONSerialization.data(withJSONObject: extra.1, options: [.sortedKeys, .fragmentsAllowed]))
        line.append(UInt8(ascii: "}"))
    }

    private static func recordType(_ record: DecodedRecord) -> Int16 {
        guard let key = record.key, key.count >= 2 else { return -1 }
        return Int16(bitPattern: UInt16(key[0]) << 8 | UInt16(key[1]))
    }

    // MARK: fields

    private static func fields(_ record: ConsumerOffsetsRecord) -> Decoded? {
        switch record {
        case let .offsetCommit(key, value):
            return Decoded(kind: "offset-commit", key: [("group", .string(key.group)), ("topic", .string(key.topic)), ("partition", .integer(Int64(key.partition)))],
                           value: value.map { value in
                               var fields: [(String, Value)] = [("offset", .integer(value.offset)), ("leaderEpoch", .integer(Int64(value.leaderEpoch))),
                                                                ("metadata", .string(value.metadata)), ("commitTimestamp", .integer(value.commitTimestamp))]
                               if value.expireTimestamp != -1 { fields.append(("expireTimestamp", .integer(value.expireTimestamp))) }
                               return fields
                           })
        case let .groupMetadata(key, value):
            return Decoded(kind: "group-metadata", key: [("group", .string(key.group))], value: value.map { value in
                [("protocolType", .string(value.protocolType)), ("generation", .integer(Int64(value.generation))),
                 ("protocol", .string(value.protocol)), ("leader", .string(value.leader)),
                 ("currentStateTimestamp", .integer(value.currentStateTimestamp)),
                 ("members", .structs(value.members.map { member in
                     [("memberId", .string(member.memberId)), ("groupInstanceId", .string(member.groupInstanceId)),
                      ("clientId", .string(member.clientId)), ("clientHost", .string(member.clientHost)),
                      ("rebalanceTimeout", .integer(Int64(member.rebalanceTimeout))), ("sessionTimeout", .integer(Int64(member.sessionTimeout))),
                      ("subscription", .bytes(member.subscription)), ("assignment", .bytes(member.assignment))]
                 }))]
            })
        case .other:
            return nil
        }
    }

    /// Transaction states by the id Kafka's `TransactionState` gives them.
    private static let transactionStates = ["Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"]

    private static func fields(_ record: TransactionStateRecord) -> Decoded {
        Decoded(kind: "transaction-state", key: [("transactionalId", .string(record.key.transactionalId))], value: record.value.map { value in
            let status = transactionStates.indices.contains(Int(value.transactionStatus)) ? transactionStates[Int(value.transactionStatus)] : "unknown"
            var fields: [(String, Value)] = [
                ("producerId", .integer(value.producerId)), ("producerEpoch", .integer(Int64(value.producerEpoch))),
                ("transactionTimeoutMs", .integer(Int64(value.transactionTimeoutMs))),
                ("transactionStatus", .integer(Int64(value.transactionStatus))), ("state", .string(status)),
                ("partitions", value.transactionPartitions.map { partitions in
                    .structs(partitions.map { [("topic", .string($0.topic)), ("partitions", .integers($0.partitionIds))] })
                } ?? .string(nil)),
                ("lastUpdateTimestamp", .integer(value.transactionLastUpdateTimestampMs)), ("startTimestamp", .integer(value.transactionStartTimestampMs)),
            ]
            // The v1 tagged fields, when they say something.
            if value.previousProducerId != -1 { fields.append(("previousProducerId", .integer(value.previousProducerId))) }
            if value.nextProducerId != -1 { fields.append(("nextProducerId", .integer(value.nextProducerId))) }
            if value.clientTransactionVersion != 0 { fields.append(("clientTransactionVersion", .integer(Int64(value.clientTransactionVersion)))) }
            return fields
        })
    }

    // MARK: rendering

    private static func text(_ fields: [(String, Value)]) -> String {
        fields.map { "\($0.0)=\(text($0.1))" }.joined(separator: " ")
    }

    private static func text(_ value: Value) -> String {
        switch value {
        case let .string(string?):
            // Bare when unambiguous, else quoted as JSON quotes it.
            let bare = !string.isEmpty && string.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "._-/:".unicodeScalars.contains($0)) }
            if bare { return string }
            var quoted: [UInt8] = []
            JSONText.appendString(string, to: &quoted)
            return String(decoding: quoted, as: UTF8.self)
        case .string(nil): return "null"
        case let .integer(number): return String(number)
        case let .bytes(bytes): return bytes.isEmpty ? "0x" : "0x" + ByteFormatting.hex(bytes)
        case let .integers(numbers): return "[" + numbers.map(String.init).joined(separator: ",") + "]"
        case let .structs(list): return "[" + list.map { "{" + text($0) + "}" }.joined(separator: ", ") + "]"
        }
    }

    private static func json(_ fields: [(String, Value)]) -> [String: Any] {
        Dictionary(fields.map { ($0.0, json($0.1)) }, uniquingKeysWith: { first, _ in first })
    }

    private static func json(_ value: Value) -> Any {
        switch value {
        case let .string(string): string ?? NSNull()
        case let .integer(number): number
        case let .bytes(bytes): ByteFormatting.hex(bytes)
        case let .integers(numbers): numbers
        case let .structs(list): list.map(json)
        }
    }
}
