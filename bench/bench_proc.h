/* Clock and CPU readings shared by the benchmark programs: a monotonic clock, this process's
 * CPU time, and another process's CPU ticks from /proc. Header-only (static inline), so each
 * program still builds from its one .c file. */
#ifndef BENCH_BENCH_PROC_H
#define BENCH_BENCH_PROC_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns. */
static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* User + system CPU seconds of this process. */
static inline double bench_self_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of process pid in clock ticks (/proc/<pid>/stat), or -1. */
static inline long bench_proc_ticks(int pid)
{
    if (pid <= 0)
        return -1;
    char path[64], text[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *after_name = strrchr(text, ')');
    unsigned long user, sys;
    /* after the command name: state, then fields 4..13, then utime and stime */
    if (!after_name || sscanf(after_name + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                              &user, &sys) != 2)
        return -1;
    return (long)(user + sys);
}

#endif
