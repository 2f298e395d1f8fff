/*
 * faulty_utility.h -- a test-only DSS utility (API 1v0) whose hooks misbehave on demand,
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
 *
 * Files: faulty_lua.c (the module, fu.new and the utility object), faulty_threads.c
 * (deliveries from the Lua thread and from pthreads), faulty_hooks.c (decode, ret, cancel),
 * faulty_ledger.c (item states and the exactly-once check), faulty_fuzz.c (the C ABI
 * fuzzer), faulty_abi.c (fu.* calls with the cached API pointer).
 * Include this header first: it sets _POSIX_C_SOURCE for the whole utility.
 */
#ifndef FAULTY_UTILITY_H
#define FAULTY_UTILITY_H

#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <lauxlib.h>
#include <lua.h>
#include "darksidesync_api.h"

/* Internal functions and variables shared between the files: not exported from the .so,
   whose only public symbol is luaopen_faulty_utility. */
#define FU_HIDDEN __attribute__((visibility("hidden")))

DSS_LIB_DECLARE(faulty_lib);

#define UTILITY_MT "faulty_utility"

enum mode {
    M_OK, M_ZERO, M_RAISE, M_MEMERR, M_MANY, M_NOTFUNCTION, M_OVERCOUNT, M_NEGATIVE,
    M_UNDERCOUNT, M_UNREG, M_DELIVER, M_STOP, M_GC, M_RACE
};
FU_HIDDEN extern const char *const fu_mode_names[];

enum cancel_mode { CANCEL_UNREG, CANCEL_IGNORE, CANCEL_BLOCK, CANCEL_SLEEP };

/* Item states; changed only by move(). */
enum state { ST_NEW, ST_QUEUED, ST_DECODING, ST_AWAITING, ST_ANSWERING, ST_ENDED, ST_REFUSED };

enum counter {
    C_ACCEPTED, C_REFUSED, C_BLOCKING, C_RELEASED, C_EARLY, C_DECODED, C_ENDED, C_TAKEN,
    C_ANSWERED, C_GARBAGE, C_DECODE_NULL, C_RET_NULL, C_RAISED, C_VIOLATIONS,
    C_REFUSED_HOOKED, C_CANCELS, C_WRONG, C_UNREG_SUCCESS, C_UNREG_INVALID, C_UNREG_OTHER,
    C_FUZZ_CALLS, C_COUNT
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
    struct utility *next_live;      /* guarded by fu_live_lock */
} utility;

/* The arguments of one pthread: a producer (items..pace_us) or a fuzzer (thread..valid_unreg). */
typedef struct job {
    utility *u;
    int items, blocking, dmode, rmode, n, pace_us;
    int thread;
    unsigned seed;
    int steps;
    void *stale;
    int valid_unreg;
} job;

/* The API the first utility found; the same struct for every state of the process. Kept
   after a stop on purpose: fu.apireg() calls it like a utility that cached it. */
FU_HIDDEN extern const dss_api_1v0 *fu_api;
FU_HIDDEN extern pthread_mutex_t fu_live_lock;
FU_HIDDEN extern utility *fu_live;         /* utilities not closed, for cancel's lookup by utilid */
FU_HIDDEN extern long fu_stray_cancels;    /* atomic: cancel for a utilid no utility has */

static inline void count(utility *u, int c) { __atomic_fetch_add(&u->counters[c], 1, __ATOMIC_ACQ_REL); }
static inline long counted(utility *u, int c) { return __atomic_load_n(&u->counters[c], __ATOMIC_ACQUIRE); }

/* Item states change only here. */
static inline int move(item *it, int from, int to)
{
    return __atomic_compare_exchange_n(&it->state, &from, to, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static inline void sleep_ms(long ms)
{
    struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static inline void sleep_us(long us)
{
    struct timespec t = { us / 1000000, (us % 1000000) * 1000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

/* faulty_ledger.c: items and the exactly-once bookkeeping */
FU_HIDDEN item *fu_new_item(utility *u, int blocking, int dmode, int rmode, int n);
FU_HIDDEN int fu_deliver_item(utility *u, item *it, void *utilid);
FU_HIDDEN void fu_violation(item *it, const char *hook);
FU_HIDDEN void fu_end(item *it, int from, int how);
FU_HIDDEN int fu_check_result(lua_State *L, utility *u);

/* faulty_hooks.c */
FU_HIDDEN int fu_decode(lua_State *L, void *pData, void *utilid);
FU_HIDDEN int fu_ret(lua_State *L, void *pData, void *utilid, int garbage);
FU_HIDDEN void fu_cancel(void *utilid);

/* faulty_threads.c */
FU_HIDDEN job *fu_new_job(lua_State *L, utility *u);
FU_HIDDEN void fu_start_thread(lua_State *L, utility *u, void *(*main)(void *), void *arg);
FU_HIDDEN void fu_join_all(utility *u);
FU_HIDDEN int fu_l_deliver(lua_State *L);
FU_HIDDEN int fu_l_ask(lua_State *L);
FU_HIDDEN int fu_l_produce(lua_State *L);
FU_HIDDEN int fu_l_race(lua_State *L);
FU_HIDDEN int fu_l_unregmany(lua_State *L);
FU_HIDDEN int fu_l_join(lua_State *L);
FU_HIDDEN int fu_l_running(lua_State *L);

/* faulty_fuzz.c */
FU_HIDDEN int fu_l_fuzz(lua_State *L);

/* faulty_abi.c */
FU_HIDDEN int fu_l_apireg(lua_State *L);
FU_HIDDEN int fu_l_apigetutilid(lua_State *L);
FU_HIDDEN int fu_l_headerreg(lua_State *L);
FU_HIDDEN int fu_l_nocancel(lua_State *L);
FU_HIDDEN int fu_l_freshstate(lua_State *L);

/* faulty_lua.c */
FU_HIDDEN void fu_find_api(lua_State *L);
FU_HIDDEN utility *fu_check_utility(lua_State *L);

#endif
