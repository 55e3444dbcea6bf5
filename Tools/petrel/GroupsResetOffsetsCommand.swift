import ArgumentParser
import Foundation
import PetrelClient
import PetrelProtocol

/// `petrel groups reset-offsets`: moves a group's committed offsets, as
/// `kafka-consumer-groups.sh --reset-offsets` does — only while the group has no active members,
/// clamped into each log's range, printed as a plan first and committed only with --execute.
struct GroupsResetOffsetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-offsets",
        abstract: "Reset a group's committed offsets (dry run unless --execute).",
        discussion: """
            Refused while the group has active members (its state must be Empty, or Dead for a group \
            that does not exist yet): a running consumer would overwrite the reset with its next commit. \
            New offsets are clamped into each partition's [log start, log end], as Kafka does. Prints \
            the plan (topic, partition, old offset, new offset); with --execute commits it with \
            OffsetCommit (generation -1, no member id). When a partition cannot be planned (its \
            offsets could not be listed, nothing committed to shift) nothing is committed.
            """
    )

    @OptionGroup var cluster: ClusterOptions

    @Argument(help: "The group.")
    var group: String

    @Option(name: .customLong("topic"), help: ArgumentHelp("A topic, or some of its partitions (repeatable).", valueName: "topic[:p,p...]"))
    var topicSpecs: [String] = []

    @Flag(help: "Every topic the group has committed offsets on.")
    var allTopics = false

    @Flag(help: "To the log start offset.")
    var toEarliest = false

    @Flag(help: "To the log end offset.")
    var toLatest = false

    @Option(help: "To this offset.")
    var toOffset: Int64?

    // Unconditional: the value may begin with a dash (`--shift-by -10`).
    @Option(parsing: .unconditional, help: ArgumentHelp("Move the committed offset by N (negative: back).", valueName: "n"))
    var shiftBy: Int64?

    @Option(help: ArgumentHelp("To the first offset at or after this time: ISO 8601, e.g. 2026-01-01T00:00:00.000 (local time) or with Z or ±hh:mm.", valueName: "datetime"))
    var toDatetime: String?

    @Flag(help: "Print the plan only (the default).")
    var dryRun = false

    @Flag(help: "Commit the plan.")
    var execute = false

    func validate() throws {
        let strategies = [toEarliest, toLatest, toOffset != nil, shiftBy != nil, toDatetime != nil].filter { $0 }.count
        guard strategies == 1 else {
            throw ValidationError("give exactly one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime")
        }
        guard !(dryRun && execute) else { throw ValidationError("--dry-run and --execute exclude each other") }
        guard topicSpecs.isEmpty == allTopics else { throw ValidationError("give --topic (one or more) or --all-topics") }
        for spec in topicSpecs where Self.parseTopic(spec) == nil {
            throw ValidationError("--topic must be TOPIC or TOPIC:P,P,..., not '\(spec)'")
        }
        if let toDatetime, Self.parseDatetime(toDatetime) == nil {
            throw ValidationError("--to-datetime must be ISO 8601 (2026-01-01T00:00:00, with optional .sss and Z or ±hh:mm), not '\(toDatetime)'")
        }
        if let toOffset, toOffset < 0 { throw ValidationError("--to-offset must not be negative") }
    }

    var strategy: OffsetResetStrategy {
        if toEarliest { return .earliest }
        if toLatest { return .latest }
        if let toOffset { return .offset(toOffset) }
        if let shiftBy { return .shiftBy(shiftBy) }
        guard let toDatetime, let milliseconds = Self.parseDatetime(toDatetime) else { preconditionFailure("validated") }
        return .datetime(milliseconds: milliseconds)
    }

    func run() throws {
        let group = group, strategy = strategy, execute = execute, json = cluster.json
        let topics = allTopics ? nil : topicSpecs.compactMap(Self.parseTopic)
        try cluster.run { cluster in
            let plan: OffsetResetPlan
            do throws(ClientError) {
                plan = try await cluster.planOffsetReset(of: group, topics: topics, strategy: strategy)
            } catch {
                return GroupsOutput.failed("reset-offsets", error)
            }
            if plan.groupIsActive {
                let members = "\(plan.memberCount) active member\(plan.memberCount == 1 ? "" : "s")"
                printError("petrel groups reset-offsets: group \(group) has \(members) (state \(plan.state)): offsets can only be reset while it has none; stop its consumers first")
                if json { GroupsOutput.printJSON(["group": group, "state": plan.state, "executed": false, "error": "group is active"]) }
                return GroupsCommand.exitItemError
            }
            let planned = plan.unknownTopics.isEmpty && plan.entries.allSatisfy { $0.newOffset != nil }
            var results: [TopicPartition: ErrorCode] = [:]
            if execute && planned && !plan.entries.isEmpty {
                do throws(ClientError) {
                    let coordinator = try await cluster.coordinator(ofGroup: group)
                    results = try await cluster.commitOffsets(plan.offsetsToCommit, for: group, at: coordinator)
                } catch {
                    return GroupsOutput.failed("reset-offsets", error)
                }
            }
            Self.report(plan, results: results, executed: execute && planned, executeAsked: execute, json: json)
            let failed = !planned || results.values.contains { $0 != .none }
            return failed ? GroupsCommand.exitItemError : GroupsCommand.exitSuccess
        }
    }

    static func report(_ plan: OffsetResetPlan, results: [TopicPartition: ErrorCode], executed: Bool, executeAsked: Bool, json: Bool) {
        func problem(_ entry: OffsetResetPlan.Entry) -> String? {
            if entry.errorCode != .none { return GroupsOutput.explained(entry.errorCode) }
            if entry.newOffset == nil { return "no committed offset to shift" }
            if let code = results[entry.partition], code != .none { return GroupsOutput.explained(code) }
            return nil
        }
        if json {
            GroupsOutput.printJSON([
                "group": plan.groupId, "state": plan.state, "executed": executed, "unknownTopics": plan.unknownTopics,
                "partitions": plan.entries.map { entry -> [String: Any] in
                    ["topic": entry.partition.topic, "partition": Int(entry.partition.partition), "oldOffset": GroupsOutput.json(entry.oldOffset),
                     "newOffset": GroupsOutput.json(entry.newOffset), "error": GroupsOutput.json(problem(entry))]
                },
            ])
        } else {
            var table = TextTable("GROUP", "TOPIC", "PARTITION", "OLD-OFFSET", "NEW-OFFSET", "ERROR")
            for entry in plan.entries {
                table.append([plan.groupId, entry.partition.topic, String(entry.partition.partition), GroupsOutput.cell(entry.oldOffset),
                              GroupsOutput.cell(entry.newOffset), problem(entry) ?? "-"])
            }
            print(table.text)
        }
        for topic in plan.unknownTopics { printError("petrel groups reset-offsets: unknown topic \(topic)") }
        if executeAsked && !executed {
            printError("petrel groups reset-offsets: nothing committed: the plan has partitions without a new offset or unknown topics")
        } else if !executed {
            printError("petrel groups reset-offsets: dry run, nothing committed\(plan.entries.isEmpty ? "" : " (--execute commits the plan)")")
        }
    }

    /// `topic` or `topic:0,1,2`.
    static func parseTopic(_ spec: String) -> (topic: String, partitions: [Int32]?)? {
        guard let colon = spec.lastIndex(of: ":") else { return spec.isEmpty ? nil : (spec, nil) }
        let topic = String(spec[..<colon])
        let partitions = spec[spec.index(after: colon)...].split(separator: ",", omittingEmptySubsequences: false).map { Int32($0) }
        guard !topic.isEmpty, !partitions.isEmpty, partitions.allSatisfy({ ($0 ?? -1) >= 0 }) else { return nil }
        return (topic, partitions.compactMap { $0 })
    }

    /// ISO 8601 to milliseconds since the epoch: with a zone (Z, ±hh:mm) or without (local time,
    /// as Kafka's tool reads it), with or without fractional seconds.
    static func parseDatetime(_ text: String) -> Int64? {
        let zoned = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]] {
            zoned.formatOptions = options
            if let date = zoned.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        let local = DateFormatter()
        local.locale = Locale(identifier: "en_US_POSIX")
        local.timeZone = .current
        for format in ["yyyy-MM-dd'T'HH:mm:ss.SSS", "yyyy-MM-dd'T'HH:mm:ss"] {
            local.dateFormat = format
            if let date = local.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        }
        return nil
    }
}
