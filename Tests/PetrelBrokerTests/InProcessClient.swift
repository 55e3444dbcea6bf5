import Foundation
@testable import PetrelBroker
import PetrelProtocol

/// A Kafka client inside the test process: it encodes a request with the generated codecs,
/// hands the frame to the broker as the network layer would, and decodes the response
/// (splicing in the record batches the broker would `sendfile`). Handler tests need no socket
/// and no Python process per case.
struct InProcessClient {
    let broker: Broker

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The newest version the broker routes for `R`.
    func newestVersion<R: KafkaMessage>(of _: R.Type) throws -> Int16 {
        guard let range = broker.router.supportedApis.first(where: { $0.apiKey == R.apiKey }) else {
            throw Failure(description: "the broker does not route \(R.apiKey)")
        }
        return range.maxVersion
    }

    /// The raw response to `request`: nil when the broker sends none.
    func exchange<R: KafkaMessage>(_ request: R, version: Int16? = nil, correlationId: Int32 = 1) async throws -> (version: Int16, bytes: [UInt8])? {
        let version = try version ?? newestVersion(of: R.self)
        var writer = ProtocolWriter()
        try RequestHeader(apiKey: R.apiKey.rawValue, apiVersion: version, correlationId: correlationId, clientId: "in-process").write(to: &writer)
        try request.write(version: version, to: &writer)
        guard let response = try await broker.handle(frame: writer.bytes) else { return nil }
        return (version, try Self.splice(response))
    }

    /// Sends `request` and decodes the response as `S`, checking the correlation id and that
    /// every byte was read.
    func send<R: KafkaMessage, S: KafkaMessage>(_ request: R, version: Int16? = nil, as _: S.Type = S.self) async throws -> S {
        guard let (version, bytes) = try await exchange(request, version: version, correlationId: 42) else {
            throw Failure(description: "no response to \(R.apiKey)")
        }
        var reader = ProtocolReader(bytes)
        guard try reader.readInt32() == 42 else { throw Failure(description: "wrong correlation id") }
        if S.apiKey != .apiVersions && S.apiKey.isFlexible(version) { try reader.skipTaggedFields() }
        let response = try S.read(version: version, from: &reader)
        try reader.expectEnd()
        return response
    }

    /// The response's bytes with each file part read in at its place, as the socket gets them.
    static func splice(_ response: BrokerResponse) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var copied = 0
        for part in response.fileParts {
            bytes += response.bytes[copied..<part.position]
            copied = part.position
            var chunk = [UInt8](repeating: 0, count: part.count)
            let read = chunk.withUnsafeMutableBytes { pread(part.descriptor, $0.baseAddress, part.count, off_t(part.fileOffset)) }
            guard read == part.count else { throw Failure(description: "short read of a file part: \(read) of \(part.count)") }
            bytes += chunk
        }
        bytes += response.bytes[copied...]
        for part in response.fileParts { part.lease.release() }
        return bytes
    }
}
