/*
 * workers_jobs.c -- the slow C computations of dss_workers. Pure C on a pool thread:
 * nothing here may touch a Lua state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "workers.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Deliberately plain trial division: the point is a computation worth a thread. */
static int is_prime(long long n)
{
    if (n < 2)
        return 0;
    if (n % 2 == 0)
        return n == 2;
    for (long long d = 3; d * d <= n; d += 2)
        if (n % d == 0)
            return 0;
    return 1;
}

static void count_primes(job *j)
{
    j->count = 0;
    j->largest = 0;
    for (long long n = 2; n <= j->limit; n++) {
        if (is_prime(n)) {
            j->count++;
            j->largest = n;
        }
    }
}

static void hash_file(job *j)
{
    FILE *f = fopen(j->path, "rb");
    if (f == NULL) {
        j->err = errno;
        return;
    }
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 */
    unsigned char buf[65536];
    size_t n;
    j->size = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        for (size_t i = 0; i < n; i++) {
            h ^= buf[i];
            h *= 0x100000001b3ULL;
        }
        j->size += (long long)n;
    }
    if (ferror(f))
        j->err = EIO;
    fclose(f);
    j->hash = h;
}

void job_run(job *j)
{
    double start = now_s();
    if (j->kind == JOB_PRIMES)
        count_primes(j);
    else
        hash_file(j);
    j->seconds = now_s() - start;
}

void job_free(job *j)
{
    free(j->path);
    free(j);
}
