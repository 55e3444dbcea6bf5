// swift-tools-version: 6.1
import PackageDescription

// A package of its own, so that `swift test` in the root never builds ordo-one/benchmark.
//
// A path dependency's identity is its folder's name, which depends on where the repository was
// cloned; compute it rather than hard-coding it.
let rootPackageIdentity = Context.packageDirectory.split(separator: "/").dropLast().last.map { $0.lowercased() } ?? "petrel"

let package = Package(
    name: "PetrelBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../"),
        // MallocInterposer only: the default traits pull in a runtime interposer that is not
        // available here and that crashes on Swift 6.3 (ordo-one/benchmark issue 349).
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "PetrelFormatBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PetrelFormat", package: rootPackageIdentity),
            ],
            path: "Benchmarks/PetrelFormatBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "PetrelProduceBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PetrelBroker", package: rootPackageIdentity),
                .product(name: "PetrelProtocol", package: rootPackageIdentity),
                .product(name: "PetrelFormat", package: rootPackageIdentity),
            ],
            path: "Benchmarks/PetrelProduceBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
