#include <zlib.h>

// deflateInit2 and inflateInit2 are macros, which Swift cannot call; these wrappers can.
static inline int czlib_deflate_init_gzip(z_streamp stream, int level) {
    // windowBits 15 + 16: write a gzip (RFC 1952) wrapper, as Kafka's GZIPOutputStream does.
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

static inline int czlib_inflate_init_gzip(z_streamp stream) {
    // windowBits 15 + 32: accept a gzip or zlib wrapper, detected from the header.
    return inflateInit2(stream, 15 + 32);
}
