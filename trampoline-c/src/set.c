/*
 * set.c - the public API: a set of trampolines is one output file (through
 * its backend) plus the arenas its stubs live in, behind one lock.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* NULL when this build has no such backend. */
static const struct perf_tramp_backend_ops *backend_for(int kind)
{
    switch (kind) {
    case PERF_TRAMP_BACKEND_PERF_MAP:
        return &perf_tramp_perf_map_backend;
    case PERF_TRAMP_BACKEND_JITDUMP:
        return &perf_tramp_jitdump_backend;
    default:
        return NULL;
    }
}

int perf_tramp_create(const struct perf_tramp_options *options, perf_tramp_set **out,
                      struct perf_tramp_error *error)
{
    if (out == NULL)
        return perf_tramp_fail(error, PERF_TRAMP_ERR_UNUSABLE, 0, NULL, "no place for the new set");
    int kind = options != NULL ? options->backend : PERF_TRAMP_BACKEND_PERF_MAP;
    const struct perf_tramp_backend_ops *backend = backend_for(kind);
    if (backend == NULL) {
        char what[48];
        snprintf(what, sizeof what, "backend number %d", kind);
        return perf_tramp_fail(error, PERF_TRAMP_ERR_UNSUPPORTED, 0, NULL, what);
    }

    struct perf_tramp_set *set = calloc(1, sizeof *set);
    if (set == NULL)
        return perf_tramp_fail(error, PERF_TRAMP_ERR_MEMORY, ENOMEM, NULL, NULL);
    set->fd = -1;
    set->backend = backend;
    set->persist_after_fork = options != NULL && options->persist_after_fork;

    int status = backend->open(set, error);
    if (status == PERF_TRAMP_OK) {
        status = perf_tramp_arenas_init(&set->arenas, set->stub_spacing, error);
        if (status != PERF_TRAMP_OK)
            backend->close(set);
    }
    if (status != PERF_TRAMP_OK) {
        free(set);
        return status;
    }
    pthread_mutex_init(&set->lock, NULL);
    perf_tramp_fork_register(set);
    *out = set;
    return PERF_TRAMP_OK;
}

/* Makes a fork child's set its own. New stubs come from a fresh arena: the
 * inherited ones are mapped in perf's view of the child as the parent's
 * memory, named by the parent's file, so a stub made there would carry the
 * name the parent gives its next stub at the same address. Lock held. */
static int switch_to_child(struct perf_tramp_set *set, struct perf_tramp_error *error)
{
    perf_tramp_arenas_retire(&set->arenas);
    return set->backend->switch_to_child(set, error);
}

/* In a fork child, moves to the child's own file before anything is written.
 * Lock held. */
static int ensure_own_file(struct perf_tramp_set *set, struct perf_tramp_error *error)
{
    if (!set->forked)
        return PERF_TRAMP_OK;
    return switch_to_child(set, error);
}

int perf_tramp_compile(perf_tramp_set *set, const char *name, size_t name_len,
                       perf_tramp_stub_fn *entry, size_t *size, struct perf_tramp_error *error)
{
    if (set == NULL || entry == NULL || size == NULL || (name == NULL && name_len > 0))
        return perf_tramp_fail(error, PERF_TRAMP_ERR_UNUSABLE, 0, NULL, "null argument to compile");
    void *slot = NULL;
    size_t stub_size = perf_tramp_stub_size();

    pthread_mutex_lock(&set->lock);
    int status = ensure_own_file(set, error);
    if (status == PERF_TRAMP_OK)
        status = perf_tramp_arenas_take(&set->arenas, &slot, error);
    /* After a failed write the stub is still made, only not named. */
    if (status == PERF_TRAMP_OK && !set->stopped)
        status = set->backend->write_stub(set, (uintptr_t)slot, stub_size, name, name_len, error);
    pthread_mutex_unlock(&set->lock);

    if (status == PERF_TRAMP_OK) {
        *entry = (perf_tramp_stub_fn)(uintptr_t)slot;
        *size = stub_size;
    }
    return status;
}

int perf_tramp_write_entry(perf_tramp_set *set, uintptr_t addr, size_t size, const char *name,
                           size_t name_len, struct perf_tramp_error *error)
{
    if (set == NULL || (name == NULL && name_len > 0))
        return perf_tramp_fail(error, PERF_TRAMP_ERR_UNUSABLE, 0, NULL,
                               "null argument to write_entry");
    pthread_mutex_lock(&set->lock);
    int status = ensure_own_file(set, error);
    if (status == PERF_TRAMP_OK && !set->stopped)
        status = set->backend->write_entry(set, addr, size, name, name_len, error);
    pthread_mutex_unlock(&set->lock);
    return status;
}

int perf_tramp_after_fork_child(perf_tramp_set *set, struct perf_tramp_error *error)
{
    if (set == NULL)
        return perf_tramp_fail(error, PERF_TRAMP_ERR_UNUSABLE, 0, NULL,
                               "null argument to after_fork_child");
    pthread_mutex_lock(&set->lock);
    int status = PERF_TRAMP_OK;
    /* The pid check also covers a fork that bypassed the atfork handlers. */
    if (set->forked || set->owner_pid != getpid())
        status = switch_to_child(set, error);
    pthread_mutex_unlock(&set->lock);
    return status;
}

size_t perf_tramp_output_path(perf_tramp_set *set, char *buf, size_t buf_len)
{
    if (set == NULL)
        return 0;
    pthread_mutex_lock(&set->lock);
    size_t len = strlen(set->path);
    if (buf != NULL && buf_len > 0) {
        size_t n = len < buf_len - 1 ? len : buf_len - 1;
        memcpy(buf, set->path, n);
        buf[n] = '\0';
    }
    pthread_mutex_unlock(&set->lock);
    return len;
}

/* Shared end of close and teardown; the caller decides about the arenas. */
static void release(struct perf_tramp_set *set)
{
    perf_tramp_fork_unregister(set);
    set->backend->close(set);
    pthread_mutex_destroy(&set->lock);
}

void perf_tramp_close(perf_tramp_set *set)
{
    if (set == NULL)
        return;
    release(set);
    perf_tramp_arenas_forget(&set->arenas); /* the code stays mapped */
    free(set);
}

void perf_tramp_teardown(perf_tramp_set *set)
{
    if (set == NULL)
        return;
    release(set);
    perf_tramp_arenas_unmap(&set->arenas);
    free(set);
}
