/*
 * internal.h - what the C sources share and the public header does not show:
 * the set itself, the arena list, the backend interface, and small helpers.
 */
#ifndef PERF_TRAMPOLINE_INTERNAL_H
#define PERF_TRAMPOLINE_INTERNAL_H

#include "perf_trampoline.h"

#include <pthread.h>
#include <sys/types.h>

/* ---- arenas (arena.c) ------------------------------------------------- */

/* One mapping of stub slots. Slots before `next_slot` have been handed out. */
struct perf_tramp_arena {
    unsigned char *base;
    size_t length;
    size_t slot_count;
    size_t next_slot;
    struct perf_tramp_arena *next; /* older arenas; kept until teardown */
};

struct perf_tramp_arenas {
    struct perf_tramp_arena *newest;
    size_t slot_size; /* template size rounded up to the 16-byte alignment */
};

/* Readies the first arena; stubs start at least `min_spacing` bytes apart
 * (and always on a 16-byte boundary). */
int perf_tramp_arenas_init(struct perf_tramp_arenas *arenas, size_t min_spacing,
                           struct perf_tramp_error *error);
/* Hands out the next free slot, mapping a new arena when the newest is full. */
int perf_tramp_arenas_take(struct perf_tramp_arenas *arenas, void **slot,
                           struct perf_tramp_error *error);
/* Hands out no more slots of the arenas mapped so far (they stay mapped):
 * the next slot comes from a fresh arena. */
void perf_tramp_arenas_retire(struct perf_tramp_arenas *arenas);
/* Unmaps every arena (teardown). */
void perf_tramp_arenas_unmap(struct perf_tramp_arenas *arenas);
/* Frees the bookkeeping only; the code stays mapped (close). */
void perf_tramp_arenas_forget(struct perf_tramp_arenas *arenas);
/* Code size of one stub. */
size_t perf_tramp_stub_size(void);

/* ---- backends (perf_map.c, jitdump.c) ---------------------------------- */

struct perf_tramp_set;

struct perf_tramp_backend_ops {
    /* Opens (creates) the file of the calling process; may set the set's
     * stub_spacing. */
    int (*open)(struct perf_tramp_set *set, struct perf_tramp_error *error);
    /* Records a stub this set made; called with the set's lock held. */
    int (*write_stub)(struct perf_tramp_set *set, uintptr_t addr, size_t size,
                      const char *name, size_t name_len, struct perf_tramp_error *error);
    /* Records code this set did not make; lock held. */
    int (*write_entry)(struct perf_tramp_set *set, uintptr_t addr, size_t size,
                       const char *name, size_t name_len, struct perf_tramp_error *error);
    /* In a fork child: moves to the child's own file; lock held. */
    int (*switch_to_child)(struct perf_tramp_set *set, struct perf_tramp_error *error);
    /* In the fork prepare handler, lock held: notes what a child may copy.
     * Must only make async-signal-safe calls. */
    void (*before_fork)(struct perf_tramp_set *set);
    /* Closes the file. */
    void (*close)(struct perf_tramp_set *set);
};

extern const struct perf_tramp_backend_ops perf_tramp_perf_map_backend;
extern const struct perf_tramp_backend_ops perf_tramp_jitdump_backend;

/* What only the jitdump backend keeps. */
struct perf_tramp_jitdump_state {
    void *marker;                /* the dump's first page, mapped r-x, or NULL */
    size_t marker_len;
    uint64_t next_code_index;    /* JIT_CODE_LOAD's running index */
    /* The unwinding data, the same for every stub (all of it relative). */
    unsigned char unwind[128];
    size_t unwind_size;
    size_t eh_frame_hdr_size;
};

/* ---- the set (set.c) -------------------------------------------------- */

struct perf_tramp_set {
    /* Guards everything below except `next_registered` (fork.c's lock). */
    pthread_mutex_t lock;
    const struct perf_tramp_backend_ops *backend;
    int persist_after_fork;
    size_t stub_spacing;            /* the backend's minimum, or 0 */
    struct perf_tramp_arenas arenas;

    /* The output file, shared by the backends. */
    int fd;                         /* -1 when closed */
    pid_t owner_pid;                /* process the file is named after */
    char path[PERF_TRAMP_PATH_MAX];
    off_t opened_at;                /* file size when this set opened it */
    off_t size_at_fork;             /* file size when the last fork began */
    int forked;                     /* set in a fork child until it switches */
    int stopped;                    /* a write failed: nothing more is written */
    struct perf_tramp_jitdump_state jit;

    struct perf_tramp_set *next_registered;
};

/* ---- fork handling (fork.c) ------------------------------------------- */

/* Makes the set known to the pthread_atfork handlers (registering them on
 * first use), or forgets it. */
void perf_tramp_fork_register(struct perf_tramp_set *set);
void perf_tramp_fork_unregister(struct perf_tramp_set *set);

/* ---- helpers (error.c, file.c, name.c) -------------------------------- */

/* Fills `error` (if not NULL) and returns `status`. `path`/`detail` may be NULL. */
int perf_tramp_fail(struct perf_tramp_error *error, int status, int os_errno,
                    const char *path, const char *detail);

/* Opens `path` with `flags` (plus O_NOFOLLOW|O_CLOEXEC), mode 0600. A
 * symlink at `path` gives PERF_TRAMP_ERR_SYMLINK and is never followed; a
 * file that is not ours alone (another owner, group or other access, more
 * than one link, not a regular file) gives PERF_TRAMP_ERR_UNSAFE_FILE and
 * is left untouched: O_TRUNC is applied only after that check. */
int perf_tramp_open_file(const char *path, int flags, int *fd_out,
                         struct perf_tramp_error *error);

/* Writes all of `len` bytes; returns 0 or the errno. On failure the bytes
 * that did reach the file are cut off again, so it ends where it did. */
int perf_tramp_write_whole(int fd, const void *data, size_t len);

/* Writes one entry (line or records) to the set's file, lock held. The
 * first failure stops the set's writing: PERF_TRAMP_ERR_WRITE_STOPPED, and
 * every later call writes nothing and returns PERF_TRAMP_OK. */
int perf_tramp_write_entry_bytes(struct perf_tramp_set *set, const void *data, size_t len,
                                 struct perf_tramp_error *error);

/* Copies `name` to `out` (at least `len` bytes) with every control character
 * replaced by '?'; returns the number of bytes written (never more than len). */
size_t perf_tramp_sanitize_name(const char *name, size_t len, char *out);

#endif /* PERF_TRAMPOLINE_INTERNAL_H */
