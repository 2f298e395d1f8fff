/*
 * threaded_producer: a test-only Lua C module whose pthreads deliver items to DSS, the way a
 * C utility with a thread pool of its own does. .NET never sees these threads.
 *
 *   local producer = require "threaded_producer"
 *   local run = producer.start(threads, items, callback)  -- returns at once
 *   -- each thread t (1-based) delivers items 1..items non-blocking, in order;
 *   -- poll() then yields callback(t, i)
 *   local refused = run:join()  -- waits for the threads; deliveries DSS refused
 *   local light, version = producer.apiinfo()  -- how the registry publishes API 1v0
 *
 * Written against the C API 1v0 of the spec with declarations of its own (not the shared
 * header), so these specs pin the binary contract itself.
 */
#include <lauxlib.h>
#include <lua.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- DSS C API 1v0, as the spec lays it out ---------------------------------------- */
#define DSS_SUCCESS (-100)
#define DSS_UDP_SEND_FAILED (-99)
#define DSS_REGISTRY_KEY "DSS.DarkSideSync"
#define DSS_API_KEY "DSS API 1v0"

typedef int (*dss_decode_fn)(lua_State *L, void *pData, void *utilid);
typedef int (*dss_return_fn)(lua_State *L, void *pData, void *utilid, int garbage);
typedef void (*dss_cancel_fn)(void *utilid);

typedef struct {
    const char *version;
    void *(*reg)(lua_State *L, void *libid, dss_cancel_fn cancel, int *errcode);
    void *(*getutilid)(lua_State *L, void *libid, int *errcode);
    int (*deliver)(void *utilid, dss_decode_fn decode, dss_return_fn ret, void *pData);
    int (*unreg)(void *utilid);
} dss_api_1v0;
/* ------------------------------------------------------------------------------------- */

#define MAX_THREADS 64

static void *libid = &libid;     /* identifies this library process-wide */
static dss_api_1v0 *api;         /* the same struct for every state of the process */

typedef struct run {
    void *utilid;
    int callback_ref;            /* registry reference, touched on the Lua thread only */
    int items;
    int threads;
    pthread_t thread[MAX_THREADS];
    int joined;
    atomic_int stopping;         /* set when the run is collected: the threads stop early */
    atomic_int refused;          /* deliveries DSS did not accept */
} run;

typedef struct {
    run *owner;
    int thread;
    int item;
} producer_args;

typedef struct {
    int callback_ref;
    int thread;
    int item;
} delivery;

/* Lua thread, from poll(); L == NULL: cancelled (unregistered or DSS stopped), just free. */
static int decode(lua_State *L, void *pData, void *utilid) {
    (void)utilid;
    delivery *d = pData;
    if (L == NULL) {
        free(d);
        return 0;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, d->callback_ref);
    lua_pushinteger(L, d->thread);
    lua_pushinteger(L, d->item);
    free(d);
    return 3;
}

/* DSS stops (stop() or lua_close): stop delivering, which here means unregistering. */
static void cancel(void *utilid) {
    api->unreg(utilid);
}

static void *produce(void *arg) {
    producer_args *p = arg;
    for (int i = 1; i <= p->owner->items && !atomic_load(&p->owner->stopping); i++) {
        delivery *d = malloc(sizeof *d);
        d->callback_ref = p->owner->callback_ref;
        d->thread = p->thread;
        d->item = i;
        int status = api->deliver(p->owner->utilid, decode, NULL, d);
        if (status != DSS_SUCCESS && status != DSS_UDP_SEND_FAILED) {
            free(d);                  /* refused: nothing was queued */
            atomic_fetch_add(&p->owner->refused, p->owner->items - i + 1);
            break;
        }
    }
    free(p);
    return NULL;
}

static dss_api_1v0 *find_api(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, DSS_REGISTRY_KEY);
    if (!lua_istable(L, -1)) {
        luaL_error(L, "threaded_producer: require \"darksidesync\" first");
    }
    lua_getfield(L, -1, DSS_API_KEY);
    dss_api_1v0 *found = lua_touserdata(L, -1);
    lua_pop(L, 2);
    if (found == NULL || strcmp(found->version, DSS_API_KEY) != 0) {
        luaL_error(L, "threaded_producer: no DSS API 1v0 in the registry");
    }
    return found;
}

static int start(lua_State *L) {
    int threads = (int)luaL_checkinteger(L, 1);
    int items = (int)luaL_checkinteger(L, 2);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    luaL_argcheck(L, threads >= 1 && threads <= MAX_THREADS, 1, "1..64 threads");

    api = find_api(L);
    int err = 0;
    void *utilid = api->reg(L, libid, cancel, &err);
    if (utilid == NULL) {
        return luaL_error(L, "threaded_producer: reg failed with %d", err);
    }

    run *r = lua_newuserdatauv(L, sizeof *r, 0);
    memset(r, 0, sizeof *r);
    luaL_setmetatable(L, "threaded_producer.run");
    r->utilid = utilid;
    r->items = items;
    r->threads = threads;
    atomic_init(&r->stopping, 0);
    atomic_init(&r->refused, 0);
    lua_pushvalue(L, 3);
    r->callback_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    for (int t = 0; t < threads; t++) {
        producer_args *p = malloc(sizeof *p);
        p->owner = r;
        p->thread = t + 1;
        pthread_create(&r->thread[t], NULL, produce, p);
    }
    return 1;
}

static void join_all(run *r) {
    if (!r->joined) {
        for (int t = 0; t < r->threads; t++) {
            pthread_join(r->thread[t], NULL);
        }
        r->joined = 1;
    }
}

static int join(lua_State *L) {
    run *r = luaL_checkudata(L, 1, "threaded_producer.run");
    join_all(r);
    lua_pushinteger(L, atomic_load(&r->refused));
    return 1;
}

/* The threads use the run: it may not be freed before they are done. Collected (at the
 * latest by lua_close, possibly before DSS stops), they are told to stop first. */
static int collect(lua_State *L) {
    run *r = luaL_checkudata(L, 1, "threaded_producer.run");
    atomic_store(&r->stopping, 1);
    join_all(r);
    return 0;
}

/* Whether registry["DSS.DarkSideSync"]["DSS API 1v0"] is a light userdata, and the version
 * string its struct carries. */
static int apiinfo(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, DSS_REGISTRY_KEY);
    lua_getfield(L, -1, DSS_API_KEY);
    lua_pushboolean(L, lua_islightuserdata(L, -1));
    lua_pushstring(L, ((dss_api_1v0 *)find_api(L))->version);
    return 2;
}

int luaopen_threaded_producer(lua_State *L) {
    if (luaL_newmetatable(L, "threaded_producer.run")) {
        lua_pushcfunction(L, join);
        lua_setfield(L, -2, "join");
        lua_pushcfunction(L, collect);
        lua_setfield(L, -2, "__gc");
        lua_pushvalue(L, -1);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, start);
    lua_setfield(L, -2, "start");
    lua_pushcfunction(L, apiinfo);
    lua_setfield(L, -2, "apiinfo");
    return 1;
}
