/*
 * arena.c - executable memory for stubs.
 *
 * An arena is a page-aligned anonymous private mapping, filled with copies of
 * the assembled template while it is only readable and writable, then made
 * readable and executable before any of its slots is handed out: no page is
 * ever writable and executable at once, and a slot never changes after that.
 * Arenas are never unmapped while the set lives (a frame may still return
 * through an old stub); only teardown unmaps them.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The labels around the stub in trampoline_<arch>.S. */
extern const unsigned char perf_tramp_template_start[];
extern const unsigned char perf_tramp_template_end[];

enum {
    ARENA_SIZE = 64 * 1024,
    STUB_ALIGNMENT = 16, /* every stub starts on a 16-byte boundary */
};

/* What fills the gap between two stubs: an instruction that traps, so a
 * stray jump into padding stops at once instead of running on. */
#if defined(__x86_64__)
#define PADDING_BYTE 0xcc /* int3 */
#elif defined(__aarch64__)
#define PADDING_BYTE 0x00 /* 0x00000000 is udf #0, permanently undefined */
#else
#error "trampoline-c supports x86_64 and aarch64 only"
#endif

const unsigned char *perf_tramp_template(size_t *len)
{
    if (len != NULL)
        *len = perf_tramp_stub_size();
    return perf_tramp_template_start;
}

size_t perf_tramp_stub_size(void)
{
    return (size_t)(perf_tramp_template_end - perf_tramp_template_start);
}

static size_t round_up(size_t value, size_t multiple)
{
    return (value + multiple - 1) / multiple * multiple;
}

/* Maps, fills and seals one arena. */
static int map_arena(size_t slot_size, struct perf_tramp_arena **out,
                     struct perf_tramp_error *error)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t length = round_up(ARENA_SIZE, page > 0 ? (size_t)page : 4096);
    struct perf_tramp_arena *arena = malloc(sizeof *arena);
    if (arena == NULL)
        return perf_tramp_fail(error, PERF_TRAMP_ERR_MEMORY, ENOMEM, NULL, NULL);

    unsigned char *base = mmap(NULL, length, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        int saved = errno;
        free(arena);
        return perf_tramp_fail(error, PERF_TRAMP_ERR_MEMORY, saved, NULL, NULL);
    }

    size_t stub_size = perf_tramp_stub_size();
    size_t slot_count = length / slot_size;
    if (PADDING_BYTE != 0) /* a fresh anonymous mapping is already zero */
        memset(base, PADDING_BYTE, length);
    for (size_t i = 0; i < slot_count; i++)
        memcpy(base + i * slot_size, perf_tramp_template_start, stub_size);
    /* aarch64 does not keep the instruction cache coherent with data
     * writes; elsewhere this compiles to nothing. */
    __builtin___clear_cache((char *)base, (char *)base + length);

    if (mprotect(base, length, PROT_READ | PROT_EXEC) != 0) {
        int saved = errno;
        munmap(base, length);
        free(arena);
        return perf_tramp_fail(error, PERF_TRAMP_ERR_MEMORY, saved, NULL, NULL);
    }

    arena->base = base;
    arena->length = length;
    arena->slot_count = slot_count;
    arena->next_slot = 0;
    arena->next = NULL;
    *out = arena;
    return PERF_TRAMP_OK;
}

int perf_tramp_arenas_init(struct perf_tramp_arenas *arenas, size_t min_spacing,
                           struct perf_tramp_error *error)
{
    size_t stub_size = perf_tramp_stub_size();
    arenas->slot_size = round_up(stub_size > min_spacing ? stub_size : min_spacing, STUB_ALIGNMENT);
    arenas->newest = NULL;
    return map_arena(arenas->slot_size, &arenas->newest, error);
}

int perf_tramp_arenas_take(struct perf_tramp_arenas *arenas, void **slot,
                           struct perf_tramp_error *error)
{
    struct perf_tramp_arena *arena = arenas->newest;
    if (arena == NULL || arena->next_slot == arena->slot_count) {
        struct perf_tramp_arena *fresh;
        int status = map_arena(arenas->slot_size, &fresh, error);
        if (status != PERF_TRAMP_OK)
            return status;
        fresh->next = arena;
        arenas->newest = arena = fresh;
    }
    *slot = arena->base + arena->next_slot * arenas->slot_size;
    arena->next_slot++;
    return PERF_TRAMP_OK;
}

void perf_tramp_arenas_retire(struct perf_tramp_arenas *arenas)
{
    if (arenas->newest != NULL)
        arenas->newest->next_slot = arenas->newest->slot_count;
}

void perf_tramp_arenas_unmap(struct perf_tramp_arenas *arenas)
{
    for (struct perf_tramp_arena *arena = arenas->newest; arena != NULL; arena = arena->next)
        munmap(arena->base, arena->length);
    perf_tramp_arenas_forget(arenas);
}

void perf_tramp_arenas_forget(struct perf_tramp_arenas *arenas)
{
    struct perf_tramp_arena *arena = arenas->newest;
    while (arena != NULL) {
        struct perf_tramp_arena *older = arena->next;
        free(arena);
        arena = older;
    }
    arenas->newest = NULL;
}
