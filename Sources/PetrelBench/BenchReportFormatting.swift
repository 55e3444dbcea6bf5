import Foundation

/// The run's outputs: `bench-result.json`, `bench-result.md` (a table) and `bench-result.svg`
/// (Petrel beside its baseline for every workload with one, and the peers).
enum BenchReportFormatting {
    static func write(_ report: BenchReport, to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: "\(directory)/bench-result.json"))
        try markdown(report).write(toFile: "\(directory)/bench-result.md", atomically: true, encoding: .utf8)
        try svg(report).write(toFile: "\(directory)/bench-result.svg", atomically: true, encoding: .utf8)
    }

    static func figure(_ result: WorkloadResult) -> String {
        var parts: [String] = []
        if result.megabytesPerSecond > 0 { parts.append(String(format: "%.0f MB/s", result.megabytesPerSecond)) }
        if result.recordsPerSecond > 0 { parts.append(String(format: "%.0f rec/s", result.recordsPerSecond)) }
        if result.megabytesPerSecond == 0 { parts.append(String(format: "%.3f s", result.seconds)) }
        return parts.joined(separator: ", ")
    }

    static func latency(_ result: WorkloadResult) -> String {
        guard let latency = result.latencyMicroseconds else { return "" }
        return String(format: "%.1f / %.1f / %.1f / %.0f", latency.p50, latency.p99, latency.p999, latency.max)
    }

    static func line(_ result: WorkloadResult) -> String {
        var text = "\(result.name): \(figure(result))"
        if let baseline = result.baseline { text += String(format: " | baseline %.0f %@", baseline.value, baseline.unit) }
        if let ratio = result.ratio { text += String(format: " | %.2f×", ratio) }
        if let goal = result.goal { text += " | goal \(goal.text): \(goal.met ? "met" : "not met")" }
        for note in result.notes { text += " | \(note)" }
        return text
    }

    static func line(_ peer: PeerResult) -> String {
        if let skipped = peer.skipped { return "\(peer.name): skipped (\(skipped))" }
        return String(format: "%@: %.0f ops/s, %.1f MB/s", peer.name, peer.operationsPerSecond ?? 0, peer.megabytesPerSecond ?? 0)
    }

    static func groupFigure(_ group: GroupBenchResult) -> String {
        if let skipped = group.skipped { return "skipped (\(skipped))" }
        var parts: [String] = []
        if let rebalance = group.rebalanceMs {
            parts.append(String(format: "median %.0f ms, p99 %.0f ms (joins %.0f ms, departures %.0f ms, %d rebalances)",
                                rebalance.median, rebalance.p99, rebalance.joinMedian, rebalance.departureMedian, rebalance.count))
        }
        if let commits = group.commitsPerSecond { parts.append(String(format: "%.0f commits/s", commits)) }
        if let failures = group.requestFailures, failures > 0 { parts.append("\(failures) failed requests") }
        return parts.joined(separator: ", ")
    }

    static func line(_ group: GroupBenchResult) -> String {
        var text = "\(group.name): \(groupFigure(group))"
        if let goal = group.goal { text += " | goal \(goal.text): \(goal.met ? "met" : "not met")" }
        return text
    }

    static func markdown(_ report: BenchReport) -> String {
        var text = "Run \(report.startedAt) on \(report.machine.cpu) (\(report.machine.cores) cores, \(report.machine.filesystem)), "
        text += "\(report.toolchain), commit \(report.commit.prefix(10))\(report.quick ? ", quick" : "").\n\n"
        text += "| workload | Petrel | latency µs p50 / p99 / p99.9 / max | CPU s | fsyncs | baseline (same run) | ratio | goal |\n"
        text += "|---|---|---|---|---|---|---|---|\n"
        for result in report.workloads {
            let baseline = result.baseline.map { String(format: "%@: %.0f %@", $0.name.count > 60 ? String($0.name.prefix(57)) + "…" : $0.name, $0.value, $0.unit) } ?? ""
            let ratio = result.ratio.map { String(format: "%.2f×", $0) } ?? ""
            let goal = result.goal.map { "\($0.text): **\($0.met ? "met" : "not met")**" } ?? ""
            let notes = result.notes.isEmpty ? "" : " (" + result.notes.joined(separator: "; ") + ")"
            text += "| \(result.name) | \(figure(result)) | \(latency(result)) | \(String(format: "%.2f", result.cpuSeconds)) | \(result.fsyncs) | \(baseline) | \(ratio)\(notes) | \(goal) |\n"
        }
        if !report.peers.isEmpty {
            text += "\n| peer | ops/s | MB/s | p99 latency | server CPU s / peak RSS | sync | command |\n|---|---|---|---|---|---|---|\n"
            for peer in report.peers {
                if let skipped = peer.skipped { text += "| \(peer.name) | skipped: \(skipped) | | | | \(peer.sync) | |\n"; continue }
                var server = peer.serverCPUSeconds.map { String(format: "%.2f s / %.0f MB", $0, Double(peer.serverPeakRSSBytes ?? 0) / 1e6) } ?? ""
                if let perMessage = peer.serverCPUMicrosecondsPerMessage { server += String(format: " (%.3f µs CPU per message)", perMessage) }
                let p99 = peer.p99LatencyMs.map { String(format: "%.1f ms", $0) } ?? ""
                text += String(format: "| %@ | %.0f | %.1f | %@ | %@ | %@ | `%@` |\n", peer.name, peer.operationsPerSecond ?? 0, peer.megabytesPerSecond ?? 0,
                               p99, server, peer.sync, peer.command)
            }
        }
        if !report.groups.isEmpty {
            text += "\n| consumer groups | figure | parameters | goal |\n|---|---|---|---|\n"
            for group in report.groups {
                let parameters = group.parameters.keys.sorted().map { "\($0)=\(group.parameters[$0]!)" }.joined(separator: ", ")
                let goal = group.goal.map { "\($0.text): **\($0.met ? "met" : "not met")**" } ?? ""
                text += "| \(group.name) | \(groupFigure(group)) | \(parameters) | \(goal) |\n"
            }
        }
        return text
    }

    /// Horizontal bars of MB/s: each workload with a baseline (Petrel beside it) and each peer.
    static func svg(_ report: BenchReport) -> String {
        var rows: [(label: String, value: Double, color: String)] = []
        for result in report.workloads where result.megabytesPerSecond > 0 {
            rows.append((result.name, result.megabytesPerSecond, "#1f77b4"))
            if let baseline = result.baseline, baseline.unit == "MB/s" {
                rows.append(("  baseline: " + (baseline.name.hasPrefix("fio") ? "fio, same pattern" : baseline.name), baseline.value, "#aaaaaa"))
            }
        }
        for peer in report.peers where peer.skipped == nil {
            rows.append((peer.name, peer.megabytesPerSecond ?? 0, "#ff7f0e"))
        }
        let maximum = max(rows.map(\.value).max() ?? 1, 1)
        let scale = { (value: Double) in log10(max(value, 1)) / log10(maximum) }
        let labelWidth = 360.0, barWidth = 520.0, rowHeight = 18.0, top = 40.0
        let height = top + Double(rows.count) * rowHeight + 30
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(labelWidth + barWidth + 120))" height="\(Int(height))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="10" y="18" font-size="14">Petrel (blue) beside the same-run baseline (grey) and peers (orange), MB/s, log scale</text>
        <text x="10" y="32" fill="#555">\(escape(report.machine.cpu)), \(report.startedAt)\(report.quick ? " (quick run)" : "")</text>

        """
        for (index, row) in rows.enumerated() {
            let y = top + Double(index) * rowHeight
            let width = max(1, barWidth * scale(row.value))
            svg += "<text x=\"10\" y=\"\(y + 12)\">\(escape(String(row.label.prefix(58))))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(String(format: "%.1f", width))\" height=\"\(rowHeight - 5)\" fill=\"\(row.color)\"/>"
            svg += "<text x=\"\(String(format: "%.1f", labelWidth + width + 4))\" y=\"\(y + 12)\">\(String(format: "%.0f", row.value))</text>\n"
        }
        return svg + "</svg>\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
