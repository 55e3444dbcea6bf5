import Foundation
@testable import PetrelBroker
import PetrelFormat
import PetrelProtocol
import PetrelStorage
import Synchronization
import Testing

/// A produce's records reach `pwritev` from the request frame's own memory: no userland copy
/// between the frame as it arrived and the write.
@Suite struct ZeroCopyProduceTests {
    let directory = BrokerTestDirectory()

    @Test func aProducesRecordsAreWrittenFromInsideTheFrame() async throws {
        let io = WriteRecordingFileIO()
        var config = BrokerConfig()
        config.dataDirectory = directory.path + "/data"
        let broker = try Broker(config: config, io: io)
        defer { try? broker.close() }
        var batches: [[UInt8]] = []
        for partition in 0..<3 {
            var builder = RecordBatchBuilder()
            for index in 0..<(10 * (partition + 1)) { builder.append(key: nil, value: Array("value \(index)".utf8), timestamp: 1_000) }
            batches.append(try builder.build())
        }
        _ = try await InProcessClient(broker: broker).send(CreateTopicsRequest(topics: [.init(name: "lent", numPartitions: 3, replicationFactor: 1)]),
                                                           as: CreateTopicsResponse.self)
        let request = ProduceRequest(acks: -1, timeoutMs: 5_000, topicData: [
            .init(name: "lent", partitionData: batches.enumerated().map { .init(index: Int32($0.offset), records: .bytes($0.element[...])) }),
        ])
        var writer = ProtocolWriter()
        try RequestHeader(apiKey: ApiKey.produce.rawValue, apiVersion: 9, correlationId: 7, clientId: "zero-copy").write(to: &writer)
        try request.write(version: 9, to: &writer)
        let frame = FrameBytes(copying: writer.bytes)
        io.startRecording()
        let response = try #require(try await broker.handle(frame: frame))
        var reader = ProtocolReader(response.bytes)
        #expect(try reader.readInt32() == 7)
        try reader.skipTaggedFields()
        let produced = try ProduceResponse.read(version: 9, from: &reader)
        #expect(produced.responses[0].partitionResponses.map(\.errorCode) == [.none, .none, .none])
        // Each batch is written as its 8-byte base offset (assigned by the log) and the rest,
        // which must be the frame's own bytes: the rest of each batch, where it is in the frame.
        let frameStart = UInt(bitPattern: frame.bytes.baseAddress)
        let frameRange = frameStart..<(frameStart + UInt(frame.bytes.count))
        let fromFrame = io.recordedLogWrites.filter { frameRange.contains($0.start) && frameRange.contains($0.start + UInt($0.count) - 1) }
        #expect(fromFrame.map(\.count).sorted() == batches.map { $0.count - 8 }.sorted())
        for write in fromFrame {
            let written = Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: write.start), count: write.count))
            #expect(batches.contains { Array($0[8...]) == written })
        }
    }
}

/// The system's file I/O, recording where the buffers handed to `pwritev` for segment files
/// (`.log`) are in memory.
final class WriteRecordingFileIO: ForwardingFileIO {
    struct Write: Sendable {
        let start: UInt
        let count: Int
    }

    let underlying: any FileIO = SystemFileIO()
    private let recording = Atomic<Bool>(false)
    private let writes = Locked<[Write]>([])

    func startRecording() { recording.store(true, ordering: .sequentiallyConsistent) }
    var recordedLogWrites: [Write] { writes.withLock { $0 } }

    func pwritev(_ descriptor: Int32, _ buffers: [UnsafeRawBufferPointer], at position: Int64, path: String) throws(StorageError) -> Int {
        if recording.load(ordering: .sequentiallyConsistent), path.hasSuffix(".log") {
            writes.withLock { $0 += buffers.filter { $0.count > 0 }.map { Write(start: UInt(bitPattern: $0.baseAddress), count: $0.count) } }
        }
        return try underlying.pwritev(descriptor, buffers, at: position, path: path)
    }
}
