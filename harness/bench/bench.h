/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the guest's two benchmarks (mp2-bench.c, mp2-lazy-bench.c) share:
 * the headers, the units, die() and now().  Each includes it after
 * defining _GNU_SOURCE; harness/build.py rebuilds both when it changes.
 */
#ifndef MP2_BENCH_H
#define MP2_BENCH_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/mempolicy.h>
#include <linux/types.h>
#include <linux/migrate_pages2.h>

#ifndef __NR_migrate_pages2
#error "migrate_pages2 needs the kernel's UAPI headers: make headers_install"
#endif

#define PAGE		4096UL
#define MIB		(1024UL * 1024)
#define BASE		0x100000000000UL	/* where job regions live */

/* A failed system call ends the benchmark: "<program>: <what>: <errno>". */
static inline void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what,
		strerror(errno));
	exit(1);
}

/* Seconds on the monotonic clock. */
static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif /* MP2_BENCH_H */
