/*
 * signals_lua.c -- the Lua face of dss_signal.
 *
 *   local signal = require "dss_signal"
 *   local w = signal.watch({ "INT", "TERM" }, function(name, signum) ... end)
 *   w:stats()  -> { received =, delivered =, cancelled = }
 *   w:close()  -- also __gc: unregisters; the last watcher restores the old handlers
 *   signal.kill("INT")   -- sends the signal to this process, as `kill -INT <pid>` would
 *   signal.getpid()
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "signals.h"
#include "status_lua.h"

DSS_LIB_DEFINE(signal_lib, "dss_signal");
owner_set signal_owners = OWNER_SET_INIT;

#define WATCHER_MT "dss_signal.watcher"

static watcher *check_watcher(lua_State *L)
{
    watcher *w = *(watcher **)luaL_checkudata(L, 1, WATCHER_MT);
    luaL_argcheck(L, w != NULL, 1, "watcher is closed");
    return w;
}

/* stop-DSS; any thread. Stop delivering, then unregister (queued signals come back as
   decode(NULL)). The handlers stay until close/__gc: they only write to the pipe. */
static void cancel_owner(void *owner)
{
    watcher *w = owner;
    signal_deactivate(w);
    dss_unregister(&signal_lib, w->utilid);
}

static void signal_cancel(void *utilid)
{
    owner_set_call(&signal_owners, utilid, cancel_owner);
}

/* Lua thread. */
static void watcher_destroy(lua_State *L, watcher *w)
{
    owner_set_remove(&signal_owners, w);
    signal_detach(w);                       /* the reader no longer sees w */
    dss_unregister(&signal_lib, w->utilid); /* then nothing in DSS refers to it */
    luaL_unref(L, LUA_REGISTRYINDEX, w->cb_ref);
    free(w);
}

static int l_watch(lua_State *L)
{
    unsigned long long mask = 0;
    if (lua_isfunction(L, 1)) {           /* watch(f): INT and TERM, as luaexit did */
        lua_pushnil(L);
        lua_insert(L, 1);
    }
    if (lua_isnoneornil(L, 1)) {
        mask = (1ULL << SIGINT) | (1ULL << SIGTERM);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        for (lua_Integer i = 1; lua_rawgeti(L, 1, i) != LUA_TNIL; i++) {
            int s = signal_from_name(luaL_checkstring(L, -1));
            if (s == 0)
                return luaL_error(L, "dss_signal: unknown signal '%s'", lua_tostring(L, -1));
            mask |= 1ULL << s;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    luaL_checktype(L, 2, LUA_TFUNCTION);

    watcher **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, WATCHER_MT);
    int code;
    void *utilid = dss_register(L, &signal_lib, signal_cancel, &code);
    if (utilid == NULL || code == DSS_ERR_ALREADY_REGISTERED)
        return luaL_error(L, "dss_signal: cannot register with DarkSideSync: %s (%d)%s",
                          dss_statusname(code), code,
                          code == DSS_ERR_ALREADY_REGISTERED ? "; one watcher per Lua state" : "");
    watcher *w = calloc(1, sizeof *w);
    if (w == NULL) {
        dss_unregister(&signal_lib, utilid);
        return luaL_error(L, "dss_signal: out of memory");
    }
    w->utilid = utilid;
    w->mask = mask;
    lua_pushvalue(L, 2);
    w->cb_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (owner_set_add(&signal_owners, utilid, w) != 0) {
        dss_unregister(&signal_lib, utilid);
        luaL_unref(L, LUA_REGISTRYINDEX, w->cb_ref);
        free(w);
        return luaL_error(L, "dss_signal: out of memory");
    }
    int err = signal_attach(w);
    if (err != 0) {
        owner_set_remove(&signal_owners, w);
        dss_unregister(&signal_lib, utilid);
        luaL_unref(L, LUA_REGISTRYINDEX, w->cb_ref);
        free(w);
        return luaL_error(L, "dss_signal: cannot start: %s", strerror(err));
    }
    *slot = w;
    return 1;
}

static int l_stats(lua_State *L)
{
    watcher *w = check_watcher(L);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, __atomic_load_n(&w->received, __ATOMIC_RELAXED));
    lua_setfield(L, -2, "received");
    lua_pushinteger(L, __atomic_load_n(&w->delivered, __ATOMIC_RELAXED));
    lua_setfield(L, -2, "delivered");
    lua_pushinteger(L, __atomic_load_n(&w->cancelled, __ATOMIC_RELAXED));
    lua_setfield(L, -2, "cancelled");
    return 1;
}

static int l_close(lua_State *L)
{
    watcher **slot = luaL_checkudata(L, 1, WATCHER_MT);
    if (*slot != NULL) {
        watcher *w = *slot;
        *slot = NULL;
        watcher_destroy(L, w);
    }
    return 0;
}

static int l_kill(lua_State *L)
{
    const char *name = luaL_optstring(L, 1, "INT");
    int s = signal_from_name(name);
    if (s == 0)
        return luaL_error(L, "dss_signal: unknown signal '%s'", name);
    lua_pushboolean(L, kill(getpid(), s) == 0);
    return 1;
}

static int l_getpid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)getpid());
    return 1;
}

int luaopen_dss_signal(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "stats", l_stats }, { "close", l_close }, { NULL, NULL } };
    if (luaL_newmetatable(L, WATCHER_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {
        { "watch", l_watch }, { "kill", l_kill }, { "getpid", l_getpid }, { NULL, NULL } };
    luaL_newlib(L, fns);
    return 1;
}
