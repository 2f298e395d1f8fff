/*
 * dispatch_loop.c -- darksidesync.dispatch([max [, errorhandler]]), the Lua thread's fast
 * loop: it decodes and calls callback after callback without returning to Lua in between,
 * and with no args table.
 *
 * Each callback runs protected. A lua_pcall per item would cost more than the rest of the
 * item (~40 ns of ~60), so one lua_pcall covers a run of items: the run ends at the first
 * error, which goes to the error handler as the pcall's message handler (so a traceback
 * shows the failing callback), and the next run starts with the next item.
 *
 * Inside a run, everything that may raise a Lua error (the callbacks, the C decode hooks)
 * is called from here, never from the engine: the engine's functions (C#) are called and
 * return before this file calls anything that may longjmp, so a longjmp crosses only C
 * frames. The engine takes the next delivery (decoding it itself when it belongs to a .NET
 * utility), settles it after a C decode, and ends a delivery whose C decode raised.
 */
#include "lua_abi.h"

/* One dispatch call, shared with the engine (Dispatcher.Call in Dispatcher.cs, field for field). */
typedef struct dss_dispatch_call {
    intptr_t binding;     /* the engine's handle of the state's data, set by begin */
    int32_t epoch;        /* the state's stop count at begin: a stop() ends the call */
    int32_t max;          /* deliveries to take, at most */
    int32_t taken;        /* deliveries taken so far (those decoded to nothing too) */
    int32_t ran;          /* callbacks called (those that raised too) */
    int32_t decoding;     /* 1 while a C decode runs (the engine holds its utility's gate) */
    int32_t reserved;
    dss_decode_fn decode; /* set by take when it answers DSS_TAKE_DECODE */
    void *pData;
    void *utilid;
} dss_dispatch_call;

/* take and settle return a value count (> 0: a callback and its arguments are on top; 0: the
   delivery needs no call), or one of these. */
#define DSS_TAKE_END (-1)    /* nothing more for this call: empty, max taken, or DSS stopped */
#define DSS_TAKE_DECODE (-2) /* call decode(L, pData, utilid), then settle */

/* The engine's side (Dispatcher.cs). None of them raises a Lua error. */
typedef struct dss_dispatch_engine {
    /* In dispatch's own frame: checks the arguments and fills the call, and pushes the message
       handler. 0; or -1 with the error message pushed (dispatch raises it). */
    int (*begin)(lua_State *L, dss_dispatch_call *call);
    /* Takes the next delivery; the run's frame is empty. */
    int (*take)(lua_State *L, dss_dispatch_call *call);
    /* After the C decode returned: `claimed` values (at most those above the frame's base) are
       the callback and its arguments. */
    int (*settle)(lua_State *L, dss_dispatch_call *call, int claimed);
    /* After the C decode raised: its delivery ends there. */
    void (*abandon)(lua_State *L, dss_dispatch_call *call);
    /* The queue size after the call (0 once DSS stopped). */
    lua_Integer (*finish)(lua_State *L, dss_dispatch_call *call);
} dss_dispatch_engine;

static dss_dispatch_engine engine; /* written once by dss_dispatch_init, before any dispatch */

void dss_dispatch_init(const dss_dispatch_engine *functions)
{
    engine = *functions;
}

/* Run by lua_pcall with the call as its one argument: items until one raises or take ends.
   Created once per state by the engine, with the upvalues its take and settle use (the
   metatables of waitingthread_callbacks and of close watches). */
static int run(lua_State *L)
{
    dss_dispatch_call *call = dss_lua.touserdata(L, 1);
    dss_lua.settop(L, 0); /* invariant: the frame is empty between items */
    for (;;) {
        int n = engine.take(L, call);
        if (n == DSS_TAKE_DECODE) {
            call->decoding = 1; /* stays 1 if decode raises: dispatch then abandons the delivery */
            int claimed = call->decode(L, call->pData, call->utilid);
            call->decoding = 0;
            n = engine.settle(L, call, dss_clamp_results(claimed, dss_lua.gettop(L)));
        }
        if (n == DSS_TAKE_END)
            return 0;
        if (n > 0) {
            call->ran++;
            dss_lua.callk(L, n - 1, 0, 0, NULL);
        }
    }
}

/* darksidesync.dispatch; upvalue 1 is the state's binding, 2 the default error handler, 3 the
   state's closure of run. */
static int dispatch(lua_State *L)
{
    dss_dispatch_call call = { 0 };
    if (engine.begin(L, &call) != 0)
        return dss_lua.error(L);
    int handler = dss_lua.gettop(L);
    while (call.max > 0) { /* max is 0 when the queue was empty: nothing to protect */
        dss_lua.pushvalue(L, lua_upvalueindex(3));
        dss_lua.pushlightuserdata(L, &call);
        int status = dss_lua.pcallk(L, 1, 0, handler, 0, NULL);
        if (status == LUA_OK)
            break;
        if (status == LUA_ERRMEM) {
            /* Lua calls no message handler for a memory error: hand it over now, protected. */
            dss_lua.pushvalue(L, handler);
            dss_lua.rotate(L, -2, 1);
            dss_lua.pcallk(L, 1, 0, 0, 0, NULL);
        }
        dss_lua.settop(L, handler); /* the handler has seen the error; what it returned is dropped */
        if (call.decoding) {
            call.decoding = 0;
            engine.abandon(L, &call);
        }
    }
    lua_Integer remaining = engine.finish(L, &call);
    dss_lua.pushinteger(L, call.ran);
    dss_lua.pushinteger(L, remaining);
    return 2;
}

/* The C functions the engine makes closures of: darksidesync.dispatch, and its protected run. */
void dss_dispatch_functions(lua_CFunction *dispatch_function, lua_CFunction *run_function)
{
    *dispatch_function = dispatch;
    *run_function = run;
}
