import Foundation

/// Runs the suite (or some of its workloads) on a fresh data directory and writes the JSON
/// result, a Markdown table and an SVG chart into the output directory.
public struct BenchRunner {
    public var quick = false
    /// Workload names to run (all when empty).
    public var only: [String] = []
    public var dataDirectory: String
    public var outputDirectory: String
    public var includePeers = true
    /// Only the consumer-group figures (Petrel's broker and Tansu): no storage workload, no other peer.
    public var groupsOnly = false
    public var log: (String) -> Void = { print($0) }

    public init(dataDirectory: String, outputDirectory: String) {
        self.dataDirectory = dataDirectory
        self.outputDirectory = outputDirectory
    }

    public static var workloadNames: [String] { Workloads.suite().map(\.name) }

    /// - Returns: the report written.
    @discardableResult
    public func run() throws -> BenchReport {
        let started = Date()
        try? FileManager.default.removeItem(atPath: dataDirectory)
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        let context = BenchContext(root: dataDirectory, quick: quick)
        context.crcBytesPerSecond = Baselines.crc32c()
        context.memoryReadBytesPerSecond = Baselines.memoryRead(quick: quick)
        let memcpy = Baselines.memcpy()
        log(String(format: "baselines: CRC32C %.2f GB/s, memory read %.2f GB/s, memcpy %.2f GB/s",
                   context.crcBytesPerSecond / 1e9, context.memoryReadBytesPerSecond / 1e9, memcpy / 1e9))
        var results: [WorkloadResult] = []
        for workload in Workloads.suite() where !groupsOnly && (only.isEmpty || only.contains(workload.name)) {
            let result = try workload.run(context)
            log(BenchReportFormatting.line(result))
            results.append(result)
        }
        try context.readableLog?.close()
        var peers = includePeers && !groupsOnly ? Peers.all(directory: dataDirectory, valueBytes: 1024, quick: quick) : []
        if includePeers && !groupsOnly {
            // Brokers with 100 B records, and Redis Streams with the same, for the broker goals.
            peers.append(Peers.redisStreams(directory: dataDirectory, valueBytes: 100, fsync: "everysec", quick: quick))
            peers += BrokerBenchmarks.run(directory: dataDirectory, quick: quick)
        }
        for peer in peers { log(BenchReportFormatting.line(peer)) }
        let groups = includePeers || groupsOnly ? GroupBenchmarks.run(directory: dataDirectory, quick: quick) : []
        for group in groups { log(BenchReportFormatting.line(group)) }
        var baselines = ["crc32cMBps": context.crcBytesPerSecond / 1e6, "memoryReadMBps": context.memoryReadBytesPerSecond / 1e6,
                         "memcpyMBps": memcpy / 1e6]
        if let fsyncRate = Baselines.fio(["--rw=write", "--bs=4k", "--size=64M", "--fdatasync=1", "--runtime=1", "--time_based"],
                                         directory: dataDirectory)?.iops {
            baselines["fioFdatasyncPerSecond"] = fsyncRate
        }
        let formatter = ISO8601DateFormatter()
        let report = BenchReport(
            startedAt: formatter.string(from: started), finishedAt: formatter.string(from: Date()), quick: quick,
            machine: Self.machine(directory: outputDirectory), toolchain: Self.toolchain(), commit: Self.commit(),
            configuration: ["dataDirectory": dataDirectory, "appendBytesMax": "\(context.appendBytesMax)",
                            "workloads": only.isEmpty ? "all" : only.joined(separator: ","), "peers": "\(includePeers)"],
            baselines: baselines, workloads: results, peers: peers, groups: groups)
        try BenchReportFormatting.write(report, to: outputDirectory)
        return report
    }

    static func machine(directory: String) -> BenchReport.Machine {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let cpu = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }.map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let kernel = ((try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)) ?? "unknown").trimmingCharacters(in: .whitespacesAndNewlines)
        let filesystem = Processes.find("findmnt").flatMap { Processes.run($0, ["-no", "FSTYPE,SOURCE", "-T", directory])?.output }?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        return .init(cpu: cpu, cores: ProcessInfo.processInfo.activeProcessorCount, memoryBytes: Int(ProcessInfo.processInfo.physicalMemory),
                     kernel: kernel, filesystem: filesystem)
    }

    static func toolchain() -> String {
        Processes.run("/bin/sh", ["-c", "swift --version 2>&1"])?.output.split(separator: "\n").first { $0.contains("Swift version") }
            .map(String.init) ?? "unknown"
    }

    static func commit() -> String {
        Processes.find("git").flatMap { Processes.run($0, ["rev-parse", "HEAD"])?.output.trimmingCharacters(in: .whitespacesAndNewlines) }
            .flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
    }
}
