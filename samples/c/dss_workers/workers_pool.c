/*
 * workers_pool.c -- the pool's threads and queue, and its DSS hooks. The pool threads
 * are the "library's own threads": they take a job, compute, and deliver the result
 * non-blocking; DSS gets it to the Lua thread.
 */
#include <stdlib.h>
#include <string.h>
#include "workers.h"

static void *worker_main(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->stopping) {
            pthread_mutex_unlock(&p->lock);
            return NULL; /* jobs not started are freed by pool_stop */
        }
        job *j = p->head;
        p->head = j->next;
        if (p->head == NULL)
            p->tail = NULL;
        p->busy++;
        pthread_mutex_unlock(&p->lock);

        job_run(j);
        /* Outside the lock: deliver may take a while, and other threads keep working. */
        int rc = dss_deliver(&workers_lib, p->utilid, workers_decode, NULL, j);
        if (!dss_delivered(rc)) {
            __atomic_fetch_add(&p->refused, 1, __ATOMIC_RELAXED);
            job_free(j); /* unregistered or DSS stopped: nobody waits for it any more */
        }
        pthread_mutex_lock(&p->lock);
        p->busy--;
        pthread_mutex_unlock(&p->lock);
    }
}

/* Lua thread. Returns 0 or an errno value. */
int pool_start(pool *p, int nthreads)
{
    p->threads = calloc((size_t)nthreads, sizeof *p->threads);
    if (p->threads == NULL)
        return -1;
    for (int i = 0; i < nthreads; i++) {
        int rc = pthread_create(&p->threads[i], NULL, worker_main, p);
        if (rc != 0)
            return rc; /* pool_stop joins the p->nthreads already started */
        p->nthreads++;
    }
    return 0;
}

/* Lua thread. Returns 0, or -1 when the pool is stopping (the job is not taken). */
int pool_submit(pool *p, job *j)
{
    pthread_mutex_lock(&p->lock);
    int stopping = p->stopping;
    if (!stopping) {
        j->next = NULL;
        if (p->tail)
            p->tail->next = j;
        else
            p->head = j;
        p->tail = j;
        pthread_cond_signal(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
    return stopping ? -1 : 0;
}

/* Any thread. True when no job is queued or being computed (results may still be
   waiting in DSS's queue). */
int pool_idle(pool *p)
{
    pthread_mutex_lock(&p->lock);
    int idle = p->head == NULL && p->busy == 0;
    pthread_mutex_unlock(&p->lock);
    return idle;
}

/* Any thread; idempotent. Tells the threads to stop and drops jobs not started yet. */
static void pool_signal_stop(pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    job *j = p->head;
    p->head = p->tail = NULL;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    while (j != NULL) {
        job *next = j->next;
        job_free(j);
        j = next;
    }
}

/* Lua thread. Stops and joins the threads; a job being computed finishes first (its
   delivery is then refused if the pool was unregistered, and freed). */
void pool_stop(pool *p)
{
    pool_signal_stop(p);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
    free(p->threads);
    p->threads = NULL;
}

/* Lua thread (or L == NULL on an unregistering thread). Pushes callback, results. */
int workers_decode(lua_State *L, void *pData, void *utilid)
{
    job *j = pData;
    pool *p = j->owner;
    (void)utilid;
    if (L == NULL) {
        /* Cancelled: the callback's slot in the callback table is reclaimed with the
           table when the pool closes; here there is no Lua state to touch. */
        __atomic_fetch_add(&p->cancelled, 1, __ATOMIC_RELAXED);
        job_free(j);
        return 0;
    }
    __atomic_fetch_add(&p->decoded, 1, __ATOMIC_RELAXED);
    if (!lua_checkstack(L, 6)) {
        job_free(j);
        return 0;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->cbtable_ref);
    lua_rawgeti(L, -1, j->cb_ref);          /* callback */
    luaL_unref(L, -2, j->cb_ref);           /* one result per job: free its slot */
    lua_remove(L, -2);                      /* the callback table */
    int n = 1;
    if (j->kind == JOB_PRIMES) {
        lua_pushinteger(L, j->count);
        lua_pushinteger(L, j->largest);
        n += 2;
    } else if (j->err != 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", j->path, strerror(j->err));
        n += 2;
    } else {
        char hex[17];
        static const char digits[] = "0123456789abcdef";
        for (int i = 0; i < 16; i++)
            hex[i] = digits[(j->hash >> (60 - 4 * i)) & 0xf];
        hex[16] = '\0';
        lua_pushstring(L, hex);
        lua_pushinteger(L, j->size);
        n += 2;
    }
    lua_pushnumber(L, j->seconds);
    n++;
    job_free(j);
    return n;
}

static void cancel_owner(void *owner)
{
    pool *p = owner;
    /* Stop the threads from taking jobs, then unregister: any result still queued in
       DSS comes back through workers_decode(NULL). Joining waits for the Lua thread
       (close/__gc): a thread mid-computation finishes and sees deliver refuse. */
    pool_signal_stop(p);
    dss_unregister(&workers_lib, p->utilid);
}

/* stop-DSS; any thread, never the Lua state. */
void workers_cancel(void *utilid)
{
    owner_set_call(&workers_owners, utilid, cancel_owner);
}
