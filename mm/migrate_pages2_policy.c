// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2(2): MIGRATE_PAGES2_UPDATE_POLICY, the targets' memory
 * policies rewritten through the call's pairs before their pages move, so
 * that pages faulted in during and after the call follow the move.
 *
 * Rewritten: the policy of every VMA that intersects the range, split at
 * the range's ends as mbind() splits; for a shmem mapping (and SysV SHM
 * over shmem), the file's shared policy, run by run of pages with one
 * policy, for the part the range maps (its set_policy() rewrites the
 * file's tree; hugetlbfs has no shared policy, only VMA policies); and
 * with no range, the task policy of every thread of each target.
 *
 * A node set is rewritten node by node: a source of a pair is replaced by
 * its destination, other nodes stay; the mode and its flags stay, and a
 * user nodemask (MPOL_F_STATIC_NODES, MPOL_F_RELATIVE_NODES) is rewritten
 * the same way.  Default and local policies have no nodes and are left
 * alone.
 */

#include <linux/hugetlb.h>
#include <linux/mempolicy.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/nodemask.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <kunit/visibility.h>

#include "internal.h"
#include "migrate_pages2.h"

/* @to = @from, each source node of the call replaced by its destination. */
static bool mp2_rewrite_nodes(const struct mp2_call *call, const nodemask_t *from,
			      nodemask_t *to)
{
	bool changed = false;
	int nid;

	nodes_clear(*to);
	for_each_node_mask(nid, *from) {
		int dest = call->map[nid];

		if (dest == NUMA_NO_NODE)
			dest = nid;
		changed |= dest != nid;
		node_set(dest, *to);
	}
	return changed;
}

/**
 * mp2_rewrite_policy - rewrite a memory policy's nodes through a call's pairs
 * @call: the call, its node map built
 * @pol: the policy, rewritten in place
 *
 * Each node of @pol's set that is a source of a pair becomes its
 * destination; other nodes stay.  So does a user nodemask
 * (MPOL_F_STATIC_NODES, MPOL_F_RELATIVE_NODES) and the home node.  The mode
 * and flags stay.  Default and local policies have no nodes.
 *
 * Context: any; the caller keeps @pol from being freed or read unlocked.
 * Return: true if @pol changed; false if none of its nodes is a source,
 * and @pol is as it was.
 */
VISIBLE_IF_KUNIT bool mp2_rewrite_policy(const struct mp2_call *call,
					 struct mempolicy *pol)
{
	nodemask_t nodes, user = NODE_MASK_NONE;
	bool changed;
	int home;

	if (!pol || pol->mode == MPOL_DEFAULT || pol->mode == MPOL_LOCAL)
		return false;
	changed = mp2_rewrite_nodes(call, &pol->nodes, &nodes);
	if (pol->flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES))
		changed |= mp2_rewrite_nodes(call, &pol->w.user_nodemask, &user);
	home = pol->home_node;
	if (home != NUMA_NO_NODE && call->map[home] != NUMA_NO_NODE)
		home = call->map[home];
	changed |= home != pol->home_node;
	if (!changed)
		return false;
	pol->nodes = nodes;
	if (pol->flags & (MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES))
		pol->w.user_nodemask = user;
	pol->home_node = home;
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(mp2_rewrite_policy);

/* A rewritten copy of @pol, NULL if it needs none, or an ERR_PTR(). */
static struct mempolicy *mp2_rewritten_copy(const struct mp2_call *call,
					    struct mempolicy *pol)
{
	struct mempolicy *new;

	if (!pol || pol->mode == MPOL_DEFAULT || pol->mode == MPOL_LOCAL)
		return NULL;
	new = mpol_dup(pol);
	if (IS_ERR(new))
		return new;
	/* A copy of a file's shared policy is not one itself. */
	new->flags &= ~MPOL_F_SHARED;
	if (!mp2_rewrite_policy(call, new)) {
		mpol_put(new);
		return NULL;
	}
	return new;
}

/*
 * The policy of @vma at @addr, and in *@end where the run of pages with
 * that same policy ends (at most @stop).  A file's shared policy (shmem)
 * can change within a mapping: it is read page by page.
 */
static struct mempolicy *mp2_policy_run(struct vm_area_struct *vma,
					unsigned long addr, unsigned long stop,
					unsigned long *end)
{
	unsigned long step = vma_kernel_pagesize(vma);
	struct mempolicy *pol, *next;
	pgoff_t ilx;
	bool same;

	pol = __get_vma_policy(vma, addr, &ilx);
	*end = stop;
	if (!vma->vm_ops || !vma->vm_ops->get_policy)
		return pol;
	for (addr += step; addr < stop; addr += step) {
		next = __get_vma_policy(vma, addr, &ilx);
		same = mpol_equal(pol, next);
		mpol_cond_put(next);
		if (!same) {
			*end = addr;
			break;
		}
	}
	return pol;
}

/*
 * The next run of pages in [*@addr, the call's end) with one policy that
 * the pairs change: its bounds in *@addr and *@end, and the rewritten
 * policy; NULL if there is none, or an ERR_PTR().
 */
static struct mempolicy *mp2_next_run(struct mp2_call *call, struct mm_struct *mm,
				      unsigned long *addr, unsigned long *end)
{
	VMA_ITERATOR(vmi, mm, *addr);
	struct vm_area_struct *vma;

	for_each_vma_range(vmi, vma, call->end) {
		unsigned long start = max(*addr, vma->vm_start);
		unsigned long stop = min(call->end, vma->vm_end);

		while (start < stop) {
			struct mempolicy *pol, *new;

			pol = mp2_policy_run(vma, start, stop, end);
			new = mp2_rewritten_copy(call, pol);
			mpol_cond_put(pol);
			if (new) {
				*addr = start;
				return new;
			}
			start = *end;
			cond_resched();
		}
	}
	return NULL;
}

/* Apply @new to [@start, @end) of one VMA of @mm, splitting it there. */
static int mp2_apply_policy(struct mm_struct *mm, unsigned long start,
			    unsigned long end, struct mempolicy *new)
{
	VMA_ITERATOR(vmi, mm, start);
	struct vm_area_struct *vma, *prev;
	int err = 0;

	prev = vma_prev(&vmi);
	for_each_vma_range(vmi, vma, end) {
		vma_start_write(vma);
		err = mbind_range(&vmi, vma, &prev, start, end, new);
		if (err)
			break;
	}
	return err;
}

/* The VMAs of @mm in the call's range, split at its ends and at runs. */
static int mp2_update_vma_policies(struct mp2_call *call, struct mm_struct *mm)
{
	bool dry = call->flags & MIGRATE_PAGES2_DRY_RUN;
	unsigned long addr = call->start, end;
	struct mempolicy *new;
	int err = 0;

	if (mmap_write_lock_killable(mm))
		return -EINTR;
	while (!err && addr < call->end) {
		new = mp2_next_run(call, mm, &addr, &end);
		if (IS_ERR_OR_NULL(new)) {
			err = PTR_ERR_OR_ZERO(new);
			break;
		}
		if (!dry)
			err = mp2_apply_policy(mm, addr, end, new);
		mpol_put(new);
		call->stats.policies += !err;
		addr = end;
	}
	mmap_write_unlock(mm);
	return err;
}

#ifdef CONFIG_CPUSETS
/* Allocations that read a task's policy retry if it changed meanwhile. */
static void mp2_begin_policy_change(struct task_struct *t)
{
	local_irq_disable();
	write_seqcount_begin(&t->mems_allowed_seq);
}

static void mp2_end_policy_change(struct task_struct *t)
{
	write_seqcount_end(&t->mems_allowed_seq);
	local_irq_enable();
}
#else
static void mp2_begin_policy_change(struct task_struct *t) { }
static void mp2_end_policy_change(struct task_struct *t) { }
#endif

/*
 * The task policy of every thread of @task's process, rewritten in place
 * as a cpuset change rebinds it: under the task lock and its
 * mems_allowed seqcount, so that an allocation reading it retries.
 */
static void mp2_update_task_policies(struct mp2_call *call,
				     struct task_struct *task)
{
	bool dry = call->flags & MIGRATE_PAGES2_DRY_RUN;
	struct task_struct *t;

	rcu_read_lock();
	for_each_thread(task, t) {
		struct mempolicy copy;

		task_lock(t);
		if (dry) {
			if (t->mempolicy) {
				copy = *t->mempolicy;
				call->stats.policies += mp2_rewrite_policy(call, &copy);
			}
		} else {
			mp2_begin_policy_change(t);
			call->stats.policies += mp2_rewrite_policy(call, t->mempolicy);
			mp2_end_policy_change(t);
		}
		task_unlock(t);
	}
	rcu_read_unlock();
}

/**
 * mp2_update_policies - rewrite the targets' policies through the pairs
 * @call: the call, with MIGRATE_PAGES2_UPDATE_POLICY; stats.policies
 *	counts what was (or, for a dry run, would be) rewritten
 * @tasks: a task of each target, @tasks[i] using @mms[i]
 * @mms: the targets' mms, held by mmgrab()
 * @nr: entries in @tasks and @mms
 *
 * VMA policies in the call's range, and with no range the task policies
 * of every thread.  Runs before any page moves; if it fails, what it
 * rewrote stays rewritten, as with mbind().
 *
 * Context: process context, no locks held; takes each mm's mmap lock for
 * writing once.
 * Return: 0, -EINTR, or -ENOMEM if a VMA could not be split.
 */
int mp2_update_policies(struct mp2_call *call, struct task_struct **tasks,
			struct mm_struct **mms, u32 nr)
{
	bool whole = !call->start && call->end == TASK_SIZE_MAX;
	int err = 0;
	u32 i;

	for (i = 0; i < nr && !err; i++) {
		if (!mmget_not_zero(mms[i]))
			continue;
		err = mp2_update_vma_policies(call, mms[i]);
		mmput(mms[i]);
		if (!err && whole)
			mp2_update_task_policies(call, tasks[i]);
	}
	return err;
}
