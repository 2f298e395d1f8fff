/*
 * hook_calls.c -- calls the decode and return hooks of C utilities under lua_pcall.
 *
 * The contract says hooks must not raise Lua errors, but a luaL_error, or a memory error
 * from any lua_push*, is one slip away. Lua raises with a longjmp to the innermost
 * lua_pcall. Had the engine (C#) called the hook itself, that jump would skip the .NET
 * frames in between, whose runtime bookkeeping is then never undone: undefined
 * behaviour. So the engine calls these two functions instead; each runs the hook inside
 * a C function called by lua_pcall, and a longjmp from the hook crosses only C frames
 * (the hook's and run_*'s) before lua_pcall catches it and returns the error.
 *
 * Built twice, with dispatch_loop.c: into libdarksidesync_hooks.so beside Dss.Actors.dll
 * for .NET hosts, and statically into darksidesync.so. Either way it calls Lua only
 * through the functions dss_hooks_init hands it (see lua_abi.h).
 */
#include "lua_abi.h"

dss_lua_functions dss_lua; /* written once by dss_hooks_init, before any hook call */

/* One hook call, on the C stack of dss_call_*; run_* reaches it through a light userdata. */
typedef struct hook_call {
    dss_decode_fn decode;
    dss_return_fn ret;
    void *pData;
    void *utilid;
    int garbage;
} hook_call;

void dss_hooks_init(const dss_lua_functions *functions)
{
    dss_lua = *functions;
}

/* Run by lua_pcall with one argument, the hook_call at index 1; what decode pushed above
   it (as far as it says) are the results. */
static int run_decode(lua_State *L)
{
    const hook_call *call = dss_lua.touserdata(L, 1);
    int claimed = call->decode(L, call->pData, call->utilid);
    return dss_clamp_results(claimed, dss_lua.gettop(L) - 1);
}

/* Run by lua_pcall with Lua's answer as its arguments and the hook_call on top; ret sees
   the answer alone, as the whole stack (index 1 to gettop). */
static int run_return(lua_State *L)
{
    const hook_call *call = dss_lua.touserdata(L, -1);
    dss_lua.settop(L, -2);
    int claimed = call->ret(L, call->pData, call->utilid, call->garbage);
    return dss_clamp_results(claimed, dss_lua.gettop(L));
}

/*
 * Both calls need two free slots on L's stack, which the caller guarantees (every Lua C
 * function starts with LUA_MINSTACK, 20).
 *
 * decode(L, pData, utilid) under lua_pcall. LUA_OK: the values decode claims to have
 * pushed (at most as many as it pushed) are on top of the stack, nothing else was added.
 * Otherwise Lua's error status, and the error object alone is on top.
 */
int dss_call_decode(lua_State *L, dss_decode_fn decode, void *pData, void *utilid)
{
    hook_call call = { decode, NULL, pData, utilid, 0 };
    dss_lua.pushcclosure(L, run_decode, 0);
    dss_lua.pushlightuserdata(L, &call);
    return dss_lua.pcallk(L, 1, LUA_MULTRET, 0, 0, NULL);
}

/*
 * ret(L, pData, utilid, garbage) under lua_pcall, with the whole stack (Lua's answer,
 * `nargs` values) as its arguments. LUA_OK: the stack holds only the values ret left for
 * Lua. Otherwise Lua's error status, and the stack holds only the error object.
 */
int dss_call_return(lua_State *L, dss_return_fn ret, void *pData, void *utilid, int garbage, int nargs)
{
    hook_call call = { NULL, ret, pData, utilid, garbage };
    dss_lua.pushcclosure(L, run_return, 0);
    dss_lua.rotate(L, 1, 1);
    dss_lua.pushlightuserdata(L, &call);
    return dss_lua.pcallk(L, nargs + 1, LUA_MULTRET, 0, 0, NULL);
}
