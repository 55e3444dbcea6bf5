import Foundation

/// What a disk holds after power loss: the inodes reachable from the root through durable
/// directory entries, each with its durable bytes. Built by `SimulatedFileIO.durableImage()`,
/// booted again by `SimulatedFileIO(rebootingFrom:)`.
///
/// Nodes are kept by inode number, not by path, so that a file reachable under two durable
/// names (a rename whose old directory was not fsynced, but whose new one was) stays one inode
/// after the reboot, as it would on a real file system. File bytes are copy-on-write arrays, so
/// many images of one run share the bytes of files that did not change between them.
struct FileSystemImage: Sendable, Equatable {
    enum Node: Sendable, Equatable {
        case file([UInt8])
        case directory([String: Int])
    }

    static let rootNode = 0
    var nodes: [Int: Node]

    /// Every file by path (a file with two names appears twice), sorted by path.
    var files: [(path: String, bytes: [UInt8])] {
        var found: [(path: String, bytes: [UInt8])] = []
        walk { path, node in if case let .file(bytes) = node { found.append((path, bytes)) } }
        return found.sorted { $0.path < $1.path }
    }

    /// Calls `body` for every reachable node, parents first, with its absolute path.
    func walk(_ body: (String, Node) -> Void) {
        var stack: [(path: String, node: Int)] = [("", Self.rootNode)]
        while let (path, id) = stack.popLast() {
            guard let node = nodes[id] else { continue }
            body(path.isEmpty ? "/" : path, node)
            if case let .directory(entries) = node {
                for (name, child) in entries.sorted(by: { $0.key > $1.key }) { stack.append(("\(path)/\(name)", child)) }
            }
        }
    }

    /// Writes the image as a real directory tree under `root` (which must not exist), so that
    /// tools that use the real file system (fsck uses Foundation) can look at it. A file with two
    /// names becomes two copies: enough for reading.
    func materialize(at root: String) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: root, withIntermediateDirectories: true)
        var failure: (any Error)?
        walk { path, node in
            guard failure == nil, path != "/" else { return }
            do {
                switch node {
                case .directory: try manager.createDirectory(atPath: root + path, withIntermediateDirectories: false)
                case let .file(bytes): try Data(bytes).write(to: URL(fileURLWithPath: root + path))
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }
}
