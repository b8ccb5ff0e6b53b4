/*
 * file.c - what both backends do with their output file: open it without
 * ever following a symbolic link and use it only if it is ours alone, write
 * an entry whole or not at all, and stop writing after the first failure.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* Why the open file `st` is not ours alone to write, or NULL when it is:
 * a regular file of the effective user, with a single link, that no group
 * or other user may open. perf itself refuses a map of another owner, and a
 * file others can open (or reach through another link) is theirs to write
 * into or read; a FIFO or device is no map at all. */
static const char *not_ours_alone(const struct stat *st, char *why, size_t cap)
{
    if (!S_ISREG(st->st_mode))
        return "it is not a regular file";
    if (st->st_uid != geteuid()) {
        snprintf(why, cap, "it belongs to uid %ld, not to this process's uid %ld",
                 (long)st->st_uid, (long)geteuid());
        return why;
    }
    if (st->st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(why, cap, "its mode %04o lets other users open it",
                 (unsigned)(st->st_mode & 07777));
        return why;
    }
    if (st->st_nlink != 1) {
        snprintf(why, cap, "it has %lu hard links", (unsigned long)st->st_nlink);
        return why;
    }
    return NULL;
}

int perf_tramp_open_file(const char *path, int flags, int *fd_out, struct perf_tramp_error *error)
{
    /* O_TRUNC waits until the file is known to be ours; O_NONBLOCK keeps a
     * FIFO planted at the path from blocking the open (it is refused then). */
    int truncate = flags & O_TRUNC;
    int fd = open(path, (flags & ~O_TRUNC) | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd < 0) {
        int saved = errno;
        struct stat link;
        /* O_NOFOLLOW reports a symlink as ELOOP; lstat tells it apart from
         * a real loop further up the path. */
        if (saved == ELOOP && lstat(path, &link) == 0 && S_ISLNK(link.st_mode))
            return perf_tramp_fail(error, PERF_TRAMP_ERR_SYMLINK, saved, path, NULL);
        return perf_tramp_fail(error, PERF_TRAMP_ERR_OPEN, saved, path, NULL);
    }
    struct stat st;
    char why[PERF_TRAMP_DETAIL_MAX];
    const char *refusal = NULL;
    int failed = 0;
    if (fstat(fd, &st) != 0)
        failed = errno;
    else
        refusal = not_ours_alone(&st, why, sizeof why);
    if (refusal == NULL && !failed) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 ||
            (truncate && ftruncate(fd, 0) != 0))
            failed = errno;
    }
    if (refusal != NULL || failed) {
        close(fd);
        if (refusal != NULL)
            return perf_tramp_fail(error, PERF_TRAMP_ERR_UNSAFE_FILE, 0, path, refusal);
        return perf_tramp_fail(error, PERF_TRAMP_ERR_OPEN, failed, path, NULL);
    }
    *fd_out = fd;
    return PERF_TRAMP_OK;
}

/* Removes the `written` bytes of an entry that reached the file only in
 * part. They end at the descriptor's offset (O_APPEND or not), and the
 * caller's lock kept this set's other writes out; another writer of the
 * same file appending in between would lose its entry too, never leave a
 * torn one. */
static void cut_back(int fd, size_t written)
{
    off_t end = lseek(fd, 0, SEEK_CUR);
    if (end < (off_t)written)
        return;
    off_t start = end - (off_t)written;
    if (ftruncate(fd, start) == 0)
        lseek(fd, start, SEEK_SET);
}

/* A regular file takes a whole write at once; the loop only covers EINTR
 * and a write cut short by a full disk or a size limit, whose next call
 * then names the reason (ENOSPC, EFBIG). */
int perf_tramp_write_whole(int fd, const void *data, size_t len)
{
    const char *buf = data;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        int failed = n < 0 ? errno : EIO;
        if (done > 0)
            cut_back(fd, done);
        return failed;
    }
    return 0;
}

int perf_tramp_write_entry_bytes(struct perf_tramp_set *set, const void *data, size_t len,
                                 struct perf_tramp_error *error)
{
    if (set->stopped)
        return PERF_TRAMP_OK;
    int failed = perf_tramp_write_whole(set->fd, data, len);
    if (!failed)
        return PERF_TRAMP_OK;
    set->stopped = 1;
    return perf_tramp_fail(error, PERF_TRAMP_ERR_WRITE_STOPPED, failed, set->path, NULL);
}
