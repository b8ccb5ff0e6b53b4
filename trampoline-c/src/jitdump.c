/*
 * jitdump.c - the jitdump backend: /tmp/jit-<pid>.dump in the format of
 * perf's jitdump-specification.txt, for `perf inject --jit` and DWARF
 * unwinding (perf record -k 1 --call-graph dwarf).
 *
 * The file: a header, then per stub a JIT_CODE_UNWINDING_INFO record (the
 * stub's .eh_frame and .eh_frame_hdr, from eh_frame.c) followed by its
 * JIT_CODE_LOAD record (address, size, running index, name, code bytes).
 * perf inject finds the dump through an mmap of it in the recorded process,
 * so the first page stays mapped read+exec for the set's life. Timestamps
 * are CLOCK_MONOTONIC, the clock `perf record -k 1` samples with.
 *
 * Every record is built whole in a buffer and reaches the file in one
 * write(2) under the set's lock; a stub's two records go out in the same
 * write, so the unwind info is never separated from its code. Records the
 * disk takes only in part are cut off again and the set stops writing
 * (file.c). The file is truncated only once it is known to be ours alone.
 *
 * After fork the child gets its own dump, with its own header and mapping
 * (perf inject only takes a dump named after the pid that mapped it). With
 * persist_after_fork the parent's records are copied into it, re-stamped
 * with the child's pid and the time of the copy: they describe code that
 * is mapped in the child from then on.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum {
    JITDUMP_MAGIC = 0x4A695444, /* "JiTD" read as a little-endian word */
    JITDUMP_VERSION = 1,
    JIT_CODE_LOAD = 0,
    JIT_CODE_UNWINDING_INFO = 4,
    /* Records up to this size are built on the stack. */
    STACK_RECORDS = 1024,
};

/* The layouts of perf's jitdump.h: naturally aligned, so no padding. */
struct jitdump_header {
    uint32_t magic;
    uint32_t version;
    uint32_t total_size; /* of this header */
    uint32_t elf_mach;
    uint32_t pad1;
    uint32_t pid;
    uint64_t timestamp;
    uint64_t flags;
};

struct record_prefix {
    uint32_t id;
    uint32_t total_size; /* of the whole record, prefix included */
    uint64_t timestamp;
};

struct code_load {
    struct record_prefix prefix;
    uint32_t pid;
    uint32_t tid;
    uint64_t vma;
    uint64_t code_addr;
    uint64_t code_size;
    uint64_t code_index;
    /* then the NUL-terminated name and code_size bytes of code */
};

struct unwinding_info {
    struct record_prefix prefix;
    uint64_t unwinding_size;    /* .eh_frame + .eh_frame_hdr */
    uint64_t eh_frame_hdr_size;
    uint64_t mapped_size;
    /* then the .eh_frame, its header, and padding to 8 bytes */
};

_Static_assert(sizeof(struct jitdump_header) == 40, "jitdump header layout");
_Static_assert(sizeof(struct code_load) == 56, "JIT_CODE_LOAD layout");
_Static_assert(sizeof(struct unwinding_info) == 40, "JIT_CODE_UNWINDING_INFO layout");

static uint64_t monotonic_ns(void)
{
    struct timespec now;
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
        return 0;
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static uint32_t current_tid(void)
{
    return (uint32_t)syscall(SYS_gettid);
}

static size_t round_up(size_t value, size_t multiple)
{
    return (value + multiple - 1) / multiple * multiple;
}

/* ---- opening a dump ----------------------------------------------------- */

/* A freshly opened dump: not yet part of the set. */
struct dump {
    int fd;
    void *marker;
    size_t marker_len;
    char path[PERF_TRAMP_PATH_MAX];
};

static void discard(struct dump *dump)
{
    if (dump->marker != NULL)
        munmap(dump->marker, dump->marker_len);
    if (dump->fd >= 0)
        close(dump->fd);
}

/* Creates (truncates) /tmp/jit-<pid>.dump and writes its header; on
 * failure nothing stays open. */
static int create_dump(pid_t pid, int elf_machine, struct dump *dump,
                       struct perf_tramp_error *error)
{
    dump->fd = -1;
    dump->marker = NULL;
    snprintf(dump->path, sizeof dump->path, "/tmp/jit-%ld.dump", (long)pid);
    int status = perf_tramp_open_file(
        dump->path, O_CREAT | O_TRUNC | O_RDWR | O_NOFOLLOW | O_CLOEXEC, &dump->fd, error);
    if (status != PERF_TRAMP_OK)
        return status;
    struct jitdump_header header = {
        .magic = JITDUMP_MAGIC,
        .version = JITDUMP_VERSION,
        .total_size = sizeof header,
        .elf_mach = (uint32_t)elf_machine,
        .pid = (uint32_t)pid,
        .timestamp = monotonic_ns(),
        .flags = 0,
    };
    int failed = perf_tramp_write_whole(dump->fd, &header, sizeof header);
    if (failed) {
        discard(dump);
        return perf_tramp_fail(error, PERF_TRAMP_ERR_WRITE, failed, dump->path, NULL);
    }
    return PERF_TRAMP_OK;
}

/* Maps the dump's first page read+exec: perf sees this mmap and so knows
 * which file `perf inject --jit` has to read. On failure the caller
 * discards the dump. */
static int map_marker(struct dump *dump, struct perf_tramp_error *error)
{
    long page = sysconf(_SC_PAGESIZE);
    dump->marker_len = page > 0 ? (size_t)page : 4096;
    void *marker = mmap(NULL, dump->marker_len, PROT_READ | PROT_EXEC, MAP_PRIVATE, dump->fd, 0);
    if (marker == MAP_FAILED)
        return perf_tramp_fail(error, PERF_TRAMP_ERR_OPEN, errno, dump->path, NULL);
    dump->marker = marker;
    return PERF_TRAMP_OK;
}

/* Makes `dump` the set's file, closing what the set had. */
static void adopt(struct perf_tramp_set *set, const struct dump *dump)
{
    if (set->jit.marker != NULL)
        munmap(set->jit.marker, set->jit.marker_len);
    if (set->fd >= 0)
        close(set->fd);
    set->fd = dump->fd;
    set->jit.marker = dump->marker;
    set->jit.marker_len = dump->marker_len;
    memcpy(set->path, dump->path, sizeof set->path);
    set->owner_pid = getpid();
    set->opened_at = sizeof(struct jitdump_header);
    set->forked = 0;
    set->stopped = 0; /* a new file */
}

static int jitdump_open(struct perf_tramp_set *set, struct perf_tramp_error *error)
{
    struct perf_tramp_unwind_layout layout;
    set->jit.unwind_size = perf_tramp_stub_unwind_data(
        PERF_TRAMP_ARCH_HOST, 0, set->jit.unwind, sizeof set->jit.unwind, &layout);
    /* The rules describe the documented stub; refuse a template they do
     * not fit rather than give perf wrong unwind info. */
    if (set->jit.unwind_size == 0 || set->jit.unwind_size > sizeof set->jit.unwind ||
        layout.code_size != perf_tramp_stub_size())
        return perf_tramp_fail(error, PERF_TRAMP_ERR_UNUSABLE, 0, NULL,
                               "the stub template does not match its unwind rules");
    set->jit.eh_frame_hdr_size = layout.eh_frame_hdr_size;
    /* perf inject maps each stub as its code rounded up to 8 plus
     * mapped_size bytes. Closer stubs would overlap in perf's view: the
     * later mapping cuts the earlier one short, and an unwinder that reads
     * a stub's unwind data through the mapping covering that address would
     * read another stub's file. So none starts inside another's span. */
    set->stub_spacing = round_up(layout.code_size, 8) + set->jit.unwind_size;

    struct dump dump;
    int status = create_dump(getpid(), layout.arch, &dump, error);
    if (status != PERF_TRAMP_OK)
        return status;
    status = map_marker(&dump, error);
    if (status != PERF_TRAMP_OK) {
        discard(&dump);
        return status;
    }
    adopt(set, &dump);
    return PERF_TRAMP_OK;
}

/* ---- records ------------------------------------------------------------ */

/* Fills a JIT_CODE_UNWINDING_INFO record for a stub at `out`; returns its
 * size, padded to 8 bytes (perf reads the sizes inside, not the padding). */
static size_t put_unwinding_info(const struct perf_tramp_set *set, uint64_t timestamp,
                                 unsigned char *out)
{
    size_t total = round_up(sizeof(struct unwinding_info) + set->jit.unwind_size, 8);
    struct unwinding_info record = {
        .prefix = {JIT_CODE_UNWINDING_INFO, (uint32_t)total, timestamp},
        .unwinding_size = set->jit.unwind_size,
        .eh_frame_hdr_size = set->jit.eh_frame_hdr_size,
        /* Per the specification: the size of the unwinding data when it is
         * placed after the code, which is where perf inject's ELF puts it. */
        .mapped_size = set->jit.unwind_size,
    };
    memset(out, 0, total);
    memcpy(out, &record, sizeof record);
    memcpy(out + sizeof record, set->jit.unwind, set->jit.unwind_size);
    return total;
}

/* The fallback of copy_code: write(2) from the range into a fresh pipe
 * checks it as process_vm_readv does (EFAULT, page permissions honoured),
 * and the bytes are read back. A page at a time: an empty pipe always takes
 * that much without blocking. */
static int copy_through_pipe(uintptr_t addr, size_t size, unsigned char *out)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return errno;
    size_t have = 0;
    int failed = 0;
    while (have < size && !failed) {
        size_t chunk = size - have < 4096 ? size - have : 4096;
        ssize_t n = write(fds[1], (const void *)(addr + have), chunk);
        if (n > 0) {
            ssize_t got = read(fds[0], out + have, (size_t)n);
            if (got == n)
                have += (size_t)n;
            else
                failed = got < 0 ? errno : EIO;
        } else if (n == 0 || errno == EFAULT) {
            failed = EFAULT;
        } else if (errno != EINTR) {
            failed = errno;
        }
    }
    close(fds[0]);
    close(fds[1]);
    return failed;
}

/* Copies `size` bytes of code at `addr` into `out`; returns 0 or the errno.
 * Foreign code may be gone or never have been mapped, and reading it must
 * not crash the process. A range that is not wholly readable is EFAULT,
 * whichever way it is read (docs/contract-notes-aarch64.md):
 * process_vm_readv on ourselves checks the range; where it is unavailable
 * (ENOSYS under qemu-user, EPERM under seccomp) a pipe does the same.
 * (/proc/self/mem would not: it says EIO, and reads PROT_NONE pages.) */
static int copy_code(uintptr_t addr, size_t size, unsigned char *out)
{
    if (size == 0)
        return 0;
    struct iovec local = {out, size};
    struct iovec remote = {(void *)addr, size};
    ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
    if (n == (ssize_t)size)
        return 0;
    if (n >= 0)
        return EFAULT; /* only the start of the range is mapped */
    if (errno != ENOSYS && errno != EPERM)
        return errno;
    return copy_through_pipe(addr, size, out);
}

/* Upper bound of a JIT_CODE_LOAD record's size (the name before it is
 * sanitized, which never lengthens it), or 0 when that does not fit a
 * record's 32-bit size. */
static size_t code_load_bound(size_t name_len, size_t code_size)
{
    uint64_t total = (uint64_t)sizeof(struct code_load) + name_len + 1 + code_size;
    return total > UINT32_MAX ? 0 : (size_t)total;
}

/* Fills a JIT_CODE_LOAD record at `out` (room for code_load_bound bytes)
 * and stores its size in *total; returns 0 or the errno of reading the code.
 * No padding: perf finds the code at the record's end. */
static int put_code_load(struct perf_tramp_set *set, uint64_t timestamp, uintptr_t addr,
                         size_t size, const char *name, size_t name_len, unsigned char *out,
                         size_t *total)
{
    char *name_out = (char *)out + sizeof(struct code_load);
    size_t name_written = perf_tramp_sanitize_name(name, name_len, name_out);
    name_out[name_written] = '\0';
    int failed = copy_code(addr, size, (unsigned char *)name_out + name_written + 1);
    if (failed)
        return failed;

    *total = sizeof(struct code_load) + name_written + 1 + size;
    struct code_load record = {
        .prefix = {JIT_CODE_LOAD, (uint32_t)*total, timestamp},
        .pid = (uint32_t)getpid(),
        .tid = current_tid(),
        .vma = addr,
        .code_addr = addr,
        .code_size = size,
        .code_index = set->jit.next_code_index++,
    };
    memcpy(out, &record, sizeof record);
    return 0;
}

/* Writes [unwinding info +] code load for the code at `addr`, in one
 * write. */
static int write_records(struct perf_tramp_set *set, uintptr_t addr, size_t size,
                         const char *name, size_t name_len, int with_unwind,
                         struct perf_tramp_error *error)
{
    if (set->fd < 0)
        return perf_tramp_fail(error, PERF_TRAMP_ERR_UNUSABLE, 0, set->path,
                               "the jitdump file is closed");
    size_t load_bound = code_load_bound(name_len, size);
    if (load_bound == 0)
        return perf_tramp_fail(error, PERF_TRAMP_ERR_UNUSABLE, 0, set->path,
                               "code or name too large for a jitdump record");
    size_t unwind_size =
        with_unwind ? round_up(sizeof(struct unwinding_info) + set->jit.unwind_size, 8) : 0;
    size_t cap = unwind_size + load_bound;
    unsigned char stack_records[STACK_RECORDS];
    unsigned char *records = cap <= sizeof stack_records ? stack_records : malloc(cap);
    if (records == NULL)
        return perf_tramp_fail(error, PERF_TRAMP_ERR_MEMORY, ENOMEM, NULL, NULL);

    uint64_t timestamp = monotonic_ns();
    if (with_unwind)
        put_unwinding_info(set, timestamp, records);
    size_t load_size = 0;
    int failed = put_code_load(set, timestamp, addr, size, name, name_len,
                               records + unwind_size, &load_size);
    /* Unreadable code is reported as a failed write of its entry: nothing
     * reaches the file, and later entries still do. */
    int status = PERF_TRAMP_OK;
    if (failed)
        status = perf_tramp_fail(error, PERF_TRAMP_ERR_WRITE, failed, set->path, NULL);
    else
        status = perf_tramp_write_entry_bytes(set, records, unwind_size + load_size, error);

    if (records != stack_records)
        free(records);
    return status;
}

static int jitdump_write_stub(struct perf_tramp_set *set, uintptr_t addr, size_t size,
                              const char *name, size_t name_len, struct perf_tramp_error *error)
{
    return write_records(set, addr, size, name, name_len, 1, error);
}

static int jitdump_write_entry(struct perf_tramp_set *set, uintptr_t addr, size_t size,
                               const char *name, size_t name_len, struct perf_tramp_error *error)
{
    return write_records(set, addr, size, name, name_len, 0, error);
}

/* ---- fork ---------------------------------------------------------------- */

/* Re-stamps the whole records in `buf` (`*len` bytes) as the child's, made
 * now; drops a partial record at the end (it was never finished). */
static void adopt_records(unsigned char *buf, size_t *len, uint32_t pid, uint64_t timestamp)
{
    size_t at = 0;
    while (*len - at >= sizeof(struct record_prefix)) {
        struct record_prefix prefix;
        memcpy(&prefix, buf + at, sizeof prefix);
        if (prefix.total_size < sizeof prefix || prefix.total_size > *len - at)
            break;
        prefix.timestamp = timestamp;
        memcpy(buf + at, &prefix, sizeof prefix);
        if (prefix.id == JIT_CODE_LOAD && prefix.total_size >= sizeof(struct code_load)) {
            struct code_load load;
            memcpy(&load, buf + at, sizeof load);
            load.pid = pid;
            load.tid = pid; /* the child's only thread */
            memcpy(buf + at, &load, sizeof load);
        }
        at += prefix.total_size;
    }
    *len = at;
}

/* Appends the parent's records (after its header, up to `upto`) read from
 * the inherited descriptor `from` to the child's dump. pread leaves the
 * descriptor's offset, which the parent shares, alone. */
static int copy_parent_records(int from, off_t upto, const struct dump *child,
                               struct perf_tramp_error *error, const char *parent_path)
{
    off_t start = sizeof(struct jitdump_header);
    if (upto <= start)
        return PERF_TRAMP_OK;
    size_t len = (size_t)(upto - start);
    unsigned char *buf = malloc(len);
    if (buf == NULL)
        return perf_tramp_fail(error, PERF_TRAMP_ERR_MEMORY, ENOMEM, NULL, NULL);
    size_t have = 0;
    while (have < len) {
        ssize_t n = pread(from, buf + have, len - have, start + (off_t)have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            free(buf);
            return perf_tramp_fail(error, PERF_TRAMP_ERR_OPEN, saved, parent_path, NULL);
        }
        if (n == 0)
            break; /* the file shrank: copy what there was */
        have += (size_t)n;
    }
    adopt_records(buf, &have, (uint32_t)getpid(), monotonic_ns());
    int failed = perf_tramp_write_whole(child->fd, buf, have);
    free(buf);
    if (failed)
        return perf_tramp_fail(error, PERF_TRAMP_ERR_WRITE, failed, child->path, NULL);
    return PERF_TRAMP_OK;
}

static int jitdump_switch_to_child(struct perf_tramp_set *set, struct perf_tramp_error *error)
{
    struct perf_tramp_unwind_layout layout;
    perf_tramp_stub_unwind_data(PERF_TRAMP_ARCH_HOST, 0, NULL, 0, &layout);
    /* Nothing changes until the child's dump is complete: on failure the
     * set stays marked as forked, the next call tries again, and the
     * parent's dump is never written meanwhile. */
    struct dump dump;
    int status = create_dump(getpid(), layout.arch, &dump, error);
    if (status != PERF_TRAMP_OK)
        return status;
    if (set->persist_after_fork && set->fd >= 0) {
        off_t upto = set->size_at_fork;
        struct stat st;
        if (!set->forked && fstat(set->fd, &st) == 0)
            upto = st.st_size; /* forked without the atfork handlers */
        status = copy_parent_records(set->fd, upto, &dump, error, set->path);
    }
    if (status == PERF_TRAMP_OK)
        status = map_marker(&dump, error);
    if (status != PERF_TRAMP_OK) {
        discard(&dump);
        return status;
    }
    /* Drops the parent's marker too: it was inherited, not made here. */
    adopt(set, &dump);
    return PERF_TRAMP_OK;
}

/* Async-signal-safe: runs in the fork prepare handler. */
static void jitdump_before_fork(struct perf_tramp_set *set)
{
    struct stat st;
    if (set->fd >= 0 && fstat(set->fd, &st) == 0)
        set->size_at_fork = st.st_size;
    else
        set->size_at_fork = set->opened_at;
}

static void jitdump_close(struct perf_tramp_set *set)
{
    if (set->jit.marker != NULL)
        munmap(set->jit.marker, set->jit.marker_len);
    set->jit.marker = NULL;
    if (set->fd >= 0)
        close(set->fd);
    set->fd = -1;
}

const struct perf_tramp_backend_ops perf_tramp_jitdump_backend = {
    .open = jitdump_open,
    .write_stub = jitdump_write_stub,
    .write_entry = jitdump_write_entry,
    .switch_to_child = jitdump_switch_to_child,
    .before_fork = jitdump_before_fork,
    .close = jitdump_close,
};
