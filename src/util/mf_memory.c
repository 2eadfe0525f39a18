/* Large arrays on transparent huge pages (see mf_calloc_large in mf_error.h). */
#define _DEFAULT_SOURCE /* madvise and MADV_HUGEPAGE */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "mf_error.h"

/* 2 MiB pages: the size of an x86-64 or arm64 transparent huge page. */
#define MF_HUGE_PAGE ((size_t)2 << 20)

void *mf_calloc_large(size_t count, size_t size) {
    if (count == 0) count = 1;
    if (size != 0 && count > SIZE_MAX / size) return NULL;
    const size_t bytes = count * size;
    if (bytes < 2 * MF_HUGE_PAGE) return calloc(count, size);
    const size_t rounded = (bytes + MF_HUGE_PAGE - 1) / MF_HUGE_PAGE * MF_HUGE_PAGE;
    void *memory = NULL;
    if (posix_memalign(&memory, MF_HUGE_PAGE, rounded) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    (void)madvise(memory, rounded, MADV_HUGEPAGE); /* a hint: ignored where THP is off */
#endif
    memset(memory, 0, bytes);
    return memory;
}

void mf_memory_return_large_frees(void) {
#ifdef __GLIBC__
    /* glibc raises its mmap threshold after each large free (up to 32 MiB), after which the
     * pools a heavy path grew come from the heap and stay resident once freed. A fixed
     * threshold keeps them mapped, so freeing them returns the memory. */
    (void)mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
}
