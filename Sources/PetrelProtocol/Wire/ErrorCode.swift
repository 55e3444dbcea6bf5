/// A Kafka error code (apache/kafka `Errors.java`). Open, not an enum: a response or request
/// may carry a code this build does not name, and decoding it must not fail. The static
/// members are the codes this broker answers with.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible, Error {
    public let rawValue: Int16

    public init(rawValue: Int16) { self.rawValue = rawValue }

    public var description: String { "error \(rawValue)" }

    public static let none = ErrorCode(rawValue: 0)
    public static let offsetOutOfRange = ErrorCode(rawValue: 1)
    public static let corruptMessage = ErrorCode(rawValue: 2)
    public static let unknownTopicOrPartition = ErrorCode(rawValue: 3)
    public static let leaderNotAvailable = ErrorCode(rawValue: 5)
    public static let requestTimedOut = ErrorCode(rawValue: 7)
    public static let messageTooLarge = ErrorCode(rawValue: 10)
    public static let invalidTopicException = ErrorCode(rawValue: 17)
    public static let invalidPartitions = ErrorCode(rawValue: 37)
    public static let invalidReplicationFactor = ErrorCode(rawValue: 38)
    public static let invalidReplicaAssignment = ErrorCode(rawValue: 39)
    public static let topicAlreadyExists = ErrorCode(rawValue: 36)
    public static let unsupportedVersion = ErrorCode(rawValue: 35)
    public static let outOfOrderSequenceNumber = ErrorCode(rawValue: 45)
    public static let invalidProducerEpoch = ErrorCode(rawValue: 47)
    public static let transactionalIdAuthorizationFailed = ErrorCode(rawValue: 53)
    public static let invalidConfig = ErrorCode(rawValue: 40)
    public static let invalidRequest = ErrorCode(rawValue: 42)
    public static let policyViolation = ErrorCode(rawValue: 44)
    public static let kafkaStorageError = ErrorCode(rawValue: 56)
    public static let invalidRecord = ErrorCode(rawValue: 87)
    // The group coordinator's.
    public static let offsetMetadataTooLarge = ErrorCode(rawValue: 12)
    public static let coordinatorLoadInProgress = ErrorCode(rawValue: 14)
    public static let coordinatorNotAvailable = ErrorCode(rawValue: 15)
    public static let notCoordinator = ErrorCode(rawValue: 16)
    public static let illegalGeneration = ErrorCode(rawValue: 22)
    public static let inconsistentGroupProtocol = ErrorCode(rawValue: 23)
    public static let unknownMemberId = ErrorCode(rawValue: 25)
    public static let invalidSessionTimeout = ErrorCode(rawValue: 26)
    public static let rebalanceInProgress = ErrorCode(rawValue: 27)
    public static let invalidCommitOffsetSize = ErrorCode(rawValue: 28)
    public static let nonEmptyGroup = ErrorCode(rawValue: 68)
    public static let groupIdNotFound = ErrorCode(rawValue: 69)
    public static let memberIdRequired = ErrorCode(rawValue: 79)
    public static let fencedInstanceId = ErrorCode(rawValue: 82)
    public static let groupMaxSizeReached = ErrorCode(rawValue: 81)
    public static let groupSubscribedToTopic = ErrorCode(rawValue: 86)
    public static let unstableOffsetCommit = ErrorCode(rawValue: 88)
}
