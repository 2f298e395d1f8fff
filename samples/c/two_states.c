/*
 * two_states.c -- a C host with TWO Lua states in one process, each with darksidesync
 * and dss_producer. It runs producers in both, closes one state while the other's
 * producers are still delivering, and checks that the survivor saw nothing of it: no
 * cancel, no cancelled item, no refused delivery. (The original DSS cancelled the
 * utilities of every state when one closed.)
 *
 *   LUA_CPATH="artifacts/native/?.so;samples/c/build/?.so;;" samples/c/build/two_states
 *
 * Exit status 0 when the surviving state was undisturbed, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/* The Lua side of each state: a producer, a counter, and helpers the host calls. */
static const char *const setup =
    "local name = ...\n"
    "darksidesync = require 'darksidesync'\n"
    "producer = require 'dss_producer'\n"
    "received, held = 0, {}\n"
    "u = assert(producer.new{ callback = function(a, pid, seq)\n"
    "  if type(a) == 'userdata' then held[#held + 1] = a else received = received + 1 end\n"
    "end })\n"
    "function pump(want)   -- poll until `want` items arrived (or 10 s passed)\n"
    "  local deadline = os.time() + 10\n"
    "  while received < want and os.time() < deadline do\n"
    "    darksidesync.wait(0.05)\n"
    "    darksidesync.drain()\n"
    "  end\n"
    "  return received\n"
    "end\n"
    "function settle()     -- until the threads ended and the queue is empty\n"
    "  local deadline = os.time() + 10\n"
    "  while (u:running() > 0 or darksidesync.queuesize() > 0) and os.time() < deadline do\n"
    "    darksidesync.wait(0.05)\n"
    "    darksidesync.drain()\n"
    "  end\n"
    "  u:join()\n"
    "end\n"
    "function report()\n"
    "  local s = u:stats()\n"
    "  local codes = {}\n"
    "  for k, v in pairs(s.codes) do codes[#codes + 1] = k .. '=' .. v end\n"
    "  table.sort(codes)\n"
    "  print(('%s: utilid %d received %d, decode %d, decode(NULL) %d, ret(NULL) %d, cancel %d, deliver codes {%s}')\n"
    "    :format(name, s.utilid, received, s.decode, s.decode_null, s.ret_null, s.cancel, table.concat(codes, ' ')))\n"
    "  return s.cancel == 0 and s.decode_null == 0 and s.ret_null == 0 and (s.codes.SUCCESS or 0) == s.deliveries\n"
    "end\n";

static void run(lua_State *L, const char *code, int nargs, int nresults)
{
    /* The chunk goes below its arguments, as lua_pcall wants it. */
    if (luaL_loadstring(L, code) != LUA_OK) {
        fprintf(stderr, "load: %s\n", lua_tostring(L, -1));
        exit(2);
    }
    lua_insert(L, -(nargs + 1));
    if (lua_pcall(L, nargs, nresults, 0) != LUA_OK) {
        fprintf(stderr, "error: %s\n", lua_tostring(L, -1));
        exit(2);
    }
}

static lua_State *open_state(const char *name)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_pushstring(L, name);
    run(L, setup, 1, 0);
    return L;
}

static int ok(lua_State *L, const char *code)
{
    run(L, code, 0, 1);
    int result = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return result;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(void)
{
    lua_State *a = open_state("A");
    lua_State *b = open_state("B");

    /* 1. Both states receive from their own pthreads. */
    run(a, "u:start{ threads = 2, items = 20000 }", 0, 0);
    run(b, "u:start{ threads = 2, items = 20000 }", 0, 0);
    run(a, "print(('A: %d of 40000 items'):format(pump(40000))) settle()", 0, 0);
    run(b, "print(('B: %d of 40000 items'):format(pump(40000))) settle()", 0, 0);

    /* 2. A gets blocked deliverers (one held on the Lua side, others queued) and a
          producer that never stops; B gets producers that run for about half a second. */
    run(a, "u:start{ threads = 3, items = 1, blocking = true }\n"
           "u:start{ threads = 1, items = 100000000, pace_us = 100 }\n"
           "while darksidesync.queuesize() < 3 do darksidesync.wait(0.05) end\n"
           "local n, cb, args = darksidesync.poll() cb(table.unpack(args))\n"
           "print(('A: closing with %d item(s) held by Lua, %d queued, %d thread(s) running')\n"
           "  :format(#held, darksidesync.queuesize(), u:running()))\n", 0, 0);
    run(b, "u:start{ threads = 2, items = 2500, pace_us = 200 }", 0, 0);

    /* 3. Close A while B's producers deliver. */
    double start = now_ms();
    lua_close(a);
    printf("A: lua_close took %.1f ms\n", now_ms() - start);

    /* 4. B finishes undisturbed. */
    run(b, "print(('B: %d of 45000 items after A closed'):format(pump(45000))) settle()", 0, 0);
    int undisturbed = ok(b, "return report() and received == 45000");
    printf("B: %s\n", undisturbed ? "undisturbed by closing A" : "DISTURBED by closing A");
    lua_close(b);
    printf("B: closed\n");
    return undisturbed ? 0 : 1;
}
