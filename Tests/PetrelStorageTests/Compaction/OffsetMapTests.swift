import Testing
@testable import PetrelStorage

@Suite struct OffsetMapTests {
    @Test func theKeyDigestIsMurmurHash3x64_128() {
        // Reference values: Python's mmh3.hash64(key, 0, signed=False) (h1, h2).
        let hello = Array("hello".utf8).withUnsafeBytes { KeyDigest($0) }
        #expect(hello == KeyDigest(high: 0xcbd8_a7b3_41bd_9b02, low: 0x5b1e_906a_48ae_1d19))
        let fox = Array("The quick brown fox jumps over the lazy dog".utf8).withUnsafeBytes { KeyDigest($0) }
        #expect(fox == KeyDigest(high: 0xe34b_bc7b_bc07_1b6c, low: 0x7a43_3ca9_c49a_9347))
        #expect([UInt8]().withUnsafeBytes { KeyDigest($0) } == KeyDigest(high: 0, low: 0))
    }

    @Test func keepsTheLatestOffsetPerKeyAndRefusesNewKeysOnceFull() {
        let map = OffsetMap(memoryBytes: 24 * 10)
        #expect(map.entriesMax == 9)
        for index in 0..<9 { #expect(map.put(key: Array("k\(index)".utf8), offset: Int64(index))) }
        #expect(map.isFull)
        #expect(!map.put(key: Array("new".utf8), offset: 100))
        #expect(map.offset(ofKey: Array("new".utf8)) == nil)
        // An existing key still takes a newer offset when the map is full.
        #expect(map.put(key: Array("k3".utf8), offset: 50))
        #expect(map.offset(ofKey: Array("k3".utf8)) == 50)
        #expect(map.offset(ofKey: Array("k0".utf8)) == 0)
        map.clear()
        #expect(map.count == 0 && map.offset(ofKey: Array("k3".utf8)) == nil)
    }
}
