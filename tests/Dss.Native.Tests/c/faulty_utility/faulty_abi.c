/*
 * faulty_abi.c -- fu.apireg, fu.apigetutilid, fu.headerreg, fu.nocancel, fu.freshstate:
 * C ABI calls from the Lua thread with the API pointer cached earlier, each returning
 * DSS's status names.
 */
#include "faulty_utility.h"

static int probe_libid;             /* fu.apireg's library */

static void no_cancel(void *utilid) { (void)utilid; }

static void push_reg_result(lua_State *L, void *utilid, int code)
{
    lua_pushstring(L, dss_statusname(code));
    lua_pushboolean(L, utilid != NULL);
}

/* fu_api->reg(L, a library of its own): status, utilid ~= NULL. */
int fu_l_apireg(lua_State *L)
{
    fu_find_api(L);
    int code = 0;
    void *utilid = fu_api->reg(L, &probe_libid, no_cancel, &code);
    push_reg_result(L, utilid, code);
    return 2;
}

/* fu_api->getutilid(L, u's libid or fu.apireg's): status, utilid ~= NULL. */
int fu_l_apigetutilid(lua_State *L)
{
    fu_find_api(L);
    void *libid = &probe_libid;
    if (!lua_isnoneornil(L, 1)) {
        utility **slot = luaL_checkudata(L, 1, UTILITY_MT);
        libid = *slot;
    }
    int code = 0;
    void *utilid = fu_api->getutilid(L, libid, &code);
    push_reg_result(L, utilid, code);
    return 2;
}

/* The header's dss_register and dss_getutilid for faulty_lib: two statuses. */
int fu_l_headerreg(lua_State *L)
{
    fu_find_api(L);
    if (DSS_AUX_LOAD_(&faulty_lib.api) == NULL)
        faulty_lib.api = fu_api; /* as if it had registered before */
    int code = 0, code2 = 0;
    dss_register(L, &faulty_lib, no_cancel, &code);
    dss_getutilid(L, &faulty_lib, &code2);
    lua_pushstring(L, dss_statusname(code));
    lua_pushstring(L, dss_statusname(code2));
    return 2;
}

/* reg without a cancel function. */
int fu_l_nocancel(lua_State *L)
{
    fu_find_api(L);
    int code = 0;
    void *utilid = fu_api->reg(L, &probe_libid + 1, NULL, &code);
    push_reg_result(L, utilid, code);
    return 2;
}

/* reg and getutilid in a fresh Lua state that never loaded DSS: two statuses. */
int fu_l_freshstate(lua_State *L)
{
    fu_find_api(L);
    lua_State *other = luaL_newstate();
    if (other == NULL)
        return luaL_error(L, "faulty_utility: no memory for a state");
    int code = 0, code2 = 0;
    fu_api->reg(other, &probe_libid, no_cancel, &code);
    fu_api->getutilid(other, &probe_libid, &code2);
    lua_close(other);
    lua_pushstring(L, dss_statusname(code));
    lua_pushstring(L, dss_statusname(code2));
    return 2;
}
