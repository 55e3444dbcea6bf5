import Foundation

/// Peer systems measured in the same run, each skipped with a note when not installed:
/// RocksDB's `db_bench` (embedded store) and Redis Streams with AOF (a log-like broker).
enum Peers {
    static func all(directory: String, valueBytes: Int, quick: Bool) -> [PeerResult] {
        rocksDB(directory: directory, valueBytes: valueBytes, quick: quick)
            + ["everysec", "always"].map { redisStreams(directory: directory, valueBytes: valueBytes, fsync: $0, quick: quick) }
    }

    /// `db_bench` fillseq (WAL, no sync), fillseq with `--sync=1 --batch_size=100`, readseq.
    static func rocksDB(directory: String, valueBytes: Int, quick: Bool) -> [PeerResult] {
        let count = quick ? 50_000 : 500_000
        let common = ["--key_size=16", "--value_size=\(valueBytes)", "--compression_type=none", "--threads=1", "--seed=1"]
        let database = "\(directory)/rocksdb"
        let runs: [(name: String, sync: String, arguments: [String])] = [
            ("RocksDB fillseq", "WAL, no sync", ["--benchmarks=fillseq", "--num=\(count)"]),
            ("RocksDB readseq", "n/a", ["--benchmarks=readseq", "--use_existing_db=1", "--num=\(count)"]),
            ("RocksDB fillseq, sync every 100", "fsync per 100-entry batch",
             ["--benchmarks=fillseq", "--num=\(count / 10)", "--sync=1", "--batch_size=100"]),
        ]
        guard let dbBench = Processes.find("db_bench") else {
            return runs.map { PeerResult(name: $0.name, command: "db_bench", skipped: "db_bench not installed (apt-get install rocksdb-tools)",
                                         valueBytes: valueBytes, sync: $0.sync) }
        }
        var results: [PeerResult] = []
        for run in runs {
            if run.name.hasSuffix("sync every 100") { try? FileManager.default.removeItem(atPath: database) }
            let arguments = ["--db=\(database)"] + common + run.arguments
            let command = "db_bench " + arguments.joined(separator: " ")
            guard let (status, output) = Processes.run(dbBench, arguments, timeoutSeconds: quick ? 60 : 300), status == 0,
                  let line = output.split(separator: "\n").first(where: { $0.contains("micros/op") && $0.contains("ops/sec") }) else {
                results.append(PeerResult(name: run.name, command: command, skipped: "db_bench failed", valueBytes: valueBytes, sync: run.sync))
                continue
            }
            results.append(PeerResult(name: run.name, command: command, skipped: nil,
                                      operationsPerSecond: number(before: "ops/sec", in: String(line)),
                                      megabytesPerSecond: number(before: "MB/s", in: String(line)), valueBytes: valueBytes, sync: run.sync))
        }
        try? FileManager.default.removeItem(atPath: database)
        return results
    }

    /// XADD of `valueBytes` values, 8 clients pipelining 64 requests, AOF with `fsync`.
    static func redisStreams(directory: String, valueBytes: Int, fsync: String, quick: Bool) -> PeerResult {
        let name = "Redis Streams XADD \(valueBytes) B, AOF appendfsync \(fsync)"
        let count = quick ? 50_000 : (fsync == "always" ? 200_000 : 1_000_000)
        guard let server = Processes.find("redis-server"), let benchmark = Processes.find("redis-benchmark") else {
            return PeerResult(name: name, command: "redis-benchmark", skipped: "redis-server not installed (apt-get install redis-server)",
                              valueBytes: valueBytes, sync: fsync)
        }
        let port = Int.random(in: 20_000...29_999)
        let data = "\(directory)/redis-\(fsync)"
        try? FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: server)
        process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--dir", data, "--appendonly", "yes", "--appendfsync", fsync,
                             "--save", "", "--logfile", "", "--daemonize", "no"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else {
            return PeerResult(name: name, command: server, skipped: "redis-server did not start", valueBytes: valueBytes, sync: fsync)
        }
        defer {
            process.terminate()  // stopped by its PID
            process.waitUntilExit()
        }
        var ready = false
        for _ in 0..<100 where !ready {
            ready = Processes.run(benchmark, ["-h", "127.0.0.1", "-p", "\(port)", "-n", "1", "-q", "PING"], timeoutSeconds: 5)?.status == 0
            if !ready { usleep(50_000) }
        }
        let arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-n", "\(count)", "-c", "8", "-P", "64", "-q",
                         "XADD", "s", "*", "f", String(repeating: "x", count: valueBytes)]
        let command = "redis-benchmark " + arguments.prefix(10).joined(separator: " ") + " XADD s * f <\(valueBytes) B>"
        guard ready, let (status, output) = Processes.run(benchmark, arguments, timeoutSeconds: quick ? 60 : 300), status == 0,
              let rate = number(before: "requests per second", in: output.replacingOccurrences(of: "\r", with: "\n")) else {
            return PeerResult(name: name, command: command, skipped: "redis-benchmark failed", valueBytes: valueBytes, sync: fsync)
        }
        return PeerResult(name: name, command: command, skipped: nil, operationsPerSecond: rate,
                          megabytesPerSecond: rate * Double(valueBytes) / 1e6, valueBytes: valueBytes, sync: fsync)
    }

    /// The number written right before `marker` in `text` (last occurrence).
    static func number(before marker: String, in text: String) -> Double? {
        guard let range = text.range(of: marker, options: .backwards) else { return nil }
        let prefix = text[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        let digits = prefix.reversed().prefix { $0.isNumber || $0 == "." || $0 == "," }
        return Double(String(digits.reversed()).replacingOccurrences(of: ",", with: ""))
    }
}
