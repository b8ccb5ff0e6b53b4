/*
 * perf_trampoline.h - the C reference trampolines that make an interpreter's
 * functions visible to Linux `perf`.
 *
 * Every call of an interpreted function enters the evaluator through a small
 * machine-code stub that belongs to that function alone. The stub builds a
 * frame record and calls the evaluator, so perf's frame-pointer walk sees the
 * stub's return address between two evaluator frames; a line in the perf map
 * file /tmp/perf-<pid>.map names the stub's address range. The jitdump
 * backend instead writes /tmp/jit-<pid>.dump, which also carries each
 * stub's unwind rules for DWARF unwinding (perf inject --jit).
 *
 * Calling convention (C ABI, three pointer-sized arguments):
 *
 *     ret eval(state, frame, arg)
 *     ret stub(state, frame, arg, eval)    calls eval(state, frame, arg)
 *                                          and returns its result unchanged
 *
 * Thread safety: one set may be used from many threads at once. Each map
 * line (or jitdump record) reaches the file whole in one write(2) made under
 * the set's lock.
 *
 * Files: the map or dump is used only if it is a regular file of the
 * effective user, with one link and no group or other access (created mode
 * 0600); anything else at the path is refused, never written or truncated.
 * A write that fails or is cut short (a full disk) is taken back, so the
 * file always ends with a whole line or record, and the set then stops
 * writing it (PERF_TRAMP_ERR_WRITE_STOPPED, once).
 *
 * Memory: stubs live in 64 KiB arenas that are written while read+write and
 * then made read+execute; no page is ever writable and executable at once.
 * Arenas are unmapped only by perf_tramp_teardown().
 *
 * fork: the library registers pthread_atfork handlers so that no set lock is
 * held in the child. A child should call perf_tramp_after_fork_child(); if it
 * does not, the next compile or write_entry in the child switches to the
 * child's own map file by itself, so the child never writes the parent's.
 *
 * Every function that can fail returns PERF_TRAMP_OK (0) or one of the
 * PERF_TRAMP_ERR_* codes and, when `error` is not NULL, fills it in.
 */
#ifndef PERF_TRAMPOLINE_H
#define PERF_TRAMPOLINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The evaluator that a stub calls. */
typedef void *(*perf_tramp_eval_fn)(void *state, void *frame, void *arg);

/* A stub: calls eval(state, frame, arg) and returns its result. */
typedef void *(*perf_tramp_stub_fn)(void *state, void *frame, void *arg,
                                    perf_tramp_eval_fn eval);

/* Which file names the stubs for perf. */
enum perf_tramp_backend {
    /* /tmp/perf-<pid>.map, for frame-pointer unwinding (perf record -g). */
    PERF_TRAMP_BACKEND_PERF_MAP = 0,
    /* /tmp/jit-<pid>.dump for `perf inject --jit` (DWARF unwinding,
     * perf record -k 1 --call-graph dwarf): a JIT_CODE_UNWINDING_INFO and
     * a JIT_CODE_LOAD record per stub. The first page of the file stays
     * mapped read+exec while the set lives: that mapping is how perf
     * inject finds the dump. */
    PERF_TRAMP_BACKEND_JITDUMP = 1,
};

enum perf_tramp_status {
    PERF_TRAMP_OK = 0,
    /* A symbolic link sits at `path`; nothing was written through it. */
    PERF_TRAMP_ERR_SYMLINK = 1,
    /* `path` could not be opened (or read, when copying it): `os_errno`. */
    PERF_TRAMP_ERR_OPEN = 2,
    /* Writing `path` failed: `os_errno`. */
    PERF_TRAMP_ERR_WRITE = 3,
    /* No memory for an arena (mmap/mprotect/malloc failed): `os_errno`.
     * The caller should call the evaluator directly instead. */
    PERF_TRAMP_ERR_MEMORY = 4,
    /* The set cannot be used as asked: `detail` says why. */
    PERF_TRAMP_ERR_UNUSABLE = 5,
    /* A feature this build does not have: `detail` names it. */
    PERF_TRAMP_ERR_UNSUPPORTED = 6,
    /* The file at `path` is not this process's alone (another owner, open
     * to other users, more than one hard link, not a regular file):
     * `detail` says which. It was not written, truncated or changed. */
    PERF_TRAMP_ERR_UNSAFE_FILE = 7,
    /* Writing an entry to `path` failed (`os_errno`: a full disk, a size
     * limit). The file was cut back to end with its last whole entry and
     * the set writes nothing more to it: this is returned once, and later
     * calls make stubs and return PERF_TRAMP_OK without writing. */
    PERF_TRAMP_ERR_WRITE_STOPPED = 8,
};

/* Large enough for "/tmp/perf-<pid>.map" and "/tmp/jit-<pid>.dump". */
#define PERF_TRAMP_PATH_MAX 64
#define PERF_TRAMP_DETAIL_MAX 128

/* What went wrong. Fields that do not apply to `status` are 0 / empty. */
struct perf_tramp_error {
    int status;                        /* enum perf_tramp_status */
    int os_errno;                      /* errno of the failed call, or 0 */
    char path[PERF_TRAMP_PATH_MAX];    /* the file concerned, or "" */
    char detail[PERF_TRAMP_DETAIL_MAX];/* UNUSABLE / UNSUPPORTED text, or "" */
};

struct perf_tramp_options {
    int backend;            /* enum perf_tramp_backend */
    /* Non-zero: after fork, the child's map starts as a copy of the entries
     * the parent's set had written before the fork, instead of empty. */
    int persist_after_fork;
};

typedef struct perf_tramp_set perf_tramp_set;

/* Opens (creates) this process's map file (or dump: truncated, with its
 * header) and readies the first arena.
 * On success stores the new set in *out. */
int perf_tramp_create(const struct perf_tramp_options *options, perf_tramp_set **out,
                      struct perf_tramp_error *error);

/* Makes a new stub and writes one map line `<start> <size> <name>` for it
 * (jitdump: its unwinding-info record and its code-load record).
 * `name` is `name_len` bytes and may contain any byte: control characters
 * (C0, DEL, and the UTF-8 encoded C1 range U+0080..U+009F) become '?'.
 * On success stores the stub's entry in *entry and its code size in *size. */
int perf_tramp_compile(perf_tramp_set *set, const char *name, size_t name_len,
                       perf_tramp_stub_fn *entry, size_t *size,
                       struct perf_tramp_error *error);

/* Adds a map line for code this set did not make (a JIT, another
 * interpreter): `<addr> <size> <name>`, name sanitized as above. The
 * jitdump backend writes a code-load record without unwind info; its code
 * bytes are copied from `addr` when readable, zeros otherwise. */
int perf_tramp_write_entry(perf_tramp_set *set, uintptr_t addr, size_t size,
                           const char *name, size_t name_len,
                           struct perf_tramp_error *error);

/* Call in the child right after fork(): switches to /tmp/perf-<childpid>.map
 * (or /tmp/jit-<childpid>.dump, with its own header and mapping), empty or
 * (persist_after_fork) starting with the parent's entries. Stubs
 * made before the fork stay mapped and callable. A no-op in the process
 * that created the file. */
int perf_tramp_after_fork_child(perf_tramp_set *set, struct perf_tramp_error *error);

/* Copies the path of the file the set writes now into `buf` (NUL-terminated,
 * truncated to buf_len) and returns its full length. */
size_t perf_tramp_output_path(perf_tramp_set *set, char *buf, size_t buf_len);

/* Closes the file and frees the set, but leaves every stub mapped: always
 * safe, even while stubs are still on some thread's stack. */
void perf_tramp_close(perf_tramp_set *set);

/* Closes the file, unmaps every arena and frees the set. Only when no stub
 * of the set is executing and none will be called again. */
void perf_tramp_teardown(perf_tramp_set *set);

/* The assembled stub template as linked into this library (the bytes copied
 * into every slot); its length in *len. */
const unsigned char *perf_tramp_template(size_t *len);

/* ---- unwind information of a stub (the jitdump backend's) -------------- */

/* Architectures, by ELF machine number. HOST: the one this library runs on,
 * with the stub layout of its own template. */
enum perf_tramp_arch {
    PERF_TRAMP_ARCH_HOST = 0,
    PERF_TRAMP_ARCH_X86_64 = 62,
    PERF_TRAMP_ARCH_AARCH64 = 183,
};

/* x86_64 only: the stub starts with endbr64 (a CET build), which shifts
 * every rule by 4 bytes. Ignored for HOST, which knows its own template. */
#define PERF_TRAMP_UNWIND_ENDBR64 1

/* Where the parts of perf_tramp_stub_unwind_data's output are. */
struct perf_tramp_unwind_layout {
    int arch;                 /* the ELF machine described */
    size_t code_size;         /* bytes of the stub described */
    size_t eh_frame_size;     /* .eh_frame: one CIE, one FDE, terminator */
    size_t eh_frame_hdr_size; /* .eh_frame_hdr, right after the .eh_frame */
};

/* Builds, in `buf`, the unwinding data that a JIT_CODE_UNWINDING_INFO record
 * carries for one stub of `arch`: an .eh_frame whose FDE gives the CFA and
 * return-address rules at every instruction of the stub, followed by its
 * .eh_frame_hdr. Every address in it is relative and placed as perf inject
 * lays out the ELF it makes: the .eh_frame starts at the stub's start plus
 * its code size rounded up to 8. The same bytes therefore serve every stub.
 * Does not depend on the host (except for ARCH_HOST), so both
 * architectures can be built and checked anywhere.
 *
 * Returns the total size (the .eh_frame plus its header), writing only when
 * it fits in `cap`, or 0 for an unknown `arch`. Fills `layout` if not NULL. */
size_t perf_tramp_stub_unwind_data(int arch, int flags, unsigned char *buf, size_t cap,
                                   struct perf_tramp_unwind_layout *layout);

#ifdef __cplusplus
}
#endif

#endif /* PERF_TRAMPOLINE_H */
