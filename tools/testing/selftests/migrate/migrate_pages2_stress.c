// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2(): stress.  Targets that keep rewriting and checking every
 * word of their memory are moved by several migrators at once while they
 * fork, exit, remap and madvise, while NUMA balancing, khugepaged and KSM
 * run, onto a node with no free memory, with pages pinned by a pipe, and
 * while fuzzers throw random arguments at the call.  A quarter of the
 * moves are lazy (MIGRATE_PAGES2_LAZY): the targets' own rewrites move
 * the pages they mark.
 *
 * Pass: every word every target checks is intact, every failed call carries
 * an errno the specification documents, the counts of every successful call
 * add up, and something actually moved.  Each test runs for
 * $MP2_STRESS_SECONDS (default 3; `make stress` runs longer on a KASAN and
 * kmemleak kernel) and prints its figures.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/uio.h>

#include "../kselftest_harness.h"
#include "helpers.h"

#define MAX_VICTIMS	4
#define MAX_CHILDREN	16
#define STABLE		(8UL << 20)	/* each target's checked memory */
#define SHARED		(4UL << 20)	/* mapped by every target of a test */
#define SHARED_SEED	0x5eedULL

/* What every process of a test adds to; lives in a shared mapping. */
struct board {
	int stop;
	int stop_moving;		/* migrators and fuzzers only */
	int nr_nodes;
	int nr_victims;
	pid_t victim[MAX_VICTIMS];
	char *victim_buf[MAX_VICTIMS];	/* same address in every target */
	pid_t ephemeral;		/* a short-lived target, or 0 */
	unsigned long calls, failed, moved, rounds, verified, bad;
	unsigned long no_memory, busy, split, bad_stats;
	unsigned long undocumented, last_undocumented;
	unsigned long err[256];
};

static struct board *board;
static char *shared_for_victims;	/* set before the targets fork */

static void add(unsigned long *c, unsigned long v)
{
	__atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

static bool stopping(void)
{
	return __atomic_load_n(&board->stop, __ATOMIC_ACQUIRE);
}

static bool moving(void)
{
	return !stopping() && !__atomic_load_n(&board->stop_moving, __ATOMIC_ACQUIRE);
}

static unsigned long rnd(unsigned long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int seconds(void)
{
	const char *e = getenv("MP2_STRESS_SECONDS");

	return e && atoi(e) > 0 ? atoi(e) : 3;
}

/* The errnos of the specification's table. */
static bool documented(int e)
{
	switch (e) {
	case EFAULT: case EINVAL: case E2BIG: case ESRCH: case EBADF:
	case EPERM: case EINTR: case ENOMEM: case EOPNOTSUPP:
		return true;
	}
	return false;
}

/*
 * Account for one call: its errno, or for a success that moved pages, that
 * its counts add up (every scanned page moved or has a reason).
 */
static void account(long r, int err, const struct migrate_pages_stats *st,
		    uint64_t flags)
{
	bool ok;

	add(&board->calls, 1);
	if (r < 0) {
		add(&board->failed, 1);
		add(&board->err[err & 255], 1);
		if (!documented(err)) {
			add(&board->undocumented, 1);
			board->last_undocumented = err;
		}
		return;
	}
	if (!st)
		return;
	add(&board->moved, st->moved);
	add(&board->no_memory, st->no_memory);
	add(&board->busy, st->busy);
	add(&board->split, st->split);
	if (flags & MIGRATE_PAGES2_DRY_RUN)
		ok = !st->moved && !r;
	else
		ok = st->scanned == st->moved + st->shared + st->busy + st->no_memory +
				    st->deferred &&
		     (unsigned long)r == st->shared + st->busy + st->no_memory &&
		     (flags & MIGRATE_PAGES2_LAZY || !st->deferred);
	add(&board->bad_stats, !ok);
}

/* ------------------------------------------------------------ targets */

/*
 * Rewrite every word of buf with the next round's pattern after checking
 * it holds this round's; the shared region is only checked.
 */
/*
 * The churning areas' and the split THP's pattern depends on the offset,
 * not the address: mremap moves the data to a new address.
 */
static uint64_t word(unsigned long i, uint64_t seed)
{
	return i * 0x9e3779b97f4a7c15ULL ^ seed;
}

static void fill(char *p, unsigned long len, uint64_t seed)
{
	unsigned long i;

	for (i = 0; i < len / 8; i++)
		((uint64_t *)p)[i] = word(i, seed);
}

/* Bytes [from, to) of an area filled from p with seed still hold it? */
static bool same(const char *p, unsigned long from, unsigned long to, uint64_t seed)
{
	unsigned long i;

	for (i = from / 8; i < to / 8; i++)
		if (((const uint64_t *)p)[i] != word(i, seed))
			return false;
	return true;
}

/* Check an area survived an operation, and count. */
static bool area_ok(const char *p, unsigned long len, uint64_t seed)
{
	bool ok = same(p, 0, len, seed);

	add(&board->bad, !ok);
	add(&board->verified, len);
	return ok;
}

static char *halves[2];		/* a victim's THP, mapped in two places */

static void *writer(void *arg)
{
	char *buf = arg, *shared = shared_for_victims;
	uint64_t round = 0;

	while (!stopping()) {
		uint64_t *w = (uint64_t *)buf;
		unsigned long i, bad = 0;

		for (i = 0; i < STABLE / 8; i++) {
			bad += w[i] != pattern(&w[i], round);
			w[i] = pattern(&w[i], round + 1);
		}
		if (check_pattern(shared, SHARED / PAGE, SHARED_SEED) >= 0)
			bad++;
		if (halves[0] && (!same(halves[0], 0, THP / 2, SHARED_SEED) ||
				  !same(halves[1] - THP / 2, THP / 2, THP, SHARED_SEED)))
			bad++;
		round++;
		add(&board->bad, bad);
		add(&board->rounds, 1);
		add(&board->verified, STABLE + SHARED);
	}
	return NULL;
}

/*
 * The target changing under the migrators: fork and exit, mremap,
 * mprotect, MADV_DONTNEED, MADV_HUGEPAGE (khugepaged), MADV_MERGEABLE
 * (KSM: identical pages), munmap; each step checks the data it kept.
 */
static void *churn(void *arg)
{
	unsigned long seed = getpid(), len = 4 * THP;

	(void)arg;
	while (!stopping()) {
		char *p = map_anon(len, MAP_PRIVATE), *q;
		pid_t child;
		int status;

		if (!p)
			continue;
		if (rnd(&seed) & 1)
			madvise(p, len, MADV_HUGEPAGE);
		fill(p, len, seed);
		child = fork();
		if (!child) {
			/* Shares p copy-on-write; writes half of it. */
			fill(p, len / 2, ~seed);
			_exit(!same(p, 0, len / 2, ~seed) || !same(p, len / 2, len, seed));
		}
		q = mremap(p, len, 2 * len, MREMAP_MAYMOVE);
		if (q != MAP_FAILED) {
			p = q;
			area_ok(p, len, seed);
			mprotect(p, len, PROT_READ);
			area_ok(p, len, seed);
			mprotect(p, len, PROT_READ | PROT_WRITE);
			madvise(p, THP, MADV_DONTNEED);
			if (p[0] || p[THP - 1])
				add(&board->bad, 1);
			fill(p, THP, seed);
			/* Identical pages for KSM to merge. */
			memset(p + len, 0x6b, len);
			madvise(p + len, len, MADV_MERGEABLE);
			area_ok(p, len, seed);
			len *= 2;
		}
		if (child > 0 && (waitpid(child, &status, 0) != child ||
				  !WIFEXITED(status) || WEXITSTATUS(status)))
			add(&board->bad, 1);
		munmap(p, len);
		len = 4 * THP;
		usleep(1000);
	}
	return NULL;
}

/*
 * A THP whose second half is mremapped 8 MiB away: the walk meets the same
 * folio in two batches, and must count it once.
 */
static void split_thp(void)
{
	char *p = map_anon(8 * THP, MAP_PRIVATE), *huge;

	if (!p)
		return;
	huge = (char *)(((uintptr_t)p + THP - 1) & ~(THP - 1));
	madvise(huge, THP, MADV_HUGEPAGE);
	fill(huge, THP, SHARED_SEED);
	halves[1] = mremap(huge + THP / 2, THP / 2, THP / 2,
			   MREMAP_MAYMOVE | MREMAP_FIXED, huge + 4 * THP + 7 * PAGE);
	if (halves[1] != MAP_FAILED)
		halves[0] = huge;
}

/*
 * A target: its own checked memory at a fixed address, the shared one,
 * and a THP mapped in two places.
 */
static void victim(int idx, bool changing)
{
	pthread_t w, c;
	char *buf = board->victim_buf[idx];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (mmap(buf, STABLE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != buf)
		_exit(1);
	madvise(buf, STABLE / 2, MADV_HUGEPAGE);
	fill_on(buf, STABLE / PAGE, idx % board->nr_nodes, 0);
	/* Map every page of the shared region here too. */
	if (check_pattern(shared_for_victims, SHARED / PAGE, SHARED_SEED) >= 0)
		add(&board->bad, 1);
	split_thp();
	pthread_create(&w, NULL, writer, buf);
	if (changing)
		pthread_create(&c, NULL, churn, NULL);
	pthread_join(w, NULL);
	if (changing)
		pthread_join(c, NULL);
	_exit(0);
}

/* Short-lived targets: map, fill, exit, again, published for migrators. */
static void ephemeral(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	while (!stopping()) {
		pid_t pid = fork();

		if (!pid) {
			char *p = map_anon(4 * THP, MAP_PRIVATE);

			if (p)
				fill(p, 4 * THP, 1);
			usleep(2000);
			_exit(0);
		}
		if (pid < 0)
			break;
		__atomic_store_n(&board->ephemeral, pid, __ATOMIC_RELEASE);
		waitpid(pid, NULL, 0);
	}
	_exit(0);
}

/* ------------------------------------------------------------ migrators */

/* A random map over the nodes: a permutation, or everything to one node. */
static unsigned int random_map(unsigned long *s, int *old, int *new)
{
	int n = board->nr_nodes, i;

	if (rnd(s) % 4 == 0) {
		old[0] = MIGRATE_PAGES2_ANY_NODE;
		new[0] = rnd(s) % n;
		return 1;
	}
	for (i = 0; i < n; i++) {
		old[i] = i;
		new[i] = i;
	}
	for (i = n - 1; i > 0; i--) {
		int j = rnd(s) % (i + 1), t = new[i];

		new[i] = new[j];
		new[j] = t;
	}
	return n;
}

/*
 * Move targets around until told to stop: random maps, random subsets of
 * the targets (overlapping other migrators'), sometimes a range of one
 * target, sometimes the short-lived target too; toward one node if dest is
 * not negative.
 */
static void migrator(int dest)
{
	unsigned long s = getpid() * 2654435761UL;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	while (moving()) {
		int pids[MAX_VICTIMS + 1], old[MAX_TEST_NODES], new[MAX_TEST_NODES];
		struct migrate_pages_stats st;
		struct migrate_pages_args a = {
			.flags = MIGRATE_PAGES2_MOVE_ALL,
			.pids = (uintptr_t)pids,
			.old_nodes = (uintptr_t)old,
			.new_nodes = (uintptr_t)new,
			.stats = (uintptr_t)&st,
		};
		int i, nr = 0;
		long r;

		for (i = 0; i < board->nr_victims; i++)
			if (board->nr_victims == 1 || rnd(&s) & 1)
				pids[nr++] = board->victim[i];
		if (__atomic_load_n(&board->ephemeral, __ATOMIC_ACQUIRE) && rnd(&s) & 1)
			pids[nr++] = __atomic_load_n(&board->ephemeral, __ATOMIC_ACQUIRE);
		if (!nr)
			pids[nr++] = board->victim[0];
		a.nr_pids = nr;
		if (dest >= 0) {
			old[0] = MIGRATE_PAGES2_ANY_NODE;
			new[0] = rnd(&s) % 3 ? dest : (int)(rnd(&s) % board->nr_nodes);
			a.nr_nodes = 1;
		} else {
			a.nr_nodes = random_map(&s, old, new);
		}
		/*
		 * Lazy: everything else to one node, which no chain can hold;
		 * now and then a random map, which LAZY refuses if it chains.
		 */
		if (rnd(&s) % 4 == 0) {
			a.flags |= MIGRATE_PAGES2_LAZY;
			if (rnd(&s) % 4) {
				old[0] = MIGRATE_PAGES2_ANY_NODE;
				new[0] = dest >= 0 ? dest : (int)(rnd(&s) % board->nr_nodes);
				a.nr_nodes = 1;
			}
		}
		if (rnd(&s) % 8 == 0)
			a.flags |= MIGRATE_PAGES2_DRY_RUN;
		/* The caller alone, or with up to 7 helpers. */
		a.workers = rnd(&s) % 9;
		/*
		 * Policies follow random maps; not toward a full node, where a
		 * target's rewritten MPOL_BIND would OOM it, as an mbind() of
		 * its own there would.
		 */
		if (dest < 0 && rnd(&s) % 4 == 0)
			a.flags |= MIGRATE_PAGES2_UPDATE_POLICY;
		if (rnd(&s) % 4 == 0) {
			/* A range of the first target's memory, same address in all. */
			unsigned long off = rnd(&s) % (STABLE / PAGE) * PAGE;

			a.start = (uintptr_t)board->victim_buf[0] + off;
			a.len = rnd(&s) % (STABLE - off) + 1;
		}
		r = sys_migrate_pages2(&a, sizeof(a));
		/* The short-lived target may be gone (ESRCH) or going (EINVAL). */
		account(r, r < 0 ? errno : 0, &st, a.flags);
	}
	_exit(0);
}

/* ------------------------------------------------------------ the fuzzer */

struct fuzz_ctx {
	char *ro;		/* a read-only page */
	char *hole;		/* an unmapped page */
	char *buf;		/* two writable pages */
	int pidfd;		/* of a target */
	int dead_pidfd;		/* of an exited process */
	int file;		/* not a pidfd */
};

static void *fuzz_ptr(unsigned long *s, struct fuzz_ctx *c, void *good)
{
	switch (rnd(s) % 8) {
	case 0: return NULL;
	case 1: return c->hole;
	case 2: return c->ro;
	case 3: return (void *)0xffff888000000000UL;
	case 4: return (char *)good + 1;
	case 5: return c->buf + 2 * PAGE - 4;	/* runs into the hole */
	default: return good;
	}
}

static int fuzz_node(unsigned long *s)
{
	static const int odd[] = { -2, -1, 4, 63, 64, 1023, 1024, INT_MAX, INT_MIN };

	if (rnd(s) % 4)
		return rnd(s) % board->nr_nodes;
	return odd[rnd(s) % ARRAY_SIZE(odd)];
}

static int fuzz_pid(unsigned long *s, struct fuzz_ctx *c, bool pidfd)
{
	static const int odd[] = { 0, -1, 1, 2, INT_MAX, 4194304, 99999 };

	if (pidfd) {
		int fds[] = { c->pidfd, c->dead_pidfd, c->file, -1, 0, 1000 };

		return fds[rnd(s) % ARRAY_SIZE(fds)];
	}
	if (rnd(s) % 2)
		return board->victim[rnd(s) % board->nr_victims];
	return odd[rnd(s) % ARRAY_SIZE(odd)];
}

/* Random calls until told to stop; unprivileged if asked (EPERM paths). */
static void fuzzer(bool unprivileged, int pidfd, int dead_pidfd)
{
	static const size_t sizes[] = { 0, 1, 63, MIGRATE_PAGES_ARGS_SIZE_VER0,
		MIGRATE_PAGES_ARGS_SIZE_VER1, MIGRATE_PAGES_ARGS_SIZE_VER1 + 8, PAGE,
		PAGE + 8, 1UL << 30 };
	static const uint32_t counts[] = { 0, 1, 2, 3, 4, 64, 65, 1024, 1025, ~0U };
	unsigned long s = getpid() * 0x9e3779b97f4a7c15UL;
	struct fuzz_ctx c = { .pidfd = pidfd, .dead_pidfd = dead_pidfd };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	c.buf = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c.buf == MAP_FAILED)
		_exit(1);
	c.ro = c.buf + 3 * PAGE;
	c.hole = c.buf + 2 * PAGE;
	munmap(c.hole, PAGE);
	mprotect(c.ro, PAGE, PROT_READ);
	c.file = open("/proc/self/status", O_RDONLY);
	if (unprivileged && (setgid(65534) || setuid(65534)))
		_exit(1);
	while (moving()) {
		struct migrate_pages_args *a = (void *)c.buf;
		int pids[8], old[8], new[8], i;
		struct migrate_pages_stats *st = (void *)(c.buf + 1024);
		size_t size = sizes[rnd(&s) % ARRAY_SIZE(sizes)];
		char *args = c.buf;
		long r;

		memset(c.buf, 0, 2 * PAGE);
		a->flags = rnd(&s) % 4 ? rnd(&s) & 31 : 1ULL << (rnd(&s) % 64);
		for (i = 0; i < 8; i++) {
			pids[i] = fuzz_pid(&s, &c, a->flags & MIGRATE_PAGES2_PIDFD);
			old[i] = fuzz_node(&s);
			new[i] = fuzz_node(&s);
		}
		a->pids = (uintptr_t)fuzz_ptr(&s, &c, pids);
		a->old_nodes = (uintptr_t)fuzz_ptr(&s, &c, old);
		a->new_nodes = (uintptr_t)fuzz_ptr(&s, &c, new);
		a->stats = rnd(&s) % 4 ? (uintptr_t)fuzz_ptr(&s, &c, st) : 0;
		a->nr_pids = rnd(&s) % 2 ? rnd(&s) % 8 + 1 :
			     counts[rnd(&s) % ARRAY_SIZE(counts)];
		a->nr_nodes = rnd(&s) % 2 ? rnd(&s) % 8 + 1 :
			      counts[rnd(&s) % ARRAY_SIZE(counts)];
		a->workers = rnd(&s) % 2 ? rnd(&s) % 9 :
			     counts[rnd(&s) % ARRAY_SIZE(counts)];
		if (rnd(&s) % 8 == 0)
			a->reserved = rnd(&s);
		if (rnd(&s) % 3 == 0) {
			a->start = rnd(&s) % 2 ? (uintptr_t)board->victim_buf[0] : rnd(&s);
			a->len = rnd(&s) % 2 ? STABLE : rnd(&s);
		}
		if (rnd(&s) % 4 == 0)
			c.buf[MIGRATE_PAGES_ARGS_SIZE_VER0 + rnd(&s) % 64] = 1;
		if (rnd(&s) % 8 == 0)
			args = fuzz_ptr(&s, &c, c.buf);
		r = sys_migrate_pages2(args, size);
		account(r, r < 0 ? errno : 0, NULL, 0);
	}
	_exit(0);
}

/* ------------------------------------------------------------ the tests */

FIXTURE(stress) {
	pid_t child[MAX_CHILDREN];	/* targets and helpers */
	int nr_children;
	pid_t mover[MAX_CHILDREN];	/* migrators and fuzzers */
	int nr_movers;
	bool no_final_check;		/* pages move by other hands too */
	char *shared;
	int hog_node;
};

FIXTURE_SETUP(stress)
{
	int i;

	self->nr_children = 0;
	self->nr_movers = 0;
	self->no_final_check = false;
	self->hog_node = -1;
	board = mmap(NULL, sizeof(*board), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, board);
	memset(board, 0, sizeof(*board));
	board->nr_nodes = nodes_with_memory();
	if (board->nr_nodes < 2)
		SKIP(return, "needs 2 nodes with memory");
	if (board->nr_nodes > MAX_TEST_NODES)
		board->nr_nodes = MAX_TEST_NODES;
	/* Shared by every target of the test: moved only with MOVE_ALL. */
	self->shared = map_anon(SHARED, MAP_SHARED);
	ASSERT_NE(NULL, self->shared);
	ASSERT_EQ(0, fill_on(self->shared, SHARED / PAGE, 0, SHARED_SEED));
	/* One address for every target's memory: found by a reservation. */
	for (i = 0; i < MAX_VICTIMS; i++) {
		char *p = map_anon(STABLE + THP, MAP_PRIVATE);

		ASSERT_NE(NULL, p);
		board->victim_buf[i] = (char *)(((uintptr_t)p + THP - 1) & ~(THP - 1));
	}
}

FIXTURE_TEARDOWN(stress)
{
	int i;

	__atomic_store_n(&board->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < self->nr_movers; i++)
		waitpid(self->mover[i], NULL, 0);
	for (i = 0; i < self->nr_children; i++)
		waitpid(self->child[i], NULL, 0);
	if (self->hog_node >= 0)
		set_node_hugepages(self->hog_node, 0);
}

static pid_t start(struct _test_data_stress *self, void (*fn)(int), int arg)
{
	pid_t pid = fork();

	if (!pid)
		fn(arg);
	if (pid > 0)
		self->child[self->nr_children++] = pid;
	return pid;
}

static void plain_victim(int idx)
{
	victim(idx, false);
}

static void changing_victim(int idx)
{
	victim(idx, true);
}

static void run_ephemeral(int unused)
{
	(void)unused;
	ephemeral();
}

static void targets(struct _test_data_stress *self, int nr, bool changing)
{
	int i;

	shared_for_victims = self->shared;
	board->nr_victims = nr;
	for (i = 0; i < nr; i++)
		board->victim[i] = start(self, changing ? changing_victim : plain_victim, i);
}

/* A migrator or fuzzer: stopped first, before the targets are checked. */
static void start_mover(struct _test_data_stress *self, void (*fn)(int), int arg)
{
	pid_t pid = fork();

	if (!pid)
		fn(arg);
	if (pid > 0)
		self->mover[self->nr_movers++] = pid;
}

/*
 * With the movers stopped and the targets still writing, move each
 * target's memory to node 0 and ask where every page is: every page not
 * there must be one the call counted as busy or without memory.  Not when
 * pages also move by other hands: a target that forks gets fresh pages on
 * its write faults (copy-on-write), and a page NUMA balancing or
 * khugepaged is migrating is neither scanned nor moved by the call.  A
 * lazy map a mover left would be such a hand too (an ordinary call leaves
 * it alone, and a page already on node 0 that it marked moves on the
 * target's next write): identity pairs clear it, and its marks, first.
 */
static void settle(struct __test_metadata *_metadata, struct _test_data_stress *self)
{
	int any[] = { MIGRATE_PAGES2_ANY_NODE }, zero[] = { 0 }, i, status;
	unsigned long counts[MAX_TEST_NODES];
	struct migrate_pages_stats st;

	__atomic_store_n(&board->stop_moving, 1, __ATOMIC_RELEASE);
	for (i = 0; i < self->nr_movers; i++) {
		ASSERT_EQ(self->mover[i], waitpid(self->mover[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	}
	self->nr_movers = 0;
	for (i = 0; i < board->nr_victims && !self->no_final_check; i++) {
		long r = mp2_call_range(board->victim[i], MIGRATE_PAGES2_LAZY,
					zero, zero, 1, NULL, 0, &st);

		ASSERT_EQ(0, r);
		r = mp2_call_range(board->victim[i], MIGRATE_PAGES2_MOVE_ALL,
				   any, zero, 1, board->victim_buf[i], STABLE, &st);
		ASSERT_LE(0, r);
		EXPECT_STATS_CONSISTENT(r, &st);
		ASSERT_EQ(0, count_nodes(board->victim[i], board->victim_buf[i],
					 STABLE / PAGE, counts));
		EXPECT_EQ(STABLE / PAGE - counts[0], st.busy + st.no_memory);
	}
}

/* Stop the children, print the figures, check them. */
static void finish(struct __test_metadata *_metadata, struct _test_data_stress *self)
{
	int i, status;
	char errs[512] = "";
	size_t len = 0;

	settle(_metadata, self);
	__atomic_store_n(&board->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < self->nr_children; i++) {
		ASSERT_EQ(self->child[i], waitpid(self->child[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	}
	self->nr_children = 0;
	for (i = 0; i < 256; i++)
		if (board->err[i])
			len += snprintf(errs + len, sizeof(errs) - len, " %s:%lu",
					strerrorname_np(i) ?: "?", board->err[i]);
	ksft_print_msg("calls %lu (failed %lu:%s), rounds %lu, MiB verified %lu, pages moved %lu\n",
		       board->calls, board->failed, errs, board->rounds,
		       board->verified >> 20, board->moved);
	ksft_print_msg("no_memory %lu, busy %lu, split %lu\n",
		       board->no_memory, board->busy, board->split);
	EXPECT_EQ(0, board->bad);
	EXPECT_EQ(0, board->bad_stats);
	EXPECT_EQ(0, board->undocumented) {
		TH_LOG("undocumented errno %lu", board->last_undocumented);
	}
	EXPECT_LT(0, board->rounds);
	EXPECT_LT(0, board->calls);
}

/* Let the children run for the test's time, then finish. */
static void run_for(struct __test_metadata *_metadata, struct _test_data_stress *self)
{
	sleep(seconds());
	finish(_metadata, self);
}

static void run_migrator(int dest)
{
	migrator(dest);
}

/* nr migrators, moving the targets toward dest (or anywhere if negative). */
static void migrators(struct _test_data_stress *self, int nr, int dest)
{
	while (nr--)
		start_mover(self, run_migrator, dest);
}

/* Several migrators on one target, none of them waiting for the others. */
TEST_F_TIMEOUT(stress, concurrent_migrators, 900)
{
	targets(self, 1, false);
	migrators(self, 3, -1);
	run_for(_metadata, self);
	EXPECT_LT(0, board->moved);
}

/* Jobs that share memory, moved by migrators with overlapping pid lists. */
TEST_F_TIMEOUT(stress, overlapping_jobs, 900)
{
	targets(self, 3, false);
	migrators(self, 3, -1);
	run_for(_metadata, self);
	EXPECT_LT(0, board->moved);
}

/* The target forks, exits, remaps, protects and madvises meanwhile. */
TEST_F_TIMEOUT(stress, changing_targets, 900)
{
	targets(self, 2, true);
	self->no_final_check = true;
	start(self, run_ephemeral, 0);
	migrators(self, 2, -1);
	run_for(_metadata, self);
	EXPECT_LT(0, board->moved);
}

static int write_knob(const char *path, const char *val, char *old, size_t len)
{
	FILE *f = fopen(path, "r");

	if (old) {
		if (!f || !fgets(old, len, f)) {
			if (f)
				fclose(f);
			return -1;
		}
		fclose(f);
	} else if (f) {
		fclose(f);
	}
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(val, f);
	return fclose(f);
}

/* The kernel's own movers at work too: NUMA balancing, khugepaged, KSM. */
TEST_F_TIMEOUT(stress, with_balancing_khugepaged_ksm, 900)
{
	static const char *const knobs[][2] = {
		{ "/proc/sys/kernel/numa_balancing", "1" },
		{ "/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs", "10" },
		{ "/sys/kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs", "10" },
		{ "/sys/kernel/mm/transparent_hugepage/khugepaged/pages_to_scan", "4096" },
		{ "/sys/kernel/mm/ksm/sleep_millisecs", "10" },
		{ "/sys/kernel/mm/ksm/pages_to_scan", "1000" },
		{ "/sys/kernel/mm/ksm/run", "1" },
	};
	static const char ksm_scans[] = "/sys/kernel/mm/ksm/full_scans";
	static const char thp_scans[] =
		"/sys/kernel/mm/transparent_hugepage/khugepaged/full_scans";
	long ksm = read_key(ksm_scans, ""), thp = read_key(thp_scans, "");
	char old[ARRAY_SIZE(knobs)][32];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(knobs); i++)
		if (write_knob(knobs[i][0], knobs[i][1], old[i], sizeof(old[i])))
			SKIP(return, "cannot set %s", knobs[i][0]);

	targets(self, 2, true);
	migrators(self, 2, -1);
	self->no_final_check = true;
	sleep(seconds());
	/* Both scanners must have passed over the targets: wait up to 20 s. */
	for (i = 0; i < 200 && (read_key(ksm_scans, "") <= ksm ||
				read_key(thp_scans, "") <= thp); i++)
		usleep(100000);
	ksm = read_key(ksm_scans, "") - ksm;
	thp = read_key(thp_scans, "") - thp;
	ksft_print_msg("ksm full scans %ld, khugepaged full scans %ld\n", ksm, thp);
	/* KSM last: "2" unmerges every page first. */
	write_knob(knobs[ARRAY_SIZE(knobs) - 1][0], "2", NULL, 0);
	for (i = ARRAY_SIZE(knobs); i-- > 0;)
		write_knob(knobs[i][0], old[i], NULL, 0);
	finish(_metadata, self);
	EXPECT_LT(0, board->moved);
	EXPECT_LT(0, ksm);
	EXPECT_LT(0, thp);
}

/*
 * A destination node with no free page (hugetlb pages and a filler take
 * it all): what cannot move stays where it is, counted as no_memory, data
 * intact.  Then, quietly, one call whose result is checked page by page.
 */
TEST_F_TIMEOUT(stress, full_destination, 900)
{
	int last = board->nr_nodes - 1, o[] = { 0 }, n[] = { last };
	struct migrate_pages_stats st;
	unsigned long counts[MAX_TEST_NODES], filler_len, npages;
	char *p, *filler;
	long r;

	/*
	 * Full before the targets fill their memory elsewhere: huge pages,
	 * then what is left (holes, per-CPU lists) taken by pages moved there.
	 */
	self->hog_node = last;
	ASSERT_EQ(0, set_node_hugepages(last, 1000000));
	filler_len = (node_free_pages(last) + 256) * PAGE;
	filler = map_anon(filler_len, MAP_PRIVATE);
	ASSERT_NE(NULL, filler);
	ASSERT_EQ(0, fill_on(filler, filler_len / PAGE, 0, 3));
	r = mp2_call_range(0, 0, o, n, 1, filler, filler_len, &st);
	ASSERT_LT(0, r);
	EXPECT_STATS_CONSISTENT(r, &st);
	ksft_print_msg("node %d: %llu pages of filler moved there, then full\n",
		       last, (unsigned long long)st.moved);
	targets(self, 2, false);
	migrators(self, 2, last);
	run_for(_metadata, self);
	EXPECT_LT(0, board->no_memory);
	munmap(filler, filler_len);

	/*
	 * Full again (the targets' pages are free now); then, quietly, 4 MiB
	 * more than it has left toward it, checked page by page.
	 */
	ASSERT_EQ(0, set_node_hugepages(last, 1000000));
	npages = node_free_pages(last) + 1024;
	p = map_anon(npages * PAGE, MAP_PRIVATE);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, fill_on(p, npages, 0, 7));
	r = mp2_call_range(0, 0, o, n, 1, p, npages * PAGE, &st);
	ASSERT_LE(0, r);
	ASSERT_EQ(0, count_nodes(0, p, npages, counts));
	EXPECT_EQ(st.moved, counts[last]);
	EXPECT_EQ(st.no_memory + st.busy, counts[0]);
	EXPECT_LT(0, st.no_memory);
	EXPECT_EQ(npages, st.scanned);
	EXPECT_STATS_CONSISTENT(r, &st);
	EXPECT_EQ(-1, check_pattern(p, npages, 7));
	munmap(p, npages * PAGE);
}

/*
 * Pages held by a pipe (vmsplice) cannot move: counted busy, left where
 * they are; once the pipe is read they move.  Other migrators meanwhile.
 */
TEST_F_TIMEOUT(stress, pinned_pages_busy, 900)
{
	enum { NPAGES = 64, PINNED = 32 };
	int o[] = { 0 }, n[] = { 1 }, back[] = { 1 }, zero[] = { 0 }, fds[2];
	unsigned long counts[MAX_TEST_NODES], rounds = 0;
	struct migrate_pages_stats st;
	time_t end = time(NULL) + seconds();
	char *p, sink[PINNED * PAGE];
	long r;

	targets(self, 1, false);
	migrators(self, 1, -1);
	p = map_anon(NPAGES * PAGE, MAP_PRIVATE);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, pipe(fds));
	ASSERT_LE(PINNED * PAGE, fcntl(fds[1], F_SETPIPE_SZ, PINNED * PAGE));
	while (time(NULL) < end) {
		struct iovec iov = { p, PINNED * PAGE };

		ASSERT_EQ(0, fill_on(p, NPAGES, 0, rounds));
		ASSERT_EQ(PINNED * PAGE, vmsplice(fds[1], &iov, 1, 0));
		r = mp2_call_range(0, 0, o, n, 1, p, NPAGES * PAGE, &st);
		ASSERT_LE(0, r);
		EXPECT_STATS_CONSISTENT(r, &st);
		ASSERT_EQ(0, count_nodes(0, p, NPAGES, counts));
		EXPECT_EQ(PINNED, st.busy);
		EXPECT_EQ(NPAGES - PINNED, st.moved);
		EXPECT_EQ(PINNED, counts[0]);
		EXPECT_EQ(NPAGES - PINNED, counts[1]);
		/* Read the pipe: the pages are free to move now. */
		ASSERT_EQ(PINNED * PAGE, read(fds[0], sink, sizeof(sink)));
		r = mp2_call_range(0, 0, o, n, 1, p, NPAGES * PAGE, &st);
		ASSERT_LE(0, r);
		EXPECT_STATS_CONSISTENT(r, &st);
		EXPECT_EQ(PINNED, st.moved);
		EXPECT_EQ(0, st.busy);
		ASSERT_EQ(0, count_nodes(0, p, NPAGES, counts));
		EXPECT_EQ(NPAGES, counts[1]);
		EXPECT_EQ(-1, check_pattern(p, NPAGES, rounds));
		EXPECT_EQ(0, mp2_call_range(0, 0, back, zero, 1, p, NPAGES * PAGE, &st));
		EXPECT_STATS_CONSISTENT(0, &st);
		rounds++;
	}
	ksft_print_msg("pin rounds %lu\n", rounds);
	finish(_metadata, self);
	EXPECT_LT(0, rounds);
	munmap(p, NPAGES * PAGE);
}

static void run_fuzzer(int mode)
{
	pid_t dead = fork();
	int dead_fd, fd = sys_pidfd_open(board->victim[0], 0);

	if (!dead)
		_exit(0);
	dead_fd = sys_pidfd_open(dead, 0);
	waitpid(dead, NULL, 0);
	fuzzer(mode, fd, dead_fd);
}

/* Random arguments from several processes, one of them unprivileged. */
TEST_F_TIMEOUT(stress, fuzzer, 900)
{
	targets(self, 2, false);
	start_mover(self, run_fuzzer, 0);
	start_mover(self, run_fuzzer, 0);
	start_mover(self, run_fuzzer, 1);
	run_for(_metadata, self);
	EXPECT_LT(0, board->failed);
	EXPECT_LT(board->failed, board->calls);
}

TEST_HARNESS_MAIN
