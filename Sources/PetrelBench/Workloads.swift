import Foundation
import PetrelFormat
import PetrelRepair
import PetrelStorage

/// Shared state of one run: where to write, how big, and the baselines measured once.
final class BenchContext: @unchecked Sendable {
    // Safe: used from the harness's single driving thread only.
    let root: String
    let quick: Bool
    var crcBytesPerSecond = 0.0
    var memoryReadBytesPerSecond = 0.0
    /// A warm log left by an append workload, for the read workloads.
    var readableLog: Log?
    var readableLogRecordBytes = 0

    init(root: String, quick: Bool) {
        self.root = root
        self.quick = quick
    }

    var appendBytesMax: Int { quick ? 16 << 20 : 256 << 20 }
    var appendSecondsMax: Double { quick ? 2 : 15 }
    var ackSeconds: Double { quick ? 1 : 3 }

    func directory(_ name: String) -> String { "\(root)/\(name)-0" }
}

enum FsyncMode: String {
    case none, every16MiB = "16mib", beforeAck = "ack"

    /// The flush policy for records of `recordBytes`: "every 16 MiB" is Kafka's `flush.messages`
    /// set to the number of records in 16 MiB.
    func policy(recordBytes: Int) -> FlushPolicy {
        switch self {
        case .none: .kafkaDefault
        case .every16MiB: .interval(messages: Int64((16 << 20) / recordBytes), milliseconds: .max)
        case .beforeAck: .beforeAcknowledge
        }
    }
}

/// A named workload of the suite.
struct Workload {
    let name: String
    let description: String
    let run: (BenchContext) throws -> WorkloadResult
}

enum Workloads {
    static func suite() -> [Workload] {
        var list: [Workload] = []
        for (recordBytes, perBatch, appenders, fsync) in [
            (1024, 64, 1, FsyncMode.none), (1024, 64, 1, .every16MiB), (100, 256, 1, .none), (16 * 1024, 16, 1, .none),
            (1024, 16, 4, .none), (100, 16, 4, .every16MiB), (1024, 1, 1, .beforeAck), (1024, 1, 64, .beforeAck), (100, 1, 4, .beforeAck),
        ] {
            let size = recordBytes >= 1024 ? "\(recordBytes / 1024)k" : "\(recordBytes)b"
            let name = "append-\(size)-b\(perBatch)-x\(appenders)-\(fsync.rawValue)"
            list.append(Workload(name: name, description: "append \(recordBytes) B records, \(perBatch) per batch, \(appenders) appender(s), fsync \(fsync)") {
                try append($0, name: name, recordBytes: recordBytes, perBatch: perBatch, appenders: appenders, fsync: fsync)
            })
        }
        list.append(Workload(name: "read-seq-warm", description: "sequential zero-copy reads of a page-cached log", run: { try readSequential($0, cold: false) }))
        list.append(Workload(name: "read-seq-cold", description: "sequential reads after dropping the page cache", run: { try readSequential($0, cold: true) }))
        list.append(Workload(name: "lookup-offset", description: "random offset lookups (cached)", run: { try lookups($0, byTime: false) }))
        list.append(Workload(name: "lookup-time", description: "random timestamp lookups (cached)", run: { try lookups($0, byTime: true) }))
        list.append(Workload(name: "recovery-unclean", description: "unclean recovery scan of a multi-GB log, cold", run: recovery))
        list.append(Workload(name: "open-clean-segments", description: "clean open of many segments", run: cleanOpen))
        list.append(Workload(name: "fsck", description: "fsck of a page-cached log directory", run: fsck))
        list += CompactionBenchmarks.workloads()
        return list
    }

    static func batch(recordBytes: Int, perBatch: Int, tag: Int) -> [UInt8] {
        var builder = RecordBatchBuilder()
        for index in 0..<perBatch {
            builder.append(key: Array("key-\(index)".utf8), value: [UInt8](repeating: UInt8(65 + (index + tag) % 26), count: recordBytes),
                           timestamp: 1_700_000_000_000 + Int64(tag * perBatch + index))
        }
        return try! builder.build()
    }

    static func fioArguments(batchBytes: Int, fsync: FsyncMode, sizeBytes: Int, seconds: Double) -> [String] {
        switch fsync {
        case .none: ["--rw=write", "--bs=\(batchBytes)", "--size=\(sizeBytes)", "--end_fsync=1"]
        case .every16MiB: ["--rw=write", "--bs=\(batchBytes)", "--size=\(sizeBytes)", "--fdatasync=\(max(1, (16 << 20) / batchBytes))"]
        case .beforeAck: ["--rw=write", "--bs=\(batchBytes)", "--size=64M", "--fdatasync=1", "--runtime=\(max(1, Int(seconds)))", "--time_based"]
        }
    }

    static func append(_ context: BenchContext, name: String, recordBytes: Int, perBatch: Int, appenders: Int, fsync: FsyncMode) throws -> WorkloadResult {
        let batches = (0..<8).map { batch(recordBytes: recordBytes, perBatch: perBatch, tag: $0) }
        let batchBytes = batches[0].count
        let fio = fioArguments(batchBytes: batchBytes, fsync: fsync, sizeBytes: context.appendBytesMax, seconds: context.ackSeconds)
        let before = Baselines.fio(fio, directory: context.root)
        let io = FaultInjectingFileIO()  // no faults: counts fdatasync calls
        var config = LogConfig()
        config.flushPolicy = fsync.policy(recordBytes: recordBytes)
        let (log, _) = try Log.open(directory: context.directory(name), config: config, io: io)
        let bytesTarget = context.appendBytesMax
        let secondsMax = fsync == .beforeAck ? context.ackSeconds : context.appendSecondsMax
        let written = AtomicCounter(), records = AtomicCounter()
        var latency = LatencyRecorder()
        let syncsBefore = io.callCount("fdatasync")
        let measurement = try Measurement.of {
            let start = Clock.now
            if appenders == 1 {
                var tag = 0
                while written.value < bytesTarget && Clock.seconds(since: start) < secondsMax {
                    try latency.time { _ = try log.append(batches[tag % batches.count]) }
                    written.add(batchBytes); records.add(perBatch); tag += 1
                }
            } else {
                let recorders = LockedRecorders()
                let done = DispatchSemaphore(value: 0)
                Task {
                    await withTaskGroup(of: LatencyRecorder.self) { group in
                        for appender in 0..<appenders {
                            group.addTask {
                                var own = LatencyRecorder()
                                var tag = appender
                                while written.value < bytesTarget && Clock.seconds(since: start) < secondsMax {
                                    let begin = Clock.now
                                    guard (try? await log.append(batches[tag % batches.count])) != nil else { break }
                                    own.record(nanoseconds: Clock.now - begin)
                                    written.add(batchBytes); records.add(perBatch); tag += 1
                                }
                                return own
                            }
                        }
                        for await recorder in group { recorders.merge(recorder) }
                    }
                    done.signal()
                }
                done.wait()
                latency = recorders.merged
            }
            try log.flush()  // both sides end with everything on disk
        }
        let fsyncs = io.callCount("fdatasync") - syncsBefore
        try log.close()
        let after = Baselines.fio(fio, directory: context.root)
        let rate = Double(written.value) / measurement.seconds
        var result = WorkloadResult(
            name: name, description: "append \(recordBytes) B records, \(perBatch) per batch, \(appenders) appender(s), fsync \(fsync)",
            parameters: ["recordBytes": "\(recordBytes)", "recordsPerBatch": "\(perBatch)", "appenders": "\(appenders)", "fsync": fsync.rawValue,
                         "batchBytes": "\(batchBytes)"],
            records: records.value, bytes: written.value, seconds: measurement.seconds, recordsPerSecond: Double(records.value) / measurement.seconds,
            megabytesPerSecond: rate / 1e6, latencyMicroseconds: latency.summary, cpuSeconds: measurement.cpuSeconds,
            peakRSSBytes: measurement.peakRSSBytes, fsyncs: fsyncs)
        let fioRates = [before, after].compactMap { $0?.bytesPerSecond }
        if !fioRates.isEmpty {
            let baseline = fioRates.reduce(0, +) / Double(fioRates.count)
            result.baseline = .init(name: "fio " + fio.joined(separator: " "), unit: "MB/s", before: before.map { $0.bytesPerSecond / 1e6 },
                                    after: after.map { $0.bytesPerSecond / 1e6 }, value: baseline / 1e6)
            result.ratio = rate / baseline
            if fsync == .beforeAck, let iops = [before, after].compactMap({ $0?.iops }).max() {
                let syncRate = Double(fsyncs) / measurement.seconds
                result.notes.append(String(format: "%.0f fdatasync/s against fio's %.0f/s (%.2f×)", syncRate, iops, syncRate / iops))
            }
        } else {
            result.notes.append("fio not installed: no baseline (apt-get install fio)")
        }
        if name == "append-1k-b64-x1-none" || name == "append-1k-b64-x1-16mib", let ratio = result.ratio {
            result.goal = .init(text: "≥ 0.9× fio for the same pattern", met: ratio >= 0.9)
        }
        if fsync == .none && context.readableLog == nil { context.readableLogRecordBytes = recordBytes }
        return result
    }

    /// A page-cached log to read: the first append workload's, reopened.
    static func readableLog(_ context: BenchContext) throws -> Log {
        if let log = context.readableLog { return log }
        let (log, _) = try Log.open(directory: context.directory("append-1k-b64-x1-none"), hadCleanShutdown: true)
        if log.logEndOffset == 0 {
            for tag in 0..<max(1, context.appendBytesMax / 66_000) { try log.append(batch(recordBytes: 1024, perBatch: 64, tag: tag)) }
        }
        context.readableLog = log
        return log
    }

    static func readSequential(_ context: BenchContext, cold: Bool) throws -> WorkloadResult {
        if cold {
            // Pages mapped by a live log stay resident through drop_caches: close it first.
            try context.readableLog?.close()
            context.readableLog = nil
            guard Baselines.dropCaches() else {
                return WorkloadResult(name: "read-seq-cold", description: "skipped: dropping the page cache is not permitted", parameters: [:],
                                      records: 0, bytes: 0, seconds: 0, recordsPerSecond: 0, megabytesPerSecond: 0, cpuSeconds: 0,
                                      peakRSSBytes: 0, fsyncs: 0, notes: ["cannot write /proc/sys/vm/drop_caches"])
            }
        }
        let log = try readableLog(context)
        var bytes = 0, records = 0
        var touched: UInt8 = 0
        let measurement = try Measurement.of {
            var next = log.logStartOffset
            while next < log.logEndOffset {
                next = try log.read(fromOffset: next, maxBytes: 1 << 20) { slice -> Int64 in
                    var reader = RecordBatchReader(slice.bytes, verifyingCRC: false)
                    var last = next
                    while let batch = try reader.next() {
                        last = batch.nextOffset
                        records += Int(batch.recordsCount)
                        if cold {  // read one byte of every page, so that every page comes from the disk
                            for page in stride(from: 0, to: batch.bytes.count, by: 4096) { touched &+= batch.bytes[page] }
                        }
                    }
                    bytes += slice.bytes.count
                    return last
                }
            }
        }
        if touched == 1 { records += 0 }  // keeps the page reads from being optimized away
        let rate = Double(bytes) / measurement.seconds
        var result = WorkloadResult(name: cold ? "read-seq-cold" : "read-seq-warm",
                                    description: cold ? "sequential reads of every page after dropping the page cache" : "sequential zero-copy reads (batch headers walked) of a page-cached log",
                                    parameters: ["maxBytesPerRead": "1048576"], records: records, bytes: bytes, seconds: measurement.seconds,
                                    recordsPerSecond: Double(records) / measurement.seconds, megabytesPerSecond: rate / 1e6,
                                    cpuSeconds: measurement.cpuSeconds, peakRSSBytes: measurement.peakRSSBytes, fsyncs: 0)
        if cold {
            if let read = Baselines.fio(["--rw=read", "--bs=1M", "--size=\(bytes)", "--invalidate=1"], directory: context.root, read: true) {
                result.baseline = .init(name: "fio cold sequential read bs=1M", unit: "MB/s", value: read.bytesPerSecond / 1e6)
                result.ratio = rate / read.bytesPerSecond
            }
        } else {
            result.baseline = .init(name: "memory read bandwidth", unit: "MB/s", value: context.memoryReadBytesPerSecond / 1e6)
            result.ratio = rate / context.memoryReadBytesPerSecond
            result.goal = .init(text: "≥ 4 GB/s", met: rate >= 4e9)
            result.notes.append("zero-copy: batches are lent from the mapping and only their headers are read, as a sendfile fetch costs")
        }
        return result
    }

    static func lookups(_ context: BenchContext, byTime: Bool) throws -> WorkloadResult {
        let log = try readableLog(context)
        _ = try log.readRecords(fromOffset: 0, maxRecords: 1)  // warm
        var latency = LatencyRecorder()
        var generator = SystemRandomNumberGenerator()
        let count = byTime ? (context.quick ? 2_000 : 20_000) : (context.quick ? 20_000 : 200_000)
        let end = log.logEndOffset
        let measurement = try Measurement.of {
            for _ in 0..<count {
                if byTime {
                    let target = 1_700_000_000_000 + Int64.random(in: 0..<max(1, end), using: &generator) / 64 * 64
                    _ = try latency.time { try log.offset(forTimestamp: target) }
                } else {
                    let offset = Int64.random(in: 0..<end, using: &generator)
                    _ = try latency.time { try log.read(fromOffset: offset, maxBytes: 1) { $0.firstBatchBaseOffset } }
                }
            }
        }
        var result = WorkloadResult(name: byTime ? "lookup-time" : "lookup-offset",
                                    description: byTime ? "random timestamp lookups (time index, then a record scan)" : "random offset lookups: find the batch holding an offset",
                                    parameters: ["lookups": "\(count)"], records: count, bytes: 0, seconds: measurement.seconds,
                                    recordsPerSecond: Double(count) / measurement.seconds, megabytesPerSecond: 0, latencyMicroseconds: latency.summary,
                                    cpuSeconds: measurement.cpuSeconds, peakRSSBytes: measurement.peakRSSBytes, fsyncs: 0)
        if !byTime, let p99 = result.latencyMicroseconds?.p99 { result.goal = .init(text: "p99 ≤ 5 µs when cached", met: p99 <= 5) }
        return result
    }

    static func recovery(_ context: BenchContext) throws -> WorkloadResult {
        let directory = context.directory("recovery")
        let size = context.quick ? 64 << 20 : 2 << 30
        do {
            let (log, _) = try Log.open(directory: directory)
            let batches = (0..<8).map { batch(recordBytes: 1024, perBatch: 64, tag: $0) }
            var written = 0, tag = 0
            while written < size {
                try log.append(batches[tag % 8])
                written += batches[0].count
                tag += 1
            }
            try log.close()
        }
        let cold = Baselines.dropCaches()
        var scanned = 0
        let measurement = try Measurement.of {
            let (log, report) = try Log.open(directory: directory, recoveryPoint: 0, hadCleanShutdown: false)
            precondition(report.quarantined.isEmpty, "a clean log must recover without quarantine")
            scanned = log.sizeBytes
            try log.close()
        }
        let rate = Double(scanned) / measurement.seconds
        var result = WorkloadResult(name: "recovery-unclean", description: "unclean recovery scan (every batch CRC-checked, indexes rebuilt) of a \(size >> 20) MiB log, \(cold ? "cold" : "warm: caches could not be dropped")",
                                    parameters: ["logBytes": "\(scanned)", "cold": "\(cold)"], records: 0, bytes: scanned, seconds: measurement.seconds,
                                    recordsPerSecond: 0, megabytesPerSecond: rate / 1e6, cpuSeconds: measurement.cpuSeconds,
                                    peakRSSBytes: measurement.peakRSSBytes, fsyncs: 0)
        let coldRead = cold ? Baselines.fio(["--rw=read", "--bs=1M", "--size=\(min(scanned, 1 << 30))", "--invalidate=1"], directory: context.root, read: true)?.bytesPerSecond : nil
        let limit = min(context.crcBytesPerSecond, coldRead ?? context.crcBytesPerSecond)
        result.baseline = .init(name: coldRead != nil ? "min(CRC32C, fio cold read bs=1M)" : "CRC32C", unit: "MB/s", value: limit / 1e6)
        result.ratio = rate / limit
        result.goal = .init(text: "≥ 0.8× min(CRC32C speed, cold read bandwidth)", met: rate >= 0.8 * limit)
        try? FileManager.default.removeItem(atPath: directory)
        return result
    }

    static func cleanOpen(_ context: BenchContext) throws -> WorkloadResult {
        var config = LogConfig()
        config.segmentBytes = 1024
        config.segmentIndexBytes = 4096
        let count = context.quick ? 1_000 : 10_000
        let directory = context.directory("segments")
        do {
            let (log, _) = try Log.open(directory: directory, config: config)
            let small = batch(recordBytes: 600, perBatch: 1, tag: 0)
            for _ in 0..<count { try log.append(small) }
            try log.close()
        }
        var segments = 0
        let measurement = try Measurement.of {
            let (log, _) = try Log.open(directory: directory, config: config, hadCleanShutdown: true)
            segments = log.segmentCount
            try log.close()
        }
        try? FileManager.default.removeItem(atPath: directory)
        return WorkloadResult(name: "open-clean-segments", description: "clean open of \(segments) segments (lazy: no index mapped)",
                              parameters: ["segments": "\(segments)"], records: segments, bytes: 0, seconds: measurement.seconds,
                              recordsPerSecond: Double(segments) / measurement.seconds, megabytesPerSecond: 0, cpuSeconds: measurement.cpuSeconds,
                              peakRSSBytes: measurement.peakRSSBytes, fsyncs: 0,
                              goal: .init(text: count >= 10_000 ? "10,000 segments in < 1 s" : "< 1 s (quick run: 1,000 segments)", met: measurement.seconds < 1))
    }

    static func fsck(_ context: BenchContext) throws -> WorkloadResult {
        let log = try readableLog(context)
        try log.close()  // fsck checks directories at rest
        context.readableLog = nil
        var checked = 0, errors = 0
        let measurement = try Measurement.of {
            let result = try LogDirectoryChecker(path: log.directory).check()
            errors = result.errorCount
            checked = result.bytesChecked
        }
        _ = try readableLog(context)  // reopened warm for anything after
        let rate = Double(checked) / measurement.seconds
        return WorkloadResult(name: "fsck", description: "fsck of a page-cached partition (every batch CRC-checked, indexes against the log)",
                              parameters: ["bytes": "\(checked)"], records: 0, bytes: checked, seconds: measurement.seconds, recordsPerSecond: 0,
                              megabytesPerSecond: rate / 1e6, cpuSeconds: measurement.cpuSeconds, peakRSSBytes: measurement.peakRSSBytes, fsyncs: 0,
                              baseline: .init(name: "CRC32C", unit: "MB/s", value: context.crcBytesPerSecond / 1e6),
                              ratio: rate / context.crcBytesPerSecond, goal: .init(text: "≥ 1 GB/s", met: rate >= 1e9),
                              notes: errors == 0 ? [] : ["fsck found \(errors) errors in the benchmark's own log"])
    }
}

/// A counter shared by the appenders of one workload.
final class AtomicCounter: @unchecked Sendable {
    // Safe: every access takes the lock.
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func add(_ amount: Int) { lock.withLock { count += amount } }
}

/// Latency recorders merged from concurrent appenders.
final class LockedRecorders: @unchecked Sendable {
    // Safe: every access takes the lock.
    private let lock = NSLock()
    private var recorder = LatencyRecorder()
    func merge(_ other: LatencyRecorder) { lock.withLock { recorder.merge(other) } }
    var merged: LatencyRecorder { lock.withLock { recorder } }
}
