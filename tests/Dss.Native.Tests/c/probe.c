/*
 * probe.c -- csample_probe, a test-only DSS utility for the *CSampleSpec specs. It
 * shows two things dss_producer's counters cannot: what Lua answered, as the blocked C
 * thread itself sees it, and the ORDER in which DSS calls decode/return with L == NULL.
 *
 *   local probe = require "csample_probe"
 *   local p = probe.new(callback, "unreg" | "ignore")  -- registers; cancel unregisters or not
 *   p:ask(threads, items)  -- pthreads deliver blocking items; decode pushes callback, v
 *                          -- (v = thread * 1000000 + item); ret keeps Lua's first answer,
 *                          -- and the released thread counts it right when it is 2 * v
 *   p:block()              -- one pthread, one blocking item; returns its tag (1, 2, ...)
 *   p:deliver()            -- one non-blocking item from the Lua thread; returns tag, code
 *                          -- (decode pushes callback, tag)
 *   p:unregister()         -- DSS's code
 *   p:join()               -- joins the threads: { right, wrong, cancelled, garbage, refused }
 *   p:log()                -- "ret 1, decode 3, ...": the calls with L == NULL, in call order
 *   probe.cancels()        -- how often DSS called cancel
 *
 * One probe per Lua state (one registration per state and library). Like the samples, its
 * __gc unregisters, then joins its threads, then frees: after unreg returns no hook runs and
 * no thread of the probe is blocked in deliver.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lua.h>
#include "darksidesync_api.h"

DSS_LIB_DEFINE(probe_lib, "csample_probe");

#define PROBE_MT "csample_probe"
#define MAX_THREADS 64
#define MAX_LOG 64

enum outcome { PENDING, ANSWERED, GARBAGE, CANCELLED, DECODED };

typedef struct probe {
    void *utilid;
    int callback_ref;               /* Lua thread only */
    int next_tag;                   /* Lua thread only */
    pthread_t threads[MAX_THREADS]; /* started, not joined; Lua thread only */
    int nthreads;
    long right, wrong, cancelled, garbage, refused; /* atomic: written by the threads */
    pthread_mutex_t log_lock;       /* guards the log: hooks with L == NULL run on any thread */
    struct { char kind; int tag; } log[MAX_LOG];
    int log_len;
} probe;

/* One delivery. Blocking: on the stack of the thread waiting in deliver. Non-blocking:
   malloc'd, freed by decode. */
typedef struct item {
    probe *owner;
    int tag;
    int blocking;
    lua_Integer value;
    lua_Integer answer;             /* what ret found as Lua's first answer */
    int outcome;                    /* written by the hooks, read by the released thread */
} item;

typedef struct job {
    probe *owner;
    int items;
    int tag;
    lua_Integer base;
} job;

static int cancel_mode_ignore;      /* process-wide: set by probe.new on the Lua thread */
static long cancel_calls;

static void note(probe *p, char kind, int tag)
{
    pthread_mutex_lock(&p->log_lock);
    if (p->log_len < MAX_LOG) {
        p->log[p->log_len].kind = kind;
        p->log[p->log_len].tag = tag;
        p->log_len++;
    }
    pthread_mutex_unlock(&p->log_lock);
}

static int probe_decode(lua_State *L, void *pData, void *utilid)
{
    item *it = pData;
    (void)utilid;
    if (L == NULL) {
        note(it->owner, 'd', it->tag);
        it->outcome = CANCELLED;
        if (!it->blocking)
            free(it);
        return 0;
    }
    if (!lua_checkstack(L, 2)) {
        it->outcome = DECODED;
        if (!it->blocking)
            free(it);
        return 0;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, it->owner->callback_ref);
    lua_pushinteger(L, it->blocking ? it->value : it->tag);
    if (!it->blocking)
        free(it);
    return 2;
}

static int probe_return(lua_State *L, void *pData, void *utilid, int garbage)
{
    item *it = pData;
    (void)utilid;
    if (L == NULL) {
        note(it->owner, 'r', it->tag);
        it->outcome = CANCELLED;
        return 0;
    }
    if (garbage) {
        it->outcome = GARBAGE;
        return 0;
    }
    it->answer = lua_gettop(L) >= 1 ? lua_tointeger(L, 1) : 0;
    it->outcome = ANSWERED;
    return 0;
}

/* stop-DSS, any thread. Touches nothing but statics and DSS. */
static void probe_cancel(void *utilid)
{
    __atomic_fetch_add(&cancel_calls, 1, __ATOMIC_RELAXED);
    if (!__atomic_load_n(&cancel_mode_ignore, __ATOMIC_ACQUIRE))
        dss_unregister(&probe_lib, utilid);
}

static void *thread_main(void *arg)
{
    job j = *(job *)arg;
    free(arg);
    probe *p = j.owner;
    for (int i = 1; i <= j.items; i++) {
        item it = { p, j.tag, 1, j.base + i, 0, PENDING };
        int rc = dss_deliver(&probe_lib, p->utilid, probe_decode, probe_return, &it);
        long *counter;
        if (!dss_delivered(rc))
            counter = &p->refused;
        else if (it.outcome == ANSWERED)
            counter = it.answer == 2 * it.value ? &p->right : &p->wrong;
        else if (it.outcome == CANCELLED)
            counter = &p->cancelled;
        else if (it.outcome == GARBAGE)
            counter = &p->garbage;
        else
            counter = &p->wrong; /* released with no hook having seen the item */
        __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
        if (counter == &p->refused)
            break;
    }
    return NULL;
}

static probe *check_probe(lua_State *L)
{
    probe **slot = luaL_checkudata(L, 1, PROBE_MT);
    luaL_argcheck(L, *slot != NULL, 1, "probe is closed");
    return *slot;
}

static void start_job(lua_State *L, probe *p, int items, int tag, lua_Integer base)
{
    if (p->nthreads == MAX_THREADS)
        luaL_error(L, "csample_probe: more than %d threads", MAX_THREADS);
    job *j = malloc(sizeof *j);
    if (j == NULL)
        luaL_error(L, "csample_probe: out of memory");
    *j = (job){ p, items, tag, base };
    if (pthread_create(&p->threads[p->nthreads], NULL, thread_main, j) != 0) {
        free(j);
        luaL_error(L, "csample_probe: cannot start a thread");
    }
    p->nthreads++;
}

static int l_new(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    static const char *const modes[] = { "unreg", "ignore", NULL };
    int ignore = luaL_checkoption(L, 2, "unreg", modes);
    probe **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, PROBE_MT);
    int code = DSS_SUCCESS;
    void *utilid = dss_register(L, &probe_lib, probe_cancel, &code);
    if (utilid == NULL || code != DSS_SUCCESS) {
        lua_pushnil(L);
        lua_pushstring(L, dss_statusname(code));
        return 2;
    }
    probe *p = calloc(1, sizeof *p);
    if (p == NULL) {
        dss_unregister(&probe_lib, utilid);
        return luaL_error(L, "csample_probe: out of memory");
    }
    __atomic_store_n(&cancel_mode_ignore, ignore, __ATOMIC_RELEASE);
    pthread_mutex_init(&p->log_lock, NULL);
    p->utilid = utilid;
    p->next_tag = 1;
    lua_pushvalue(L, 1);
    p->callback_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    *slot = p;
    return 1;
}

static int l_ask(lua_State *L)
{
    probe *p = check_probe(L);
    int threads = (int)luaL_checkinteger(L, 2);
    int items = (int)luaL_checkinteger(L, 3);
    for (int t = 1; t <= threads; t++)
        start_job(L, p, items, 0, (lua_Integer)t * 1000000);
    return 0;
}

static int l_block(lua_State *L)
{
    probe *p = check_probe(L);
    int tag = p->next_tag++;
    start_job(L, p, 1, tag, (lua_Integer)tag * 1000000);
    lua_pushinteger(L, tag);
    return 1;
}

static int l_deliver(lua_State *L)
{
    probe *p = check_probe(L);
    item *it = malloc(sizeof *it);
    if (it == NULL)
        return luaL_error(L, "csample_probe: out of memory");
    int tag = p->next_tag++;
    *it = (item){ p, tag, 0, 0, 0, PENDING };
    int rc = dss_deliver(&probe_lib, p->utilid, probe_decode, NULL, it);
    if (!dss_delivered(rc))
        free(it);
    lua_pushinteger(L, tag);
    lua_pushstring(L, dss_statusname(rc));
    return 2;
}

static int l_unregister(lua_State *L)
{
    lua_pushstring(L, dss_statusname(dss_unregister(&probe_lib, check_probe(L)->utilid)));
    return 1;
}

static void join_all(probe *p)
{
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
}

static int l_join(lua_State *L)
{
    probe *p = check_probe(L);
    join_all(p);
    lua_createtable(L, 0, 5);
    static const char *const names[] = { "right", "wrong", "cancelled", "garbage", "refused" };
    long *counters[] = { &p->right, &p->wrong, &p->cancelled, &p->garbage, &p->refused };
    for (int i = 0; i < 5; i++) {
        lua_pushinteger(L, __atomic_load_n(counters[i], __ATOMIC_ACQUIRE));
        lua_setfield(L, -2, names[i]);
    }
    return 1;
}

static int l_log(lua_State *L)
{
    probe *p = check_probe(L);
    char kinds[MAX_LOG];
    int tags[MAX_LOG];
    pthread_mutex_lock(&p->log_lock);
    int n = p->log_len;
    for (int i = 0; i < n; i++) {
        kinds[i] = p->log[i].kind;
        tags[i] = p->log[i].tag;
    }
    pthread_mutex_unlock(&p->log_lock);
    /* Built outside the lock: the buffer may raise (out of memory) and must not leave it held. */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 0; i < n; i++) {
        char entry[32];
        snprintf(entry, sizeof entry, "%s%s %d", i ? ", " : "", kinds[i] == 'd' ? "decode" : "ret", tags[i]);
        luaL_addstring(&b, entry);
    }
    luaL_pushresult(&b);
    return 1;
}

static int l_gc(lua_State *L)
{
    probe **slot = luaL_checkudata(L, 1, PROBE_MT);
    probe *p = *slot;
    if (p == NULL)
        return 0;
    *slot = NULL;
    dss_unregister(&probe_lib, p->utilid); /* INVALID_UTILID when DSS or we already did */
    join_all(p);
    luaL_unref(L, LUA_REGISTRYINDEX, p->callback_ref);
    pthread_mutex_destroy(&p->log_lock);
    free(p);
    return 0;
}

static int l_cancels(lua_State *L)
{
    lua_pushinteger(L, __atomic_load_n(&cancel_calls, __ATOMIC_ACQUIRE));
    return 1;
}

int luaopen_csample_probe(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "ask", l_ask }, { "block", l_block }, { "deliver", l_deliver },
        { "unregister", l_unregister }, { "join", l_join }, { "log", l_log }, { NULL, NULL } };
    if (luaL_newmetatable(L, PROBE_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    static const luaL_Reg fns[] = { { "new", l_new }, { "cancels", l_cancels }, { NULL, NULL } };
    luaL_newlib(L, fns);
    return 1;
}
