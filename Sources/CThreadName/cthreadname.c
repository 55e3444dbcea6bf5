// pthread_setname_np is a GNU extension: glibc declares it only with _GNU_SOURCE, which Swift's
// Glibc module is not built with, so Swift cannot call it directly.
#define _GNU_SOURCE
#include <pthread.h>

#include "cthreadname.h"

int petrel_name_current_thread(const char *name) {
#if defined(__APPLE__)
    return pthread_setname_np(name);
#else
    return pthread_setname_np(pthread_self(), name);
#endif
}
