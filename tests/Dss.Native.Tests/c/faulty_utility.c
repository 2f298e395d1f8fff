/*
 * faulty_utility.c -- a test-only DSS utility (API 1v0) whose hooks misbehave on demand,
 * for the fault specs. Every delivery carries a decode mode and a return mode:
 *
 *   ok          push callback, tag                        (ret: answer, push "answered")
 *   zero        push nothing, return 0
 *   raise       luaL_error("faulty_utility: decode|ret raised for item <tag>")
 *   memerr      a Lua memory error (a 2^62-byte userdata)
 *   many        lua_checkstack and push callback, 1..n     (n values besides the callback)
 *   notfunction push 42, tag
 *   overcount   push callback, tag; return 5
 *   negative    push callback, tag; return -1
 *   undercount  push "junk", callback, tag; return 2
 *   unreg       unreg(own utilid) inside the hook, then as ok
 *   deliver     deliver a new non-blocking "ok" item for the same utility, then as ok
 *   stop        call the utility's stopper (a Lua function) under lua_pcall, then as ok
 *   gc          lua_gc(L, LUA_GCCOLLECT): finalizers run inside the hook, then as ok
 *   race        wait until u:race()'s worker is inside unreg, then unreg too (defect 1)
 *
 *   local fu = require "faulty_utility"
 *   local u = fu.new{ callback = f, cancel = "unreg"|"ignore"|"block"|"sleep", stopper = g,
 *                     report = true }  -- report: print "closed: <u:check()> ..." when closed
 *                         -- nil, statusname when reg fails. Each utility is its own library
 *                         -- (its libid is its own address), so a state may have many.
 *   u:deliver(mode [, n])               -- one non-blocking item from the Lua thread: tag, status
 *   u:ask(mode, retmode [, n])          -- one pthread delivering one blocking item
 *   u:produce{ threads, items, blocking, mode, retmode, n, pace_us }  -- pthreads
 *   u:race()                            -- a pthread that calls unreg once a "race" hook runs
 *   u:unregmany(k)                      -- k pthreads calling unreg at once (a barrier)
 *   u:fuzz(seed, threads, steps, stale [, pace_us [, valid_unreg]])
 *                                       -- pthreads making seeded random C ABI calls; now and
 *                                       -- then one unregs the valid utilid unless valid_unreg
 *                                       -- is false
 *   u:unregister()  u:join()  u:running()  u:utilid()  u:stats()  u:check()  u:close()
 *   fu.apireg()  fu.apigetutilid([u])  fu.headerreg()  fu.nocancel()  fu.freshstate()
 *
 * The counters let Lua check that every accepted delivery ended exactly once (decoded,
 * answered, collected, raised, or cancelled with L == NULL), that no refused delivery
 * reached a hook, and that no blocking producer was released before its delivery ended.
 * Items live in a per-utility list until the utility is closed (after unreg and join), so
 * a hook called once too often finds the item ended instead of freed memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lua.h>
#include "darksidesync_api.h"

DSS_LIB_DEFINE(faulty_lib, "faulty_utility");

#define UTILITY_MT "faulty_utility"

enum mode {
    M_OK, M_ZERO, M_RAISE, M_MEMERR, M_MANY, M_NOTFUNCTION, M_OVERCOUNT, M_NEGATIVE,
    M_UNDERCOUNT, M_UNREG, M_DELIVER, M_STOP, M_GC, M_RACE
};
static const char *const mode_names[] = {
    "ok", "zero", "raise", "memerr", "many", "notfunction", "overcount", "negative",
    "undercount", "unreg", "deliver", "stop", "gc", "race", NULL
};

enum cancel_mode { CANCEL_UNREG, CANCEL_IGNORE, CANCEL_BLOCK, CANCEL_SLEEP };
static const char *const cancel_names[] = { "unreg", "ignore", "block", "sleep", NULL };

/* Item states; changed only by move(). */
enum state { ST_NEW, ST_QUEUED, ST_DECODING, ST_AWAITING, ST_ANSWERING, ST_ENDED, ST_REFUSED };

enum counter {
    C_ACCEPTED, C_REFUSED, C_BLOCKING, C_RELEASED, C_EARLY, C_DECODED, C_ENDED, C_TAKEN,
    C_ANSWERED, C_GARBAGE, C_DECODE_NULL, C_RET_NULL, C_RAISED, C_VIOLATIONS,
    C_REFUSED_HOOKED, C_CANCELS, C_WRONG, C_UNREG_SUCCESS, C_UNREG_INVALID, C_UNREG_OTHER,
    C_FUZZ_CALLS, C_COUNT
};
static const char *const counter_names[] = {
    "accepted", "refused", "blocking", "released", "early", "decoded", "ended", "taken",
    "answered", "garbage", "decode_null", "ret_null", "raised", "violations",
    "refused_hooked", "cancels", "wrong", "unreg_success", "unreg_invalid", "unreg_other",
    "fuzz_calls"
};

#define NO_RC 1 /* a status slot nobody wrote yet (status codes are negative) */

typedef struct item {
    struct utility *u;
    struct item *next;   /* the utility's list of every item it made */
    int tag;
    int blocking;
    int dmode, rmode, n;
    int state;           /* atomic: an enum state */
} item;

typedef struct utility {
    void *utilid;
    int callback_ref, stopper_ref;  /* Lua thread only */
    int cancel_mode;
    int report;                     /* print check() when closed */
    int next_tag;                   /* atomic */
    int stopping;                   /* atomic: cancel ran or the utility is closing */
    int running;                    /* atomic: its pthreads that have not ended */
    long counters[C_COUNT];         /* atomic */
    pthread_mutex_t lock;           /* guards items, first_violation, wrong */
    item *items;
    char first_violation[256];
    char first_wrong[256];
    pthread_t *threads;             /* Lua thread only: started, not joined */
    int nthreads, capacity;
    /* defect 1: the race between a worker's unreg and a hook's */
    pthread_mutex_t sync;
    pthread_cond_t changed;
    int in_hook, worker_go;         /* guarded by sync */
    int hook_unreg_rc, worker_unreg_rc, decode_deliver_rc, cancel_unreg_rc; /* atomic */
    int stop_ok;                    /* Lua thread: the stopper's pcall; -1 not run */
    char stop_msg[200];
    pthread_barrier_t barrier;      /* unregmany */
    int barrier_ready;
    struct utility *next_live;      /* guarded by live_lock */
} utility;

/* The API the first utility found; the same struct for every state of the process. Kept
   after a stop on purpose: fu.apireg() calls it like a utility that cached it. */
static const dss_api_1v0 *api;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static utility *live;               /* utilities not closed, for cancel's lookup by utilid */
static long stray_cancels;          /* atomic: cancel for a utilid no utility has */
static pthread_mutex_t forever_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t forever = PTHREAD_COND_INITIALIZER; /* never signalled */
static int probe_libid;             /* fu.apireg's library */

static void count(utility *u, int c) { __atomic_fetch_add(&u->counters[c], 1, __ATOMIC_ACQ_REL); }
static long counted(utility *u, int c) { return __atomic_load_n(&u->counters[c], __ATOMIC_ACQUIRE); }

static void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static void sleep_us(long us)
{
    struct timespec t = { us / 1000000, (us % 1000000) * 1000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static int move(item *it, int from, int to)
{
    return __atomic_compare_exchange_n(&it->state, &from, to, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static const char *state_name(int s)
{
    static const char *const names[] = { "new", "queued", "decoding", "awaiting", "answering", "ended", "refused" };
    return s >= 0 && s <= ST_REFUSED ? names[s] : "?";
}

/* A hook found the item in a state it may not be in: DSS called one hook too many. */
static void violation(item *it, const char *hook)
{
    utility *u = it->u;
    int s = __atomic_load_n(&it->state, __ATOMIC_ACQUIRE);
    count(u, s == ST_REFUSED ? C_REFUSED_HOOKED : C_VIOLATIONS);
    pthread_mutex_lock(&u->lock);
    if (u->first_violation[0] == '\0')
        snprintf(u->first_violation, sizeof u->first_violation, "%s on item %d (%s/%s) in state %s",
                 hook, it->tag, mode_names[it->dmode], mode_names[it->rmode], state_name(s));
    pthread_mutex_unlock(&u->lock);
}

/* The item's delivery is over, the way `how` says. */
static void end(item *it, int from, int how)
{
    if (!move(it, from, ST_ENDED)) {
        violation(it, "end");
        return;
    }
    count(it->u, C_ENDED);
    count(it->u, how);
}

static item *new_item(utility *u, int blocking, int dmode, int rmode, int n)
{
    item *it = calloc(1, sizeof *it);
    if (it == NULL)
        return NULL;
    it->u = u;
    it->tag = __atomic_add_fetch(&u->next_tag, 1, __ATOMIC_ACQ_REL);
    it->blocking = blocking;
    it->dmode = dmode;
    it->rmode = rmode;
    it->n = n;
    it->state = ST_NEW;
    pthread_mutex_lock(&u->lock);
    it->next = u->items;
    u->items = it;
    pthread_mutex_unlock(&u->lock);
    return it;
}

static int fu_decode(lua_State *L, void *pData, void *utilid);
static int fu_ret(lua_State *L, void *pData, void *utilid, int garbage);

/* Any thread. Hands the item to DSS (blocking ones wait here) and books the outcome. */
static int deliver_item(utility *u, item *it, void *utilid)
{
    __atomic_store_n(&it->state, ST_QUEUED, __ATOMIC_RELEASE); /* before: a hook may run at once */
    int rc = api->deliver(utilid, fu_decode, it->blocking ? fu_ret : NULL, it);
    if (dss_delivered(rc)) {
        count(u, C_ACCEPTED);
        if (it->blocking) {
            count(u, C_BLOCKING);
            count(u, C_RELEASED);
            if (__atomic_load_n(&it->state, __ATOMIC_ACQUIRE) != ST_ENDED)
                count(u, C_EARLY); /* released while its delivery was still going on */
        }
    } else {
        if (!move(it, ST_QUEUED, ST_REFUSED))
            count(u, C_REFUSED_HOOKED); /* refused, yet a hook saw it */
        count(u, C_REFUSED);
    }
    return rc;
}

/* ---- hook actions shared by decode and ret ---------------------------------------- */

/* Lua thread, inside a "race" hook: wait until the worker of u:race() is about to unreg,
   give it time to be inside unreg, then unreg as well. Bounded waits: a worker that never
   comes cannot hang the test. */
static void race_in_hook(utility *u)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&u->sync);
    u->in_hook = 1;
    pthread_cond_broadcast(&u->changed);
    while (!u->worker_go && pthread_cond_timedwait(&u->changed, &u->sync, &deadline) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&u->sync);
    sleep_ms(100); /* the worker is inside unreg now, waiting for this hook or not */
    __atomic_store_n(&u->hook_unreg_rc, api->unreg(u->utilid), __ATOMIC_RELEASE);
}

static void *race_worker(void *arg)
{
    utility *u = arg;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&u->sync);
    while (!u->in_hook && pthread_cond_timedwait(&u->changed, &u->sync, &deadline) != ETIMEDOUT) {
    }
    u->worker_go = 1;
    pthread_cond_broadcast(&u->changed);
    pthread_mutex_unlock(&u->sync);
    __atomic_store_n(&u->worker_unreg_rc, api->unreg(u->utilid), __ATOMIC_RELEASE);
    __atomic_fetch_sub(&u->running, 1, __ATOMIC_ACQ_REL);
    return NULL;
}

/* Lua thread: the things a misbehaving hook does before it pushes its values. */
static void act(lua_State *L, utility *u, int mode)
{
    switch (mode) {
    case M_UNREG: {
        int rc = api->unreg(u->utilid);
        __atomic_store_n(&u->hook_unreg_rc, rc, __ATOMIC_RELEASE);
        count(u, rc == DSS_SUCCESS ? C_UNREG_SUCCESS : rc == DSS_ERR_INVALID_UTILID ? C_UNREG_INVALID : C_UNREG_OTHER);
        break;
    }
    case M_DELIVER: {
        item *extra = new_item(u, 0, M_OK, M_OK, 0);
        int rc = extra == NULL ? DSS_ERR_OUT_OF_MEMORY : deliver_item(u, extra, u->utilid);
        __atomic_store_n(&u->decode_deliver_rc, rc, __ATOMIC_RELEASE);
        break;
    }
    case M_STOP:
        lua_rawgeti(L, LUA_REGISTRYINDEX, u->stopper_ref);
        u->stop_ok = lua_pcall(L, 0, 0, 0) == LUA_OK;
        snprintf(u->stop_msg, sizeof u->stop_msg, "%s", u->stop_ok ? "" : lua_tostring(L, -1));
        if (!u->stop_ok)
            lua_pop(L, 1);
        break;
    case M_GC:
        lua_gc(L, LUA_GCCOLLECT, 0);
        break;
    case M_RACE:
        race_in_hook(u);
        break;
    default:
        break;
    }
}

/* ---- the hooks --------------------------------------------------------------------- */

static int fu_decode(lua_State *L, void *pData, void *utilid)
{
    item *it = pData;
    utility *u = it->u;
    if (utilid != u->utilid)
        violation(it, "decode with another utilid");
    if (L == NULL) {
        if (!move(it, ST_QUEUED, ST_ENDED)) {
            violation(it, "decode(NULL)");
            return 0;
        }
        count(u, C_ENDED);
        count(u, C_DECODE_NULL);
        return 0;
    }
    if (!move(it, ST_QUEUED, ST_DECODING)) {
        violation(it, "decode");
        return 0;
    }
    count(u, C_DECODED);
    act(L, u, it->dmode);
    int pushed = 2, returned = 2;
    switch (it->dmode) {
    case M_RAISE:
        end(it, ST_DECODING, C_RAISED);
        return luaL_error(L, "faulty_utility: decode raised for item %d", it->tag);
    case M_MEMERR:
        end(it, ST_DECODING, C_RAISED);
        lua_newuserdatauv(L, (size_t)1 << 62, 0);
        return 0;
    case M_ZERO:
        end(it, ST_DECODING, C_TAKEN);
        return 0;
    case M_MANY:
        if (!lua_checkstack(L, it->n + 1)) {
            end(it, ST_DECODING, C_TAKEN);
            return 0;
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, u->callback_ref);
        for (int i = 1; i <= it->n; i++)
            lua_pushinteger(L, i);
        pushed = returned = it->n + 1;
        break;
    case M_NOTFUNCTION:
        lua_pushinteger(L, 42);
        lua_pushinteger(L, it->tag);
        break;
    case M_UNDERCOUNT:
        lua_pushliteral(L, "junk");
        lua_rawgeti(L, LUA_REGISTRYINDEX, u->callback_ref);
        lua_pushinteger(L, it->tag);
        break;
    default:
        lua_rawgeti(L, LUA_REGISTRYINDEX, u->callback_ref);
        lua_pushinteger(L, it->tag);
        break;
    }
    if (it->dmode == M_OVERCOUNT)
        returned = 5;
    else if (it->dmode == M_NEGATIVE)
        returned = -1, pushed = 0;
    if (pushed == 0 || !it->blocking)
        end(it, ST_DECODING, C_TAKEN);      /* DSS needs nothing more of this pData */
    else if (!move(it, ST_DECODING, ST_AWAITING))
        violation(it, "decode's end");
    return returned;
}

static int fu_ret(lua_State *L, void *pData, void *utilid, int garbage)
{
    item *it = pData;
    utility *u = it->u;
    if (utilid != u->utilid)
        violation(it, "ret with another utilid");
    if (L == NULL) {
        if (!move(it, ST_AWAITING, ST_ENDED)) {
            violation(it, "ret(NULL)");
            return 0;
        }
        count(u, C_ENDED);
        count(u, C_RET_NULL);
        return 0;
    }
    if (!move(it, ST_AWAITING, ST_ANSWERING)) {
        violation(it, garbage ? "ret(garbage)" : "ret");
        return 0;
    }
    if (it->rmode == M_RAISE) {
        end(it, ST_ANSWERING, C_RAISED);
        return luaL_error(L, "faulty_utility: ret raised for item %d", it->tag);
    }
    if (it->rmode == M_MEMERR) {
        end(it, ST_ANSWERING, C_RAISED);
        lua_newuserdatauv(L, (size_t)1 << 62, 0);
        return 0;
    }
    if (garbage) {
        end(it, ST_ANSWERING, C_GARBAGE);
        return 0;
    }
    act(L, u, it->rmode);
    end(it, ST_ANSWERING, C_ANSWERED);
    lua_pushliteral(L, "answered");
    return 1;
}

static utility *find_live(void *utilid)
{
    pthread_mutex_lock(&live_lock);
    utility *u = live;
    while (u != NULL && u->utilid != utilid)
        u = u->next_live;
    pthread_mutex_unlock(&live_lock);
    return u;
}

/* stop-DSS. Any thread. BLOCK and SLEEP never come back in a test's time and touch the
   utility no more: it may be closed meanwhile. */
static void fu_cancel(void *utilid)
{
    utility *u = find_live(utilid);
    if (u == NULL) {
        __atomic_fetch_add(&stray_cancels, 1, __ATOMIC_ACQ_REL);
        return;
    }
    count(u, C_CANCELS);
    __atomic_store_n(&u->stopping, 1, __ATOMIC_RELEASE);
    switch (u->cancel_mode) {
    case CANCEL_UNREG:
        __atomic_store_n(&u->cancel_unreg_rc, api->unreg(utilid), __ATOMIC_RELEASE);
        break;
    case CANCEL_BLOCK:
        pthread_mutex_lock(&forever_lock);
        for (;;)
            pthread_cond_wait(&forever, &forever_lock);
    case CANCEL_SLEEP:
        sleep_ms(600000);
        break;
    default:
        break;
    }
}

/* ---- pthreads ---------------------------------------------------------------------- */

typedef struct job {
    utility *u;
    int items, blocking, dmode, rmode, n, pace_us;
    int thread;
    unsigned seed;
    int steps;
    void *stale;
    int valid_unreg;
} job;

static void *producer_main(void *arg)
{
    job j = *(job *)arg;
    free(arg);
    utility *u = j.u;
    for (int i = 0; i < j.items && !__atomic_load_n(&u->stopping, __ATOMIC_ACQUIRE); i++) {
        item *it = new_item(u, j.blocking, j.dmode, j.rmode, j.n);
        if (it == NULL || !dss_delivered(deliver_item(u, it, u->utilid)))
            break;
        if (j.pace_us > 0)
            sleep_us(j.pace_us);
    }
    __atomic_fetch_sub(&u->running, 1, __ATOMIC_ACQ_REL);
    return NULL;
}

static void *unreg_main(void *arg)
{
    utility *u = arg;
    pthread_barrier_wait(&u->barrier);
    int rc = api->unreg(u->utilid);
    count(u, rc == DSS_SUCCESS ? C_UNREG_SUCCESS : rc == DSS_ERR_INVALID_UTILID ? C_UNREG_INVALID : C_UNREG_OTHER);
    __atomic_fetch_sub(&u->running, 1, __ATOMIC_ACQ_REL);
    return NULL;
}

static unsigned next_random(unsigned *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void wrong(utility *u, const job *j, int step, const char *call, int rc)
{
    count(u, C_WRONG);
    pthread_mutex_lock(&u->lock);
    if (u->first_wrong[0] == '\0')
        snprintf(u->first_wrong, sizeof u->first_wrong, "thread %d step %d: %s returned %s (%d)",
                 j->thread, step, call, dss_statusname(rc), rc);
    pthread_mutex_unlock(&u->lock);
}

static int refusal(int rc) { return rc == DSS_ERR_INVALID_UTILID || rc == DSS_ERR_NOT_STARTED; }

/* A seeded random sequence of C ABI calls. Once a delivery with the valid utilid was
   refused (unregistered, or DSS stopped), no later one may be accepted: old utilids stay
   invalid. Bogus utilids are large numbers, never a utilid DSS handed out. */
static void *fuzz_main(void *arg)
{
    job j = *(job *)arg;
    free(arg);
    utility *u = j.u;
    unsigned s = j.seed * 2654435761u + (unsigned)j.thread * 40503u + 1u;
    int refused_seen = 0;
    for (int step = 0; step < j.steps; step++) {
        unsigned r = next_random(&s);
        void *bogus = (void *)(uintptr_t)(((uint64_t)next_random(&s) << 24) | 0x10000000000ull);
        count(u, C_FUZZ_CALLS);
        int op = (int)(r % 11);
        if (op == 10 && (r % 997 != 0 || !j.valid_unreg))
            op = 0; /* unreg of the valid utilid: rare, or never */
        if (j.pace_us > 0)
            sleep_us(j.pace_us);
        item *it = NULL;
        int rc;
        switch (op) {
        case 0:
        case 1:
            it = new_item(u, op == 1, M_OK, M_OK, 0);
            if (it == NULL)
                break;
            rc = deliver_item(u, it, u->utilid);
            if (dss_delivered(rc)) {
                if (refused_seen)
                    wrong(u, &j, step, "deliver(utilid) after a refusal", rc);
            } else if (refusal(rc)) {
                refused_seen = 1;
            } else {
                wrong(u, &j, step, "deliver(utilid)", rc);
            }
            break;
        case 2:
        case 3:
        case 4: {
            void *id = op == 2 ? NULL : op == 3 ? bogus : j.stale;
            it = new_item(u, (int)(r >> 8) & 1, M_OK, M_OK, 0);
            if (it == NULL)
                break;
            rc = deliver_item(u, it, id);
            if (op == 4 ? !refusal(rc) : rc != DSS_ERR_INVALID_UTILID)
                wrong(u, &j, step, op == 2 ? "deliver(NULL)" : op == 3 ? "deliver(bogus)" : "deliver(stale)", rc);
            break;
        }
        case 5:
            rc = api->deliver(u->utilid, NULL, NULL, NULL);
            if (rc != DSS_ERR_NO_DECODE_PROVIDED && !refusal(rc))
                wrong(u, &j, step, "deliver(utilid, decode NULL)", rc);
            break;
        case 6:
            rc = api->deliver(NULL, NULL, fu_ret, NULL);
            if (rc != DSS_ERR_INVALID_UTILID && rc != DSS_ERR_NO_DECODE_PROVIDED)
                wrong(u, &j, step, "deliver(NULL, decode NULL)", rc);
            break;
        case 7:
            if ((rc = api->unreg(NULL)) != DSS_ERR_INVALID_UTILID)
                wrong(u, &j, step, "unreg(NULL)", rc);
            break;
        case 8:
            if ((rc = api->unreg(bogus)) != DSS_ERR_INVALID_UTILID)
                wrong(u, &j, step, "unreg(bogus)", rc);
            break;
        case 9:
            if ((rc = api->unreg(j.stale)) != DSS_ERR_INVALID_UTILID)
                wrong(u, &j, step, "unreg(stale)", rc);
            break;
        default:
            rc = api->unreg(u->utilid);
            count(u, rc == DSS_SUCCESS ? C_UNREG_SUCCESS : rc == DSS_ERR_INVALID_UTILID ? C_UNREG_INVALID : C_UNREG_OTHER);
            break;
        }
    }
    __atomic_fetch_sub(&u->running, 1, __ATOMIC_ACQ_REL);
    return NULL;
}

/* ---- Lua side ---------------------------------------------------------------------- */

static utility *check_utility(lua_State *L)
{
    utility **slot = luaL_checkudata(L, 1, UTILITY_MT);
    luaL_argcheck(L, *slot != NULL, 1, "faulty_utility is closed");
    return *slot;
}

static void start_thread(lua_State *L, utility *u, void *(*main)(void *), void *arg)
{
    if (u->nthreads == u->capacity) {
        int capacity = u->capacity == 0 ? 16 : u->capacity * 2;
        pthread_t *grown = realloc(u->threads, sizeof *grown * (size_t)capacity);
        if (grown == NULL) {
            free(arg);
            luaL_error(L, "faulty_utility: out of memory");
        }
        u->threads = grown;
        u->capacity = capacity;
    }
    __atomic_fetch_add(&u->running, 1, __ATOMIC_ACQ_REL);
    if (pthread_create(&u->threads[u->nthreads], NULL, main, arg) != 0) {
        __atomic_fetch_sub(&u->running, 1, __ATOMIC_ACQ_REL);
        if (arg != u)
            free(arg);
        luaL_error(L, "faulty_utility: cannot start a thread");
    }
    u->nthreads++;
}

static job *new_job(lua_State *L, utility *u)
{
    job *j = calloc(1, sizeof *j);
    if (j == NULL)
        luaL_error(L, "faulty_utility: out of memory");
    j->u = u;
    return j;
}

static void find_api(lua_State *L)
{
    int code;
    const dss_api_1v0 *found = dss_findapi(L, &code);
    if (found == NULL && api == NULL)
        luaL_error(L, "faulty_utility: no DSS API 1v0 in the registry; require 'darksidesync' first");
    if (found != NULL)
        api = found;
}

static int l_new(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    find_api(L);
    lua_getfield(L, 1, "callback");
    luaL_argcheck(L, lua_isfunction(L, -1), 1, "callback must be a function");
    lua_getfield(L, 1, "cancel");
    int cancel_mode = luaL_checkoption(L, -1, "unreg", cancel_names);
    lua_getfield(L, 1, "report");
    int report = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, 1, "stopper");

    utility **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, UTILITY_MT);
    utility *u = calloc(1, sizeof *u);
    if (u == NULL)
        return luaL_error(L, "faulty_utility: out of memory");
    u->cancel_mode = cancel_mode;
    u->report = report;
    u->hook_unreg_rc = u->worker_unreg_rc = u->decode_deliver_rc = u->cancel_unreg_rc = NO_RC;
    u->stop_ok = -1;
    pthread_mutex_init(&u->lock, NULL);
    pthread_mutex_init(&u->sync, NULL);
    pthread_cond_init(&u->changed, NULL);

    int code = DSS_SUCCESS;
    pthread_mutex_lock(&live_lock); /* a cancel may come before reg returns: find u by then */
    u->utilid = api->reg(L, u, fu_cancel, &code);
    if (u->utilid != NULL && code == DSS_SUCCESS) {
        u->next_live = live;
        live = u;
    }
    pthread_mutex_unlock(&live_lock);
    if (u->utilid == NULL || code != DSS_SUCCESS) {
        free(u);
        lua_pushnil(L);
        lua_pushstring(L, dss_statusname(code));
        return 2;
    }
    lua_pushvalue(L, -4);
    u->callback_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, -2);
    u->stopper_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    *slot = u;
    return 1;
}

static int opt_mode(lua_State *L, int arg)
{
    return luaL_checkoption(L, arg, "ok", mode_names);
}

static int l_deliver(lua_State *L)
{
    utility *u = check_utility(L);
    item *it = new_item(u, 0, opt_mode(L, 2), M_OK, (int)luaL_optinteger(L, 3, 0));
    if (it == NULL)
        return luaL_error(L, "faulty_utility: out of memory");
    int rc = deliver_item(u, it, u->utilid);
    lua_pushinteger(L, it->tag);
    lua_pushstring(L, dss_statusname(rc));
    return 2;
}

static int l_ask(lua_State *L)
{
    utility *u = check_utility(L);
    job *j = new_job(L, u);
    j->items = 1;
    j->blocking = 1;
    j->dmode = opt_mode(L, 2);
    j->rmode = opt_mode(L, 3);
    j->n = (int)luaL_optinteger(L, 4, 0);
    start_thread(L, u, producer_main, j);
    return 0;
}

static int field_int(lua_State *L, const char *key, int def)
{
    lua_getfield(L, 2, key);
    int v = (int)luaL_optinteger(L, -1, def);
    lua_pop(L, 1);
    return v;
}

static int field_mode(lua_State *L, const char *key)
{
    lua_getfield(L, 2, key);
    int v = luaL_checkoption(L, -1, "ok", mode_names);
    lua_pop(L, 1);
    return v;
}

static int l_produce(lua_State *L)
{
    utility *u = check_utility(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    int threads = field_int(L, "threads", 1);
    lua_getfield(L, 2, "blocking");
    int blocking = lua_toboolean(L, -1);
    lua_pop(L, 1);
    for (int t = 0; t < threads; t++) {
        job *j = new_job(L, u);
        j->items = field_int(L, "items", 1);
        j->blocking = blocking;
        j->dmode = field_mode(L, "mode");
        j->rmode = field_mode(L, "retmode");
        j->n = field_int(L, "n", 0);
        j->pace_us = field_int(L, "pace_us", 0);
        start_thread(L, u, producer_main, j);
    }
    return 0;
}

static int l_race(lua_State *L)
{
    utility *u = check_utility(L);
    start_thread(L, u, race_worker, u);
    return 0;
}

static int l_unregmany(lua_State *L)
{
    utility *u = check_utility(L);
    int k = (int)luaL_checkinteger(L, 2);
    luaL_argcheck(L, k >= 1 && k <= 256 && !u->barrier_ready, 2, "1..256 threads, once");
    pthread_barrier_init(&u->barrier, NULL, (unsigned)k);
    u->barrier_ready = 1;
    for (int i = 0; i < k; i++)
        start_thread(L, u, unreg_main, u);
    return 0;
}

static int l_fuzz(lua_State *L)
{
    utility *u = check_utility(L);
    unsigned seed = (unsigned)luaL_checkinteger(L, 2);
    int threads = (int)luaL_checkinteger(L, 3);
    int steps = (int)luaL_checkinteger(L, 4);
    void *stale = lua_touserdata(L, 5);
    int pace_us = (int)luaL_optinteger(L, 6, 0);
    int valid_unreg = lua_isnoneornil(L, 7) || lua_toboolean(L, 7);
    for (int t = 1; t <= threads; t++) {
        job *j = new_job(L, u);
        j->thread = t;
        j->seed = seed;
        j->steps = steps;
        j->stale = stale;
        j->pace_us = pace_us;
        j->valid_unreg = valid_unreg;
        start_thread(L, u, fuzz_main, j);
    }
    return 0;
}

static int l_unregister(lua_State *L)
{
    lua_pushstring(L, dss_statusname(api->unreg(check_utility(L)->utilid)));
    return 1;
}

static void join_all(utility *u)
{
    for (int i = 0; i < u->nthreads; i++)
        pthread_join(u->threads[i], NULL);
    u->nthreads = 0;
}

static int l_join(lua_State *L)
{
    join_all(check_utility(L));
    return 0;
}

static int l_running(lua_State *L)
{
    lua_pushinteger(L, __atomic_load_n(&check_utility(L)->running, __ATOMIC_ACQUIRE));
    return 1;
}

static int l_utilid(lua_State *L)
{
    lua_pushlightuserdata(L, check_utility(L)->utilid);
    return 1;
}

static void set_status(lua_State *L, const char *key, int rc)
{
    if (rc == NO_RC)
        lua_pushnil(L);
    else
        lua_pushstring(L, dss_statusname(rc));
    lua_setfield(L, -2, key);
}

static int l_stats(lua_State *L)
{
    utility *u = check_utility(L);
    lua_createtable(L, 0, C_COUNT + 8);
    for (int c = 0; c < C_COUNT; c++) {
        lua_pushinteger(L, counted(u, c));
        lua_setfield(L, -2, counter_names[c]);
    }
    set_status(L, "hook_unreg", __atomic_load_n(&u->hook_unreg_rc, __ATOMIC_ACQUIRE));
    set_status(L, "worker_unreg", __atomic_load_n(&u->worker_unreg_rc, __ATOMIC_ACQUIRE));
    set_status(L, "decode_deliver", __atomic_load_n(&u->decode_deliver_rc, __ATOMIC_ACQUIRE));
    set_status(L, "cancel_unreg", __atomic_load_n(&u->cancel_unreg_rc, __ATOMIC_ACQUIRE));
    if (u->stop_ok >= 0) {
        lua_pushboolean(L, u->stop_ok);
        lua_setfield(L, -2, "stop_ok");
        lua_pushstring(L, u->stop_msg);
        lua_setfield(L, -2, "stop_msg");
    }
    pthread_mutex_lock(&u->lock);
    lua_pushstring(L, u->first_violation);
    lua_setfield(L, -2, "first_violation");
    lua_pushstring(L, u->first_wrong);
    lua_setfield(L, -2, "first_wrong");
    pthread_mutex_unlock(&u->lock);
    lua_pushinteger(L, __atomic_load_n(&u->running, __ATOMIC_ACQUIRE));
    lua_setfield(L, -2, "running");
    return 1;
}

/* "ok", or what is wrong with the exactly-once invariants. Call when the utility's
   threads were joined and nothing is outstanding (after unreg or stop). */
static int check_result(lua_State *L, utility *u)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    long accepted = counted(u, C_ACCEPTED), ended = counted(u, C_ENDED);
    long kinds = counted(u, C_TAKEN) + counted(u, C_ANSWERED) + counted(u, C_GARBAGE) +
                 counted(u, C_DECODE_NULL) + counted(u, C_RET_NULL) + counted(u, C_RAISED);
    char line[400];
    if (ended != accepted) {
        snprintf(line, sizeof line, "%ld accepted but %ld ended; ", accepted, ended);
        luaL_addstring(&b, line);
    }
    if (kinds != ended) {
        snprintf(line, sizeof line, "%ld ended but %ld outcomes; ", ended, kinds);
        luaL_addstring(&b, line);
    }
    if (counted(u, C_RELEASED) != counted(u, C_BLOCKING)) {
        snprintf(line, sizeof line, "%ld blocking accepted but %ld released; ", counted(u, C_BLOCKING), counted(u, C_RELEASED));
        luaL_addstring(&b, line);
    }
    if (counted(u, C_EARLY) != 0) {
        snprintf(line, sizeof line, "%ld producers released before their delivery ended; ", counted(u, C_EARLY));
        luaL_addstring(&b, line);
    }
    if (counted(u, C_VIOLATIONS) != 0 || counted(u, C_REFUSED_HOOKED) != 0) {
        pthread_mutex_lock(&u->lock);
        snprintf(line, sizeof line, "%ld hook calls too many, %ld on refused items (first: %s); ",
                 counted(u, C_VIOLATIONS), counted(u, C_REFUSED_HOOKED), u->first_violation);
        pthread_mutex_unlock(&u->lock);
        luaL_addstring(&b, line);
    }
    if (counted(u, C_WRONG) != 0) {
        pthread_mutex_lock(&u->lock);
        snprintf(line, sizeof line, "%ld wrong status codes (first: %s); ", counted(u, C_WRONG), u->first_wrong);
        pthread_mutex_unlock(&u->lock);
        luaL_addstring(&b, line);
    }
    luaL_pushresult(&b);
    if (lua_rawlen(L, -1) == 0) {
        lua_pop(L, 1);
        lua_pushliteral(L, "ok");
    }
    return 1;
}

static int l_check(lua_State *L)
{
    return check_result(L, check_utility(L));
}

/* Unregisters (INVALID_UTILID when DSS or the utility already did), joins, frees the
   items. The struct itself stays: a cancel that never returns may still hold it. */
static int l_close(lua_State *L)
{
    utility **slot = luaL_checkudata(L, 1, UTILITY_MT);
    utility *u = *slot;
    if (u == NULL)
        return 0;
    *slot = NULL;
    __atomic_store_n(&u->stopping, 1, __ATOMIC_RELEASE);
    api->unreg(u->utilid);
    join_all(u);
    if (u->report) {
        check_result(L, u);
        printf("closed: %s (accepted %ld, cancels %ld)\n", lua_tostring(L, -1), counted(u, C_ACCEPTED), counted(u, C_CANCELS));
        fflush(stdout);
        lua_pop(L, 1);
    }
    pthread_mutex_lock(&live_lock);
    for (utility **p = &live; *p != NULL; p = &(*p)->next_live) {
        if (*p == u) {
            *p = u->next_live;
            break;
        }
    }
    pthread_mutex_unlock(&live_lock);
    pthread_mutex_lock(&u->lock);
    for (item *it = u->items, *next; it != NULL; it = next) {
        next = it->next;
        free(it);
    }
    u->items = NULL;
    pthread_mutex_unlock(&u->lock);
    luaL_unref(L, LUA_REGISTRYINDEX, u->callback_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, u->stopper_ref);
    return 0;
}

/* ---- C ABI calls from the Lua thread with the API pointer cached earlier ------------ */

static void no_cancel(void *utilid) { (void)utilid; }

static void push_reg_result(lua_State *L, void *utilid, int code)
{
    lua_pushstring(L, dss_statusname(code));
    lua_pushboolean(L, utilid != NULL);
}

/* api->reg(L, a library of its own): status, utilid ~= NULL. */
static int l_apireg(lua_State *L)
{
    find_api(L);
    int code = 0;
    void *utilid = api->reg(L, &probe_libid, no_cancel, &code);
    push_reg_result(L, utilid, code);
    return 2;
}

/* api->getutilid(L, u's libid or fu.apireg's): status, utilid ~= NULL. */
static int l_apigetutilid(lua_State *L)
{
    find_api(L);
    void *libid = &probe_libid;
    if (!lua_isnoneornil(L, 1)) {
        utility **slot = luaL_checkudata(L, 1, UTILITY_MT);
        libid = *slot;
    }
    int code = 0;
    void *utilid = api->getutilid(L, libid, &code);
    push_reg_result(L, utilid, code);
    return 2;
}

/* The header's dss_register and dss_getutilid for faulty_lib: two statuses. */
static int l_headerreg(lua_State *L)
{
    find_api(L);
    if (DSS_AUX_LOAD_(&faulty_lib.api) == NULL)
        faulty_lib.api = api; /* as if it had registered before */
    int code = 0, code2 = 0;
    dss_register(L, &faulty_lib, no_cancel, &code);
    dss_getutilid(L, &faulty_lib, &code2);
    lua_pushstring(L, dss_statusname(code));
    lua_pushstring(L, dss_statusname(code2));
    return 2;
}

/* reg without a cancel function. */
static int l_nocancel(lua_State *L)
{
    find_api(L);
    int code = 0;
    void *utilid = api->reg(L, &probe_libid + 1, NULL, &code);
    push_reg_result(L, utilid, code);
    return 2;
}

/* reg and getutilid in a fresh Lua state that never loaded DSS: two statuses. */
static int l_freshstate(lua_State *L)
{
    find_api(L);
    lua_State *other = luaL_newstate();
    if (other == NULL)
        return luaL_error(L, "faulty_utility: no memory for a state");
    int code = 0, code2 = 0;
    api->reg(other, &probe_libid, no_cancel, &code);
    api->getutilid(other, &probe_libid, &code2);
    lua_close(other);
    lua_pushstring(L, dss_statusname(code));
    lua_pushstring(L, dss_statusname(code2));
    return 2;
}

static int l_strays(lua_State *L)
{
    lua_pushinteger(L, __atomic_load_n(&stray_cancels, __ATOMIC_ACQUIRE));
    return 1;
}

int luaopen_faulty_utility(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "deliver", l_deliver }, { "ask", l_ask }, { "produce", l_produce }, { "race", l_race },
        { "unregmany", l_unregmany }, { "fuzz", l_fuzz }, { "unregister", l_unregister },
        { "join", l_join }, { "running", l_running }, { "utilid", l_utilid }, { "stats", l_stats },
        { "check", l_check }, { "close", l_close }, { NULL, NULL } };
    if (luaL_newmetatable(L, UTILITY_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {
        { "new", l_new }, { "apireg", l_apireg }, { "apigetutilid", l_apigetutilid },
        { "headerreg", l_headerreg }, { "nocancel", l_nocancel }, { "freshstate", l_freshstate },
        { "strays", l_strays }, { NULL, NULL } };
    luaL_newlib(L, fns);
    return 1;
}
