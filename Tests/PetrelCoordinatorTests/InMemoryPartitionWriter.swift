import PetrelCoordinator
import PetrelFormat
import PetrelStorage

/// A `PartitionWriter` over memory: appended batches get consecutive offsets (their base offset
/// patched in, as a log does) and are read back whole. Every partition of the watched topic is
/// led here from the start. `failAppends` makes appends fail, as a broken disk would.
final class InMemoryPartitionWriter: PartitionWriter {
    private struct Partition {
        var bytes: [UInt8] = []
        var nextOffset: Int64 = 0
    }

    private let partitions = Locked<[TopicPartition: Partition]>([:])
    private let failing = Locked(false)
    /// Appends waiting for `releaseAppends()` while appends are held.
    private let held = Locked<(holding: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))
    let partitionCount: Int32

    init(partitionCount: Int32) { self.partitionCount = partitionCount }

    func failAppends(_ fail: Bool) { failing.withLock { $0 = fail } }

    /// Appends wait from now on until `releaseAppends()`, as behind a slow disk.
    func holdAppends() { held.withLock { $0.holding = true } }

    var heldAppends: Int { held.withLock { $0.waiting.count } }

    func releaseAppends() {
        let waiting = held.withLock { held in
            held.holding = false
            defer { held.waiting = [] }
            return held.waiting
        }
        for waiter in waiting { waiter.resume() }
    }

    /// Lets the oldest held append through (the others stay held).
    func releaseOldestAppend() {
        let waiter = held.withLock { held in held.waiting.isEmpty ? nil : held.waiting.removeFirst() }
        waiter?.resume()
    }

    /// Lets the newest held append through (the others stay held).
    func releaseNewestAppend() {
        let waiter = held.withLock { held in held.waiting.popLast() }
        waiter?.resume()
    }

    /// Batches appended to `partition` so far.
    func appendedBatches(_ partition: TopicPartition) -> Int {
        let bytes = partitions.withLock { $0[partition]?.bytes ?? [] }
        var count = 0
        bytes.withUnsafeBytes { buffer in
            var reader = RecordBatchReader(buffer)
            do {
                while try reader.next() != nil { count += 1 }
            } catch {
                preconditionFailure("the writer's own batches do not parse: \(error)")
            }
        }
        return count
    }

    func append(_ records: [UInt8], to partition: TopicPartition) async throws(PartitionWriteError) -> Int64 {
        if failing.withLock({ $0 }) { throw PartitionWriteError(.storage, partition: partition, message: "appends fail (test)") }
        await withCheckedContinuation { waiter in
            let wait = held.withLock { held in
                if held.holding { held.waiting.append(waiter) }
                return held.holding
            }
            if !wait { waiter.resume() }
        }
        return partitions.withLock { partitions in
            var stored = partitions[partition] ?? Partition()
            let base = stored.nextOffset
            var batch = records
            withUnsafeBytes(of: base.bigEndian) { for (index, byte) in $0.enumerated() { batch[index] = byte } }
            let lastOffsetDelta = records.withUnsafeBytes { Int32(bigEndian: $0.loadUnaligned(fromByteOffset: 23, as: Int32.self)) }
            stored.bytes += batch
            stored.nextOffset = base + Int64(lastOffsetDelta) + 1
            partitions[partition] = stored
            return base
        }
    }

    func read(_ partition: TopicPartition, fromOffset: Int64, maxBytes: Int) async throws(PartitionWriteError) -> PartitionReadResult {
        let stored = partitions.withLock { $0[partition] ?? Partition() }
        return PartitionReadResult(records: fromOffset == 0 ? stored.bytes : [], highWatermark: stored.nextOffset, logStartOffset: 0)
    }

    func watchLeadership(of topic: String, _ listener: @escaping @Sendable (LeadershipChange) -> Void) {
        for index in 0..<partitionCount {
            listener(LeadershipChange(partition: TopicPartition(topic: topic, partition: index), kind: .elected, leaderEpoch: 0))
        }
    }
}
