// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2(): every page is counted once, in exactly one reason
 * (rule 6), and what one page does not change what happens to another.
 * Each test sets up a case where the pages are reachable more than once
 * or move in an unusual way -- a huge page table shared between processes,
 * a full destination beside a free one, a pinned page in the same list as
 * pages a full node refuses, THPs toward a fragmented node (who compacts
 * for them), a THP mapped in two places, pages
 * another migration holds, freed destination pages handed out again --
 * then checks the counts against where every page is.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/uio.h>

#include "../kselftest_harness.h"
#include "helpers.h"

#define SEED	0xc0c0ULL
#define GIB	(1024UL * 1024 * 1024)
#define PROACTIVE	"/proc/sys/vm/compaction_proactiveness"

FIXTURE(counts) {
	char *buf;
	unsigned long len;
	pid_t child;
	int hog_node;
	long proactive;
};

/* Every test runs with the caller alone, and with helper threads. */
FIXTURE_VARIANT(counts) {
	unsigned int workers;
};

FIXTURE_VARIANT_ADD(counts, caller) {
	.workers = 0,
};

FIXTURE_VARIANT_ADD(counts, workers4) {
	.workers = 4,
};

FIXTURE_SETUP(counts)
{
	self->buf = NULL;
	self->len = 0;
	self->child = 0;
	self->hog_node = -1;
	self->proactive = -1;
	if (nodes_with_memory() < 4)
		SKIP(return, "needs 4 nodes with memory");
	mp2_fixture_setup(variant->workers);
}

FIXTURE_TEARDOWN(counts)
{
	if (self->child > 0)
		reap(self->child);
	if (self->buf)
		munmap(self->buf, self->len);
	if (self->hog_node >= 0)
		set_node_hugepages(self->hog_node, 0);
	if (self->proactive >= 0) {
		char val[32];

		snprintf(val, sizeof(val), "%ld", self->proactive);
		write_file(PROACTIVE, val);
	}
	/* No call left a page isolated. */
	EXPECT_EQ(0, mp2_isolated_leaks);
}

/*
 * A job of eight processes sharing 8 MiB: every page is scanned and moved
 * once, though met through eight mappings, and with helpers moving pages
 * while the walk meets their other mappings (a page whose other mappings
 * are already unmapped for the move looks mapped once).
 */
TEST_F(counts, shared_job_counted_once)
{
	enum { PROCS = 8, NPAGES = 2048 };
	int o[] = { 0 }, n[] = { 1 }, pids[PROCS], i;
	struct migrate_pages_stats st;
	struct migrate_pages_args a = {
		.flags = MIGRATE_PAGES2_MOVE_ALL, .pids = (uintptr_t)pids,
		.old_nodes = (uintptr_t)o, .new_nodes = (uintptr_t)n,
		.stats = (uintptr_t)&st, .nr_pids = PROCS, .nr_nodes = 1,
		.workers = mp2_workers,
	};
	long r;

	self->len = NPAGES * PAGE;
	self->buf = map_anon(self->len, MAP_SHARED);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, fill_on(self->buf, NPAGES, 0, SEED));
	pids[0] = 0;
	for (i = 1; i < PROCS; i++) {
		pids[i] = spawn_mapper(self->buf, NPAGES);
		ASSERT_LT(0, pids[i]);
	}
	a.start = (uintptr_t)self->buf;
	a.len = self->len;
	r = sys_migrate_pages2(&a, sizeof(a));
	for (i = 1; i < PROCS; i++)
		reap(pids[i]);
	EXPECT_EQ(0, r);
	EXPECT_STATS(&st, NPAGES, NPAGES, 0, 0, 0);
	EXPECT_EQ(NPAGES, pages_on(0, self->buf, NPAGES, 1));
	EXPECT_EQ(-1, check_pattern(self->buf, NPAGES, SEED));
}

/*
 * Why a job's processes go in one call: a swap {0->1, 1->0} of a job of
 * two processes sharing memory, made one process per call (as a caller
 * splitting the job over its own threads would), moves each shared page
 * twice, back where it was; the same swap in one call moves each once.
 */
TEST_F(counts, swap_split_across_calls_undoes_itself)
{
	enum { NPAGES = 256 };
	int o[] = { 0, 1 }, n[] = { 1, 0 }, pids[2] = { 0 };
	struct migrate_pages_stats st;
	struct migrate_pages_args a = {
		.flags = MIGRATE_PAGES2_MOVE_ALL, .pids = (uintptr_t)pids,
		.old_nodes = (uintptr_t)o, .new_nodes = (uintptr_t)n,
		.stats = (uintptr_t)&st, .nr_nodes = 2, .workers = mp2_workers,
	};
	char *half;

	self->len = NPAGES * PAGE;
	self->buf = map_anon(self->len, MAP_SHARED);
	ASSERT_NE(NULL, self->buf);
	half = self->buf + NPAGES / 2 * PAGE;
	ASSERT_EQ(0, fill_on(self->buf, NPAGES / 2, 0, SEED));
	ASSERT_EQ(0, fill_on(half, NPAGES / 2, 1, SEED));
	self->child = spawn_mapper(self->buf, NPAGES);
	ASSERT_LT(0, self->child);
	a.start = (uintptr_t)self->buf;
	a.len = self->len;

	/* One process per call: the second call swaps the pages back. */
	a.nr_pids = 1;
	pids[0] = self->child;
	ASSERT_EQ(0, sys_migrate_pages2(&a, sizeof(a)));
	EXPECT_EQ(NPAGES, st.moved);
	EXPECT_EQ(NPAGES / 2, pages_on(0, self->buf, NPAGES / 2, 1));
	pids[0] = 0;
	ASSERT_EQ(0, sys_migrate_pages2(&a, sizeof(a)));
	EXPECT_EQ(NPAGES, st.moved);
	EXPECT_EQ(NPAGES / 2, pages_on(0, self->buf, NPAGES / 2, 0));
	EXPECT_EQ(NPAGES / 2, pages_on(0, half, NPAGES / 2, 1));

	/* Both in one call: each page once, the job swapped. */
	a.nr_pids = 2;
	pids[0] = 0;
	pids[1] = self->child;
	ASSERT_EQ(0, sys_migrate_pages2(&a, sizeof(a)));
	EXPECT_STATS(&st, NPAGES, NPAGES, 0, 0, 0);
	EXPECT_EQ(NPAGES / 2, pages_on(0, self->buf, NPAGES / 2, 1));
	EXPECT_EQ(NPAGES / 2, pages_on(0, half, NPAGES / 2, 0));
	EXPECT_EQ(-1, check_pattern(self->buf, NPAGES, SEED));
}

/*
 * A MAP_SHARED hugetlb mapping that covers a whole 1 GiB-aligned range
 * shares its PMD page table with the processes it is forked to: the huge
 * page is mapped once (mapcount 1) yet reachable from two processes.  It is
 * shared (mainline's hugetlb_pmd_shared() test), so an unprivileged process
 * sharing the table with root cannot move root's page without MOVE_ALL.
 */
TEST_F(counts, hugetlb_shared_page_table_is_shared)
{
	int o[] = { 0 }, n[] = { 1 }, status, ready[2];
	struct migrate_pages_stats *st;
	char *at, c;

	ASSERT_EQ(0, set_node_hugepages(0, 1));
	ASSERT_EQ(0, set_node_hugepages(1, 1));
	self->hog_node = 0;
	self->len = 2 * GIB;
	self->buf = mmap(NULL, self->len, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	at = (char *)(((uintptr_t)self->buf + GIB - 1) & ~(GIB - 1));
	ASSERT_EQ(at, mmap(at, GIB, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE | MAP_FIXED,
			   -1, 0));
	ASSERT_EQ(0, fill_on(at, THP / PAGE, 0, SEED));
	ASSERT_EQ(0, page_node(at));
	st = map_anon(PAGE, MAP_SHARED);
	ASSERT_NE(NULL, st);
	ASSERT_EQ(0, pipe(ready));

	/*
	 * The child's first touch finds the parent's page table and shares
	 * it (fork copies no page table of a shared hugetlb mapping); then it
	 * drops root and tries its luck.
	 */
	self->child = fork();
	if (!self->child) {
		long r;

		if (check_pattern(at, THP / PAGE, SEED) != -1)
			_exit(12);
		if (setgid(65534) || setuid(65534))
			_exit(10);
		r = mp2_call_range(0, 0, o, n, 1, at, THP, st);
		if (write(ready[1], "r", 1) != 1)
			_exit(11);
		pause();
		_exit(r == THP / PAGE ? 0 : 1);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	EXPECT_EQ(0, page_node(at));
	EXPECT_EQ(0, page_node_of(self->child, at));
	EXPECT_STATS(st, THP / PAGE, 0, THP / PAGE, 0, 0);
	kill(self->child, SIGTERM);
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = 0;
	EXPECT_TRUE(WIFSIGNALED(status));

	/* Root with MOVE_ALL moves it. */
	ASSERT_EQ(0, mp2_call_range(0, MIGRATE_PAGES2_MOVE_ALL, o, n, 1, at, THP, st));
	EXPECT_STATS(st, THP / PAGE, THP / PAGE, 0, 0, 0);
	EXPECT_EQ(-1, check_pattern(at, THP / PAGE, SEED));
	EXPECT_EQ(1, page_node(at));
	munmap(st, PAGE);
	munmap(self->buf, self->len);
	self->buf = NULL;
	set_node_hugepages(1, 0);
}

/*
 * Rule 6: destinations are independent.  Pages interleaved over nodes 0
 * and 1, pairs {0->2, 1->3}, node 2 full: every node-1 page reaches node 3
 * although the node-0 pages beside them in the same batches cannot move.
 */
TEST_F(counts, full_destination_does_not_stop_others)
{
	int o[] = { 0, 1 }, n[] = { 2, 3 };
	unsigned long mask = 3, counts[MAX_TEST_NODES], npages, i;
	struct migrate_pages_stats st;
	long free_pages, r;

	self->hog_node = 2;
	ASSERT_EQ(0, set_node_hugepages(2, 100000));
	/* Twice what node 2 has left, so half of them cannot all fit there. */
	free_pages = node_free_pages(2);
	ASSERT_LE(0, free_pages);
	npages = 2 * (free_pages + 1024);
	self->len = npages * PAGE;
	self->buf = map_anon(self->len, MAP_PRIVATE);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, sys_set_mempolicy(MPOL_INTERLEAVE, &mask, sizeof(mask) * 8 + 1));
	for (i = 0; i < npages * PAGE / 8; i++)
		((uint64_t *)self->buf)[i] = pattern(&((uint64_t *)self->buf)[i], SEED);
	ASSERT_EQ(0, bind_to(-1));
	ASSERT_EQ(0, count_nodes(0, self->buf, npages, counts));
	ASSERT_EQ(npages, counts[0] + counts[1]);
	ASSERT_LT(0, counts[1]);

	r = mp2_call_range(0, 0, o, n, 2, self->buf, self->len, &st);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, count_nodes(0, self->buf, npages, counts));
	EXPECT_EQ(0, counts[1]) {
		TH_LOG("%lu node-1 pages stayed although node 3 had room", counts[1]);
	}
	EXPECT_LT(0, counts[0]);
	EXPECT_LT(0, st.no_memory);
	EXPECT_EQ(counts[0], st.no_memory + st.busy);
	EXPECT_EQ(counts[2] + counts[3], st.moved);
	EXPECT_EQ(npages, st.scanned);
	EXPECT_EQ(r, st.no_memory + st.busy);
	/* How much fits on node 2 is up to the allocator: the counts add up. */
	EXPECT_STATS_CONSISTENT(r, &st);
	EXPECT_EQ(-1, check_pattern(self->buf, npages, SEED));
}

/* Does node have CPUs of its own? */
static bool node_has_cpus(int node)
{
	char path[64], list[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist", node);
	f = fopen(path, "r");
	if (f && !fgets(list, sizeof(list), f))
		list[0] = 0;
	if (f)
		fclose(f);
	return list[0] && list[0] != '\n';
}

/* Run on CPUs first..last from now on. */
static int run_on_cpus(int first, int last)
{
	cpu_set_t set;
	int cpu;

	CPU_ZERO(&set);
	for (cpu = first; cpu <= last; cpu++)
		CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Free pages of node 3 an ordinary allocation may take: above the min
 * watermark and its boost, highatomic reserves left out (as
 * __zone_watermark_ok() counts them); negative below the watermark.
 */
static long node3_room(void)
{
	return zone_pages(3, " pages free %ld") - zone_pages(3, " free_highatomic: %ld") -
	       zone_pages(3, " min %ld") - zone_pages(3, " boost %ld");
}

/*
 * Pages freed to a node without CPUs wait in the freeing CPUs' lists,
 * which an allocation under the watermark does not see; each vmstat
 * refresh counts down to flushing them to the node (three rounds).
 */
static void flush_remote_pcp(void)
{
	int i;

	for (i = 0; i < 5; i++)
		isolated_pages();
}

/*
 * Fill node 3 to its last allocatable page, its min watermark: hugetlb
 * pages first, some given back so that a little more than @room base
 * pages fit above the watermark, then base pages moved there (by the call,
 * which does not warn of the failed allocations) until it refuses them.
 * Returns the filler, @filler_pages long, or NULL.
 */
static char *fill_node3(struct _test_data_counts *self, unsigned long room,
			unsigned long *filler_pages)
{
	int o[] = { 0 }, n[] = { 3 };
	struct migrate_pages_stats st;
	long gap, nr;
	char *buf;
	int i;

	self->hog_node = 3;
	if (set_node_hugepages(3, 100000))
		return NULL;
	nr = node_hugepages(3);
	gap = 2 * room - node3_room();
	if (gap > 0 && set_node_hugepages(3, nr - (gap + 511) / 512))
		return NULL;
	flush_remote_pcp();
	*filler_pages = node_free_pages(3) + 2048;
	buf = map_filled(*filler_pages, 0, SEED, &self->len);
	if (!buf)
		return NULL;
	self->buf = buf;
	if (mp2_call_range(0, 0, o, n, 1, buf, self->len, &st) < 0 ||
	    !st.no_memory || st.moved < room)
		return NULL;
	/* Pages the per-CPU lists held come back: fill them too. */
	for (i = 0; i < 8; i++) {
		flush_remote_pcp();
		if (node3_room() <= 0)
			return buf;
		if (mp2_call_range(0, 0, o, n, 1, buf, self->len, &st) < 0 ||
		    !st.no_memory)
			return NULL;
	}
	return NULL;
}

/*
 * A pinned page and pages that do not fit, in one list for migrate_pages():
 * node 3 is filled to its watermark, then given back about 64 pages, and a 2 MiB
 * batch whose first page is pinned (a pipe holds it) goes there.  The
 * pinned page is allocated for, fails to move and stays: busy.  The node
 * then runs out and migrate_pages() gives up with -ENOMEM: the rest stayed
 * for want of memory, and only the rest is no_memory.  Seen failing, four
 * runs out of four, before the fix: every page that stayed was counted as
 * no_memory, the pinned one too (busy 0, no_memory 71 to 449).
 */
/*
 * A 2 MiB-aligned batch of npages on node 0, its first page pinned by a
 * pipe (the pipe's read end in *fd); NULL if it cannot be had.
 */
static char *pinned_batch(unsigned long npages, int *fd)
{
	char *buf = mmap(NULL, npages * PAGE + THP, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iovec iov;
	int fds[2];

	if (buf == MAP_FAILED)
		return NULL;
	/* One batch: 2 MiB-aligned, so that the walk meets it in one go. */
	buf = (char *)(((uintptr_t)buf + THP - 1) & ~(THP - 1));
	if (madvise(buf, npages * PAGE, MADV_NOHUGEPAGE) ||
	    fill_on(buf, npages, 0, SEED) || pipe(fds))
		return NULL;
	iov.iov_base = buf;
	iov.iov_len = PAGE;
	if (vmsplice(fds[1], &iov, 1, 0) != PAGE)
		return NULL;
	*fd = fds[0];
	return buf;
}

TEST_F(counts, pinned_page_before_full_destination_is_busy)
{
	enum { NPAGES = 512, ROOM = 64, TRIES = 12 };
	int o[] = { 0 }, n[] = { 3 }, fd, try;
	unsigned long filler_pages, i = 0, freed, counts[MAX_TEST_NODES];
	struct migrate_pages_stats st;
	char *filler, *buf, sink[PAGE];
	long r, above;

	/*
	 * A CPU keeps pages of its own refills in its per-CPU lists, which
	 * it may allocate from whatever the watermark: fill from CPU 1, move
	 * from CPUs 2 and 3 (the helpers stay within the caller's affinity).
	 */
	if (sysconf(_SC_NPROCESSORS_ONLN) < 4 || node_has_cpus(3))
		SKIP(return, "needs 4 CPUs and a node 3 without CPUs");
	ASSERT_EQ(0, run_on_cpus(1, 1));
	filler = fill_node3(self, ROOM, &filler_pages);
	ASSERT_NE(NULL, filler) {
		TH_LOG("node 3 could not be filled to its watermark");
	}
	/*
	 * How much a move finds on node 3 is up to the per-CPU lists as much
	 * as the watermark: try batches until one both moves pages and runs
	 * out, giving back filler pages (16 at a time, until ROOM are free
	 * above the watermark) after a batch that moved nothing.
	 */
	for (try = 0; try < TRIES; try++) {
		ASSERT_EQ(0, run_on_cpus(1, 1));
		above = node3_room();
		for (freed = 0; i < filler_pages && above < ROOM; i++) {
			if (page_node(filler + i * PAGE) != 3 ||
			    madvise(filler + i * PAGE, PAGE, MADV_DONTNEED))
				continue;
			if (++freed % 16)
				continue;
			flush_remote_pcp();
			above = node3_room();
		}
		buf = pinned_batch(NPAGES, &fd);
		ASSERT_NE(NULL, buf);
		ASSERT_EQ(0, run_on_cpus(2, 3));
		r = mp2_call_range(0, 0, o, n, 1, buf, NPAGES * PAGE, &st);
		ASSERT_EQ(0, run_on_cpus(0, 3));
		EXPECT_STATS_CONSISTENT(r, &st);
		EXPECT_EQ(NPAGES, st.scanned);
		ASSERT_EQ(0, count_nodes(0, buf, NPAGES, counts));
		EXPECT_EQ(st.moved, counts[3]);
		EXPECT_EQ(st.busy + st.no_memory, counts[0]);
		EXPECT_EQ(0, page_node(buf));
		ASSERT_EQ(PAGE, read(fd, sink, sizeof(sink)));
		EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
		if (st.moved && st.no_memory)
			break;
	}
	ASSERT_LT(try, TRIES) {
		TH_LOG("no batch both moved pages and ran out of memory");
	}
	/* The pinned page was tried first, as pages after it moved. */
	EXPECT_EQ(1, st.busy) {
		TH_LOG("the pinned page is counted as " MP2_STATS_FMT,
		       (unsigned long long)st.scanned, (unsigned long long)st.moved,
		       (unsigned long long)st.shared, (unsigned long long)st.busy,
		       (unsigned long long)st.no_memory);
	}
}

/* The memfd's pattern, written through @first, read through @second. */
static bool same_data(char *first, char *second, unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages * PAGE / 8; i++)
		if (((uint64_t *)second)[i] != pattern(&((uint64_t *)first)[i], SEED))
			return false;
	return true;
}

/*
 * A memfd mapped twice by one process, moved along a chain {0->1, 1->2}:
 * each page moves once, to node 1.  With helpers, a helper restores a
 * moved page's two mappings one after the other while the walk reaches
 * the second mapping: the new folio on node 1 (a source) looks mapped
 * once there, and must still be known as moved.  The mapping made first
 * lies higher and is restored first, so the walk meets it second, in
 * that window.  Many batches, several rounds.  Seen failing before the
 * fix, with helpers: one page on node 2 in round 4.
 */
TEST_F(counts, memfd_mapped_twice_moves_once_along_a_chain)
{
	enum { NPAGES = 4096, ROUNDS = 8 };
	int o[] = { 0, 1 }, n[] = { 1, 2 }, back_o[] = { 1, 2 }, back_n[] = { 0, 0 };
	unsigned long counts[MAX_TEST_NODES];
	struct migrate_pages_stats st;
	char *first, *second;
	int fd, round;

	fd = memfd_create("mp2-twice", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, NPAGES * PAGE));
	first = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	second = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, first);
	ASSERT_NE(MAP_FAILED, second);
	ASSERT_EQ(0, fill_on(first, NPAGES, 0, SEED));
	/* Map every page through the second mapping too, and check it. */
	ASSERT_TRUE(same_data(first, second, NPAGES));
	for (round = 0; round < ROUNDS; round++) {
		/* Both mappings map every page, on node 0. */
		ASSERT_EQ(-1, check_pattern(first, NPAGES, SEED));
		ASSERT_TRUE(same_data(first, second, NPAGES));
		ASSERT_EQ(NPAGES, pages_on(0, second, NPAGES, 0));
		ASSERT_LE(0, mp2_call(0, MIGRATE_PAGES2_MOVE_ALL, o, n, 2, &st));
		ASSERT_EQ(0, count_nodes(0, first, NPAGES, counts));
		EXPECT_EQ(0, counts[2]) {
			TH_LOG("round %d: %lu pages moved twice, to node 2", round, counts[2]);
		}
		EXPECT_EQ(NPAGES, counts[1]);
		EXPECT_EQ(NPAGES, pages_on(0, second, NPAGES, 1));
		EXPECT_TRUE(stats_add_up(&st));
		ASSERT_LE(0, mp2_call(0, MIGRATE_PAGES2_MOVE_ALL, back_o, back_n, 2, &st));
	}
	EXPECT_EQ(-1, check_pattern(first, NPAGES, SEED));
	munmap(first, NPAGES * PAGE);
	munmap(second, NPAGES * PAGE);
	close(fd);
}

/*
 * A THP whose two halves are mapped 8 MiB apart (mremap of one half, as
 * realloc() does): it is met twice by the walk, and counted once.  Returns
 * the two halves' addresses; NULL if no THP could be had.
 */
static char *split_thp(struct _test_data_counts *self, char **second)
{
	char *huge;

	self->len = 16 * THP;
	huge = map_thps(self->len, 1, 0, SEED, &self->buf);
	if (!huge || anon_huge_kb() < 2048)
		return NULL;
	*second = huge + 4 * THP + PAGE * 7;
	if (mremap(huge + THP / 2, THP / 2, THP / 2, MREMAP_MAYMOVE | MREMAP_FIXED,
		   *second) != *second)
		return NULL;
	return huge;
}

/* Both halves of the THP still hold the pattern they were filled with. */
static bool halves_intact(const char *huge, const char *second)
{
	unsigned long i;

	if (check_pattern(huge, THP / PAGE / 2, SEED) != -1)
		return false;
	/* The pattern follows the address the words were written at. */
	for (i = 0; i < THP / 2 / 8; i++)
		if (((const uint64_t *)second)[i] !=
		    pattern(&((const uint64_t *)(huge + THP / 2))[i], SEED))
			return false;
	return true;
}

TEST_F(counts, thp_mapped_twice_counted_once_dry_run)
{
	int o[] = { 0 }, n[] = { 1 };
	struct migrate_pages_stats st;
	char *huge, *second;

	huge = split_thp(self, &second);
	if (!huge)
		SKIP(return, "no THP could be allocated and remapped on node 0");
	ASSERT_EQ(0, mp2_call_range(0, MIGRATE_PAGES2_DRY_RUN, o, n, 1, self->buf,
				    self->len, &st));
	EXPECT_DRY_STATS(&st, THP / PAGE, 0, 0, 0, 0);
	EXPECT_EQ(THP / PAGE / 2, pages_on(0, huge, THP / PAGE / 2, 0));
	EXPECT_EQ(THP / PAGE / 2, pages_on(0, second, THP / PAGE / 2, 0));

	ASSERT_EQ(0, mp2_call_range(0, 0, o, n, 1, self->buf, self->len, &st));
	EXPECT_STATS(&st, THP / PAGE, THP / PAGE, 0, 0, 0);
	EXPECT_EQ(THP / PAGE / 2, pages_on(0, huge, THP / PAGE / 2, 1));
	EXPECT_EQ(THP / PAGE / 2, pages_on(0, second, THP / PAGE / 2, 1));
	EXPECT_TRUE(halves_intact(huge, second));
}

/* The same THP pinned by a pipe: busy once, and the return value says 512. */
TEST_F(counts, thp_mapped_twice_busy_once)
{
	int o[] = { 0 }, n[] = { 1 }, fds[2];
	struct migrate_pages_stats st;
	char *huge, *second, sink[PAGE];
	struct iovec iov;
	long r;

	huge = split_thp(self, &second);
	if (!huge)
		SKIP(return, "no THP could be allocated and remapped on node 0");
	ASSERT_EQ(0, pipe(fds));
	iov.iov_base = huge;
	iov.iov_len = PAGE;
	ASSERT_EQ(PAGE, vmsplice(fds[1], &iov, 1, 0));
	r = mp2_call_range(0, 0, o, n, 1, self->buf, self->len, &st);
	EXPECT_EQ(THP / PAGE, r);
	EXPECT_STATS(&st, THP / PAGE, 0, 0, THP / PAGE, 0);
	EXPECT_EQ(THP / PAGE / 2, pages_on(0, huge, THP / PAGE / 2, 0));
	EXPECT_EQ(THP / PAGE / 2, pages_on(0, second, THP / PAGE / 2, 0));
	ASSERT_EQ(PAGE, read(fds[0], sink, sizeof(sink)));
	close(fds[0]);
	close(fds[1]);
	EXPECT_TRUE(halves_intact(huge, second));
}

/*
 * THPs, each partly unmapped (its first page) and its second half
 * mremap'd past all the first halves: a helper that gets a THP splits it
 * to move it, while the walk goes on and meets the pieces through the
 * second half's mapping, off the LRU or behind migration entries.  Each
 * page is counted once, and moved once: every THP counts its 512 pages
 * (the unmapped one is freed by the split, and counted moved, as
 * migrate_pages() does), every mapped page is on node 1 and holds its
 * data.  Several rounds, on fresh memory, with 2 and 4 helpers (the
 * caller alone for the caller variant).  Seen failing before the fix, 8
 * rounds of 8: scanned up to 9023 for 8256, busy 90 to 767.
 */
static bool moved_halves_intact(const char *first, const char *second,
				unsigned long nr)
{
	unsigned long k, i;

	for (k = 0; k < nr; k++) {
		const char *a = first + k * THP, *z = second + k * THP / 2;

		if (check_pattern(a + PAGE, THP / PAGE / 2 - 1, SEED) != -1)
			return false;
		for (i = 0; i < THP / 2 / 8; i++)
			if (((const uint64_t *)z)[i] !=
			    pattern(&((const uint64_t *)(a + THP / 2))[i], SEED))
				return false;
	}
	return true;
}

TEST_F(counts, split_thp_pieces_met_again_counted_once)
{
	enum { NR_THP = 16, NSMALL = 64, ROUNDS = 4 };
	const unsigned long want = NR_THP * THP / PAGE + NSMALL;
	unsigned int helpers[] = { 2, 4 }, h, nr_h = variant->workers ? 2 : 1;
	int o[] = { 0 }, n[] = { 1 }, round;
	struct migrate_pages_stats st;
	char *base, *small, *z, *p;
	unsigned long k, counts[MAX_TEST_NODES];
	long r, kb;

	self->len = 2 * NR_THP * THP + 4 * THP;
	for (h = 0; h < nr_h; h++) {
		mp2_workers = variant->workers ? helpers[h] : 0;
		for (round = 0; round < ROUNDS; round++) {
			base = map_thps(self->len, NR_THP, 0, SEED, &self->buf);
			ASSERT_NE(NULL, base);
			kb = anon_huge_kb();
			if (kb < (long)(NR_THP * THP / 1024))
				SKIP(return, "only %ld KiB of THPs on node 0", kb);
			small = base + NR_THP * THP;
			z = small + THP;
			ASSERT_EQ(0, madvise(small, NSMALL * PAGE, MADV_NOHUGEPAGE));
			ASSERT_EQ(0, fill_on(small, NSMALL, 0, SEED));
			for (k = 0; k < NR_THP; k++) {
				p = base + k * THP;
				ASSERT_EQ(0, munmap(p, PAGE));
				ASSERT_EQ(z + k * THP / 2,
					  mremap(p + THP / 2, THP / 2, THP / 2,
						 MREMAP_MAYMOVE | MREMAP_FIXED,
						 z + k * THP / 2));
			}
			r = mp2_call_range(0, 0, o, n, 1, base,
					   z + NR_THP * THP / 2 - base, &st);
			EXPECT_EQ(0, r) {
				TH_LOG("workers %u round %d: returned %ld",
				       mp2_workers, round, r);
			}
			EXPECT_STATS(&st, want, want, 0, 0, 0);
			for (k = 0; k < NR_THP; k++) {
				ASSERT_EQ(0, count_nodes(0, base + k * THP + PAGE,
							 THP / PAGE / 2 - 1, counts));
				EXPECT_EQ(THP / PAGE / 2 - 1, counts[1]);
			}
			ASSERT_EQ(0, count_nodes(0, z, NR_THP * THP / 2 / PAGE, counts));
			EXPECT_EQ(NR_THP * THP / 2 / PAGE, counts[1]);
			EXPECT_EQ(NSMALL, pages_on(0, small, NSMALL, 1));
			EXPECT_EQ(-1, check_pattern(small, NSMALL, SEED));
			EXPECT_TRUE(moved_halves_intact(base, z, NR_THP));
			munmap(self->buf, self->len);
			self->buf = NULL;
		}
	}
}

#define FAILSLAB	"/sys/kernel/debug/failslab/"

/* This task's allocations that may not sleep fail (failslab), or not. */
static int nowait_slab_fails(bool on)
{
	static const char * const knobs[][2] = {
		{ "ignore-gfp-wait", "Y" }, { "task-filter", "Y" },
		{ "interval", "1" }, { "times", "-1" }, { "verbose", "0" },
		{ "probability", "100" },
	};
	char path[128];
	unsigned int i;

	for (i = 0; on && i < ARRAY_SIZE(knobs); i++) {
		snprintf(path, sizeof(path), FAILSLAB "%s", knobs[i][0]);
		if (write_file(path, knobs[i][1]))
			return -1;
	}
	return write_file("/proc/self/make-it-fail", on ? "1" : "0");
}

/*
 * Two THPs along a chain {0->1, 1->2}, so the new folios are recorded,
 * with every allocation that may not sleep failing for the caller and its
 * helpers (failslab, their make-it-fail inherited): a helper's GFP_NOWAIT
 * record cannot be had, as under memory pressure.  What a helper cannot
 * record it leaves to the caller, whose records may reclaim: the THPs
 * move whole, once, to node 1, and the call returns 0.  Seen failing
 * before the fix with helpers: -ENOMEM, one THP split.
 */
TEST_F(counts, helper_record_failure_left_to_caller)
{
	int o[] = { 0, 1 }, n[] = { 1, 2 };
	struct migrate_pages_stats st;
	char *huge;
	long r, kb;

	if (access(FAILSLAB "probability", W_OK))
		SKIP(return, "no failslab in debugfs");
	self->len = 3 * THP;
	huge = map_thps(self->len, 2, 0, SEED, &self->buf);
	ASSERT_NE(NULL, huge);
	kb = anon_huge_kb();
	if (kb < (long)(2 * THP / 1024))
		SKIP(return, "only %ld KiB of THPs on node 0", kb);
	/* Both THPs move whole only if node 1 has room for them. */
	ASSERT_LE(2, node_thp_room(1, 2));
	ASSERT_EQ(0, nowait_slab_fails(true));
	r = mp2_call_range(0, 0, o, n, 2, huge, 2 * THP, &st);
	ASSERT_EQ(0, nowait_slab_fails(false));
	write_file(FAILSLAB "probability", "0");
	EXPECT_EQ(0, r);
	EXPECT_STATS(&st, 2 * THP / PAGE, 2 * THP / PAGE, 0, 0, 0);
	EXPECT_EQ(0, st.split);
	EXPECT_EQ(kb, anon_huge_kb());
	EXPECT_EQ(2 * THP / PAGE, pages_on(0, huge, 2 * THP / PAGE, 1));
	EXPECT_EQ(-1, check_pattern(huge, 2 * THP / PAGE, SEED));
}

/*
 * Pages another migration holds (a migration entry in the page table) are
 * found and counted busy: a thread keeps moving all the pages to node 2,
 * then all to node 0, with move_pages(), while the call, with pairs
 * {0->1, 1->0, 2->1}, walks them.  Every address holds a page on a source
 * node or one in flight between two, so every page is scanned, every
 * round, and (but for a dry run) moved or counted busy.
 */
struct bouncer {
	void **pages;
	int *nodes;
	int *status;
	unsigned long npages;
	int stop;
	unsigned long moves;
};

static void *bounce(void *arg)
{
	struct bouncer *b = arg;
	unsigned long i, round = 0;

	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < b->npages; i++)
			b->nodes[i] = round % 2 ? 0 : 2;
		if (!sys_move_pages(0, b->npages, b->pages, b->nodes, b->status,
				    MPOL_MF_MOVE))
			b->moves++;
		round++;
	}
	return NULL;
}

TEST_F(counts, pages_under_migration_count_busy)
{
	enum { NPAGES = 1024, ROUNDS = 20 };
	int o[] = { 0, 1, 2 }, n[] = { 1, 0, 1 }, round;
	struct bouncer b = { .npages = NPAGES };
	struct migrate_pages_stats st;
	unsigned long busy = 0, i;
	pthread_t th;

	self->buf = map_filled(NPAGES, 0, SEED, &self->len);
	ASSERT_NE(NULL, self->buf);
	b.pages = calloc(NPAGES, sizeof(*b.pages));
	b.nodes = calloc(NPAGES, sizeof(*b.nodes));
	b.status = calloc(NPAGES, sizeof(*b.status));
	ASSERT_TRUE(b.pages && b.nodes && b.status);
	for (i = 0; i < NPAGES; i++)
		b.pages[i] = self->buf + i * PAGE;
	/* The bouncer's own isolations come and go all the time. */
	mp2_watch_isolated = false;
	ASSERT_EQ(0, pthread_create(&th, NULL, bounce, &b));
	for (round = 0; round < ROUNDS; round++) {
		bool dry = round % 2 == 0;
		long r;

		r = mp2_call_range(0, dry ? MIGRATE_PAGES2_DRY_RUN : 0, o, n, 3,
				   self->buf, self->len, &st);
		ASSERT_LE(0, r);
		EXPECT_EQ(NPAGES, st.scanned) {
			TH_LOG("round %d: %llu of %d pages seen", round,
			       (unsigned long long)st.scanned, NPAGES);
		}
		EXPECT_EQ(0, st.shared);
		busy += st.busy;
		if (dry) {
			EXPECT_EQ(0, r);
			continue;
		}
		/* How many the bouncer holds at the time is up to it. */
		EXPECT_STATS_CONSISTENT(r, &st);
	}
	__atomic_store_n(&b.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	EXPECT_EQ(-1, check_pattern(self->buf, NPAGES, SEED));
	TH_LOG("%lu pages met under migration in %d rounds, %lu move_pages calls",
	       busy, ROUNDS, b.moves);
	free(b.pages);
	free(b.nodes);
	free(b.status);
}

/*
 * A destination page allocated for a move that then failed is freed, and
 * the page allocator hands it out again at once (per-CPU lists are LIFO):
 * the call must not mistake a page faulted onto it later for one it moved.
 * Chained pairs {0->1, 1->2} make the call remember its destinations.  The
 * caller's own shmem pages on node 0 are pinned, so every attempt
 * allocates on node 1 and frees.  A watcher on another CPU sees the first
 * failure and wakes a second target on the caller's CPU, which faults 64
 * pages on node 1 while the call moves the caller's filler from node 3 to
 * node 2; the walk meets them afterwards and must move them on to node 2.
 */
static long vmstat_fails(void)
{
	return read_key("/proc/vmstat", "pgmigrate_fail ");
}

static void on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

TEST_F(counts, freed_destination_pages_are_forgotten)
{
	enum { PINNED = 256, FILLER = 8192, FRESH = 64 };
	int o[] = { 0, 1, 3 }, n[] = { 1, 2, 2 }, pids[2] = { 0 }, fds[2], go[2], done[2];
	int base[2];
	unsigned long off_fresh = (PINNED + FILLER) * PAGE;
	struct migrate_pages_args a;
	struct migrate_pages_stats st;
	struct pollfd pfd;
	struct iovec iov;
	pid_t watcher;
	long fails, r;
	char c, *fresh;
	int memfd;

	/*
	 * The caller alone: the stale pages are the ones it frees on its own
	 * CPU (helpers allocate and free on theirs), and it must still be
	 * walking its filler when the second target faults.
	 */
	mp2_workers = 0;
	on_cpu(0);
	/* [pinned shmem on 0][filler on 3] here, [fresh on 1] in the target */
	self->len = off_fresh + FRESH * PAGE;
	self->buf = mmap(NULL, self->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	fresh = self->buf + off_fresh;
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	ASSERT_EQ(0, pipe(base));
	/* Both helpers are forked before the caller maps anything to move. */
	watcher = fork();
	if (!watcher) {
		on_cpu(1);
		if (read(base[0], &fails, sizeof(fails)) != sizeof(fails))
			_exit(2);
		while (vmstat_fails() == fails)
			;
		_exit(write(go[1], "g", 1) == 1 ? 0 : 1);
	}
	ASSERT_LT(0, watcher);
	self->child = fork();
	if (!self->child) {
		/* On the caller's CPU, woken by the watcher. */
		if (nice(-10) == -1 && errno)
			_exit(4);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		if (mprotect(fresh, FRESH * PAGE, PROT_READ | PROT_WRITE) ||
		    fill_on(fresh, FRESH, 1, SEED))
			_exit(2);
		if (write(done[1], "d", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	ASSERT_LT(0, self->child);
	pids[1] = self->child;

	memfd = memfd_create("mp2-pinned", 0);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, PINNED * PAGE));
	ASSERT_EQ(self->buf, mmap(self->buf, PINNED * PAGE, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_FIXED, memfd, 0));
	ASSERT_EQ(0, fill_on(self->buf, PINNED, 0, SEED));
	ASSERT_EQ(0, mprotect(self->buf + PINNED * PAGE, FILLER * PAGE,
			      PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, fill_on(self->buf + PINNED * PAGE, FILLER, 3, SEED));
	ASSERT_EQ(0, pipe(fds));
	ASSERT_LE(PINNED * PAGE, fcntl(fds[1], F_SETPIPE_SZ, PINNED * PAGE));
	iov.iov_base = self->buf;
	iov.iov_len = PINNED * PAGE;
	ASSERT_EQ(PINNED * PAGE, vmsplice(fds[1], &iov, 1, 0));

	fails = vmstat_fails();
	ASSERT_EQ(sizeof(fails), write(base[1], &fails, sizeof(fails)));
	a = (struct migrate_pages_args) {
		.pids = (uintptr_t)pids, .old_nodes = (uintptr_t)o,
		.new_nodes = (uintptr_t)n, .stats = (uintptr_t)&st,
		.start = (uintptr_t)self->buf, .len = self->len,
		.nr_pids = 2, .nr_nodes = 3, .workers = mp2_workers,
	};
	r = sys_migrate_pages2(&a, sizeof(a));
	ASSERT_LE(0, r);
	EXPECT_STATS_CONSISTENT(r, &st);
	/* The target must have faulted its pages while the call ran. */
	pfd.fd = done[0];
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 0)) {
		TH_LOG("the second target did not run during the call");
	}
	waitpid(watcher, NULL, 0);
	EXPECT_EQ(PINNED, st.busy);
	EXPECT_EQ(FRESH, pages_on(self->child, fresh, FRESH, 2)) {
		TH_LOG("fresh pages: %lu on node 1, %lu on node 2",
		       pages_on(self->child, fresh, FRESH, 1),
		       pages_on(self->child, fresh, FRESH, 2));
	}
	EXPECT_EQ(PINNED + FILLER + FRESH, st.scanned);
	EXPECT_EQ(FILLER + FRESH, st.moved) {
		TH_LOG("shared %llu busy %llu no_memory %llu",
		       (unsigned long long)st.shared, (unsigned long long)st.busy,
		       (unsigned long long)st.no_memory);
	}
	EXPECT_EQ(PINNED, pages_on(0, self->buf, PINNED, 0));
	EXPECT_EQ(-1, check_pattern(self->buf, PINNED, SEED));
	close(fds[0]);
	close(fds[1]);
	close(memfd);
}

/*
 * Node 3's free memory made all order-0: every free 2 MiB block taken by
 * hugetlb pages, @room MiB of them given back and filled with base pages,
 * most by a preferred policy (which falls back when the node is full),
 * the rest moved there by the call until it refuses them; then every page
 * of the filler at an even pfn is freed, so that no free page's buddy is
 * free.  Returns the filler, @len long, or NULL.
 */
static char *fragment_node3(struct _test_data_counts *self, unsigned long room,
			    unsigned long *len)
{
	enum { CHUNK = 512 };
	unsigned long mask = 1UL << 3, npages, extra, i, j;
	int fd = open("/proc/self/pagemap", O_RDONLY), status[CHUNK];
	int o[] = { 0 }, n[] = { 3 };
	struct migrate_pages_stats st;
	uint64_t entry[CHUNK];
	void *pages[CHUNK];
	off_t off;
	char *buf;
	long nr;

	self->hog_node = 3;
	if (set_node_hugepages(3, 100000))
		return NULL;
	nr = node_hugepages(3);
	if (nr < (long)room / 2 || set_node_hugepages(3, nr - room / 2))
		return NULL;
	flush_remote_pcp();
	npages = node_free_pages(3);
	buf = map_anon(2 * npages * PAGE, MAP_PRIVATE);
	if (fd < 0 || !buf || madvise(buf, 2 * npages * PAGE, MADV_NOHUGEPAGE) ||
	    sys_set_mempolicy(MPOL_PREFERRED, &mask, sizeof(mask) * 8 + 1))
		return NULL;
	*len = 2 * npages * PAGE;
	memset(buf, 1, npages * PAGE);
	bind_to(-1);
	flush_remote_pcp();
	extra = node_free_pages(3) + 2048;
	if (extra > npages || fill_on(buf + npages * PAGE, extra, 0, SEED) ||
	    mp2_call_range(0, 0, o, n, 1, buf + npages * PAGE, extra * PAGE, &st) < 0 ||
	    !st.no_memory)
		return NULL;
	npages += extra;
	for (i = 0; i < npages; i += CHUNK) {
		unsigned long nr = npages - i < CHUNK ? npages - i : CHUNK;

		for (j = 0; j < nr; j++)
			pages[j] = buf + (i + j) * PAGE;
		off = ((uintptr_t)buf / PAGE + i) * 8;
		if (sys_move_pages(0, nr, pages, NULL, status, 0) ||
		    pread(fd, entry, nr * 8, off) != (ssize_t)(nr * 8))
			return NULL;
		/* Bits 0-54 are the pfn (the test runs as root). */
		for (j = 0; j < nr; j++)
			if (status[j] == 3 && !(entry[j] & 1))
				madvise(pages[j], PAGE, MADV_DONTNEED);
	}
	close(fd);
	flush_remote_pcp();
	return buf;
}

#define EVENTS		"/sys/kernel/tracing/events/"
#define COMPACT_EVENT	EVENTS "compaction/mm_compaction_try_to_compact_pages/enable"
#define RECLAIM_EVENT	EVENTS "vmscan/mm_vmscan_direct_reclaim_begin/enable"

/*
 * Direct compaction and reclaim events in the trace buffer: by the
 * calling thread (@caller), and by helpers (task name mp2-worker*).
 */
static void stalls(unsigned long *caller, unsigned long *helpers)
{
	char line[512], me[32];
	FILE *f = fopen("/sys/kernel/tracing/trace", "r");

	*caller = *helpers = 0;
	snprintf(me, sizeof(me), "-%d ", (int)syscall(SYS_gettid));
	while (f && fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || (!strstr(line, "mm_compaction_try_to_compact_pages:") &&
				       !strstr(line, "mm_vmscan_direct_reclaim_begin:")))
			continue;
		if (strstr(line, "mp2-worker"))
			(*helpers)++;
		else if (strstr(line, me))
			(*caller)++;
	}
	if (f)
		fclose(f);
}

/*
 * THPs toward a node whose free memory is all order-0: each destination
 * needs compaction.  Helpers are io threads, which reclaim_throttle()
 * does not throttle, so they neither reclaim nor compact: they take a
 * large destination only where one is free and leave the rest of the
 * THPs, whole, to the caller, which compacts.  Every page moves, and the
 * compaction events are the caller's.  No THP is split unless the
 * caller's compaction itself failed (compact_fail in /proc/vmstat): seen
 * once in a KASAN boot, 8 of 16 split, the helpers' count 0.  Seen
 * failing before the fix, three runs of three, with helpers: helpers'
 * compaction events 2 to 5 for 16 THPs.
 */
TEST_F_TIMEOUT(counts, thp_toward_fragmented_node_compacted_by_caller_only, 300)
{
	enum { NR_THP = 16, ROOM_MIB = 256 };
	int o[] = { 0 }, n[] = { 3 }, fd;
	unsigned long filler_len, by_caller, by_helpers, counts[MAX_TEST_NODES];
	struct migrate_pages_stats st;
	char *huge, *filler;
	long kb, failed;

	if (access(COMPACT_EVENT, W_OK) || access(RECLAIM_EVENT, W_OK))
		SKIP(return, "tracefs or the compaction and reclaim events are missing");
	self->len = NR_THP * THP + THP;
	huge = map_thps(self->len, NR_THP, 0, SEED, &self->buf);
	ASSERT_NE(NULL, huge);
	kb = anon_huge_kb();
	if (kb < (long)(NR_THP * THP / 1024))
		SKIP(return, "only %ld KiB of THPs on node 0", kb);
	/* Proactive compaction would undo the fragmentation in the background. */
	self->proactive = read_key(PROACTIVE, "");
	ASSERT_EQ(0, write_file(PROACTIVE, "0"));
	filler = fragment_node3(self, ROOM_MIB, &filler_len);
	ASSERT_NE(NULL, filler);

	fd = open("/sys/kernel/tracing/trace", O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, write_file(COMPACT_EVENT, "1"));
	ASSERT_EQ(0, write_file(RECLAIM_EVENT, "1"));
	failed = read_key("/proc/vmstat", "compact_fail ");
	EXPECT_EQ(0, mp2_call_range(0, 0, o, n, 1, huge, NR_THP * THP, &st));
	failed = read_key("/proc/vmstat", "compact_fail ") - failed;
	write_file(COMPACT_EVENT, "0");
	write_file(RECLAIM_EVENT, "0");
	stalls(&by_caller, &by_helpers);
	munmap(filler, filler_len);

	EXPECT_STATS(&st, NR_THP * THP / PAGE, NR_THP * THP / PAGE, 0, 0, 0);
	if (failed)
		TH_LOG("compaction failed %ld times: %llu THPs split", failed, st.split);
	else
		EXPECT_EQ(0, st.split);
	ASSERT_EQ(0, count_nodes(0, huge, NR_THP * THP / PAGE, counts));
	EXPECT_EQ(NR_THP * THP / PAGE, counts[3]);
	EXPECT_EQ(kb - (long)(st.split * THP / 1024), anon_huge_kb());
	EXPECT_EQ(-1, check_pattern(huge, NR_THP * THP / PAGE, SEED));
	/* The node was fragmented enough that the move had to compact. */
	EXPECT_LT(0, by_caller);
	EXPECT_EQ(0, by_helpers) {
		TH_LOG("helpers stalled %lu times, the caller %lu", by_helpers, by_caller);
	}
}

/*
 * Hugetlb pages toward a node with an empty pool and no free memory: each
 * destination is a surplus huge page, which the allocator reclaims and
 * compacts for whatever the mask of the thread asking
 * (htlb_modify_alloc_mask()).  Helpers leave hugetlb pages to the caller:
 * the reclaim and compaction events are the caller's, and each page is
 * where the counts say.  Seen failing before the fix, with helpers:
 * helpers' reclaim and compaction events 6 and 9 for 4 huge pages.
 */
TEST_F_TIMEOUT(counts, hugetlb_toward_full_node_allocated_by_caller_only, 300)
{
	enum { NR_HUGE = 4, NPAGES = NR_HUGE * THP / PAGE };
	int o[] = { 0 }, n[] = { 3 }, fd;
	unsigned long mask = 1UL << 3, nfill, by_caller, by_helpers;
	unsigned long counts[MAX_TEST_NODES];
	struct migrate_pages_stats st;
	char *filler;

	if (access(COMPACT_EVENT, W_OK) || access(RECLAIM_EVENT, W_OK))
		SKIP(return, "tracefs or the compaction and reclaim events are missing");
	ASSERT_EQ(0, set_node_hugepages(3, 0));
	self->hog_node = 0;
	if (set_node_hugepages(0, NR_HUGE) || node_hugepages(0) < NR_HUGE)
		SKIP(return, "no %d hugetlb pages on node 0", NR_HUGE);
	self->len = NR_HUGE * THP;
	self->buf = map_anon(self->len, MAP_PRIVATE | MAP_HUGETLB);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, fill_on(self->buf, NPAGES, 0, SEED));
	/*
	 * Node 3 full of base pages: a preferred policy falls back once it
	 * is, then the call moves more there until the node refuses them
	 * (its min watermark).
	 */
	nfill = node_free_pages(3) + 16384;
	filler = map_anon(nfill * PAGE, MAP_PRIVATE);
	ASSERT_NE(NULL, filler);
	ASSERT_EQ(0, madvise(filler, nfill * PAGE, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, sys_set_mempolicy(MPOL_PREFERRED, &mask, sizeof(mask) * 8 + 1));
	memset(filler, 1, (nfill - 16384) * PAGE);
	ASSERT_EQ(0, bind_to(-1));
	ASSERT_EQ(0, fill_on(filler + (nfill - 16384) * PAGE, 16384, 0, SEED));
	ASSERT_LE(0, mp2_call_range(0, 0, o, n, 1, filler + (nfill - 16384) * PAGE,
				    16384 * PAGE, &st));
	ASSERT_LT(0, st.no_memory);

	fd = open("/sys/kernel/tracing/trace", O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, write_file(COMPACT_EVENT, "1"));
	ASSERT_EQ(0, write_file(RECLAIM_EVENT, "1"));
	ASSERT_LE(0, mp2_call_range(0, 0, o, n, 1, self->buf, self->len, &st));
	write_file(COMPACT_EVENT, "0");
	write_file(RECLAIM_EVENT, "0");
	stalls(&by_caller, &by_helpers);
	munmap(filler, nfill * PAGE);

	EXPECT_TRUE(stats_add_up(&st));
	EXPECT_EQ(NPAGES, st.scanned);
	EXPECT_EQ(0, st.busy);
	ASSERT_EQ(0, count_nodes(0, self->buf, NPAGES, counts));
	EXPECT_EQ(st.moved, counts[3]);
	EXPECT_EQ(st.no_memory, counts[0]);
	EXPECT_EQ(-1, check_pattern(self->buf, NPAGES, SEED));
	/*
	 * Whether the caller had to reclaim depends on what the fill left
	 * (a free 2 MiB block, now and then): say it, do not require it.
	 */
	if (!by_caller)
		TH_LOG("the caller did not have to reclaim: a weak run");
	EXPECT_EQ(0, by_helpers) {
		TH_LOG("helpers stalled %lu times, the caller %lu", by_helpers, by_caller);
	}
}

TEST_HARNESS_MAIN
