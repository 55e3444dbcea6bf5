import Foundation
import PetrelFormat
import Testing
@testable import PetrelStorage

/// Asynchronous appends never block a thread on a full append queue: they wait in line,
/// suspended, and the writer admits them, oldest first, as room frees — so a few threads (the
/// cooperative pool has two on this machine) can carry any number of producers.
@Suite struct AsyncAppendQueueTests {
    final class Infos: Sendable {
        let slots = Locked<[Int: Result<AppendInfo, StorageError>]>([:])
        func set(_ index: Int, _ result: Result<AppendInfo, StorageError>) { slots.withLock { $0[index] = result } }
        var all: [Int: Result<AppendInfo, StorageError>] { slots.withLock { $0 } }
    }

    func appended(_ log: Log, _ bytes: [UInt8]) async -> Result<AppendInfo, StorageError> {
        do throws(StorageError) { return .success(try await log.append(bytes)) } catch { return .failure(error) }
    }

    /// Waits for the parked write on a thread of its own: blocking a cooperative thread here
    /// could starve the very append that is to park.
    func writeParked(_ io: FaultInjectingFileIO) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                io.waitUntilWriteParked()
                continuation.resume()
            }.start()
        }
    }

    func spin(until condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(20)
        while !condition() {
            if Date() > deadline { return false }
            await Task.yield()
        }
        return true
    }

    @Test func appendsBeyondAFullQueueWaitSuspendedAndAreAdmittedInOrder() async throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        let batches = (0..<8).map { makeBatch(count: 1, tag: $0) }
        var config = LogConfig()
        // Room for the batch being written (counted until written) and one queued behind it.
        config.appendQueueBytesMax = 2 * batches[1].count
        let (log, _) = try Log.open(directory: directory.path + "/q-0", config: config, io: io)
        let infos = Infos()
        io.parkNextWrite()
        let first = Task { infos.set(0, await appended(log, batches[0])) }
        await writeParked(io)
        // The writer is inside the first write. The next append fills the queue; every later
        // one waits in line. Each starts once the one before it is queued or parked, so their
        // arrival order is known.
        var tasks = [first]
        for index in 1..<batches.count {
            tasks.append(Task { infos.set(index, await appended(log, batches[index])) })
            let arrived = await spin { log.queuedAppendCount + log.parkedAppendCount == index }
            #expect(arrived, "append \(index) reached the queue without a free thread to block")
        }
        #expect(log.queuedAppendCount == 1)
        #expect(log.parkedAppendCount == batches.count - 2, "suspended, not blocking the two cooperative threads")
        io.releaseParkedWrite()
        for task in tasks { await task.value }
        let offsets = try (0..<batches.count).map { try infos.all[$0]!.get().firstOffset }
        #expect(offsets == Array(0..<Int64(batches.count)), "admitted in arrival order")
        #expect(log.parkedAppendCount == 0 && log.queuedAppendCount == 0)
        let values = try log.readRecords(fromOffset: 0, maxRecords: 100).map { String(decoding: $0.value ?? [], as: UTF8.self) }
        #expect(values == (0..<batches.count).map { expectedValue(tag: $0, index: 0) })
    }

    /// Appends waiting in line when the log goes offline fail at once instead of waiting forever.
    @Test func parkedAppendsFailWhenTheLogGoesOffline() async throws {
        let directory = TemporaryDirectory()
        let io = FaultInjectingFileIO()
        let batches = (0..<4).map { makeBatch(count: 1, tag: $0) }
        var config = LogConfig()
        config.appendQueueBytesMax = 2 * batches[1].count
        config.flushPolicy = .beforeAcknowledge
        let (log, _) = try Log.open(directory: directory.path + "/o-0", config: config, io: io)
        let infos = Infos()
        io.parkNextWrite()
        io.inject(.failSyncs(errno: EIO))
        var tasks: [Task<Void, Never>] = []
        tasks.append(Task { infos.set(0, await appended(log, batches[0])) })
        await writeParked(io)
        for index in 1..<batches.count {
            tasks.append(Task { infos.set(index, await appended(log, batches[index])) })
            _ = await spin { log.queuedAppendCount + log.parkedAppendCount == index }
        }
        #expect(log.parkedAppendCount == 2)
        io.releaseParkedWrite()
        for task in tasks { await task.value }
        for index in 0..<batches.count {
            #expect(throws: StorageError.self, "append \(index)") { try infos.all[index]!.get() }
        }
        #expect(log.parkedAppendCount == 0)
    }
}
