/* The few helpers of librdkafka's internal rd.h that its rdkafka_performance example uses, so
 * that the example (shipped as source in Debian's librdkafka-dev) builds against the public
 * library. Written for Petrel's benchmark harness. */
#ifndef PETREL_RD_SHIM_H
#define PETREL_RD_SHIM_H
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RD_MAX(a, b) ((a) > (b) ? (a) : (b))
#define RD_UNUSED __attribute__((unused))
#define rd_snprintf snprintf
#endif
