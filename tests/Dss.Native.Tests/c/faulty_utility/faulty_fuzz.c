/*
 * faulty_fuzz.c -- u:fuzz: pthreads making seeded random C ABI calls (deliver and unreg
 * with the valid, NULL, bogus and stale utilids, deliver without decode) and booking
 * every status code that is not the one the API promises.
 */
#include "faulty_utility.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned next_random(unsigned *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void wrong(utility *u, const job *j, int step, const char *call, int rc)
{
    count(u, C_WRONG);
    pthread_mutex_lock(&u->lock);
    if (u->first_wrong[0] == '\0')
        snprintf(u->first_wrong, sizeof u->first_wrong, "thread %d step %d: %s returned %s (%d)",
                 j->thread, step, call, dss_statusname(rc), rc);
    pthread_mutex_unlock(&u->lock);
}

static int refusal(int rc) { return rc == DSS_ERR_INVALID_UTILID || rc == DSS_ERR_NOT_STARTED; }

/* A seeded random sequence of C ABI calls. Once a delivery with the valid utilid was
   refused (unregistered, or DSS stopped), no later one may be accepted: old utilids stay
   invalid. Bogus utilids are large numbers, never a utilid DSS handed out. */
static void *fuzz_main(void *arg)
{
    job j = *(job *)arg;
    free(arg);
    utility *u = j.u;
    unsigned s = j.seed * 2654435761u + (unsigned)j.thread * 40503u + 1u;
    int refused_seen = 0;
    for (int step = 0; step < j.steps; step++) {
        unsigned r = next_random(&s);
        void *bogus = (void *)(uintptr_t)(((uint64_t)next_random(&s) << 24) | 0x10000000000ull);
        count(u, C_FUZZ_CALLS);
        int op = (int)(r % 11);
        if (op == 10 && (r % 997 != 0 || !j.valid_unreg))
            op = 0; /* unreg of the valid utilid: rare, or never */
        if (j.pace_us > 0)
            sleep_us(j.pace_us);
        item *it = NULL;
        int rc;
        switch (op) {
        case 0:
        case 1:
            it = fu_new_item(u, op == 1, M_OK, M_OK, 0);
            if (it == NULL)
                break;
            rc = fu_deliver_item(u, it, u->utilid);
            if (dss_delivered(rc)) {
                if (refused_seen)
                    wrong(u, &j, step, "deliver(utilid) after a refusal", rc);
            } else if (refusal(rc)) {
                refused_seen = 1;
            } else {
                wrong(u, &j, step, "deliver(utilid)", rc);
            }
            break;
        case 2:
        case 3:
        case 4: {
            void *id = op == 2 ? NULL : op == 3 ? bogus : j.stale;
            it = fu_new_item(u, (int)(r >> 8) & 1, M_OK, M_OK, 0);
            if (it == NULL)
                break;
            rc = fu_deliver_item(u, it, id);
            if (op == 4 ? !refusal(rc) : rc != DSS_ERR_INVALID_UTILID)
                wrong(u, &j, step, op == 2 ? "deliver(NULL)" : op == 3 ? "deliver(bogus)" : "deliver(stale)", rc);
            break;
        }
        case 5:
            rc = fu_api->deliver(u->utilid, NULL, NULL, NULL);
            if (rc != DSS_ERR_NO_DECODE_PROVIDED && !refusal(rc))
                wrong(u, &j, step, "deliver(utilid, decode NULL)", rc);
            break;
        case 6:
            rc = fu_api->deliver(NULL, NULL, fu_ret, NULL);
            if (rc != DSS_ERR_INVALID_UTILID && rc != DSS_ERR_NO_DECODE_PROVIDED)
                wrong(u, &j, step, "deliver(NULL, decode NULL)", rc);
            break;
        case 7:
            if ((rc = fu_api->unreg(NULL)) != DSS_ERR_INVALID_UTILID)
                wrong(u, &j, step, "unreg(NULL)", rc);
            break;
        case 8:
            if ((rc = fu_api->unreg(bogus)) != DSS_ERR_INVALID_UTILID)
                wrong(u, &j, step, "unreg(bogus)", rc);
            break;
        case 9:
            if ((rc = fu_api->unreg(j.stale)) != DSS_ERR_INVALID_UTILID)
                wrong(u, &j, step, "unreg(stale)", rc);
            break;
        default:
            rc = fu_api->unreg(u->utilid);
            count(u, rc == DSS_SUCCESS ? C_UNREG_SUCCESS : rc == DSS_ERR_INVALID_UTILID ? C_UNREG_INVALID : C_UNREG_OTHER);
            break;
        }
    }
    __atomic_fetch_sub(&u->running, 1, __ATOMIC_ACQ_REL);
    return NULL;
}

int fu_l_fuzz(lua_State *L)
{
    utility *u = fu_check_utility(L);
    unsigned seed = (unsigned)luaL_checkinteger(L, 2);
    int threads = (int)luaL_checkinteger(L, 3);
    int steps = (int)luaL_checkinteger(L, 4);
    void *stale = lua_touserdata(L, 5);
    int pace_us = (int)luaL_optinteger(L, 6, 0);
    int valid_unreg = lua_isnoneornil(L, 7) || lua_toboolean(L, 7);
    for (int t = 1; t <= threads; t++) {
        job *j = fu_new_job(L, u);
        j->thread = t;
        j->seed = seed;
        j->steps = steps;
        j->stale = stale;
        j->pace_us = pace_us;
        j->valid_unreg = valid_unreg;
        fu_start_thread(L, u, fuzz_main, j);
    }
    return 0;
}
