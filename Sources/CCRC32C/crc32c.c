// CRC-32C with two paths: the x86 SSE4.2 `crc32` instruction (three interleaved streams whose
// results are combined with precomputed "shift by N zero bytes" tables) and a portable
// slicing-by-8 table fallback. Tables are built once, on first use, under pthread_once.

#include "ccrc32c.h"

#include <pthread.h>
#include <string.h>

#define CCRC32C_POLY 0x82F63B78u

static uint32_t software_table[8][256];
static int hardware_present;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void build_software_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ CCRC32C_POLY : crc >> 1;
        software_table[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = software_table[0][n];
        for (int k = 1; k < 8; k++) {
            crc = software_table[0][crc & 0xff] ^ (crc >> 8);
            software_table[k][n] = crc;
        }
    }
}

static uint32_t software_update(uint32_t reg, const uint8_t *p, size_t n) {
    while (n && ((uintptr_t)p & 7)) {
        reg = software_table[0][(reg ^ *p++) & 0xff] ^ (reg >> 8);
        n--;
    }
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= reg;
        reg = software_table[7][word & 0xff] ^ software_table[6][(word >> 8) & 0xff] ^
              software_table[5][(word >> 16) & 0xff] ^ software_table[4][(word >> 24) & 0xff] ^
              software_table[3][(word >> 32) & 0xff] ^ software_table[2][(word >> 40) & 0xff] ^
              software_table[1][(word >> 48) & 0xff] ^ software_table[0][word >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) reg = software_table[0][(reg ^ *p++) & 0xff] ^ (reg >> 8);
    return reg;
}

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <nmmintrin.h>

// Each of the three streams covers this many bytes per round; a round is 3 × this.
#define STREAM_BYTES 2048
// shift_table[k][b] = the raw register that b << (8k) becomes after STREAM_BYTES zero bytes.
static uint32_t shift_table[4][256];

__attribute__((target("sse4.2")))
static uint32_t hardware_shift_zeros(uint32_t reg, size_t n) {
    uint64_t r = reg;
    for (size_t i = 0; i < n / 8; i++) r = _mm_crc32_u64(r, 0);
    return (uint32_t)r;
}

static void build_shift_table(void) {
    uint32_t basis[32];
    for (int bit = 0; bit < 32; bit++) basis[bit] = hardware_shift_zeros(1u << bit, STREAM_BYTES);
    for (int k = 0; k < 4; k++) {
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int i = 0; i < 8; i++)
                if (b & (1u << i)) v ^= basis[8 * k + i];
            shift_table[k][b] = v;
        }
    }
}

static inline uint32_t shift_stream(uint32_t reg) {
    return shift_table[0][reg & 0xff] ^ shift_table[1][(reg >> 8) & 0xff] ^
           shift_table[2][(reg >> 16) & 0xff] ^ shift_table[3][reg >> 24];
}

__attribute__((target("sse4.2")))
static uint32_t hardware_update(uint32_t reg, const uint8_t *p, size_t n) {
    uint64_t r = reg;
    while (n && ((uintptr_t)p & 7)) {
        r = _mm_crc32_u8((uint32_t)r, *p++);
        n--;
    }
    while (n >= 3 * STREAM_BYTES) {
        uint64_t a = r, b = 0, c = 0;
        const uint8_t *pa = p, *pb = p + STREAM_BYTES, *pc = p + 2 * STREAM_BYTES;
        for (size_t i = 0; i < STREAM_BYTES; i += 8) {
            uint64_t wa, wb, wc;
            memcpy(&wa, pa + i, 8);
            memcpy(&wb, pb + i, 8);
            memcpy(&wc, pc + i, 8);
            a = _mm_crc32_u64(a, wa);
            b = _mm_crc32_u64(b, wb);
            c = _mm_crc32_u64(c, wc);
        }
        r = shift_stream(shift_stream((uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)c;
        p += 3 * STREAM_BYTES;
        n -= 3 * STREAM_BYTES;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        r = _mm_crc32_u64(r, w);
        p += 8;
        n -= 8;
    }
    while (n--) r = _mm_crc32_u8((uint32_t)r, *p++);
    return (uint32_t)r;
}

static int detect_hardware(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSE4_2) != 0;
}
#else
static int detect_hardware(void) { return 0; }
static uint32_t hardware_update(uint32_t reg, const uint8_t *p, size_t n) { return software_update(reg, p, n); }
static void build_shift_table(void) {}
#endif

static void initialize(void) {
    build_software_table();
    hardware_present = detect_hardware();
    if (hardware_present) build_shift_table();
}

int ccrc32c_hardware_available(void) {
    pthread_once(&init_once, initialize);
    return hardware_present;
}

uint32_t ccrc32c_extend_software(uint32_t crc, const void *data, size_t length) {
    pthread_once(&init_once, initialize);
    return ~software_update(~crc, (const uint8_t *)data, length);
}

uint32_t ccrc32c_extend_hardware(uint32_t crc, const void *data, size_t length) {
    pthread_once(&init_once, initialize);
    return ~hardware_update(~crc, (const uint8_t *)data, length);
}

uint32_t ccrc32c_extend(uint32_t crc, const void *data, size_t length) {
    pthread_once(&init_once, initialize);
    const uint8_t *p = (const uint8_t *)data;
    return hardware_present ? ~hardware_update(~crc, p, length) : ~software_update(~crc, p, length);
}
