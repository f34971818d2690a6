// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2(): one test per rule of the specification.  Every test
 * places pages on known nodes, makes the call, then asks the kernel where
 * each page is (move_pages() with NULL nodes), checks the contents, and
 * checks the statistics and the return value against what it placed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <linux/magic.h>

#include "../kselftest_harness.h"
#include "helpers.h"

#define SEED	0xfeedULL

FIXTURE(mp2) {
	char *buf;
	unsigned long len;
};

/* Every test runs with the caller alone, and with helper threads. */
FIXTURE_VARIANT(mp2) {
	unsigned int workers;
};

FIXTURE_VARIANT_ADD(mp2, caller) {
	.workers = 0,
};

FIXTURE_VARIANT_ADD(mp2, workers4) {
	.workers = 4,
};

FIXTURE_SETUP(mp2)
{
	self->buf = NULL;
	self->len = 0;
	if (nodes_with_memory() < 4)
		SKIP(return, "needs 4 nodes with memory");
	mp2_fixture_setup(variant->workers);
}

FIXTURE_TEARDOWN(mp2)
{
	if (self->buf)
		munmap(self->buf, self->len);
	/* No call left a page isolated. */
	EXPECT_EQ(0, mp2_isolated_leaks);
}

/* A private anonymous mapping of npages; its length in *len. */
static char *anon(unsigned long npages, unsigned long *len)
{
	*len = npages * PAGE;
	return map_anon(*len, MAP_PRIVATE);
}

/* The same, filled with the pattern on node; NULL if either step fails. */
static char *anon_on(unsigned long npages, int node, unsigned long *len)
{
	return map_filled(npages, node, SEED, len);
}

/* The call on the caller's own pages in [self->buf, self->buf + self->len). */
#define CALL(flags, o, n, nr, st) \
	mp2_call_range(0, flags, o, n, nr, self->buf, self->len, st)

/* Pages of [buf, +npages) of the caller on node. */
static unsigned long on_node(char *buf, unsigned long npages, int node)
{
	return pages_on(0, buf, npages, node);
}

/* Place npages at buf as consecutive blocks of `each` pages on nodes[i]. */
static int place_blocks(char *buf, unsigned long each, const int *nodes, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		if (fill_on(buf + i * each * PAGE, each, nodes[i], SEED + i))
			return -1;
	return 0;
}

static int blocks_intact(char *buf, unsigned long each, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		if (check_pattern(buf + i * each * PAGE, each, SEED + i) != -1)
			return 0;
	return 1;
}

/* Rule 1: a page on old_nodes[i] goes to new_nodes[i]. */
TEST_F(mp2, one_node_to_another)
{
	struct migrate_pages_stats st;
	int o[] = { 0 }, n[] = { 1 };
	long before = read_key("/proc/vmstat", "pgmigrate_success ");

	self->buf = anon_on(64, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	memset(&st, 0xa5, sizeof(st));
	ASSERT_EQ(0, CALL(0, o, n, 1, &st));
	EXPECT_EQ(64, on_node(self->buf, 64, 1));
	EXPECT_EQ(-1, check_pattern(self->buf, 64, SEED));
	EXPECT_STATS(&st, 64, 64, 0, 0, 0);
	EXPECT_EQ(0, st.split);
	/* No policy update, no lazy move: policies and deferred are 0. */
	EXPECT_EQ(0, st.policies | st.deferred);
	/* Rule 9: the core vmstat counters count these moves. */
	EXPECT_LE(before + 64, read_key("/proc/vmstat", "pgmigrate_success "));
}

/*
 * Rules 5 and 6 on the whole address space of the caller, pinned to node 0's
 * CPU, after a clock read: 7.3 faults the vDSO's data page ([vvar]) in as an
 * ordinary kernel page.  It is not the process's memory: neither moved nor
 * counted, so with MOVE_ALL every page found moves and none is left.
 */
TEST_F(mp2, whole_address_space_of_caller)
{
	struct migrate_pages_stats st;
	int o[] = { 0 }, n[] = { 1 };
	struct timespec ts;
	cpu_set_t cpus;

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpus), &cpus));
	ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &ts));
	ASSERT_EQ(0, clock_gettime(CLOCK_MONOTONIC, &ts));
	self->buf = anon_on(4096, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	memset(&st, 0xa5, sizeof(st));
	ASSERT_EQ(0, mp2_call(0, MIGRATE_PAGES2_MOVE_ALL, o, n, 1, &st));
	EXPECT_EQ(4096, on_node(self->buf, 4096, 1));
	EXPECT_EQ(-1, check_pattern(self->buf, 4096, SEED));
	EXPECT_LE(4096, st.scanned);
	EXPECT_STATS(&st, st.scanned, st.scanned, 0, 0, 0);
}

/* Rule 1: a swap in one call. */
TEST_F(mp2, swap)
{
	int where[] = { 0, 1 }, o[] = { 0, 1 }, n[] = { 1, 0 };
	struct migrate_pages_stats st;

	self->buf = anon(64, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, place_blocks(self->buf, 32, where, 2));
	ASSERT_EQ(0, CALL(0, o, n, 2, &st));
	EXPECT_EQ(32, on_node(self->buf, 32, 1));
	EXPECT_EQ(32, on_node(self->buf + 32 * PAGE, 32, 0));
	EXPECT_TRUE(blocks_intact(self->buf, 32, 2));
	EXPECT_STATS(&st, 64, 64, 0, 0, 0);
}

/* Rules 1 and 2: a 4-cycle; every page moves exactly one step. */
TEST_F(mp2, four_cycle)
{
	int where[] = { 0, 1, 2, 3 }, o[] = { 0, 1, 2, 3 }, n[] = { 1, 2, 3, 0 };
	struct migrate_pages_stats st;
	int i;

	self->buf = anon(64, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, place_blocks(self->buf, 16, where, 4));
	ASSERT_EQ(0, CALL(0, o, n, 4, &st));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(16, on_node(self->buf + i * 16 * PAGE, 16, n[i]));
	EXPECT_TRUE(blocks_intact(self->buf, 16, 4));
	EXPECT_STATS(&st, 64, 64, 0, 0, 0);
}

/* Rule 1: many to one, onto the node without CPUs. */
TEST_F(mp2, many_to_one_cpuless)
{
	int where[] = { 0, 1, 2 }, o[] = { 0, 1, 2 }, n[] = { 3, 3, 3 };
	struct migrate_pages_stats st;

	self->buf = anon(48, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, place_blocks(self->buf, 16, where, 3));
	ASSERT_EQ(0, CALL(0, o, n, 3, &st));
	EXPECT_EQ(48, on_node(self->buf, 48, 3));
	EXPECT_TRUE(blocks_intact(self->buf, 16, 3));
	EXPECT_STATS(&st, 48, 48, 0, 0, 0);
}

/* Rule 1: ANY_NODE takes every node not named as a source; old == new stays. */
TEST_F(mp2, any_node_and_identity_pair)
{
	int where[] = { 0, 1, 2 }, o[] = { 1, MIGRATE_PAGES2_ANY_NODE }, n[] = { 1, 3 };
	struct migrate_pages_stats st;

	self->buf = anon(48, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, place_blocks(self->buf, 16, where, 3));
	ASSERT_EQ(0, CALL(0, o, n, 2, &st));
	EXPECT_EQ(16, on_node(self->buf, 16, 3));
	EXPECT_EQ(16, on_node(self->buf + 16 * PAGE, 16, 1));
	EXPECT_EQ(16, on_node(self->buf + 32 * PAGE, 16, 3));
	EXPECT_TRUE(blocks_intact(self->buf, 16, 3));
	EXPECT_STATS(&st, 32, 32, 0, 0, 0);
}

/* Rule 1: pages on nodes that are not a source are not touched. */
TEST_F(mp2, other_nodes_untouched)
{
	int o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;

	self->buf = anon_on(32, 2, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, CALL(0, o, n, 1, &st));
	EXPECT_EQ(32, on_node(self->buf, 32, 2));
	EXPECT_EQ(-1, check_pattern(self->buf, 32, SEED));
	EXPECT_STATS(&st, 0, 0, 0, 0, 0);
}

/* A struct larger than the kernel's with a zero tail is accepted. */
TEST_F(mp2, larger_struct_zero_tail)
{
	struct {
		struct migrate_pages_args a;
		uint64_t future[4];
	} big = {};
	int pid = 0, o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;

	self->buf = anon_on(16, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	big.a.pids = (uintptr_t)&pid;
	big.a.old_nodes = (uintptr_t)o;
	big.a.new_nodes = (uintptr_t)n;
	big.a.stats = (uintptr_t)&st;
	big.a.start = (uintptr_t)self->buf;
	big.a.len = self->len;
	big.a.nr_pids = 1;
	big.a.nr_nodes = 1;
	big.a.workers = mp2_workers;
	ASSERT_EQ(0, sys_migrate_pages2(&big, sizeof(big)));
	EXPECT_EQ(16, on_node(self->buf, 16, 1));
	EXPECT_EQ(-1, check_pattern(self->buf, 16, SEED));
	EXPECT_STATS(&st, 16, 16, 0, 0, 0);
}

/* A VER0 caller (64 bytes, no workers field) is served as before. */
TEST_F(mp2, ver0_struct)
{
	int pid = 0, o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	struct migrate_pages_args a = {
		.pids = (uintptr_t)&pid, .old_nodes = (uintptr_t)o,
		.new_nodes = (uintptr_t)n, .stats = (uintptr_t)&st,
		.nr_pids = 1, .nr_nodes = 1,
		/* Beyond VER0: the kernel must not read these. */
		.workers = 5000, .reserved = 1,
	};

	self->buf = anon_on(16, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	a.start = (uintptr_t)self->buf;
	a.len = self->len;
	ASSERT_EQ(0, sys_migrate_pages2(&a, MIGRATE_PAGES_ARGS_SIZE_VER0));
	EXPECT_EQ(16, on_node(self->buf, 16, 2));
	EXPECT_STATS(&st, 16, 16, 0, 0, 0);
	EXPECT_EQ(-1, check_pattern(self->buf, 16, SEED));
}

/* Rule 4: only pages in [start, start + len) move; len rounds up to a page. */
TEST_F(mp2, range_only)
{
	int o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;

	self->buf = anon_on(16, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, mp2_call_range(0, 0, o, n, 1, self->buf + 4 * PAGE,
				    8 * PAGE - 100, &st));
	EXPECT_EQ(4, on_node(self->buf, 4, 0));
	EXPECT_EQ(8, on_node(self->buf + 4 * PAGE, 8, 1));
	EXPECT_EQ(4, on_node(self->buf + 12 * PAGE, 4, 0));
	EXPECT_EQ(-1, check_pattern(self->buf, 16, SEED));
	EXPECT_STATS(&st, 8, 8, 0, 0, 0);
}

/* Rule 4: holes in the range are fine. */
TEST_F(mp2, range_with_holes)
{
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;

	self->buf = anon_on(24, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, munmap(self->buf + 4 * PAGE, 4 * PAGE));
	ASSERT_EQ(0, munmap(self->buf + 12 * PAGE, 4 * PAGE));
	ASSERT_EQ(0, CALL(0, o, n, 1, &st));
	EXPECT_EQ(4, on_node(self->buf, 4, 2));
	EXPECT_EQ(4, on_node(self->buf + 8 * PAGE, 4, 2));
	EXPECT_EQ(8, on_node(self->buf + 16 * PAGE, 8, 2));
	EXPECT_EQ(-1, check_pattern(self->buf, 4, SEED));
	EXPECT_EQ(-1, check_pattern(self->buf + 8 * PAGE, 4, SEED));
	EXPECT_EQ(-1, check_pattern(self->buf + 16 * PAGE, 8, SEED));
	EXPECT_STATS(&st, 16, 16, 0, 0, 0);
}

/* DRY_RUN counts and moves nothing, and returns 0. */
TEST_F(mp2, dry_run)
{
	int o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;

	self->buf = anon_on(32, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, CALL(MIGRATE_PAGES2_DRY_RUN, o, n, 1, &st));
	EXPECT_EQ(32, on_node(self->buf, 32, 0));
	EXPECT_DRY_STATS(&st, 32, 0, 0, 0, 0);
}

/* Rule 6: a page mapped twice is skipped and counted without MOVE_ALL. */
TEST_F(mp2, shared_skipped_and_counted)
{
	int o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;
	pid_t child;

	self->len = 32 * PAGE;
	self->buf = map_anon(self->len, MAP_SHARED);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, fill_on(self->buf, 32, 0, SEED));
	child = spawn_mapper(self->buf, 32);
	ASSERT_LT(0, child);
	EXPECT_EQ(32, CALL(0, o, n, 1, &st));
	EXPECT_EQ(32, on_node(self->buf, 32, 0));
	EXPECT_STATS(&st, 32, 0, 32, 0, 0);
	/* With MOVE_ALL they move, and the child sees the same memory. */
	EXPECT_EQ(0, CALL(MIGRATE_PAGES2_MOVE_ALL, o, n, 1, &st));
	EXPECT_EQ(32, on_node(self->buf, 32, 1));
	EXPECT_EQ(32, pages_on(child, self->buf, 32, 1));
	EXPECT_STATS(&st, 32, 32, 0, 0, 0);
	EXPECT_EQ(-1, check_pattern(self->buf, 32, SEED));
	reap(child);
}

/*
 * Rules 2, 3 and 6: an MPI-like job.  Workers forked from a parent that
 * mapped a shared region each fill their chunk from node 0 or 1; the whole
 * job moves to {2, 3} in one MOVE_ALL call keeping relative placement, and
 * each shared page is counted once although five processes map it.
 */
TEST_F(mp2, job_moved_keeping_placement)
{
	enum { WORKERS = 4, CHUNK = 16 };
	int o[] = { 0, 1 }, n[] = { 2, 3 };
	int pids[WORKERS + 1], ready[2], i;
	struct migrate_pages_stats st;
	struct migrate_pages_args a = {
		.flags = MIGRATE_PAGES2_MOVE_ALL, .pids = (uintptr_t)pids,
		.old_nodes = (uintptr_t)o, .new_nodes = (uintptr_t)n,
		.stats = (uintptr_t)&st, .nr_pids = WORKERS + 1, .nr_nodes = 2,
		.workers = mp2_workers,
	};
	char c;

	self->len = WORKERS * CHUNK * PAGE;
	self->buf = map_anon(self->len, MAP_SHARED);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, pipe(ready));
	for (i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		if (!pids[i]) {
			fill_on(self->buf + i * CHUNK * PAGE, CHUNK, i % 2, SEED + i);
			write(ready[1], "r", 1);
			for (;;)
				pause();
		}
		ASSERT_EQ(1, read(ready[0], &c, 1));
	}
	/* The parent reads every chunk, as workers read their neighbours'. */
	for (i = 0; i < WORKERS; i++)
		ASSERT_EQ(-1, check_pattern(self->buf + i * CHUNK * PAGE, CHUNK, SEED + i));
	pids[WORKERS] = 0;
	a.start = (uintptr_t)self->buf;
	a.len = self->len;
	ASSERT_EQ(0, sys_migrate_pages2(&a, sizeof(a)));
	for (i = 0; i < WORKERS; i++) {
		EXPECT_EQ(CHUNK, on_node(self->buf + i * CHUNK * PAGE, CHUNK, 2 + i % 2));
		EXPECT_EQ(-1, check_pattern(self->buf + i * CHUNK * PAGE, CHUNK, SEED + i));
	}
	EXPECT_STATS(&st, WORKERS * CHUNK, WORKERS * CHUNK, 0, 0, 0);
	for (i = 0; i < WORKERS; i++)
		reap(pids[i]);
}

/*
 * Rule 2: exactly once.  A file mapped twice with the chained map
 * {0->1, 1->2}: the second mapping meets the pages on node 1 and leaves
 * them there.
 */
TEST_F(mp2, file_mapped_twice_chained_moves_once)
{
	int o[] = { 0, 1 }, n[] = { 1, 2 };
	struct migrate_pages_stats st;
	int fd = memfd_create("mp2", 0);
	char *second;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 16 * PAGE));
	/* Both mappings side by side, so one range covers them. */
	self->len = 32 * PAGE;
	self->buf = mmap(NULL, self->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	second = self->buf + 16 * PAGE;
	ASSERT_NE(MAP_FAILED, mmap(self->buf, 16 * PAGE, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_FIXED, fd, 0));
	ASSERT_NE(MAP_FAILED, mmap(second, 16 * PAGE, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_FIXED, fd, 0));
	ASSERT_EQ(0, fill_on(self->buf, 16, 0, SEED));
	ASSERT_EQ(0, memcmp(self->buf, second, 16 * PAGE));
	ASSERT_EQ(16, on_node(second, 16, 0));
	ASSERT_EQ(0, CALL(MIGRATE_PAGES2_MOVE_ALL, o, n, 2, &st));
	EXPECT_EQ(16, on_node(self->buf, 16, 1));
	EXPECT_EQ(16, on_node(second, 16, 1));
	EXPECT_STATS(&st, 16, 16, 0, 0, 0);
	EXPECT_EQ(-1, check_pattern(self->buf, 16, SEED));
	close(fd);
}

/* Rule 3: threads of one process are walked once. */
static void *park(void *arg)
{
	int *tid = arg;

	*tid = gettid();
	for (;;)
		pause();
	return NULL;
}

TEST_F(mp2, threads_walked_once)
{
	int o[] = { 0 }, n[] = { 1 }, pids[4] = { 0 };
	struct migrate_pages_stats st;
	struct migrate_pages_args a = {
		.pids = (uintptr_t)pids, .old_nodes = (uintptr_t)o,
		.new_nodes = (uintptr_t)n, .stats = (uintptr_t)&st,
		.nr_pids = 4, .nr_nodes = 1, .workers = mp2_workers,
	};
	pthread_t th[3];
	int i;

	self->buf = anon_on(32, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, park, &pids[i + 1]));
	for (i = 1; i < 4; i++)
		while (!__atomic_load_n(&pids[i], __ATOMIC_ACQUIRE))
			sched_yield();
	a.start = (uintptr_t)self->buf;
	a.len = self->len;
	ASSERT_EQ(0, sys_migrate_pages2(&a, sizeof(a)));
	EXPECT_EQ(32, on_node(self->buf, 32, 1));
	EXPECT_EQ(-1, check_pattern(self->buf, 32, SEED));
	EXPECT_STATS(&st, 32, 32, 0, 0, 0);
	for (i = 0; i < 3; i++)
		pthread_cancel(th[i]);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
}

/* Targets by pidfd; pages of another process, checked through its pid. */
TEST_F(mp2, pidfd_target)
{
	int o[] = { 0 }, n[] = { 2 }, fd;
	struct migrate_pages_stats st;
	unsigned long counts[MAX_TEST_NODES];
	pid_t child;

	self->buf = anon_on(16, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	child = spawn_mapper(self->buf, 16);
	ASSERT_LT(0, child);
	fd = sys_pidfd_open(child, 0);
	ASSERT_LE(0, fd);
	/* The child's copy-on-write pages are shared with us until written. */
	ASSERT_EQ(0, mp2_call_range(fd, MIGRATE_PAGES2_PIDFD | MIGRATE_PAGES2_MOVE_ALL,
				    o, n, 1, self->buf, self->len, &st));
	ASSERT_EQ(0, count_nodes(child, self->buf, 16, counts));
	EXPECT_EQ(16, counts[2]);
	EXPECT_EQ(16, on_node(self->buf, 16, 2));
	EXPECT_STATS(&st, 16, 16, 0, 0, 0);
	EXPECT_EQ(-1, check_pattern(self->buf, 16, SEED));
	close(fd);
	reap(child);
}

/* Rule 5: THP moved whole when the destination has a huge page free. */
TEST_F(mp2, thp_moved_whole)
{
	int o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;
	char *huge;

	self->len = 2 * THP;
	huge = map_thps(self->len, 1, 0, SEED, &self->buf);
	ASSERT_NE(NULL, huge);
	if (anon_huge_kb() < 2048)
		SKIP(return, "no THP could be allocated on node 0");
	ASSERT_EQ(0, CALL(0, o, n, 1, &st));
	EXPECT_EQ(THP / PAGE, on_node(huge, THP / PAGE, 1));
	EXPECT_EQ(-1, check_pattern(huge, THP / PAGE, SEED));
	EXPECT_EQ(0, st.split);
	EXPECT_STATS(&st, THP / PAGE, THP / PAGE, 0, 0, 0);
	EXPECT_LE(2048, anon_huge_kb());
}

/*
 * Rule 2 across batches: a THP remapped half a huge page off its alignment
 * is mapped by PTEs in two 2 MiB batches.  With a chained map it moves
 * 0 -> 1 in the first batch and must not move 1 -> 2 in the second.
 */
TEST_F(mp2, thp_across_batches_moves_once)
{
	int o[] = { 0, 1 }, n[] = { 1, 2 };
	struct migrate_pages_stats st;
	char *huge, *at, *copy;

	self->len = 6 * THP;
	huge = map_thps(self->len, 1, 0, SEED, &self->buf);
	ASSERT_NE(NULL, huge);
	if (anon_huge_kb() < 2048)
		SKIP(return, "no THP could be allocated on node 0");
	copy = malloc(THP);
	ASSERT_NE(NULL, copy);
	memcpy(copy, huge, THP);
	at = huge + 2 * THP + THP / 2;
	ASSERT_EQ(at, mremap(huge, THP, THP, MREMAP_MAYMOVE | MREMAP_FIXED, at));
	ASSERT_EQ(0, CALL(0, o, n, 2, &st));
	EXPECT_EQ(THP / PAGE, on_node(at, THP / PAGE, 1));
	EXPECT_EQ(0, memcmp(copy, at, THP));
	EXPECT_STATS(&st, THP / PAGE, THP / PAGE, 0, 0, 0);
	free(copy);
}

/* Rule 5: hugetlb pages move to a free huge page on the destination. */
TEST_F(mp2, hugetlb)
{
	int o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;

	ASSERT_EQ(0, set_node_hugepages(0, 2));
	ASSERT_EQ(0, set_node_hugepages(1, 2));
	self->len = THP;
	self->buf = map_anon(THP, MAP_PRIVATE | MAP_HUGETLB);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, fill_on(self->buf, THP / PAGE, 0, SEED));
	ASSERT_EQ(0, page_node(self->buf));
	ASSERT_EQ(0, CALL(0, o, n, 1, &st));
	EXPECT_EQ(1, page_node(self->buf));
	EXPECT_EQ(1, page_node(self->buf + THP - PAGE));
	EXPECT_EQ(-1, check_pattern(self->buf, THP / PAGE, SEED));
	EXPECT_STATS(&st, THP / PAGE, THP / PAGE, 0, 0, 0);
	munmap(self->buf, THP);
	self->buf = NULL;
	set_node_hugepages(0, 0);
	set_node_hugepages(1, 0);
}

/* Rule 5: shmem (memfd), mapped once. */
TEST_F(mp2, shmem)
{
	int o[] = { 0 }, n[] = { 3 };
	struct migrate_pages_stats st;
	int fd = memfd_create("mp2-shmem", 0);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 32 * PAGE));
	self->len = 32 * PAGE;
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, fill_on(self->buf, 32, 0, SEED));
	ASSERT_EQ(0, CALL(0, o, n, 1, &st));
	EXPECT_EQ(32, on_node(self->buf, 32, 3));
	EXPECT_EQ(-1, check_pattern(self->buf, 32, SEED));
	EXPECT_STATS(&st, 32, 32, 0, 0, 0);
	close(fd);
}

/* Rule 5: SysV shared memory. */
TEST_F(mp2, sysv_shm)
{
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	int id = shmget(IPC_PRIVATE, 32 * PAGE, IPC_CREAT | 0600);

	ASSERT_LE(0, id);
	self->len = 32 * PAGE;
	self->buf = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL);
	ASSERT_NE((void *)-1, self->buf);
	ASSERT_EQ(0, fill_on(self->buf, 32, 0, SEED));
	ASSERT_EQ(0, CALL(0, o, n, 1, &st));
	EXPECT_EQ(32, on_node(self->buf, 32, 2));
	EXPECT_EQ(-1, check_pattern(self->buf, 32, SEED));
	EXPECT_STATS(&st, 32, 32, 0, 0, 0);
	shmdt(self->buf);
	self->buf = NULL;
}

/* Rule 5: a mapped tmpfs file that was deleted. */
TEST_F(mp2, deleted_tmpfs_file)
{
	char path[] = "/dev/shm/mp2-XXXXXX";
	int o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 16 * PAGE));
	self->len = 16 * PAGE;
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, unlink(path));
	close(fd);
	ASSERT_EQ(0, fill_on(self->buf, 16, 0, SEED));
	ASSERT_EQ(0, CALL(0, o, n, 1, &st));
	EXPECT_EQ(16, on_node(self->buf, 16, 1));
	EXPECT_EQ(-1, check_pattern(self->buf, 16, SEED));
	EXPECT_STATS(&st, 16, 16, 0, 0, 0);
}

/*
 * Rule 5: page cache of a regular file on a disk file system, mapped once.
 * The guest mounts an ext2 ramdisk at DISK_DIR; elsewhere, point
 * MIGRATE_DISK_DIR at a directory on a block-backed file system.
 */
#define DISK_DIR	"/mnt/ext2"

static int disk_file(char *path, size_t size)
{
	const char *dir = getenv("MIGRATE_DISK_DIR");
	struct statfs sfs;

	if (!dir)
		dir = DISK_DIR;
	if (statfs(dir, &sfs) || sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC)
		return -1;
	snprintf(path, size, "%s/mp2-XXXXXX", dir);
	return mkstemp(path);
}

static char *map_file(int fd, unsigned long npages)
{
	char *p;

	if (ftruncate(fd, npages * PAGE))
		return NULL;
	p = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* Read the file back with read(2), from the disk if drop is set. */
static int file_has_pattern(int fd, const char *at, unsigned long npages,
			    uint64_t seed, bool drop)
{
	char *copy = malloc(npages * PAGE);
	unsigned long i;
	int ok;

	if (!copy)
		return 0;
	if (drop && (fsync(fd) || write_file("/proc/sys/vm/drop_caches", "3"))) {
		free(copy);
		return 0;
	}
	ok = pread(fd, copy, npages * PAGE, 0) == (ssize_t)(npages * PAGE);
	/* The pattern depends on the address it was written at. */
	for (i = 0; ok && i < npages * PAGE / 8; i++)
		ok = ((uint64_t *)copy)[i] == pattern(&((const uint64_t *)at)[i], seed);
	free(copy);
	return ok;
}

TEST_F(mp2, regular_file_page_cache)
{
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	char path[128];
	int fd = disk_file(path, sizeof(path));

	if (fd < 0)
		SKIP(return, "no disk file system at %s", DISK_DIR);
	self->len = 32 * PAGE;
	self->buf = map_file(fd, 32);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, fill_on(self->buf, 32, 0, SEED));
	ASSERT_EQ(0, CALL(0, o, n, 1, &st));
	EXPECT_EQ(32, on_node(self->buf, 32, 2));
	EXPECT_STATS(&st, 32, 32, 0, 0, 0);
	EXPECT_EQ(-1, check_pattern(self->buf, 32, SEED));
	EXPECT_TRUE(file_has_pattern(fd, self->buf, 32, SEED, false));
	close(fd);
	unlink(path);
}

TEST_F(mp2, deleted_regular_file)
{
	int o[] = { 0 }, n[] = { 3 };
	struct migrate_pages_stats st;
	char path[128];
	int fd = disk_file(path, sizeof(path));

	if (fd < 0)
		SKIP(return, "no disk file system at %s", DISK_DIR);
	self->len = 32 * PAGE;
	self->buf = map_file(fd, 32);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, unlink(path));
	ASSERT_EQ(0, fill_on(self->buf, 32, 0, SEED));
	ASSERT_EQ(0, CALL(0, o, n, 1, &st));
	EXPECT_EQ(32, on_node(self->buf, 32, 3));
	EXPECT_STATS(&st, 32, 32, 0, 0, 0);
	EXPECT_EQ(-1, check_pattern(self->buf, 32, SEED));
	close(fd);
}

/*
 * Rule 8: dirty state.  Pages written through the mapping and then moved
 * must still be written back: unmap, fsync, drop the page cache and read
 * the file from the disk.  A move that lost the dirty bit loses the data.
 */
TEST_F(mp2, dirty_file_pages_still_written_back)
{
	int o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;
	char path[128], *at;
	int fd = disk_file(path, sizeof(path));

	if (fd < 0)
		SKIP(return, "no disk file system at %s", DISK_DIR);
	self->len = 32 * PAGE;
	self->buf = map_file(fd, 32);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, fill_on(self->buf, 32, 0, SEED));
	ASSERT_EQ(0, CALL(0, o, n, 1, &st));
	EXPECT_STATS(&st, 32, 32, 0, 0, 0);
	EXPECT_EQ(32, on_node(self->buf, 32, 1));
	at = self->buf;
	ASSERT_EQ(0, munmap(self->buf, self->len));
	self->buf = NULL;
	EXPECT_TRUE(file_has_pattern(fd, at, 32, SEED, true));
	close(fd);
	unlink(path);
}

/* Rule 8: soft-dirty bits are the same after the move, set or clear. */
static int soft_dirty(void *addr)
{
	uint64_t entry;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = pread(fd, &entry, 8, (uintptr_t)addr / PAGE * 8) == 8;
	close(fd);
	return ok ? (int)(entry >> 55 & 1) : -1;
}

TEST_F(mp2, soft_dirty_preserved)
{
	int o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;
	int i;

	self->buf = anon_on(16, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	/* A page just written is soft-dirty where the kernel tracks it. */
	if (!soft_dirty(self->buf))
		SKIP(return, "no soft-dirty tracking (CONFIG_MEM_SOFT_DIRTY; not on arm64)");
	/* Clear every soft-dirty bit, then dirty the even pages again. */
	ASSERT_EQ(0, write_file("/proc/self/clear_refs", "4"));
	for (i = 0; i < 16; i += 2)	/* a store the compiler keeps */
		__atomic_store_n(&self->buf[i * PAGE], self->buf[i * PAGE],
				 __ATOMIC_RELAXED);
	for (i = 0; i < 16; i++)
		ASSERT_EQ(i % 2 == 0, soft_dirty(self->buf + i * PAGE));
	ASSERT_EQ(0, CALL(0, o, n, 1, &st));
	EXPECT_EQ(16, on_node(self->buf, 16, 1));
	EXPECT_STATS(&st, 16, 16, 0, 0, 0);
	for (i = 0; i < 16; i++)
		EXPECT_EQ(i % 2 == 0, soft_dirty(self->buf + i * PAGE));
	EXPECT_EQ(-1, check_pattern(self->buf, 16, SEED));
}

/* Rules 5 and 8: mlocked pages move and stay locked. */
static long vm_locked_kb(void)
{
	return read_key("/proc/self/status", "VmLck:");
}

TEST_F(mp2, mlocked)
{
	int o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;

	self->buf = anon_on(16, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, mlock(self->buf, 16 * PAGE));
	ASSERT_EQ(64, vm_locked_kb());
	ASSERT_EQ(0, CALL(0, o, n, 1, &st));
	EXPECT_EQ(16, on_node(self->buf, 16, 1));
	EXPECT_EQ(-1, check_pattern(self->buf, 16, SEED));
	EXPECT_STATS(&st, 16, 16, 0, 0, 0);
	EXPECT_EQ(64, vm_locked_kb());
	munlock(self->buf, 16 * PAGE);
}

/* Rule 8: a writer runs through repeated swaps and loses nothing. */
struct writer {
	uint64_t *words;
	unsigned long nwords;
	int stop;
	uint64_t rounds;
};

static void *write_rounds(void *arg)
{
	struct writer *w = arg;
	unsigned long i;

	while (!__atomic_load_n(&w->stop, __ATOMIC_RELAXED)) {
		w->rounds++;
		for (i = 0; i < w->nwords; i++)
			w->words[i] = w->rounds;
	}
	return NULL;
}

TEST_F(mp2, writer_during_swaps)
{
	int where[] = { 0, 1 }, o[] = { 0, 1 }, n[] = { 1, 0 };
	struct writer w = {};
	struct migrate_pages_stats st;
	unsigned long i, total = 0;
	pthread_t th;

	self->buf = anon(128, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, place_blocks(self->buf, 64, where, 2));
	w.words = (uint64_t *)self->buf;
	w.nwords = 128 * PAGE / 8;
	ASSERT_EQ(0, pthread_create(&th, NULL, write_rounds, &w));
	for (i = 0; i < 10; i++) {
		long r = CALL(0, o, n, 2, &st);

		ASSERT_LE(0, r);
		/* A writer races with the moves: no count is known. */
		EXPECT_STATS_CONSISTENT(r, &st);
		total += st.moved;
	}
	__atomic_store_n(&w.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	for (i = 0; i < w.nwords; i++)
		if (w.words[i] != w.rounds)
			break;
	EXPECT_EQ(w.nwords, i);
	EXPECT_LT(0, total);
	EXPECT_EQ(128, on_node(self->buf, 128, 0) + on_node(self->buf, 128, 1));
}

/* Rule 7: the target unmaps and maps while it is being moved. */
TEST_F(mp2, target_remaps_during_call)
{
	int o[] = { 0 }, n[] = { 1 }, status, i;
	struct migrate_pages_stats st;
	pid_t child = fork();

	if (!child) {
		for (i = 0; i < 200; i++) {
			char *p = map_anon(64 * PAGE, MAP_PRIVATE);

			if (!p || fill_on(p, 64, 0, SEED + i))
				_exit(2);
			if (check_pattern(p, 64, SEED + i) != -1)
				_exit(1);
			munmap(p, 64 * PAGE);
		}
		_exit(0);
	}
	for (i = 0; i < 50; i++) {
		long r = mp2_call(child, 0, o, n, 1, &st);

		/* Exited, not yet reaped: a target without an mm (EINVAL). */
		if (r < 0) {
			ASSERT_EQ(EINVAL, errno);
			break;
		}
		EXPECT_STATS_CONSISTENT(r, &st);
	}
	waitpid(child, &status, 0);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* Rule 7: the target exits during the call. */
TEST_F(mp2, target_exits_during_call)
{
	int o[] = { 0 }, n[] = { 1 }, i;
	struct migrate_pages_stats st;

	for (i = 0; i < 5; i++) {
		pid_t child = fork();
		long r;

		if (!child) {
			char *p = map_anon(1024 * PAGE, MAP_PRIVATE);

			fill_on(p, 1024, 0, SEED);
			usleep(1000 * i);
			_exit(0);
		}
		usleep(1000);
		r = mp2_call(child, 0, o, n, 1, &st);
		/* Exiting or not, what it found adds up. */
		if (r >= 0)
			EXPECT_STATS_CONSISTENT(r, &st);
		else
			EXPECT_TRUE(errno == ESRCH || errno == EINVAL);
		waitpid(child, NULL, 0);
	}
}

/* Permissions: a destination outside the target's cpuset needs CAP_SYS_NICE. */
TEST_F(mp2, dest_outside_target_cpuset)
{
	const char *cg = "/sys/fs/cgroup/mp2-cpuset";
	int o[] = { 0 }, n[] = { 2 }, n_ok[] = { 1 }, status;
	char path[256], pidbuf[32], c;
	unsigned long counts[MAX_TEST_NODES];
	struct migrate_pages_stats *st;
	pid_t target, caller;
	int ready[2];

	if (write_file("/sys/fs/cgroup/cgroup.subtree_control", "+cpuset"))
		SKIP(return, "no cpuset controller in cgroup v2");
	/* The caller's stats, for us to check. */
	st = map_anon(PAGE, MAP_SHARED);
	ASSERT_NE(NULL, st);
	mkdir(cg, 0755);
	snprintf(path, sizeof(path), "%s/cpuset.mems", cg);
	ASSERT_EQ(0, write_file(path, "0-1"));
	ASSERT_EQ(0, pipe(ready));
	self->buf = anon(16, &self->len);
	ASSERT_NE(NULL, self->buf);
	target = fork();
	if (!target) {
		if (setgid(65534) || setuid(65534))
			_exit(1);
		/* Changing credentials made it non-dumpable: undo that. */
		prctl(PR_SET_DUMPABLE, 1);
		fill_on(self->buf, 16, 0, SEED);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pidbuf, sizeof(pidbuf), "%d", target);
	ASSERT_EQ(0, write_file(path, pidbuf));
	caller = fork();
	if (!caller) {
		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (mp2_call_range(target, 0, o, n, 1, self->buf, self->len, st) != -1 ||
		    errno != EPERM)
			_exit(1);
		if (mp2_call_range(target, 0, o, n_ok, 1, self->buf, self->len, st))
			_exit(2);
		_exit(0);
	}
	waitpid(caller, &status, 0);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* Refused to node 2, moved to node 1 inside the cpuset. */
	ASSERT_EQ(0, count_nodes(target, self->buf, 16, counts));
	EXPECT_EQ(16, counts[1]);
	EXPECT_STATS(st, 16, 16, 0, 0, 0);
	munmap(st, PAGE);
	reap(target);
	rmdir(cg);
}

/* Rules 5 and 6: KSM pages are shared pages, moved once with MOVE_ALL. */
TEST_F(mp2, ksm_pages_follow_shared_rule)
{
	const char *ksm = "/sys/kernel/mm/ksm/";
	int o[] = { 0 }, n[] = { 2 }, i;
	struct migrate_pages_stats st;
	char path[128];

	snprintf(path, sizeof(path), "%srun", ksm);
	if (write_file(path, "1"))
		SKIP(return, "no KSM");
	snprintf(path, sizeof(path), "%ssleep_millisecs", ksm);
	ASSERT_EQ(0, write_file(path, "10"));
	self->buf = anon(16, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, bind_to(0));
	memset(self->buf, 0x5a, self->len);
	ASSERT_EQ(0, bind_to(-1));
	ASSERT_EQ(0, madvise(self->buf, self->len, MADV_MERGEABLE));
	for (i = 0; i < 1000; i++) {
		if (read_key("/proc/self/ksm_merging_pages", "") >= 16)
			break;
		usleep(20000);
	}
	ASSERT_LE(16, read_key("/proc/self/ksm_merging_pages", ""));
	/*
	 * Stop ksmd (merged pages stay merged): a scan that holds the KSM
	 * page while we migrate it makes it busy (seen on the KASAN kernel).
	 */
	snprintf(path, sizeof(path), "%srun", ksm);
	ASSERT_EQ(0, write_file(path, "0"));

	/* Sixteen PTEs, one KSM page: skipped and counted once. */
	EXPECT_EQ(1, CALL(0, o, n, 1, &st));
	EXPECT_STATS(&st, 1, 0, 1, 0, 0);
	EXPECT_EQ(16, on_node(self->buf, 16, 0));
	EXPECT_EQ(0, CALL(MIGRATE_PAGES2_MOVE_ALL, o, n, 1, &st));
	EXPECT_STATS(&st, 1, 1, 0, 0, 0);
	EXPECT_EQ(16, on_node(self->buf, 16, 2));
	for (i = 0; i < 16 * PAGE; i++)
		if (self->buf[i] != 0x5a)
			break;
	EXPECT_EQ(16 * PAGE, i);
	write_file(path, "2");
}

/*
 * Rule 5: a THP is split and moved when the destination cannot supply a
 * huge page.  fail_page_alloc makes every order-9 allocation of this task
 * fail, which is what a destination without a free huge page does.
 */
static int fail_huge_allocations(bool on)
{
	const char *d = "/sys/kernel/debug/fail_page_alloc/";
	static const char * const knobs[][2] = {
		{ "min-order", "9" }, { "ignore-gfp-wait", "N" },
		{ "ignore-gfp-highmem", "N" }, { "task-filter", "Y" },
		{ "interval", "1" }, { "times", "-1" }, { "verbose", "0" },
		{ "probability", "100" },
	};
	char path[128];
	unsigned int i;

	for (i = 0; on && i < ARRAY_SIZE(knobs); i++) {
		snprintf(path, sizeof(path), "%s%s", d, knobs[i][0]);
		if (write_file(path, knobs[i][1]))
			return -1;
	}
	return write_file("/proc/self/make-it-fail", on ? "1" : "0");
}

TEST_F(mp2, thp_split_without_free_huge_page)
{
	int o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;
	char *huge;
	long r;

	if (access("/sys/kernel/debug/fail_page_alloc", F_OK))
		SKIP(return, "needs CONFIG_FAIL_PAGE_ALLOC and debugfs");
	self->len = 2 * THP;
	huge = map_thps(self->len, 1, 0, SEED, &self->buf);
	ASSERT_NE(NULL, huge);
	ASSERT_LE(2048, anon_huge_kb());

	ASSERT_EQ(0, fail_huge_allocations(true));
	r = CALL(0, o, n, 1, &st);
	fail_huge_allocations(false);
	ASSERT_EQ(0, r);
	EXPECT_STATS_CONSISTENT(r, &st);
	EXPECT_EQ(1, st.split);
	EXPECT_EQ(THP / PAGE, st.moved);
	EXPECT_EQ(THP / PAGE, on_node(huge, THP / PAGE, 1));
	EXPECT_EQ(-1, check_pattern(huge, THP / PAGE, SEED));
	EXPECT_EQ(0, anon_huge_kb());
}

/*
 * Rule 2: no fallback.  With node 3 eaten by huge pages, base pages bound
 * for it stay where they are and count as no_memory; none is lost, and
 * none lands on another node.
 */
TEST_F(mp2, full_destination_counts_no_memory)
{
	int o[] = { 0 }, n[] = { 3 };
	struct migrate_pages_stats st;
	unsigned long counts[MAX_TEST_NODES], npages;
	long r = -1, free_pages;

	ASSERT_EQ(0, set_node_hugepages(3, 100000));
	/*
	 * More pages than the node has left after the reservation (earlier
	 * tests leave holes no huge page fits in, and pages in per-CPU
	 * lists): some must stay behind.
	 */
	free_pages = node_free_pages(3);
	npages = (free_pages > 0 ? free_pages : 0) + 1024;
	self->buf = anon_on(npages, 0, &self->len);
	if (self->buf)
		r = CALL(0, o, n, 1, &st);
	set_node_hugepages(3, 0);
	ASSERT_NE(NULL, self->buf);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, count_nodes(0, self->buf, npages, counts));
	EXPECT_EQ(npages, counts[0] + counts[3]);
	EXPECT_EQ(st.moved, counts[3]);
	EXPECT_LT(0, st.no_memory);
	EXPECT_EQ(npages, st.moved + st.no_memory);
	EXPECT_EQ(r, st.no_memory + st.busy);
	/* How much fits is up to the allocator; the counts still add up. */
	EXPECT_EQ(npages, st.scanned);
	EXPECT_STATS_CONSISTENT(r, &st);
	EXPECT_EQ(-1, check_pattern(self->buf, npages, SEED));
}

/*
 * Rule 7 and EINTR: SIGKILL to the caller ends the call.  The caller can
 * not report, so its stats buffer is shared with us: what it says moved
 * must be exactly what is on the new node, and nothing is lost.
 */
TEST_F(mp2, fatal_signal_ends_call)
{
	enum { NPAGES = 16384 };	/* 64 MiB: many batches */
	int o[] = { 0 }, n[] = { 1 }, status;
	struct migrate_pages_stats *st;
	unsigned long counts[MAX_TEST_NODES];
	pid_t caller;

	st = map_anon(PAGE, MAP_SHARED);
	ASSERT_NE(NULL, st);
	memset(st, 0xff, sizeof(*st));
	self->buf = anon(NPAGES, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, fill_on(self->buf, NPAGES, 0, SEED));
	caller = fork();
	if (!caller) {
		/* The pages are copy-on-write shared with us: MOVE_ALL. */
		mp2_call_range(getppid(), MIGRATE_PAGES2_MOVE_ALL, o, n, 1,
			       self->buf, self->len, st);
		_exit(0);
	}
	usleep(100000);
	kill(caller, SIGKILL);
	waitpid(caller, &status, 0);
	ASSERT_EQ(0, count_nodes(0, self->buf, NPAGES, counts));
	EXPECT_EQ(NPAGES, counts[0] + counts[1]);
	EXPECT_EQ(counts[1], st->moved);
	/* Written on EINTR too, and adding up: the page in flight included. */
	EXPECT_TRUE(stats_add_up(st)) {
		TH_LOG("stats " MP2_STATS_FMT, (unsigned long long)st->scanned,
		       (unsigned long long)st->moved, (unsigned long long)st->shared,
		       (unsigned long long)st->busy, (unsigned long long)st->no_memory);
	}
	EXPECT_EQ(0, st->deferred);
	EXPECT_EQ(-1, check_pattern(self->buf, NPAGES, SEED));
	if (WIFSIGNALED(status))
		TH_LOG("killed after moving %lu of %d pages", counts[1], NPAGES);
	munmap(st, PAGE);
}

/* ENOMEM: the kernel's own bookkeeping cannot be allocated; nothing moves. */
TEST_F(mp2, enomem_for_bookkeeping)
{
	const char *d = "/sys/kernel/debug/failslab/";
	static const char * const knobs[][2] = {
		{ "ignore-gfp-wait", "N" }, { "task-filter", "Y" },
		{ "interval", "1" }, { "times", "1" }, { "verbose", "0" },
		{ "probability", "100" },
	};
	int o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;
	char path[128];
	unsigned int i;
	int err, fail;
	long r;

	if (access(d, F_OK))
		SKIP(return, "needs CONFIG_FAILSLAB and debugfs");
	self->buf = anon_on(16, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	for (i = 0; i < ARRAY_SIZE(knobs); i++) {
		snprintf(path, sizeof(path), "%s%s", d, knobs[i][0]);
		ASSERT_EQ(0, write_file(path, knobs[i][1]));
	}
	/*
	 * Opened before and closed after: open and close allocate too, and
	 * must not take the one injected failure meant for the call (nor may
	 * the isolation check around the call).
	 */
	mp2_watch_isolated = false;
	fail = open("/proc/self/make-it-fail", O_WRONLY);
	ASSERT_LE(0, fail);
	ASSERT_EQ(1, pwrite(fail, "1", 1, 0));
	r = CALL(0, o, n, 1, &st);
	err = errno;
	ASSERT_EQ(1, pwrite(fail, "0", 1, 0));
	close(fail);
	EXPECT_EQ(-1, r);
	EXPECT_EQ(ENOMEM, err);
	EXPECT_EQ(16, on_node(self->buf, 16, 0));
}

/* Permissions: a destination outside the caller's own cpuset is refused. */
TEST_F(mp2, dest_outside_caller_cpuset)
{
	const char *cg = "/sys/fs/cgroup/mp2-caller";
	int o[] = { 0 }, n[] = { 2 }, n_ok[] = { 1 }, status;
	struct migrate_pages_stats *st;
	char path[256];
	pid_t caller;

	if (write_file("/sys/fs/cgroup/cgroup.subtree_control", "+cpuset"))
		SKIP(return, "no cpuset controller in cgroup v2");
	/* The caller's stats, for us to check. */
	st = map_anon(PAGE, MAP_SHARED);
	ASSERT_NE(NULL, st);
	mkdir(cg, 0755);
	snprintf(path, sizeof(path), "%s/cpuset.mems", cg);
	ASSERT_EQ(0, write_file(path, "0-1"));
	self->buf = anon_on(16, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	caller = fork();
	if (!caller) {
		char pid[32];

		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (write_file(path, pid))
			_exit(10);
		/* Root, with CAP_SYS_NICE, and still refused. */
		if (CALL(0, o, n, 1, st) != -1 || errno != EPERM)
			_exit(1);
		/* Our pages are copy-on-write shared with the parent. */
		if (CALL(MIGRATE_PAGES2_MOVE_ALL, o, n_ok, 1, st))
			_exit(2);
		_exit(on_node(self->buf, 16, 1) == 16 ? 0 : 3);
	}
	waitpid(caller, &status, 0);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_STATS(st, 16, 16, 0, 0, 0);
	EXPECT_EQ(16, on_node(self->buf, 16, 1));
	EXPECT_EQ(-1, check_pattern(self->buf, 16, SEED));
	munmap(st, PAGE);
	rmdir(cg);
}

/*
 * The migrate_pages2 event of the one call fn makes, as a line of the
 * trace buffer in line; 0 if exactly one was recorded, -1 if the event is
 * missing (no tracefs), 1 otherwise.
 */
#define TRACING	"/sys/kernel/tracing"
#define EVENT	TRACING "/events/migrate_pages2/migrate_pages2/enable"

static int traced(long (*fn)(void *), void *arg, long *ret, char *line, size_t size)
{
	char buf[1024];
	int found = 0, fd;
	FILE *f;

	if (access(EVENT, W_OK))
		return -1;
	/* Opening the buffer with O_TRUNC empties it. */
	fd = open(TRACING "/trace", O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -1;
	close(fd);
	if (write_file(EVENT, "1"))
		return -1;
	*ret = fn(arg);
	write_file(EVENT, "0");
	f = fopen(TRACING "/trace", "r");
	if (!f)
		return -1;
	while (fgets(buf, sizeof(buf), f))
		if (strstr(buf, "migrate_pages2:") && found++ == 0)
			snprintf(line, size, "%s", buf);
	fclose(f);
	return found == 1 ? 0 : 1;
}

/* A call on the caller's own pages, for traced(). */
struct own_call {
	uint64_t flags;
	int o[1], n[1];
	char *buf;
	unsigned long len;
	struct migrate_pages_stats st;
};

static long own_call(void *arg)
{
	struct own_call *c = arg;

	return mp2_call_range(0, c->flags, c->o, c->n, 1, c->buf, c->len, &c->st);
}

static unsigned long trace_field(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtoul(p + strlen(key), NULL, 10) : ~0UL;
}

/* Rule 9: one tracepoint per call with pids, pairs, stats and the result. */
TEST_F(mp2, tracepoint)
{
	struct own_call c = { .o = { 0 }, .n = { 1 } };
	char line[1024];
	pid_t child;
	long r;
	int t;

	self->buf = anon_on(8, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	c.buf = self->buf;
	c.len = self->len;
	t = traced(own_call, &c, &r, line, sizeof(line));
	if (t < 0)
		SKIP(return, "tracefs or the event is missing");
	ASSERT_EQ(0, t);
	EXPECT_EQ(0, r);
	EXPECT_NE(NULL, strstr(line, "old={0x0}"));
	EXPECT_NE(NULL, strstr(line, "new={0x1}"));
	EXPECT_NE(NULL, strstr(line, "scanned=8 moved=8"));
	EXPECT_EQ(0, trace_field(line, " ret="));
	EXPECT_STATS(&c.st, 8, 8, 0, 0, 0);
	EXPECT_EQ(8, on_node(self->buf, 8, 1));

	/* Shared pages stay: the event reports what the call returned. */
	munmap(self->buf, self->len);
	self->buf = map_anon(self->len, MAP_SHARED);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, fill_on(self->buf, 8, 0, SEED));
	child = spawn_mapper(self->buf, 8);
	ASSERT_LT(0, child);
	c.buf = self->buf;
	ASSERT_EQ(0, traced(own_call, &c, &r, line, sizeof(line)));
	EXPECT_EQ(8, r);
	EXPECT_STATS(&c.st, 8, 0, 8, 0, 0);
	EXPECT_EQ(8, on_node(self->buf, 8, 0));
	EXPECT_EQ(8, trace_field(line, " shared="));
	EXPECT_EQ(8, trace_field(line, " ret=")) {
		TH_LOG("%s", line);
	}
	reap(child);
}

/* 2 TiB where the address space has room for it; 1 GiB for 32-bit callers. */
#if ULONG_MAX > 0xffffffffUL
#define RESERVATION	(2UL << 40)
#else
#define RESERVATION	(1024UL * 1024 * 1024)
#endif

/*
 * Rule 4: cost follows the memory present, not the size of the range.  A
 * 2 TiB PROT_NONE reservation (an ASan shadow, a JIT cage) followed by 16
 * pages is one batch, not a million; and rule 7: 64 MiB of pages take at
 * least 32 batches of at most 2 MiB.  The event counts the batches.
 */
TEST_F(mp2, batches_follow_memory_not_span)
{
	const unsigned long span = RESERVATION;
	struct own_call c = { .o = { 0 }, .n = { 1 } };
	unsigned long counts[MAX_TEST_NODES];
	char line[1024], *tail;
	long r;
	int t;

	self->len = span + 16 * PAGE;
	self->buf = mmap(NULL, self->len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	tail = self->buf + span;
	ASSERT_EQ(0, mprotect(tail, 16 * PAGE, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, fill_on(tail, 16, 0, SEED));
	c.buf = self->buf;
	c.len = self->len;
	c.flags = MIGRATE_PAGES2_DRY_RUN;
	t = traced(own_call, &c, &r, line, sizeof(line));
	if (t < 0)
		SKIP(return, "tracefs or the event is missing");
	ASSERT_EQ(0, t);
	EXPECT_EQ(0, r);
	EXPECT_DRY_STATS(&c.st, 16, 0, 0, 0, 0);
	EXPECT_GE(2, trace_field(line, " batches=")) {
		TH_LOG("%s", line);
	}
	c.flags = 0;
	ASSERT_EQ(0, traced(own_call, &c, &r, line, sizeof(line)));
	EXPECT_EQ(0, r);
	EXPECT_STATS(&c.st, 16, 16, 0, 0, 0);
	EXPECT_EQ(16, on_node(tail, 16, 1));
	EXPECT_EQ(-1, check_pattern(tail, 16, SEED));
	EXPECT_GE(2, trace_field(line, " batches="));
	munmap(self->buf, self->len);

	self->buf = anon_on(16384, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	c.buf = self->buf;
	c.len = self->len;
	ASSERT_EQ(0, traced(own_call, &c, &r, line, sizeof(line)));
	EXPECT_EQ(0, r);
	EXPECT_STATS(&c.st, 16384, 16384, 0, 0, 0);
	EXPECT_LE(32, trace_field(line, " batches="));
	ASSERT_EQ(0, count_nodes(0, self->buf, 16384, counts));
	EXPECT_EQ(16384, counts[1]);
	EXPECT_EQ(-1, check_pattern(self->buf, 16384, SEED));
}

/*
 * The call holds no target's memory alive: a target killed while the
 * call is moving another one frees its memory, and is not walked.
 */
struct killer {
	pid_t pid;
	int delay_ms;
};

static void *kill_later(void *arg)
{
	struct killer *k = arg;

	usleep(k->delay_ms * 1000);
	kill(k->pid, SIGKILL);
	waitpid(k->pid, NULL, 0);
	return NULL;
}

TEST_F(mp2, target_killed_during_call_is_not_walked)
{
	enum { NPAGES = 16384 };	/* 64 MiB each: many batches */
	int o[] = { 0 }, n[] = { 1 }, pids[2];
	struct killer k = { .delay_ms = 200 };
	struct migrate_pages_stats st;
	struct migrate_pages_args a = {
		.pids = (uintptr_t)pids, .old_nodes = (uintptr_t)o,
		.new_nodes = (uintptr_t)n, .stats = (uintptr_t)&st,
		.nr_pids = 2, .nr_nodes = 1, .workers = mp2_workers,
	};
	unsigned long counts[MAX_TEST_NODES];
	pthread_t th;

	self->buf = anon(NPAGES, &self->len);
	ASSERT_NE(NULL, self->buf);
	pids[0] = spawn_toucher(self->buf, NPAGES, 0, SEED);
	pids[1] = spawn_toucher(self->buf, NPAGES, 0, SEED);
	ASSERT_LT(0, pids[0]);
	ASSERT_LT(0, pids[1]);
	k.pid = pids[1];
	a.start = (uintptr_t)self->buf;
	a.len = self->len;
	ASSERT_EQ(0, pthread_create(&th, NULL, kill_later, &k));
	ASSERT_EQ(0, sys_migrate_pages2(&a, sizeof(a)));
	pthread_join(th, NULL);
	EXPECT_STATS(&st, NPAGES, NPAGES, 0, 0, 0);
	ASSERT_EQ(0, count_nodes(pids[0], self->buf, NPAGES, counts));
	EXPECT_EQ(NPAGES, counts[1]);
	reap(pids[0]);
}

/* A thread's pidfd (PIDFD_THREAD) names its process, as a thread's id does. */
#ifndef PIDFD_THREAD
#define PIDFD_THREAD	O_EXCL
#endif

TEST_F(mp2, pidfd_of_a_thread)
{
	int o[] = { 0 }, n[] = { 2 }, tid = 0, fd;
	struct migrate_pages_stats st;
	pthread_t th;

	self->buf = anon_on(16, 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, pthread_create(&th, NULL, park, &tid));
	while (!__atomic_load_n(&tid, __ATOMIC_ACQUIRE))
		sched_yield();
	fd = sys_pidfd_open(tid, PIDFD_THREAD);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, mp2_call_range(fd, MIGRATE_PAGES2_PIDFD, o, n, 1, self->buf,
				    self->len, &st));
	EXPECT_STATS(&st, 16, 16, 0, 0, 0);
	EXPECT_EQ(16, on_node(self->buf, 16, 2));
	EXPECT_EQ(-1, check_pattern(self->buf, 16, SEED));
	close(fd);
	pthread_cancel(th);
	pthread_join(th, NULL);
}

TEST_HARNESS_MAIN
