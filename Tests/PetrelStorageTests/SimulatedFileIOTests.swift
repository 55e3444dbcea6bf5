#if canImport(Glibc)
import Glibc
#endif
import PetrelStorage
import Testing

/// The simulator's durability rules, one by one: the power-loss test is only as good as they are.
@Suite struct SimulatedFileIOTests {
    func write(_ io: SimulatedFileIO, _ descriptor: Int32, _ bytes: [UInt8], at position: Int64 = 0) throws {
        try bytes.withUnsafeBytes { buffer in try io.pwritevAll(descriptor, [buffer], at: position, path: "test") }
    }

    func durableFile(_ image: FileSystemImage, _ path: String) -> [UInt8]? { image.files.first { $0.path == path }?.bytes }

    @Test func unsyncedDataIsLostAndSyncedDataKept() throws {
        let io = SimulatedFileIO()
        let file = try io.open("/a", flags: O_RDWR | O_CREAT, mode: 0o644)
        try io.fsyncDirectory("/")
        try write(io, file, [1, 2, 3])
        #expect(durableFile(io.durableImage(), "/a") == [])
        try io.fdatasync(file, path: "/a")
        try write(io, file, [9], at: 3)
        try io.ftruncate(file, length: 2, path: "/a")
        #expect(durableFile(io.durableImage(), "/a") == [1, 2, 3])
        #expect(durableFile(io.liveImage(), "/a") == [1, 2])
    }

    @Test func directoryEntriesNeedTheDirectoryFsync() throws {
        let io = SimulatedFileIO()
        try io.mkdir("/d")
        let file = try io.open("/d/f", flags: O_RDWR | O_CREAT, mode: 0o644)
        try write(io, file, [7])
        try io.fsync(file, path: "/d/f")
        #expect(io.durableImage().files.isEmpty, "fsync of a new file does not make its name durable")
        try io.fsyncDirectory("/d")
        #expect(io.durableImage().files.isEmpty, "/d itself is not durable in /")
        try io.fsyncDirectory("/")
        #expect(durableFile(io.durableImage(), "/d/f") == [7])
        try io.unlink("/d/f")
        #expect(durableFile(io.durableImage(), "/d/f") == [7], "an unlink is undone by power loss until /d is fsynced")
        try io.fsyncDirectory("/d")
        #expect(io.durableImage().files.isEmpty)
    }

    @Test func renameIsAHardLinkUntilBothDirectoriesAreSynced() throws {
        let io = SimulatedFileIO()
        try io.mkdir("/x")
        try io.mkdir("/y")
        let file = try io.open("/x/f", flags: O_RDWR | O_CREAT, mode: 0o644)
        try write(io, file, [5])
        try io.fsync(file, path: "/x/f")
        for directory in ["/x", "/y", "/"] { try io.fsyncDirectory(directory) }
        try io.rename("/x/f", to: "/y/g")
        try io.fsyncDirectory("/y")
        let image = io.durableImage()
        #expect(image.files.map { $0.path } == ["/x/f", "/y/g"], "old name not yet removed durably, new name durable")
        let rebooted = SimulatedFileIO(rebootingFrom: image)
        let again = try rebooted.open("/x/f", flags: O_RDWR, mode: 0)
        try write(rebooted, again, [6])
        #expect(durableFile(rebooted.liveImage(), "/y/g") == [6], "both names are one inode")
        #expect(!rebooted.exists("/y/f") && rebooted.exists("/y/g"))
    }

    @Test func renameOverAnExistingNameReplacesIt() throws {
        let io = SimulatedFileIO()
        for (name, byte) in [("/a", UInt8(1)), ("/a.tmp", 2)] {
            let file = try io.open(name, flags: O_RDWR | O_CREAT | O_TRUNC, mode: 0o644)
            try write(io, file, [byte])
            try io.fsync(file, path: name)
            io.close(file)
        }
        try io.fsyncDirectory("/")
        try io.rename("/a.tmp", to: "/a")
        #expect(durableFile(io.durableImage(), "/a") == [1])
        try io.fsyncDirectory("/")
        #expect(io.durableImage().files.map { $0.path } == ["/a"])
        #expect(durableFile(io.durableImage(), "/a") == [2])
    }

    @Test func mappingSharesBytesWithWritesAndMsyncMakesThemDurable() throws {
        let io = SimulatedFileIO()
        let file = try io.open("/m", flags: O_RDWR | O_CREAT, mode: 0o644)
        try io.fsyncDirectory("/")
        try io.ftruncate(file, length: 16, path: "/m")
        let mapping = try io.mmap(file, length: 4096, writable: true, path: "/m")
        try write(io, file, [42], at: 1)
        #expect(mapping.load(fromByteOffset: 1, as: UInt8.self) == 42, "a write shows in the mapping")
        mapping.storeBytes(of: 17, toByteOffset: 0, as: UInt8.self)
        var read: [UInt8] = [0, 0]
        _ = try read.withUnsafeMutableBytes { try io.pread(file, into: $0, at: 0, path: "/m") }
        #expect(read == [17, 42], "a store in the mapping shows to pread")
        #expect(durableFile(io.durableImage(), "/m") == [])
        try io.msync(mapping, length: 4096, path: "/m")
        #expect(durableFile(io.durableImage(), "/m")?.prefix(2) == [17, 42])
        try io.ftruncate(file, length: 1, path: "/m")
        try io.ftruncate(file, length: 2, path: "/m")
        #expect(mapping.load(fromByteOffset: 1, as: UInt8.self) == 0, "bytes cut by ftruncate read as zero when the file grows again")
        #expect(durableFile(io.durableImage(), "/m")?.count == 16, "the trim is not durable without a sync")
    }

    @Test func crashImagesAreKeptBeforeEachCall() throws {
        let io = SimulatedFileIO()
        io.startRecordingCrashImages()
        let file = try io.open("/f", flags: O_RDWR | O_CREAT, mode: 0o644)  // call 1
        try io.fsyncDirectory("/")  // call 2
        try write(io, file, [1])  // call 3
        try io.fsync(file, path: "/f")  // call 4
        #expect(io.crashPoints == 1...5)
        #expect(io.crashImage(beforeCall: 1)?.files.isEmpty == true)
        #expect(durableFile(io.crashImage(beforeCall: 3)!, "/f") == [])
        #expect(durableFile(io.crashImage(beforeCall: 4)!, "/f") == [])
        #expect(durableFile(io.crashImage(beforeCall: 5)!, "/f") == [1])
        #expect(io.crashImageNumber(beforeCall: 3) == io.crashImageNumber(beforeCall: 4))
    }

    @Test func writtenBackImagesTearUnsyncedAppendsOnly() throws {
        let io = SimulatedFileIO()
        let file = try io.open("/w", flags: O_RDWR | O_CREAT, mode: 0o644)
        try io.fsyncDirectory("/")
        let synced = [UInt8](repeating: 1, count: 1000)
        try write(io, file, synced)
        try io.fsync(file, path: "/w")
        io.recordWrittenBackImages(before: Set(100..<300), seed: 5)
        io.startRecordingCrashImages()
        var sizes: Set<Int> = []
        for call in 0..<200 {  // each pwritev is one mutating call
            try write(io, file, [2, 2, 2, 2, 2], at: Int64(1000 + 5 * call))
        }
        for call in io.crashPoints {
            guard let image = io.writtenBackCrashImage(beforeCall: call), let bytes = durableFile(image, "/w") else { continue }
            #expect(bytes.count >= 1000 && bytes.count <= 1000 + 5 * (call - 4), "between the durable and the live size")
            #expect(Array(bytes.prefix(1000)) == synced, "synced bytes stay")
            #expect(bytes.dropFirst(1000).allSatisfy { $0 == 0 || $0 == 2 }, "the rest: live bytes or zeros")
            sizes.insert(bytes.count)
        }
        #expect(sizes.count > 10, "sizes vary")
    }

    @Test func lockIsHeldUntilClose() throws {
        let io = SimulatedFileIO()
        let first = try io.open("/lock", flags: O_RDWR | O_CREAT, mode: 0o644)
        let second = try io.open("/lock", flags: O_RDWR | O_CREAT, mode: 0o644)
        #expect(try io.tryLockExclusive(first, path: "/lock"))
        #expect(try !io.tryLockExclusive(second, path: "/lock"))
        io.close(first)
        #expect(try io.tryLockExclusive(second, path: "/lock"))
    }
}
