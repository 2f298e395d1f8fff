/*
 * producer_threads.c -- the pthreads of dss_producer. Each delivers `items` items,
 * non-blocking or blocking, counting locally and merging into the producer when it
 * ends (per-delivery shared counters would make the benchmark measure cache-line
 * ping-pong instead of DSS).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "producer.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void pace(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Returns 0 to go on, -1 when the thread should stop. */
static int deliver_one(producer_thread *t, long long seq)
{
    producer *p = t->owner;
    int rc;
    if (t->blocking) {
        item it = { p, t->pid, 1, seq, OUTCOME_PENDING, 0 };
        double start = now_us();
        rc = dss_deliver(&producer_lib, p->utilid, producer_decode, producer_return, &it);
        double elapsed = now_us() - start;
        t->codes[code_slot(rc)]++;
        if (!dss_delivered(rc))
            return t->stop_on_error ? -1 : 0;
        t->outcomes[it.outcome]++;
        t->rtt_us[t->rtt_len++] = elapsed;
        return 0;
    }
    item *it = malloc(sizeof *it);
    if (it == NULL)
        return -1;
    *it = (item){ p, t->pid, 0, seq, OUTCOME_PENDING, 0 };
    rc = dss_deliver(&producer_lib, p->utilid, producer_decode, NULL, it);
    t->codes[code_slot(rc)]++;
    if (!dss_delivered(rc)) {
        free(it); /* refused: DSS never took it */
        return t->stop_on_error ? -1 : 0;
    }
    return 0;
}

static void merge(producer_thread *t)
{
    producer *p = t->owner;
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < CODE_SLOTS; i++)
        p->codes[i] += t->codes[i];
    for (int i = 0; i < OUTCOME_COUNT; i++)
        p->outcomes[i] += t->outcomes[i];
    if (t->rtt_len > 0) {
        if (p->rtt_len + t->rtt_len > p->rtt_cap) {
            size_t cap = (p->rtt_len + t->rtt_len) * 2;
            double *grown = realloc(p->rtt_us, cap * sizeof *grown);
            if (grown != NULL) {
                p->rtt_us = grown;
                p->rtt_cap = cap;
            }
        }
        if (p->rtt_len + t->rtt_len <= p->rtt_cap) {
            memcpy(p->rtt_us + p->rtt_len, t->rtt_us, t->rtt_len * sizeof *t->rtt_us);
            p->rtt_len += t->rtt_len;
        }
    }
    pthread_mutex_unlock(&p->lock);
}

static void *thread_main(void *arg)
{
    producer_thread *t = arg;
    for (long long seq = 1; seq <= t->items; seq++) {
        if (ATOMIC_GET(&t->owner->stopping))
            break;
        if (deliver_one(t, seq) != 0)
            break;
        if (t->pace_us > 0)
            pace(t->pace_us);
    }
    merge(t);
    __atomic_fetch_sub(&t->owner->running, 1, __ATOMIC_ACQ_REL);
    return NULL;
}

/* Lua thread. Returns 0, or an errno value when the thread could not be started. */
int producer_start_thread(producer *p, int pid, long long items, int blocking,
                          int stop_on_error, long pace_us)
{
    producer_thread *t = calloc(1, sizeof *t);
    if (t == NULL)
        return ENOMEM;
    *t = (producer_thread){ .owner = p, .pid = pid, .blocking = blocking,
                            .stop_on_error = stop_on_error, .items = items, .pace_us = pace_us };
    if (blocking && items > 0) {
        t->rtt_us = malloc((size_t)items * sizeof *t->rtt_us);
        if (t->rtt_us == NULL) {
            free(t);
            return ENOMEM;
        }
    }
    __atomic_fetch_add(&p->running, 1, __ATOMIC_ACQ_REL);
    int rc = pthread_create(&t->tid, NULL, thread_main, t);
    if (rc != 0) {
        __atomic_fetch_sub(&p->running, 1, __ATOMIC_ACQ_REL);
        free(t->rtt_us);
        free(t);
        return rc;
    }
    pthread_mutex_lock(&p->lock);
    t->next = p->threads;
    p->threads = t;
    pthread_mutex_unlock(&p->lock);
    return 0;
}

/* Lua thread. Joins every started thread. Blocks while a blocking delivery waits for
   an answer only Lua can give: call it when none is outstanding, or after unregister. */
void producer_join_all(producer *p)
{
    pthread_mutex_lock(&p->lock);
    producer_thread *list = p->threads;
    p->threads = NULL;
    pthread_mutex_unlock(&p->lock);
    while (list != NULL) {
        producer_thread *next = list->next;
        pthread_join(list->tid, NULL);
        free(list->rtt_us);
        free(list);
        list = next;
    }
}
