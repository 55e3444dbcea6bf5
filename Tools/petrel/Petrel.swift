import ArgumentParser

@main
struct Petrel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "petrel",
        abstract: "A persistent log-storage engine with a Kafka-compatible broker.",
        discussion: """
            Petrel stores Kafka RecordBatch v2 data byte for byte as Apache Kafka does. This build \
            has the storage engine's offline tools; the broker comes next.
            """,
        version: PetrelVersion.current,
        subcommands: [LogCommand.self, DumpCommand.self, BatchCommand.self]
    )
}

enum PetrelVersion {
    static let current = "0.1.0-dev"
}
