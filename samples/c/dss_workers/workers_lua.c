/*
 * workers_lua.c -- the Lua face of dss_workers.
 *
 *   local workers = require "dss_workers"
 *   local pool = workers.new(4)                           -- 4 pthreads; registers with DSS
 *   pool:primes(2000000, function(count, largest, seconds) ... end)
 *   pool:hashfile("/etc/services", function(hexhash, size, seconds) ... end)
 *                                                         -- on error: (nil, message, seconds)
 *   pool:stats()   -> { submitted =, decoded =, cancelled =, refused =, threads =, utilid = }
 *   pool:idle()    -> true when no job is queued or being computed
 *   pool:close()   -- also __gc: unregisters, stops and joins the threads
 */
#include <stdlib.h>
#include <string.h>
#include "workers.h"
#include "status_lua.h"

DSS_LIB_DEFINE(workers_lib, "dss_workers");
owner_set workers_owners = OWNER_SET_INIT;

#define POOL_MT "dss_workers.pool"

static pool *check_pool(lua_State *L)
{
    pool *p = *(pool **)luaL_checkudata(L, 1, POOL_MT);
    luaL_argcheck(L, p != NULL, 1, "pool is closed");
    return p;
}

/* Lua thread. Order matters: unregister first (queued results come back as decode(NULL)
   and are freed), then stop the threads (a late result is refused and freed), then free. */
static void pool_destroy(lua_State *L, pool *p)
{
    owner_set_remove(&workers_owners, p);
    dss_unregister(&workers_lib, p->utilid);
    pool_stop(p);
    luaL_unref(L, LUA_REGISTRYINDEX, p->cbtable_ref);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static int l_new(lua_State *L)
{
    lua_Integer n = luaL_optinteger(L, 1, 2);
    luaL_argcheck(L, n >= 1 && n <= 256, 1, "thread count must be 1..256");
    pool **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, POOL_MT);

    int code;
    void *utilid = dss_register(L, &workers_lib, workers_cancel, &code);
    if (utilid == NULL || code == DSS_ERR_ALREADY_REGISTERED)
        return luaL_error(L, "dss_workers: cannot register with DarkSideSync: %s (%d)%s",
                          dss_statusname(code), code,
                          code == DSS_ERR_ALREADY_REGISTERED ? "; one pool per Lua state" : "");
    pool *p = calloc(1, sizeof *p);
    if (p == NULL) {
        dss_unregister(&workers_lib, utilid);
        return luaL_error(L, "dss_workers: out of memory");
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    p->utilid = utilid;
    lua_newtable(L);
    p->cbtable_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    *slot = p;
    if (owner_set_add(&workers_owners, utilid, p) != 0 || pool_start(p, (int)n) != 0) {
        *slot = NULL;
        pool_destroy(L, p);
        return luaL_error(L, "dss_workers: cannot start the pool");
    }
    return 1;
}

/* Lua thread: a new job holding a reference to the callback at stack index cb. */
static job *new_job(lua_State *L, pool *p, enum job_kind kind, int cb)
{
    luaL_checktype(L, cb, LUA_TFUNCTION);
    job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        luaL_error(L, "dss_workers: out of memory");
        return NULL;
    }
    j->owner = p;
    j->kind = kind;
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->cbtable_ref);
    lua_pushvalue(L, cb);
    j->cb_ref = luaL_ref(L, -2);
    lua_pop(L, 1);
    return j;
}

static int submit(lua_State *L, pool *p, job *j)
{
    if (pool_submit(p, j) != 0) {
        job_free(j);
        return luaL_error(L, "dss_workers: the pool was stopped (DSS stopped or the pool closed)");
    }
    p->submitted++;
    lua_pushinteger(L, p->submitted); /* a job number, for the caller's logs */
    return 1;
}

static int l_primes(lua_State *L)
{
    pool *p = check_pool(L);
    lua_Integer limit = luaL_checkinteger(L, 2);
    job *j = new_job(L, p, JOB_PRIMES, 3);
    j->limit = limit;
    return submit(L, p, j);
}

static int l_hashfile(lua_State *L)
{
    pool *p = check_pool(L);
    const char *path = luaL_checkstring(L, 2);
    job *j = new_job(L, p, JOB_HASHFILE, 3);
    j->path = strdup(path);
    if (j->path == NULL) {
        job_free(j);
        return luaL_error(L, "dss_workers: out of memory");
    }
    return submit(L, p, j);
}

static int l_stats(lua_State *L)
{
    pool *p = check_pool(L);
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, p->submitted);
    lua_setfield(L, -2, "submitted");
    lua_pushinteger(L, __atomic_load_n(&p->decoded, __ATOMIC_RELAXED));
    lua_setfield(L, -2, "decoded");
    lua_pushinteger(L, __atomic_load_n(&p->cancelled, __ATOMIC_RELAXED));
    lua_setfield(L, -2, "cancelled");
    lua_pushinteger(L, __atomic_load_n(&p->refused, __ATOMIC_RELAXED));
    lua_setfield(L, -2, "refused");
    lua_pushinteger(L, p->nthreads);
    lua_setfield(L, -2, "threads");
    lua_pushinteger(L, utilid_to_lua(p->utilid));
    lua_setfield(L, -2, "utilid");
    return 1;
}

/* Lua thread: waits until no job is queued or running; for scripts that want to see
   what happened to the last ones before they close the pool. */
static int l_idle(lua_State *L)
{
    pool *p = check_pool(L);
    lua_pushboolean(L, pool_idle(p));
    return 1;
}

static int l_close(lua_State *L)
{
    pool **slot = luaL_checkudata(L, 1, POOL_MT);
    if (*slot != NULL) {
        pool *p = *slot;
        *slot = NULL;
        pool_destroy(L, p);
    }
    return 0;
}

int luaopen_dss_workers(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "primes", l_primes }, { "hashfile", l_hashfile }, { "stats", l_stats },
        { "idle", l_idle }, { "close", l_close }, { NULL, NULL } };
    if (luaL_newmetatable(L, POOL_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, l_new);
    lua_setfield(L, -2, "new");
    push_status_codes(L);
    lua_setfield(L, -2, "codes");
    return 1;
}
