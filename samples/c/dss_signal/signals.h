/*
 * signals.h -- dss_signal: POSIX signals (SIGINT, SIGTERM, ...) as Lua callbacks, in the
 * spirit of the original's luaexit.
 *
 * A signal handler may run on any thread, between any two instructions, so it may do
 * almost nothing: ours writes the signal number to a self-pipe (write() is
 * async-signal-safe) and returns. A reader thread of the utility reads the pipe and
 * calls deliver, which takes locks and allocates, so it must never run in a handler.
 *
 * Signals are process-wide, watchers are per Lua state: one pipe and one reader thread
 * serve every state that watches; the handlers are installed while at least one state
 * watches that signal, and the previous ones are restored afterwards.
 */
#ifndef DSS_SIGNALS_H
#define DSS_SIGNALS_H

#include <signal.h>
#include "darksidesync_api.h"
#include "owners.h"

DSS_LIB_DECLARE(signal_lib);
extern owner_set signal_owners;

/* One Lua state's subscription. Linked into the watcher list while active. */
typedef struct watcher {
    void *utilid;
    unsigned long long mask;   /* bit n: signal n is watched; fixed at creation */
    int cb_ref;                /* Lua thread only */
    int active;                /* guarded by the signal lock: the reader delivers to it */
    long received, delivered, cancelled; /* atomic */
    struct watcher *next;      /* guarded by the signal lock */
} watcher;

/* signals_core.c; all on the Lua thread except signal_deactivate (any thread). */
int signal_attach(watcher *w);      /* 0, or an errno value */
void signal_detach(watcher *w);     /* restores handlers / stops the reader when last */
void signal_deactivate(watcher *w); /* stop delivering to w (cancel) */
int signal_from_name(const char *name);
const char *signal_name(int signum);

#endif
