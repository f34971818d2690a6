// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2() with MIGRATE_PAGES2_LAZY: the call marks the pages it
 * would move, and each moves on its next touch to its pair's destination,
 * whoever touches it.  Every test asks where each page is with
 * move_pages(), which does not fault, checks the data, and counts the
 * NUMA hinting faults in /proc/vmstat (after vm.stat_refresh) to tell
 * which pages were marked.  NUMA balancing is off (the guest's setting)
 * unless a test says otherwise.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>

#include "../kselftest_harness.h"
#include "helpers.h"

#define SEED		0x1a2eULL
#define BALANCING	"/proc/sys/kernel/numa_balancing"
#define LAZY		MIGRATE_PAGES2_LAZY

FIXTURE(lazy) {
	char *buf;
	unsigned long len;
	char *filler;
	unsigned long filler_len;
	pid_t child;
	long balancing;
	bool hog;
	bool hugetlb;
};

FIXTURE_SETUP(lazy)
{
	self->buf = NULL;
	self->filler = NULL;
	self->child = 0;
	self->hog = false;
	self->hugetlb = false;
	self->balancing = read_key(BALANCING, "");
	if (nodes_with_memory() < 4)
		SKIP(return, "needs 4 nodes with memory");
	ASSERT_EQ(0, write_file(BALANCING, "0"));
	mp2_fixture_setup(0);
}

FIXTURE_TEARDOWN(lazy)
{
	char val[24];

	if (self->child > 0)
		reap(self->child);
	if (self->buf)
		munmap(self->buf, self->len);
	if (self->filler)
		munmap(self->filler, self->filler_len);
	if (self->hog)
		set_node_hugepages(3, 0);
	if (self->hugetlb) {
		set_node_hugepages(0, 0);
		set_node_hugepages(2, 0);
	}
	if (self->balancing >= 0) {
		snprintf(val, sizeof(val), "%ld", self->balancing);
		write_file(BALANCING, val);
	}
	EXPECT_EQ(0, mp2_isolated_leaks);
}

/* A /proc/vmstat event count, per-CPU deltas folded in first. */
static long vm_event(const char *name)
{
	char key[64];

	isolated_pages();
	snprintf(key, sizeof(key), "%s ", name);
	return read_key("/proc/vmstat", key);
}

static long hint_faults(void)
{
	return vm_event("numa_hint_faults");
}

/* Read, or write back, the first word of each page: one access each. */
static void touch_read(char *buf, unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages; i++)
		__atomic_load_n((uint64_t *)(buf + i * PAGE), __ATOMIC_RELAXED);
}

static void touch_write(char *buf, unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages; i++) {
		uint64_t *w = (uint64_t *)(buf + i * PAGE);

		__atomic_store_n(w, pattern(w, SEED), __ATOMIC_RELAXED);
	}
}

/* Read, or write, each page once from @cpu; 0, or -1. */
static int touch_on_cpu(char *buf, unsigned long npages, int cpu, bool write)
{
	cpu_set_t set, old;

	if (sched_getaffinity(0, sizeof(old), &old))
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -1;
	if (write)
		touch_write(buf, npages);
	else
		touch_read(buf, npages);
	return sched_setaffinity(0, sizeof(old), &old);
}

static int touch_write_on_cpu(char *buf, unsigned long npages, int cpu)
{
	return touch_on_cpu(buf, npages, cpu, true);
}

static long lazy_call(uint64_t flags, const int *o, const int *n, int nr,
		      void *start, unsigned long len,
		      struct migrate_pages_stats *st)
{
	return mp2_call_range(0, flags | LAZY, o, n, nr, start, len, st);
}

static char *filled(struct _test_data_lazy *self, unsigned long npages, int node)
{
	self->buf = map_filled(npages, node, SEED, &self->len);
	return self->buf;
}

/* A private mapping of @npages not yet faulted in: a child fills its own. */
static char *unfilled(struct _test_data_lazy *self, unsigned long npages)
{
	self->buf = map_anon(npages * PAGE, MAP_PRIVATE);
	self->len = npages * PAGE;
	return self->buf;
}

/*
 * Untouched pages stay where they are; a read and a write each move the
 * page they touch, to the pair's node, with its data.
 */
TEST_F(lazy, touched_pages_move_untouched_stay)
{
	enum { NPAGES = 64 };
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	long faults, migrated;
	char *buf = filled(self, NPAGES, 0);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, self->len, &st));
	EXPECT_STATS(&st, NPAGES, 0, 0, 0, 0, NPAGES);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 0));

	faults = hint_faults();
	migrated = vm_event("numa_pages_migrated");
	touch_read(buf, 16);
	touch_write(buf + 16 * PAGE, 16);
	EXPECT_EQ(32, hint_faults() - faults);
	EXPECT_EQ(32, vm_event("numa_pages_migrated") - migrated);
	EXPECT_EQ(32, pages_on(0, buf, 32, 2));
	EXPECT_EQ(32, pages_on(0, buf + 32 * PAGE, 32, 0));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/*
 * A touch moves the page to its pair's node, not the toucher's: the
 * target is another process, whose thread runs on node 1's CPU.
 */
TEST_F(lazy, toucher_on_another_node_moves_to_the_pair)
{
	enum { NPAGES = 32 };
	int o[] = { 0 }, n[] = { 2 }, go[2], done[2];
	struct migrate_pages_stats st;
	pid_t pid;
	char c, *buf;

	buf = unfilled(self, NPAGES);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		cpu_set_t set;

		/* The child's own pages, on node 0 until touched. */
		if (fill_on(buf, NPAGES, 0, SEED) || write(done[1], "r", 1) != 1)
			_exit(1);
		CPU_ZERO(&set);
		CPU_SET(1, &set);
		if (read(go[0], &c, 1) != 1 ||
		    sched_setaffinity(0, sizeof(set), &set))
			_exit(1);
		touch_read(buf, NPAGES);
		c = sched_getcpu() == 1 && check_pattern(buf, NPAGES, SEED) == -1 ?
		    'd' : 'x';
		if (write(done[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	self->child = pid;
	ASSERT_EQ(1, read(done[0], &c, 1));
	ASSERT_EQ('r', c);
	ASSERT_EQ(0, mp2_call_range(pid, LAZY, o, n, 1, buf, self->len, &st));
	EXPECT_EQ(NPAGES, st.deferred);
	EXPECT_EQ(0, st.moved);
	EXPECT_EQ(NPAGES, pages_on(pid, buf, NPAGES, 0));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(done[0], &c, 1));
	EXPECT_EQ('d', c);
	EXPECT_EQ(NPAGES, pages_on(pid, buf, NPAGES, 2));
	EXPECT_EQ(0, pages_on(pid, buf, NPAGES, 1));
}

/* Only pages on a source node are marked: the rest take no fault. */
TEST_F(lazy, only_source_pages_are_marked)
{
	enum { NPAGES = 32 };
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	char *buf;
	long faults;

	buf = map_anon(2 * NPAGES * PAGE, MAP_PRIVATE);
	ASSERT_NE(NULL, buf);
	self->buf = buf;
	self->len = 2 * NPAGES * PAGE;
	ASSERT_EQ(0, fill_on(buf, NPAGES, 0, SEED));
	ASSERT_EQ(0, fill_on(buf + NPAGES * PAGE, NPAGES, 1, SEED));
	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, self->len, &st));
	EXPECT_STATS(&st, NPAGES, 0, 0, 0, 0, NPAGES);

	faults = hint_faults();
	touch_write(buf + NPAGES * PAGE, NPAGES);
	EXPECT_EQ(0, hint_faults() - faults);
	EXPECT_EQ(NPAGES, pages_on(0, buf + NPAGES * PAGE, NPAGES, 1));
	touch_write(buf, NPAGES);
	EXPECT_EQ(NPAGES, hint_faults() - faults);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 2));
	EXPECT_EQ(-1, check_pattern(buf, 2 * NPAGES, SEED));
}

/*
 * A lazy map in which a node both receives and gives pages would move a
 * page again on its next touch: EINVAL, and nothing is marked.
 */
TEST_F(lazy, chain_swap_cycle_refused)
{
	static const struct {
		int nr, o[3], n[3];
	} maps[] = {
		{ 2, { 0, 1 }, { 1, 2 } },			/* chain */
		{ 2, { 0, 1 }, { 1, 0 } },			/* swap */
		{ 3, { 0, 1, 2 }, { 1, 2, 0 } },		/* cycle */
		{ 2, { 0, MIGRATE_PAGES2_ANY_NODE }, { 1, 0 } },	/* 1 -> 0 -> 1 */
	};
	enum { NPAGES = 16 };
	int o[] = { 0, 2 }, n[] = { 2, 2 };
	struct migrate_pages_stats st;
	unsigned int i;
	long faults;
	char *buf = filled(self, NPAGES, 0);

	ASSERT_NE(NULL, buf);
	for (i = 0; i < ARRAY_SIZE(maps); i++) {
		memset(&st, 0xff, sizeof(st));
		EXPECT_EQ(-1, lazy_call(0, maps[i].o, maps[i].n, maps[i].nr,
					buf, self->len, &st));
		EXPECT_EQ(EINVAL, errno);
		/* Refused before anything: stats not written. */
		EXPECT_EQ(~0ULL, st.deferred);
	}
	faults = hint_faults();
	touch_write(buf, NPAGES);
	EXPECT_EQ(0, hint_faults() - faults);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 0));

	/* A pair whose source is its destination is not a move. */
	EXPECT_EQ(0, lazy_call(0, o, n, 2, buf, self->len, &st));
	EXPECT_STATS(&st, NPAGES, 0, 0, 0, 0, NPAGES);
}

/*
 * Identity pairs clear the map: a page marked before moves nowhere on its
 * touch, neither to the old pair's node nor to the toucher's.
 */
TEST_F(lazy, identity_pairs_clear_the_map)
{
	enum { NPAGES = 16 };
	int o[] = { 0 }, n[] = { 2 }, same[] = { 0 };
	struct migrate_pages_stats st;
	char *buf = filled(self, NPAGES, 0);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, self->len, &st));
	EXPECT_EQ(NPAGES, st.deferred);
	ASSERT_EQ(0, lazy_call(0, o, same, 1, buf, self->len, &st));
	EXPECT_STATS(&st, 0, 0, 0, 0, 0, 0);
	/* From node 1's CPU: a first-touch move would go to node 1. */
	ASSERT_EQ(0, touch_write_on_cpu(buf, NPAGES, 1));
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 0));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/* A second lazy call replaces the map: its pairs decide. */
TEST_F(lazy, second_call_replaces_the_map)
{
	enum { NPAGES = 16 };
	int o[] = { 0 }, n2[] = { 2 }, n3[] = { 3 };
	struct migrate_pages_stats st;
	char *buf = filled(self, NPAGES, 0);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, lazy_call(0, o, n2, 1, buf, self->len, &st));
	ASSERT_EQ(0, lazy_call(0, o, n3, 1, buf, self->len, &st));
	EXPECT_STATS(&st, NPAGES, 0, 0, 0, 0, NPAGES);
	touch_read(buf, NPAGES);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 3));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/*
 * DRY_RUN with LAZY counts what would be deferred, marks nothing and
 * leaves the map as it was.
 */
TEST_F(lazy, dry_run_marks_nothing)
{
	enum { NPAGES = 16 };
	int o[] = { 0 }, n2[] = { 2 }, n3[] = { 3 };
	struct migrate_pages_stats st;
	long faults;
	char *buf = filled(self, NPAGES, 0);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, lazy_call(MIGRATE_PAGES2_DRY_RUN, o, n2, 1, buf,
			       self->len, &st));
	EXPECT_STATS(&st, NPAGES, 0, 0, 0, 0, NPAGES);
	faults = hint_faults();
	touch_write(buf, NPAGES);
	EXPECT_EQ(0, hint_faults() - faults);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 0));

	/* The map of a real call stays: the dry run's pairs do not. */
	ASSERT_EQ(0, lazy_call(0, o, n2, 1, buf, self->len, &st));
	ASSERT_EQ(0, lazy_call(MIGRATE_PAGES2_DRY_RUN, o, n3, 1, buf,
			       self->len, &st));
	touch_read(buf, NPAGES);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 2));
}

/* Only the range is marked; the map's range decides on the touch too. */
TEST_F(lazy, range)
{
	enum { NPAGES = 64 };
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	long faults;
	char *buf = filled(self, NPAGES, 0);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf + 16 * PAGE, 32 * PAGE, &st));
	EXPECT_STATS(&st, 32, 0, 0, 0, 0, 32);
	faults = hint_faults();
	touch_write(buf, NPAGES);
	EXPECT_EQ(32, hint_faults() - faults);
	EXPECT_EQ(16, pages_on(0, buf, 16, 0));
	EXPECT_EQ(32, pages_on(0, buf + 16 * PAGE, 32, 2));
	EXPECT_EQ(16, pages_on(0, buf + 48 * PAGE, 16, 0));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/*
 * One THP on node 0 at the start of a mapping of @len bytes (self->buf),
 * filled with the pattern; NULL if the mapping or the THP could not be had.
 */
static char *one_thp(struct _test_data_lazy *self, unsigned long len)
{
	char *huge;

	self->len = len;
	huge = map_thps(len, 1, 0, SEED, &self->buf);
	return huge && anon_huge_kb() >= 2048 ? huge : NULL;
}

/* A THP is marked by its PMD and moves whole on one touch. */
TEST_F(lazy, thp_moves_whole_on_touch)
{
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	char *huge;
	long faults;

	huge = one_thp(self, 2 * THP);
	if (!huge)
		SKIP(return, "no THP could be allocated on node 0");
	ASSERT_EQ(0, lazy_call(0, o, n, 1, huge, THP, &st));
	EXPECT_STATS(&st, THP / PAGE, 0, 0, 0, 0, THP / PAGE);
	EXPECT_EQ(THP / PAGE, pages_on(0, huge, THP / PAGE, 0));
	faults = hint_faults();
	touch_read(huge + 100 * PAGE, 1);
	EXPECT_EQ(1, hint_faults() - faults);
	EXPECT_EQ(THP / PAGE, pages_on(0, huge, THP / PAGE, 2));
	EXPECT_LE(2048, anon_huge_kb());
	EXPECT_EQ(0, st.split);
	EXPECT_EQ(-1, check_pattern(huge, THP / PAGE, SEED));
}

/*
 * A THP whose second half is unmapped is mapped by PTEs over its first
 * half only; the range starts after it.  The folio is not in the range:
 * not counted, not marked, and a touch of it moves nothing.  Pages in
 * the range beside it move on their touch.
 */
TEST_F(lazy, large_folio_beside_the_range_not_marked)
{
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	char *huge, *beside;
	long faults;

	huge = one_thp(self, 2 * THP);
	if (!huge)
		SKIP(return, "no THP could be allocated on node 0");
	ASSERT_EQ(0, munmap(huge + THP / 2, THP / 2));
	beside = mmap(huge + THP * 3 / 4, THP / 4, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(huge + THP * 3 / 4, beside);
	ASSERT_EQ(0, fill_on(beside, THP / 4 / PAGE, 0, SEED));

	ASSERT_EQ(0, lazy_call(0, o, n, 1, beside, THP / 4, &st));
	EXPECT_STATS(&st, THP / 4 / PAGE, 0, 0, 0, 0, THP / 4 / PAGE);
	faults = hint_faults();
	touch_read(huge, THP / 2 / PAGE);
	EXPECT_EQ(0, hint_faults() - faults);
	EXPECT_EQ(THP / 2 / PAGE, pages_on(0, huge, THP / 2 / PAGE, 0));
	touch_read(beside, THP / 4 / PAGE);
	EXPECT_EQ(THP / 4 / PAGE, hint_faults() - faults);
	EXPECT_EQ(THP / 4 / PAGE, pages_on(0, beside, THP / 4 / PAGE, 2));
	EXPECT_EQ(-1, check_pattern(huge, THP / 2 / PAGE, SEED));
	EXPECT_EQ(-1, check_pattern(beside, THP / 4 / PAGE, SEED));
}

/*
 * A map replaced or cleared takes its marks with it: a page it marked,
 * touched from node 1's CPU, takes no hinting fault and stays.  A second
 * map over the other half of the range leaves the first half unmarked and
 * marks the second; identity pairs then clear it.
 */
TEST_F(lazy, replaced_or_cleared_map_takes_its_marks)
{
	enum { NPAGES = 64, HALF = NPAGES / 2 };
	int o[] = { 0 }, n[] = { 2 }, o1[] = { 1 }, same[] = { 0 };
	struct migrate_pages_stats st;
	char *buf = filled(self, NPAGES, 0);
	char *second = buf + HALF * PAGE;
	long faults;

	ASSERT_NE(NULL, buf);
	/* Replaced by a map of another source over the same range. */
	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, self->len, &st));
	EXPECT_EQ(NPAGES, st.deferred);
	ASSERT_EQ(0, lazy_call(0, o1, n, 1, buf, self->len, &st));
	EXPECT_EQ(0, st.deferred);
	faults = hint_faults();
	ASSERT_EQ(0, touch_write_on_cpu(buf, NPAGES, 1));
	EXPECT_EQ(0, hint_faults() - faults);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 0));

	/* Replaced by a map of another range. */
	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, HALF * PAGE, &st));
	EXPECT_EQ(HALF, st.deferred);
	ASSERT_EQ(0, lazy_call(0, o, n, 1, second, HALF * PAGE, &st));
	EXPECT_EQ(HALF, st.deferred);
	faults = hint_faults();
	ASSERT_EQ(0, touch_write_on_cpu(buf, HALF, 1));
	EXPECT_EQ(0, hint_faults() - faults);
	EXPECT_EQ(HALF, pages_on(0, buf, HALF, 0));
	touch_read(second, HALF / 2);
	EXPECT_EQ(HALF / 2, hint_faults() - faults);
	EXPECT_EQ(HALF / 2, pages_on(0, second, HALF / 2, 2));

	/* Cleared: the rest of the second half stays, unmarked. */
	ASSERT_EQ(0, lazy_call(0, o, same, 1, buf, self->len, &st));
	faults = hint_faults();
	ASSERT_EQ(0, touch_write_on_cpu(buf, NPAGES, 1));
	EXPECT_EQ(0, hint_faults() - faults);
	EXPECT_EQ(NPAGES - HALF / 2, pages_on(0, buf, NPAGES, 0));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/*
 * A child forked after the call has no map, and takes none of its
 * parent's marks: its reads, base pages and a THP, take no hinting fault;
 * the parent's marks stay.
 */
TEST_F(lazy, forked_child_takes_no_marks)
{
	enum { NPAGES = 32 };
	int o[] = { 0 }, n[] = { 2 }, status;
	struct migrate_pages_stats st;
	char *huge, *area;
	pid_t pid;
	long faults;

	huge = one_thp(self, 3 * THP);
	if (!huge)
		SKIP(return, "no THP could be allocated on node 0");
	/* The THP, then NPAGES base pages after it. */
	area = huge + THP;
	ASSERT_EQ(0, madvise(area, THP, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, fill_on(area, NPAGES, 0, SEED));
	ASSERT_EQ(0, lazy_call(0, o, n, 1, huge, THP + NPAGES * PAGE, &st));
	EXPECT_EQ(THP / PAGE + NPAGES, st.deferred);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		faults = hint_faults();
		touch_read(area, NPAGES);
		touch_read(huge, THP / PAGE);
		_exit(hint_faults() == faults &&
		      pages_on(0, area, NPAGES, 0) == NPAGES &&
		      pages_on(0, huge, THP / PAGE, 0) == THP / PAGE &&
		      check_pattern(huge, THP / PAGE, SEED) == -1 &&
		      check_pattern(area, NPAGES, SEED) == -1 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The parent's marks: one fault for the THP, one per base page. */
	faults = hint_faults();
	touch_read(area, NPAGES);
	touch_read(huge, 1);
	EXPECT_EQ(NPAGES + 1, hint_faults() - faults);
	EXPECT_EQ(NPAGES, pages_on(0, area, NPAGES, 2));
	EXPECT_EQ(THP / PAGE, pages_on(0, huge, THP / PAGE, 2));
	EXPECT_LE(2048, anon_huge_kb());
	EXPECT_EQ(-1, check_pattern(huge, THP / PAGE, SEED));
}

/*
 * Mark @npages of @buf (filled on node 0) for 0 -> 2 and move the second
 * half, with mremap(), to a place outside the range; the moved half is
 * the fixture's filler.  Returns where it went, or NULL.
 */
static char *mark_and_move_half(struct _test_data_lazy *self, char *buf,
				unsigned long npages)
{
	unsigned long half = npages / 2;
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	char *hole, *moved;

	if (lazy_call(0, o, n, 1, buf, npages * PAGE, &st) || st.deferred != npages)
		return NULL;
	hole = mmap(NULL, half * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED)
		return NULL;
	moved = mremap(buf + half * PAGE, half * PAGE, half * PAGE,
		       MREMAP_MAYMOVE | MREMAP_FIXED, hole);
	if (moved != hole) {
		munmap(hole, half * PAGE);
		return NULL;
	}
	self->filler = moved;
	self->filler_len = half * PAGE;
	return moved;
}

/* The pattern of the moved half is of the addresses it was filled at. */
static bool moved_half_intact(const char *buf, const char *moved,
			      unsigned long half)
{
	unsigned long i;

	for (i = 0; i < half; i++)
		if (pattern(buf + (half + i) * PAGE, SEED) !=
		    *(const uint64_t *)(moved + i * PAGE))
			return false;
	return true;
}

/*
 * Pages mremap() moves out of the map's range take no mark with them:
 * with NUMA balancing off they move nothing, neither after the map is
 * cleared nor in a child forked after the move, toward the touching
 * thread's node (node 1's CPU) or anywhere.
 */
TEST_F(lazy, mremapped_marks_move_nowhere)
{
	enum { NPAGES = 64, HALF = NPAGES / 2 };
	int o[] = { 0 }, same[] = { 0 }, status;
	struct migrate_pages_stats st;
	char *buf = filled(self, NPAGES, 0), *moved;
	pid_t pid;

	ASSERT_NE(NULL, buf);
	moved = mark_and_move_half(self, buf, NPAGES);
	ASSERT_NE(NULL, moved);
	/* Reads: a write would copy the page, on the child's node. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (touch_on_cpu(moved, HALF, 1, false))
			_exit(2);
		_exit(pages_on(0, moved, HALF, 0) == HALF ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(0, lazy_call(0, o, same, 1, buf, HALF * PAGE, &st));
	ASSERT_EQ(0, touch_on_cpu(moved, HALF, 1, false));
	EXPECT_EQ(HALF, pages_on(0, moved, HALF, 0));
	EXPECT_TRUE(moved_half_intact(buf, moved, HALF));
}

/*
 * With NUMA balancing on too: a mark mremap() moved would fault outside
 * the map's range, and balancing would move the page toward the touching
 * thread's node (node 1's CPU).  The moved half takes no hinting fault
 * and stays; the half left in the range still moves to the pair's node.
 * Seen failing before the fix: the moved half went to node 1.
 */
TEST_F(lazy, mremapped_pages_take_no_marks_with_balancing_on)
{
	enum { NPAGES = 64, HALF = NPAGES / 2 };
	char *buf = filled(self, NPAGES, 0), *moved;
	long faults;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, write_file(BALANCING, "1"));
	moved = mark_and_move_half(self, buf, NPAGES);
	ASSERT_NE(NULL, moved);
	faults = hint_faults();
	ASSERT_EQ(0, touch_on_cpu(moved, HALF, 1, false));
	EXPECT_EQ(0, hint_faults() - faults);
	EXPECT_EQ(HALF, pages_on(0, moved, HALF, 0));
	EXPECT_TRUE(moved_half_intact(buf, moved, HALF));
	ASSERT_EQ(0, touch_on_cpu(buf, HALF, 1, false));
	EXPECT_EQ(HALF, pages_on(0, buf, HALF, 2));
	EXPECT_EQ(-1, check_pattern(buf, HALF, SEED));
}

#define LOCK_EVENT	"/sys/kernel/tracing/events/mmap_lock/mmap_lock_acquire_returned/"

/*
 * mmap lock acquisitions in the trace buffer by the task @tid, or (0) by
 * kworkers.
 */
static long lock_holds_by(pid_t tid)
{
	char line[512], who[32];
	FILE *f = fopen("/sys/kernel/tracing/trace", "r");
	long n = 0;

	if (!f)
		return -1;
	if (tid)
		snprintf(who, sizeof(who), "-%d ", (int)tid);
	else
		snprintf(who, sizeof(who), "kworker/");
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && strstr(line, who) &&
		    strstr(line, "mmap_lock_acquire_returned:") &&
		    strstr(line, "success=true"))
			n++;
	fclose(f);
	return n;
}

static long lock_holds(void)
{
	return lock_holds_by(syscall(SYS_gettid));
}

static int trace_lock_events(bool on)
{
	int fd;

	if (on) {
		fd = open("/sys/kernel/tracing/trace", O_WRONLY | O_TRUNC);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return write_file(LOCK_EVENT "enable", on ? "1" : "0");
}

/*
 * Rule 7 for the removal of a cleared map's marks: 64 MiB of marks are
 * removed a PMD's span per hold of the target's mmap lock, 32 holds at
 * least, and all of them go (a touch takes no hinting fault and moves
 * nothing).  Seen failing before the fix: one hold for the whole range.
 */
TEST_F(lazy, clearing_the_map_holds_the_lock_a_batch_at_a_time)
{
	enum { NPAGES = 16384 };
	int o[] = { 0 }, n[] = { 2 }, same[] = { 0 };
	struct migrate_pages_stats st;
	char *buf = filled(self, NPAGES, 0);
	long faults, holds;

	ASSERT_NE(NULL, buf);
	if (access(LOCK_EVENT "enable", W_OK))
		SKIP(return, "tracefs or the mmap_lock events are missing");
	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, self->len, &st));
	EXPECT_EQ(NPAGES, st.deferred);
	ASSERT_EQ(0, trace_lock_events(true));
	EXPECT_EQ(0, lazy_call(0, o, same, 1, buf, self->len, &st));
	trace_lock_events(false);
	holds = lock_holds();
	EXPECT_LE(NPAGES / 512, holds);
	faults = hint_faults();
	touch_read(buf, NPAGES);
	EXPECT_EQ(0, hint_faults() - faults);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 0));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/*
 * The removal costs what the old range maps, not its size: 64 pages at
 * the end of a 64 GiB reservation take one hold of the lock for their
 * PMD, besides the install's.  Seen failing before the fix: a hold per
 * 2 MiB of the range, 32768.
 */
TEST_F(lazy, clearing_a_sparse_map_costs_what_it_maps)
{
	enum { NPAGES = 64 };
	const unsigned long span = 64UL << 30;
	int o[] = { 0 }, n[] = { 2 }, same[] = { 0 };
	struct migrate_pages_stats st;
	long faults, holds;
	char *tail;

	if (access(LOCK_EVENT "enable", W_OK))
		SKIP(return, "tracefs or the mmap_lock events are missing");
	self->len = span;
	self->buf = mmap(NULL, span, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	tail = self->buf + span - NPAGES * PAGE;
	ASSERT_EQ(0, fill_on(tail, NPAGES, 0, SEED));
	ASSERT_EQ(0, lazy_call(0, o, n, 1, self->buf, span, &st));
	EXPECT_EQ(NPAGES, st.deferred);
	ASSERT_EQ(0, trace_lock_events(true));
	EXPECT_EQ(0, lazy_call(0, o, same, 1, self->buf, span, &st));
	trace_lock_events(false);
	holds = lock_holds();
	EXPECT_GE(3, holds);
	EXPECT_LE(1, holds);
	faults = hint_faults();
	touch_read(tail, NPAGES);
	EXPECT_EQ(0, hint_faults() - faults);
	EXPECT_EQ(NPAGES, pages_on(0, tail, NPAGES, 0));
	EXPECT_EQ(-1, check_pattern(tail, NPAGES, SEED));
}

/*
 * SIGKILL ends a caller in the removal of the old map's marks, and a
 * worker removes the rest: a child clears this process's map over 256
 * MiB of marks and is killed while it removes them.  The trace shows the
 * child's mmap lock holds stop short of the whole range and a kworker's
 * take over; once it is done no mark of the old map is left (a touch
 * takes no hinting fault, every page stays).  A removal that ignored the
 * signal would finish in the child, which is what 30248b2 did (the child
 * died only after the last hold).  A lazy call made at once after the
 * kill, on the last 2 MiB toward node 1, waits for the worker, whose
 * removal would take its marks too (8ba5f4c lost them: the pages stayed).
 * The delay adapts, as in policy.killed_caller_stops_in_the_pass.
 */
TEST_F_TIMEOUT(lazy, killed_caller_leaves_the_removal_to_a_worker, 600)
{
	enum { NPAGES = 65536, TAIL = 512, STEPS = NPAGES / 512, TRIES = 10 };
	int o[] = { 0 }, n[] = { 2 }, n1[] = { 1 }, same[] = { 0 };
	long by_caller = 0, by_worker = 0, faults;
	int ready[2], status, try;
	struct migrate_pages_stats st, st2;
	char *buf = filled(self, NPAGES, 0), *tail;
	useconds_t delay = 4000;
	pid_t parent = getpid(), pid;

	ASSERT_NE(NULL, buf);
	tail = buf + (NPAGES - TAIL) * PAGE;
	/* The child needs none of it: its exit is then quicker than the worker. */
	ASSERT_EQ(0, madvise(buf, self->len, MADV_DONTFORK));
	if (access(LOCK_EVENT "enable", W_OK))
		SKIP(return, "tracefs or the mmap_lock events are missing");
	for (try = 0; try < TRIES; try++) {
		ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, self->len, &st));
		ASSERT_EQ(NPAGES, st.deferred);
		ASSERT_EQ(0, pipe(ready));
		ASSERT_EQ(0, trace_lock_events(true));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			tell_ready(ready);
			mp2_call_range(parent, LAZY, o, same, 1, buf, self->len, &st);
			_exit(0);
		}
		status = kill_when_ready(pid, ready, delay);
		ASSERT_EQ(0, lazy_call(0, o, n1, 1, tail, TAIL * PAGE, &st2));
		ASSERT_EQ(TAIL, st2.deferred);
		/* The worker's holds, if any, come within a second. */
		usleep(1000000);
		trace_lock_events(false);
		by_caller = lock_holds_by(pid);
		by_worker = lock_holds_by(0);
		if (WIFSIGNALED(status) && by_caller && by_caller < STEPS && by_worker)
			break;
		/* Killed before the call, or too late. */
		delay = !by_caller ? delay * 2 : delay > 1 ? delay / 2 : 1;
	}
	EXPECT_LT(try, TRIES) {
		TH_LOG("no kill in the removal: holds %ld (caller), %ld (workers), delay %u us",
		       by_caller, by_worker, delay);
	}
	faults = hint_faults();
	touch_read(buf, NPAGES - TAIL);
	EXPECT_EQ(0, hint_faults() - faults);
	EXPECT_EQ(NPAGES - TAIL, pages_on(0, buf, NPAGES - TAIL, 0));
	touch_read(tail, TAIL);
	EXPECT_EQ(TAIL, pages_on(0, tail, TAIL, 1));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/*
 * A child in a cpuset with mems 0-1 fills its pages on node 0 and then,
 * told to, reads them.  Returns its pid once the pages are there.
 */
static pid_t cpuset_member(const char *cg, char *buf, unsigned long npages,
			   int go, int done)
{
	char pid[16], c;
	pid_t child = fork();

	if (child)
		return child;
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_file(cg, pid) || fill_on(buf, npages, 0, SEED) ||
	    write(done, "r", 1) != 1)
		_exit(1);
	while (read(go, &c, 1) == 1) {
		touch_read(buf, npages);
		if (write(done, "t", 1) != 1)
			_exit(1);
	}
	_exit(0);
}

/*
 * A touch allocates within the toucher's cpuset: a destination outside
 * the target's mems (which a caller with CAP_SYS_NICE may choose) is
 * moved by the call, not left to a touch that could never move it.  A
 * destination inside them is deferred, and the target's touch moves it.
 */
TEST_F(lazy, destination_outside_the_cpuset_moved_now)
{
	enum { NPAGES = 32 };
	const char *cg = "/sys/fs/cgroup/mp2-lazy";
	int o[] = { 0 }, n[] = { 2 }, o2[] = { 2 }, n1[] = { 1 };
	struct migrate_pages_stats st;
	int go[2], done[2];
	char c, *buf;

	if (write_file("/sys/fs/cgroup/cgroup.subtree_control", "+cpuset"))
		SKIP(return, "no cpuset controller in cgroup v2");
	mkdir(cg, 0755);
	ASSERT_EQ(0, write_file("/sys/fs/cgroup/mp2-lazy/cpuset.mems", "0-1"));
	buf = unfilled(self, NPAGES);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	self->child = cpuset_member("/sys/fs/cgroup/mp2-lazy/cgroup.procs", buf,
				    NPAGES, go[0], done[1]);
	ASSERT_LT(0, self->child);
	ASSERT_EQ(1, read(done[0], &c, 1));
	ASSERT_EQ('r', c);

	/* Node 2 is outside the child's mems: moved now. */
	ASSERT_EQ(0, mp2_call_range(self->child, LAZY, o, n, 1, buf, self->len, &st));
	EXPECT_STATS(&st, NPAGES, NPAGES, 0, 0, 0, 0);
	EXPECT_EQ(NPAGES, pages_on(self->child, buf, NPAGES, 2));

	/* Node 1 is inside: deferred, and the child's touch moves them. */
	ASSERT_EQ(0, mp2_call_range(self->child, LAZY, o2, n1, 1, buf, self->len, &st));
	EXPECT_STATS(&st, NPAGES, 0, 0, 0, 0, NPAGES);
	EXPECT_EQ(NPAGES, pages_on(self->child, buf, NPAGES, 2));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(done[0], &c, 1));
	EXPECT_EQ(NPAGES, pages_on(self->child, buf, NPAGES, 1));
	reap(self->child);
	self->child = 0;
	rmdir(cg);
}

/*
 * With NUMA balancing on, a page the call marked still moves nothing but
 * to its pair's node: neither after the map is replaced by one that does
 * not cover the page, nor in a child forked after the call.  Balancing
 * would move a young task's page to the touching CPU's node on first
 * touch.
 */
TEST_F(lazy, stale_marks_move_nothing_with_balancing_on)
{
	enum { NPAGES = 16 };
	int o[] = { 0 }, n[] = { 3 }, o1[] = { 1 }, status;
	struct migrate_pages_stats st;
	pid_t pid;
	char *buf = filled(self, NPAGES, 0);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, write_file(BALANCING, "1"));
	/* A child forked after the call: the marks, no map. */
	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, self->len, &st));
	EXPECT_EQ(NPAGES, st.deferred);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(1, &set);
		sched_setaffinity(0, sizeof(set), &set);
		touch_read(buf, NPAGES);
		_exit(pages_on(0, buf, NPAGES, 0) == NPAGES ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The map replaced by one of another source: the marks stay. */
	ASSERT_EQ(0, lazy_call(0, o1, n, 1, buf, self->len, &st));
	ASSERT_EQ(0, touch_write_on_cpu(buf, NPAGES, 1));
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 0));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/*
 * As nobody, under Yama's ptrace_scope = 2 (attach only with
 * CAP_SYS_PTRACE): a child's pages move, a dry run counts them, but a
 * lazy map, which steers the child's faults from then on, is refused and
 * nothing is marked.  Returns 0, or the failed step.
 */
static int attach_case(void)
{
	int o[] = { 0 }, n[] = { 2 }, ready[2], ret = 0;
	struct migrate_pages_stats st;
	unsigned long len;
	char *buf, c;
	pid_t pid;

	if (setgid(65534) || setuid(65534) || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return 1;
	buf = map_anon(32 * PAGE, MAP_PRIVATE);
	if (!buf || pipe(ready))
		return 2;
	len = 32 * PAGE;
	pid = fork();
	if (!pid) {
		if (fill_on(buf, 32, 0, SEED) || write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	if (pid < 0 || read(ready[0], &c, 1) != 1)
		return 3;
	if (mp2_call_range(pid, LAZY, o, n, 1, buf, len, &st) != -1 || errno != EPERM)
		ret = 4;
	else if (mp2_call_range(pid, LAZY | MIGRATE_PAGES2_DRY_RUN, o, n, 1, buf, len,
				&st) || st.deferred != 32)
		ret = 5;
	if (!ret && mp2_call_range(pid, 0, o, n, 1, buf, len, &st))
		ret = 6;
	else if (!ret && (pages_on(pid, buf, 32, 2) != 32 || st.moved != 32))
		ret = 7;
	reap(pid);
	return ret;
}

TEST_F(lazy, lazy_map_needs_ptrace_attach)
{
	int step;

	step = with_ptrace_scope_2(attach_case);
	ASSERT_NE(-1, step) {
		TH_LOG("no %s, or it cannot be set", YAMA_SCOPE);
	}
	EXPECT_EQ(0, step) {
		TH_LOG("step %d of attach_case() failed", step);
	}
}

/* A hinting fault cannot move a hugetlb page: the call moves it now. */
TEST_F(lazy, hugetlb_moved_at_once)
{
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	char *buf;

	self->hugetlb = true;
	if (set_node_hugepages(0, 1) || set_node_hugepages(2, 1) ||
	    node_hugepages(0) < 1 || node_hugepages(2) < 1)
		SKIP(return, "no 2 MiB hugetlb page on nodes 0 and 2");
	buf = map_anon(THP, MAP_PRIVATE | MAP_HUGETLB);
	ASSERT_NE(NULL, buf);
	self->buf = buf;
	self->len = THP;
	ASSERT_EQ(0, fill_on(buf, THP / PAGE, 0, SEED));
	ASSERT_EQ(0, page_node(buf));
	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, THP, &st));
	EXPECT_STATS(&st, THP / PAGE, THP / PAGE, 0, 0, 0, 0);
	EXPECT_EQ(2, page_node(buf));
	EXPECT_EQ(-1, check_pattern(buf, THP / PAGE, SEED));
}

/*
 * The shared rule holds: a page mapped by two processes is skipped and
 * not marked without MOVE_ALL, and marked with it.
 */
TEST_F(lazy, shared_pages_marked_only_with_move_all)
{
	enum { NPAGES = 16 };
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	long faults;
	char *buf;

	buf = map_anon(NPAGES * PAGE, MAP_SHARED);
	ASSERT_NE(NULL, buf);
	self->buf = buf;
	self->len = NPAGES * PAGE;
	ASSERT_EQ(0, fill_on(buf, NPAGES, 0, SEED));
	self->child = spawn_mapper(buf, NPAGES);
	ASSERT_LT(0, self->child);

	EXPECT_EQ(NPAGES, lazy_call(0, o, n, 1, buf, self->len, &st));
	EXPECT_STATS(&st, NPAGES, 0, NPAGES, 0, 0, 0);
	faults = hint_faults();
	touch_write(buf, NPAGES);
	EXPECT_EQ(0, hint_faults() - faults);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 0));

	ASSERT_EQ(0, lazy_call(MIGRATE_PAGES2_MOVE_ALL, o, n, 1, buf,
			       self->len, &st));
	EXPECT_STATS(&st, NPAGES, 0, 0, 0, 0, NPAGES);
	touch_write(buf, NPAGES);
	EXPECT_EQ(NPAGES, hint_faults() - faults);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 2));
	EXPECT_EQ(NPAGES, pages_on(self->child, buf, NPAGES, 2));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/*
 * UPDATE_POLICY with LAZY rewrites the policy now: pages faulted in later
 * and pages moved on their touch agree.
 */
TEST_F(lazy, update_policy_now_pages_on_touch)
{
	enum { NPAGES = 32 };
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	char pol[64];
	char *buf;

	buf = unfilled(self, NPAGES);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, sys_mbind(buf, self->len, MPOL_BIND, 1UL << 0, 0));
	ASSERT_EQ(0, fill_on(buf, NPAGES / 2, -1, SEED));
	ASSERT_EQ(NPAGES / 2, pages_on(0, buf, NPAGES / 2, 0));
	ASSERT_EQ(0, lazy_call(MIGRATE_PAGES2_UPDATE_POLICY, o, n, 1, buf,
			       self->len, &st));
	EXPECT_STATS(&st, NPAGES / 2, 0, 0, 0, 0, NPAGES / 2);
	EXPECT_EQ(1, st.policies);
	policy_at(0, buf, pol, sizeof(pol));
	EXPECT_STREQ("bind:2", pol);
	EXPECT_EQ(NPAGES / 2, pages_on(0, buf, NPAGES / 2, 0));
	/* New pages follow the policy, old ones their pair. */
	ASSERT_EQ(0, fill_on(buf + NPAGES / 2 * PAGE, NPAGES / 2, -1, SEED));
	touch_read(buf, NPAGES / 2);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 2));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/*
 * A touch that cannot move its page (the destination is full) leaves it
 * where it is, with its data, and the access completes; an ordinary call
 * moves it once there is room.
 */
TEST_F(lazy, full_destination_leaves_the_page)
{
	enum { NPAGES = 16, FILLER = 8192 };
	int o[] = { 0 }, n[] = { 3 };
	struct migrate_pages_stats st;
	long faults;
	char *buf = filled(self, NPAGES, 0);

	ASSERT_NE(NULL, buf);
	/* Node 3 full: its huge pages taken, then base pages moved in. */
	self->hog = true;
	ASSERT_EQ(0, set_node_hugepages(3, 100000));
	self->filler = map_filled(FILLER, 0, SEED, &self->filler_len);
	ASSERT_NE(NULL, self->filler);
	ASSERT_LE(0, mp2_call_range(0, 0, o, n, 1, self->filler,
				    self->filler_len, &st));
	ASSERT_LT(0, st.no_memory);

	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, self->len, &st));
	EXPECT_STATS(&st, NPAGES, 0, 0, 0, 0, NPAGES);
	faults = hint_faults();
	touch_write(buf, NPAGES);
	EXPECT_EQ(NPAGES, hint_faults() - faults);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 0));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
	/* Not retried: a second touch takes no fault. */
	touch_read(buf, NPAGES);
	EXPECT_EQ(NPAGES, hint_faults() - faults);

	munmap(self->filler, self->filler_len);
	self->filler = NULL;
	ASSERT_EQ(0, set_node_hugepages(3, 0));
	ASSERT_EQ(0, mp2_call_range(0, 0, o, n, 1, buf, self->len, &st));
	EXPECT_STATS(&st, NPAGES, NPAGES, 0, 0, 0);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 3));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/*
 * A child forked after the call inherits the marked page tables but not
 * the map: its touches move nothing (nor toward its own node).  The
 * parent's map stays, and once the child is gone (its pages mapped once
 * again) the parent's touch moves them.
 */
TEST_F(lazy, fork_after_the_call)
{
	enum { NPAGES = 16 };
	int o[] = { 0 }, n[] = { 2 }, status;
	struct migrate_pages_stats st;
	pid_t pid;
	char *buf = filled(self, NPAGES, 0);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, self->len, &st));
	EXPECT_EQ(NPAGES, st.deferred);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(1, &set);
		sched_setaffinity(0, sizeof(set), &set);
		/* Reads: a write would copy the page, on the child's node. */
		touch_read(buf, NPAGES);
		_exit(pages_on(0, buf, NPAGES, 0) == NPAGES &&
		      check_pattern(buf, NPAGES, SEED) == -1 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 0));
	touch_read(buf, NPAGES);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 2));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/* An ordinary call moves what is still marked and leaves the map alone. */
TEST_F(lazy, ordinary_call_finishes_the_move)
{
	enum { NPAGES = 64 };
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	char *buf = filled(self, NPAGES, 0);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, self->len, &st));
	touch_write(buf, 16);
	EXPECT_EQ(16, pages_on(0, buf, 16, 2));
	ASSERT_EQ(0, mp2_call_range(0, 0, o, n, 1, buf, self->len, &st));
	EXPECT_STATS(&st, NPAGES - 16, NPAGES - 16, 0, 0, 0);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 2));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/*
 * With NUMA balancing on, a marked page still goes to its pair's node
 * (node 3 has no CPUs: balancing itself would never choose it), and the
 * call marks it whether balancing is on or off.
 */
TEST_F(lazy, balancing_on_still_moves_to_the_pair)
{
	enum { NPAGES = 32 };
	int o[] = { 0 }, n[] = { 3 };
	struct migrate_pages_stats st;
	char *buf = filled(self, NPAGES, 0);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, write_file(BALANCING, "1"));
	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, self->len, &st));
	EXPECT_STATS(&st, NPAGES, 0, 0, 0, 0, NPAGES);
	ASSERT_EQ(0, touch_write_on_cpu(buf, NPAGES, 1));
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 3));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/*
 * With NUMA balancing on, a page the map does not cover is balancing's,
 * as without a map: a mapping outside the range, rewritten from node 1's
 * CPU, is moved toward node 1 by balancing's own scan and faults (within
 * a minute: the scanner's pace is its own, so the test waits for the
 * first page rather than timing it), while the map's pages, untouched,
 * stay.
 */
TEST_F(lazy, balancing_moves_what_the_map_does_not_cover)
{
	enum { NPAGES = 64 };
	int o[] = { 0 }, n[] = { 3 };
	struct migrate_pages_stats st;
	unsigned long other_len, i;
	char *buf = filled(self, NPAGES, 0), *other;
	time_t end;

	ASSERT_NE(NULL, buf);
	self->filler = map_filled(NPAGES, 0, SEED, &other_len);
	ASSERT_NE(NULL, self->filler);
	self->filler_len = other_len;
	other = self->filler;
	ASSERT_EQ(0, write_file(BALANCING, "1"));
	ASSERT_EQ(0, lazy_call(0, o, n, 1, buf, self->len, &st));
	EXPECT_EQ(NPAGES, st.deferred);
	end = time(NULL) + 60;
	for (i = 0; time(NULL) < end && !pages_on(0, other, NPAGES, 1); i++)
		ASSERT_EQ(0, touch_write_on_cpu(other, NPAGES, 1));
	EXPECT_LT(0, pages_on(0, other, NPAGES, 1));
	TH_LOG("%lu of %d pages moved by balancing after %lu rounds",
	       pages_on(0, other, NPAGES, 1), NPAGES, i);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 0));
	EXPECT_EQ(-1, check_pattern(other, NPAGES, SEED));
	EXPECT_EQ(-1, check_pattern(buf, NPAGES, SEED));
}

/*
 * The map is the target's: an unprivileged caller may not give one to a
 * process it cannot ptrace (root's), and nothing is marked.
 */
TEST_F(lazy, unprivileged_caller_refused)
{
	enum { NPAGES = 16 };
	int o[] = { 0 }, n[] = { 2 }, status;
	pid_t pid, me = getpid();
	long faults;
	char *buf = filled(self, NPAGES, 0);

	ASSERT_NE(NULL, buf);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct migrate_pages_stats st;
		long r;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		r = mp2_call(me, LAZY, o, n, 1, &st);
		_exit(r == -1 && errno == EPERM ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	faults = hint_faults();
	touch_write(buf, NPAGES);
	EXPECT_EQ(0, hint_faults() - faults);
	EXPECT_EQ(NPAGES, pages_on(0, buf, NPAGES, 0));
}

/*
 * A target that exits or execs with a map drops it with its mm; the call
 * on a process that has just exec'd finds nothing of the old map.
 */
TEST_F(lazy, target_exits_and_execs_with_a_map)
{
	enum { NPAGES = 64 };
	int o[] = { 0 }, n[] = { 2 }, ready[2], go[2], status;
	struct migrate_pages_stats st;
	pid_t pid;
	char c, *buf;
	int round;

	/* Mapped here, filled by the child: its own pages, none shared. */
	buf = unfilled(self, NPAGES);
	ASSERT_NE(NULL, buf);
	for (round = 0; round < 2; round++) {
		ASSERT_EQ(0, pipe(ready));
		ASSERT_EQ(0, pipe(go));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			if (fill_on(buf, NPAGES, 0, SEED) ||
			    write(ready[1], "r", 1) != 1 ||
			    read(go[0], &c, 1) != 1)
				_exit(1);
			if (round) {
				execl("/bin/true", "true", NULL);
				execl("/bin/busybox", "true", NULL);
				_exit(3);
			}
			_exit(0);
		}
		ASSERT_EQ(1, read(ready[0], &c, 1));
		ASSERT_EQ(0, mp2_call_range(pid, LAZY, o, n, 1, buf, self->len, &st));
		EXPECT_STATS(&st, NPAGES, 0, 0, 0, 0, NPAGES);
		ASSERT_EQ(1, write(go[1], "g", 1));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		close(ready[0]);
		close(ready[1]);
		close(go[0]);
		close(go[1]);
	}
}

TEST_HARNESS_MAIN
