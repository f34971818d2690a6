// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2(2): move the pages of a set of processes between NUMA
 * nodes through explicit (source, destination) pairs, in one pass over each
 * address space, optionally limited to a range, and report what happened.
 *
 * This file takes the request apart: it copies and checks the arguments,
 * builds the node map, resolves and checks every target before anything
 * moves, and writes the statistics back.  The pages are moved by
 * mm/migrate_pages2_move.c.
 */

#include <linux/capability.h>
#include <linux/cpuset.h>
#include <linux/limits.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <kunit/visibility.h>

#include "migrate_pages2.h"

#define CREATE_TRACE_POINTS
#include <trace/events/migrate_pages2.h>

/**
 * mp2_check_args - check the scalar fields of a migrate_pages2() request
 * @args: the request, copied from user space
 *
 * Context: any; it reads nothing but @args.
 * Return: 0, or -EINVAL for an unknown flag, a count out of range (pids,
 * pairs, workers), a non-zero reserved field, or a range that is not page
 * aligned, overflows, or has a start without a length; -EOPNOTSUPP for
 * MIGRATE_PAGES2_LAZY in a kernel without NUMA hinting faults
 * (CONFIG_NUMA_BALANCING).
 */
VISIBLE_IF_KUNIT int mp2_check_args(const struct migrate_pages_args *args)
{
	if (args->flags & ~MIGRATE_PAGES2_FLAGS)
		return -EINVAL;
	if (args->flags & MIGRATE_PAGES2_LAZY &&
	    !IS_ENABLED(CONFIG_MIGRATE_PAGES2_LAZY))
		return -EOPNOTSUPP;
	if (!args->nr_pids || args->nr_pids > MIGRATE_PAGES2_MAX_PIDS)
		return -EINVAL;
	if (!args->nr_nodes || args->nr_nodes > MAX_NUMNODES)
		return -EINVAL;
	if (args->workers > MIGRATE_PAGES2_MAX_WORKERS || args->reserved)
		return -EINVAL;
	if (args->start & ~PAGE_MASK || args->start > ULONG_MAX)
		return -EINVAL;
	if (!args->len)
		return args->start ? -EINVAL : 0;
	/* The range's end, rounded up to a page, must not wrap. */
	if (args->len > (ULONG_MAX & PAGE_MASK) - args->start)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mp2_check_args);

static bool mp2_node_valid(s32 nid)
{
	return nid >= 0 && nid < MAX_NUMNODES;
}

/**
 * mp2_build_map - turn the (source, destination) pairs into a node map
 * @call: the call whose map, moving and destination masks are filled
 * @old_nodes: source node of each pair, or MIGRATE_PAGES2_ANY_NODE
 * @new_nodes: destination node of each pair
 * @nr_nodes: number of pairs
 *
 * MIGRATE_PAGES2_ANY_NODE maps every node that no other pair names as a
 * source.  A pair whose source is its destination is kept in the map but
 * moves nothing.  With MIGRATE_PAGES2_LAZY in @call's flags, no node that
 * a pair moves pages to may be the source of a pair that moves pages (a
 * chain, swap or cycle): a page moved on one touch would move again on
 * the next.
 *
 * Context: any.
 * Return: 0, or -EINVAL for a node id out of range, a source named twice,
 * two ANY_NODE pairs, a destination without memory, or a lazy map with a
 * chain.
 */
VISIBLE_IF_KUNIT int mp2_build_map(struct mp2_call *call, const s32 *old_nodes,
				   const s32 *new_nodes, u32 nr_nodes)
{
	nodemask_t named = NODE_MASK_NONE;
	int any = NUMA_NO_NODE;
	int nid;
	u32 i;

	for (nid = 0; nid < MAX_NUMNODES; nid++)
		call->map[nid] = NUMA_NO_NODE;
	nodes_clear(call->dests);
	for (i = 0; i < nr_nodes; i++) {
		if (!mp2_node_valid(new_nodes[i]) ||
		    !node_state(new_nodes[i], N_MEMORY))
			return -EINVAL;
		node_set(new_nodes[i], call->dests);
		if (old_nodes[i] == MIGRATE_PAGES2_ANY_NODE) {
			if (any != NUMA_NO_NODE)
				return -EINVAL;
			any = new_nodes[i];
			continue;
		}
		if (!mp2_node_valid(old_nodes[i]) || node_isset(old_nodes[i], named))
			return -EINVAL;
		node_set(old_nodes[i], named);
		call->map[old_nodes[i]] = new_nodes[i];
	}

	if (any != NUMA_NO_NODE)
		for (nid = 0; nid < MAX_NUMNODES; nid++)
			if (!node_isset(nid, named))
				call->map[nid] = any;
	mp2_map_done(call);
	if (call->flags & MIGRATE_PAGES2_LAZY && call->track_moved)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(mp2_build_map);

/*
 * copy_struct_from_user() checks that a larger struct's tail is zero, byte
 * by byte and without rescheduling: a page is the most it is asked to read.
 */
static int mp2_copy_args(struct migrate_pages_args *args,
			 const struct migrate_pages_args __user *uargs,
			 size_t usize)
{
	if (usize < MIGRATE_PAGES_ARGS_SIZE_VER0)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(args, sizeof(*args), uargs, usize);
}

static s32 *mp2_copy_array(u64 uptr, u32 nr)
{
	return memdup_array_user(u64_to_user_ptr(uptr), nr, sizeof(s32));
}

/**
 * struct mp2_request - the arrays of a request, copied in
 * @pids: target pids or pidfds, NULL for the caller alone
 * @old_nodes: source node of each pair
 * @new_nodes: destination node of each pair
 * @mms: the distinct mms of the targets, each held by mmgrab(): a target
 *	that exits during the call frees its memory and is not walked
 * @tasks: a task using each of @mms, held (its threads' policies are
 *	rewritten with MIGRATE_PAGES2_UPDATE_POLICY)
 * @nr_mms: entries in @mms and @tasks
 */
struct mp2_request {
	s32 *pids;
	s32 *old_nodes;
	s32 *new_nodes;
	struct mm_struct **mms;
	struct task_struct **tasks;
	u32 nr_mms;
};

static void mp2_free_request(struct mp2_request *req)
{
	u32 i;

	for (i = 0; i < req->nr_mms; i++) {
		mmdrop(req->mms[i]);
		put_task_struct(req->tasks[i]);
	}
	kfree(req->mms);
	kfree(req->tasks);
	kfree(req->pids);
	kfree(req->old_nodes);
	kfree(req->new_nodes);
}

static int mp2_copy_request(struct mp2_request *req,
			    const struct migrate_pages_args *args)
{
	s32 *p;

	p = mp2_copy_array(args->old_nodes, args->nr_nodes);
	if (IS_ERR(p))
		return PTR_ERR(p);
	req->old_nodes = p;
	p = mp2_copy_array(args->new_nodes, args->nr_nodes);
	if (IS_ERR(p))
		return PTR_ERR(p);
	req->new_nodes = p;
	if (!args->pids)
		return 0;
	p = mp2_copy_array(args->pids, args->nr_pids);
	if (IS_ERR(p))
		return PTR_ERR(p);
	req->pids = p;
	return 0;
}

/*
 * The task a pidfd refers to.  A thread's pidfd (PIDFD_THREAD) names its
 * process, as the thread's id does.
 */
static struct task_struct *mp2_pidfd_task(int fd)
{
	struct task_struct *task;
	unsigned int f_flags;
	struct pid *pid;

	pid = pidfd_get_pid(fd, &f_flags);
	if (IS_ERR(pid))
		return ERR_CAST(pid);
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	return task ? task : ERR_PTR(-ESRCH);
}

static struct task_struct *mp2_get_task(s32 id, bool pidfd)
{
	struct task_struct *task;

	if (pidfd)
		return mp2_pidfd_task(id);
	if (!id) {
		get_task_struct(current);
		return current;
	}
	task = find_get_task_by_vpid(id);
	return task ? task : ERR_PTR(-ESRCH);
}

/*
 * mm_access() says -ESRCH for a task without an mm: a kernel thread, or a
 * process that has exited, which a pidfd still names (ESRCH) and a pid of
 * an unreaped process too (EINVAL, as for migrate_pages(2)).
 */
static int mp2_no_mm(struct task_struct *task, bool pidfd)
{
	return pidfd && !(task->flags & PF_KTHREAD) ? -ESRCH : -EINVAL;
}

/*
 * mainline migrate_pages(2)'s rules, on a task whose mm we hold through
 * mm_access(), so an exec cannot slip between the check and the walk.
 * mm_access() also lets a perfmon_capable() caller read any mm; moving
 * pages is not reading them, so ptrace_may_access() decides alone, as it
 * does for migrate_pages(2).  Rewriting a target's policies, or leaving
 * it a lazy map that steers its hinting faults until it execs, changes
 * how it behaves from then on: that takes the right to attach, not to
 * read (a dry run changes nothing).
 */
static struct mm_struct *mp2_get_mm(struct mp2_call *call,
				    struct task_struct *task)
{
	bool lasting = call->flags & MIGRATE_PAGES2_UPDATE_POLICY ||
		       (call->flags & (MIGRATE_PAGES2_LAZY | MIGRATE_PAGES2_DRY_RUN)) ==
		       MIGRATE_PAGES2_LAZY;
	unsigned int mode = lasting ? PTRACE_MODE_ATTACH_REALCREDS :
				      PTRACE_MODE_READ_REALCREDS;
	struct mm_struct *mm;
	nodemask_t allowed;
	int err;

	mm = mm_access(task, PTRACE_MODE_READ_REALCREDS);
	if (IS_ERR_OR_NULL(mm)) {
		err = PTR_ERR_OR_ZERO(mm);
		if (err == -EACCES)
			return ERR_PTR(-EPERM);
		if (!err || err == -ESRCH)
			err = mp2_no_mm(task, call->flags & MIGRATE_PAGES2_PIDFD);
		return ERR_PTR(err);
	}
	err = -EPERM;
	if (mm != current->mm && !ptrace_may_access(task, mode))
		goto out_put;
	allowed = cpuset_mems_allowed(task);
	if (!nodes_subset(call->dests, allowed) && !capable(CAP_SYS_NICE))
		goto out_put;
	nodes_and(call->touch_mems, call->touch_mems, allowed);
	err = security_task_movememory(task);
	if (err)
		goto out_put;
	return mm;
out_put:
	mmput(mm);
	return ERR_PTR(err);
}

static bool mp2_has_mm(const struct mp2_request *req, struct mm_struct *mm)
{
	u32 i;

	for (i = 0; i < req->nr_mms; i++)
		if (req->mms[i] == mm)
			return true;
	return false;
}

/* Resolve and check every target before any page moves. */
static int mp2_get_targets(struct mp2_call *call, struct mp2_request *req,
			   u32 nr_pids)
{
	bool pidfd = call->flags & MIGRATE_PAGES2_PIDFD;
	struct task_struct *task;
	struct mm_struct *mm;
	u32 i;

	if (!req->pids)
		nr_pids = 1;
	req->mms = kcalloc(nr_pids, sizeof(*req->mms), GFP_KERNEL);
	req->tasks = kcalloc(nr_pids, sizeof(*req->tasks), GFP_KERNEL);
	if (!req->mms || !req->tasks)
		return -ENOMEM;
	nodes_setall(call->touch_mems);
	for (i = 0; i < nr_pids; i++) {
		task = req->pids ? mp2_get_task(req->pids[i], pidfd) :
				   mp2_get_task(0, false);
		if (IS_ERR(task))
			return PTR_ERR(task);
		mm = mp2_get_mm(call, task);
		if (IS_ERR(mm)) {
			put_task_struct(task);
			return PTR_ERR(mm);
		}
		if (!mp2_has_mm(req, mm)) {
			mmgrab(mm);
			req->tasks[req->nr_mms] = task;
			req->mms[req->nr_mms++] = mm;
		} else {
			put_task_struct(task);
		}
		mmput(mm);
	}
	return 0;
}

static int mp2_check_caller(struct mp2_call *call)
{
	nodemask_t allowed = cpuset_mems_allowed(current);

	if (call->flags & MIGRATE_PAGES2_MOVE_ALL && !capable(CAP_SYS_NICE))
		return -EPERM;
	if (!nodes_subset(call->dests, allowed))
		return -EPERM;
	return 0;
}

static long mp2_result(const struct migrate_pages_stats *stats)
{
	u64 left = stats->shared + stats->busy + stats->no_memory;

	return min_t(u64, left, INT_MAX);
}

static int mp2_prepare(struct mp2_call *call, struct mp2_request *req,
		       const struct migrate_pages_args *args)
{
	int err;

	err = mp2_check_args(args);
	if (err)
		return err;
	call->flags = args->flags;
	call->start = args->start;
	call->end = args->len ? args->start + PAGE_ALIGN(args->len) : TASK_SIZE_MAX;
	err = mp2_copy_request(req, args);
	if (err)
		return err;
	err = mp2_build_map(call, req->old_nodes, req->new_nodes, args->nr_nodes);
	if (err)
		return err;
	err = mp2_check_caller(call);
	if (err)
		return err;
	return mp2_get_targets(call, req, args->nr_pids);
}

/*
 * Stats are written when the call succeeds, and when it stops part way
 * (EINTR, ENOMEM for the call's own bookkeeping while moving, or any error
 * once the policy pass has started): what moved stays moved, what was
 * rewritten stays rewritten, and the caller learns how much.
 */
static int mp2_write_stats(struct migrate_pages_stats __user *ustats,
			   const struct migrate_pages_stats *stats)
{
	if (ustats && copy_to_user(ustats, stats, sizeof(*stats)))
		return -EFAULT;
	return 0;
}

static long do_migrate_pages2(const struct migrate_pages_args __user *uargs,
			      size_t usize)
{
	struct migrate_pages_stats __user *ustats;
	struct mp2_request req = {};
	struct migrate_pages_args args;
	struct mp2_call *call;
	long ret;

	ret = mp2_copy_args(&args, uargs, usize);
	if (ret)
		return ret;
	call = kzalloc_obj(*call);
	if (!call)
		return -ENOMEM;
	xa_init(&call->seen);
	ustats = u64_to_user_ptr(args.stats);
	ret = mp2_prepare(call, &req, &args);
	if (ret) {
		/* A fatal signal while waiting for a target's exec to finish. */
		if (ret == -EINTR && mp2_write_stats(ustats, &call->stats))
			ret = -EFAULT;
		goto out;
	}

	/* Fail on an unwritable stats buffer before anything moves. */
	ret = -EFAULT;
	if (ustats && clear_user(ustats, sizeof(*ustats)))
		goto out;

	/* Policies first: pages faulted in during the move follow it. */
	if (call->flags & MIGRATE_PAGES2_UPDATE_POLICY) {
		ret = mp2_update_policies(call, req.tasks, req.mms, req.nr_mms);
		if (ret) {
			/* Nothing moved; what was rewritten stays: say how much. */
			if (mp2_write_stats(ustats, &call->stats))
				ret = -EFAULT;
			goto out;
		}
	}
	/* The map before the marks: a marked page's fault finds its pair. */
	if ((call->flags & (MIGRATE_PAGES2_LAZY | MIGRATE_PAGES2_DRY_RUN)) ==
	    MIGRATE_PAGES2_LAZY) {
		ret = mp2_lazy_install(call, req.mms, req.nr_mms);
		if (ret)
			goto out_stats;
	}
	ret = mp2_run(call, req.mms, req.nr_mms, args.workers);
	if (!ret && !(call->flags & MIGRATE_PAGES2_DRY_RUN))
		ret = mp2_result(&call->stats);
out_stats:
	if (mp2_write_stats(ustats, &call->stats))
		ret = -EFAULT;
	trace_migrate_pages2(req.pids, req.pids ? args.nr_pids : 0,
			     req.old_nodes, req.new_nodes, args.nr_nodes,
			     args.flags, &call->stats, call->batches, ret);
out:
	mp2_free_request(&req);
	xa_destroy(&call->seen);
	kfree(call);
	return ret;
}

/**
 * sys_migrate_pages2 - move processes' pages between NUMA nodes by pairs
 * @uargs: the request, a struct migrate_pages_args
 * @usize: sizeof(struct migrate_pages_args) as the caller knows it
 *
 * Every page of the targets found in the range on the source node of a pair
 * is moved to that pair's destination node, at most once per call.  See
 * Documentation/userspace-api/migrate_pages2.rst.
 *
 * Context: process context; sleeps.
 * Return: the number of pages on a source node that are still there (shared,
 * busy or without memory on the destination, capped at INT_MAX), 0 when all
 * moved or for a dry run (with MIGRATE_PAGES2_LAZY, pages deferred to their
 * next touch are not counted); or -EINVAL, -E2BIG, -EFAULT, -ESRCH, -EBADF,
 * -EPERM, -EINTR, -ENOMEM or -EOPNOTSUPP.  The statistics are written on success, on
 * -EINTR or -ENOMEM while pages were moving, and on any error once the
 * policy pass has started.
 */
SYSCALL_DEFINE2(migrate_pages2, const struct migrate_pages_args __user *, uargs,
		size_t, usize)
{
	return do_migrate_pages2(uargs, usize);
}
