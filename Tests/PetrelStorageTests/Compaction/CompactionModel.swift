import PetrelFormat
@testable import PetrelStorage

/// A random history of keyed writes (about 10 % tombstones) appended to a log, and what
/// compaction must make of it: the in-memory model the compaction tests check a log against.
struct CompactionModel {
    /// Every record written, by offset.
    private(set) var written: [Int64: DecodedRecord] = [:]
    /// Per key, the offset of its latest record.
    private(set) var latest: [[UInt8]: Int64] = [:]

    mutating func note(_ record: DecodedRecord) {
        written[record.offset] = record
        latest[record.key!] = record.offset
    }

    /// Appends `batches` random batches of keys drawn from `keySpace` keys.
    mutating func appendRandom(to log: Log, batches: Int, keySpace: Int, using random: inout SeededGenerator,
                               codecs: [CompressionCodec] = [.none, .lz4, .zstd, .gzip, .snappy], timestamp: Int64 = 1_000) throws {
        for _ in 0..<batches {
            var builder = RecordBatchBuilder(compression: codecs.randomElement(using: &random)!)
            let count = Int.random(in: 1...8, using: &random)
            var records: [(key: [UInt8], value: [UInt8]?)] = []
            for _ in 0..<count {
                let key = Array("key-\(Int.random(in: 0..<keySpace, using: &random))".utf8)
                let value: [UInt8]? = Int.random(in: 0..<10, using: &random) == 0 ? nil
                    : Array("value-\(random.next() % 1_000_000)-\(String(repeating: "x", count: Int.random(in: 0...40, using: &random)))".utf8)
                records.append((key, value))
                builder.append(key: key, value: value, timestamp: timestamp)
            }
            let info = try log.append(try builder.build())
            for (index, record) in records.enumerated() {
                note(DecodedRecord(offset: info.firstOffset + Int64(index), timestamp: timestamp, key: record.key, value: record.value))
            }
        }
    }

    /// Replays records as a table: the last value per key, a tombstone deleting it.
    static func table(_ records: some Sequence<DecodedRecord>) -> [[UInt8]: [UInt8]] {
        var table: [[UInt8]: [UInt8]] = [:]
        for record in records {
            guard let key = record.key else { continue }
            table[key] = record.value
        }
        return table
    }

    var table: [[UInt8]: [UInt8]] { Self.table(written.keys.sorted().map { written[$0]! }) }

    /// The problems of `records` (a compacted log's content, in order) against the model;
    /// empty when it is a correct compaction. `cleanedBelow`: the cleaner's checkpoint, below
    /// which every key must appear at most once; `tombstonesExpired`: whether tombstones below
    /// it must be gone.
    func problems(in records: [DecodedRecord], cleanedBelow: Int64, tombstonesExpired: Bool) -> [String] {
        var problems: [String] = []
        var previous: Int64 = -1
        var seenBelow: Set<[UInt8]> = []
        var present: Set<Int64> = []
        for record in records {
            if record.offset <= previous { problems.append("offset \(record.offset) after \(previous): not increasing") }
            previous = record.offset
            present.insert(record.offset)
            guard let original = written[record.offset] else {
                problems.append("offset \(record.offset) was never written")
                continue
            }
            if original != record { problems.append("offset \(record.offset) changed: \(record) was \(original)") }
            if record.offset < cleanedBelow, let key = record.key {
                if !seenBelow.insert(key).inserted { problems.append("key \(String(decoding: key, as: UTF8.self)) twice below \(cleanedBelow)") }
                if tombstonesExpired && record.value == nil {
                    problems.append("tombstone at \(record.offset) kept past its delete horizon")
                }
            }
        }
        for (key, offset) in latest where !present.contains(offset) {
            let isTombstone = written[offset]!.value == nil
            if !(isTombstone && tombstonesExpired && offset < cleanedBelow) {
                problems.append("latest record of \(String(decoding: key, as: UTF8.self)) at \(offset) is missing")
            }
        }
        if Self.table(records) != table { problems.append("replaying the compacted log gives another table than the full log") }
        return problems
    }
}

/// A log config for compaction tests: compacted, small segments.
func compactedConfig(segmentBytes: Int = 4096) -> LogConfig {
    var config = LogConfig()
    config.cleanupPolicy = .compact
    config.segmentBytes = segmentBytes
    config.indexIntervalBytes = 256
    config.deleteRetentionMs = 1_000
    return config
}

/// Every record of the log from its start, copied out.
func allRecords(_ log: Log) throws -> [DecodedRecord] {
    try log.readRecords(fromOffset: log.logStartOffset, maxRecords: .max)
}

/// A compacted log at `path` holding a random history of `batches` batches over `keySpace`
/// keys, with its model and the generator that made it (to append more of the same).
func logWithRandomHistory(_ path: String, config: LogConfig = compactedConfig(), seed: UInt64, batches: Int,
                          keySpace: Int) throws -> (log: Log, model: CompactionModel, random: SeededGenerator) {
    let (log, _) = try Log.open(directory: path, config: config)
    var model = CompactionModel()
    var random = SeededGenerator(seed: seed)
    try model.appendRandom(to: log, batches: batches, keySpace: keySpace, using: &random)
    return (log, model, random)
}
