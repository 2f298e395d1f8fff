/*
 * faulty_hooks.c -- the decode, return and cancel hooks of faulty_utility, and what a
 * misbehaving hook does (unreg, deliver, stop, gc, race) before it pushes its values.
 * decode/ret run on the Lua thread, or with L == NULL on whichever thread unregisters;
 * cancel on any thread.
 */
#include "faulty_utility.h"
#include <stdio.h>

long fu_stray_cancels;

/* What cancel in mode "block" waits on, for ever. */
static pthread_mutex_t forever_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t forever = PTHREAD_COND_INITIALIZER; /* never signalled */

/* Lua thread, inside a "race" hook: wait until the worker of u:race() is about to unreg,
   give it time to be inside unreg, then unreg as well. Bounded waits: a worker that never
   comes cannot hang the test. */
static void race_in_hook(utility *u)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&u->sync);
    u->in_hook = 1;
    pthread_cond_broadcast(&u->changed);
    while (!u->worker_go && pthread_cond_timedwait(&u->changed, &u->sync, &deadline) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&u->sync);
    sleep_ms(100); /* the worker is inside unreg now, waiting for this hook or not */
    __atomic_store_n(&u->hook_unreg_rc, fu_api->unreg(u->utilid), __ATOMIC_RELEASE);
}

/* Lua thread: the things a misbehaving hook does before it pushes its values. */
static void act(lua_State *L, utility *u, int mode)
{
    switch (mode) {
    case M_UNREG: {
        int rc = fu_api->unreg(u->utilid);
        __atomic_store_n(&u->hook_unreg_rc, rc, __ATOMIC_RELEASE);
        count(u, rc == DSS_SUCCESS ? C_UNREG_SUCCESS : rc == DSS_ERR_INVALID_UTILID ? C_UNREG_INVALID : C_UNREG_OTHER);
        break;
    }
    case M_DELIVER: {
        item *extra = fu_new_item(u, 0, M_OK, M_OK, 0);
        int rc = extra == NULL ? DSS_ERR_OUT_OF_MEMORY : fu_deliver_item(u, extra, u->utilid);
        __atomic_store_n(&u->decode_deliver_rc, rc, __ATOMIC_RELEASE);
        break;
    }
    case M_STOP:
        lua_rawgeti(L, LUA_REGISTRYINDEX, u->stopper_ref);
        u->stop_ok = lua_pcall(L, 0, 0, 0) == LUA_OK;
        snprintf(u->stop_msg, sizeof u->stop_msg, "%s", u->stop_ok ? "" : lua_tostring(L, -1));
        if (!u->stop_ok)
            lua_pop(L, 1);
        break;
    case M_GC:
        lua_gc(L, LUA_GCCOLLECT, 0);
        break;
    case M_RACE:
        race_in_hook(u);
        break;
    default:
        break;
    }
}

int fu_decode(lua_State *L, void *pData, void *utilid)
{
    item *it = pData;
    utility *u = it->u;
    if (utilid != u->utilid)
        fu_violation(it, "decode with another utilid");
    if (L == NULL) {
        if (!move(it, ST_QUEUED, ST_ENDED)) {
            fu_violation(it, "decode(NULL)");
            return 0;
        }
        count(u, C_ENDED);
        count(u, C_DECODE_NULL);
        return 0;
    }
    if (!move(it, ST_QUEUED, ST_DECODING)) {
        fu_violation(it, "decode");
        return 0;
    }
    count(u, C_DECODED);
    act(L, u, it->dmode);
    int pushed = 2, returned = 2;
    switch (it->dmode) {
    case M_RAISE:
        fu_end(it, ST_DECODING, C_RAISED);
        return luaL_error(L, "faulty_utility: decode raised for item %d", it->tag);
    case M_MEMERR:
        fu_end(it, ST_DECODING, C_RAISED);
        lua_newuserdatauv(L, (size_t)1 << 62, 0);
        return 0;
    case M_ZERO:
        fu_end(it, ST_DECODING, C_TAKEN);
        return 0;
    case M_MANY:
        if (!lua_checkstack(L, it->n + 1)) {
            fu_end(it, ST_DECODING, C_TAKEN);
            return 0;
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, u->callback_ref);
        for (int i = 1; i <= it->n; i++)
            lua_pushinteger(L, i);
        pushed = returned = it->n + 1;
        break;
    case M_NOTFUNCTION:
        lua_pushinteger(L, 42);
        lua_pushinteger(L, it->tag);
        break;
    case M_UNDERCOUNT:
        lua_pushliteral(L, "junk");
        lua_rawgeti(L, LUA_REGISTRYINDEX, u->callback_ref);
        lua_pushinteger(L, it->tag);
        break;
    default:
        lua_rawgeti(L, LUA_REGISTRYINDEX, u->callback_ref);
        lua_pushinteger(L, it->tag);
        break;
    }
    if (it->dmode == M_OVERCOUNT)
        returned = 5;
    else if (it->dmode == M_NEGATIVE)
        returned = -1, pushed = 0;
    if (pushed == 0 || !it->blocking)
        fu_end(it, ST_DECODING, C_TAKEN);      /* DSS needs nothing more of this pData */
    else if (!move(it, ST_DECODING, ST_AWAITING))
        fu_violation(it, "decode's end");
    return returned;
}

int fu_ret(lua_State *L, void *pData, void *utilid, int garbage)
{
    item *it = pData;
    utility *u = it->u;
    if (utilid != u->utilid)
        fu_violation(it, "ret with another utilid");
    if (L == NULL) {
        if (!move(it, ST_AWAITING, ST_ENDED)) {
            fu_violation(it, "ret(NULL)");
            return 0;
        }
        count(u, C_ENDED);
        count(u, C_RET_NULL);
        return 0;
    }
    if (!move(it, ST_AWAITING, ST_ANSWERING)) {
        fu_violation(it, garbage ? "ret(garbage)" : "ret");
        return 0;
    }
    if (it->rmode == M_RAISE) {
        fu_end(it, ST_ANSWERING, C_RAISED);
        return luaL_error(L, "faulty_utility: ret raised for item %d", it->tag);
    }
    if (it->rmode == M_MEMERR) {
        fu_end(it, ST_ANSWERING, C_RAISED);
        lua_newuserdatauv(L, (size_t)1 << 62, 0);
        return 0;
    }
    if (garbage) {
        fu_end(it, ST_ANSWERING, C_GARBAGE);
        return 0;
    }
    act(L, u, it->rmode);
    fu_end(it, ST_ANSWERING, C_ANSWERED);
    lua_pushliteral(L, "answered");
    return 1;
}

static utility *find_live(void *utilid)
{
    pthread_mutex_lock(&fu_live_lock);
    utility *u = fu_live;
    while (u != NULL && u->utilid != utilid)
        u = u->next_live;
    pthread_mutex_unlock(&fu_live_lock);
    return u;
}

/* stop-DSS. Any thread. BLOCK and SLEEP never come back in a test's time and touch the
   utility no more: it may be closed meanwhile. */
void fu_cancel(void *utilid)
{
    utility *u = find_live(utilid);
    if (u == NULL) {
        __atomic_fetch_add(&fu_stray_cancels, 1, __ATOMIC_ACQ_REL);
        return;
    }
    count(u, C_CANCELS);
    __atomic_store_n(&u->stopping, 1, __ATOMIC_RELEASE);
    switch (u->cancel_mode) {
    case CANCEL_UNREG:
        __atomic_store_n(&u->cancel_unreg_rc, fu_api->unreg(utilid), __ATOMIC_RELEASE);
        break;
    case CANCEL_BLOCK:
        pthread_mutex_lock(&forever_lock);
        for (;;)
            pthread_cond_wait(&forever, &forever_lock);
    case CANCEL_SLEEP:
        sleep_ms(600000);
        break;
    default:
        break;
    }
}
