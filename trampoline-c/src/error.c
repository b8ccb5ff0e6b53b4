/*
 * error.c - fills struct perf_tramp_error, so that every failure carries the
 * file it concerns and the errno that explains it.
 */
#include "internal.h"

#include <string.h>

static void copy_text(char *dst, size_t cap, const char *src)
{
    if (src == NULL) {
        dst[0] = '\0';
        return;
    }
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int perf_tramp_fail(struct perf_tramp_error *error, int status, int os_errno,
                    const char *path, const char *detail)
{
    if (error != NULL) {
        error->status = status;
        error->os_errno = os_errno;
        copy_text(error->path, sizeof error->path, path);
        copy_text(error->detail, sizeof error->detail, detail);
    }
    return status;
}
