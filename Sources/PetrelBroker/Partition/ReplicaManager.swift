import Logging
import PetrelFormat
import PetrelProtocol
import PetrelStorage

/// The partitions this broker leads, and the two things done to them: appending records
/// (`appendRecords(_:acks:timeoutMs:)`) and fetching them (`fetchMessages(_:)`). Handlers call
/// it; it reaches blocking storage work only through the `StorageExecutor`, and wakes waiting
/// fetches through the purgatory, per partition.
final class ReplicaManager: Sendable {
    let manager: LogManager
    let executor: StorageExecutor
    let purgatory: Purgatory
    let fetchBytesMax: Int
    let fetchWaitMsMax: Int64
    let logger = Logger(label: "petrel.replica-manager")

    init(manager: LogManager, executor: StorageExecutor, purgatory: Purgatory, fetchBytesMax: Int, fetchWaitMsMax: Int64) {
        self.manager = manager
        self.executor = executor
        self.purgatory = purgatory
        self.fetchBytesMax = fetchBytesMax
        self.fetchWaitMsMax = fetchWaitMsMax
    }

    func partition(_ topicPartition: TopicPartition) -> Partition? {
        manager.log(for: topicPartition).map { Partition(topicPartition: topicPartition, log: $0) }
    }

    /// The partition named by a request, or nil (also for a name or index no log can have).
    func partition(_ topic: String, _ index: Int32) -> Partition? {
        guard index >= 0, TopicPartition.isValidTopicName(topic) else { return nil }
        return partition(TopicPartition(topic: topic, partition: index))
    }

    /// A storage error as the Kafka error a client acts on.
    static func errorCode(for error: StorageError) -> ErrorCode {
        switch error.code {
        case .outOfOrderSequence: .outOfOrderSequenceNumber
        case .invalidProducerEpoch: .invalidProducerEpoch
        case .invalidBatch: .corruptMessage
        case .batchTooLarge: .messageTooLarge
        case .invalidAppend, .recordsWithoutKey: .invalidRecord
        case .offsetOutOfRange: .offsetOutOfRange
        default: .kafkaStorageError
        }
    }

    /// A read that failed: the offset moved out of range under it (retention), or the storage
    /// could not read it (KAFKA_STORAGE_ERROR: the client retries, and the error is logged).
    static func fetchErrorCode(for error: any Error) -> ErrorCode {
        if let error = error as? StorageError, case .offsetOutOfRange = error.code { return .offsetOutOfRange }
        return .kafkaStorageError
    }
}
