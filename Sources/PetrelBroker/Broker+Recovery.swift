import Logging
import PetrelStorage

extension Broker {
    /// What start-up recovery did, for metrics: logs cut, and bytes moved to quarantine.
    public struct RecoveryCounters: Sendable, Equatable {
        public var logsRecovered = 0
        public var segmentsScanned = 0
        public var quarantinedFiles = 0
        public var quarantinedBytes = 0
        public var removedFiles = 0
    }

    /// Logs every action start-up recovery took, so that an operator learns that a log was cut
    /// (and where its bytes went) from the broker, not from a consumer's missing records.
    static func logRecovery(_ manager: LogManager, logger: Logger) -> RecoveryCounters {
        var counters = RecoveryCounters()
        if !manager.hadCleanShutdown && !manager.partitions.isEmpty {
            logger.warning("no clean-shutdown marker in \(manager.dataDirectory): recovering logs from their recovery points")
        }
        for entry in manager.skippedEntries {
            logger.warning("skipped \(manager.dataDirectory)/\(entry.name): \(entry.reason)")
        }
        for (partition, report) in manager.recoveryReports.sorted(by: { $0.key < $1.key }) {
            let log = manager.log(for: partition)
            let offsets = "log start offset \(log?.logStartOffset ?? -1), log end offset \(log?.logEndOffset ?? -1)"
            if !report.segmentsRecovered.isEmpty {
                counters.logsRecovered += 1
                counters.segmentsScanned += report.segmentsRecovered.count
                logger.info("recovered \(partition): scanned segments at base offsets \(report.segmentsRecovered); \(offsets)")
            }
            for cut in report.quarantined {
                counters.quarantinedFiles += 1
                counters.quarantinedBytes += cut.bytes
                logger.error("recovery of \(partition) cut \(cut.bytes) bytes (\(cut.reason)); they are kept in \(cut.path); \(offsets)")
            }
            for file in report.removedFiles {
                counters.removedFiles += 1
                logger.info("recovery of \(partition) removed leftover file \(file)")
            }
        }
        return counters
    }
}
