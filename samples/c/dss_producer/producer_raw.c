/*
 * producer_raw.c -- producer.raw: the API entry points called with whatever a test
 * wants, including what a buggy utility would pass (NULL or bogus utilids, no decode,
 * no cancel, a second registration). Every function returns DSS's code; none may
 * crash the process.
 *
 *   raw.reg{ cancel = true, libid = "library"|"fresh"|<integer> }  -> utilid, code
 *   raw.getutilid("library"|"fresh"|<integer>)                      -> utilid, code
 *   raw.deliver(utilid, { decode = true })                          -> code
 *   raw.unreg(utilid)                                               -> code
 *   raw.stats()  -> { decode =, decode_null =, cancel = }
 */
#include <stdlib.h>
#include "producer.h"
#include "status_lua.h"

static long raw_decode_calls, raw_decode_null, raw_cancel_calls;

/* The struct in L's registry; after stop-DSS the one seen before, so DSS itself reports
   NOT_STARTED or INVALID_UTILID instead of the helper guessing. */
static const dss_api_1v0 *raw_api(lua_State *L)
{
    const dss_api_1v0 *api = dss_findapi(L, NULL);
    if (api != NULL) {
        ATOMIC_SET(&producer_lib.api, api);
        return api;
    }
    return ATOMIC_GET(&producer_lib.api);
}

static void *check_libid(lua_State *L, int arg)
{
    if (lua_isinteger(L, arg))
        return utilid_from_lua(lua_tointeger(L, arg));
    static const char *const kinds[] = { "library", "fresh", NULL };
    if (luaL_checkoption(L, arg, "library", kinds) == 0)
        return DSS_LIBID(&producer_lib);
    void *fresh = malloc(1); /* a process-unique address, kept forever like a static */
    if (fresh == NULL)
        luaL_error(L, "dss_producer: out of memory");
    return fresh;
}

static int raw_decode(lua_State *L, void *pData, void *utilid)
{
    (void)utilid;
    ATOMIC_INC(L == NULL ? &raw_decode_null : &raw_decode_calls);
    free(pData);
    return 0; /* nothing for Lua: poll() returns the queue size only */
}

void raw_cancel(void *utilid)
{
    ATOMIC_INC(&raw_cancel_calls);
    dss_unregister(&producer_lib, utilid);
}

static int l_reg(lua_State *L)
{
    int with_cancel = 1;
    void *libid = DSS_LIBID(&producer_lib);
    if (lua_istable(L, 1)) {
        if (lua_getfield(L, 1, "cancel") != LUA_TNIL)
            with_cancel = lua_toboolean(L, -1);
        if (lua_getfield(L, 1, "libid") != LUA_TNIL)
            libid = check_libid(L, -1);
        lua_pop(L, 2);
    }
    const dss_api_1v0 *api = raw_api(L);
    int code = DSS_ERR_NO_GLOBALS;
    void *utilid = api ? api->reg(L, libid, with_cancel ? producer_cancel : NULL, &code) : NULL;
    lua_pushinteger(L, utilid_to_lua(utilid));
    lua_pushinteger(L, code);
    return 2;
}

static int l_getutilid(lua_State *L)
{
    void *libid = lua_isnoneornil(L, 1) ? DSS_LIBID(&producer_lib) : check_libid(L, 1);
    const dss_api_1v0 *api = raw_api(L);
    int code = DSS_ERR_NO_GLOBALS;
    void *utilid = api ? api->getutilid(L, libid, &code) : NULL;
    lua_pushinteger(L, utilid_to_lua(utilid));
    lua_pushinteger(L, code);
    return 2;
}

static int l_deliver(lua_State *L)
{
    void *utilid = utilid_from_lua(luaL_checkinteger(L, 1));
    int with_decode = 1;
    if (lua_istable(L, 2) && lua_getfield(L, 2, "decode") != LUA_TNIL)
        with_decode = lua_toboolean(L, -1);
    const dss_api_1v0 *api = raw_api(L);
    if (api == NULL) {
        lua_pushinteger(L, DSS_ERR_NO_GLOBALS);
        return 1;
    }
    void *pData = malloc(1);
    if (pData == NULL)
        return luaL_error(L, "dss_producer: out of memory");
    int rc = api->deliver(utilid, with_decode ? raw_decode : NULL, NULL, pData);
    if (!dss_delivered(rc))
        free(pData);
    lua_pushinteger(L, rc);
    return 1;
}

static int l_unreg(lua_State *L)
{
    void *utilid = utilid_from_lua(luaL_checkinteger(L, 1));
    const dss_api_1v0 *api = raw_api(L);
    lua_pushinteger(L, api ? api->unreg(utilid) : DSS_ERR_NO_GLOBALS);
    return 1;
}

static int l_stats(lua_State *L)
{
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, ATOMIC_GET(&raw_decode_calls));
    lua_setfield(L, -2, "decode");
    lua_pushinteger(L, ATOMIC_GET(&raw_decode_null));
    lua_setfield(L, -2, "decode_null");
    lua_pushinteger(L, ATOMIC_GET(&raw_cancel_calls));
    lua_setfield(L, -2, "cancel");
    return 1;
}

void producer_push_raw(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "reg", l_reg }, { "getutilid", l_getutilid }, { "deliver", l_deliver },
        { "unreg", l_unreg }, { "stats", l_stats }, { NULL, NULL } };
    luaL_newlib(L, fns);
}
