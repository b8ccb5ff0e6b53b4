/*
 * file.c - what both backends do with their output file: open it without
 * ever following a symbolic link, and write a buffer whole.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int perf_tramp_open_file(const char *path, int flags, int *fd_out, struct perf_tramp_error *error)
{
    int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        int saved = errno;
        struct stat link;
        /* O_NOFOLLOW reports a symlink as ELOOP; lstat tells it apart from
         * a real loop further up the path. */
        if (saved == ELOOP && lstat(path, &link) == 0 && S_ISLNK(link.st_mode))
            return perf_tramp_fail(error, PERF_TRAMP_ERR_SYMLINK, saved, path, NULL);
        return perf_tramp_fail(error, PERF_TRAMP_ERR_OPEN, saved, path, NULL);
    }
    *fd_out = fd;
    return PERF_TRAMP_OK;
}

/* A regular file takes a whole write at once; the loop only covers EINTR
 * and a full disk. */
int perf_tramp_write_fully(int fd, const void *data, size_t len)
{
    const char *buf = data;
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (n == 0)
            return EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}
