/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the migrate_pages2() selftests: the call itself, placing pages
 * on nodes, asking where each page is (move_pages() with NULL nodes), and
 * filling and checking memory with a pattern.
 */
#ifndef __MIGRATE_HELPERS_H
#define __MIGRATE_HELPERS_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/mempolicy.h>
#include <linux/migrate_pages2.h>

#ifndef __NR_migrate_pages2
#error "migrate_pages2 needs the kernel's UAPI headers: make headers_install"
#endif

#define PAGE		4096UL
#define THP		(2UL << 20)
#define MAX_TEST_NODES	4

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

static inline long sys_set_mempolicy(int mode, const unsigned long *mask,
				     unsigned long maxnode)
{
	return syscall(__NR_set_mempolicy, mode, mask, maxnode);
}

static inline long sys_mbind(void *addr, unsigned long len, int mode,
			     unsigned long mask, unsigned int flags)
{
	return syscall(__NR_mbind, addr, len, mode, &mask, sizeof(mask) * 8 + 1,
		       flags);
}

static inline long sys_move_pages(int pid, unsigned long count, void **pages,
				  const int *nodes, int *status, int flags)
{
	return syscall(__NR_move_pages, pid, count, pages, nodes, status, flags);
}

/* Node of the page at addr in process pid, or -errno. */
static inline int page_node_of(int pid, void *addr)
{
	int status = -1;

	if (sys_move_pages(pid, 1, &addr, NULL, &status, 0))
		return -errno;
	return status;
}

static inline int page_node(void *addr)
{
	return page_node_of(0, addr);
}

/* Count the pages of [buf, buf + npages) on each node; -1 on error. */
static inline int count_nodes(int pid, char *buf, unsigned long npages,
			      unsigned long counts[MAX_TEST_NODES])
{
	unsigned long i;

	memset(counts, 0, MAX_TEST_NODES * sizeof(counts[0]));
	for (i = 0; i < npages; i++) {
		int n = page_node_of(pid, buf + i * PAGE);

		if (n < 0 || n >= MAX_TEST_NODES)
			return -1;
		counts[n]++;
	}
	return 0;
}

/* Pages of [buf, buf + npages) of process pid on node; ~0 on error. */
static inline unsigned long pages_on(int pid, char *buf, unsigned long npages,
				     int node)
{
	unsigned long counts[MAX_TEST_NODES];

	if (count_nodes(pid, buf, npages, counts))
		return ~0UL;
	return counts[node];
}

/* Run fn with allocations bound to node, then back to the default. */
static inline int bind_to(int node)
{
	unsigned long mask = 1UL << node;

	if (node < 0)
		return sys_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	return sys_set_mempolicy(MPOL_BIND, &mask, sizeof(mask) * 8 + 1);
}

/* A word per 8 bytes derived from the address and a seed. */
static inline uint64_t pattern(const void *p, uint64_t seed)
{
	return ((uintptr_t)p * 0x9e3779b97f4a7c15ULL) ^ seed;
}

/* Fill npages at buf with the pattern, faulting them in on node. */
static inline int fill_on(char *buf, unsigned long npages, int node,
			  uint64_t seed)
{
	unsigned long i;

	if (bind_to(node))
		return -1;
	for (i = 0; i < npages * PAGE / 8; i++)
		((uint64_t *)buf)[i] = pattern(&((uint64_t *)buf)[i], seed);
	return bind_to(-1);
}

/*
 * A private anonymous mapping of npages filled with the pattern on node;
 * its length in *len.  NULL if either step fails.
 */
static inline char *map_filled(unsigned long npages, int node, uint64_t seed,
			       unsigned long *len)
{
	char *p = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (fill_on(p, npages, node, seed)) {
		munmap(p, npages * PAGE);
		return NULL;
	}
	*len = npages * PAGE;
	return p;
}

/* Index of the first word that lost its pattern, or -1 if all intact. */
static inline long check_pattern(const char *buf, unsigned long npages,
				 uint64_t seed)
{
	unsigned long i;

	for (i = 0; i < npages * PAGE / 8; i++)
		if (((const uint64_t *)buf)[i] != pattern(&((const uint64_t *)buf)[i], seed))
			return i;
	return -1;
}

/* Number of nodes in a sysfs node list such as "0-2,5"; -1 if unreadable. */
static inline int nodes_with_memory(void)
{
	char line[256], *p = line;
	int n = 0;
	FILE *f = fopen("/sys/devices/system/node/has_memory", "r");

	if (!f)
		return -1;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	while (p && *p >= '0' && *p <= '9') {
		long a = strtol(p, &p, 10), b = a;

		if (*p == '-')
			b = strtol(p + 1, &p, 10);
		n += b - a + 1;
		if (*p != ',')
			break;
		p++;
	}
	return p ? n : -1;
}

/* Write val to a sysfs, procfs or cgroup file; -1 on error. */
static inline int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * The policy column of the numa_maps line of pid's VMA that starts at
 * addr ("bind:2", "interleave=static:0-1", "prefer (many):0,2",
 * "default"...); "" if none.  Two mode names hold a space.
 */
static inline void policy_at(pid_t pid, void *addr, char *out, size_t size)
{
	static const char * const two_words[] = {
		"prefer (many)", "weighted interleave",
	};
	char path[64], line[1024];
	unsigned long start;
	unsigned int i;
	int at;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid ? pid : getpid());
	out[0] = 0;
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		size_t skip = 0;
		char *pol;

		if (sscanf(line, "%lx %n", &start, &at) != 1 ||
		    start != (uintptr_t)addr)
			continue;
		pol = line + at;
		for (i = 0; i < ARRAY_SIZE(two_words); i++)
			if (!strncmp(pol, two_words[i], strlen(two_words[i])))
				skip = strlen(two_words[i]);
		snprintf(out, size, "%.*s", (int)(skip + strcspn(pol + skip, "\n ")), pol);
		break;
	}
	fclose(f);
}

/* The number after "key" on the first line of file that starts with it. */
static inline long read_key(const char *file, const char *key)
{
	size_t klen = strlen(key);
	char line[256];
	long val = -1;
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen)) {
			val = strtol(line + klen, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/* This process's THPs, in KiB: are they still huge? */
static inline long anon_huge_kb(void)
{
	return read_key("/proc/self/smaps_rollup", "AnonHugePages:");
}

/*
 * Pages isolated from the LRU now, all nodes: nr_isolated_anon and
 * nr_isolated_file, with the per-CPU counts folded in first.  -1 if that
 * cannot be done (not root).
 */
static inline long isolated_pages(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	bool ok;

	if (fd < 0)
		return -1;
	ok = write(fd, "1", 1) == 1;
	close(fd);
	if (!ok)
		return -1;
	return read_key("/proc/vmstat", "nr_isolated_anon ") +
	       read_key("/proc/vmstat", "nr_isolated_file ");
}

/*
 * What every call through sys_migrate_pages2() does: ask for this many
 * workers (VER1), and, if watched, check that the call left no page
 * isolated: the count of isolated pages must be back to its value before
 * the call within 200 ms (others' isolations come and go; a leak stays).
 */
static unsigned int mp2_workers;
static bool mp2_watch_isolated;
static unsigned long mp2_isolated_leaks;

/*
 * A fixture's tests run with the caller alone and with four workers (its
 * variants); mp2_fixture_setup() in its setup makes every call ask for
 * them, and watch that no page is left isolated (its teardown checks the
 * count).
 */
static inline void mp2_fixture_setup(unsigned int workers)
{
	mp2_workers = workers;
	mp2_watch_isolated = true;
	mp2_isolated_leaks = 0;
}

static inline long sys_migrate_pages2(const void *args, size_t size)
{
	long before = mp2_watch_isolated ? isolated_pages() : -1;
	long r = syscall(__NR_migrate_pages2, args, size);
	int err = errno, i;

	for (i = 0; before >= 0 && i < 20 && isolated_pages() != before; i++)
		usleep(10000);
	if (before >= 0 && i == 20)
		mp2_isolated_leaks++;
	errno = err;
	return r;
}

/*
 * migrate_pages2() on one pid (0: the caller) with the given pairs, on
 * [start, start + len), or on the whole address space if len is 0.
 */
static inline long mp2_call_range(int pid, uint64_t flags, const int *old_nodes,
				  const int *new_nodes, unsigned int nr_nodes,
				  void *start, unsigned long len,
				  struct migrate_pages_stats *stats)
{
	struct migrate_pages_args args = {
		.flags = flags,
		.pids = (uintptr_t)&pid,
		.old_nodes = (uintptr_t)old_nodes,
		.new_nodes = (uintptr_t)new_nodes,
		.stats = (uintptr_t)stats,
		.start = len ? (uintptr_t)start : 0,
		.len = len,
		.nr_pids = 1,
		.nr_nodes = nr_nodes,
		.workers = mp2_workers,
	};

	return sys_migrate_pages2(&args, sizeof(args));
}

static inline long mp2_call(int pid, uint64_t flags, const int *old_nodes,
			    const int *new_nodes, unsigned int nr_nodes,
			    struct migrate_pages_stats *stats)
{
	return mp2_call_range(pid, flags, old_nodes, new_nodes, nr_nodes,
			      NULL, 0, stats);
}

/*
 * Every page the call found is counted once, in exactly one reason
 * (deferred is 0 without MIGRATE_PAGES2_LAZY).
 */
static inline bool stats_add_up(const struct migrate_pages_stats *st)
{
	return st->scanned == st->moved + st->shared + st->busy + st->no_memory +
			      st->deferred;
}

/*
 * Are a call's counts exactly want[] (scanned, moved, shared, busy,
 * no_memory, deferred), and do they add up?  A dry run moves nothing:
 * its counts are only compared.
 */
static inline bool stats_are(const struct migrate_pages_stats *st,
			     const unsigned long long want[6], bool dry)
{
	return st->scanned == want[0] && st->moved == want[1] &&
	       st->shared == want[2] && st->busy == want[3] &&
	       st->no_memory == want[4] && st->deferred == want[5] &&
	       (dry || stats_add_up(st));
}

#define MP2_STATS_FMT	"scanned %llu moved %llu shared %llu busy %llu no_memory %llu"

#define __EXPECT_STATS(st, dry, ...) do {				\
	const struct migrate_pages_stats *_st = (st);			\
	const unsigned long long _want[6] = { __VA_ARGS__ };		\
									\
	EXPECT_TRUE(stats_are(_st, _want, dry)) {			\
		TH_LOG("stats " MP2_STATS_FMT " deferred %llu, expected " \
		       MP2_STATS_FMT " deferred %llu",			\
		       (unsigned long long)_st->scanned,		\
		       (unsigned long long)_st->moved,			\
		       (unsigned long long)_st->shared,			\
		       (unsigned long long)_st->busy,			\
		       (unsigned long long)_st->no_memory,		\
		       (unsigned long long)_st->deferred,		\
		       _want[0], _want[1], _want[2], _want[3], _want[4], \
		       _want[5]);					\
	}								\
} while (0)

/*
 * EXPECT_STATS(st, scanned, moved, shared, busy, no_memory[, deferred]):
 * the counts of a call whose outcome is known, exactly (deferred is 0
 * unless given: only a LAZY call defers), and that they add up; the test
 * logs them on a mismatch.  EXPECT_DRY_STATS(): the same for a dry run
 * (moved is 0).
 */
#define EXPECT_STATS(st, ...)		__EXPECT_STATS(st, false, __VA_ARGS__)
#define EXPECT_DRY_STATS(st, ...)	__EXPECT_STATS(st, true, __VA_ARGS__)

/*
 * Where the counts are not known (a racing writer, remapper or migrator,
 * a target exiting, fault injection, a destination running out): the call
 * succeeded, its counts add up, and it returned what stayed
 * (shared + busy + no_memory).
 */
#define EXPECT_STATS_CONSISTENT(r, st) do {				\
	const struct migrate_pages_stats *_st = (st);			\
	long _r = (r);							\
									\
	EXPECT_TRUE(_r >= 0 && stats_add_up(_st) &&			\
		    (unsigned long long)_r ==				\
		    _st->shared + _st->busy + _st->no_memory) {		\
		TH_LOG("returned %ld, stats " MP2_STATS_FMT, _r,	\
		       (unsigned long long)_st->scanned,		\
		       (unsigned long long)_st->moved,			\
		       (unsigned long long)_st->shared,			\
		       (unsigned long long)_st->busy,			\
		       (unsigned long long)_st->no_memory);		\
	}								\
} while (0)

#define YAMA_SCOPE	"/proc/sys/kernel/yama/ptrace_scope"

/*
 * Runs fn() in a child with Yama's ptrace_scope at 2 (attach only with
 * CAP_SYS_PTRACE) and puts the old scope back.  Returns fn()'s exit
 * status (a test's step number, 0 when all held), 255 if the child did
 * not exit, or -1 without Yama (the test config has CONFIG_SECURITY_YAMA).
 */
static inline int with_ptrace_scope_2(int (*fn)(void))
{
	char old[16] = "";
	int status, fd;
	pid_t pid;

	fd = open(YAMA_SCOPE, O_RDONLY);
	if (fd < 0)
		return -1;
	if (read(fd, old, sizeof(old) - 1) <= 0 || write_file(YAMA_SCOPE, "2")) {
		close(fd);
		return -1;
	}
	close(fd);
	pid = fork();
	if (!pid)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		status = 255 << 8;
	write_file(YAMA_SCOPE, old);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

/* A value summed over a node's zones in /proc/zoneinfo ("pages free"...). */
static inline long zone_pages(int node, const char *fmt)
{
	char line[256];
	long total = 0, v;
	int cur = -1;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d,", &cur) == 1)
			continue;
		if (cur == node && sscanf(line, fmt, &v) == 1)
			total += v;
	}
	fclose(f);
	return total;
}

/*
 * Free base pages of a node, as an allocation on it can have them: the
 * buddy lists and the per-CPU lists (which MemFree leaves out, and which
 * hold thousands of pages a moment after a large move off the node).
 */
static inline long node_free_pages(int node)
{
	return zone_pages(node, " pages free %ld") + zone_pages(node, " count: %ld");
}

/*
 * Free blocks of a node that could hold a THP each (order 9 and above,
 * from /proc/buddyinfo), after compacting the node if it has fewer than
 * nr: earlier tests fragment a node's memory.  -1 if unreadable.
 */
static inline long node_thp_room(int node, long nr)
{
	char path[64], line[512];
	long room = -1;
	int pass;

	for (pass = 0; pass < 2 && room < nr; pass++) {
		FILE *f = fopen("/proc/buddyinfo", "r");
		int n, off, order;
		long cnt;
		char *p;

		if (pass) {
			snprintf(path, sizeof(path),
				 "/sys/devices/system/node/node%d/compact", node);
			write_file(path, "1");
		}
		if (!f)
			return -1;
		room = 0;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "Node %d, zone %*s%n", &n, &off) != 1 ||
			    n != node)
				continue;
			for (p = line + off, order = 0;
			     sscanf(p, "%ld%n", &cnt, &off) == 1;
			     p += off, order++)
				if (order >= 9)
					room += cnt << (order - 9);
		}
		fclose(f);
	}
	return room;
}

/* In a child: tell the parent the call is about to start (kill_when_ready()). */
static inline void tell_ready(int ready[2])
{
	mp2_watch_isolated = false;
	if (write(ready[1], "r", 1) != 1)
		_exit(1);
}

/*
 * SIGKILL @pid @delay microseconds after it said it is ready (on the pipe
 * @ready, closed here), and reap it.  Returns its wait status.
 */
static inline int kill_when_ready(pid_t pid, int ready[2], useconds_t delay)
{
	int status = -1;
	char c;

	if (read(ready[0], &c, 1) == 1) {
		usleep(delay);
		kill(pid, SIGKILL);
	}
	waitpid(pid, &status, 0);
	close(ready[0]);
	close(ready[1]);
	return status;
}

static inline void *map_anon(unsigned long len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | flags, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * nr THP-aligned huge pages in a private mapping of len bytes (at least
 * (nr + 1) * THP; *raw gets the mapping, for munmap), asked for with
 * MADV_HUGEPAGE and filled with the pattern on node.  Returns the first
 * huge page, or NULL if a step fails.  Whether THPs were allocated is
 * the caller's check (anon_huge_kb()): a test skips or fails as it needs.
 */
static inline char *map_thps(unsigned long len, unsigned long nr, int node,
			     uint64_t seed, char **raw)
{
	char *huge;

	*raw = map_anon(len, MAP_PRIVATE);
	if (!*raw)
		return NULL;
	huge = (char *)(((uintptr_t)*raw + THP - 1) & ~(THP - 1));
	if (madvise(huge, nr * THP, MADV_HUGEPAGE) ||
	    fill_on(huge, nr * THP / PAGE, node, seed))
		return NULL;
	return huge;
}

/*
 * A child that maps [buf, buf + npages) too: it reads the pages, or if
 * node is not negative writes the pattern with seed into them there (its
 * own copies of private pages); then waits until killed.  Returns its pid
 * once the pages are mapped.
 */
static inline pid_t spawn_toucher(char *buf, unsigned long npages, int node,
				  uint64_t seed)
{
	int ready[2];
	pid_t pid;
	char c;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (!pid) {
		unsigned long i;

		if (node >= 0 && fill_on(buf, npages, node, seed))
			_exit(1);
		for (i = 0; node < 0 && i < npages; i++)
			__atomic_load_n(&buf[i * PAGE], __ATOMIC_RELAXED);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (pid > 0 && read(ready[0], &c, 1) != 1)
		pid = -1;
	close(ready[0]);
	close(ready[1]);
	return pid;
}

/* A child that maps [buf, buf + npages) by reading it, then waits. */
static inline pid_t spawn_mapper(char *buf, unsigned long npages)
{
	return spawn_toucher(buf, npages, -1, 0);
}

/* A child that waits until killed; returns its pid. */
static inline pid_t spawn_sleeper(void)
{
	return spawn_mapper(NULL, 0);
}

static inline void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Reserve (or give back) 2 MiB hugetlb pages on one node. */
static inline int set_node_hugepages(int node, long nr)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages",
		 node);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ok = fprintf(f, "%ld\n", nr) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* 2 MiB hugetlb pages reserved on one node; -1 if unreadable. */
static inline long node_hugepages(int node)
{
	char path[128];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages",
		 node);
	f = fopen(path, "r");
	if (f && fscanf(f, "%ld", &nr) != 1)
		nr = -1;
	if (f)
		fclose(f);
	return nr;
}

static inline int sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return syscall(__NR_pidfd_open, pid, flags);
}

/* A pid that existed a moment ago: a reaped child's; or its pidfd. */
static inline int dead_child(bool want_pidfd)
{
	pid_t pid = fork();
	int fd;

	if (!pid)
		_exit(0);
	fd = want_pidfd ? sys_pidfd_open(pid, 0) : pid;
	waitpid(pid, NULL, 0);
	return fd;
}

/* A child that has exited and is not reaped yet (a zombie); its pid. */
static inline pid_t zombie_child(void)
{
	siginfo_t info;
	pid_t pid = fork();

	if (!pid)
		_exit(0);
	waitid(P_PID, pid, &info, WEXITED | WNOWAIT);
	return pid;
}

#endif /* __MIGRATE_HELPERS_H */
