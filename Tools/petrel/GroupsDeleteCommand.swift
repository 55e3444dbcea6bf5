import ArgumentParser
import PetrelClient
import PetrelProtocol

/// `petrel groups delete`: DeleteGroups at each group's coordinator, which deletes only groups
/// without members (with their committed offsets).
struct GroupsDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete groups that have no active members, with their committed offsets.",
        discussion: "Prints each group's result: deleted, NON_EMPTY_GROUP (it has active members) or GROUP_ID_NOT_FOUND."
    )

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "The groups to delete.")
    var groups: [String]

    func run() throws {
        let json = cluster.json
        try cluster.runPerGroup(groups) { cluster, groupId in
            do throws(ClientError) {
                let code = try await cluster.deleteGroup(groupId)
                if !json { print("\(groupId): \(code == .none ? "deleted" : GroupsOutput.explained(code))") }
                return (code == .none ? GroupsCommand.exitSuccess : GroupsCommand.exitItemError, ["group": groupId, "error": GroupsOutput.json(code)])
            } catch {
                return (GroupsOutput.failed("delete", error), ["group": groupId, "error": error.description])
            }
        }
    }
}
