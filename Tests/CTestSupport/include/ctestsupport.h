// Test-only C helpers: a per-thread allocation counter interposed on malloc and friends.
#ifndef CTESTSUPPORT_H
#define CTESTSUPPORT_H
#include <stdint.h>
/// Number of malloc/calloc/realloc/posix_memalign/aligned_alloc calls made by the calling thread so far.
uint64_t cts_thread_allocations(void);
#endif
