import Foundation
import PetrelFormat
import PetrelStorage
import PetrelRepair
import Synchronization

// Storage-engine workloads for the goals of the storage issue, each beside the physical
// baseline measured in the same run. Usage: PetrelStorageBench [--quick] [--dir DIR]
// The data directory defaults to a folder under the repository's Benchmarks/.build (the same
// disk the project lives on), and is removed at the end.

let arguments = CommandLine.arguments
let quick = arguments.contains("--quick")
let root = arguments.firstIndex(of: "--dir").map { arguments[$0 + 1] }
    ?? FileManager.default.currentDirectoryPath + "/.build/storage-bench"
let totalBytes = quick ? 64 << 20 : 256 << 20
let segmentsToOpen = quick ? 1_000 : 10_000
let groupCommitSeconds = quick ? 1.0 : 3.0
try? FileManager.default.removeItem(atPath: root)
try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)

var rows: [(String, String, String, String)] = []  // workload, Petrel, baseline, ratio
@MainActor func report(_ workload: String, _ petrel: String, _ baseline: String, _ ratio: String) {
    rows.append((workload, petrel, baseline, ratio))
    print("\(workload): \(petrel) | baseline \(baseline) | \(ratio)")
}
func mb(_ bytesPerSecond: Double) -> String { String(format: "%.0f MB/s", bytesPerSecond / 1e6) }
func gb(_ bytesPerSecond: Double) -> String { String(format: "%.2f GB/s", bytesPerSecond / 1e9) }
func ratio(_ value: Double, _ baseline: Double?) -> String {
    guard let baseline, baseline > 0 else { return "n/a" }
    return String(format: "%.2f×", value / baseline)
}

/// 64 records of 1 KiB: a 64 KiB batch.
let batch64KiB: [UInt8] = {
    var builder = RecordBatchBuilder()
    for index in 0..<64 {
        builder.append(key: Array("key-\(index)".utf8), value: [UInt8](repeating: UInt8(65 + index % 26), count: 1024), timestamp: 1_700_000_000_000)
    }
    return try! builder.build()
}()

@MainActor func appendWorkload(name: String, policy: FlushPolicy) throws -> (Log, Double) {
    var config = LogConfig()
    config.flushPolicy = policy
    let (log, _) = try Log.open(directory: "\(root)/\(name)-0", config: config)
    let appends = totalBytes / batch64KiB.count
    let start = Clock.now
    for _ in 0..<appends { try log.append(batch64KiB) }
    let written = Clock.seconds(since: start)
    try log.flush()  // both sides end with everything on disk
    if ProcessInfo.processInfo.environment["PETREL_BENCH_DETAIL"] != nil {
        print(String(format: "  %@: appends %.3f s, final flush %.3f s", name, written, Clock.seconds(since: start) - written))
    }
    return (log, Double(appends * batch64KiB.count) / Clock.seconds(since: start))
}

let fileSize = "--size=\(totalBytes)"
/// This disk's bandwidth swings several-fold from minute to minute, so each append workload
/// runs in rounds alternating with its fio baseline (fio, Petrel, fio, Petrel, …, fio); each
/// round's ratio is taken against the mean of the fio runs on either side, and the median is
/// reported with the spread.
@MainActor func alternating(name: String, policy: FlushPolicy, fioArguments: [String], rounds: Int) throws -> (petrel: Double, fio: Double, ratios: [Double], log: Log) {
    var fioRates = [Baselines.fio(fioArguments, directory: root)?.bytesPerSecond ?? 0]
    var petrelRates: [Double] = []
    var last: Log?
    for round in 0..<rounds {
        try last?.close()
        let (log, rate) = try appendWorkload(name: "\(name)\(round)", policy: policy)
        petrelRates.append(rate)
        fioRates.append(Baselines.fio(fioArguments, directory: root)?.bytesPerSecond ?? 0)
        last = log
    }
    let ratios = (0..<rounds).map { petrelRates[$0] / max(1, (fioRates[$0] + fioRates[$0 + 1]) / 2) }.sorted()
    return (petrelRates.sorted()[rounds / 2], fioRates.sorted()[fioRates.count / 2], ratios, last!)
}
func spread(_ ratios: [Double]) -> String {
    String(format: "%.2f× (median of %d rounds; %.2f–%.2f)", ratios[ratios.count / 2], ratios.count, ratios.first!, ratios.last!)
}
let rounds = quick ? 1 : 3

// 1. Append without fsync (until the final flush) vs fio buffered sequential write + end fsync.
let plain = try alternating(name: "append", policy: .kafkaDefault, fioArguments: ["--rw=write", "--bs=64k", fileSize, "--end_fsync=1"], rounds: rounds)
let appendLog = plain.log
report("Append 1 KiB records, 64 KiB batches, no fsync", mb(plain.petrel), "fio write bs=64k + end fsync: \(mb(plain.fio))", spread(plain.ratios))

// 2. Append with an fdatasync every 16 MiB vs fio with fdatasync every 256 × 64 KiB.
let synced = try alternating(name: "append16", policy: .interval(messages: 16 * 1024, milliseconds: .max),
                             fioArguments: ["--rw=write", "--bs=64k", fileSize, "--fdatasync=256"], rounds: rounds)
report("Append, fdatasync every 16 MiB", mb(synced.petrel), "fio write bs=64k fdatasync=256: \(mb(synced.fio))", spread(synced.ratios))
try synced.log.close()

// 3. Sequential read of page-cached data through the API: zero-copy (batch headers walked,
// as a sendfile fetch costs), and with the CRC32C of every batch checked (as a verifying reader).
let memcpyRate = Baselines.memcpy()
let crcRate = Baselines.crc32c()
for verifying in [false, true] {
    var bytes = 0
    var next: Int64 = 0
    let start = Clock.now
    while next < appendLog.logEndOffset {
        next = try appendLog.read(fromOffset: next, maxBytes: 1 << 20) { slice -> Int64 in
            var reader = RecordBatchReader(slice.bytes, verifyingCRC: verifying)
            var last: Int64 = next
            while let batch = try reader.next() { last = batch.nextOffset }
            bytes += slice.bytes.count
            return last
        }
    }
    let rate = Double(bytes) / Clock.seconds(since: start)
    if verifying {
        report("Sequential read, page cache, CRC32C of every batch", gb(rate), "CRC32C: \(gb(crcRate)), memcpy: \(gb(memcpyRate))", ratio(rate, min(crcRate, memcpyRate)))
    } else {
        report("Sequential read, page cache, zero-copy 1 MiB reads", gb(rate), "goal ≥ 4 GB/s", rate >= 4e9 ? "met" : "not met")
    }
}

// 4. Random offset lookups (cached): latency of read(fromOffset:maxBytes:) finding a batch.
do {
    var generator = SystemRandomNumberGenerator()
    let end = appendLog.logEndOffset
    var latencies: [Double] = []
    latencies.reserveCapacity(200_000)
    for _ in 0..<200_000 {
        let offset = Int64.random(in: 0..<end, using: &generator)
        let start = Clock.now
        _ = try appendLog.read(fromOffset: offset, maxBytes: 1) { $0.firstBatchBaseOffset }
        latencies.append(Clock.seconds(since: start) * 1e6)
    }
    latencies.sort()
    func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
    report("Random offset lookup (cached)", String(format: "p50 %.2f µs, p99 %.2f µs, p99.9 %.2f µs", percentile(0.5), percentile(0.99), percentile(0.999)),
           "goal: p99 ≤ 5 µs", percentile(0.99) <= 5 ? "met" : "not met")
}
try appendLog.close()

// 5. Unclean recovery scan of the whole log, cold (caches dropped) and warm.
let coldRead = Baselines.fio(["--rw=read", "--bs=1M", fileSize, "--invalidate=1"], directory: root, read: true)?.bytesPerSecond
for cold in [true, false] {
    let dropped = cold ? Baselines.dropCaches() : true
    if cold && !dropped { print("cannot drop caches: skipping the cold recovery scan"); continue }
    let start = Clock.now
    let (log, report0) = try Log.open(directory: appendLog.directory, recoveryPoint: 0, hadCleanShutdown: false)
    let seconds = Clock.seconds(since: start)
    let rate = Double(log.sizeBytes) / seconds
    precondition(report0.quarantined.isEmpty, "a clean log must recover without quarantine")
    let limit = cold ? min(crcRate, coldRead ?? crcRate) : crcRate
    report("Unclean recovery scan (\(cold ? "cold" : "warm"))", mb(rate),
           cold ? "min(CRC32C \(gb(crcRate)), cold read \(coldRead.map(mb) ?? "n/a"))" : "CRC32C \(gb(crcRate))", ratio(rate, limit))
    try log.close()
}

// 5b. fsck of the same (page-cached) log directory: every batch CRC-checked, indexes against it.
do {
    let start = Clock.now
    let result = try LogDirectoryChecker(path: appendLog.directory).check()
    let rate = Double(result.bytesChecked) / Clock.seconds(since: start)
    precondition(result.errorCount == 0, "the benchmark's log must be clean")
    report("fsck, page-cached log", gb(rate), "CRC32C \(gb(crcRate)); goal ≥ 1 GB/s", ratio(rate, crcRate) + (rate >= 1e9 ? ", goal met" : ", goal not met"))
}

// 6. Clean open of many segments (one batch each).
do {
    var config = LogConfig()
    config.segmentBytes = 1024
    config.segmentIndexBytes = 4096
    let directory = "\(root)/segments-0"
    let (log, _) = try Log.open(directory: directory, config: config)
    var small = RecordBatchBuilder()
    small.append(key: nil, value: [UInt8](repeating: 7, count: 600), timestamp: 1)
    let bytes = try small.build()
    let createStart = Clock.now
    for _ in 0..<segmentsToOpen { try log.append(bytes) }
    let createSeconds = Clock.seconds(since: createStart)
    try log.close()
    let start = Clock.now
    let (reopened, _) = try Log.open(directory: directory, config: config, hadCleanShutdown: true)
    let seconds = Clock.seconds(since: start)
    precondition(reopened.segmentCount >= segmentsToOpen, "every append rolled a segment")
    report("Clean open of \(reopened.segmentCount) segments", String(format: "%.0f ms", seconds * 1000),
           String(format: "goal < 1 s (creating them took %.1f s)", createSeconds), seconds < 1 ? "met" : "not met")
    try reopened.close()
}

// 7. Group commit: sync-before-ack appends of one 1 KiB record, 1 and 64 appenders.
let fsyncRate = Baselines.fio(["--rw=write", "--bs=4k", "--size=64M", "--fdatasync=1", "--runtime=\(Int(groupCommitSeconds) + 1)", "--time_based"], directory: root)?.iops
var singleRate = 0.0
for (appenders, useAsync) in [(1, false), (64, false), (64, true)] {
    let io = FaultInjectingFileIO()  // no faults: used to count fdatasync calls
    var config = LogConfig()
    config.flushPolicy = .beforeAcknowledge
    let (log, _) = try Log.open(directory: "\(root)/group\(appenders)\(useAsync)-0", config: config, io: io)
    var builder = RecordBatchBuilder()
    builder.append(key: nil, value: [UInt8](repeating: 1, count: 1024), timestamp: 1)
    let record = try builder.build()
    let appends = AtomicBox(0)
    let stop = AtomicBox(0)
    let syncsBefore = io.callCount("fdatasync")
    let start = Clock.now
    if useAsync {
        // 64 appends in flight from tasks on the cooperative pool (2 threads here).
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: groupCommitSeconds)
            stop.value.store(1, ordering: .relaxed)
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<appenders {
                group.addTask {
                    while stop.value.load(ordering: .relaxed) == 0 {
                        _ = try? await log.append(record)
                        appends.value.add(1, ordering: .relaxed)
                    }
                }
            }
        }
    } else {
        let group = DispatchGroup()
        for _ in 0..<appenders {
            group.enter()
            Thread.detachNewThread {
                while stop.value.load(ordering: .relaxed) == 0 {
                    _ = try? log.append(record)
                    appends.value.add(1, ordering: .relaxed)
                }
                group.leave()
            }
        }
        usleep(UInt32(groupCommitSeconds * 1_000_000))
        stop.value.store(1, ordering: .relaxed)
        group.wait()
    }
    let seconds = Clock.seconds(since: start)
    let rate = Double(appends.value.load(ordering: .relaxed)) / seconds
    let syncs = Double(io.callCount("fdatasync") - syncsBefore) / seconds
    if appenders == 1 { singleRate = rate }
    let who = appenders == 1 ? "1 appender" : useAsync ? "\(appenders) async appends in flight" : "\(appenders) appender threads"
    report("Group commit, \(who), sync before ack",
           String(format: "%.0f appends/s, %.0f fdatasync/s", rate, syncs),
           "fio fdatasync rate: \(fsyncRate.map { String(format: "%.0f/s", $0) } ?? "n/a")",
           appenders == 1 ? ratio(syncs, fsyncRate) + " of fsync rate"
               : String(format: "%.1f× one appender; fsyncs %.2f× fio's rate", rate / max(singleRate, 1), syncs / (fsyncRate ?? .infinity)))
    try log.close()
}

try? FileManager.default.removeItem(atPath: root)
print("\n| workload | Petrel | baseline (same run) | ratio |\n|---|---|---|---|")
for row in rows { print("| \(row.0) | \(row.1) | \(row.2) | \(row.3) |") }

/// An atomic counter shared by reference with tasks and threads.
final class AtomicBox: Sendable {
    let value: Atomic<Int>
    init(_ initial: Int) { value = Atomic(initial) }
}
