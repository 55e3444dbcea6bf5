/// A 128-bit digest of a record key (MurmurHash3, x64 128-bit variant, seed 0), which stands
/// in for the key in the cleaner's `OffsetMap`, as MD5 does in Kafka's `SkimpyOffsetMap`: keys
/// are never stored, so the map's memory is fixed whatever the keys' sizes.
///
/// Two keys with the same digest would make the cleaner drop the older one's record, so the
/// digest is 128 bits: for 10 M keys in one pass the chance of any collision is about 10⁻²⁵.
/// Not a cryptographic hash; nothing here is adversarial beyond that (a producer who could
/// forge collisions can already overwrite its own keys).
struct KeyDigest: Hashable, Sendable {
    let high: UInt64
    let low: UInt64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    init(_ key: UnsafeRawBufferPointer) {
        let c1: UInt64 = 0x87c3_7b91_1142_53d5
        let c2: UInt64 = 0x4cf5_ad43_2745_937f
        var h1: UInt64 = 0
        var h2: UInt64 = 0
        let count = key.count
        let blocks = count / 16
        for block in 0..<blocks {
            var k1 = UInt64(littleEndian: key.loadUnaligned(fromByteOffset: block * 16, as: UInt64.self))
            var k2 = UInt64(littleEndian: key.loadUnaligned(fromByteOffset: block * 16 + 8, as: UInt64.self))
            k1 = k1 &* c1
            k1 = Self.rotate(k1, 31)
            k1 = k1 &* c2
            h1 ^= k1
            h1 = Self.rotate(h1, 27)
            h1 = h1 &+ h2
            h1 = h1 &* 5 &+ 0x52dc_e729
            k2 = k2 &* c2
            k2 = Self.rotate(k2, 33)
            k2 = k2 &* c1
            h2 ^= k2
            h2 = Self.rotate(h2, 31)
            h2 = h2 &+ h1
            h2 = h2 &* 5 &+ 0x3849_5ab5
        }
        let tail = blocks * 16
        var k1: UInt64 = 0
        var k2: UInt64 = 0
        let remaining = count - tail
        if remaining > 8 {
            for index in stride(from: remaining - 1, through: 8, by: -1) {
                k2 ^= UInt64(key[tail + index]) << (UInt64(index - 8) * 8)
            }
            k2 = k2 &* c2
            k2 = Self.rotate(k2, 33)
            k2 = k2 &* c1
            h2 ^= k2
        }
        if remaining > 0 {
            for index in stride(from: min(remaining, 8) - 1, through: 0, by: -1) {
                k1 ^= UInt64(key[tail + index]) << (UInt64(index) * 8)
            }
            k1 = k1 &* c1
            k1 = Self.rotate(k1, 31)
            k1 = k1 &* c2
            h1 ^= k1
        }
        h1 ^= UInt64(count)
        h2 ^= UInt64(count)
        h1 = h1 &+ h2
        h2 = h2 &+ h1
        h1 = Self.finalMix(h1)
        h2 = Self.finalMix(h2)
        h1 = h1 &+ h2
        h2 = h2 &+ h1
        high = h1
        low = h2
    }

    @inline(__always) private static func rotate(_ value: UInt64, _ bits: UInt64) -> UInt64 {
        (value << bits) | (value >> (64 - bits))
    }

    @inline(__always) private static func finalMix(_ value: UInt64) -> UInt64 {
        var k = value
        k ^= k >> 33
        k = k &* 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k = k &* 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }
}
