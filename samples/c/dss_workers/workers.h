/*
 * workers.h -- dss_workers, a worker-pool utility.
 *
 * The shape of real bindings of thread-pooled C libraries (pupnp, OpenZWave): Lua
 * submits a job with a callback; a pool thread does the slow work in C, never touching
 * Lua; the result goes back through DSS and the callback runs on the Lua thread.
 * One pool per Lua state (one registration per state and library).
 */
#ifndef DSS_WORKERS_H
#define DSS_WORKERS_H

#include <pthread.h>
#include <stdint.h>
#include "darksidesync_api.h"
#include "owners.h"

DSS_LIB_DECLARE(workers_lib);
extern owner_set workers_owners;

enum job_kind { JOB_PRIMES, JOB_HASHFILE };

typedef struct pool pool;

/* One submitted job: filled in by a pool thread, decoded (and freed) on the Lua thread. */
typedef struct job {
    pool *owner;
    enum job_kind kind;
    int cb_ref;               /* the callback, in the pool's callback table */
    struct job *next;         /* the pool's pending list */
    /* input */
    long long limit;          /* JOB_PRIMES: count primes <= limit */
    char *path;               /* JOB_HASHFILE */
    /* output */
    long long count, largest; /* JOB_PRIMES */
    uint64_t hash;            /* JOB_HASHFILE: FNV-1a 64 of the file's bytes */
    long long size;
    int err;                  /* errno of a failed JOB_HASHFILE, else 0 */
    double seconds;           /* time the computation took */
} job;

struct pool {
    void *utilid;
    int cbtable_ref;          /* registry ref of { [cb_ref] = callback }; Lua thread only */
    long decoded, cancelled;  /* atomic: results delivered to Lua / cancelled by DSS */
    long refused;             /* atomic: results deliver refused (unregistered, DSS stopped) */
    long submitted;           /* Lua thread only */

    pthread_mutex_t lock;     /* guards the job list and stopping */
    pthread_cond_t wake;
    job *head, *tail;         /* submitted, not yet picked up by a thread */
    int stopping;
    int busy;                 /* jobs taken by a thread and not yet handed over */
    int nthreads;
    pthread_t *threads;
};

/* workers_jobs.c: the computations, on a pool thread */
void job_run(job *j);
void job_free(job *j);

/* workers_pool.c: threads, queue and the DSS hooks */
int pool_start(pool *p, int nthreads);
int pool_submit(pool *p, job *j);
void pool_stop(pool *p);
int pool_idle(pool *p);
int workers_decode(lua_State *L, void *pData, void *utilid);
void workers_cancel(void *utilid);

#endif
