import ArgumentParser
import Foundation

@main
struct Petrel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "petrel",
        abstract: "A persistent log-storage engine with a Kafka-compatible broker.",
        discussion: """
            Petrel stores Kafka RecordBatch v2 data byte for byte as Apache Kafka does. `petrel broker` \
            runs a single-node Kafka-compatible broker; the other commands work on data directories \
            offline (fsck and dump read directories written by Apache Kafka too).
            """,
        version: PetrelVersion.current,
        subcommands: [BrokerCommand.self, LogCommand.self, FsckCommand.self, DumpCommand.self, BatchCommand.self, BenchCommand.self,
                      GroupsCommand.self]
    )
}

extension Petrel {
    /// Usage-error exit statuses of commands that document their own instead of ArgumentParser's 64.
    static let usageExitStatus: [String: Int32] = ["fsck": FsckCommand.exitUsage, "groups": GroupsCommand.exitUsage]

    /// As ArgumentParser's, except that `petrel fsck` reports usage errors with fsck(8)'s 16, and
    /// `petrel groups` with 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if let name = CommandLine.arguments.dropFirst().first, let status = usageExitStatus[name],
               exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(status)
            }
            exit(withError: error)
        }
    }
}

enum PetrelVersion {
    static let current = "0.1.0-dev"
}
