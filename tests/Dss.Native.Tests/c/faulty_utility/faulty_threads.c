/*
 * faulty_threads.c -- deliveries of faulty_utility: u:deliver from the Lua thread, and
 * the pthreads of u:ask, u:produce, u:race and u:unregmany; starting and joining them.
 */
#include "faulty_utility.h"
#include <stdlib.h>

/* u:race()'s worker: waits until a "race" hook runs (race_in_hook in faulty_hooks.c
   waits for this worker in turn), then unregs while the hook is still going on. */
static void *race_worker(void *arg)
{
    utility *u = arg;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&u->sync);
    while (!u->in_hook && pthread_cond_timedwait(&u->changed, &u->sync, &deadline) != ETIMEDOUT) {
    }
    u->worker_go = 1;
    pthread_cond_broadcast(&u->changed);
    pthread_mutex_unlock(&u->sync);
    __atomic_store_n(&u->worker_unreg_rc, fu_api->unreg(u->utilid), __ATOMIC_RELEASE);
    __atomic_fetch_sub(&u->running, 1, __ATOMIC_ACQ_REL);
    return NULL;
}

static void *producer_main(void *arg)
{
    job j = *(job *)arg;
    free(arg);
    utility *u = j.u;
    for (int i = 0; i < j.items && !__atomic_load_n(&u->stopping, __ATOMIC_ACQUIRE); i++) {
        item *it = fu_new_item(u, j.blocking, j.dmode, j.rmode, j.n);
        if (it == NULL || !dss_delivered(fu_deliver_item(u, it, u->utilid)))
            break;
        if (j.pace_us > 0)
            sleep_us(j.pace_us);
    }
    __atomic_fetch_sub(&u->running, 1, __ATOMIC_ACQ_REL);
    return NULL;
}

/* One of u:unregmany(k)'s threads: all k call unreg at once. */
static void *unreg_main(void *arg)
{
    utility *u = arg;
    pthread_barrier_wait(&u->barrier);
    int rc = fu_api->unreg(u->utilid);
    count(u, rc == DSS_SUCCESS ? C_UNREG_SUCCESS : rc == DSS_ERR_INVALID_UTILID ? C_UNREG_INVALID : C_UNREG_OTHER);
    __atomic_fetch_sub(&u->running, 1, __ATOMIC_ACQ_REL);
    return NULL;
}

void fu_start_thread(lua_State *L, utility *u, void *(*main)(void *), void *arg)
{
    if (u->nthreads == u->capacity) {
        int capacity = u->capacity == 0 ? 16 : u->capacity * 2;
        pthread_t *grown = realloc(u->threads, sizeof *grown * (size_t)capacity);
        if (grown == NULL) {
            free(arg);
            luaL_error(L, "faulty_utility: out of memory");
        }
        u->threads = grown;
        u->capacity = capacity;
    }
    __atomic_fetch_add(&u->running, 1, __ATOMIC_ACQ_REL);
    if (pthread_create(&u->threads[u->nthreads], NULL, main, arg) != 0) {
        __atomic_fetch_sub(&u->running, 1, __ATOMIC_ACQ_REL);
        if (arg != u)
            free(arg);
        luaL_error(L, "faulty_utility: cannot start a thread");
    }
    u->nthreads++;
}

job *fu_new_job(lua_State *L, utility *u)
{
    job *j = calloc(1, sizeof *j);
    if (j == NULL)
        luaL_error(L, "faulty_utility: out of memory");
    j->u = u;
    return j;
}

static int opt_mode(lua_State *L, int arg)
{
    return luaL_checkoption(L, arg, "ok", fu_mode_names);
}

int fu_l_deliver(lua_State *L)
{
    utility *u = fu_check_utility(L);
    item *it = fu_new_item(u, 0, opt_mode(L, 2), M_OK, (int)luaL_optinteger(L, 3, 0));
    if (it == NULL)
        return luaL_error(L, "faulty_utility: out of memory");
    int rc = fu_deliver_item(u, it, u->utilid);
    lua_pushinteger(L, it->tag);
    lua_pushstring(L, dss_statusname(rc));
    return 2;
}

int fu_l_ask(lua_State *L)
{
    utility *u = fu_check_utility(L);
    job *j = fu_new_job(L, u);
    j->items = 1;
    j->blocking = 1;
    j->dmode = opt_mode(L, 2);
    j->rmode = opt_mode(L, 3);
    j->n = (int)luaL_optinteger(L, 4, 0);
    fu_start_thread(L, u, producer_main, j);
    return 0;
}

static int field_int(lua_State *L, const char *key, int def)
{
    lua_getfield(L, 2, key);
    int v = (int)luaL_optinteger(L, -1, def);
    lua_pop(L, 1);
    return v;
}

static int field_mode(lua_State *L, const char *key)
{
    lua_getfield(L, 2, key);
    int v = luaL_checkoption(L, -1, "ok", fu_mode_names);
    lua_pop(L, 1);
    return v;
}

int fu_l_produce(lua_State *L)
{
    utility *u = fu_check_utility(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    int threads = field_int(L, "threads", 1);
    lua_getfield(L, 2, "blocking");
    int blocking = lua_toboolean(L, -1);
    lua_pop(L, 1);
    for (int t = 0; t < threads; t++) {
        job *j = fu_new_job(L, u);
        j->items = field_int(L, "items", 1);
        j->blocking = blocking;
        j->dmode = field_mode(L, "mode");
        j->rmode = field_mode(L, "retmode");
        j->n = field_int(L, "n", 0);
        j->pace_us = field_int(L, "pace_us", 0);
        fu_start_thread(L, u, producer_main, j);
    }
    return 0;
}

int fu_l_race(lua_State *L)
{
    utility *u = fu_check_utility(L);
    fu_start_thread(L, u, race_worker, u);
    return 0;
}

int fu_l_unregmany(lua_State *L)
{
    utility *u = fu_check_utility(L);
    int k = (int)luaL_checkinteger(L, 2);
    luaL_argcheck(L, k >= 1 && k <= 256 && !u->barrier_ready, 2, "1..256 threads, once");
    pthread_barrier_init(&u->barrier, NULL, (unsigned)k);
    u->barrier_ready = 1;
    for (int i = 0; i < k; i++)
        fu_start_thread(L, u, unreg_main, u);
    return 0;
}

void fu_join_all(utility *u)
{
    for (int i = 0; i < u->nthreads; i++)
        pthread_join(u->threads[i], NULL);
    u->nthreads = 0;
}

int fu_l_join(lua_State *L)
{
    fu_join_all(fu_check_utility(L));
    return 0;
}

int fu_l_running(lua_State *L)
{
    lua_pushinteger(L, __atomic_load_n(&fu_check_utility(L)->running, __ATOMIC_ACQUIRE));
    return 1;
}
