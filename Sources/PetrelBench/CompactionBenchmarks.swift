import Foundation
import PetrelFormat
import PetrelStorage
import Synchronization

/// The log cleaner's figures: how fast a pass reads a dirty log beside fio's cold sequential
/// read, what cleaning does to the latency of appends running beside it, and the memory a
/// compaction of many distinct keys takes with a small offset map (in a child process, so that
/// its peak resident memory is its own).
enum CompactionBenchmarks {
    static func workloads() -> [Workload] {
        [
            Workload(name: "compact-throughput", description: "one cleaning pass over a cold dirty log (4 records per key)", run: throughput),
            Workload(name: "compact-produce-p99", description: "append latency with and without a cleaner compacting the same log", run: produceLatency),
            Workload(name: "compact-memory", description: "compaction of many distinct keys with a small offset map (child process)", run: memory),
        ]
    }

    /// A compacted log of `bytes` of 1 KiB records over `keys` keys, written in random key order.
    static func dirtyLog(_ directory: String, bytes: Int, keys: Int, segmentBytes: Int, valueBytes: Int = 1024) throws -> Log {
        var config = LogConfig()
        config.cleanupPolicy = .compact
        config.segmentBytes = segmentBytes
        let (log, _) = try Log.open(directory: directory, config: config)
        var generator = SystemRandomNumberGenerator()
        let value = [UInt8](repeating: 0x61, count: valueBytes)
        var written = 0
        while written < bytes {
            var builder = RecordBatchBuilder()
            for _ in 0..<64 {
                builder.append(key: Array("key-\(Int.random(in: 0..<keys, using: &generator))".utf8), value: value, timestamp: 1_700_000_000_000)
            }
            let batch = try builder.build()
            _ = try log.append(batch)
            written += batch.count
        }
        return log
    }

    static func skipped(_ name: String, _ why: String) -> WorkloadResult {
        WorkloadResult(name: name, description: "skipped: \(why)", parameters: [:], records: 0, bytes: 0, seconds: 0, recordsPerSecond: 0,
                       megabytesPerSecond: 0, cpuSeconds: 0, peakRSSBytes: 0, fsyncs: 0, notes: [why])
    }

    static func throughput(_ context: BenchContext) throws -> WorkloadResult {
        let bytes = context.quick ? 64 << 20 : 1 << 30
        let directory = context.directory("compact-throughput")
        var log = try dirtyLog(directory, bytes: bytes, keys: bytes / 1100 / 4, segmentBytes: context.quick ? 8 << 20 : 64 << 20)
        try log.close()
        let cold = Baselines.dropCaches()
        var config = log.config
        config.cleanupPolicy = .compact
        (log, _) = try Log.open(directory: directory, config: config, hadCleanShutdown: true)
        let range = try log.cleanableRange(checkpoint: nil, nowMs: 1_700_000_000_000)
        let map = OffsetMap(memoryBytes: 128 << 20)
        var result: CleaningResult?
        let measurement = try Measurement.of {
            result = try log.clean(checkpoint: nil, map: map, options: CleaningOptions(nowMs: 1_700_000_000_000))
        }
        try log.close()
        try? FileManager.default.removeItem(atPath: directory)
        let dirty = Double(range.cleanableBytes)
        let rate = dirty / measurement.seconds
        var workload = WorkloadResult(
            name: "compact-throughput", description: "one cleaning pass over a \(cold ? "cold" : "warm") dirty log of 1 KiB records, 4 per key",
            parameters: ["dirtyBytes": "\(range.cleanableBytes)", "offsetMapBytes": "\(128 << 20)", "recordBytes": "1024"],
            records: result?.recordsRemoved ?? 0, bytes: Int(range.cleanableBytes), seconds: measurement.seconds,
            recordsPerSecond: Double(result?.recordsRemoved ?? 0) / measurement.seconds, megabytesPerSecond: rate / 1e6,
            cpuSeconds: measurement.cpuSeconds, peakRSSBytes: measurement.peakRSSBytes, fsyncs: 0)
        workload.notes.append(String(format: "pass read %.0f MB (map %.0f MB), wrote %.0f MB, removed %d records",
                                     Double((result?.bytesRead ?? 0) + (result?.dirtyBytesRead ?? 0)) / 1e6, Double(result?.dirtyBytesRead ?? 0) / 1e6,
                                     Double(result?.bytesWritten ?? 0) / 1e6, result?.recordsRemoved ?? 0))
        if !cold { workload.notes.append("the page cache could not be dropped: the log was read warm") }
        if let read = Baselines.fio(["--rw=read", "--bs=1M", "--size=\(range.cleanableBytes)", "--invalidate=1"], directory: context.root, read: true) {
            workload.baseline = .init(name: "fio cold sequential read bs=1M", unit: "MB/s", value: read.bytesPerSecond / 1e6)
            workload.ratio = rate / read.bytesPerSecond
            workload.goal = .init(text: "≥ 0.5× fio's cold sequential read", met: rate / read.bytesPerSecond >= 0.5)
        } else {
            workload.notes.append("fio not installed: no baseline (apt-get install fio)")
        }
        return workload
    }

    /// Paced appends of 16 × 1 KiB batches for `seconds`; each append's latency is recorded.
    static func pacedAppends(_ log: Log, seconds: Double, perSecond: Double) throws -> LatencyRecorder {
        var builder = RecordBatchBuilder()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<16 {
            builder.append(key: Array("key-\(Int.random(in: 0..<100_000, using: &generator))".utf8), value: [UInt8](repeating: 0x62, count: 1024),
                           timestamp: 1_700_000_000_000)
        }
        let batch = try builder.build()
        var latency = LatencyRecorder()
        let start = Clock.now
        var sent = 0.0
        while Clock.seconds(since: start) < seconds {
            // Open loop: the next append is due at its slot, whatever the last one took.
            let due = sent / perSecond
            let now = Clock.seconds(since: start)
            if due > now { usleep(useconds_t((due - now) * 1e6)) }
            try latency.time { _ = try log.append(batch) }
            sent += 1
        }
        return latency
    }

    static func produceLatency(_ context: BenchContext) throws -> WorkloadResult {
        let directory = context.directory("compact-produce")
        let log = try dirtyLog(directory, bytes: context.quick ? 32 << 20 : 256 << 20, keys: 100_000, segmentBytes: 16 << 20)
        let seconds = context.quick ? 2.0 : 8.0
        let rate = 2_000.0
        let quiet = try pacedAppends(log, seconds: seconds, perSecond: rate)
        let stop = Atomic<Bool>(false)
        let passes = Atomic<Int>(0)
        let cleaner = Thread {
            let map = OffsetMap(memoryBytes: 64 << 20)
            var checkpoint: Int64?
            while !stop.load(ordering: .acquiring) {
                guard let result = try? log.clean(checkpoint: checkpoint, map: map, options: CleaningOptions(nowMs: 1_700_000_000_000)) else { break }
                checkpoint = result.endOffset
                passes.add(1, ordering: .relaxed)
            }
        }
        cleaner.start()
        let busy = try pacedAppends(log, seconds: seconds, perSecond: rate)
        stop.store(true, ordering: .releasing)
        while !cleaner.isFinished { usleep(10_000) }
        try log.close()
        try? FileManager.default.removeItem(atPath: directory)
        guard let without = quiet.summary, let with = busy.summary else { return skipped("compact-produce-p99", "no append was timed") }
        var result = WorkloadResult(
            name: "compact-produce-p99", description: "paced appends (\(Int(rate))/s of 16 × 1 KiB) while a cleaner compacts the same log",
            parameters: ["appendsPerSecond": "\(Int(rate))", "seconds": "\(seconds)", "batchBytes": "\(16 * 1024)"],
            records: Int(rate * seconds) * 16, bytes: Int(rate * seconds) * 16 * 1024, seconds: seconds * 2, recordsPerSecond: rate * 16,
            megabytesPerSecond: rate * 16 * 1024 / 1e6, latencyMicroseconds: with, cpuSeconds: 0, peakRSSBytes: 0, fsyncs: 0)
        result.baseline = .init(name: "the same appends without cleaning, p99", unit: "µs", value: without.p99)
        result.ratio = with.p99 / without.p99
        result.goal = .init(text: "p99 with cleaning ≤ 2× without", met: with.p99 <= 2 * without.p99)
        result.notes.append(String(format: "p99 %.0f µs with cleaning (%d passes) against %.0f µs without; p50 %.0f against %.0f µs",
                                   with.p99, passes.load(ordering: .relaxed), without.p99, with.p50, without.p50))
        return result
    }

    static func memory(_ context: BenchContext) throws -> WorkloadResult {
        guard let executable = BrokerBenchmarks.ownExecutable() else { return skipped("compact-memory", "the petrel executable is not known") }
        let keys = context.quick ? 200_000 : 10_000_000
        let bufferBytes = context.quick ? 1 << 20 : 16 << 20
        let dataDirectory = "\(context.root)/compact-memory-data"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dataDirectory) }
        // Distinct keys, each once: nothing is removed, every record stays in the map's way.
        var config = LogConfig()
        config.cleanupPolicy = .compact
        // Many sealed segments, so that nearly all of the log is cleanable.
        let segmentBytes = context.quick ? 4 << 20 : 128 << 20
        config.segmentBytes = segmentBytes
        let (log, _) = try Log.open(directory: "\(dataDirectory)/memory-0", config: config)
        let value = [UInt8](repeating: 0x63, count: 180)
        var key = 0
        while key < keys {
            var builder = RecordBatchBuilder()
            for _ in 0..<min(100, keys - key) {
                builder.append(key: Array(String(format: "key-%012d", key).utf8), value: value, timestamp: 1_700_000_000_000)
                key += 1
            }
            _ = try log.append(try builder.build())
        }
        let logBytes = log.sizeBytes
        try log.close()
        try "{\"version\":0}".write(toFile: "\(dataDirectory)/.kafka_cleanshutdown", atomically: true, encoding: .utf8)
        let started = Clock.now
        guard let (status, output) = Processes.run(executable, ["log", "compact", "--data-dir", dataDirectory, "--topic", "memory",
                                                                "--segment-bytes", "\(segmentBytes)", "--dedupe-buffer-size", "\(bufferBytes)",
                                                                "--now-ms", "1700000000000"], timeoutSeconds: 3_600),
              status == 0 else { return skipped("compact-memory", "petrel log compact failed") }
        let seconds = Clock.seconds(since: started)
        let passes = output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let peak = passes.compactMap { ($0["peakRSSBytes"] as? NSNumber)?.intValue }.max() ?? 0
        let above = peak - bufferBytes
        let constant = 64 << 20
        var result = WorkloadResult(
            name: "compact-memory", description: "compaction of \(keys) distinct keys (\(logBytes >> 20) MiB) with a \(bufferBytes >> 20) MiB offset map, in a child process",
            parameters: ["keys": "\(keys)", "logBytes": "\(logBytes)", "dedupeBufferBytes": "\(bufferBytes)", "passes": "\(passes.count)"],
            records: keys, bytes: logBytes, seconds: seconds, recordsPerSecond: Double(keys) / seconds, megabytesPerSecond: Double(logBytes) / seconds / 1e6,
            cpuSeconds: 0, peakRSSBytes: peak, fsyncs: 0)
        result.goal = .init(text: "several passes, peak RSS ≤ the offset map + 64 MiB", met: passes.count > 1 && above <= constant)
        result.notes.append(String(format: "%d passes; peak RSS %.1f MiB = the %.0f MiB map + %.1f MiB", passes.count, Double(peak) / 1048576,
                                   Double(bufferBytes) / 1048576, Double(above) / 1048576))
        return result
    }
}
