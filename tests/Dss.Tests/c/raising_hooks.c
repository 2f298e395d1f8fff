/*
 * raising_hooks.c -- the C hooks of RaisingCHookSpec (tests/Dss.Tests/Support/RaisingCHooks.cs
 * compiles and loads it): decode and ret functions that raise Lua errors with luaL_error, a
 * decode that pushes on_item(pData), a quiet ret, and counters of every call.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>

static atomic_int counts[6]; /* decodes, decode(NULL)s, rets, ret(NULL)s, garbage rets, pushing decodes */

int hooks_count(int which) { return atomic_load(&counts[which]); }
void hooks_reset(void) { for (int i = 0; i < 6; i++) atomic_store(&counts[i], 0); }

int raising_decode(lua_State *L, void *pData, void *utilid) {
  (void)utilid;
  if (L == NULL) { atomic_fetch_add(&counts[1], 1); return 0; }
  atomic_fetch_add(&counts[0], 1);
  return luaL_error(L, "decode raised %d", (int)(intptr_t)pData);
}

int pushing_decode(lua_State *L, void *pData, void *utilid) {
  (void)utilid;
  if (L == NULL) { atomic_fetch_add(&counts[1], 1); return 0; }
  atomic_fetch_add(&counts[5], 1);
  lua_getglobal(L, "on_item");
  lua_pushinteger(L, (lua_Integer)(intptr_t)pData);
  return 2;
}

int raising_ret(lua_State *L, void *pData, void *utilid, int garbage) {
  (void)utilid;
  if (L == NULL) { atomic_fetch_add(&counts[3], 1); return 0; }
  atomic_fetch_add(&counts[garbage ? 4 : 2], 1);
  return luaL_error(L, "ret raised %d", (int)(intptr_t)pData);
}

int quiet_ret(lua_State *L, void *pData, void *utilid, int garbage) {
  (void)pData; (void)utilid;
  if (L == NULL) { atomic_fetch_add(&counts[3], 1); return 0; }
  atomic_fetch_add(&counts[garbage ? 4 : 2], 1);
  return 0;
}
