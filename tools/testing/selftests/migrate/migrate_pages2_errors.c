// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2(): every row of the errno table.  Each case starts from a
 * valid request that would move 16 pages of the caller from node 0 to node
 * 1, breaks one thing, and checks the errno and that nothing moved: every
 * page is still on node 0 with its contents, and stats were not written.
 */
#define _GNU_SOURCE
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "../kselftest_harness.h"
#include "helpers.h"

#define NPAGES	16
#define SEED	0x5eed

/* Who the call names as its target. */
enum target {
	SELF,			/* pid 0: the caller */
	DEAD_PID,		/* a reaped child's pid */
	SELF_AND_DEAD_PID,	/* the caller, then a reaped child's pid */
	KTHREAD,		/* kthreadd */
	NOT_A_PIDFD,		/* with PIDFD: an fd of /dev/null */
	EXITED_PIDFD,		/* with PIDFD: a reaped child's pidfd */
	ZOMBIE_PID,		/* an exited child not yet reaped */
	ZOMBIE_PIDFD,		/* with PIDFD: the same, by pidfd */
	ROOT_SLEEPER,		/* a child of root's, called on by nobody */
};

/* Which pointer of the request points nowhere. */
enum bad_ptr { NO_BAD_PTR, BAD_ARGS, BAD_PIDS, BAD_OLD, BAD_NEW, BAD_STATS };

FIXTURE(errors) {
	char *buf;
	pid_t child;
	int fd;
};

FIXTURE_VARIANT(errors) {
	size_t size;			/* 0: sizeof(struct migrate_pages_args) */
	bool tail_set;			/* a non-zero byte after the struct */
	uint64_t flags;
	uint32_t nr_pids;
	uint32_t nr_nodes;
	uint32_t workers;
	uint32_t reserved;
	int old_nodes[2];
	int new_nodes[2];
	uint64_t start;
	uint64_t len;
	enum target target;
	enum bad_ptr bad;
	bool as_nobody;			/* call from an unprivileged child */
	bool perfmon;			/* that child keeps CAP_PERFMON */
	int err;
};

/* A valid request: move the caller's pages from node 0 to node 1. */
#define VALID	.nr_pids = 1, .nr_nodes = 1, .old_nodes = { 0 }, .new_nodes = { 1 }

FIXTURE_VARIANT_ADD(errors, size_below_ver0) {
	VALID, .size = MIGRATE_PAGES_ARGS_SIZE_VER0 - 8, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, size_above_nonzero_tail) {
	VALID, .size = MIGRATE_PAGES_ARGS_SIZE_VER1 + 8, .tail_set = true, .err = E2BIG };
/* Over a page, even with a zero tail: nobody makes the kernel scan 64 GiB. */
FIXTURE_VARIANT_ADD(errors, size_above_page) {
	VALID, .size = PAGE + 8, .err = E2BIG };
FIXTURE_VARIANT_ADD(errors, unknown_flag) {
	VALID, .flags = 1ULL << 5, .err = EINVAL };
/* MIGRATE_PAGES2_LAZY: a page moved on one touch would move again on the next. */
FIXTURE_VARIANT_ADD(errors, lazy_chain) {
	.flags = MIGRATE_PAGES2_LAZY, .nr_pids = 1, .nr_nodes = 2,
	.old_nodes = { 0, 1 }, .new_nodes = { 1, 2 }, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, lazy_swap) {
	.flags = MIGRATE_PAGES2_LAZY, .nr_pids = 1, .nr_nodes = 2,
	.old_nodes = { 0, 1 }, .new_nodes = { 1, 0 }, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, lazy_any_node_onto_a_source) {
	.flags = MIGRATE_PAGES2_LAZY, .nr_pids = 1, .nr_nodes = 2,
	.old_nodes = { 0, MIGRATE_PAGES2_ANY_NODE }, .new_nodes = { 1, 0 }, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, unknown_high_flag) {
	VALID, .flags = 1ULL << 63, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, nr_pids_zero) {
	VALID, .nr_pids = 0, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, nr_pids_over_1024) {
	VALID, .nr_pids = 1025, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, nr_nodes_zero) {
	VALID, .nr_nodes = 0, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, nr_nodes_over_max) {
	VALID, .nr_nodes = 1 << 20, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, workers_over_1024) {
	VALID, .workers = 1025, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, reserved_set) {
	VALID, .reserved = 1, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, source_negative) {
	VALID, .old_nodes = { -2 }, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, source_over_max) {
	VALID, .old_nodes = { 1 << 20 }, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, dest_any_node) {
	VALID, .new_nodes = { MIGRATE_PAGES2_ANY_NODE }, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, dest_over_max) {
	VALID, .new_nodes = { 1 << 20 }, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, dest_without_memory) {
	VALID, .new_nodes = { 4 }, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, source_twice) {
	VALID, .nr_nodes = 2, .old_nodes = { 0, 0 }, .new_nodes = { 1, 2 }, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, any_node_twice) {
	VALID, .nr_nodes = 2, .old_nodes = { -1, -1 }, .new_nodes = { 1, 2 }, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, start_unaligned) {
	VALID, .start = PAGE + 1, .len = PAGE, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, range_overflows) {
	VALID, .start = PAGE, .len = ~0ULL, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, len_zero_start_set) {
	VALID, .start = PAGE, .len = 0, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, args_unreadable) {
	VALID, .bad = BAD_ARGS, .err = EFAULT };
FIXTURE_VARIANT_ADD(errors, pids_unreadable) {
	VALID, .bad = BAD_PIDS, .err = EFAULT };
FIXTURE_VARIANT_ADD(errors, old_nodes_unreadable) {
	VALID, .bad = BAD_OLD, .err = EFAULT };
FIXTURE_VARIANT_ADD(errors, new_nodes_unreadable) {
	VALID, .bad = BAD_NEW, .err = EFAULT };
FIXTURE_VARIANT_ADD(errors, stats_unwritable) {
	VALID, .bad = BAD_STATS, .err = EFAULT };
FIXTURE_VARIANT_ADD(errors, pid_missing) {
	VALID, .target = DEAD_PID, .err = ESRCH };
FIXTURE_VARIANT_ADD(errors, one_of_two_pids_missing) {
	VALID, .nr_pids = 2, .target = SELF_AND_DEAD_PID, .err = ESRCH };
FIXTURE_VARIANT_ADD(errors, kernel_thread) {
	VALID, .target = KTHREAD, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, pidfd_not_a_pidfd) {
	VALID, .flags = MIGRATE_PAGES2_PIDFD, .target = NOT_A_PIDFD, .err = EBADF };
FIXTURE_VARIANT_ADD(errors, pidfd_exited) {
	VALID, .flags = MIGRATE_PAGES2_PIDFD, .target = EXITED_PIDFD, .err = ESRCH };
FIXTURE_VARIANT_ADD(errors, pidfd_exited_unreaped) {
	VALID, .flags = MIGRATE_PAGES2_PIDFD, .target = ZOMBIE_PIDFD, .err = ESRCH };
/* By pid, an exited process is a target without an mm, as in migrate_pages(2). */
FIXTURE_VARIANT_ADD(errors, pid_exited_unreaped) {
	VALID, .target = ZOMBIE_PID, .err = EINVAL };
FIXTURE_VARIANT_ADD(errors, move_all_unprivileged) {
	VALID, .flags = MIGRATE_PAGES2_MOVE_ALL, .as_nobody = true, .err = EPERM };
FIXTURE_VARIANT_ADD(errors, other_users_process) {
	VALID, .target = ROOT_SLEEPER, .as_nobody = true, .err = EPERM };
/* mm_access() lets CAP_PERFMON read any mm; moving pages takes ptrace rights. */
FIXTURE_VARIANT_ADD(errors, other_users_process_with_cap_perfmon) {
	VALID, .target = ROOT_SLEEPER, .as_nobody = true, .perfmon = true, .err = EPERM };

FIXTURE_SETUP(errors)
{
	self->child = 0;
	self->fd = -1;
	self->buf = NULL;
	if (nodes_with_memory() < 4)
		SKIP(return, "needs 4 nodes with memory");
	self->buf = map_anon(NPAGES * PAGE, MAP_PRIVATE);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, fill_on(self->buf, NPAGES, 0, SEED));
}

FIXTURE_TEARDOWN(errors)
{
	if (self->child > 0)
		reap(self->child);
	if (self->fd >= 0)
		close(self->fd);
	if (self->buf)
		munmap(self->buf, NPAGES * PAGE);
}

static void resolve_target(enum target target, pid_t *child, int *fd,
			   int pids[2])
{
	pids[0] = 0;
	pids[1] = 0;
	switch (target) {
	case SELF:
		break;
	case DEAD_PID:
		pids[0] = dead_child(false);
		break;
	case SELF_AND_DEAD_PID:
		pids[1] = dead_child(false);
		break;
	case KTHREAD:
		pids[0] = 2;
		break;
	case NOT_A_PIDFD:
		*fd = open("/dev/null", O_RDONLY);
		pids[0] = *fd;
		break;
	case EXITED_PIDFD:
		*fd = dead_child(true);
		pids[0] = *fd;
		break;
	case ROOT_SLEEPER:
		*child = spawn_sleeper();
		pids[0] = *child;
		break;
	case ZOMBIE_PID:
		*child = zombie_child();
		pids[0] = *child;
		break;
	case ZOMBIE_PIDFD:
		*child = zombie_child();
		*fd = sys_pidfd_open(*child, 0);
		pids[0] = *fd;
		break;
	}
}

/* Become nobody, keeping CAP_PERFMON alone if asked; false on failure. */
static bool become_nobody(bool perfmon)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};

	if (perfmon && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		return false;
	if (setgid(65534) || setuid(65534))
		return false;
	if (!perfmon)
		return true;
	data[CAP_PERFMON / 32].effective = 1u << (CAP_PERFMON % 32);
	data[CAP_PERFMON / 32].permitted = 1u << (CAP_PERFMON % 32);
	return !syscall(SYS_capset, &hdr, data);
}

/* Make the call, from an unprivileged child if asked; return its errno. */
static int call_errno(const void *args, size_t size, bool as_nobody,
		      bool perfmon)
{
	int status;
	pid_t pid;

	/* A failure is -1 exactly; anything else reads as no error. */
	if (!as_nobody)
		return sys_migrate_pages2(args, size) == -1 ? errno : 0;
	pid = fork();
	if (!pid) {
		if (!become_nobody(perfmon))
			_exit(255);
		_exit(sys_migrate_pages2(args, size) == -1 ? errno : 0);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 254;
}

TEST_F(errors, fails_and_moves_nothing)
{
	struct {
		struct migrate_pages_args args;
		char tail[PAGE];
	} req = {};
	struct migrate_pages_stats stats, untouched;
	unsigned long counts[MAX_TEST_NODES];
	void *bad = (void *)8;
	int pids[2];

	resolve_target(variant->target, &self->child, &self->fd, pids);
	memset(&stats, 0xa5, sizeof(stats));
	memcpy(&untouched, &stats, sizeof(stats));
	req.args = (struct migrate_pages_args) {
		.flags = variant->flags,
		.pids = (uintptr_t)(variant->bad == BAD_PIDS ? bad : pids),
		.old_nodes = (uintptr_t)(variant->bad == BAD_OLD ? bad : variant->old_nodes),
		.new_nodes = (uintptr_t)(variant->bad == BAD_NEW ? bad : variant->new_nodes),
		.stats = (uintptr_t)(variant->bad == BAD_STATS ? bad : &stats),
		.start = variant->start,
		.len = variant->len,
		.nr_pids = variant->nr_pids,
		.nr_nodes = variant->nr_nodes,
		.workers = variant->workers,
		.reserved = variant->reserved,
	};
	req.tail[3] = variant->tail_set;

	ASSERT_EQ(variant->err,
		  call_errno(variant->bad == BAD_ARGS ? bad : &req,
			     variant->size ? variant->size : sizeof(req.args),
			     variant->as_nobody, variant->perfmon)) {
		TH_LOG("expected %s", strerror(variant->err));
	}
	ASSERT_EQ(0, count_nodes(0, self->buf, NPAGES, counts));
	EXPECT_EQ(NPAGES, counts[0]);
	EXPECT_EQ(-1, check_pattern(self->buf, NPAGES, SEED));
	EXPECT_EQ(0, memcmp(&stats, &untouched, sizeof(stats)));
}

TEST_HARNESS_MAIN
