import ArgumentParser
import PetrelClient

/// `petrel groups list`: every group of the cluster (ListGroups to each broker), with its
/// protocol type, state and coordinator.
struct GroupsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the cluster's groups with their protocol type and state.",
        discussion: "Asks every broker that Metadata names (each lists the groups it coordinates)."
    )

    /// Kafka's names of classic group states, which --state is matched against case-insensitively.
    static let states = ["Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"]

    @OptionGroup var cluster: ClusterOptions

    @Option(name: .customLong("state"), parsing: .upToNextOption,
            help: ArgumentHelp("Only groups in these states (\(GroupsListCommand.states.joined(separator: ", "))).", valueName: "state"))
    var stateNames: [String] = []

    func validate() throws {
        for name in stateNames where Self.canonical(name) == nil {
            throw ValidationError("unknown state '\(name)': one of \(Self.states.joined(separator: ", "))")
        }
    }

    static func canonical(_ name: String) -> String? { states.first { $0.lowercased() == name.lowercased() } }

    func run() throws {
        let states = stateNames.compactMap(Self.canonical)
        let json = cluster.json
        try cluster.run { cluster in
            let listing: (groups: [GroupListing], failures: [ClientError])
            do throws(ClientError) {
                listing = try await cluster.listGroups(states: states)
            } catch {
                return GroupsOutput.failed("list", error)
            }
            let (groups, failures) = listing
            if json {
                GroupsOutput.printJSON([
                    "groups": groups.map { ["group": $0.groupId, "protocolType": $0.protocolType, "state": $0.state,
                                            "coordinator": $0.coordinator.description] },
                    "errors": failures.map(\.description),
                ])
            } else {
                var table = TextTable("GROUP", "PROTOCOL-TYPE", "STATE", "COORDINATOR")
                for group in groups {
                    table.append([group.groupId, group.protocolType.isEmpty ? "-" : group.protocolType, group.state, group.coordinator.description])
                }
                print(table.text)
            }
            for failure in failures { printError("petrel groups list: \(failure)") }
            return Self.status(failures)
        }
    }

    /// 2 when a broker could not be reached, 1 when one answered with an error, else 0.
    static func status(_ failures: [ClientError]) -> Int32 {
        if failures.contains(where: { if case .brokerError = $0.reason { false } else { true } }) { return GroupsCommand.exitUsage }
        return failures.isEmpty ? GroupsCommand.exitSuccess : GroupsCommand.exitItemError
    }
}
