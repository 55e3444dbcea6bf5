public import PetrelStorage

/// The broker's settings, named after Kafka's server properties. Defaults give a single node
/// on 127.0.0.1:9092 with its data in `./petrel-data`.
public struct BrokerConfig: Sendable {
    /// `log.dirs` (one directory for now).
    public var dataDirectory = "./petrel-data"
    /// `listeners`: where to accept connections.
    public var host = "127.0.0.1"
    public var port = 9092
    /// `advertised.listeners`: what Metadata tells clients (defaults to the listener).
    public var advertisedHost: String?
    public var advertisedPort: Int?
    public var nodeId: Int32 = 1
    /// `num.partitions`: partitions of an auto-created topic.
    public var numPartitions: Int32 = 1
    /// `auto.create.topics.enable`.
    public var autoCreateTopics = true
    /// `socket.request.max.bytes`: larger frames close the connection.
    public var requestBytesMax = 100 << 20
    /// `log.retention.check.interval.ms`.
    public var retentionCheckIntervalMs: Int64 = 300_000
    /// Segment, index, flush and message-size settings of every log (`log.segment.bytes`,
    /// `message.max.bytes`, `log.flush.interval.messages`, `log.flush.interval.ms`, …).
    public var log = LogConfig()

    public init() {}

    /// Applies Kafka-style properties (`key=value` lines, `#` comments). Unknown keys are
    /// returned, so the caller can warn about them.
    public mutating func apply(properties text: String) throws -> [String] {
        var unknown: [String] = []
        var flushMessages: Int64 = .max, flushMs: Int64 = .max
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            func integer() throws -> Int64 {
                guard let number = Int64(value) else { throw ConfigError(message: "\(key): '\(value)' is not a number") }
                return number
            }
            switch key {
            case "log.dirs", "log.dir": dataDirectory = String(value.split(separator: ",").first ?? "")
            case "listeners": (host, port) = try Self.listener(value)
            case "advertised.listeners":
                let (advertised, advertisedPortValue) = try Self.listener(value)
                advertisedHost = advertised
                advertisedPort = advertisedPortValue
            case "node.id", "broker.id": nodeId = Int32(try integer())
            case "num.partitions": numPartitions = Int32(try integer())
            case "auto.create.topics.enable": autoCreateTopics = value == "true"
            case "socket.request.max.bytes": requestBytesMax = Int(try integer())
            case "log.segment.bytes": log.segmentBytes = Int(try integer())
            case "log.index.size.max.bytes": log.segmentIndexBytes = Int(try integer())
            case "log.index.interval.bytes": log.indexIntervalBytes = Int(try integer())
            case "log.roll.ms": log.segmentMs = try integer()
            case "log.roll.hours": log.segmentMs = try integer() * 3_600_000
            case "message.max.bytes": log.maxMessageBytes = Int(try integer())
            case "log.retention.ms": log.retentionMs = try integer()
            case "log.retention.minutes": log.retentionMs = try integer() * 60_000
            case "log.retention.hours": log.retentionMs = try integer() * 3_600_000
            case "log.retention.bytes": log.retentionBytes = try integer()
            case "log.retention.check.interval.ms": retentionCheckIntervalMs = try integer()
            case "log.flush.interval.messages": flushMessages = try integer()
            case "log.flush.interval.ms": flushMs = try integer()
            default: unknown.append(key)
            }
        }
        if flushMessages == 1 { log.flushPolicy = .beforeAcknowledge }
        else if flushMessages != .max || flushMs != .max { log.flushPolicy = .interval(messages: flushMessages, milliseconds: flushMs) }
        return unknown
    }

    /// `PLAINTEXT://host:port` or `host:port`.
    static func listener(_ text: String) throws -> (String, Int) {
        let first = text.split(separator: ",").first.map(String.init) ?? text
        let address = first.components(separatedBy: "://").last ?? first
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw ConfigError(message: "listener '\(text)' is not host:port")
        }
        let host = String(address[..<colon])
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    public struct ConfigError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}

import Foundation
