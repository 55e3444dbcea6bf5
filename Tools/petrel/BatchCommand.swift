import ArgumentParser
import Foundation
import PetrelFormat

/// `petrel batch build`: encodes records given as JSON lines into one RecordBatch v2.
struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Build Kafka record batches.",
        subcommands: [Build.self]
    )

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode records read as JSON lines from stdin into one RecordBatch v2 on stdout.",
            discussion: """
                Each input line is an object: {"key": HEX|null, "value": HEX|null, "timestamp": MS, \
                "headers": [{"key": TEXT, "value": HEX|null}]}; every field is optional (key and value \
                default to null, timestamp to now, headers to none).
                """
        )

        @Option(help: "Compression codec: none, gzip, snappy, lz4 or zstd.")
        var compression: String = "none"

        @Option(help: "Codec level (default: the codec's Kafka default).")
        var compressionLevel: Int32?

        @Option(help: "Base offset written in the header.")
        var baseOffset: Int64 = 0

        @Option(help: "Producer id (-1: none).")
        var producerId: Int64 = -1

        @Option(help: "Producer epoch (-1: none).")
        var producerEpoch: Int16 = -1

        @Option(help: "Base sequence (-1: none).")
        var baseSequence: Int32 = -1

        @Flag(help: "Mark the batch transactional (needs --producer-id).")
        var transactional = false

        func validate() throws {
            guard CompressionCodec(name: compression) != nil else {
                throw ValidationError("unknown compression '\(compression)': use none, gzip, snappy, lz4 or zstd")
            }
            if transactional && producerId < 0 { throw ValidationError("--transactional needs --producer-id") }
        }

        func run() throws {
            var builder = RecordBatchBuilder(compression: CompressionCodec(name: compression)!, compressionLevel: compressionLevel)
            builder.baseOffset = baseOffset
            builder.producerId = producerId
            builder.producerEpoch = producerEpoch
            builder.baseSequence = baseSequence
            builder.isTransactional = transactional
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            var lineNumber = 0
            while let line = readLine(strippingNewline: true) {
                lineNumber += 1
                if line.allSatisfy(\.isWhitespace) { continue }
                let record = try parse(line: line, number: lineNumber, defaultTimestamp: now)
                builder.append(key: record.key, value: record.value,
                               headers: record.headers.map { ($0.key, $0.value) }, timestamp: record.timestamp)
            }
            guard builder.recordsCount > 0 else { throw ValidationError("no records on stdin") }
            let batch = try builder.build()
            FileHandle.standardOutput.write(Data(batch))
        }

        private func parse(line: String, number: Int, defaultTimestamp: Int64) throws -> DecodedRecord {
            func fail(_ why: String) -> ValidationError { ValidationError("line \(number): \(why)") }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw fail("not a JSON object")
            }
            func bytes(_ field: Any?, _ name: String) throws -> [UInt8]? {
                guard let field, !(field is NSNull) else { return nil }
                guard let text = field as? String, let bytes = ByteFormatting.bytes(fromHex: text) else {
                    throw fail("\(name) must be a hex string or null")
                }
                return bytes
            }
            var headers: [DecodedHeader] = []
            for header in object["headers"] as? [[String: Any]] ?? [] {
                guard let key = header["key"] as? String else { throw fail("a header key must be a string") }
                headers.append(DecodedHeader(key: key, value: try bytes(header["value"], "header value")))
            }
            let timestamp = (object["timestamp"] as? NSNumber)?.int64Value ?? defaultTimestamp
            return DecodedRecord(offset: 0, timestamp: timestamp, key: try bytes(object["key"], "key"),
                                 value: try bytes(object["value"], "value"), headers: headers)
        }
    }
}
