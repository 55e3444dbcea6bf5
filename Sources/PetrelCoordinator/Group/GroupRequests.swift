public import PetrelProtocol
public import PetrelStorage

/// A protocol a member can run (an assignor, for consumers: `range`, `roundrobin`, `sticky`),
/// with the member's metadata for it (its subscription), opaque to the coordinator.
public struct GroupProtocol: Sendable, Equatable {
    public var name: String
    public var metadata: [UInt8]
    public init(name: String, metadata: [UInt8]) {
        self.name = name
        self.metadata = metadata
    }
}

/// What a JoinGroup asks.
public struct JoinGroupParameters: Sendable {
    public var groupId: String
    /// Empty on a member's first join.
    public var memberId: String
    public var groupInstanceId: String?
    public var clientId: String
    public var clientHost: String
    public var sessionTimeoutMs: Int32
    public var rebalanceTimeoutMs: Int32
    public var protocolType: String
    public var protocols: [GroupProtocol]
    /// JoinGroup v4 and later (KIP-394): a new dynamic member is first given its id with
    /// MEMBER_ID_REQUIRED and joins again with it.
    public var requiresKnownMemberId: Bool

    public init(groupId: String, memberId: String, groupInstanceId: String?, clientId: String, clientHost: String,
                sessionTimeoutMs: Int32, rebalanceTimeoutMs: Int32, protocolType: String, protocols: [GroupProtocol],
                requiresKnownMemberId: Bool) {
        self.groupId = groupId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.protocolType = protocolType
        self.protocols = protocols
        self.requiresKnownMemberId = requiresKnownMemberId
    }
}

/// A member as the leader sees it in its JoinGroup answer: its metadata for the chosen protocol.
public struct JoinedMember: Sendable, Equatable {
    public var memberId: String
    public var groupInstanceId: String?
    public var metadata: [UInt8]
}

/// A JoinGroup's answer.
public struct JoinGroupResult: Sendable, Equatable {
    public var errorCode: ErrorCode
    public var generationId: Int32 = -1
    public var protocolType: String?
    public var protocolName: String?
    public var leaderId = ""
    public var memberId = ""
    /// Every member, for the leader only (it computes the assignment); empty for the others.
    public var members: [JoinedMember] = []

    public init(errorCode: ErrorCode, memberId: String = "") {
        self.errorCode = errorCode
        self.memberId = memberId
    }
}

/// What a SyncGroup asks: the leader sends every member's assignment, the others none.
public struct SyncGroupParameters: Sendable {
    public var groupId: String
    public var generationId: Int32
    public var memberId: String
    public var groupInstanceId: String?
    public var protocolType: String?
    public var protocolName: String?
    public var assignments: [(memberId: String, assignment: [UInt8])]

    public init(groupId: String, generationId: Int32, memberId: String, groupInstanceId: String?, protocolType: String?,
                protocolName: String?, assignments: [(memberId: String, assignment: [UInt8])]) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.protocolType = protocolType
        self.protocolName = protocolName
        self.assignments = assignments
    }
}

/// A SyncGroup's answer: the member's own assignment.
public struct SyncGroupResult: Sendable, Equatable {
    public var errorCode: ErrorCode
    public var protocolType: String?
    public var protocolName: String?
    public var assignment: [UInt8] = []

    public init(errorCode: ErrorCode) { self.errorCode = errorCode }
}

/// One member a LeaveGroup removes: by member id, by instance id (static members), or both.
public struct LeavingMember: Sendable, Equatable {
    public var memberId: String
    public var groupInstanceId: String?
    public init(memberId: String, groupInstanceId: String?) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
    }
}

/// One offset an OffsetCommit carries.
public struct OffsetToCommit: Sendable, Equatable {
    public var partition: TopicPartition
    public var offset: Int64
    public var leaderEpoch: Int32
    public var metadata: String?
    public init(partition: TopicPartition, offset: Int64, leaderEpoch: Int32, metadata: String?) {
        self.partition = partition
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
    }
}

/// What an OffsetCommit asks. Generation -1 with an empty member id is a commit from outside
/// group management (an admin tool, a consumer using `assign()`).
public struct OffsetCommitParameters: Sendable {
    public var groupId: String
    public var generationId: Int32
    public var memberId: String
    public var groupInstanceId: String?
    public var offsets: [OffsetToCommit]
    public init(groupId: String, generationId: Int32, memberId: String, groupInstanceId: String?, offsets: [OffsetToCommit]) {
        self.groupId = groupId
        self.generationId = generationId
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.offsets = offsets
    }
}

/// A committed offset as OffsetFetch returns it.
public struct CommittedOffset: Sendable, Equatable {
    public var offset: Int64
    public var leaderEpoch: Int32
    public var metadata: String
    public var commitTimestampMs: Int64
    /// Where the commit's record is in the offsets partition: a commit replaces another only
    /// when its record is later, so the state is the log's whatever order appends complete in.
    var recordOffset: Int64
}

/// A group as ListGroups lists it.
public struct GroupListing: Sendable, Equatable {
    public var groupId: String
    public var protocolType: String
    public var state: GroupState
}

/// A group as DescribeGroups describes it.
public struct GroupDescription: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var memberId: String
        public var groupInstanceId: String?
        public var clientId: String
        public var clientHost: String
        /// The member's metadata for the chosen protocol (its subscription), empty before a
        /// protocol is chosen.
        public var metadata: [UInt8]
        public var assignment: [UInt8]
    }

    public var errorCode: ErrorCode
    public var groupId: String
    public var state: GroupState
    public var protocolType: String
    public var protocolName: String
    public var members: [Member]
}
