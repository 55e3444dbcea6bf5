import Foundation

/// Runs kafka-python's own protocol codec (Tests/Interop/kafka_python_protocol.py), a codec
/// nobody here wrote, to cross-check Petrel's.
enum KafkaPythonCodec {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/kafka_python_protocol.py").path

    static func run(_ arguments: [String], input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let output = Pipe(), errors = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = stdin
        try process.run()
        // Written from another thread: the output pipe must be drained while the input is fed.
        let feeder = Thread {
            stdin.fileHandleForWriting.write(Data((input ?? "").utf8))
            try? stdin.fileHandleForWriting.close()
        }
        feeder.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CodecFailure(message: "kafka-python \(arguments.prefix(3).joined(separator: " ")) failed: \(errorText)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The canonical request, as kafka-python encodes it (header + body).
    static func request(_ api: String, version: Int16) throws -> [UInt8] {
        hexBytes(try run(["encode-request", api, "\(version)"]))
    }

    /// Petrel's response bytes (header + body) as kafka-python decodes them.
    static func decodeResponse(_ api: String, version: Int16, _ bytes: [UInt8]) throws -> [String: Any] {
        let text = try run(["decode-response", api, "\(version)", hex(bytes)])
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    /// Many message bodies at once, one python process: for each, kafka-python's decoding of
    /// the bytes re-encoded (`hex`), or why it could not (`status` other than "ok").
    static func reencode(_ items: [(name: String, version: Int16, bytes: [UInt8])]) throws -> [[String: Any]] {
        let input = try items.map { item in
            String(decoding: try JSONSerialization.data(withJSONObject: ["name": item.name, "version": Int(item.version), "hex": hex(item.bytes)]), as: UTF8.self)
        }.joined(separator: "\n") + "\n"
        return try run(["batch"], input: input).split(separator: "\n").map { line in
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func hexBytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    struct CodecFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
