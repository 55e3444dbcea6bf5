#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PetrelStorage
import PetrelTestSupport

/// One file's inode in the simulator: live bytes in a reservation that mappings point into,
/// durable bytes as of the last sync. Touched only under the simulator's lock (mapped bytes
/// excepted: the engine reads and writes those itself, as it would a shared mapping).
final class SimulatedFile {
    let base: UnsafeMutableRawPointer
    let reservation: Int
    /// Live size; bytes from here to the end of the reservation are zero.
    var size = 0
    var durable: [UInt8] = []

    init(reserving bytes: Int, contents: [UInt8] = []) {
        let address = Glibc.mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            fatalError("simulated file: cannot reserve \(bytes) bytes of address space (errno \(Glibc.errno))")
        }
        base = address
        reservation = bytes
        precondition(contents.count <= bytes, "simulated file larger than its reservation")
        contents.withUnsafeBytes { if !$0.isEmpty { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        size = contents.count
        durable = contents
    }

    deinit { Glibc.munmap(base, reservation) }

    var liveBytes: [UInt8] { Array(UnsafeRawBufferPointer(start: base, count: size)) }

    func truncate(to length: Int) {
        if length < size { (base + length).initializeMemory(as: UInt8.self, repeating: 0, count: size - length) }
        size = length
    }
}

/// One directory's inode: live and durable entries (name → inode number).
final class SimulatedDirectory {
    var live: [String: Int]
    var durable: [String: Int]

    init(entries: [String: Int]) {
        live = entries
        durable = entries
    }
}

/// The simulator's whole state, kept in its lock.
struct SimulatedFileSystem {
    enum Node {
        case file(SimulatedFile)
        case directory(SimulatedDirectory)
    }

    struct Descriptor {
        let node: Int
        let writable: Bool
    }

    static let rootNode = FileSystemImage.rootNode

    var nodes: [Int: Node] = [rootNode: .directory(SimulatedDirectory(entries: [:]))]
    var nextNode = rootNode + 1
    var descriptors: [Int32: Descriptor] = [:]
    var nextDescriptor: Int32 = 3
    /// Inode → the descriptor holding its flock.
    var locks: [Int: Int32] = [:]

    var mutations = 0
    var trace: [Int: String] = [:]
    var recording = false
    var firstRecordedCall = 1
    /// Distinct durable images, in order; `imageBeforeCall[n]` indexes the one before call n.
    var images: [FileSystemImage] = []
    var imageBeforeCall: [Int: Int] = [:]
    var durableChanged = false
    /// Calls before which a written-back image is kept too (see `writtenBackImage`).
    var writebackPoints: Set<Int> = []
    var writebackImages: [Int: FileSystemImage] = [:]
    var writebackRandom = SeededGenerator(seed: 0)

    static func error(_ name: String, _ errno: Int32, _ path: String) -> StorageError {
        StorageError(.systemCall(name: "\(name) (simulated)", errno: errno), path: path)
    }

    /// Numbers a mutating call; while recording, first keeps the durable image before it.
    mutating func noteMutation(_ description: @autoclosure () -> String) {
        mutations += 1
        guard recording else { return }
        trace[mutations] = description()
        if durableChanged {
            images.append(image(durable: true))
            durableChanged = false
        }
        imageBeforeCall[mutations] = images.count - 1
        if writebackPoints.contains(mutations) { writebackImages[mutations] = writtenBackImage() }
    }

    /// A power loss after the kernel wrote back some unsynced data on its own: the durable image,
    /// except that each file whose live bytes differ gets a size between its durable and live
    /// sizes (either one for a shrink), and each 512-byte sector of it the live or the durable
    /// bytes (zeros where those have none) — torn appends, half-written index pages, zeros
    /// after a size that got out before its data. Directory entries stay strict.
    mutating func writtenBackImage() -> FileSystemImage {
        var image = image(durable: true)
        for (id, node) in image.nodes {
            guard case let .file(durable) = node, case let .file(file)? = nodes[id] else { continue }
            let live = file.liveBytes
            guard live != durable else { continue }
            let size = live.count >= durable.count ? Int.random(in: durable.count...live.count, using: &writebackRandom)
                : [durable.count, live.count].randomElement(using: &writebackRandom)!
            var bytes = [UInt8](repeating: 0, count: size)
            for start in stride(from: 0, to: size, by: 512) {
                let source = Bool.random(using: &writebackRandom) ? live : durable
                for index in start..<min(start + 512, size) where index < source.count { bytes[index] = source[index] }
            }
            image.nodes[id] = .file(bytes)
        }
        return image
    }

    mutating func addNode(_ node: Node) -> Int {
        let id = nextNode
        nextNode += 1
        nodes[id] = node
        return id
    }

    private static func components(_ path: String) -> [Substring] {
        precondition(path.hasPrefix("/"), "the simulator takes absolute paths, not \(path)")
        let parts = path.split(separator: "/").filter { $0 != "." }
        precondition(!parts.contains(".."), "the simulator does not resolve '..' in \(path)")
        return parts
    }

    /// The inode at `path` through live entries, if any.
    func resolve(_ path: String) -> Int? {
        var id = Self.rootNode
        for part in Self.components(path) {
            guard case let .directory(directory) = nodes[id]!, let child = directory.live[String(part)] else { return nil }
            id = child
        }
        return id
    }

    /// The live directory holding `path`'s last component, and that component ("" for "/").
    func parent(of path: String) throws(StorageError) -> (SimulatedDirectory, String) {
        var parts = Self.components(path)
        let name = parts.popLast().map(String.init) ?? ""
        var id = Self.rootNode
        for part in parts {
            guard case let .directory(directory) = nodes[id]! else { throw Self.error("lookup", ENOTDIR, path) }
            guard let child = directory.live[String(part)] else { throw Self.error("lookup", ENOENT, path) }
            id = child
        }
        guard case let .directory(directory) = nodes[id]! else { throw Self.error("lookup", ENOTDIR, path) }
        return (directory, name)
    }

    func file(_ descriptor: Int32, _ name: String, _ path: String, writing: Bool) throws(StorageError) -> SimulatedFile {
        guard let open = descriptors[descriptor] else { throw Self.error(name, EBADF, path) }
        guard case let .file(file) = nodes[open.node]! else { throw Self.error(name, EISDIR, path) }
        if writing && !open.writable { throw Self.error(name, EBADF, path) }
        return file
    }

    /// The inodes reachable from the root through durable (or live) entries, with their durable
    /// (or live) contents.
    func image(durable: Bool) -> FileSystemImage {
        var kept: [Int: FileSystemImage.Node] = [:]
        var pending = [Self.rootNode]
        while let id = pending.popLast() {
            guard kept[id] == nil, let node = nodes[id] else { continue }
            switch node {
            case let .file(file):
                kept[id] = .file(durable ? file.durable : file.liveBytes)
            case let .directory(directory):
                let entries = durable ? directory.durable : directory.live
                kept[id] = .directory(entries)
                pending.append(contentsOf: entries.values)
            }
        }
        return FileSystemImage(nodes: kept)
    }
}
