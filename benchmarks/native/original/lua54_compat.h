/*
 * lua54_compat.h -- builds the original C DarkSideSync 1.0 (github.com/Tieske/DarkSideSync,
 * written for Lua 5.1) against Lua 5.4, for benchmarks/native/vs_original.sh. Force-included
 * into each of its sources (gcc -include); nothing of the original is copied here.
 *
 * The two Lua 5.1 calls it makes that Lua 5.4 no longer has:
 *  - luaL_checkint (setport): luaL_checkinteger, narrowed to int as 5.1's did.
 *  - luaL_register(L, "darksidesync", l) (luaopen_darksidesync): luaL_newlib. 5.1's also
 *    stored the table in package.loaded and in a global `darksidesync`; `require` stores
 *    what luaopen returns in package.loaded, so only the global is gone (the benchmark's
 *    scripts use `local darksidesync = require "darksidesync"`). luaopen clears the stack
 *    (lua_settop(L, 0)) before this call, so the new table is the one it returns.
 */
#ifndef DSS_ORIGINAL_LUA54_COMPAT_H
#define DSS_ORIGINAL_LUA54_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#define luaL_checkint(L, n)      ((int)luaL_checkinteger(L, (n)))
#define luaL_register(L, n, l)   luaL_newlib(L, l)

#endif
