/*
 * producer_lua.c -- the Lua face of dss_producer.
 *
 *   local producer = require "dss_producer"
 *   local u, code = producer.new{ callback = f, cancel = "unreg"|"ignore", push = true }
 *   u:start{ threads = 4, items = 100000, blocking = false, stop_on_error = true, pace_us = 0 }
 *   u:deliver(n)        -- n non-blocking items from the Lua thread itself (pid 0)
 *   u:running()         -- threads not finished yet
 *   u:join()            -- joins the threads (never while a blocking item waits for Lua)
 *   u:stats(), u:latency([reset]), u:utilid(), u:unregister(), u:close()
 *   producer.codes, producer.statusname(code), producer.raw.*  (see producer_raw.c)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "producer.h"
#include "status_lua.h"

DSS_LIB_DEFINE(producer_lib, "dss_producer");
owner_set producer_owners = OWNER_SET_INIT;

#define PRODUCER_MT "dss_producer.producer"

static producer **check_slot(lua_State *L)
{
    return (producer **)luaL_checkudata(L, 1, PRODUCER_MT);
}

static producer *check_producer(lua_State *L)
{
    producer *p = *check_slot(L);
    luaL_argcheck(L, p != NULL, 1, "producer is closed");
    return p;
}

static int opt_field_bool(lua_State *L, int t, const char *k, int def)
{
    int v = def;
    if (lua_getfield(L, t, k) != LUA_TNIL)
        v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static lua_Integer opt_field_int(lua_State *L, int t, const char *k, lua_Integer def)
{
    lua_Integer v = def;
    if (lua_getfield(L, t, k) != LUA_TNIL) {
        int isnum;
        v = lua_tointegerx(L, -1, &isnum);
        if (!isnum)
            luaL_error(L, "field '%s' must be an integer", k);
    }
    lua_pop(L, 1);
    return v;
}

/* Lua thread. Unregisters (if still registered), joins the threads, frees everything. */
static void producer_destroy(lua_State *L, producer *p)
{
    owner_set_remove(&producer_owners, p); /* waits for a cancel in progress */
    ATOMIC_SET(&p->stopping, 1);
    if (!p->unregistered) {
        /* INVALID_UTILID is fine: DSS (stop-DSS) or an earlier unregister() did it.
           Either way, once unreg returns no hook of ours runs again and no thread of
           ours is blocked in deliver, so the joins below cannot hang. */
        dss_unregister(&producer_lib, p->utilid);
        p->unregistered = 1;
    }
    producer_join_all(p);
    luaL_unref(L, LUA_REGISTRYINDEX, p->cb_ref);
    pthread_mutex_destroy(&p->lock);
    free(p->last_seq);
    free(p->rtt_us);
    free(p);
}

static int l_new(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "callback");
    luaL_argcheck(L, lua_isfunction(L, -1), 1, "field 'callback' must be a function");
    lua_pop(L, 1);
    static const char *const modes[] = { "unreg", "ignore", NULL };
    lua_getfield(L, 1, "cancel");
    int mode = luaL_checkoption(L, -1, "unreg", modes);
    lua_pop(L, 1);
    int push = opt_field_bool(L, 1, "push", 1);

    producer **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, PRODUCER_MT);

    int code = DSS_SUCCESS;
    void *utilid = dss_register(L, &producer_lib, producer_cancel, &code);
    if (utilid == NULL || code == DSS_ERR_ALREADY_REGISTERED) {
        /* One registration per state and library: a second producer would share the
           first one's utilid, so refuse it and tell which utilid already exists. */
        lua_pushnil(L);
        lua_pushinteger(L, code);
        lua_pushinteger(L, utilid_to_lua(utilid));
        return 3;
    }
    producer *p = calloc(1, sizeof *p);
    if (p == NULL) {
        dss_unregister(&producer_lib, utilid);
        return luaL_error(L, "dss_producer: out of memory");
    }
    pthread_mutex_init(&p->lock, NULL);
    p->utilid = utilid;
    p->cancel_mode = mode;
    p->push = push;
    p->last_seq_len = 1;
    p->last_seq = calloc(1, sizeof *p->last_seq);
    p->next_pid = 1;
    lua_getfield(L, 1, "callback");
    p->cb_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (p->last_seq == NULL || owner_set_add(&producer_owners, utilid, p) != 0) {
        producer_destroy(L, p);
        return luaL_error(L, "dss_producer: out of memory");
    }
    *slot = p;
    lua_pushinteger(L, code);
    return 2;
}

static int l_start(lua_State *L)
{
    producer *p = check_producer(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer threads = opt_field_int(L, 2, "threads", 1);
    lua_Integer items = opt_field_int(L, 2, "items", 1);
    lua_Integer pace_us = opt_field_int(L, 2, "pace_us", 0);
    int blocking = opt_field_bool(L, 2, "blocking", 0);
    int stop_on_error = opt_field_bool(L, 2, "stop_on_error", 1);
    luaL_argcheck(L, threads >= 1 && threads <= 1024, 2, "threads must be 1..1024");
    luaL_argcheck(L, items >= 0, 2, "items must be >= 0");
    luaL_argcheck(L, pace_us >= 0, 2, "pace_us must be >= 0");
    if (lua_getfield(L, 2, "callback") == LUA_TFUNCTION) {
        luaL_unref(L, LUA_REGISTRYINDEX, p->cb_ref); /* decode reads the ref when it runs */
        p->cb_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    } else {
        lua_pop(L, 1);
    }

    /* Grow the FIFO table before any new pid can be decoded (decode runs on this thread). */
    int first = p->next_pid;
    int need = first + (int)threads;
    long long *grown = realloc(p->last_seq, (size_t)need * sizeof *grown);
    if (grown == NULL)
        return luaL_error(L, "dss_producer: out of memory");
    memset(grown + p->last_seq_len, 0, (size_t)(need - p->last_seq_len) * sizeof *grown);
    p->last_seq = grown;
    p->last_seq_len = need;
    p->next_pid = need;

    for (int i = 0; i < threads; i++) {
        int rc = producer_start_thread(p, first + i, items, blocking, stop_on_error, (long)pace_us);
        if (rc != 0)
            return luaL_error(L, "dss_producer: cannot start thread %d: %s", i + 1, strerror(rc));
    }
    lua_pushinteger(L, first); /* pids are first .. first + threads - 1 */
    return 1;
}

/* Non-blocking deliveries from the Lua thread itself: deterministic queue contents for
   tests (blocking ones would wait for this very thread). Returns accepted, last code. */
static int l_deliver(lua_State *L)
{
    producer *p = check_producer(L);
    lua_Integer n = luaL_optinteger(L, 2, 1);
    lua_Integer accepted = 0;
    int rc = DSS_SUCCESS;
    for (lua_Integer i = 0; i < n; i++) {
        item *it = malloc(sizeof *it);
        if (it == NULL)
            return luaL_error(L, "dss_producer: out of memory");
        *it = (item){ p, 0, 0, ++p->lua_seq, OUTCOME_PENDING, 0 };
        rc = dss_deliver(&producer_lib, p->utilid, producer_decode, NULL, it);
        pthread_mutex_lock(&p->lock);
        p->codes[code_slot(rc)]++;
        pthread_mutex_unlock(&p->lock);
        if (!dss_delivered(rc)) {
            free(it);
            break;
        }
        accepted++;
    }
    lua_pushinteger(L, accepted);
    lua_pushinteger(L, rc);
    return 2;
}

static int l_running(lua_State *L)
{
    lua_pushinteger(L, ATOMIC_GET(&check_producer(L)->running));
    return 1;
}

static int l_join(lua_State *L)
{
    producer_join_all(check_producer(L));
    lua_pushboolean(L, 1);
    return 1;
}

static void set_count(lua_State *L, const char *k, long v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static int l_stats(lua_State *L)
{
    producer *p = check_producer(L);
    static const char *const outcome_names[OUTCOME_COUNT] = {
        "pending", "decoded", "answered", "garbage", "cancelled" };
    lua_createtable(L, 0, 16);
    set_count(L, "utilid", (long)utilid_to_lua(p->utilid));
    set_count(L, "running", ATOMIC_GET(&p->running));
    set_count(L, "decode", ATOMIC_GET(&p->decode_calls));
    set_count(L, "decode_null", ATOMIC_GET(&p->decode_null));
    set_count(L, "ret", ATOMIC_GET(&p->ret_calls));
    set_count(L, "ret_null", ATOMIC_GET(&p->ret_null));
    set_count(L, "ret_garbage", ATOMIC_GET(&p->ret_garbage));
    set_count(L, "cancel", ATOMIC_GET(&p->cancel_calls));
    set_count(L, "fifo_violations", ATOMIC_GET(&p->fifo_violations));
    int cu = ATOMIC_GET(&p->cancel_unreg_code);
    if (cu != 0)
        set_count(L, "cancel_unreg", cu);
    pthread_mutex_lock(&p->lock);
    lua_createtable(L, 0, CODE_SLOTS);          /* delivered = { SUCCESS = n, ... } by name */
    long delivered = 0;
    for (int i = 0; i < CODE_SLOTS; i++) {
        if (p->codes[i] == 0)
            continue;
        set_count(L, i == 0 ? "OTHER" : dss_statusname(slot_code(i)), p->codes[i]);
        delivered += p->codes[i];
    }
    lua_setfield(L, -2, "codes");
    set_count(L, "deliveries", delivered);
    lua_createtable(L, 0, OUTCOME_COUNT);       /* outcomes of blocking deliveries */
    for (int i = 0; i < OUTCOME_COUNT; i++)
        set_count(L, outcome_names[i], p->outcomes[i]);
    lua_setfield(L, -2, "outcomes");
    pthread_mutex_unlock(&p->lock);
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Round trips of blocking deliveries in microseconds: count, mean, p50, p90, p99, max.
   u:latency(true) also forgets them, so the next run is measured on its own. */
static int l_latency(lua_State *L)
{
    producer *p = check_producer(L);
    int reset = lua_toboolean(L, 2);
    pthread_mutex_lock(&p->lock);
    size_t n = p->rtt_len;
    double *copy = n ? malloc(n * sizeof *copy) : NULL;
    if (copy != NULL)
        memcpy(copy, p->rtt_us, n * sizeof *copy);
    if (reset && (copy != NULL || n == 0))
        p->rtt_len = 0;
    pthread_mutex_unlock(&p->lock);
    if (n > 0 && copy == NULL)
        return luaL_error(L, "dss_producer: out of memory");
    lua_createtable(L, 0, 6);
    lua_pushinteger(L, (lua_Integer)n);
    lua_setfield(L, -2, "count");
    if (n > 0) {
        qsort(copy, n, sizeof *copy, cmp_double);
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += copy[i];
        static const struct { const char *k; double q; } qs[] = {
            { "p50", 0.50 }, { "p90", 0.90 }, { "p99", 0.99 }, { "max", 1.0 } };
        for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
            size_t at = (size_t)(qs[i].q * (double)(n - 1) + 0.5);
            lua_pushnumber(L, copy[at]);
            lua_setfield(L, -2, qs[i].k);
        }
        lua_pushnumber(L, sum / (double)n);
        lua_setfield(L, -2, "mean");
    }
    free(copy);
    return 1;
}

static int l_utilid(lua_State *L)
{
    lua_pushinteger(L, utilid_to_lua(check_producer(L)->utilid));
    return 1;
}

/* Stop-utility from the utility's side. The threads go on and see deliver refuse. */
static int l_unregister(lua_State *L)
{
    producer *p = check_producer(L);
    int rc = dss_unregister(&producer_lib, p->utilid);
    p->unregistered = 1;
    lua_pushinteger(L, rc);
    return 1;
}

static int l_close(lua_State *L)
{
    producer **slot = check_slot(L);
    if (*slot != NULL) {
        producer *p = *slot;
        *slot = NULL;
        producer_destroy(L, p);
    }
    return 0;
}

static int l_statusname(lua_State *L)
{
    lua_pushstring(L, dss_statusname((int)luaL_checkinteger(L, 1)));
    return 1;
}

int luaopen_dss_producer(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "start", l_start }, { "deliver", l_deliver }, { "running", l_running },
        { "join", l_join }, { "stats", l_stats }, { "latency", l_latency },
        { "utilid", l_utilid }, { "unregister", l_unregister }, { "close", l_close },
        { NULL, NULL } };
    if (luaL_newmetatable(L, PRODUCER_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);

    lua_createtable(L, 0, 4);
    lua_pushcfunction(L, l_new);
    lua_setfield(L, -2, "new");
    lua_pushcfunction(L, l_statusname);
    lua_setfield(L, -2, "statusname");
    push_status_codes(L);
    lua_setfield(L, -2, "codes");
    producer_push_raw(L);
    lua_setfield(L, -2, "raw");
    return 1;
}
