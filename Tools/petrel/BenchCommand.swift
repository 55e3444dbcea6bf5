import ArgumentParser
import Foundation
import PetrelBench

/// `petrel bench`: the storage workloads beside this machine's limits and peer systems, measured
/// in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure storage workloads against this machine's limits and against peers, in one run.",
        discussion: """
            Each workload runs on a fresh data directory; right before and after it, the physical \
            baseline for the same pattern is measured (fio for the write pattern and sync cadence, \
            memory read bandwidth, CRC32C), and the ratio is reported. Peers (RocksDB db_bench, Redis \
            Streams with AOF) run when installed and are skipped with a note otherwise. Writes \
            bench-result.json, bench-result.md and bench-result.svg to --output. Build in release \
            (swift build -c release) for meaningful figures; the default suite takes a few minutes, \
            --quick under one.
            """
    )

    @Flag(help: "Small sizes and short runs (a smoke test; under a minute).")
    var quick = false

    @Option(help: "Where the result files go.")
    var output: String = "bench-results"

    @Option(help: "Scratch data directory (removed afterwards); put it on the disk to measure.")
    var dataDir: String = ".build/bench-data"

    @Option(parsing: .upToNextOption, help: "Run only these workloads (see --list).")
    var workloads: [String] = []

    @Flag(help: "Skip the peer systems.")
    var noPeers = false

    @Flag(help: "Only the consumer-group benchmarks (rebalance time, commits per second; Petrel's broker and Tansu).")
    var groupsOnly = false

    @Flag(help: "List the workloads and exit.")
    var list = false

    func validate() throws {
        let unknown = workloads.filter { !BenchRunner.workloadNames.contains($0) }
        if !unknown.isEmpty { throw ValidationError("unknown workloads: \(unknown.joined(separator: ", ")); see --list") }
    }

    func run() throws {
        if list {
            for name in BenchRunner.workloadNames { print(name) }
            return
        }
        var runner = BenchRunner(dataDirectory: dataDir, outputDirectory: output)
        runner.quick = quick
        runner.only = workloads
        runner.includePeers = !noPeers
        runner.groupsOnly = groupsOnly
        try runner.run()
        print("results: \(output)/bench-result.json, .md, .svg")
    }
}
