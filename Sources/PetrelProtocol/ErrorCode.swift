/// Kafka's error codes that this broker answers with (apache/kafka `Errors.java`).
public enum ErrorCode: Int16, Sendable {
    case none = 0
    case offsetOutOfRange = 1
    case corruptMessage = 2
    case unknownTopicOrPartition = 3
    case leaderNotAvailable = 5
    case requestTimedOut = 7
    case messageTooLarge = 10
    case invalidTopicException = 17
    case invalidPartitions = 37
    case invalidReplicationFactor = 38
    case invalidReplicaAssignment = 39
    case topicAlreadyExists = 36
    case unsupportedVersion = 35
    case outOfOrderSequenceNumber = 45
    case invalidProducerEpoch = 47
    case transactionalIdAuthorizationFailed = 53
    case invalidConfig = 40
    case invalidRequest = 42
    case policyViolation = 44
    case kafkaStorageError = 56
    case invalidRecord = 87
}
