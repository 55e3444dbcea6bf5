import Foundation

/// A fresh temporary directory, removed when the value is released.
final class BrokerTestDirectory: Sendable {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "petrel-broker-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
