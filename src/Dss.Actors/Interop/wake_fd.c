/*
 * wake_fd.c -- the file descriptor of darksidesync.getfd(): a Linux eventfd, non-blocking
 * and close-on-exec. Readable while its counter is above zero: a write makes it readable,
 * a read makes it unreadable again. Queueing/WakeFd.cs decides when to call which, so that
 * no wake-up is ever missed and producers write only on a change from empty to non-empty.
 *
 * Built with hook_calls.c and dispatch_loop.c (libdarksidesync_hooks.so for .NET hosts,
 * statically into darksidesync.so). Plain system calls: no Lua, no allocation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* A new fd, or -errno. */
int dss_wakefd_open(void)
{
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

/* Makes fd readable. 0, or -errno (EAGAIN only if the counter were full: never, one write per change). */
int dss_wakefd_signal(int fd)
{
    uint64_t one = 1;
    for (;;) {
        if (write(fd, &one, sizeof one) == (ssize_t)sizeof one) return 0;
        if (errno != EINTR) return -errno;
    }
}

/* Makes fd unreadable. 0 (also when it was not readable), or -errno. */
int dss_wakefd_clear(int fd)
{
    uint64_t count;
    for (;;) {
        if (read(fd, &count, sizeof count) == (ssize_t)sizeof count || errno == EAGAIN) return 0;
        if (errno != EINTR) return -errno;
    }
}

void dss_wakefd_close(int fd)
{
    close(fd);
}
