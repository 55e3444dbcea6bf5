/* rd_clock(): a monotonic clock in microseconds, as librdkafka's internal rdtime.h provides. */
#ifndef PETREL_RDTIME_SHIM_H
#define PETREL_RDTIME_SHIM_H
#include <stdint.h>
#include <time.h>

typedef int64_t rd_ts_t;

static inline rd_ts_t rd_clock(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (rd_ts_t)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}
#endif
