/*
 * budget_hook.c -- the time and memory budgets of hosted calls, enforced on the Lua thread.
 *
 * Every call runs in a coroutine with a count hook (every BUDGET_CHECK_EVERY instructions;
 * coroutines the call creates inherit it). While a call's coroutine runs, the host has
 * entered its budget (dss_budget_enter): its deadline on the monotonic clock, the state's
 * memory limit, and the state's control block, through which other threads cancel the
 * running call or stop the state. The hook raises a Lua error -- from this C frame, never
 * from a .NET one -- whose value is one of three light userdata markers, so the Lua side
 * tells a budget from the script's own errors. Once a budget is spent the hook fires on
 * every instruction, so a script that catches the error with pcall cannot run on.
 *
 * A C function that runs long (string.rep of a huge string, a blocking os call) is not
 * interrupted: the hook runs between Lua instructions only.
 *
 * Lua is reached through the functions dss_budget_init hands over (KeraLua's liblua54.so in
 * .NET hosts), so this library links against no Lua itself.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

typedef struct lua_State lua_State;
typedef struct lua_Debug lua_Debug;
typedef void (*lua_Hook)(lua_State *L, lua_Debug *ar);

#define LUA_MASKCOUNT (1 << 3)
#define LUA_GCCOUNT 3
#define LUA_GCCOUNTB 4
#define BUDGET_CHECK_EVERY 1000

typedef struct dss_budget_lua {
    void (*sethook)(lua_State *L, lua_Hook f, int mask, int count);
    int (*gc)(lua_State *L, int what, ...);
    void (*pushlightuserdata)(lua_State *L, void *p);
    int (*error)(lua_State *L);
} dss_budget_lua;

/* How many recent abandons are remembered: a call abandoned while it runs C# code (a slow
   export) must still end when it gets back to Lua, also after other calls were abandoned. */
#define ABANDONED_SLOTS 16

/* One per hosted state, allocated by the host for the state's whole life; written by any thread. */
typedef struct dss_budget_control {
    _Atomic long long abandoned[ABANDONED_SLOTS]; /* calls that timed out or were cancelled: each ends at its next check */
    _Atomic long long next_abandoned;             /* the slot the next abandon takes (mod ABANDONED_SLOTS) */
    _Atomic int stopping;                         /* the state stops: whatever runs ends at its next check */
} dss_budget_control;

static dss_budget_lua lua;

/* The call whose coroutine runs now on this (Lua) thread; ctl == NULL: none. */
static _Thread_local struct {
    dss_budget_control *ctl;
    long long call;
    long long deadline_ns;
    long long memory_limit; /* bytes; 0: none */
} current;

static char time_marker, memory_marker, cancel_marker;

void dss_budget_init(const dss_budget_lua *functions) { lua = *functions; }

void *dss_budget_time_marker(void) { return &time_marker; }
void *dss_budget_memory_marker(void) { return &memory_marker; }
void *dss_budget_cancel_marker(void) { return &cancel_marker; }

long long dss_budget_now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

static void hook(lua_State *L, lua_Debug *ar);

static void raise(lua_State *L, void *marker)
{
    lua.sethook(L, hook, LUA_MASKCOUNT, 1);
    lua.pushlightuserdata(L, marker);
    lua.error(L);
}

static void hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    dss_budget_control *ctl = current.ctl;
    if (ctl == NULL) return;
    if (atomic_load_explicit(&ctl->stopping, memory_order_relaxed)) raise(L, &cancel_marker);
    for (int i = 0; i < ABANDONED_SLOTS; i++) {
        if (atomic_load_explicit(&ctl->abandoned[i], memory_order_relaxed) == current.call) raise(L, &cancel_marker);
    }
    if (dss_budget_now_ns() > current.deadline_ns) raise(L, &time_marker);
    if (current.memory_limit > 0) {
        long long used = (long long)lua.gc(L, LUA_GCCOUNT) * 1024 + lua.gc(L, LUA_GCCOUNTB);
        if (used > current.memory_limit) raise(L, &memory_marker);
    }
}

/* Installs the budget hook on a call's coroutine (and so on every coroutine it creates). */
void dss_budget_arm(lua_State *co) { lua.sethook(co, hook, LUA_MASKCOUNT, BUDGET_CHECK_EVERY); }

/* Removes it again (the main thread, after the start-up scripts ran under it). */
void dss_budget_disarm(lua_State *L) { lua.sethook(L, NULL, 0, 0); }

/* Lua thread, before a call's coroutine is resumed. deadline_ns: dss_budget_now_ns() + what is left. */
void dss_budget_enter(dss_budget_control *ctl, long long call, long long deadline_ns, long long memory_limit)
{
    current.ctl = ctl;
    current.call = call;
    current.deadline_ns = deadline_ns;
    current.memory_limit = memory_limit;
}

/* Lua thread, after the resume returned (finished, raised or yielded). */
void dss_budget_leave(void) { current.ctl = NULL; }
