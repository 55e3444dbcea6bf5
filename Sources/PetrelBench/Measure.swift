#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Histogram

/// Wall time, CPU time and peak memory of a piece of work, as `getrusage` and a monotonic clock
/// see them.
struct Measurement {
    var seconds: Double
    var cpuSeconds: Double
    var peakRSSBytes: Int

    static func of(_ body: () throws -> Void) rethrows -> Measurement {
        let startUsage = usage()
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let endUsage = usage()
        return Measurement(seconds: seconds, cpuSeconds: endUsage.cpu - startUsage.cpu, peakRSSBytes: endUsage.peakRSS)
    }

    static func usage() -> (cpu: Double, peakRSS: Int) {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return (cpu, Int(usage.ru_maxrss) * 1024)
    }
}

/// Per-operation latencies, recorded in nanoseconds into an HdrHistogram.
struct LatencyRecorder {
    private var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)

    mutating func time<R>(_ body: () throws -> R) rethrows -> R {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try body()
        _ = histogram.record(DispatchTime.now().uptimeNanoseconds - start)
        return result
    }

    mutating func record(nanoseconds: UInt64) { _ = histogram.record(nanoseconds) }

    mutating func merge(_ other: LatencyRecorder) { histogram.add(other.histogram) }

    var summary: WorkloadResult.Latency? {
        guard histogram.totalCount > 0 else { return nil }
        func micro(_ value: UInt64) -> Double { Double(value) / 1000 }
        return .init(p50: micro(histogram.valueAtPercentile(50)), p99: micro(histogram.valueAtPercentile(99)),
                     p999: micro(histogram.valueAtPercentile(99.9)), max: micro(histogram.max))
    }
}

enum Clock {
    static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }
    static func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
