/// One workload's figures: what Petrel did, the physical baseline for the same pattern measured
/// in the same run, and the ratio between them. Encoded as JSON by `BenchReport`.
public struct WorkloadResult: Codable, Sendable {
    public var name: String
    public var description: String
    public var parameters: [String: String]
    public var records: Int
    public var bytes: Int
    public var seconds: Double
    public var recordsPerSecond: Double
    public var megabytesPerSecond: Double
    /// Latency of one operation (an append call, a lookup), when measured, in microseconds.
    public var latencyMicroseconds: Latency?
    public var cpuSeconds: Double
    public var peakRSSBytes: Int
    public var fsyncs: Int
    public var baseline: Baseline?
    /// Petrel's figure divided by the baseline's (same unit), when there is a baseline.
    public var ratio: Double?
    /// A goal from the issues this workload checks, and whether this run met it.
    public var goal: Goal?
    public var notes: [String] = []

    public struct Latency: Codable, Sendable {
        public var p50: Double, p99: Double, p999: Double, max: Double
    }

    public struct Baseline: Codable, Sendable {
        public var name: String
        public var unit: String
        /// Measured right before and right after Petrel's workload.
        public var before: Double?
        public var after: Double?
        public var value: Double
    }

    public struct Goal: Codable, Sendable {
        public var text: String
        public var met: Bool
    }
}

/// A peer system measured in the same run (RocksDB, Redis Streams), or why it was skipped.
public struct PeerResult: Codable, Sendable {
    public var name: String
    public var command: String
    public var skipped: String?
    public var operationsPerSecond: Double?
    public var megabytesPerSecond: Double?
    public var valueBytes: Int
    public var sync: String
    /// For servers: CPU seconds the server process used during the run, and its peak RSS.
    public var serverCPUSeconds: Double?
    public var serverPeakRSSBytes: Int?
    /// For produce runs under rdkafka_performance: the 99th percentile delivery latency.
    public var p99LatencyMs: Double?
    /// For servers under rdkafka_performance: server CPU time per message of the run.
    public var serverCPUMicrosecondsPerMessage: Double?
}

/// A consumer-group figure of one broker (`GroupBenchmarks`): rebalance times, or committed
/// offsets per second, or why it was skipped.
public struct GroupBenchResult: Codable, Sendable {
    public var name: String
    public var broker: String
    public var skipped: String?
    public var parameters: [String: String] = [:]
    /// The delay the protocol itself puts in a rebalance (members hear of it at their next
    /// heartbeat): the heartbeat interval.
    public var configuredDelayMs: Double?
    public var rebalanceMs: Rebalances?
    public var commitsPerSecond: Double?
    /// Requests answered with an error or not answered, over the run.
    public var requestFailures: Int?
    public var goal: WorkloadResult.Goal?

    public struct Rebalances: Codable, Sendable {
        public var median: Double, p99: Double, max: Double
        public var joinMedian: Double, departureMedian: Double
        public var count: Int
    }

    public init(name: String, broker: String, skipped: String? = nil) {
        self.name = name
        self.broker = broker
        self.skipped = skipped
    }
}

/// A whole run: where, with what, and every figure.
public struct BenchReport: Codable, Sendable {
    public var schemaVersion = 1
    public var startedAt: String
    public var finishedAt: String
    public var quick: Bool
    public var machine: Machine
    public var toolchain: String
    public var commit: String
    public var configuration: [String: String]
    public var baselines: [String: Double]
    public var workloads: [WorkloadResult]
    public var peers: [PeerResult]
    public var groups: [GroupBenchResult]

    public struct Machine: Codable, Sendable {
        public var cpu: String
        public var cores: Int
        public var memoryBytes: Int
        public var kernel: String
        public var filesystem: String
    }
}
