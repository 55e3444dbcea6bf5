#ifndef CTHREADNAME_H
#define CTHREADNAME_H

/// Names the calling thread (what `top -H`, gdb and /proc show). Linux keeps at most 15 bytes;
/// a longer name fails with ERANGE. Returns 0 or an errno value.
int petrel_name_current_thread(const char *name);

#endif
