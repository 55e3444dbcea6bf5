import ArgumentParser
import PetrelClient
import PetrelProtocol

/// `petrel groups describe`: a group's state and members, and per partition its committed
/// offset, log end offset, lag and owner — the view `kafka-consumer-groups.sh --describe` gives.
struct GroupsDescribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Describe groups: state, members with their partitions, and offsets and lag per partition.",
        discussion: """
            Members' assignments are decoded from the consumer protocol (protocol type `consumer`). \
            Per partition: the committed offset (OffsetFetch at the coordinator), the log end offset \
            (ListOffsets latest at the partition's leader), the lag between them and the owning member. \
            A group the coordinator does not know is reported as GROUP_ID_NOT_FOUND.
            """
    )

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "The groups to describe.")
    var groups: [String]

    func run() throws {
        let json = cluster.json
        try cluster.runPerGroup(groups) { cluster, groupId in
            do throws(ClientError) {
                let description = try await cluster.describeConsumerGroup(groupId)
                let problem = Self.errorCode(of: description)
                if !json { print(Self.text(description, error: problem) + "\n") }
                return (problem == .none ? GroupsCommand.exitSuccess : GroupsCommand.exitItemError, Self.json(description, error: problem))
            } catch {
                return (GroupsOutput.failed("describe", error), ["group": groupId, "error": error.description])
            }
        }
    }

    /// The group's error: DescribeGroups', OffsetFetch's, GROUP_ID_NOT_FOUND for a Dead group with
    /// nothing in it (Kafka's tool says it does not exist), else the first partition's.
    static func errorCode(of group: ConsumerGroupDescription) -> ErrorCode {
        if group.errorCode != .none { return group.errorCode }
        if group.offsetsErrorCode != .none { return group.offsetsErrorCode }
        if group.state == "Dead" && group.members.isEmpty && group.partitions.isEmpty { return .groupIdNotFound }
        return group.partitions.first { $0.errorCode != .none }?.errorCode ?? .none
    }

    /// A header line, then the members' and the partitions' tables, a blank line apart.
    static func text(_ group: ConsumerGroupDescription, error: ErrorCode) -> String {
        let title = "group \(group.groupId) (coordinator \(group.coordinator))"
        if error == .groupIdNotFound || group.errorCode != .none { return "\(title): \(GroupsOutput.explained(error))" }
        let protocolName = group.protocolName.isEmpty ? "" : "/\(group.protocolName)"
        let protocolType = group.protocolType.isEmpty ? "-" : group.protocolType
        var header = "\(title): \(group.state), protocol \(protocolType)\(protocolName), \(group.members.count) member\(group.members.count == 1 ? "" : "s")"
        if group.offsetsErrorCode != .none { header += "\ncommitted offsets: \(GroupsOutput.explained(group.offsetsErrorCode))" }
        var sections = [header]
        if !group.members.isEmpty {
            var members = TextTable("MEMBER-ID", "INSTANCE-ID", "CLIENT-ID", "HOST", "PARTITIONS")
            for member in group.members {
                let partitions = member.assignmentError.map { "undecodable assignment: \($0)" } ?? Self.compact(member.assignment)
                members.append([member.memberId, member.groupInstanceId ?? "-", member.clientId, member.clientHost, partitions])
            }
            sections.append(members.text)
        }
        if !group.partitions.isEmpty {
            var partitions = TextTable("TOPIC", "PARTITION", "COMMITTED-OFFSET", "LOG-END-OFFSET", "LAG", "OWNER")
            for partition in group.partitions {
                let owner = partition.errorCode == .none ? partition.owner ?? "-" : "\(partition.owner ?? "-") (\(GroupsOutput.explained(partition.errorCode)))"
                partitions.append([partition.partition.topic, String(partition.partition.partition), GroupsOutput.cell(partition.committedOffset),
                                   GroupsOutput.cell(partition.logEndOffset), GroupsOutput.cell(partition.lag), owner])
            }
            sections.append(partitions.text)
        }
        return sections.joined(separator: "\n\n")
    }

    /// `topic:0,1,2 other:3`.
    static func compact(_ partitions: [TopicPartition]) -> String {
        if partitions.isEmpty { return "-" }
        return Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }
            .map { "\($0.key):" + $0.value.map { String($0.partition) }.joined(separator: ",") }.joined(separator: " ")
    }

    static func json(_ group: ConsumerGroupDescription, error: ErrorCode) -> [String: Any] {
        [
            "group": group.groupId, "coordinator": group.coordinator.description, "state": group.state,
            "protocolType": group.protocolType, "protocol": group.protocolName, "error": GroupsOutput.json(error),
            "members": group.members.map { member -> [String: Any] in
                ["memberId": member.memberId, "instanceId": GroupsOutput.json(member.groupInstanceId), "clientId": member.clientId,
                 "host": member.clientHost, "assignmentError": GroupsOutput.json(member.assignmentError),
                 "assignment": member.assignment.map { ["topic": $0.topic, "partition": Int($0.partition)] }]
            },
            "partitions": group.partitions.map { partition -> [String: Any] in
                ["topic": partition.partition.topic, "partition": Int(partition.partition.partition),
                 "committedOffset": GroupsOutput.json(partition.committedOffset), "logEndOffset": GroupsOutput.json(partition.logEndOffset),
                 "lag": GroupsOutput.json(partition.lag), "owner": GroupsOutput.json(partition.owner), "error": GroupsOutput.json(partition.errorCode)]
            },
        ]
    }
}
