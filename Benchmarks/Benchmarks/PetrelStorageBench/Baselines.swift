import Foundation
import PetrelFormat

/// Physical baselines measured in the same run as the workloads: fio for the disk patterns,
/// memcpy for memory bandwidth, CRC32C for checksum speed.
enum Baselines {
    struct FioResult {
        let bytesPerSecond: Double
        let iops: Double
    }

    /// Runs fio with `arguments` (a job on a file in `directory`) and reads its JSON output.
    static func fio(_ arguments: [String], directory: String, read: Bool = false) -> FioResult? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["fio", "--name=baseline", "--filename=\(directory)/fio.baseline", "--ioengine=psync",
                             // Grow the file as a log does, rather than writing into preallocated space.
                             "--fallocate=none",
                             "--output-format=json"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: "\(directory)/fio.baseline")
        guard process.terminationStatus == 0,
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let job = (json["jobs"] as? [[String: Any]])?.first,
              let side = job[read ? "read" : "write"] as? [String: Any],
              let bandwidth = (side["bw_bytes"] as? NSNumber)?.doubleValue,
              let iops = (side["iops"] as? NSNumber)?.doubleValue else { return nil }
        return FioResult(bytesPerSecond: bandwidth, iops: iops)
    }

    /// memcpy bandwidth over 64 MiB buffers (bytes per second).
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

    /// CRC32C speed on 1 MiB, best of several passes (bytes per second).
    static func crc32c() -> Double {
        let buffer = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var best = Double.infinity
        var sink: UInt32 = 0
        buffer.withUnsafeBytes { bytes in
            for _ in 0..<50 {
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

enum Clock {
    static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }
    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
