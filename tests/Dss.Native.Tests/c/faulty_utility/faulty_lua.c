/*
 * faulty_lua.c -- the module faulty_utility (luaopen, fu.new, fu.strays) and the utility
 * object's own methods (unregister, utilid, stats, check, close/__gc). The modes and the
 * whole Lua API are listed in faulty_utility.h.
 */
#include "faulty_utility.h"
#include <stdio.h>
#include <stdlib.h>

DSS_LIB_DEFINE(faulty_lib, "faulty_utility");

const char *const fu_mode_names[] = {
    "ok", "zero", "raise", "memerr", "many", "notfunction", "overcount", "negative",
    "undercount", "unreg", "deliver", "stop", "gc", "race", NULL
};
static const char *const cancel_names[] = { "unreg", "ignore", "block", "sleep", NULL };
static const char *const counter_names[] = {
    "accepted", "refused", "blocking", "released", "early", "decoded", "ended", "taken",
    "answered", "garbage", "decode_null", "ret_null", "raised", "violations",
    "refused_hooked", "cancels", "wrong", "unreg_success", "unreg_invalid", "unreg_other",
    "fuzz_calls"
};

const dss_api_1v0 *fu_api;
pthread_mutex_t fu_live_lock = PTHREAD_MUTEX_INITIALIZER;
utility *fu_live;

utility *fu_check_utility(lua_State *L)
{
    utility **slot = luaL_checkudata(L, 1, UTILITY_MT);
    luaL_argcheck(L, *slot != NULL, 1, "faulty_utility is closed");
    return *slot;
}

void fu_find_api(lua_State *L)
{
    int code;
    const dss_api_1v0 *found = dss_findapi(L, &code);
    if (found == NULL && fu_api == NULL)
        luaL_error(L, "faulty_utility: no DSS API 1v0 in the registry; require 'darksidesync' first");
    if (found != NULL)
        fu_api = found;
}

static int l_new(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    fu_find_api(L);
    lua_getfield(L, 1, "callback");
    luaL_argcheck(L, lua_isfunction(L, -1), 1, "callback must be a function");
    lua_getfield(L, 1, "cancel");
    int cancel_mode = luaL_checkoption(L, -1, "unreg", cancel_names);
    lua_getfield(L, 1, "report");
    int report = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, 1, "stopper");

    utility **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, UTILITY_MT);
    utility *u = calloc(1, sizeof *u);
    if (u == NULL)
        return luaL_error(L, "faulty_utility: out of memory");
    u->cancel_mode = cancel_mode;
    u->report = report;
    u->hook_unreg_rc = u->worker_unreg_rc = u->decode_deliver_rc = u->cancel_unreg_rc = NO_RC;
    u->stop_ok = -1;
    pthread_mutex_init(&u->lock, NULL);
    pthread_mutex_init(&u->sync, NULL);
    pthread_cond_init(&u->changed, NULL);

    int code = DSS_SUCCESS;
    pthread_mutex_lock(&fu_live_lock); /* a cancel may come before reg returns: find u by then */
    u->utilid = fu_api->reg(L, u, fu_cancel, &code);
    if (u->utilid != NULL && code == DSS_SUCCESS) {
        u->next_live = fu_live;
        fu_live = u;
    }
    pthread_mutex_unlock(&fu_live_lock);
    if (u->utilid == NULL || code != DSS_SUCCESS) {
        free(u);
        lua_pushnil(L);
        lua_pushstring(L, dss_statusname(code));
        return 2;
    }
    lua_pushvalue(L, -4);
    u->callback_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, -2);
    u->stopper_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    *slot = u;
    return 1;
}

static int l_unregister(lua_State *L)
{
    lua_pushstring(L, dss_statusname(fu_api->unreg(fu_check_utility(L)->utilid)));
    return 1;
}

static int l_utilid(lua_State *L)
{
    lua_pushlightuserdata(L, fu_check_utility(L)->utilid);
    return 1;
}

static void set_status(lua_State *L, const char *key, int rc)
{
    if (rc == NO_RC)
        lua_pushnil(L);
    else
        lua_pushstring(L, dss_statusname(rc));
    lua_setfield(L, -2, key);
}

static int l_stats(lua_State *L)
{
    utility *u = fu_check_utility(L);
    lua_createtable(L, 0, C_COUNT + 8);
    for (int c = 0; c < C_COUNT; c++) {
        lua_pushinteger(L, counted(u, c));
        lua_setfield(L, -2, counter_names[c]);
    }
    set_status(L, "hook_unreg", __atomic_load_n(&u->hook_unreg_rc, __ATOMIC_ACQUIRE));
    set_status(L, "worker_unreg", __atomic_load_n(&u->worker_unreg_rc, __ATOMIC_ACQUIRE));
    set_status(L, "decode_deliver", __atomic_load_n(&u->decode_deliver_rc, __ATOMIC_ACQUIRE));
    set_status(L, "cancel_unreg", __atomic_load_n(&u->cancel_unreg_rc, __ATOMIC_ACQUIRE));
    if (u->stop_ok >= 0) {
        lua_pushboolean(L, u->stop_ok);
        lua_setfield(L, -2, "stop_ok");
        lua_pushstring(L, u->stop_msg);
        lua_setfield(L, -2, "stop_msg");
    }
    pthread_mutex_lock(&u->lock);
    lua_pushstring(L, u->first_violation);
    lua_setfield(L, -2, "first_violation");
    lua_pushstring(L, u->first_wrong);
    lua_setfield(L, -2, "first_wrong");
    pthread_mutex_unlock(&u->lock);
    lua_pushinteger(L, __atomic_load_n(&u->running, __ATOMIC_ACQUIRE));
    lua_setfield(L, -2, "running");
    return 1;
}

static int l_check(lua_State *L)
{
    return fu_check_result(L, fu_check_utility(L));
}

/* Unregisters (INVALID_UTILID when DSS or the utility already did), joins, frees the
   items. The struct itself stays: a cancel that never returns may still hold it. */
static int l_close(lua_State *L)
{
    utility **slot = luaL_checkudata(L, 1, UTILITY_MT);
    utility *u = *slot;
    if (u == NULL)
        return 0;
    *slot = NULL;
    __atomic_store_n(&u->stopping, 1, __ATOMIC_RELEASE);
    fu_api->unreg(u->utilid);
    fu_join_all(u);
    if (u->report) {
        fu_check_result(L, u);
        printf("closed: %s (accepted %ld, cancels %ld)\n", lua_tostring(L, -1), counted(u, C_ACCEPTED), counted(u, C_CANCELS));
        fflush(stdout);
        lua_pop(L, 1);
    }
    pthread_mutex_lock(&fu_live_lock);
    for (utility **p = &fu_live; *p != NULL; p = &(*p)->next_live) {
        if (*p == u) {
            *p = u->next_live;
            break;
        }
    }
    pthread_mutex_unlock(&fu_live_lock);
    pthread_mutex_lock(&u->lock);
    for (item *it = u->items, *next; it != NULL; it = next) {
        next = it->next;
        free(it);
    }
    u->items = NULL;
    pthread_mutex_unlock(&u->lock);
    luaL_unref(L, LUA_REGISTRYINDEX, u->callback_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, u->stopper_ref);
    return 0;
}

static int l_strays(lua_State *L)
{
    lua_pushinteger(L, __atomic_load_n(&fu_stray_cancels, __ATOMIC_ACQUIRE));
    return 1;
}

int luaopen_faulty_utility(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "deliver", fu_l_deliver }, { "ask", fu_l_ask }, { "produce", fu_l_produce }, { "race", fu_l_race },
        { "unregmany", fu_l_unregmany }, { "fuzz", fu_l_fuzz }, { "unregister", l_unregister },
        { "join", fu_l_join }, { "running", fu_l_running }, { "utilid", l_utilid }, { "stats", l_stats },
        { "check", l_check }, { "close", l_close }, { NULL, NULL } };
    if (luaL_newmetatable(L, UTILITY_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {
        { "new", l_new }, { "apireg", fu_l_apireg }, { "apigetutilid", fu_l_apigetutilid },
        { "headerreg", fu_l_headerreg }, { "nocancel", fu_l_nocancel }, { "freshstate", fu_l_freshstate },
        { "strays", l_strays }, { NULL, NULL } };
    luaL_newlib(L, fns);
    return 1;
}

