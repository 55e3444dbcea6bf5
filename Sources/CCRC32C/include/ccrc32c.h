#ifndef CCRC32C_H
#define CCRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) as Kafka's RecordBatch v2 uses it.
///
/// `crc` is a finished CRC of the bytes before `data` (0 for a fresh start); the result is the
/// finished CRC of both, so `ccrc32c_extend(ccrc32c_extend(0, a, n), b, m)` equals the CRC of a‖b.
/// Uses the SSE4.2 instruction when the CPU has it (checked once), otherwise slicing-by-8.
uint32_t ccrc32c_extend(uint32_t crc, const void *data, size_t length);

/// The portable slicing-by-8 path, whatever the CPU. For tests and benchmarks.
uint32_t ccrc32c_extend_software(uint32_t crc, const void *data, size_t length);

/// The SSE4.2 path. Must only be called when `ccrc32c_hardware_available()` returns 1.
uint32_t ccrc32c_extend_hardware(uint32_t crc, const void *data, size_t length);

/// 1 when this CPU has the SSE4.2 `crc32` instruction, else 0.
int ccrc32c_hardware_available(void);

#ifdef __cplusplus
}
#endif

#endif
