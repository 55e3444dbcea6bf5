import ArgumentParser

@main
struct Petrel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "petrel",
        abstract: "A persistent log-storage engine with a Kafka-compatible broker.",
        version: PetrelVersion.current,
        subcommands: []
    )
}

enum PetrelVersion {
    static let current = "0.1.0-dev"
}
