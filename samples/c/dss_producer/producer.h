/*
 * producer.h -- dss_producer, a threaded producer utility for tests and benchmarks.
 *
 * One `producer` per Lua state (DSS allows one registration per state and library).
 * Its pthreads deliver items carrying (producer id, sequence number); the hooks count
 * what DSS did with them so a Lua script can check it: codes returned by deliver,
 * decode/return calls with and without a Lua state, FIFO order per producer thread,
 * and round-trip times of blocking deliveries.
 */
#ifndef DSS_PRODUCER_H
#define DSS_PRODUCER_H

#include <pthread.h>
#include <stddef.h>
#include "darksidesync_api.h"
#include "owners.h"

DSS_LIB_DECLARE(producer_lib);
extern owner_set producer_owners;

/* Codes -99..-108 map to slots 1..10; slot 0 counts anything else. */
#define CODE_SLOTS 11
static inline int code_slot(int code) { return (code <= -99 && code >= -108) ? -code - 98 : 0; }
static inline int slot_code(int slot) { return -(slot + 98); }

/* What happened to one item, as its hooks saw it. */
enum item_outcome {
    OUTCOME_PENDING,    /* no hook saw it: a bug if a blocking deliver returned with this */
    OUTCOME_DECODED,    /* decode ran and pushed nothing: done without an answer */
    OUTCOME_ANSWERED,   /* ret ran with Lua's answer */
    OUTCOME_GARBAGE,    /* ret ran because Lua dropped the waitingthread_callback */
    OUTCOME_CANCELLED,  /* decode or ret ran with L == NULL */
    OUTCOME_COUNT
};

enum cancel_mode {
    CANCEL_UNREG,   /* a well-behaved utility: cancel stops the threads and unregisters */
    CANCEL_IGNORE,  /* cancel only stops the threads: DSS must unregister the utility */
};

typedef struct producer producer;

/* One delivery. Non-blocking: malloc'd, freed by decode. Blocking: on the stack of the
   thread that waits in deliver, so it lives exactly as long as DSS may use it. */
typedef struct item {
    producer *owner;
    int pid;               /* producer thread id; 0 for items delivered by the Lua thread */
    int blocking;
    long long seq;         /* 1, 2, 3, ... per producer */
    int outcome;           /* enum item_outcome; written by hooks, read after release */
    long long answer;      /* what Lua passed to args[1] (its first value, as an integer) */
} item;

/* One started pthread and what it counted; merged into the producer when it ends. */
typedef struct producer_thread {
    producer *owner;
    pthread_t tid;
    int pid;
    int blocking;
    int stop_on_error;
    long long items;
    long pace_us;
    long codes[CODE_SLOTS];
    long outcomes[OUTCOME_COUNT];
    double *rtt_us;        /* blocking only: one entry per delivery that was handed over */
    size_t rtt_len;
    struct producer_thread *next;
} producer_thread;

struct producer {
    void *utilid;               /* set before any thread starts; never changes */
    int cancel_mode;
    int push;                   /* decode pushes (callback, pid, seq) or nothing */
    int cb_ref;                 /* registry ref of the Lua callback; Lua thread only */
    int stopping;               /* atomic: set by cancel and close; threads stop delivering */
    int running;                /* atomic: threads started and not finished */
    int unregistered;           /* Lua thread: our own unreg returned */
    long long lua_seq;          /* sequence of items the Lua thread delivered (pid 0) */

    /* Hook counters: atomic, relaxed. Hooks of one utility never run concurrently, but
       stats() may read them on the Lua thread while an unregistering thread writes. */
    long decode_calls, decode_null, ret_calls, ret_null, ret_garbage, cancel_calls;
    long fifo_violations;
    int cancel_unreg_code;      /* what unreg returned inside cancel; 0 when not called */

    /* Last sequence number decoded per pid: decode with a Lua state (the Lua thread) only. */
    long long *last_seq;
    int last_seq_len;

    pthread_mutex_t lock;       /* guards everything below */
    producer_thread *threads;   /* started, not yet joined */
    int next_pid;
    long codes[CODE_SLOTS];
    long outcomes[OUTCOME_COUNT];
    double *rtt_us;
    size_t rtt_len, rtt_cap;
};

/* producer_hooks.c */
int producer_decode(lua_State *L, void *pData, void *utilid);
int producer_return(lua_State *L, void *pData, void *utilid, int garbage);
void producer_cancel(void *utilid);
void raw_cancel(void *utilid);

/* producer_threads.c */
int producer_start_thread(producer *p, int pid, long long items, int blocking,
                          int stop_on_error, long pace_us);
void producer_join_all(producer *p);

/* producer_raw.c */
void producer_push_raw(lua_State *L);

#define ATOMIC_INC(p)     __atomic_fetch_add((p), 1, __ATOMIC_RELAXED)
#define ATOMIC_GET(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ATOMIC_SET(p, v)  __atomic_store_n((p), (v), __ATOMIC_RELEASE)

#endif
