/*
 * lua_abi.h -- what the engine's C side (hook_calls.c, dispatch_loop.c) knows of Lua 5.4.
 *
 * No Lua headers: these few declarations are Lua 5.4's ABI, and every Lua function is
 * called through the table the engine hands over once (dss_hooks_init), holding the very
 * functions its own interop is bound to. So there is one Lua in the process, whichever
 * library provides it (KeraLua's liblua54.so, or the lua5.4 executable itself).
 */
#ifndef DSS_LUA_ABI_H
#define DSS_LUA_ABI_H

#include <stddef.h>
#include <stdint.h>

typedef struct lua_State lua_State;
typedef int (*lua_CFunction)(lua_State *L);
typedef int64_t lua_Integer;

#define LUA_OK 0
#define LUA_ERRMEM 4
#define LUA_MULTRET (-1)
#define LUA_REGISTRYINDEX (-1000000 - 1000)
#define lua_upvalueindex(i) (LUA_REGISTRYINDEX - (i))

typedef int (*dss_decode_fn)(lua_State *L, void *pData, void *utilid);
typedef int (*dss_return_fn)(lua_State *L, void *pData, void *utilid, int garbage);

/* The Lua functions the C side calls. Only callk and error run Lua code or raise. */
typedef struct dss_lua_functions {
    int (*gettop)(lua_State *L);
    void (*settop)(lua_State *L, int idx);
    void *(*touserdata)(lua_State *L, int idx);
    void (*pushcclosure)(lua_State *L, lua_CFunction fn, int n);
    void (*pushvalue)(lua_State *L, int idx);
    void (*pushlightuserdata)(lua_State *L, void *p);
    void (*rotate)(lua_State *L, int idx, int n);
    int (*pcallk)(lua_State *L, int nargs, int nresults, int msgh, intptr_t ctx, void *k);
    void (*callk)(lua_State *L, int nargs, int nresults, intptr_t ctx, void *k);
    void (*pushinteger)(lua_State *L, lua_Integer n);
    int (*error)(lua_State *L);
} dss_lua_functions;

/* Written once by dss_hooks_init, before any other call of the C side. */
extern dss_lua_functions dss_lua;

/* What a hook says it pushed, bounded by the `available` values above its frame's own: a
   hook that lies is not believed. (A decode that emptied its whole frame leaves -1.) */
static inline int dss_clamp_results(int claimed, int available)
{
    if (available < 0)
        available = 0;
    return claimed < 0 ? 0 : claimed > available ? available : claimed;
}

#endif
