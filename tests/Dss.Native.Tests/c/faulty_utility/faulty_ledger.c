/*
 * faulty_ledger.c -- the items of faulty_utility and the exactly-once ledger: every
 * delivery's state moves QUEUED -> (DECODING -> AWAITING -> ANSWERING ->) ENDED or
 * REFUSED once; a hook that finds an item in another state is a violation, and
 * fu_check_result compares the counters when the utility is quiet.
 */
#include "faulty_utility.h"
#include <stdio.h>
#include <stdlib.h>

static const char *state_name(int s)
{
    static const char *const names[] = { "new", "queued", "decoding", "awaiting", "answering", "ended", "refused" };
    return s >= 0 && s <= ST_REFUSED ? names[s] : "?";
}

/* A hook found the item in a state it may not be in: DSS called one hook too many. */
void fu_violation(item *it, const char *hook)
{
    utility *u = it->u;
    int s = __atomic_load_n(&it->state, __ATOMIC_ACQUIRE);
    count(u, s == ST_REFUSED ? C_REFUSED_HOOKED : C_VIOLATIONS);
    pthread_mutex_lock(&u->lock);
    if (u->first_violation[0] == '\0')
        snprintf(u->first_violation, sizeof u->first_violation, "%s on item %d (%s/%s) in state %s",
                 hook, it->tag, fu_mode_names[it->dmode], fu_mode_names[it->rmode], state_name(s));
    pthread_mutex_unlock(&u->lock);
}

/* The item's delivery is over, the way `how` says. */
void fu_end(item *it, int from, int how)
{
    if (!move(it, from, ST_ENDED)) {
        fu_violation(it, "end");
        return;
    }
    count(it->u, C_ENDED);
    count(it->u, how);
}

item *fu_new_item(utility *u, int blocking, int dmode, int rmode, int n)
{
    item *it = calloc(1, sizeof *it);
    if (it == NULL)
        return NULL;
    it->u = u;
    it->tag = __atomic_add_fetch(&u->next_tag, 1, __ATOMIC_ACQ_REL);
    it->blocking = blocking;
    it->dmode = dmode;
    it->rmode = rmode;
    it->n = n;
    it->state = ST_NEW;
    pthread_mutex_lock(&u->lock);
    it->next = u->items;
    u->items = it;
    pthread_mutex_unlock(&u->lock);
    return it;
}

/* Any thread. Hands the item to DSS (blocking ones wait here) and books the outcome. */
int fu_deliver_item(utility *u, item *it, void *utilid)
{
    __atomic_store_n(&it->state, ST_QUEUED, __ATOMIC_RELEASE); /* before: a hook may run at once */
    int rc = fu_api->deliver(utilid, fu_decode, it->blocking ? fu_ret : NULL, it);
    if (dss_delivered(rc)) {
        count(u, C_ACCEPTED);
        if (it->blocking) {
            count(u, C_BLOCKING);
            count(u, C_RELEASED);
            if (__atomic_load_n(&it->state, __ATOMIC_ACQUIRE) != ST_ENDED)
                count(u, C_EARLY); /* released while its delivery was still going on */
        }
    } else {
        if (!move(it, ST_QUEUED, ST_REFUSED))
            count(u, C_REFUSED_HOOKED); /* refused, yet a hook saw it */
        count(u, C_REFUSED);
    }
    return rc;
}

/* "ok", or what is wrong with the exactly-once invariants. Call when the utility's
   threads were joined and nothing is outstanding (after unreg or stop). */
int fu_check_result(lua_State *L, utility *u)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    long accepted = counted(u, C_ACCEPTED), ended = counted(u, C_ENDED);
    long kinds = counted(u, C_TAKEN) + counted(u, C_ANSWERED) + counted(u, C_GARBAGE) +
                 counted(u, C_DECODE_NULL) + counted(u, C_RET_NULL) + counted(u, C_RAISED);
    char line[400];
    if (ended != accepted) {
        snprintf(line, sizeof line, "%ld accepted but %ld ended; ", accepted, ended);
        luaL_addstring(&b, line);
    }
    if (kinds != ended) {
        snprintf(line, sizeof line, "%ld ended but %ld outcomes; ", ended, kinds);
        luaL_addstring(&b, line);
    }
    if (counted(u, C_RELEASED) != counted(u, C_BLOCKING)) {
        snprintf(line, sizeof line, "%ld blocking accepted but %ld released; ", counted(u, C_BLOCKING), counted(u, C_RELEASED));
        luaL_addstring(&b, line);
    }
    if (counted(u, C_EARLY) != 0) {
        snprintf(line, sizeof line, "%ld producers released before their delivery ended; ", counted(u, C_EARLY));
        luaL_addstring(&b, line);
    }
    if (counted(u, C_VIOLATIONS) != 0 || counted(u, C_REFUSED_HOOKED) != 0) {
        pthread_mutex_lock(&u->lock);
        snprintf(line, sizeof line, "%ld hook calls too many, %ld on refused items (first: %s); ",
                 counted(u, C_VIOLATIONS), counted(u, C_REFUSED_HOOKED), u->first_violation);
        pthread_mutex_unlock(&u->lock);
        luaL_addstring(&b, line);
    }
    if (counted(u, C_WRONG) != 0) {
        pthread_mutex_lock(&u->lock);
        snprintf(line, sizeof line, "%ld wrong status codes (first: %s); ", counted(u, C_WRONG), u->first_wrong);
        pthread_mutex_unlock(&u->lock);
        luaL_addstring(&b, line);
    }
    luaL_pushresult(&b);
    if (lua_rawlen(L, -1) == 0) {
        lua_pop(L, 1);
        lua_pushliteral(L, "ok");
    }
    return 1;
}
