// swift-tools-version: 6.1
import PackageDescription

/// Settings every Swift target shares: Swift 6 language mode comes from the tools version;
/// upcoming features that make the code clearer are opted into here, once.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "petrel",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PetrelFormat", targets: ["PetrelFormat"]),
        .library(name: "PetrelStorage", targets: ["PetrelStorage"]),
        .library(name: "PetrelRepair", targets: ["PetrelRepair"]),
        .library(name: "PetrelProtocol", targets: ["PetrelProtocol"]),
        .library(name: "PetrelCoordinator", targets: ["PetrelCoordinator"]),
        .library(name: "PetrelBroker", targets: ["PetrelBroker"]),
        .library(name: "PetrelClient", targets: ["PetrelClient"]),
        .executable(name: "petrel", targets: ["petrel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
    ],
    targets: [
        // CRC32C (Castagnoli): the SSE4.2 instruction behind a runtime CPU check, with a
        // slicing-by-8 software fallback. No unsafeFlags: the hardware path uses a target attribute.
        .target(name: "CCRC32C"),
        // Thread naming through pthread_setname_np, which Swift's Glibc module does not expose.
        .target(name: "CThreadName"),
        // Compression libraries from Debian, found through pkg-config.
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CSnappy", pkgConfig: "snappy", providers: [.apt(["libsnappy-dev"])]),
        .target(
            name: "PetrelFormat",
            dependencies: ["CCRC32C", "CLZ4", "CZlib", "CZstd", "CSnappy"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PetrelStorage",
            dependencies: ["PetrelFormat", .product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: swiftSettings
        ),
        // Kafka wire codecs only: framing, headers, message bodies. No I/O, no state.
        .target(name: "PetrelProtocol", swiftSettings: swiftSettings),
        // fsck and dump as a library: checks, repair plans, the journal and quarantine.
        .target(
            name: "PetrelRepair",
            dependencies: ["PetrelFormat", "PetrelStorage"],
            swiftSettings: swiftSettings
        ),
        // Group and transaction coordinators: no NIO and no `Log`; they reach their internal
        // topics through the `PartitionWriter` the broker implements, and time through an
        // injected scheduler.
        .target(
            name: "PetrelCoordinator",
            dependencies: ["PetrelFormat", "PetrelStorage", "PetrelProtocol"],
            swiftSettings: swiftSettings
        ),
        // The Kafka-compatible broker: SwiftNIO for the network, PetrelStorage underneath.
        .target(
            name: "PetrelBroker",
            dependencies: [
                "PetrelFormat", "PetrelStorage", "PetrelProtocol", "PetrelCoordinator", "CThreadName",
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // A minimal Kafka client for tools (`petrel groups`): connections with version
        // negotiation, metadata, coordinators, and the group and offset APIs; any Kafka broker.
        .target(
            name: "PetrelClient",
            dependencies: [
                "PetrelProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The benchmark harness behind `petrel bench`: workloads, same-run baselines, peers, reports.
        .target(
            name: "PetrelBench",
            dependencies: [
                "PetrelFormat", "PetrelStorage", "PetrelRepair", "PetrelClient", "PetrelProtocol",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "petrel",
            dependencies: [
                "PetrelBench",
                "PetrelBroker",
                "PetrelClient",
                "PetrelFormat",
                "PetrelProtocol",
                "PetrelStorage",
                "PetrelRepair",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tools/petrel",
            swiftSettings: swiftSettings
        ),
        // The "Embedding Petrel" guide as a program: `swift run petrel-embedding-example`.
        // The "Embedding the group coordinator" guide as a program: `swift run petrel-coordinator-example`.
        .executableTarget(
            name: "petrel-coordinator-example",
            dependencies: ["PetrelCoordinator", "PetrelProtocol", "PetrelStorage"],
            path: "Tools/coordinator-example",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "petrel-embedding-example",
            dependencies: ["PetrelFormat", "PetrelStorage"],
            path: "Tools/embedding-example",
            swiftSettings: swiftSettings
        ),
        // Helpers shared by the test targets (seeded randomness).
        .target(name: "PetrelTestSupport", path: "Tests/PetrelTestSupport", swiftSettings: swiftSettings),
        .testTarget(
            name: "PetrelFormatTests",
            dependencies: ["PetrelFormat", "CCRC32C", "PetrelTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PetrelProtocolTests",
            dependencies: ["PetrelProtocol", "PetrelTestSupport"],
            // kafka-python's bytes for each message version, read by path (GoldenBytesTests).
            exclude: ["Golden"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PetrelBrokerTests",
            dependencies: ["PetrelBroker", "PetrelStorage", "PetrelProtocol", "PetrelCoordinator", "PetrelFormat", "PetrelRepair", "PetrelTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PetrelClientTests",
            dependencies: ["PetrelClient", "PetrelProtocol"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PetrelCoordinatorTests",
            dependencies: ["PetrelCoordinator", "PetrelStorage", "PetrelFormat", "PetrelTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PetrelRepairTests",
            // PetrelProtocol: the internal-topic records the dump test writes.
            dependencies: ["PetrelRepair", "PetrelStorage", "PetrelFormat", "PetrelProtocol", "PetrelTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PetrelStorageTests",
            // PetrelRepair: the power-loss test runs fsck on each crash image.
            dependencies: ["PetrelStorage", "PetrelFormat", "PetrelRepair", "PetrelTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
