import ArgumentParser
import Dispatch
import Foundation
import PetrelBroker

/// `petrel broker`: the Kafka-compatible broker on an embedded default (a local data directory,
/// 127.0.0.1:9092, no other service).
struct BrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run the Kafka-compatible broker (single node).",
        discussion: """
            Defaults: data in ./petrel-data, listening on 127.0.0.1:9092. --config reads a Kafka-style \
            properties file (log.dirs, listeners, advertised.listeners, num.partitions, log.segment.bytes, log.retention.*, \
            message.max.bytes, auto.create.topics.enable, log.flush.interval.messages/ms, …); options \
            given on the command line override it. SIGTERM or SIGINT shuts down cleanly (flush, \
            checkpoints, clean-shutdown marker).
            """
    )

    @Option(help: "Kafka-style properties file.")
    var config: String?

    @Option(help: "Data directory (log.dirs).")
    var dataDir: String?

    @Option(help: "Listener host:port (listeners).")
    var listen: String?

    @Option(help: "Advertised host:port (advertised.listeners).")
    var advertise: String?

    @Option(help: "Partitions of auto-created topics (num.partitions).")
    var numPartitions: Int32?

    func run() throws {
        var settings = BrokerConfig()
        if let config {
            let unknown = try settings.apply(properties: String(contentsOfFile: config, encoding: .utf8))
            if !unknown.isEmpty { printError("petrel broker: ignoring unsupported settings: \(unknown.joined(separator: ", "))") }
        }
        if let dataDir {
            settings.dataDirectory = dataDir
            settings.givenSettings.insert("log.dirs")
        }
        if let listen { _ = try settings.apply(properties: "listeners=\(listen)") }
        if let advertise { _ = try settings.apply(properties: "advertised.listeners=\(advertise)") }
        if let numPartitions {
            settings.numPartitions = numPartitions
            settings.givenSettings.insert("num.partitions")
        }
        let server = try BrokerServer(broker: try Broker(config: settings))
        FileHandle.standardOutput.write(Data("petrel broker listening on \(settings.host):\(server.localPort ?? settings.port), data in \(settings.dataDirectory)\n".utf8))
        let signals = [SIGTERM, SIGINT].map { signalNumber -> any DispatchSourceSignal in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                do {
                    try server.shutdown()
                    Foundation.exit(0)
                } catch {
                    printError("petrel broker: shutdown failed: \(error)")
                    Foundation.exit(1)
                }
            }
            source.resume()
            return source
        }
        withExtendedLifetime(signals) { try? server.wait() }
        dispatchMain()
    }
}
