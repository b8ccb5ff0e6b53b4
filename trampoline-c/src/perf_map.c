/*
 * perf_map.c - the perf map backend: /tmp/perf-<pid>.map, one line
 * `<start> <size> <name>\n` per piece of code, start and size in lowercase
 * hex without 0x. perf reads exactly that path, so the file is named after
 * the process that runs the code, and a fork child moves to its own file.
 *
 * Each line is built whole in a buffer and reaches the file in one write(2)
 * (the caller holds the set's lock), so concurrent writers never interleave
 * and a crash loses at most the line being written. A line the disk takes
 * only in part is cut off again and the set stops writing (file.c).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    /* Room for "<start> <size> " and the newline: two 64-bit hex numbers. */
    LINE_OVERHEAD = 2 * 16 + 2 + 1,
    /* Lines up to this size are built on the stack. */
    STACK_LINE = 512,
    /* Chunk size when copying the parent's entries after fork. */
    COPY_CHUNK = 64 * 1024,
};

/* Opens /tmp/perf-<pid>.map for appending (never through a symlink). */
static int open_map(pid_t pid, char *path, size_t path_cap, int *fd_out, off_t *size_out,
                    struct perf_tramp_error *error)
{
    snprintf(path, path_cap, "/tmp/perf-%ld.map", (long)pid);
    int fd;
    int status = perf_tramp_open_file(
        path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, &fd, error);
    if (status != PERF_TRAMP_OK)
        return status;
    struct stat st;
    *size_out = fstat(fd, &st) == 0 ? st.st_size : 0;
    *fd_out = fd;
    return PERF_TRAMP_OK;
}

static int perf_map_open(struct perf_tramp_set *set, struct perf_tramp_error *error)
{
    pid_t pid = getpid();
    int status = open_map(pid, set->path, sizeof set->path, &set->fd, &set->opened_at, error);
    if (status == PERF_TRAMP_OK)
        set->owner_pid = pid;
    return status;
}

static int perf_map_write_entry(struct perf_tramp_set *set, uintptr_t addr, size_t size,
                                const char *name, size_t name_len,
                                struct perf_tramp_error *error)
{
    if (set->fd < 0)
        return perf_tramp_fail(error, PERF_TRAMP_ERR_UNUSABLE, 0, set->path,
                               "the perf map file is closed");
    char stack_line[STACK_LINE];
    size_t cap = LINE_OVERHEAD + name_len;
    char *line = cap <= sizeof stack_line ? stack_line : malloc(cap);
    if (line == NULL)
        return perf_tramp_fail(error, PERF_TRAMP_ERR_MEMORY, ENOMEM, NULL, NULL);

    int head = snprintf(line, LINE_OVERHEAD, "%" PRIxPTR " %zx ", addr, size);
    size_t len = (size_t)head + perf_tramp_sanitize_name(name, name_len, line + head);
    line[len++] = '\n';
    int status = perf_tramp_write_entry_bytes(set, line, len, error);

    if (line != stack_line)
        free(line);
    return status;
}

/* Appends the whole lines of `source` between `from` and `to` to `fd`. A
 * partial line at the end was not a finished entry and is left out. */
static int copy_entries(const char *source, off_t from, off_t to, int fd, const char *dest,
                        struct perf_tramp_error *error)
{
    if (to <= from)
        return PERF_TRAMP_OK;
    int src = open(source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0)
        return perf_tramp_fail(error, PERF_TRAMP_ERR_OPEN, errno, source, NULL);
    char *buf = malloc(COPY_CHUNK);
    if (buf == NULL) {
        close(src);
        return perf_tramp_fail(error, PERF_TRAMP_ERR_MEMORY, ENOMEM, NULL, NULL);
    }

    int status = PERF_TRAMP_OK;
    size_t carried = 0; /* start of a line whose end is not read yet */
    off_t pos = from;
    while (pos < to && status == PERF_TRAMP_OK) {
        size_t want = COPY_CHUNK - carried;
        if ((off_t)want > to - pos)
            want = (size_t)(to - pos);
        ssize_t n = pread(src, buf + carried, want, pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            status = perf_tramp_fail(error, PERF_TRAMP_ERR_OPEN, errno, source, NULL);
            break;
        }
        if (n == 0)
            break; /* the file shrank: copy what there was */
        pos += n;
        size_t have = carried + (size_t)n;
        size_t whole = have;
        while (whole > 0 && buf[whole - 1] != '\n')
            whole--;
        if (whole == 0 && have == COPY_CHUNK)
            whole = have; /* one line longer than a chunk: pass it through */
        int failed = perf_tramp_write_whole(fd, buf, whole);
        if (failed)
            status = perf_tramp_fail(error, PERF_TRAMP_ERR_WRITE_STOPPED, failed, dest, NULL);
        carried = have - whole;
        memmove(buf, buf + whole, carried);
    }
    free(buf);
    close(src);
    return status;
}

static int perf_map_switch_to_child(struct perf_tramp_set *set, struct perf_tramp_error *error)
{
    char child_path[PERF_TRAMP_PATH_MAX];
    int child_fd;
    off_t child_size;
    /* Nothing changes until the child's file is open: on failure the set
     * stays marked as forked and the next call tries again, and it never
     * writes the parent's file meanwhile. */
    int status = open_map(getpid(), child_path, sizeof child_path, &child_fd, &child_size, error);
    if (status != PERF_TRAMP_OK)
        return status;

    if (set->persist_after_fork) {
        off_t upto = set->size_at_fork;
        struct stat st;
        if (!set->forked && set->fd >= 0 && fstat(set->fd, &st) == 0)
            upto = st.st_size; /* forked without the atfork handlers */
        status = copy_entries(set->path, set->opened_at, upto, child_fd, child_path, error);
        /* A copy the disk would not take ends with whole lines; the child
         * keeps its file, stopped, rather than copy again on the next call. */
        if (status != PERF_TRAMP_OK && status != PERF_TRAMP_ERR_WRITE_STOPPED) {
            close(child_fd);
            return status;
        }
    }

    if (set->fd >= 0)
        close(set->fd);
    set->fd = child_fd;
    set->owner_pid = getpid();
    memcpy(set->path, child_path, sizeof child_path);
    set->opened_at = child_size;
    set->forked = 0;
    set->stopped = status == PERF_TRAMP_ERR_WRITE_STOPPED;
    return status;
}

static void perf_map_before_fork(struct perf_tramp_set *set)
{
    struct stat st;
    if (set->fd >= 0 && fstat(set->fd, &st) == 0)
        set->size_at_fork = st.st_size;
    else
        set->size_at_fork = set->opened_at;
}

static void perf_map_close(struct perf_tramp_set *set)
{
    if (set->fd >= 0)
        close(set->fd);
    set->fd = -1;
}

const struct perf_tramp_backend_ops perf_tramp_perf_map_backend = {
    .open = perf_map_open,
    .write_stub = perf_map_write_entry, /* a stub is one line like any code */
    .write_entry = perf_map_write_entry,
    .switch_to_child = perf_map_switch_to_child,
    .before_fork = perf_map_before_fork,
    .close = perf_map_close,
};
