/*
 * status_lua.h -- the DSS status codes as a Lua table, so scripts compare codes by name
 * (codes.SUCCESS) instead of by magic number.
 */
#ifndef SAMPLES_STATUS_LUA_H
#define SAMPLES_STATUS_LUA_H

#include <stdint.h>
#include "darksidesync_api.h"

/* Lua thread. Pushes { SUCCESS = -100, UDP_SEND_FAILED = -99, ... }. */
static inline void push_status_codes(lua_State *L)
{
    static const int codes[] = {
        DSS_SUCCESS, DSS_ERR_UDP_SEND_FAILED, DSS_ERR_INVALID_UTILID, DSS_ERR_NOT_STARTED,
        DSS_ERR_NO_CANCEL_PROVIDED, DSS_ERR_OUT_OF_MEMORY, DSS_ERR_NO_DECODE_PROVIDED,
        DSS_ERR_NO_GLOBALS, DSS_ERR_UNKNOWN_LIB, DSS_ERR_ALREADY_REGISTERED,
    };
    lua_createtable(L, 0, (int)(sizeof codes / sizeof codes[0]));
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        lua_pushinteger(L, codes[i]);
        lua_setfield(L, -2, dss_statusname(codes[i]));
    }
}

/* A utilid as a Lua integer (and back): scripts print and compare them, and tests hand
   bogus ones to DSS on purpose. */
static inline lua_Integer utilid_to_lua(void *utilid) { return (lua_Integer)(intptr_t)utilid; }
static inline void *utilid_from_lua(lua_Integer id) { return (void *)(intptr_t)id; }

#endif
