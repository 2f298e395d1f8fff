/*
 * producer_hooks.c -- the decode, return and cancel hooks of dss_producer.
 * decode/ret run on the Lua thread, or with L == NULL on whichever thread unregisters.
 */
#include <stdlib.h>
#include "producer.h"

/* Lua thread. Items of one producer must come out in the order it delivered them. */
static void check_fifo(producer *p, const item *it)
{
    if (it->pid < 0 || it->pid >= p->last_seq_len)
        return;
    if (it->seq <= p->last_seq[it->pid])
        ATOMIC_INC(&p->fifo_violations);
    p->last_seq[it->pid] = it->seq;
}

int producer_decode(lua_State *L, void *pData, void *utilid)
{
    item *it = pData;
    producer *p = it->owner;
    (void)utilid;
    if (L == NULL) {
        /* Cancelled while queued: release it; a blocked deliverer sees the outcome. */
        ATOMIC_INC(&p->decode_null);
        it->outcome = OUTCOME_CANCELLED;
        if (!it->blocking)
            free(it);
        return 0;
    }
    ATOMIC_INC(&p->decode_calls);
    check_fifo(p, it);
    /* lua_checkstack reports failure instead of raising: decode must never raise. */
    if (!p->push || !lua_checkstack(L, 3)) {
        it->outcome = OUTCOME_DECODED;
        if (!it->blocking)
            free(it);
        return 0;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->cb_ref);
    lua_pushinteger(L, it->pid);
    lua_pushinteger(L, (lua_Integer)it->seq);
    if (it->blocking)
        it->outcome = OUTCOME_DECODED; /* until ret records the answer */
    else
        free(it);
    return 3;
}

int producer_return(lua_State *L, void *pData, void *utilid, int garbage)
{
    item *it = pData;
    producer *p = it->owner;
    (void)utilid;
    if (L == NULL) {
        /* Cancelled while Lua held the waitingthread_callback. */
        ATOMIC_INC(&p->ret_null);
        it->outcome = OUTCOME_CANCELLED;
        return 0;
    }
    if (garbage) {
        ATOMIC_INC(&p->ret_garbage);
        it->outcome = OUTCOME_GARBAGE;
        return 0;
    }
    ATOMIC_INC(&p->ret_calls);
    it->answer = lua_gettop(L) >= 1 ? (long long)lua_tointeger(L, 1) : 0;
    it->outcome = OUTCOME_ANSWERED;
    if (!lua_checkstack(L, 1))
        return 0;
    lua_pushinteger(L, (lua_Integer)it->answer); /* echoed: args[1](x) returns x */
    return 1;
}

/* Runs with the owner set locked, so the producer cannot be freed meanwhile. */
static void cancel_owner(void *owner)
{
    producer *p = owner;
    ATOMIC_INC(&p->cancel_calls);
    ATOMIC_SET(&p->stopping, 1);
    if (p->cancel_mode == CANCEL_UNREG)
        ATOMIC_SET(&p->cancel_unreg_code, dss_unregister(&producer_lib, p->utilid));
    /* CANCEL_IGNORE: return still registered; DSS has to unregister us itself. The
       threads stop on the flag, or when deliver starts refusing. */
}

/* stop-DSS, any thread. A utilid without a producer came from producer.raw.reg. */
void producer_cancel(void *utilid)
{
    if (!owner_set_call(&producer_owners, utilid, cancel_owner))
        raw_cancel(utilid);
}
