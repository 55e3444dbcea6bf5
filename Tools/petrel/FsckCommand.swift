import ArgumentParser
import Foundation
import PetrelRepair

/// `petrel fsck`: finds, reports and (when asked) repairs damage in log directories.
struct FsckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck",
        abstract: "Check a log directory (or one partition directory) and repair it on request.",
        discussion: """
            Read-only unless --repair. Checks every batch (magic, length, CRC32C, counts, offsets, \
            timestamps), the offset and time indexes against the log, transaction indexes and \
            producer snapshots, checkpoints, partition.metadata, gaps and overlaps between segments, \
            leftover .cleaned/.swap/.deleted files and zero-filled tails; unknown files are reported \
            and never touched. Works on directories written by Apache Kafka too.

            --repair cuts each segment at its first invalid batch, moves what is cut (and every later \
            segment whose offsets no longer chain) to the quarantine directory, rebuilds indexes that \
            disagree with the log, finishes or rolls back interrupted compaction swaps and brings \
            checkpoints back in range. It writes a journal first: a repair that is killed can be run \
            again and finishes. It never deletes a byte that is not also in quarantine, listed in \
            MANIFEST.jsonl with where it came from.

            Exit status as fsck(8): 0 clean, 1 errors corrected, 4 errors left uncorrected, \
            8 operational error, 16 usage error.
            """
    )

    static let exitClean: Int32 = 0, exitCorrected: Int32 = 1, exitUncorrected: Int32 = 4, exitOperational: Int32 = 8, exitUsage: Int32 = 16

    @Argument(help: "A log directory (Kafka's log.dirs entry) or one partition directory.")
    var path: String

    @Flag(help: "Repair what can be repaired.")
    var repair = false

    @Flag(help: "With --repair: print what would be done, change nothing.")
    var dryRun = false

    @Option(help: "Where repaired-away bytes go (default: <log directory>/petrel-quarantine).")
    var quarantine: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(help: "Do not draw a progress bar on a terminal.")
    var noProgress = false

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            printError("petrel fsck: \(path) is not a directory")
            throw ExitCode(Self.exitOperational)
        }
        let root = URL(fileURLWithPath: path).standardizedFileURL.path
        let checker = makeChecker(root)
        let quarantineDirectory = quarantine ?? defaultQuarantine(for: root, checker: checker)
        let repairer = Repairer(quarantineDirectory: quarantineDirectory)
        let logDirectory = Self.logDirectory(of: root)
        do {
            guard checker.isPartitionDirectory || checker.looksLikeLogDirectory() else {
                printError("petrel fsck: \(path) is not a log directory: it holds no partition directories and none of a log directory's files")
                throw ExitCode(Self.exitOperational)
            }
            // The lock is held for the whole repair, so that no broker opens the directory meanwhile.
            var lock: LogDirectoryLock?
            if repair && !dryRun {
                lock = try LogDirectoryLock(logDirectory: logDirectory)
            } else if let inUse = LogDirectoryLock.holderIfLocked(logDirectory: logDirectory) {
                printError("petrel fsck: warning: \(inUse.path) is locked by \(inUse.holder.map { "process \($0)" } ?? "another process"): findings on a live directory may be transient")
            }
            defer { withExtendedLifetime(lock) {} }
            var result = try checker.check()
            clearProgress()
            var steps = 0
            var after: FsckResult?
            let pending = try repairer.pendingJournal()
            if repair && !dryRun && (!result.actions.isEmpty || pending != nil) {
                steps = try repairer.run(result.actions)
                after = try makeChecker(root).check()
                clearProgress()
                // A second pass catches what the first repair uncovered (say, indexes of a segment
                // renamed by it); repairing a repaired directory changes nothing.
                if let again = after, !again.actions.isEmpty {
                    steps += try repairer.run(again.actions)
                    after = try makeChecker(root).check()
                    clearProgress()
                }
            }
            let remaining = after ?? result
            let status: Int32 = remaining.errorCount > 0 ? Self.exitUncorrected : (steps > 0 ? Self.exitCorrected : Self.exitClean)
            if json {
                printJSON(result: result, after: after, steps: steps, quarantine: quarantineDirectory, status: status)
            } else {
                printText(result: &result, after: after, steps: steps, quarantine: quarantineDirectory, pending: pending != nil)
            }
            if status != 0 { throw ExitCode(status) }
        } catch let exit as ExitCode {
            throw exit
        } catch let inUse as LogDirectoryLock.InUse {
            printError("petrel fsck: refusing to repair: \(inUse)")
            throw ExitCode(Self.exitOperational)
        } catch {
            clearProgress()
            printError("petrel fsck: \(error)")
            throw ExitCode(Self.exitOperational)
        }
    }

    private func makeChecker(_ root: String) -> LogDirectoryChecker {
        var checker = LogDirectoryChecker(path: root)
        if !json && !noProgress && isatty(STDERR_FILENO) == 1 {
            checker.progress = { done, total in
                guard total > 0 else { return }
                let width = 30, filled = width * done / total
                let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
                FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total) segments".utf8))
            }
        }
        return checker
    }

    private func clearProgress() {
        if !json && !noProgress && isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// Inside the log directory (the parent, for a partition directory).
    private func defaultQuarantine(for root: String, checker: LogDirectoryChecker) -> String {
        "\(Self.logDirectory(of: root))/\(checker.quarantineDirectoryName)"
    }

    /// The log directory itself, or a partition directory's parent.
    static func logDirectory(of root: String) -> String {
        let name = URL(fileURLWithPath: root).lastPathComponent
        return PetrelRepairNames.isPartitionDirectoryName(name) ? URL(fileURLWithPath: root).deletingLastPathComponent().path : root
    }

    private func printText(result: inout FsckResult, after: FsckResult?, steps: Int, quarantine: String, pending: Bool) {
        for finding in result.findings { print(finding.line) }
        let errors = result.errorCount, warnings = result.findings.filter { $0.severity == .warning }.count
        print("checked \(result.partitionsChecked) partitions, \(result.segmentsChecked) segments, \(result.bytesChecked) bytes: "
              + "\(errors) errors, \(warnings) warnings")
        if repair && dryRun {
            for action in result.actions { print("would \(action.description)") }
        } else if let after {
            print("repaired: \(steps) steps\(pending ? " (including an interrupted repair, finished)" : ""); quarantine: \(quarantine)")
            print("after repair: \(after.errorCount) errors" + (after.errorCount > 0 ? " left (fsck cannot repair them):" : ""))
            for finding in after.findings where finding.severity == .error { print("  " + finding.line) }
        } else if errors > 0 && !repair {
            print("run with --repair to repair what can be repaired (--dry-run to see how)")
        }
    }

    private func printJSON(result: FsckResult, after: FsckResult?, steps: Int, quarantine: String, status: Int32) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func findings(_ result: FsckResult) -> [Any] {
            result.findings.compactMap { (try? JSONSerialization.jsonObject(with: encoder.encode($0))) }
        }
        var object: [String: Any] = [
            "path": path, "findings": findings(result), "actions": result.actions.map(\.description),
            "summary": ["partitions": result.partitionsChecked, "segments": result.segmentsChecked, "bytes": result.bytesChecked,
                        "errors": result.errorCount, "warnings": result.findings.filter { $0.severity == .warning }.count],
            "exitCode": status,
        ]
        if let after {
            object["repair"] = ["steps": steps, "quarantine": quarantine, "errorsAfter": after.errorCount, "findingsAfter": findings(after)]
        }
        print(String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
    }
}
