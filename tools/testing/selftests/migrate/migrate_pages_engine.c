// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages(2) and cpuset memory migration on the migrate_pages2
 * engine: mainline's arguments and bit-remap pairs (a node of the old mask
 * goes to the node at the same position in the new one), mainline's shared
 * rule and return value (the folios that could not move, -ENOMEM at a full
 * node), with the engine's
 * batches and at-most-once moves underneath.  Every test checks where each
 * page is afterwards (move_pages() with NULL nodes) and what it holds.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "../kselftest_harness.h"
#include "helpers.h"

#define SEED	0xbeefULL
#define BLOCK	16		/* pages per block of a layout */
#define MAXNODE	(sizeof(unsigned long) * 8)

static long sys_migrate_pages(pid_t pid, unsigned long old, unsigned long new)
{
	return syscall(__NR_migrate_pages, pid, MAXNODE, &old, &new);
}

/* Block i of buf (BLOCK pages) filled on nodes[i], with seed SEED + i. */
static int place(char *buf, const int *nodes, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		if (fill_on(buf + i * BLOCK * PAGE, BLOCK, nodes[i], SEED + i))
			return -1;
	return 0;
}

static bool intact(char *buf, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		if (check_pattern(buf + i * BLOCK * PAGE, BLOCK, SEED + i) != -1)
			return false;
	return true;
}

#define N(x)	(1UL << (x))

/* ------------------------------------------------------------ pairs */

FIXTURE(remap) {
	char *buf;
	unsigned long len;
};

FIXTURE_VARIANT(remap) {
	unsigned long old, new;
	int nr;			/* blocks */
	int where[4];		/* node of each block before */
	int expect[4];		/* and after */
};

/* The pairs of do_migrate_pages(): old node i-th goes to new node i-th. */
FIXTURE_VARIANT_ADD(remap, shift_by_one) {
	.old = N(0) | N(1), .new = N(1) | N(2),
	.nr = 2, .where = { 0, 1 }, .expect = { 1, 2 } };
FIXTURE_VARIANT_ADD(remap, shift_three) {
	.old = N(0) | N(1) | N(2), .new = N(1) | N(2) | N(3),
	.nr = 3, .where = { 0, 1, 2 }, .expect = { 1, 2, 3 } };
FIXTURE_VARIANT_ADD(remap, one_to_cpuless_node) {
	.old = N(0), .new = N(3),
	.nr = 2, .where = { 0, 1 }, .expect = { 3, 1 } };
FIXTURE_VARIANT_ADD(remap, old_equals_new) {
	.old = N(0) | N(1), .new = N(0) | N(1),
	.nr = 2, .where = { 0, 1 }, .expect = { 0, 1 } };
FIXTURE_VARIANT_ADD(remap, masks_with_holes) {
	.old = N(0) | N(2), .new = N(1) | N(3),
	.nr = 3, .where = { 0, 1, 2 }, .expect = { 1, 1, 3 } };
/* Different weights: a source that is also a destination stays. */
FIXTURE_VARIANT_ADD(remap, four_onto_two) {
	.old = N(0) | N(1) | N(2) | N(3), .new = N(2) | N(3),
	.nr = 4, .where = { 0, 1, 2, 3 }, .expect = { 2, 3, 2, 3 } };

FIXTURE_SETUP(remap)
{
	self->buf = NULL;
	if (nodes_with_memory() < 4)
		SKIP(return, "needs 4 nodes with memory");
	self->len = variant->nr * BLOCK * PAGE;
	self->buf = map_anon(self->len, MAP_PRIVATE);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, place(self->buf, variant->where, variant->nr));
}

FIXTURE_TEARDOWN(remap)
{
	if (self->buf)
		munmap(self->buf, self->len);
}

TEST_F(remap, pages_follow_the_pairs)
{
	int i;

	ASSERT_EQ(0, sys_migrate_pages(0, variant->old, variant->new));
	for (i = 0; i < variant->nr; i++) {
		int to = variant->expect[i];

		EXPECT_EQ(BLOCK, pages_on(0, self->buf + i * BLOCK * PAGE, BLOCK, to)) {
			TH_LOG("block %d: from node %d, expected on %d", i,
			       variant->where[i], to);
		}
	}
	EXPECT_TRUE(intact(self->buf, variant->nr));
}

/* ------------------------------------------------------------ errnos */

/*
 * migrate_pages(2)'s errnos stay mainline 7.3's (LTP's migrate_pages01
 * checks these): each call fails, and the target's pages stay where they
 * were.
 */
enum mp_target {
	MP_SELF,		/* pid 0: the caller */
	MP_DEAD,		/* a reaped child's pid */
	MP_ZOMBIE,		/* an exited child, not reaped: no mm */
	MP_KTHREAD,		/* kthreadd: no mm */
	MP_ROOT_SLEEPER,	/* a child of root's, called on by nobody */
};

FIXTURE(mp_errors) {
	char *buf;
	unsigned long len;
	pid_t child;
};

FIXTURE_VARIANT(mp_errors) {
	enum mp_target target;
	unsigned long maxnode;		/* 0: MAXNODE */
	bool bad_old, bad_new;		/* the mask points nowhere */
	bool as_nobody;			/* call from an unprivileged child */
	int err;
};

FIXTURE_VARIANT_ADD(mp_errors, no_such_pid) {
	.target = MP_DEAD, .err = ESRCH };
FIXTURE_VARIANT_ADD(mp_errors, zombie_has_no_mm) {
	.target = MP_ZOMBIE, .err = EINVAL };
FIXTURE_VARIANT_ADD(mp_errors, kernel_thread_has_no_mm) {
	.target = MP_KTHREAD, .err = EINVAL };
FIXTURE_VARIANT_ADD(mp_errors, maxnode_over_a_page_of_bits) {
	.maxnode = PAGE * 8 + 2, .err = EINVAL };
FIXTURE_VARIANT_ADD(mp_errors, old_nodes_unreadable) {
	.bad_old = true, .err = EFAULT };
FIXTURE_VARIANT_ADD(mp_errors, new_nodes_unreadable) {
	.bad_new = true, .err = EFAULT };
FIXTURE_VARIANT_ADD(mp_errors, other_users_process) {
	.target = MP_ROOT_SLEEPER, .as_nobody = true, .err = EPERM };

FIXTURE_SETUP(mp_errors)
{
	self->child = 0;
	self->buf = NULL;
	if (nodes_with_memory() < 4)
		SKIP(return, "needs 4 nodes with memory");
	self->buf = map_filled(BLOCK, 0, SEED, &self->len);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(mp_errors)
{
	if (self->child > 0)
		reap(self->child);
	if (self->buf)
		munmap(self->buf, self->len);
}

/* migrate_pages(2) from an unprivileged child if asked; its errno or 0. */
static int mp_errno(pid_t pid, unsigned long maxnode, const unsigned long *old,
		    const unsigned long *new, bool as_nobody)
{
	int status;
	pid_t caller;

	/* A failure is -1 exactly; anything else reads as no error. */
	if (!as_nobody)
		return syscall(__NR_migrate_pages, pid, maxnode, old, new) == -1 ? errno : 0;
	caller = fork();
	if (!caller) {
		if (setgid(65534) || setuid(65534))
			_exit(255);
		_exit(syscall(__NR_migrate_pages, pid, maxnode, old, new) == -1 ? errno : 0);
	}
	waitpid(caller, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 254;
}

TEST_F(mp_errors, fails_and_moves_nothing)
{
	unsigned long old = N(0), new = N(1), *bad = (unsigned long *)8;
	pid_t pid = 0, seen = 0;

	switch (variant->target) {
	case MP_SELF:
		break;
	case MP_DEAD:
		pid = dead_child(false);
		break;
	case MP_ZOMBIE:
		self->child = zombie_child();
		pid = self->child;
		break;
	case MP_KTHREAD:
		pid = 2;
		break;
	case MP_ROOT_SLEEPER:
		/* Its pages are ours, copy-on-write: it sees them on node 0. */
		self->child = spawn_sleeper();
		ASSERT_LT(0, self->child);
		pid = self->child;
		seen = pid;
		break;
	}
	ASSERT_EQ(variant->err,
		  mp_errno(pid, variant->maxnode ? variant->maxnode : MAXNODE,
			   variant->bad_old ? bad : &old,
			   variant->bad_new ? bad : &new, variant->as_nobody)) {
		TH_LOG("expected %s", strerror(variant->err));
	}
	EXPECT_EQ(BLOCK, pages_on(seen, self->buf, BLOCK, 0));
	EXPECT_EQ(-1, check_pattern(self->buf, BLOCK, SEED));
}

/* ------------------------------------------------------------ the rest */

FIXTURE(mp) {
	char *buf;
	unsigned long len;
	pid_t child;
	int hog_node;
	char cg[64];
};

FIXTURE_SETUP(mp)
{
	self->buf = NULL;
	self->child = 0;
	self->hog_node = -1;
	self->cg[0] = 0;
	if (nodes_with_memory() < 4)
		SKIP(return, "needs 4 nodes with memory");
}

FIXTURE_TEARDOWN(mp)
{
	if (self->child > 0)
		reap(self->child);
	if (self->buf)
		munmap(self->buf, self->len);
	if (self->hog_node >= 0)
		set_node_hugepages(self->hog_node, 0);
	if (self->cg[0])
		rmdir(self->cg);
}

/* The return value counts exactly the pages that stayed: pinned ones. */
TEST_F(mp, pinned_pages_are_the_return_value)
{
	enum { NPAGES = 64, PINNED = 24 };
	struct iovec iov;
	char sink[PINNED * PAGE];
	int fds[2];

	self->buf = map_filled(NPAGES, 0, SEED, &self->len);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, pipe(fds));
	ASSERT_LE(PINNED * PAGE, fcntl(fds[1], F_SETPIPE_SZ, PINNED * PAGE));
	iov.iov_base = self->buf;
	iov.iov_len = PINNED * PAGE;
	ASSERT_EQ(PINNED * PAGE, vmsplice(fds[1], &iov, 1, 0));
	EXPECT_EQ(PINNED, sys_migrate_pages(0, N(0), N(1)));
	EXPECT_EQ(PINNED, pages_on(0, self->buf, NPAGES, 0));
	EXPECT_EQ(NPAGES - PINNED, pages_on(0, self->buf, NPAGES, 1));
	ASSERT_EQ(PINNED * PAGE, read(fds[0], sink, sizeof(sink)));
	/* Released: they move now, and nothing is left. */
	EXPECT_EQ(0, sys_migrate_pages(0, N(0), N(1)));
	EXPECT_EQ(NPAGES, pages_on(0, self->buf, NPAGES, 1));
	EXPECT_EQ(-1, check_pattern(self->buf, NPAGES, SEED));
	close(fds[0]);
	close(fds[1]);
}

/* A pinned THP is one folio that could not move, as mainline counts it. */
TEST_F(mp, pinned_thp_is_one_folio)
{
	const unsigned long thp = 2UL << 20;
	struct iovec iov;
	char sink[PAGE], *huge;
	int fds[2];

	self->len = 2 * thp;
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	huge = (char *)(((uintptr_t)self->buf + thp - 1) & ~(thp - 1));
	ASSERT_EQ(0, madvise(huge, thp, MADV_HUGEPAGE));
	ASSERT_EQ(0, fill_on(huge, thp / PAGE, 0, SEED));
	if (read_key("/proc/self/smaps_rollup", "AnonHugePages:") < 2048)
		SKIP(return, "no THP could be allocated on node 0");
	ASSERT_EQ(0, pipe(fds));
	iov.iov_base = huge + 3 * PAGE;
	iov.iov_len = PAGE;
	ASSERT_EQ(PAGE, vmsplice(fds[1], &iov, 1, 0));
	EXPECT_EQ(1, sys_migrate_pages(0, N(0), N(1)));
	EXPECT_EQ(thp / PAGE, pages_on(0, huge, thp / PAGE, 0));
	ASSERT_EQ(PAGE, read(fds[0], sink, sizeof(sink)));
	close(fds[0]);
	close(fds[1]);
	EXPECT_EQ(0, sys_migrate_pages(0, N(0), N(1)));
	EXPECT_EQ(thp / PAGE, pages_on(0, huge, thp / PAGE, 1));
	EXPECT_EQ(-1, check_pattern(huge, thp / PAGE, SEED));
}

/*
 * A full destination: mainline's -ENOMEM, what moved before it stays
 * moved, and none of it is lost.
 */
TEST_F(mp, full_destination_is_enomem)
{
	unsigned long npages;
	long r;

	self->hog_node = 3;
	ASSERT_EQ(0, set_node_hugepages(3, 100000));
	npages = node_free_pages(3) + 1024;
	self->buf = map_filled(npages, 0, SEED, &self->len);
	ASSERT_NE(NULL, self->buf);
	r = sys_migrate_pages(0, N(0), N(3));
	EXPECT_EQ(-1, r);
	EXPECT_EQ(ENOMEM, errno);
	EXPECT_LT(0, pages_on(0, self->buf, npages, 0));
	EXPECT_EQ(npages, pages_on(0, self->buf, npages, 0) +
			  pages_on(0, self->buf, npages, 3));
	EXPECT_EQ(-1, check_pattern(self->buf, npages, SEED));
}

/*
 * Shared pages move only with CAP_SYS_NICE (MPOL_MF_MOVE_ALL); without it
 * they stay and are not counted, as mainline has it.
 */
static int move_shared_as_nobody(char *buf, unsigned long npages)
{
	pid_t mapper;
	long r;

	if (setgid(65534) || setuid(65534))
		return 10;
	prctl(PR_SET_DUMPABLE, 1);
	/* Map the pages here too (fork copies no page table of shmem). */
	if (check_pattern(buf, npages, SEED) != -1)
		return 12;
	mapper = spawn_mapper(buf, npages);
	if (mapper < 0)
		return 11;
	r = sys_migrate_pages(0, N(0), N(1));
	reap(mapper);
	if (r != 0)
		return 1;
	return pages_on(0, buf, npages, 0) == npages ? 0 : 2;
}

TEST_F(mp, shared_pages_need_cap_sys_nice)
{
	enum { NPAGES = 32 };
	int status;
	pid_t pid;

	self->len = NPAGES * PAGE;
	self->buf = map_anon(self->len, MAP_SHARED);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, fill_on(self->buf, NPAGES, 0, SEED));
	pid = fork();
	if (!pid)
		_exit(move_shared_as_nobody(self->buf, NPAGES));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(NPAGES, pages_on(0, self->buf, NPAGES, 0));

	/* Root has CAP_SYS_NICE: they move, for every process mapping them. */
	self->child = spawn_mapper(self->buf, NPAGES);
	ASSERT_LT(0, self->child);
	EXPECT_EQ(0, sys_migrate_pages(0, N(0), N(1)));
	EXPECT_EQ(NPAGES, pages_on(0, self->buf, NPAGES, 1));
	EXPECT_EQ(NPAGES, pages_on(self->child, self->buf, NPAGES, 1));
	EXPECT_EQ(-1, check_pattern(self->buf, NPAGES, SEED));
}

/*
 * The target keeps running: a thread that maps and unmaps 200 times,
 * started with the move, finishes while 256 MiB are still moving (the
 * lock is held for a batch at a time, not for a whole node's walk).
 */
struct churner {
	int go, done;
};

static void *churn(void *arg)
{
	struct churner *c = arg;
	int i;

	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		;
	for (i = 0; i < 200; i++) {
		char *p = map_anon(PAGE, MAP_PRIVATE);

		if (!p)
			break;
		*p = 1;
		munmap(p, PAGE);
	}
	__atomic_store_n(&c->done, i, __ATOMIC_RELEASE);
	return NULL;
}

static void target_with_churner(char *buf, unsigned long npages, int ready,
				struct churner *c)
{
	pthread_t th;

	if (fill_on(buf, npages, 0, SEED) ||
	    pthread_create(&th, NULL, churn, c) || write(ready, "r", 1) != 1)
		_exit(1);
	pthread_join(th, NULL);
	for (;;)
		pause();
}

TEST_F(mp, target_keeps_running)
{
	enum { NPAGES = 65536 };	/* 256 MiB */
	struct churner *c;
	int ready[2], done;
	char ch;

	c = map_anon(PAGE, MAP_SHARED);
	ASSERT_NE(NULL, c);
	self->len = NPAGES * PAGE;
	self->buf = map_anon(self->len, MAP_PRIVATE);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, pipe(ready));
	self->child = fork();
	if (!self->child)
		target_with_churner(self->buf, NPAGES, ready[1], c);
	ASSERT_EQ(1, read(ready[0], &ch, 1));
	__atomic_store_n(&c->go, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(0, sys_migrate_pages(self->child, N(0), N(1)));
	done = __atomic_load_n(&c->done, __ATOMIC_ACQUIRE);
	EXPECT_EQ(200, done) {
		TH_LOG("the target's thread did %d of 200 mmap+munmap during the move",
		       done);
	}
	EXPECT_EQ(NPAGES, pages_on(self->child, self->buf, NPAGES, 1));
	munmap(c, PAGE);
}

/* SIGKILL to the caller mid-move: every page on its old or new node. */
TEST_F(mp, fatal_signal_ends_the_move)
{
	enum { NPAGES = 16384 };	/* 64 MiB */
	unsigned long counts[MAX_TEST_NODES];
	int status;
	pid_t caller;

	self->buf = map_filled(NPAGES, 0, SEED, &self->len);
	ASSERT_NE(NULL, self->buf);
	caller = fork();
	if (!caller) {
		sys_migrate_pages(getppid(), N(0), N(1));
		_exit(0);
	}
	usleep(100000);
	kill(caller, SIGKILL);
	ASSERT_EQ(caller, waitpid(caller, &status, 0));
	ASSERT_EQ(0, count_nodes(0, self->buf, NPAGES, counts));
	EXPECT_EQ(NPAGES, counts[0] + counts[1]);
	EXPECT_EQ(-1, check_pattern(self->buf, NPAGES, SEED));
	if (WIFSIGNALED(status))
		TH_LOG("killed after moving %lu of %d pages", counts[1], NPAGES);
}

/* ------------------------------------------------------------ cpusets */

static int cg_write(const char *cg, const char *file, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return write_file(path, val);
}

/*
 * A process in a cpuset: half its pages filled on node a, half on node b,
 * then it waits; on a byte from the pipe it checks its data and answers
 * 'k' (intact) or 'x'.
 */
struct member {
	int cmd[2], reply[2];
	int a, b;
};

static void cpuset_member(const char *cg, char *buf, unsigned long npages,
			  struct member *m)
{
	char pid[16], c;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (cg_write(cg, "cgroup.procs", pid) ||
	    fill_on(buf, npages / 2, m->a, SEED) ||
	    fill_on(buf + npages / 2 * PAGE, npages / 2, m->b, SEED + 1) ||
	    write(m->reply[1], "r", 1) != 1)
		_exit(1);
	while (read(m->cmd[0], &c, 1) == 1) {
		bool ok = check_pattern(buf, npages / 2, SEED) == -1 &&
			  check_pattern(buf + npages / 2 * PAGE, npages / 2, SEED + 1) == -1;

		if (write(m->reply[1], ok ? "k" : "x", 1) != 1)
			_exit(1);
	}
	_exit(0);
}

/* The member in a new cpuset with these mems; 0 once its pages are placed. */
static int start_member(struct _test_data_mp *self, const char *mems,
			unsigned long npages, struct member *m)
{
	char c;

	if (write_file("/sys/fs/cgroup/cgroup.subtree_control", "+cpuset"))
		return -1;
	snprintf(self->cg, sizeof(self->cg), "/sys/fs/cgroup/mp2-mems");
	mkdir(self->cg, 0755);
	if (cg_write(self->cg, "cpuset.mems", mems))
		return -1;
	self->len = npages * PAGE;
	self->buf = map_anon(self->len, MAP_PRIVATE);
	if (!self->buf || pipe(m->cmd) || pipe(m->reply))
		return -1;
	self->child = fork();
	if (!self->child)
		cpuset_member(self->cg, self->buf, npages, m);
	return read(m->reply[0], &c, 1) == 1 && c == 'r' ? 0 : -1;
}

/* Does the member still hold its data? */
static bool member_intact(struct member *m)
{
	char c = 0;

	return write(m->cmd[1], "?", 1) == 1 && read(m->reply[0], &c, 1) == 1 &&
	       c == 'k';
}

/* cpuset.mems 0 -> 2: the group's memory follows (cgroup v2 migrates). */
TEST_F(mp, cpuset_mems_change_moves_pages)
{
	enum { NPAGES = 64 };
	struct member m = { .a = 0, .b = 0 };

	if (start_member(self, "0", NPAGES, &m))
		SKIP(return, "no cpuset controller in cgroup v2");
	ASSERT_EQ(NPAGES, pages_on(self->child, self->buf, NPAGES, 0));
	ASSERT_EQ(0, cg_write(self->cg, "cpuset.mems", "2"));
	EXPECT_EQ(NPAGES, pages_on(self->child, self->buf, NPAGES, 2));
	EXPECT_TRUE(member_intact(&m));
	reap(self->child);
	self->child = 0;
}

/* cpuset.mems 0-1 -> 2-3: node 0's half goes to 2, node 1's to 3. */
TEST_F(mp, cpuset_mems_change_keeps_relative_placement)
{
	enum { NPAGES = 64 };
	struct member m = { .a = 0, .b = 1 };

	if (start_member(self, "0-1", NPAGES, &m))
		SKIP(return, "no cpuset controller in cgroup v2");
	ASSERT_EQ(NPAGES / 2, pages_on(self->child, self->buf, NPAGES / 2, 0));
	ASSERT_EQ(NPAGES / 2, pages_on(self->child, self->buf + NPAGES / 2 * PAGE,
				       NPAGES / 2, 1));
	ASSERT_EQ(0, cg_write(self->cg, "cpuset.mems", "2-3"));
	EXPECT_EQ(NPAGES / 2, pages_on(self->child, self->buf, NPAGES / 2, 2));
	EXPECT_EQ(NPAGES / 2, pages_on(self->child, self->buf + NPAGES / 2 * PAGE,
				       NPAGES / 2, 3));
	EXPECT_TRUE(member_intact(&m));
	reap(self->child);
	self->child = 0;
}

TEST_HARNESS_MAIN
