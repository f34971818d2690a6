// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2(): MIGRATE_PAGES2_UPDATE_POLICY.  A target whose memory
 * is bound to the old nodes keeps allocating there after a plain move;
 * with the flag its policies are rewritten through the pairs first.  Each
 * test checks the policy afterwards (the target's /proc/PID/numa_maps, or
 * what a target thread's get_mempolicy() says), where a page faulted in
 * after the call lands, and stats.policies.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "../kselftest_harness.h"
#include "helpers.h"

#define SEED	0x9011cULL

#ifndef MPOL_PREFERRED_MANY
#define MPOL_PREFERRED_MANY	5
#endif
#ifndef MPOL_WEIGHTED_INTERLEAVE
#define MPOL_WEIGHTED_INTERLEAVE	6
#endif
#define MASK(x)	(1UL << (x))

static long sys_get_mempolicy(int *mode, unsigned long *mask)
{
	return syscall(__NR_get_mempolicy, mode, mask, sizeof(*mask) * 8 + 1,
		       NULL, 0);
}

/* Write val to a cgroup's file; -1 on error. */
static int cpuset_write(const char *cg, const char *file, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return write_file(path, val);
}

/* The mode and nodes of the policy at addr, which the caller maps. */
static unsigned long policy_nodes_at(void *addr, int *mode)
{
	unsigned long mask = 0;

	*mode = -1;
	if (syscall(__NR_get_mempolicy, mode, &mask, sizeof(mask) * 8 + 1,
		    addr, MPOL_F_ADDR))
		return ~0UL;
	return mask;
}

/* Lines in /proc/PID/maps: a VMA that splits adds one. */
static long maps_lines(pid_t pid)
{
	static char buf[1 << 16];
	char path[64];
	long lines = 0;
	ssize_t n, i;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid ? pid : getpid());
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return n < 0 ? -1 : lines;
}

static long mp2_policy_call(pid_t pid, uint64_t flags, const int *o,
			    const int *n, unsigned int nr, void *start,
			    unsigned long len, struct migrate_pages_stats *st)
{
	return mp2_call_range(pid, flags | MIGRATE_PAGES2_UPDATE_POLICY, o, n, nr,
			      start, len, st);
}

FIXTURE(policy) {
	char *buf;
	unsigned long len;
	char pol[256];
};

/* Both fixtures' teardown: unmap, unbind, and no page left isolated. */
static unsigned long unmap_and_unbind(char *buf, unsigned long len)
{
	if (buf)
		munmap(buf, len);
	bind_to(-1);
	return mp2_isolated_leaks;
}

FIXTURE_SETUP(policy)
{
	self->buf = NULL;
	if (nodes_with_memory() < 4)
		SKIP(return, "needs 4 nodes with memory");
	mp2_fixture_setup(0);
}

FIXTURE_TEARDOWN(policy)
{
	EXPECT_EQ(0, unmap_and_unbind(self->buf, self->len));
}

/* npages bound by mode/nodes, the first half touched. */
static char *bound(unsigned long npages, int mode, unsigned long nodes,
		   unsigned int mflags, unsigned long *len)
{
	char *p = map_anon(npages * PAGE, MAP_PRIVATE);
	unsigned long i;

	if (!p || sys_mbind(p, npages * PAGE, mode | mflags, nodes, 0))
		return NULL;
	for (i = 0; i < npages / 2; i++)
		p[i * PAGE] = 1;
	*len = npages * PAGE;
	return p;
}

/* MPOL_BIND {0} moved 0 -> 2: the policy says 2, and a new page lands there. */
TEST_F(policy, bind_follows_the_move)
{
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;

	self->buf = bound(64, MPOL_BIND, MASK(0), 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, pages_on(0, self->buf, 32, 0) - 32);
	ASSERT_EQ(0, mp2_policy_call(0, 0, o, n, 1, self->buf, self->len, &st));
	EXPECT_EQ(1, st.policies);
	EXPECT_STATS(&st, 32, 32, 0, 0, 0);
	EXPECT_EQ(32, pages_on(0, self->buf, 32, 2));
	policy_at(0, self->buf, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:2", self->pol);
	/* A page faulted in now follows the move. */
	self->buf[40 * PAGE] = 1;
	EXPECT_EQ(2, page_node(self->buf + 40 * PAGE));
}

/* Without the flag the policy stays, and a new page lands on the old node. */
TEST_F(policy, without_the_flag_new_pages_go_back)
{
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;

	self->buf = bound(64, MPOL_BIND, MASK(0), 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, mp2_call_range(0, 0, o, n, 1, self->buf, self->len, &st));
	EXPECT_EQ(0, st.policies);
	EXPECT_STATS(&st, 32, 32, 0, 0, 0);
	EXPECT_EQ(32, pages_on(0, self->buf, 32, 2));
	policy_at(0, self->buf, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:0", self->pol);
	self->buf[40 * PAGE] = 1;
	EXPECT_EQ(0, page_node(self->buf + 40 * PAGE));
}

/* A swap with bind:0 and bind:1 on two VMAs: they swap. */
TEST_F(policy, swap_swaps_policies)
{
	int o[] = { 0, 1 }, n[] = { 1, 0 };
	struct migrate_pages_stats st;
	char *b;

	self->len = 32 * PAGE;
	self->buf = map_anon(self->len, MAP_PRIVATE);
	ASSERT_NE(NULL, self->buf);
	b = self->buf + 16 * PAGE;
	ASSERT_EQ(0, sys_mbind(self->buf, 16 * PAGE, MPOL_BIND, MASK(0), 0));
	ASSERT_EQ(0, sys_mbind(b, 16 * PAGE, MPOL_BIND, MASK(1), 0));
	memset(self->buf, 1, 8 * PAGE);
	memset(b, 1, 8 * PAGE);
	ASSERT_EQ(0, mp2_policy_call(0, 0, o, n, 2, self->buf, self->len, &st));
	EXPECT_EQ(2, st.policies);
	EXPECT_STATS(&st, 16, 16, 0, 0, 0);
	policy_at(0, self->buf, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:1", self->pol);
	policy_at(0, b, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:0", self->pol);
	EXPECT_EQ(8, pages_on(0, self->buf, 8, 1));
	EXPECT_EQ(8, pages_on(0, b, 8, 0));
}

/* Many to one: interleave:0-1 with {0->3, 1->3} interleaves on 3 alone. */
TEST_F(policy, many_to_one_collapses)
{
	int o[] = { 0, 1 }, n[] = { 3, 3 };
	struct migrate_pages_stats st;

	self->buf = bound(32, MPOL_INTERLEAVE, MASK(0) | MASK(1), 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, mp2_policy_call(0, 0, o, n, 2, self->buf, self->len, &st));
	EXPECT_EQ(1, st.policies);
	EXPECT_STATS(&st, 16, 16, 0, 0, 0);
	policy_at(0, self->buf, self->pol, sizeof(self->pol));
	EXPECT_STREQ("interleave:3", self->pol);
	EXPECT_EQ(16, pages_on(0, self->buf, 16, 3));
	self->buf[20 * PAGE] = 1;
	EXPECT_EQ(3, page_node(self->buf + 20 * PAGE));
}

/* A range covering half a VMA: the VMA splits, only that half changes. */
TEST_F(policy, range_splits_the_vma)
{
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	char *half;

	self->buf = bound(32, MPOL_BIND, MASK(0), 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	half = self->buf + 16 * PAGE;
	memset(half, 2, 4 * PAGE);
	ASSERT_EQ(0, mp2_policy_call(0, 0, o, n, 1, half, 16 * PAGE, &st));
	EXPECT_EQ(1, st.policies);
	EXPECT_STATS(&st, 4, 4, 0, 0, 0);
	policy_at(0, self->buf, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:0", self->pol);
	policy_at(0, half, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:2", self->pol);
	EXPECT_EQ(16, pages_on(0, self->buf, 16, 0));
	EXPECT_EQ(4, pages_on(0, half, 4, 2));
}

/* Default and local policies have no nodes: untouched, not counted. */
TEST_F(policy, default_and_local_untouched)
{
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;
	char *local;

	self->len = 32 * PAGE;
	self->buf = map_anon(self->len, MAP_PRIVATE);
	ASSERT_NE(NULL, self->buf);
	local = self->buf + 16 * PAGE;
	ASSERT_EQ(0, sys_mbind(local, 16 * PAGE, MPOL_LOCAL, 0, 0));
	ASSERT_EQ(0, mp2_policy_call(0, 0, o, n, 1, self->buf, self->len, &st));
	EXPECT_EQ(0, st.policies);
	/* Nothing was ever touched there: no page to find. */
	EXPECT_STATS(&st, 0, 0, 0, 0, 0);
	policy_at(0, self->buf, self->pol, sizeof(self->pol));
	EXPECT_STREQ("default", self->pol);
	policy_at(0, local, self->pol, sizeof(self->pol));
	EXPECT_STREQ("local", self->pol);
}

/* DRY_RUN counts what would be rewritten and rewrites nothing. */
TEST_F(policy, dry_run_counts_only)
{
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;

	self->buf = bound(32, MPOL_BIND, MASK(0), 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, mp2_policy_call(0, MIGRATE_PAGES2_DRY_RUN, o, n, 1, self->buf,
				     self->len, &st));
	EXPECT_EQ(1, st.policies);
	EXPECT_DRY_STATS(&st, 16, 0, 0, 0, 0);
	policy_at(0, self->buf, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:0", self->pol);
	EXPECT_EQ(16, pages_on(0, self->buf, 16, 0));
}

/*
 * The task policy of every thread, on a whole-mm call; a range call
 * leaves task policies alone.  Three threads bound to 0, 1 and 2 report
 * their policy on demand.
 */
struct teller {
	int node;			/* bound here at start */
	int ask[2], answer[2];
};

static void *tell_policy(void *arg)
{
	struct teller *t = arg;
	unsigned long mask = MASK(t->node);
	char c;

	if (sys_set_mempolicy(MPOL_BIND, &mask, sizeof(mask) * 8 + 1))
		return NULL;
	while (read(t->ask[0], &c, 1) == 1) {
		int mode = -1;

		mask = 0;
		sys_get_mempolicy(&mode, &mask);
		if (write(t->answer[1], &mask, sizeof(mask)) != sizeof(mask))
			break;
	}
	return NULL;
}

static unsigned long ask(struct teller *t)
{
	unsigned long mask = 0;

	if (write(t->ask[1], "?", 1) != 1 ||
	    read(t->answer[0], &mask, sizeof(mask)) != sizeof(mask))
		return ~0UL;
	return mask;
}

static void thread_target(int go, int done)
{
	struct teller t[3];
	pthread_t th[3];
	int i;
	char c;

	for (i = 0; i < 3; i++) {
		t[i].node = i;
		if (pipe(t[i].ask) || pipe(t[i].answer) ||
		    pthread_create(&th[i], NULL, tell_policy, &t[i]))
			_exit(1);
	}
	/* Each round: report the three threads' node masks. */
	while (read(go, &c, 1) == 1) {
		unsigned long masks[3];

		for (i = 0; i < 3; i++)
			masks[i] = ask(&t[i]);
		if (write(done, masks, sizeof(masks)) != sizeof(masks))
			_exit(1);
	}
	_exit(0);
}

TEST_F(policy, task_policy_of_every_thread)
{
	int o[] = { 0, 1 }, n[] = { 2, 3 }, go[2], done[2];
	struct migrate_pages_stats st;
	unsigned long masks[3];
	pid_t child;
	long r;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	child = fork();
	if (!child)
		thread_target(go[0], done[1]);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(sizeof(masks), read(done[0], masks, sizeof(masks)));
	ASSERT_EQ(MASK(0), masks[0]);
	ASSERT_EQ(MASK(1), masks[1]);

	/* A range call: task policies stay. */
	self->len = PAGE;
	self->buf = map_anon(self->len, MAP_PRIVATE);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, mp2_policy_call(child, 0, o, n, 2, self->buf, self->len, &st));
	EXPECT_EQ(0, st.policies);
	/* What the child has at that address is its own (a thread's stack?). */
	EXPECT_STATS_CONSISTENT(0, &st);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(sizeof(masks), read(done[0], masks, sizeof(masks)));
	EXPECT_EQ(MASK(0), masks[0]);

	/*
	 * The whole mm: the three threads' policies (2 stays: not a source).
	 * Pages the child still shares with us after fork() stay (shared).
	 */
	r = mp2_policy_call(child, 0, o, n, 2, NULL, 0, &st);
	ASSERT_LE(0, r);
	EXPECT_EQ(2, st.policies);
	/* How many of its pages it still shares with us is up to libc. */
	EXPECT_STATS_CONSISTENT(r, &st);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(sizeof(masks), read(done[0], masks, sizeof(masks)));
	EXPECT_EQ(MASK(2), masks[0]);
	EXPECT_EQ(MASK(3), masks[1]);
	EXPECT_EQ(MASK(2), masks[2]);
	reap(child);
}

/*
 * Threads created while the call rewrites task policies: a clone copies
 * its creator's policy well before it joins the thread list, so a thread
 * copied before its creator was rewritten, and listed after the rewrite
 * went by, would keep the old policy.  Four threads of the target keep
 * creating threads (which wait, then report their policy) while the call
 * runs; every thread alive after it must be on the new node.  Many
 * threads, several rounds.
 */
struct cloner_state {
	int go, stop;
	int created, checked, old;
};

static struct cloner_state *cs;

static void *report_policy(void *arg)
{
	unsigned long mask = 0;
	int mode = -1;

	while (!__atomic_load_n(&cs->stop, __ATOMIC_ACQUIRE))
		usleep(1000);
	sys_get_mempolicy(&mode, &mask);
	if (mask != MASK(1))
		__atomic_fetch_add(&cs->old, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&cs->checked, 1, __ATOMIC_RELEASE);
	return arg;
}

static void *clone_threads(void *arg)
{
	enum { PER_CLONER = 100 };
	pthread_t th[PER_CLONER];
	pthread_attr_t attr;
	int i, n = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	while (!__atomic_load_n(&cs->go, __ATOMIC_ACQUIRE))
		;
	while (n < PER_CLONER && !__atomic_load_n(&cs->stop, __ATOMIC_ACQUIRE)) {
		if (pthread_create(&th[n], &attr, report_policy, NULL))
			break;
		n++;
		__atomic_fetch_add(&cs->created, 1, __ATOMIC_RELEASE);
	}
	report_policy(NULL);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return arg;
}

static void cloning_target(void)
{
	unsigned long mask = MASK(0);
	pthread_t th[4];
	int i;

	if (sys_set_mempolicy(MPOL_BIND, &mask, sizeof(mask) * 8 + 1))
		_exit(1);
	for (i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, clone_threads, NULL))
			_exit(1);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	_exit(0);
}

/* Minutes, not the default 30 s, on a KASAN kernel under TCG. */
TEST_F_TIMEOUT(policy, threads_created_during_the_call, 600)
{
	enum { ROUNDS = 12 };
	int o[] = { 0 }, n[] = { 1 }, round, missed = 0, status;
	struct migrate_pages_stats st;
	pid_t child;

	cs = mmap(NULL, sizeof(*cs), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cs);
	for (round = 0; round < ROUNDS; round++) {
		memset(cs, 0, sizeof(*cs));
		child = fork();
		if (!child)
			cloning_target();
		ASSERT_LT(0, child);
		/* Let the cloners start, then rewrite while they clone. */
		__atomic_store_n(&cs->go, 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(&cs->created, __ATOMIC_ACQUIRE) < 40)
			usleep(100);
		ASSERT_LE(0, mp2_policy_call(child, 0, o, n, 1, NULL, 0, &st));
		__atomic_store_n(&cs->stop, 1, __ATOMIC_RELEASE);
		ASSERT_EQ(child, waitpid(child, &status, 0));
		ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
		/* Every thread reported: the created ones and the cloners. */
		ASSERT_EQ(cs->created + 4, cs->checked);
		EXPECT_LT(0, st.policies);
		if (cs->old)
			TH_LOG("round %d: %d of %d threads kept the old policy",
			       round, cs->old, cs->checked);
		missed += cs->old;
	}
	EXPECT_EQ(0, missed);
	munmap(cs, sizeof(*cs));
}

/*
 * A shmem shared policy: two processes map the same memfd and one
 * mbind()s it; moving the other rewrites the file's policy, which both
 * see.
 */
TEST_F(policy, shmem_shared_policy)
{
	int o[] = { 0 }, n[] = { 2 }, fd = memfd_create("mp2-policy", 0);
	struct migrate_pages_stats st;
	pid_t other;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 32 * PAGE));
	self->len = 32 * PAGE;
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, sys_mbind(self->buf, self->len, MPOL_BIND, MASK(0), 0));
	memset(self->buf, 3, 16 * PAGE);
	other = spawn_mapper(self->buf, 16);
	ASSERT_LT(0, other);
	policy_at(other, self->buf, self->pol, sizeof(self->pol));
	ASSERT_STREQ("bind:0", self->pol);
	ASSERT_EQ(0, mp2_policy_call(other, MIGRATE_PAGES2_MOVE_ALL, o, n, 1,
				     self->buf, self->len, &st));
	EXPECT_EQ(1, st.policies);
	EXPECT_STATS(&st, 16, 16, 0, 0, 0);
	policy_at(other, self->buf, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:2", self->pol);
	policy_at(0, self->buf, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:2", self->pol);
	EXPECT_EQ(16, pages_on(0, self->buf, 16, 2));
	EXPECT_EQ(16, pages_on(other, self->buf, 16, 2));
	/* A new page of the file follows the move, whoever faults it. */
	self->buf[24 * PAGE] = 1;
	EXPECT_EQ(2, page_node(self->buf + 24 * PAGE));
	reap(other);
	close(fd);
}

/*
 * A file's shared policy that differs within one mapping: with MOVE_ALL
 * the other process's VMA is rewritten range by range (two policies
 * here), on the file, and stays one VMA.
 */
TEST_F(policy, shmem_shared_policy_ranges)
{
	int o[] = { 0, 1 }, n[] = { 2, 3 }, fd = memfd_create("mp2-ranges", 0);
	struct migrate_pages_stats st;
	char *second;
	pid_t other;
	long lines;
	int mode;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 32 * PAGE));
	self->len = 32 * PAGE;
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	second = self->buf + 16 * PAGE;
	/* Mapped before the policies are set: the other VMA stays whole. */
	other = spawn_mapper(self->buf, 0);
	ASSERT_LT(0, other);
	ASSERT_EQ(0, sys_mbind(self->buf, 16 * PAGE, MPOL_BIND, MASK(0), 0));
	ASSERT_EQ(0, sys_mbind(second, 16 * PAGE, MPOL_BIND, MASK(1), 0));
	lines = maps_lines(other);
	ASSERT_LT(0, lines);
	ASSERT_EQ(0, mp2_policy_call(other, MIGRATE_PAGES2_MOVE_ALL, o, n, 2,
				     self->buf, self->len, &st));
	EXPECT_EQ(2, st.policies);
	EXPECT_EQ(lines, maps_lines(other));
	/* The file has no page yet. */
	EXPECT_STATS(&st, 0, 0, 0, 0, 0);
	/* Its one VMA's numa_maps line shows the policy at its start. */
	policy_at(other, self->buf, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:2", self->pol);
	/* The file's, page by page, through the test's own mapping. */
	EXPECT_EQ(MASK(2), policy_nodes_at(self->buf + 15 * PAGE, &mode));
	EXPECT_EQ(MASK(3), policy_nodes_at(second, &mode));
	EXPECT_EQ(MASK(3), policy_nodes_at(second + 15 * PAGE, &mode));
	policy_at(0, second, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:3", self->pol);
	second[PAGE] = 1;
	EXPECT_EQ(3, page_node(second + PAGE));
	reap(other);
	close(fd);
}

/* Set a failslab knob to val, its old value ("Y", "N", a number) in old. */
static int failslab_knob(const char *knob, const char *val, char *old, size_t size)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/failslab/%s", knob);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, old, size - 1);
	close(fd);
	old[n > 0 ? n : 0] = 0;
	old[strcspn(old, "\n")] = 0;
	return write_file(path, val);
}

/*
 * The policy pass can fail (a VMA split needs memory): every slab
 * allocation of the call is made to fail in turn (fail-nth; failslab
 * told to fail sleeping allocations too, quietly) until the call
 * succeeds; each failure is ENOMEM with no page moved and the data intact.
 */
TEST_F(policy, allocation_failures_move_nothing)
{
	int o[] = { 0 }, n[] = { 2 }, i, failures = 0;
	char path[64], wait_was[16], verbose_was[16];
	struct migrate_pages_stats st;
	char *half;
	long r = -1;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth", syscall(__NR_gettid));
	if (access(path, W_OK) || access("/sys/kernel/debug/failslab", F_OK))
		SKIP(return, "needs CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_DEBUG_FS");
	ASSERT_EQ(0, failslab_knob("ignore-gfp-wait", "N", wait_was, sizeof(wait_was)));
	ASSERT_EQ(0, failslab_knob("verbose", "0", verbose_was, sizeof(verbose_was)));
	self->buf = bound(32, MPOL_BIND, MASK(0), 0, &self->len);
	ASSERT_NE(NULL, self->buf);
	half = self->buf + 16 * PAGE;
	ASSERT_EQ(0, fill_on(self->buf, 16, 0, SEED));
	mp2_watch_isolated = false;	/* its own files would take the failures */
	for (i = 1; i < 200 && r; i++) {
		char nth[16];
		int fail = open(path, O_WRONLY), err;

		ASSERT_LE(0, fail);
		snprintf(nth, sizeof(nth), "%d", i);
		ASSERT_EQ((ssize_t)strlen(nth), write(fail, nth, strlen(nth)));
		/* Half the VMA: the policy pass has to split it. */
		r = mp2_policy_call(0, 0, o, n, 1, self->buf, 16 * PAGE, &st);
		err = errno;
		ASSERT_EQ(1, write(fail, "0", 1));
		close(fail);
		/* Past the policy pass: a page allocation may fail (no_memory). */
		if (r >= 0) {
			EXPECT_STATS_CONSISTENT(r, &st);
			break;
		}
		EXPECT_EQ(ENOMEM, err);
		EXPECT_EQ(16, pages_on(0, self->buf, 16, 0));
		failures++;
	}
	failslab_knob("ignore-gfp-wait", wait_was, path, sizeof(path));
	failslab_knob("verbose", verbose_was, path, sizeof(path));
	EXPECT_LE(0, r);
	EXPECT_LT(0, failures);
	EXPECT_EQ(16, pages_on(0, self->buf, 16, 0) + pages_on(0, self->buf, 16, 2));
	EXPECT_EQ(-1, check_pattern(self->buf, 16, SEED));
	policy_at(0, self->buf, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:2", self->pol);
	policy_at(0, half, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:0", self->pol);
	TH_LOG("%d allocations of the call failed in turn, each with nothing moved",
	       failures);
}

/* Every mode with nodes, and the flags, rewritten node by node. */
FIXTURE(modes) {
	char *buf;
	unsigned long len;
	char pol[256];
};

FIXTURE_VARIANT(modes) {
	int mode;
	unsigned int mflags;
	unsigned long nodes;
	const char *before, *after;	/* numa_maps' policy column */
	int first_node_after;		/* where a new page lands, -1: don't check */
};

/* Pairs {0 -> 2, 1 -> 3}: node 2 is not a source and stays. */
FIXTURE_VARIANT_ADD(modes, preferred) {
	.mode = MPOL_PREFERRED, .nodes = MASK(1),
	.before = "prefer:1", .after = "prefer:3", .first_node_after = 3 };
FIXTURE_VARIANT_ADD(modes, preferred_many) {
	.mode = MPOL_PREFERRED_MANY, .nodes = MASK(0) | MASK(2),
	.before = "prefer (many):0,2", .after = "prefer (many):2",
	.first_node_after = 2 };
FIXTURE_VARIANT_ADD(modes, interleave) {
	.mode = MPOL_INTERLEAVE, .nodes = MASK(0) | MASK(1),
	.before = "interleave:0-1", .after = "interleave:2-3",
	.first_node_after = -1 };
FIXTURE_VARIANT_ADD(modes, weighted_interleave) {
	.mode = MPOL_WEIGHTED_INTERLEAVE, .nodes = MASK(0) | MASK(1),
	.before = "weighted interleave:0-1", .after = "weighted interleave:2-3",
	.first_node_after = -1 };
FIXTURE_VARIANT_ADD(modes, bind_static) {
	.mode = MPOL_BIND, .mflags = MPOL_F_STATIC_NODES, .nodes = MASK(0),
	.before = "bind=static:0", .after = "bind=static:2", .first_node_after = 2 };
FIXTURE_VARIANT_ADD(modes, bind_relative) {
	.mode = MPOL_BIND, .mflags = MPOL_F_RELATIVE_NODES, .nodes = MASK(1),
	.before = "bind=relative:1", .after = "bind=relative:3",
	.first_node_after = 3 };

FIXTURE_SETUP(modes)
{
	self->buf = NULL;
	if (nodes_with_memory() < 4)
		SKIP(return, "needs 4 nodes with memory");
	mp2_fixture_setup(0);
}

FIXTURE_TEARDOWN(modes)
{
	EXPECT_EQ(0, unmap_and_unbind(self->buf, self->len));
}

TEST_F(modes, rewritten_node_by_node)
{
	int o[] = { 0, 1 }, n[] = { 2, 3 };
	unsigned long counts[MAX_TEST_NODES];
	struct migrate_pages_stats st;
	int node, want;

	self->buf = bound(32, variant->mode, variant->nodes, variant->mflags, &self->len);
	if (!self->buf && errno == EINVAL)
		SKIP(return, "this kernel lacks the mode");
	ASSERT_NE(NULL, self->buf);
	policy_at(0, self->buf, self->pol, sizeof(self->pol));
	ASSERT_STREQ(variant->before, self->pol);
	/* Where the mode put the pages: those on 0 and 1 move. */
	ASSERT_EQ(0, count_nodes(0, self->buf, 16, counts));
	ASSERT_EQ(0, mp2_policy_call(0, 0, o, n, 2, self->buf, self->len, &st));
	EXPECT_EQ(1, st.policies);
	EXPECT_STATS(&st, counts[0] + counts[1], counts[0] + counts[1], 0, 0, 0);
	policy_at(0, self->buf, self->pol, sizeof(self->pol));
	EXPECT_STREQ(variant->after, self->pol);
	EXPECT_EQ(0, pages_on(0, self->buf, 16, 0) + pages_on(0, self->buf, 16, 1));
	self->buf[20 * PAGE] = 1;
	node = page_node(self->buf + 20 * PAGE);
	/* Interleaving: either new node will do. */
	want = variant->first_node_after;
	if (want < 0)
		want = node == 3 ? 3 : 2;
	EXPECT_EQ(want, node);
}

/*
 * As nobody, under ptrace_scope = 2: the caller's own child's pages move,
 * but its policies may not be rewritten.  Returns 0, or the failed step.
 */
static int attach_case(void)
{
	int o[] = { 0 }, n[] = { 1 }, ret = 0;
	struct migrate_pages_stats st;
	unsigned long len;
	char pol[64];
	char *buf;
	pid_t b;

	/* Dropping root leaves the process undumpable: none could read it. */
	if (setgid(65534) || setuid(65534) || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return 1;
	buf = bound(32, MPOL_BIND, MASK(0), 0, &len);
	if (!buf)
		return 2;
	/* The child's own copies of the 32 pages, on node 0. */
	b = spawn_toucher(buf, 32, 0, 0x5eed);
	if (b < 0)
		return 3;
	if (pages_on(b, buf, 32, 0) != 32)
		ret = 4;
	else if (mp2_policy_call(b, 0, o, n, 1, buf, len, &st) != -1 || errno != EPERM)
		ret = 5;
	else if (pages_on(b, buf, 32, 0) != 32)
		ret = 6;
	if (!ret) {
		policy_at(b, buf, pol, sizeof(pol));
		if (strcmp(pol, "bind:0"))
			ret = 7;
	}
	if (!ret && mp2_call_range(b, 0, o, n, 1, buf, len, &st))
		ret = 8;
	else if (!ret && (pages_on(b, buf, 32, 1) != 32 || st.scanned != 32 ||
			  st.moved != 32 || st.policies))
		ret = 9;
	reap(b);
	return ret;
}

/*
 * UPDATE_POLICY changes how a target behaves from then on: it takes ptrace
 * attach rights on every target, where moving takes read rights.  The two
 * differ under an LSM: with Yama's ptrace_scope = 2 (attach only with
 * CAP_SYS_PTRACE), an unprivileged caller still moves its own child's
 * pages, but is refused the policy rewrite, with nothing rewritten and
 * nothing moved.
 */
TEST(update_policy_needs_ptrace_attach)
{
	int step;

	if (nodes_with_memory() < 4)
		SKIP(return, "needs 4 nodes with memory");
	step = with_ptrace_scope_2(attach_case);
	ASSERT_NE(-1, step) {
		TH_LOG("no %s, or it cannot be set", YAMA_SCOPE);
	}
	EXPECT_EQ(0, step) {
		TH_LOG("step %d of attach_case() failed", step);
	}
}

/*
 * A file whose shared policy places every mapper's pages: a memfd, or a
 * SysV SHM segment (over shmem).  The test maps it, binds all of it to
 * node 0 and faults 8 pages in at page 16; a child maps it too (fork) and
 * is the target.
 */
#define SHARED_PAGES	64

FIXTURE(shared) {
	char *buf;
	int fd, shmid;
	pid_t other;
};

FIXTURE_VARIANT(shared) {
	bool sysv;
};

FIXTURE_VARIANT_ADD(shared, memfd) { .sysv = false };
FIXTURE_VARIANT_ADD(shared, sysv_shm) { .sysv = true };

FIXTURE_SETUP(shared)
{
	unsigned long len = SHARED_PAGES * PAGE;

	self->buf = NULL;
	self->fd = -1;
	self->shmid = -1;
	self->other = -1;
	if (nodes_with_memory() < 4)
		SKIP(return, "needs 4 nodes with memory");
	mp2_fixture_setup(0);
	if (variant->sysv) {
		self->shmid = shmget(IPC_PRIVATE, len, IPC_CREAT | 0600);
		ASSERT_LE(0, self->shmid);
		self->buf = shmat(self->shmid, NULL, 0);
		ASSERT_NE((void *)-1, self->buf);
	} else {
		self->fd = memfd_create("mp2-shared", 0);
		ASSERT_LE(0, self->fd);
		ASSERT_EQ(0, ftruncate(self->fd, len));
		self->buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
				 self->fd, 0);
		ASSERT_NE(MAP_FAILED, self->buf);
	}
	ASSERT_EQ(0, sys_mbind(self->buf, len, MPOL_BIND, MASK(0), 0));
	memset(self->buf + 16 * PAGE, 1, 8 * PAGE);
	ASSERT_EQ(8, pages_on(0, self->buf + 16 * PAGE, 8, 0));
	self->other = spawn_mapper(self->buf + 16 * PAGE, 8);
	ASSERT_LT(0, self->other);
}

FIXTURE_TEARDOWN(shared)
{
	if (self->other > 0)
		reap(self->other);
	if (self->buf && variant->sysv)
		shmdt(self->buf);
	else if (self->buf)
		munmap(self->buf, SHARED_PAGES * PAGE);
	if (self->shmid >= 0)
		shmctl(self->shmid, IPC_RMID, NULL);
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, mp2_isolated_leaks);
}

/*
 * Without MOVE_ALL a shared policy is not the target's to rewrite: the
 * file keeps it (the next page faulted in lands on node 0), the target's
 * VMA stays whole and nothing is counted.  Its pages are mapped twice:
 * they stay too.
 */
TEST_F(shared, left_alone_without_move_all)
{
	int o[] = { 0 }, n[] = { 2 }, mode;
	struct migrate_pages_stats st;
	long lines = maps_lines(self->other);

	ASSERT_LT(0, lines);
	ASSERT_EQ(8, mp2_policy_call(self->other, 0, o, n, 1, self->buf,
				     SHARED_PAGES * PAGE, &st));
	EXPECT_EQ(0, st.policies);
	EXPECT_STATS(&st, 8, 0, 8, 0, 0);
	EXPECT_EQ(lines, maps_lines(self->other));
	EXPECT_EQ(MASK(0), policy_nodes_at(self->buf + 32 * PAGE, &mode));
	EXPECT_EQ(MPOL_BIND, mode);
	self->buf[32 * PAGE] = 1;
	EXPECT_EQ(0, page_node(self->buf + 32 * PAGE));
	EXPECT_EQ(8, pages_on(0, self->buf + 16 * PAGE, 8, 0));
}

/*
 * With MOVE_ALL, the file's policy is rewritten for the part of the file
 * the range maps in the target (pages 8-39 here), on the file's tree:
 * the rest of the file keeps its policy, and the target's VMA is not
 * split (its maps has as many lines as before).
 */
TEST_F(shared, rewritten_on_the_file_with_move_all)
{
	int o[] = { 0 }, n[] = { 2 }, mode;
	struct migrate_pages_stats st;
	long lines = maps_lines(self->other);

	ASSERT_LT(0, lines);
	ASSERT_EQ(0, mp2_policy_call(self->other, MIGRATE_PAGES2_MOVE_ALL, o, n, 1,
				     self->buf + 8 * PAGE, 32 * PAGE, &st));
	EXPECT_EQ(1, st.policies);
	EXPECT_STATS(&st, 8, 8, 0, 0, 0);
	EXPECT_EQ(lines, maps_lines(self->other));
	EXPECT_EQ(MASK(0), policy_nodes_at(self->buf + 7 * PAGE, &mode));
	EXPECT_EQ(MASK(2), policy_nodes_at(self->buf + 8 * PAGE, &mode));
	EXPECT_EQ(MASK(2), policy_nodes_at(self->buf + 39 * PAGE, &mode));
	EXPECT_EQ(MASK(0), policy_nodes_at(self->buf + 40 * PAGE, &mode));
	EXPECT_EQ(MPOL_BIND, mode);
	/* Whoever faults the file's pages in: the test here. */
	self->buf[32 * PAGE] = 1;
	EXPECT_EQ(2, page_node(self->buf + 32 * PAGE));
	self->buf[48 * PAGE] = 1;
	EXPECT_EQ(0, page_node(self->buf + 48 * PAGE));
	EXPECT_EQ(8, pages_on(0, self->buf + 16 * PAGE, 8, 2));
}

/*
 * The file mapped twice in the target (the test itself here), pairs
 * swapping 0 and 1: the file's policy is rewritten once, 0 -> 1, not
 * swapped back through the second mapping.
 */
TEST_F(shared, mapped_twice_rewritten_once)
{
	unsigned long len = SHARED_PAGES * PAGE;
	int o[] = { 0, 1 }, n[] = { 1, 0 }, mode;
	struct migrate_pages_stats st;
	char *two, *a, *b;

	two = mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	if (variant->sysv) {
		a = shmat(self->shmid, two, SHM_REMAP);
		b = shmat(self->shmid, two + len, SHM_REMAP);
	} else {
		a = mmap(two, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
			 self->fd, 0);
		b = mmap(two + len, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, self->fd, 0);
	}
	ASSERT_EQ(two, a);
	ASSERT_EQ(two + len, b);
	ASSERT_EQ(0, mp2_policy_call(0, MIGRATE_PAGES2_MOVE_ALL, o, n, 2, two,
				     2 * len, &st));
	EXPECT_EQ(1, st.policies);
	/* Neither mapping of the range has a page mapped. */
	EXPECT_STATS(&st, 0, 0, 0, 0, 0);
	EXPECT_EQ(MASK(1), policy_nodes_at(self->buf + 32 * PAGE, &mode));
	EXPECT_EQ(MASK(1), policy_nodes_at(b + 32 * PAGE, &mode));
	if (variant->sysv) {
		shmdt(a);
		shmdt(b);
	}
	munmap(two, 2 * len);
}

/*
 * A memfd mapped shared, with one page present, on node 0: 64 TiB, or
 * the largest power of two down to 1 TiB the address space has room for;
 * its size in *len.
 */
static char *huge_sparse_memfd(unsigned long *len)
{
	int fd = memfd_create("mp2-huge", 0);
	char *p = MAP_FAILED;

	if (fd < 0)
		return NULL;
	for (*len = 64UL << 40; p == MAP_FAILED && *len >= 1UL << 40; *len /= 2)
		if (!ftruncate(fd, *len))
			p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	*len *= 2;
	close(fd);
	if (p == MAP_FAILED || bind_to(0))
		return NULL;
	p[PAGE] = 1;
	bind_to(-1);
	return p;
}

/*
 * A huge sparse memfd (64 TiB, one page present): the policy pass costs
 * what the file's tree holds (no policy, then one), not a lookup per page
 * of the mapping.  No bound in seconds: at the cost measured before the
 * fix (5.4 s for 256 GiB), a lookup per page of 64 TiB (2^34 of them)
 * would keep the first call past the selftest's timeout, and each of the
 * five calls runs it.
 */
TEST_F(policy, huge_sparse_memfd_costs_its_policies)
{
	int o[] = { 0 }, n[] = { 2 }, back_o[] = { 2 }, back_n[] = { 0 }, mode;
	const uint64_t all = MIGRATE_PAGES2_MOVE_ALL;
	struct migrate_pages_stats st;
	long lines;

	self->buf = huge_sparse_memfd(&self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, page_node(self->buf + PAGE));
	lines = maps_lines(0);
	ASSERT_EQ(0, mp2_call_range(0, all, o, n, 1, self->buf, self->len, &st));
	EXPECT_STATS(&st, 1, 1, 0, 0, 0);

	/* No policy at all. */
	ASSERT_EQ(0, mp2_policy_call(0, all, back_o, back_n, 1, self->buf,
				     self->len, &st));
	EXPECT_EQ(0, st.policies);
	EXPECT_STATS(&st, 1, 1, 0, 0, 0);

	/* One policy for the whole file (mbind() sets the file's). */
	ASSERT_EQ(0, sys_mbind(self->buf, self->len, MPOL_BIND, MASK(0), 0));
	ASSERT_EQ(0, mp2_policy_call(0, all | MIGRATE_PAGES2_DRY_RUN, o, n, 1,
				     self->buf, self->len, &st));
	EXPECT_EQ(1, st.policies);
	ASSERT_EQ(0, mp2_policy_call(0, 0, o, n, 1, self->buf, self->len, &st));
	EXPECT_EQ(0, st.policies);
	EXPECT_STATS(&st, 1, 1, 0, 0, 0);
	ASSERT_EQ(0, mp2_policy_call(0, all, o, n, 1, self->buf, self->len, &st));
	EXPECT_EQ(1, st.policies);
	EXPECT_STATS(&st, 0, 0, 0, 0, 0);
	EXPECT_EQ(MASK(2), policy_nodes_at(self->buf + self->len / 2, &mode));
	EXPECT_EQ(2, page_node(self->buf + PAGE));
	EXPECT_EQ(lines, maps_lines(0));
}

/*
 * SIGKILL ends a caller in the policy pass, between two policies: a memfd
 * whose shared policy binds every other page to node 0 (16384 ranges, set
 * through a mapping since unmapped, so the one mapped now is one VMA) is
 * rewritten 0 -> 2 by a child, killed while it rewrites.  Seen through
 * the parent's mapping, some ranges are rewritten and the rest are not:
 * the pass stopped at the signal.  One that ignored the signal would have
 * rewritten them all before the child died.  The kill lands early or late
 * at times (before the pass, after it): the delay adapts, and the test
 * fails unless one kill stops a pass half way.
 */
TEST_F_TIMEOUT(policy, killed_caller_stops_in_the_pass, 600)
{
	enum { NPAGES = 32768, RANGES = NPAGES / 2, TRIES = 8 };
	int o[] = { 0 }, n[] = { 2 }, fd, ready[2], status, mode, try;
	unsigned long i, rewritten = 0;
	useconds_t delay = 5000;
	struct migrate_pages_stats st;
	char *tmp;
	pid_t pid;

	fd = memfd_create("mp2-policies", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, NPAGES * PAGE));
	tmp = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, tmp);
	for (i = 0; i < NPAGES; i += 2)
		ASSERT_EQ(0, sys_mbind(tmp + i * PAGE, PAGE, MPOL_BIND, MASK(0), 0));
	munmap(tmp, NPAGES * PAGE);
	self->len = NPAGES * PAGE;
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	close(fd);
	ASSERT_EQ(MASK(0), policy_nodes_at(self->buf, &mode));

	for (try = 0; try < TRIES; try++) {
		ASSERT_EQ(0, pipe(ready));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			tell_ready(ready);
			mp2_policy_call(0, MIGRATE_PAGES2_MOVE_ALL, o, n, 1,
					self->buf, self->len, &st);
			_exit(0);
		}
		status = kill_when_ready(pid, ready, delay);
		for (rewritten = 0, i = 0; i < NPAGES; i += 2)
			rewritten += policy_nodes_at(self->buf + i * PAGE, &mode) == MASK(2);
		if (WIFSIGNALED(status) && rewritten && rewritten < RANGES)
			break;
		/*
		 * Too early (nothing rewritten) or too late (all of it: the
		 * kill came after the pass, or, were the signal ignored, in
		 * it; a pass that ignores it never stops half way, so it never
		 * passes).
		 */
		delay = rewritten ? delay / 2 : delay * 2;
		if (rewritten)
			ASSERT_EQ(0, mp2_policy_call(0, MIGRATE_PAGES2_MOVE_ALL, n, o, 1,
						     self->buf, self->len, &st));
	}
	EXPECT_LT(try, TRIES) {
		TH_LOG("no kill landed in the pass (last delay %u us)", delay);
	}
	TH_LOG("killed after %u us: %lu of %d ranges rewritten", delay, rewritten, RANGES);
}

/*
 * A process bound relative {0} in a cpuset: on a byte from cmd it faults a
 * new page in and answers with its node.
 */
static void relative_member(const char *cg, int cmd, int reply)
{
	unsigned long mask = MASK(0), i;
	char pid[16], *buf, c;
	int node;

	snprintf(pid, sizeof(pid), "%d", getpid());
	buf = map_anon(64 * PAGE, MAP_PRIVATE);
	if (!buf || cpuset_write(cg, "cgroup.procs", pid) ||
	    sys_set_mempolicy(MPOL_BIND | MPOL_F_RELATIVE_NODES, &mask,
			      sizeof(mask) * 8 + 1))
		_exit(1);
	for (i = 0; i < 64 && read(cmd, &c, 1) == 1; i++) {
		buf[i * PAGE] = 1;
		node = page_node(buf + i * PAGE);
		if (write(reply, &node, sizeof(node)) != sizeof(node))
			_exit(1);
	}
	_exit(0);
}

static int fault_one(int cmd, int reply)
{
	int node = -1;

	if (write(cmd, "t", 1) != 1 || read(reply, &node, sizeof(node)) != sizeof(node))
		return -1;
	return node;
}

/*
 * MPOL_F_RELATIVE_NODES holds positions in the cpuset's mems, not nodes:
 * a process in a cpuset with mems 2-3 bound relative {0} allocates on
 * node 2.  A pair from node 0, which it does not use, changes nothing
 * (policies 0); 2 -> 3 moves it to position 1, node 3.  When the cpuset's
 * mems become 0-3, the policy is rebound by position: the next page lands
 * on node 1 (a mask rewritten as if it held nodes would say 0).
 */
TEST(relative_nodes_follow_the_cpuset)
{
	const char *cg = "/sys/fs/cgroup/mp2-relative";
	int o[] = { 0 }, n[] = { 1 }, o2[] = { 2 }, n2[] = { 3 };
	int cmd[2], reply[2];
	struct migrate_pages_stats st;
	pid_t pid;
	long r;

	if (nodes_with_memory() < 4)
		SKIP(return, "needs 4 nodes with memory");
	if (write_file("/sys/fs/cgroup/cgroup.subtree_control", "+cpuset"))
		SKIP(return, "no cpuset controller in cgroup v2");
	mkdir(cg, 0755);
	ASSERT_EQ(0, cpuset_write(cg, "cpuset.mems", "2-3"));
	ASSERT_EQ(0, pipe(cmd));
	ASSERT_EQ(0, pipe(reply));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		relative_member(cg, cmd[0], reply[1]);
	EXPECT_EQ(2, fault_one(cmd[1], reply[0]));
	r = mp2_policy_call(pid, 0, o, n, 1, NULL, 0, &st);
	EXPECT_LE(0, r);
	EXPECT_EQ(0, st.policies);
	r = mp2_policy_call(pid, 0, o2, n2, 1, NULL, 0, &st);
	EXPECT_LE(0, r);
	EXPECT_EQ(1, st.policies);
	EXPECT_EQ(3, fault_one(cmd[1], reply[0]));
	EXPECT_EQ(0, cpuset_write(cg, "cpuset.mems", "0-3"));
	EXPECT_EQ(1, fault_one(cmd[1], reply[0]));
	reap(pid);
	rmdir(cg);
}

/*
 * The VMAs of the test's process in its maps: every line but the
 * [vsyscall] gate area, which is no VMA of the mm.
 */
static long map_count(void)
{
	static char buf[1 << 16];
	long n, lines = maps_lines(0);
	int fd = open("/proc/self/maps", O_RDONLY);

	if (fd < 0 || lines < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return lines - !!strstr(buf, "[vsyscall]");
}

/*
 * An error after the policy pass has started writes the stats: four VMAs
 * bound to node 0 (apart, so none merges) and a range from the middle of
 * the first to the middle of the last, with vm.max_map_count one above
 * the VMAs the process has: the first split is allowed, the last is not.
 * The call fails with ENOMEM, nothing moved, and says what it rewrote:
 * the first VMA's upper part and the two in the middle, which stay so.
 */
TEST_F(policy, enomem_in_the_pass_writes_stats)
{
	const char *knob = "/proc/sys/vm/max_map_count";
	int o[] = { 0 }, n[] = { 2 }, i, fd, err;
	char old[32] = "", limit[32];
	struct migrate_pages_stats st;
	char *v[4];
	long r;

	self->len = 8 * 16 * PAGE;
	self->buf = map_anon(self->len, MAP_PRIVATE);
	ASSERT_NE(NULL, self->buf);
	for (i = 0; i < 4; i++) {
		v[i] = self->buf + 2 * i * 16 * PAGE;
		ASSERT_EQ(0, munmap(v[i] + 16 * PAGE, 16 * PAGE));
		ASSERT_EQ(0, sys_mbind(v[i], 16 * PAGE, MPOL_BIND, MASK(0), 0));
		memset(v[i], 1, 16 * PAGE);
	}
	fd = open(knob, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, old, sizeof(old) - 1));
	close(fd);
	mp2_watch_isolated = false;	/* its reads of vmstat could map */
	snprintf(limit, sizeof(limit), "%ld", map_count() + 1);
	memset(&st, 0xff, sizeof(st));
	ASSERT_EQ(0, write_file(knob, limit));
	r = mp2_policy_call(0, 0, o, n, 1, v[0] + 8 * PAGE, v[3] - v[0], &st);
	err = errno;
	ASSERT_EQ(0, write_file(knob, old));
	ASSERT_EQ(-1, r);
	EXPECT_EQ(ENOMEM, err);
	EXPECT_EQ(3, st.policies);
	EXPECT_STATS(&st, 0, 0, 0, 0, 0);
	policy_at(0, v[0], self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:0", self->pol);
	policy_at(0, v[0] + 8 * PAGE, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:2", self->pol);
	policy_at(0, v[1], self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:2", self->pol);
	policy_at(0, v[2], self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:2", self->pol);
	policy_at(0, v[3], self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:0", self->pol);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(16, pages_on(0, v[i], 16, 0));
}

/*
 * A range that starts 4 KiB into a hugetlb VMA and ends 4 KiB later:
 * the move takes the huge page it cuts whole, and the policy of that
 * whole huge page is rewritten (the VMA splits at the huge page's end,
 * where hugetlb allows it), not refused with EINVAL.
 */
TEST_F(policy, hugetlb_range_inside_a_huge_page)
{
	int o[] = { 0 }, n[] = { 2 };
	struct migrate_pages_stats st;

	ASSERT_EQ(0, set_node_hugepages(0, 2));
	ASSERT_EQ(0, set_node_hugepages(2, 2));
	self->len = 2 * THP;
	self->buf = map_anon(self->len, MAP_PRIVATE | MAP_HUGETLB);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, sys_mbind(self->buf, self->len, MPOL_BIND, MASK(0), 0));
	memset(self->buf, 1, self->len);
	ASSERT_EQ(0, page_node(self->buf));
	ASSERT_EQ(0, page_node(self->buf + THP));
	ASSERT_EQ(0, mp2_policy_call(0, 0, o, n, 1, self->buf + PAGE, PAGE, &st));
	EXPECT_EQ(1, st.policies);
	EXPECT_STATS(&st, THP / PAGE, THP / PAGE, 0, 0, 0);
	policy_at(0, self->buf, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:2", self->pol);
	policy_at(0, self->buf + THP, self->pol, sizeof(self->pol));
	EXPECT_STREQ("bind:0", self->pol);
	EXPECT_EQ(2, page_node(self->buf));
	EXPECT_EQ(0, page_node(self->buf + THP));
	munmap(self->buf, self->len);
	self->buf = NULL;
	set_node_hugepages(0, 0);
	set_node_hugepages(2, 0);
}

TEST_HARNESS_MAIN
