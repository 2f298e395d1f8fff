/*
 * bounded_producer: a test-only Lua C module for DSS API 1v1 (bounded queues, deliver_ex,
 * queuesize, WOULD_DEADLOCK), written with the shared header's helper (dss_deliver_ex
 * prefers 1v1 and falls back to 1v0) and pthreads .NET never sees. One registration per
 * process (the specs run one Lua state per lua5.4 process).
 *
 *   local bp = require "bounded_producer"     -- registers with darksidesync
 *   bp.callback(f)                -- decode pushes f(thread, seq) (blocking: f(cb, thread, seq))
 *   bp.flood(threads, items, timeout_ms [, api])
 *                                 -- pthreads deliver non-blocking; items < 0: until bp.halt();
 *                                 -- api "1v0": dss_deliver (the overflow policy decides)
 *   bp.ask(threads, timeout_ms [, api])  -- one blocking delivery per pthread; ret keeps Lua's answer
 *   bp.halt()                     -- the flooding threads stop after their current delivery
 *   bp.running()                  -- pthreads still running
 *   bp.join()                     -- waits for them; returns { [STATUS] = count } of their calls
 *   bp.here(blocking, timeout_ms) -- one delivery from the calling (Lua) thread; timeout nil:
 *                                 -- 1v0's deliver; returns the status name
 *   bp.inner(where)               -- "decode" | "ret": a pthread delivery whose decode (or ret)
 *                                 -- makes a blocking deliver_ex; bp.inner_status() tells its status
 *   bp.queuesize()                -- dss_queuesize
 *   bp.unregister()               -- the status name of unreg
 *   bp.stats()                    -- { decoded, decode_null, answered, ret_null, garbage,
 *                                 --   bad_endings, refused_touched }
 *
 * A blocking item (and every refused one) is checked: an accepted item must have been ended
 * by exactly one hook call (a final decode, ret, or an L == NULL call), a refused one by none.
 */
#include <lauxlib.h>
#include <lua.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "darksidesync_api.h"

DSS_LIB_DEFINE(bounded, "bounded_producer");

#define MAX_THREADS 64
#define CODES 16 /* status codes -99 .. -114 */

typedef struct item {
    int thread;
    long seq;
    int blocking;
    atomic_int endings;   /* hook calls that ended the delivery */
    long answer;          /* what ret got from Lua (blocking) */
} item;

static void *utilid;
static int callback_ref = LUA_NOREF;
static pthread_t threads[MAX_THREADS];
static int thread_count;
static atomic_int running;
static atomic_int halting;
static atomic_int statuses[CODES];
static atomic_long decoded, decode_null, answered, ret_null, garbage, bad_endings, refused_touched;
static atomic_int inner_status;

static int code_index(int code) { return code <= -99 && code > -99 - CODES ? -99 - code : -1; }

static void count_status(int code)
{
    int i = code_index(code);
    if (i >= 0)
        atomic_fetch_add(&statuses[i], 1);
}

static void ended(item *it)
{
    if (atomic_fetch_add(&it->endings, 1) != 0)
        atomic_fetch_add(&bad_endings, 1);
}

/* ---- hooks ------------------------------------------------------------------------ */

static int decode(lua_State *L, void *pData, void *u)
{
    (void)u;
    item *it = pData;
    if (L == NULL) {
        atomic_fetch_add(&decode_null, 1);
        ended(it);
        if (!it->blocking)
            free(it);
        return 0;
    }
    atomic_fetch_add(&decoded, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, callback_ref);
    lua_pushinteger(L, it->thread);
    lua_pushinteger(L, it->seq);
    if (!it->blocking) {
        ended(it);
        free(it);
    }
    return 3;
}

static int ret(lua_State *L, void *pData, void *u, int is_garbage)
{
    (void)u;
    item *it = pData;
    ended(it);
    if (L == NULL) {
        atomic_fetch_add(&ret_null, 1);
        return 0;
    }
    if (is_garbage) {
        atomic_fetch_add(&garbage, 1);
        return 0;
    }
    atomic_fetch_add(&answered, 1);
    it->answer = (long)lua_tointeger(L, 1);
    return 0;
}

/* A decode / ret that tries a blocking deliver_ex of its own: refused, never waited for. */
static int inner_decode(lua_State *L, void *pData, void *u)
{
    if (L != NULL) {
        item *probe = calloc(1, sizeof *probe);
        probe->blocking = 1;
        int code = dss_deliver_ex(&bounded, u, decode, ret, probe, 1000);
        atomic_store(&inner_status, code);
        if (!dss_delivered(code) && code != DSS_ERR_TIMED_OUT && atomic_load(&probe->endings) == 0)
            free(probe);
    }
    return decode(L, pData, u);
}

static int inner_ret(lua_State *L, void *pData, void *u, int is_garbage)
{
    if (L != NULL) {
        item *probe = calloc(1, sizeof *probe);
        probe->blocking = 1;
        int code = dss_deliver_ex(&bounded, u, decode, ret, probe, -1);
        atomic_store(&inner_status, code);
        if (!dss_delivered(code) && atomic_load(&probe->endings) == 0)
            free(probe);
    }
    return ret(L, pData, u, is_garbage);
}

static void cancel(void *u) { dss_unregister(&bounded, u); }

/* ---- producer threads --------------------------------------------------------------- */

typedef struct job {
    int thread;
    long items;      /* < 0: until halted */
    int timeout_ms;
    int blocking;
    int use_1v0;
    int inner;       /* 0, 1: inner decode, 2: inner ret */
} job;

/* One delivery; a refused item is checked untouched and freed; a blocking one is freed once its deliver returned. */
static int deliver_one(const job *j, long seq)
{
    item *it = calloc(1, sizeof *it);
    it->thread = j->thread;
    it->seq = seq;
    it->blocking = j->blocking;
    dss_decode_fn d = j->inner == 1 ? inner_decode : decode;
    dss_return_fn r = !j->blocking ? NULL : j->inner == 2 ? inner_ret : ret;
    int code = j->use_1v0 ? dss_deliver(&bounded, utilid, d, r, it)
                          : dss_deliver_ex(&bounded, utilid, d, r, it, j->timeout_ms);
    count_status(code);
    if (dss_delivered(code) || code == DSS_ERR_TIMED_OUT) {
        if (j->blocking) {
            if (atomic_load(&it->endings) != 1)
                atomic_fetch_add(&bad_endings, 1);
            /* Kept, never freed: a later call of the waitingthread_callback must not reach it,
               and if it did the ledger would see it. Few blocking items per test. */
        }
    } else {
        if (atomic_load(&it->endings) != 0)
            atomic_fetch_add(&refused_touched, 1);
        free(it);
    }
    return code;
}

static void *produce(void *arg)
{
    job *j = arg;
    for (long seq = 1; j->items < 0 || seq <= j->items; seq++) {
        if (atomic_load(&halting))
            break;
        deliver_one(j, seq);
    }
    free(j);
    atomic_fetch_sub(&running, 1);
    return NULL;
}

static int start(lua_State *L, int count, long items, int timeout_ms, int blocking, int use_1v0, int inner)
{
    if (thread_count + count > MAX_THREADS)
        return luaL_error(L, "bounded_producer: at most %d threads", MAX_THREADS);
    atomic_store(&halting, 0);
    for (int t = 0; t < count; t++) {
        job *j = calloc(1, sizeof *j);
        j->thread = thread_count + 1;
        j->items = items;
        j->timeout_ms = timeout_ms;
        j->blocking = blocking;
        j->use_1v0 = use_1v0;
        j->inner = inner;
        atomic_fetch_add(&running, 1);
        pthread_create(&threads[thread_count++], NULL, produce, j);
    }
    return 0;
}

static int is_1v0(lua_State *L, int arg)
{
    const char *api = luaL_optstring(L, arg, "1v1");
    return strcmp(api, "1v0") == 0;
}

/* ---- Lua functions ------------------------------------------------------------------ */

static int l_callback(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, callback_ref);
    callback_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static int l_flood(lua_State *L)
{
    start(L, (int)luaL_checkinteger(L, 1), (long)luaL_checkinteger(L, 2), (int)luaL_checkinteger(L, 3), 0, is_1v0(L, 4), 0);
    return 0;
}

static int l_ask(lua_State *L)
{
    start(L, (int)luaL_checkinteger(L, 1), 1, (int)luaL_checkinteger(L, 2), 1, is_1v0(L, 3), 0);
    return 0;
}

static int l_inner(lua_State *L)
{
    const char *where = luaL_checkstring(L, 1);
    int in_ret = strcmp(where, "ret") == 0;
    atomic_store(&inner_status, 0);
    start(L, 1, 1, -1, in_ret, 0, in_ret ? 2 : 1);
    return 0;
}

static int l_inner_status(lua_State *L)
{
    int code = atomic_load(&inner_status);
    lua_pushstring(L, code == 0 ? "none" : dss_statusname(code));
    return 1;
}

static int l_halt(lua_State *L)
{
    (void)L;
    atomic_store(&halting, 1);
    return 0;
}

static int l_running(lua_State *L)
{
    lua_pushinteger(L, atomic_load(&running));
    return 1;
}

static int l_join(lua_State *L)
{
    for (int t = 0; t < thread_count; t++)
        pthread_join(threads[t], NULL);
    thread_count = 0;
    lua_newtable(L);
    for (int i = 0; i < CODES; i++) {
        int n = atomic_exchange(&statuses[i], 0);
        if (n > 0) {
            lua_pushinteger(L, n);
            lua_setfield(L, -2, dss_statusname(-99 - i));
        }
    }
    return 1;
}

static int l_here(lua_State *L)
{
    job j = { 0 };
    j.blocking = lua_toboolean(L, 1);
    j.use_1v0 = lua_isnoneornil(L, 2);
    j.timeout_ms = j.use_1v0 ? -1 : (int)luaL_checkinteger(L, 2);
    int code = deliver_one(&j, 0);
    lua_pushstring(L, dss_statusname(code));
    return 1;
}

static int l_queuesize(lua_State *L)
{
    lua_pushinteger(L, dss_queuesize(&bounded, utilid));
    return 1;
}

static int l_unregister(lua_State *L)
{
    lua_pushstring(L, dss_statusname(dss_unregister(&bounded, utilid)));
    return 1;
}

static void set(lua_State *L, const char *name, long value)
{
    lua_pushinteger(L, value);
    lua_setfield(L, -2, name);
}

static int l_stats(lua_State *L)
{
    lua_newtable(L);
    set(L, "decoded", atomic_load(&decoded));
    set(L, "decode_null", atomic_load(&decode_null));
    set(L, "answered", atomic_load(&answered));
    set(L, "ret_null", atomic_load(&ret_null));
    set(L, "garbage", atomic_load(&garbage));
    set(L, "bad_endings", atomic_load(&bad_endings));
    set(L, "refused_touched", atomic_load(&refused_touched));
    return 1;
}

static int l_has1v1(lua_State *L)
{
    lua_pushboolean(L, dss_findapi_1v1(L, NULL) != NULL);
    return 1;
}

int luaopen_bounded_producer(lua_State *L)
{
    utilid = dss_checkregister(L, &bounded, cancel);
    static const luaL_Reg functions[] = {
        { "callback", l_callback }, { "flood", l_flood }, { "ask", l_ask }, { "inner", l_inner },
        { "inner_status", l_inner_status }, { "halt", l_halt }, { "running", l_running },
        { "join", l_join }, { "here", l_here }, { "queuesize", l_queuesize },
        { "unregister", l_unregister }, { "stats", l_stats }, { "has1v1", l_has1v1 },
        { NULL, NULL },
    };
    luaL_newlib(L, functions);
    return 1;
}
