/*
 * fork.c - keeps fork from copying a held lock into the child.
 *
 * Every live set is listed here. pthread_atfork handlers take the list's lock
 * and every set's lock before fork (so no set is halfway through a line or an
 * arena), and release them on both sides after it. In the child each set is
 * also marked `forked`: its next write goes to the child's own map file.
 */
#include "internal.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct perf_tramp_set *registry;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void before_fork(void)
{
    pthread_mutex_lock(&registry_lock);
    for (struct perf_tramp_set *set = registry; set != NULL; set = set->next_registered) {
        pthread_mutex_lock(&set->lock);
        set->backend->before_fork(set);
    }
}

static void after_fork_in_parent(void)
{
    for (struct perf_tramp_set *set = registry; set != NULL; set = set->next_registered)
        pthread_mutex_unlock(&set->lock);
    pthread_mutex_unlock(&registry_lock);
}

/* The child has one thread, the one that forked and holds the locks, so it
 * may release them (the idiom pthread_atfork exists for). */
static void after_fork_in_child(void)
{
    for (struct perf_tramp_set *set = registry; set != NULL; set = set->next_registered) {
        set->forked = 1;
        pthread_mutex_unlock(&set->lock);
    }
    pthread_mutex_unlock(&registry_lock);
}

static void install_handlers(void)
{
    /* If this fails (ENOMEM), perf_tramp_after_fork_child still notices the
     * new pid; only the lock protection during fork is lost. */
    (void)pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

void perf_tramp_fork_register(struct perf_tramp_set *set)
{
    pthread_once(&handlers_once, install_handlers);
    pthread_mutex_lock(&registry_lock);
    set->next_registered = registry;
    registry = set;
    pthread_mutex_unlock(&registry_lock);
}

void perf_tramp_fork_unregister(struct perf_tramp_set *set)
{
    pthread_mutex_lock(&registry_lock);
    struct perf_tramp_set **link;
    for (link = &registry; *link != NULL; link = &(*link)->next_registered) {
        if (*link == set) {
            *link = set->next_registered;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
}
