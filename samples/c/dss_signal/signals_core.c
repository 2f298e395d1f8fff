/*
 * signals_core.c -- the process-wide part of dss_signal: the self-pipe, the handler,
 * the reader thread, and installing/restoring the handlers.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "signals.h"

static const struct { const char *name; int signum; } known[] = {
    { "INT", SIGINT }, { "TERM", SIGTERM }, { "HUP", SIGHUP }, { "QUIT", SIGQUIT },
    { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "WINCH", SIGWINCH },
};

int signal_from_name(const char *name)
{
    if (strncmp(name, "SIG", 3) == 0)
        name += 3;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(known[i].name, name) == 0)
            return known[i].signum;
    return 0;
}

const char *signal_name(int signum)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].signum == signum)
            return known[i].name;
    return "?";
}

/* The pipe is created once and kept for the life of the process: closing it would let
   a handler that is still running write into whatever file reuses the descriptor. */
static int pipe_fds[2] = { -1, -1 };
static pthread_once_t pipe_once = PTHREAD_ONCE_INIT;
static int pipe_err;

/* Serialises attach and detach (Lua threads of any state), so a reader being stopped
   and a new one being started never share the pipe. The reader never takes it. */
static pthread_mutex_t life = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* guards everything below */
static watcher *watchers;
static int watch_count[65];                  /* watchers per signal */
static struct sigaction previous[65];        /* what we replaced, restored at count 0 */
static pthread_t reader;
static int reader_running;

static void make_pipe(void)
{
    if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0)
        pipe_err = errno;
}

/* The handler: async-signal-safe by doing nothing but write(2). A full pipe drops the
   byte, which is fine: signals coalesce anyway, and plenty are already waiting. */
static void on_signal(int signum)
{
    int saved = errno;
    unsigned char b = (unsigned char)signum;
    ssize_t ignored = write(pipe_fds[1], &b, 1);
    (void)ignored;
    errno = saved;
}

typedef struct sigitem {
    watcher *w;
    int signum;
} sigitem;

static int signal_decode(lua_State *L, void *pData, void *utilid)
{
    sigitem *it = pData;
    (void)utilid;
    if (L == NULL) {
        __atomic_fetch_add(&it->w->cancelled, 1, __ATOMIC_RELAXED);
        free(it);
        return 0;
    }
    if (!lua_checkstack(L, 3)) {
        free(it);
        return 0;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, it->w->cb_ref);
    lua_pushstring(L, signal_name(it->signum));
    lua_pushinteger(L, it->signum);
    free(it);
    return 3;
}

/* On the reader thread: hand one signal to every state watching it. */
static void dispatch(int signum)
{
    pthread_mutex_lock(&lock);
    for (watcher *w = watchers; w != NULL; w = w->next) {
        if (!w->active || !(w->mask & (1ULL << signum)))
            continue;
        __atomic_fetch_add(&w->received, 1, __ATOMIC_RELAXED);
        sigitem *it = malloc(sizeof *it);
        if (it == NULL)
            continue;
        *it = (sigitem){ w, signum };
        /* Non-blocking, so holding the lock is brief; it keeps w alive meanwhile. */
        int rc = dss_deliver(&signal_lib, w->utilid, signal_decode, NULL, it);
        if (dss_delivered(rc))
            __atomic_fetch_add(&w->delivered, 1, __ATOMIC_RELAXED);
        else
            free(it);
    }
    pthread_mutex_unlock(&lock);
}

/* Byte 0 is the stop request (no signal has number 0). */
static void *reader_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct pollfd pfd = { pipe_fds[0], POLLIN, 0 };
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
            return NULL;
        unsigned char buf[64];
        ssize_t n = read(pipe_fds[0], buf, sizeof buf);
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == 0)
                return NULL;
            dispatch(buf[i]);
        }
    }
}

static void drain_pipe(void)
{
    unsigned char buf[64];
    while (read(pipe_fds[0], buf, sizeof buf) > 0)
        ;
}

int signal_attach(watcher *w)
{
    pthread_once(&pipe_once, make_pipe);
    if (pipe_err != 0)
        return pipe_err;
    pthread_mutex_lock(&life);
    pthread_mutex_lock(&lock);
    int err = 0;
    if (!reader_running) {
        drain_pipe(); /* bytes written while nobody watched are stale */
        err = pthread_create(&reader, NULL, reader_main, NULL);
        reader_running = err == 0;
    }
    if (err == 0) {
        for (int s = 1; s < 65; s++) {
            if (!(w->mask & (1ULL << s)) || watch_count[s]++ > 0)
                continue;
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_signal;
            sa.sa_flags = SA_RESTART; /* the Lua thread's select/read just go on */
            sigemptyset(&sa.sa_mask);
            sigaction(s, &sa, &previous[s]);
        }
        w->active = 1;
        w->next = watchers;
        watchers = w;
    }
    pthread_mutex_unlock(&lock);
    pthread_mutex_unlock(&life);
    return err;
}

void signal_deactivate(watcher *w)
{
    pthread_mutex_lock(&lock);
    w->active = 0;
    pthread_mutex_unlock(&lock);
}

void signal_detach(watcher *w)
{
    pthread_t stop = 0;
    int must_join = 0;
    pthread_mutex_lock(&life);
    pthread_mutex_lock(&lock);
    for (watcher **p = &watchers; *p != NULL; p = &(*p)->next) {
        if (*p != w)
            continue;
        *p = w->next;
        for (int s = 1; s < 65; s++)
            if ((w->mask & (1ULL << s)) && --watch_count[s] == 0)
                sigaction(s, &previous[s], NULL); /* before the reader goes */
        break;
    }
    w->active = 0;
    if (watchers == NULL && reader_running) {
        stop = reader;
        reader_running = 0;
        must_join = 1;
    }
    pthread_mutex_unlock(&lock);
    if (must_join) {
        /* Outside the lock: the reader may be waiting for it in dispatch(). */
        unsigned char zero = 0;
        while (write(pipe_fds[1], &zero, 1) < 0 && errno == EAGAIN)
            usleep(1000); /* the pipe is full of signals: let the reader drain it */
        pthread_join(stop, NULL);
    }
    pthread_mutex_unlock(&life);
}
