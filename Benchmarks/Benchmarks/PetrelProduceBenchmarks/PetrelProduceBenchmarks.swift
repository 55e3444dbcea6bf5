import Benchmark
import Foundation
import PetrelBroker
import PetrelFormat
import PetrelProtocol

/// Allocations per produce request handled in process: the request is encoded once, and each
/// iteration hands its frame to the broker (`Broker.handle(frame:)`, read in place, as the
/// network layer does) and awaits the response (acks=1: appended to the page cache). The shapes
/// go from 1 partition × 1 record to 64 × 64, so the figures show whether allocations per
/// request depend on the records or partitions it carries. Records are 100 B values.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .mallocCountSmall, .mallocCountLarge],
        warmupIterations: 10,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )

    let broker = ProduceWorkload.broker()
    for (partitions, records) in [(1, 1), (1, 256), (16, 16), (64, 64)] {
        let frame = ProduceWorkload.frame(partitions: partitions, recordsPerPartition: records)
        // Bounded so that the log stays small: the widest request carries about 450 KB.
        let configuration = Benchmark.Configuration(maxIterations: partitions * records >= 4096 ? 1_000 : 10_000)
        Benchmark("Produce \(partitions)x\(records)", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try await broker.handle(frame: frame))
            }
        }
    }
}
