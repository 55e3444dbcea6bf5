import Foundation
import PetrelFormat

/// Physical baselines measured in the same run as the workloads: fio for the disk patterns,
/// memory read and copy bandwidth, CRC32C speed.
enum Baselines {
    /// fio's bandwidth (bytes/s) and operations per second for a job on a file in `directory`,
    /// or nil when fio is missing or fails. Files grow as a log's do (no preallocation).
    static func fio(_ arguments: [String], directory: String, read: Bool = false) -> (bytesPerSecond: Double, iops: Double)? {
        guard let fio = Processes.find("fio") else { return nil }
        let file = "\(directory)/fio.baseline"
        defer { try? FileManager.default.removeItem(atPath: file) }
        guard let (status, output) = Processes.run(fio, ["--name=baseline", "--filename=\(file)", "--ioengine=psync", "--fallocate=none",
                                                         "--output-format=json"] + arguments),
              status == 0,
              let json = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              let job = (json["jobs"] as? [[String: Any]])?.first,
              let side = job[read ? "read" : "write"] as? [String: Any],
              let bandwidth = (side["bw_bytes"] as? NSNumber)?.doubleValue,
              let iops = (side["iops"] as? NSNumber)?.doubleValue else { return nil }
        return (bandwidth, iops)
    }

    /// Memory read bandwidth: summing 64-bit words over 256 MiB (64 MiB quick), best of 3.
    static func memoryRead(quick: Bool) -> Double {
        let count = (quick ? 64 << 20 : 256 << 20) / 8
        let buffer = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1)
        var best = Double.infinity
        var sink: UInt64 = 0
        for _ in 0..<3 {
            let start = Clock.now
            var sum: UInt64 = 0
            for value in buffer { sum &+= value }
            sink &+= sum
            best = min(best, Clock.seconds(since: start))
        }
        precondition(sink != 0, "keeps the sum from being optimized away")
        return Double(count * 8) / best
    }

    /// memcpy bandwidth over 64 MiB buffers, best of 5.
    static func memcpy() -> Double {
        let size = 64 << 20
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer { source.deallocate(); destination.deallocate() }
        source.initializeMemory(as: UInt8.self, repeating: 1)
        destination.initializeMemory(as: UInt8.self, repeating: 0)
        var best = Double.infinity
        for _ in 0..<5 {
            let start = Clock.now
            destination.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: size)
            best = min(best, Clock.seconds(since: start))
        }
        return Double(size) / best
    }

    /// CRC32C speed on 1 MiB, best of several passes.
    static func crc32c() -> Double {
        let buffer = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var best = Double.infinity
        var sink: UInt32 = 0
        buffer.withUnsafeBytes { bytes in
            for _ in 0..<30 {
                let start = Clock.now
                for _ in 0..<16 { sink &+= CRC32C.checksum(bytes) }
                best = min(best, Clock.seconds(since: start))
            }
        }
        precondition(sink != 1, "keeps the checksum from being optimized away")
        return Double(16 << 20) / best
    }

    /// Drops the page cache (root only); false when not permitted.
    static func dropCaches() -> Bool {
        sync()
        return (try? "3".write(toFile: "/proc/sys/vm/drop_caches", atomically: false, encoding: .utf8)) != nil
    }
}
