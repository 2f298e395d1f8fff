/*
 * owners.h -- find a utility's per-Lua-state object from the utilid DSS hands to cancel.
 *
 * A utility library can be loaded into several Lua states of one process; each state
 * gets its own utilid and its own object ("owner"). cancel(utilid) carries nothing
 * else, so the library keeps one owner_set (process-wide, one per library) to look the
 * owner up.
 *
 * Lifetime rule the samples follow: an owner is removed from its set and freed only on
 * its Lua thread (in __gc or close), after its unregistration has completed. The set's
 * lock is held while a cancel runs, so removal waits for a cancel in progress.
 */
#ifndef SAMPLES_OWNERS_H
#define SAMPLES_OWNERS_H

#include <pthread.h>

typedef struct owner_entry {
    void *utilid;
    void *owner;
    struct owner_entry *next;
} owner_entry;

typedef struct owner_set {
    pthread_mutex_t lock;
    owner_entry *head;   /* guarded by lock */
} owner_set;

#define OWNER_SET_INIT { PTHREAD_MUTEX_INITIALIZER, NULL }

/* Any thread. Returns 0, or -1 when out of memory. */
int owner_set_add(owner_set *set, void *utilid, void *owner);

/* Any thread. Forgets owner (no-op if absent); waits for a cancel running on it. */
void owner_set_remove(owner_set *set, void *owner);

/* Any thread. Calls fn(owner) for the owner registered under utilid, with the set
   locked so the owner cannot be removed meanwhile. Returns 1 if it was found. fn must
   not call back into this set. */
int owner_set_call(owner_set *set, void *utilid, void (*fn)(void *owner));

/* Any thread. The number of owners in the set. */
int owner_set_count(owner_set *set);

#endif
