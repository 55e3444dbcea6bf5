import ArgumentParser
import Foundation
import PetrelClient
import PetrelProtocol

/// `petrel groups`: what Kafka's `kafka-consumer-groups.sh` does — list, describe (with lag),
/// reset offsets and delete consumer groups — against any Kafka-compatible broker.
struct GroupsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "groups",
        abstract: "List, describe, reset and delete consumer groups on a Kafka-compatible cluster.",
        discussion: """
            Works against any broker that speaks the Kafka protocol (Petrel or Apache Kafka): it \
            negotiates each API's version with ApiVersions, finds each group's coordinator with \
            FindCoordinator, and reads partition leaders from Metadata. Connecting and every answer \
            are bounded by --timeout. Every subcommand takes --json for one JSON object on stdout.

            Exit status: 0 success; 1 the broker reported an error for some group or partition, or \
            refused the operation (a reset of a group with active members); 2 usage error, or a \
            broker could not be reached or answered nothing usable (the message names the broker).
            """,
        subcommands: [GroupsListCommand.self, GroupsDescribeCommand.self, GroupsResetOffsetsCommand.self, GroupsDeleteCommand.self]
    )

    static let exitSuccess: Int32 = 0, exitItemError: Int32 = 1, exitUsage: Int32 = 2
}

/// The options every `petrel groups` subcommand takes: where the cluster is, how long to wait,
/// and the output format.
struct ClusterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A broker of the cluster, to learn the others from.", valueName: "host:port"))
    var bootstrapServer: String

    @Option(help: ArgumentHelp("Seconds to wait for a connection, and then for each answer.", valueName: "seconds"))
    var timeout: Int = 10

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard BrokerAddress(parsing: bootstrapServer) != nil else {
            throw ValidationError("--bootstrap-server must be HOST:PORT, not '\(bootstrapServer)'")
        }
        guard (1...3_600).contains(timeout) else { throw ValidationError("--timeout must be 1-3600 seconds") }
    }

    /// Runs `body` with a client of the cluster, closes its connections, and exits with the
    /// status `body` returns when it is not success.
    func run(_ body: @escaping @Sendable (KafkaCluster) async -> Int32) throws {
        guard let address = BrokerAddress(parsing: bootstrapServer) else { preconditionFailure("validated") }
        let cluster = KafkaCluster(bootstrap: address, requestTimeout: .seconds(timeout))
        let status = runBlocking {
            let status = await body(cluster)
            await cluster.close()
            return status
        }
        if status != GroupsCommand.exitSuccess { throw ExitCode(status) }
    }

    /// Runs `body` for each group in turn and exits with the worst status it returns; with
    /// --json, prints the objects it returns as one `{"groups": [...]}` (text is `body`'s to print).
    func runPerGroup(_ groups: [String],
                     _ body: @escaping @Sendable (KafkaCluster, String) async -> (status: Int32, json: [String: Any])) throws {
        let json = self.json
        try run { cluster in
            var status = GroupsCommand.exitSuccess
            var objects: [[String: Any]] = []
            for group in groups {
                let (groupStatus, object) = await body(cluster, group)
                status = max(status, groupStatus)
                objects.append(object)
            }
            if json { GroupsOutput.printJSON(["groups": objects]) }
            return status
        }
    }
}

/// Output helpers of the groups subcommands.
enum GroupsOutput {
    /// Prints `object` as one line of JSON with sorted keys.
    static func printJSON(_ object: [String: Any]) {
        print(String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
    }

    /// A value for JSON: the number, or null.
    static func json(_ value: Int64?) -> Any { value.map { NSNumber(value: $0) } ?? NSNull() }
    static func json(_ value: String?) -> Any { value ?? NSNull() }
    /// An error code for JSON: its Kafka name, or null for none.
    static func json(_ code: ErrorCode) -> Any { code == .none ? NSNull() : code.name }

    /// A number for a table cell, `-` for none.
    static func cell(_ value: Int64?) -> String { value.map(String.init) ?? "-" }

    /// Kafka's name for the code, with what it means for the group commands when that is not obvious.
    static func explained(_ code: ErrorCode) -> String {
        switch code {
        case .nonEmptyGroup: "NON_EMPTY_GROUP (the group has active members)"
        case .groupIdNotFound: "GROUP_ID_NOT_FOUND (no such group)"
        case .unknownTopicOrPartition: "UNKNOWN_TOPIC_OR_PARTITION (no such topic or partition)"
        default: code.name
        }
    }

    /// Reports a failure that stopped a subcommand (the error names the broker) and gives exit status 2.
    static func failed(_ command: String, _ error: ClientError) -> Int32 {
        printError("petrel groups \(command): \(error)")
        return GroupsCommand.exitUsage
    }
}
