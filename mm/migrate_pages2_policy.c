// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2(2): MIGRATE_PAGES2_UPDATE_POLICY, the targets' memory
 * policies rewritten through the call's pairs before their pages move, so
 * that pages faulted in during and after the call follow the move.
 *
 * Rewritten: the policy of every VMA that intersects the range, split at
 * the range's ends as mbind() splits (a hugetlb VMA at the huge pages the
 * range touches, which the move takes whole); with MIGRATE_PAGES2_MOVE_ALL
 * only, the shared policy of a shmem file (memfd, SysV SHM over shmem),
 * which places every mapper's pages, on the file's tree for the part of
 * the file the range maps, without splitting the target's VMA; and with no
 * range, the task policy of every thread of each target.
 *
 * The cost follows the policies present: a VMA's policy is read once, a
 * file's tree is visited policy by policy, never page by page.  The mmap
 * lock is taken for writing for one VMA's rewrite at a time (never for a
 * dry run), and a fatal signal ends the pass.
 *
 * A node set is rewritten node by node: a source of a pair is replaced by
 * its destination, other nodes stay; the mode and its flags stay, an
 * MPOL_F_STATIC_NODES user nodemask is rewritten the same way, and an
 * MPOL_F_RELATIVE_NODES one (positions in the cpuset's mems) recomputed
 * from the rewritten nodes.  A policy counts when its nodes change.
 * Default and local policies have no nodes and are left alone.
 */

#include <linux/cgroup.h>
#include <linux/cpuset.h>
#include <linux/file.h>
#include <linux/hugetlb.h>
#include <linux/mempolicy.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/nodemask.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
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

/* @rel = the positions in @mems of the nodes of @nodes (0 for the first). */
static void mp2_relative_nodes(const nodemask_t *nodes, const nodemask_t *mems,
			       nodemask_t *rel)
{
	int nid, pos = 0;

	nodes_clear(*rel);
	for_each_node_mask(nid, *mems) {
		if (node_isset(nid, *nodes))
			node_set(pos, *rel);
		pos++;
	}
}

/**
 * mp2_rewrite_policy - rewrite a memory policy's nodes through a call's pairs
 * @call: the call, its node map built
 * @pol: the policy, rewritten in place
 * @mems: what an MPOL_F_RELATIVE_NODES policy is relative to: the
 *	target's cpuset mems with memory
 *
 * Each node of @pol's set that is a source of a pair becomes its
 * destination; other nodes stay, and so does the home node.  The mode and
 * flags stay.  An MPOL_F_STATIC_NODES user nodemask is rewritten the same
 * way.  An MPOL_F_RELATIVE_NODES one holds positions in @mems, not nodes:
 * it is recomputed from the rewritten nodes, so that a later cpuset
 * rebind keeps the rewrite.  Default and local policies have no nodes.
 *
 * Context: any; the caller keeps @pol from being freed or read unlocked.
 * Return: true if @pol's nodes (or home node) changed; false if none of
 * them is a source, and @pol is as it was.
 */
VISIBLE_IF_KUNIT bool mp2_rewrite_policy(const struct mp2_call *call,
					 struct mempolicy *pol,
					 const nodemask_t *mems)
{
	nodemask_t nodes, user;
	bool changed;
	int home;

	if (!pol || pol->mode == MPOL_DEFAULT || pol->mode == MPOL_LOCAL)
		return false;
	changed = mp2_rewrite_nodes(call, &pol->nodes, &nodes);
	home = pol->home_node;
	if (home != NUMA_NO_NODE && call->map[home] != NUMA_NO_NODE)
		home = call->map[home];
	changed |= home != pol->home_node;
	if (!changed)
		return false;
	if (pol->flags & MPOL_F_STATIC_NODES) {
		mp2_rewrite_nodes(call, &pol->w.user_nodemask, &user);
		pol->w.user_nodemask = user;
	} else if (pol->flags & MPOL_F_RELATIVE_NODES) {
		mp2_relative_nodes(&nodes, mems, &user);
		pol->w.user_nodemask = user;
	}
	/*
	 * A thread's own policy is rewritten in place, as a cpuset rebind
	 * does, while the thread may allocate by it: its nodes are never
	 * empty on the way (the new nodes join word by word, then the old
	 * ones leave), so an allocation sees old nodes, new ones, or both.
	 */
	nodes_or(pol->nodes, pol->nodes, nodes);
	nodes_and(pol->nodes, pol->nodes, nodes);
	WRITE_ONCE(pol->home_node, home);
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(mp2_rewrite_policy);

/* A rewritten copy of @pol, NULL if it needs none, or an ERR_PTR(). */
static struct mempolicy *mp2_rewritten_copy(const struct mp2_call *call,
					    struct mempolicy *pol,
					    const nodemask_t *mems)
{
	struct mempolicy *new;

	if (!pol || pol->mode == MPOL_DEFAULT || pol->mode == MPOL_LOCAL)
		return NULL;
	new = mpol_dup(pol);
	if (IS_ERR(new))
		return new;
	/* A copy of a file's shared policy is not one itself. */
	new->flags &= ~MPOL_F_SHARED;
	if (!mp2_rewrite_policy(call, new, mems)) {
		mpol_put(new);
		return NULL;
	}
	return new;
}

/*
 * A range of a file whose shared policy this call has rewritten (or, for
 * a dry run, counted): a second mapping of the file, in this target or
 * another, must not rewrite it again (a swap would swap it back).
 */
struct mp2_file_range {
	struct list_head link;
	struct file *file;
	pgoff_t start;
	pgoff_t end;
};

/* The policy pass of one call; @mems: the target's cpuset mems with memory. */
struct mp2_policy_pass {
	struct mp2_call *call;
	struct list_head files;
	nodemask_t mems;
};

/* What mp2_find_next() found to rewrite in a target. */
struct mp2_found {
	unsigned long start;
	unsigned long end;
	struct mempolicy *new;	/* a VMA's policy, rewritten */
	struct file *file;	/* a file's shared policy, for [pgstart, pgend) */
	pgoff_t pgstart;
	pgoff_t pgend;
};

/*
 * A file's shared policy (shmem, memfd, SysV SHM over shmem: the SysV
 * segment's file shares the shmem inode) places every mapper's pages, not
 * the target's alone.
 */
static bool mp2_has_shared_policy(struct vm_area_struct *vma)
{
	return vma->vm_file && shmem_file(vma->vm_file) &&
	       vma->vm_ops && vma->vm_ops->get_policy;
}

/*
 * The first VMA of @mm at or after @addr in the call's range with a policy
 * the pairs change: its range in @f, with the rewritten policy of a VMA or,
 * for a mapping with a shared policy (rewritten only with MOVE_ALL), the
 * file and the range of it that the VMA maps.  A hugetlb VMA's range is
 * widened to whole huge pages, as the move takes them.  The policy of a
 * VMA is read as it is, not page by page: the cost is one step per VMA.
 * Return: 1 if found, 0 if none, or -ENOMEM.
 */
static int mp2_find_next(struct mp2_policy_pass *pass, struct mm_struct *mm,
			 unsigned long addr, struct mp2_found *f)
{
	VMA_ITERATOR(vmi, mm, addr);
	struct mp2_call *call = pass->call;
	struct vm_area_struct *vma;

	mmap_assert_locked(mm);
	for_each_vma_range(vmi, vma, call->end) {
		struct mempolicy *new;

		f->start = max(addr, vma->vm_start);
		f->end = min(call->end, vma->vm_end);
		if (mp2_has_shared_policy(vma)) {
			if (!(call->flags & MIGRATE_PAGES2_MOVE_ALL))
				continue;
			f->new = NULL;
			f->file = get_file(vma->vm_file);
			f->pgstart = linear_page_index(vma, f->start);
			f->pgend = linear_page_index(vma, f->end);
			return 1;
		}
		/* Another ->get_policy (SysV SHM on hugetlbfs keeps the VMA's). */
		if (vma->vm_ops && vma->vm_ops->get_policy &&
		    !is_vm_hugetlb_page(vma))
			continue;
		new = mp2_rewritten_copy(call, vma->vm_policy, &pass->mems);
		if (IS_ERR(new))
			return PTR_ERR(new);
		if (!new)
			continue;
		if (is_vm_hugetlb_page(vma)) {
			unsigned long size = vma_kernel_pagesize(vma);

			f->start = ALIGN_DOWN(f->start, size);
			f->end = min(ALIGN(f->end, size), vma->vm_end);
		}
		f->new = new;
		f->file = NULL;
		return 1;
	}
	return 0;
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

/*
 * Where the part of [@start, @end) of @inode that this call has not
 * visited yet begins (in *@start) and ends (in *@end); false if it has
 * visited all of it.
 */
static bool mp2_file_unvisited(struct mp2_policy_pass *pass,
			       struct inode *inode, pgoff_t *start, pgoff_t *end)
{
	pgoff_t stop = *end;
	struct mp2_file_range *r;
	bool moved;

	do {
		moved = false;
		*end = stop;
		list_for_each_entry(r, &pass->files, link) {
			if (file_inode(r->file) != inode)
				continue;
			if (r->start <= *start && *start < r->end) {
				*start = r->end;
				moved = true;
			} else if (*start < r->start && r->start < *end) {
				*end = r->start;
			}
		}
	} while (moved && *start < stop);
	return *start < *end;
}

/*
 * Rewrite the shared policy of [@start, @end) of @file: one step per
 * policy its tree has there, whatever the size of the range.  Neither the
 * target's mmap lock nor its VMAs are involved.
 */
static int mp2_update_file_range(struct mp2_policy_pass *pass, struct file *file,
				 pgoff_t start, pgoff_t end)
{
	struct shared_policy *sp = &SHMEM_I(file_inode(file))->policy;
	struct mp2_call *call = pass->call;
	bool dry = call->flags & MIGRATE_PAGES2_DRY_RUN;

	while (start < end) {
		struct mempolicy *pol, *new;
		pgoff_t from = start, to = end;
		int err = 0;

		if (fatal_signal_pending(current))
			return -EINTR;
		pol = mpol_shared_policy_range(sp, &from, &to);
		if (!pol)
			break;
		new = mp2_rewritten_copy(call, pol, &pass->mems);
		mpol_cond_put(pol);
		if (IS_ERR(new))
			return PTR_ERR(new);
		if (new && !dry)
			err = mpol_set_shared_policy_range(sp, from, to, new);
		if (new && !err)
			call->stats.policies++;
		mpol_put(new);
		if (err)
			return err;
		start = to;
		cond_resched();
	}
	return 0;
}

/* The shared policy of the part of @f's file range not visited yet. */
static int mp2_update_file_policy(struct mp2_policy_pass *pass,
				  struct mp2_found *f)
{
	struct inode *inode = file_inode(f->file);
	pgoff_t start = f->pgstart;
	struct mp2_file_range *r;
	int err;

	while (start < f->pgend) {
		pgoff_t end = f->pgend;

		if (!mp2_file_unvisited(pass, inode, &start, &end))
			break;
		r = kmalloc_obj(*r);
		if (!r)
			return -ENOMEM;
		r->file = get_file(f->file);
		r->start = start;
		r->end = end;
		list_add(&r->link, &pass->files);
		err = mp2_update_file_range(pass, f->file, start, end);
		if (err)
			return err;
		start = end;
	}
	return 0;
}

/*
 * The policies of @mm's VMAs in the call's range, one VMA at a time: the
 * mmap lock is taken for reading to find the next one the pairs change,
 * and for writing only to rewrite that one VMA's (a dry run never takes
 * it for writing).  A shared policy is rewritten on the file, with no
 * mmap lock held.  A fatal signal ends the pass between two VMAs.
 */
static int mp2_update_vma_policies(struct mp2_policy_pass *pass,
				   struct mm_struct *mm)
{
	struct mp2_call *call = pass->call;
	bool dry = call->flags & MIGRATE_PAGES2_DRY_RUN;
	unsigned long addr = call->start;
	bool write = false;
	struct mp2_found f;
	int err, found;

	while (addr < call->end) {
		if (fatal_signal_pending(current))
			return -EINTR;
		err = write ? mmap_write_lock_killable(mm) :
			      mmap_read_lock_killable(mm);
		if (err)
			return -EINTR;
		found = mp2_find_next(pass, mm, addr, &f);
		err = 0;
		if (found > 0 && f.new && write)
			err = mp2_apply_policy(mm, f.start, f.end, f.new);
		if (write)
			mmap_write_unlock(mm);
		else
			mmap_read_unlock(mm);
		if (found <= 0)
			return found;
		if (f.file) {
			err = mp2_update_file_policy(pass, &f);
			fput(f.file);
		} else {
			mpol_put(f.new);
			/* Found under the read lock: again, to write it. */
			if (!dry && !write) {
				write = true;
				continue;
			}
			call->stats.policies += !err;
		}
		if (err)
			return err;
		write = false;
		addr = f.end;
	}
	return 0;
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

#ifdef CONFIG_CGROUPS
/*
 * No thread joins the list while it is held for writing; a thread that
 * joins after takes its creator's policy as it is then
 * (mpol_fork_listed()).
 */
static void mp2_threads_lock(void)
{
	percpu_down_write(&cgroup_threadgroup_rwsem);
}

static void mp2_threads_unlock(void)
{
	percpu_up_write(&cgroup_threadgroup_rwsem);
}
#else
static void mp2_threads_lock(void) { }
static void mp2_threads_unlock(void) { }
#endif

/*
 * The task policy of every thread of @task's process, rewritten in place
 * as a cpuset change rebinds it: under the task lock and its
 * mems_allowed seqcount, so that an allocation reading it retries.  The
 * caller holds mp2_threads_lock(): a thread created meanwhile is
 * rewritten here or copies a rewritten policy.
 */
static void mp2_update_task_policies(struct mp2_call *call,
				     struct task_struct *task)
{
	bool dry = call->flags & MIGRATE_PAGES2_DRY_RUN;
	struct task_struct *t;

	rcu_read_lock();
	for_each_thread(task, t) {
		struct mempolicy copy;
		nodemask_t mems;

		mems = cpuset_mems_allowed(t);
		nodes_and(mems, mems, node_states[N_MEMORY]);
		task_lock(t);
		if (dry) {
			if (t->mempolicy) {
				copy = *t->mempolicy;
				call->stats.policies +=
					mp2_rewrite_policy(call, &copy, &mems);
			}
		} else {
			mp2_begin_policy_change(t);
			call->stats.policies +=
				mp2_rewrite_policy(call, t->mempolicy, &mems);
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
 * VMA policies in the call's range, shared policies of the files it maps
 * (with MIGRATE_PAGES2_MOVE_ALL), each file range once per call, and with
 * no range the task policies of every thread.  Runs before any page
 * moves; if it fails, what it rewrote stays rewritten (as with mbind())
 * and is counted in stats.policies.
 *
 * Context: process context, no locks held; takes each mm's mmap lock for
 * reading, and for writing around one VMA's rewrite at a time.
 * Return: 0, -EINTR on a fatal signal, or -ENOMEM (a VMA could not be
 * split, or a policy not allocated).
 */
int mp2_update_policies(struct mp2_call *call, struct task_struct **tasks,
			struct mm_struct **mms, u32 nr)
{
	bool whole = !call->start && call->end == TASK_SIZE_MAX;
	struct mp2_policy_pass pass = { .call = call };
	struct mp2_file_range *r, *next;
	int err = 0;
	u32 i;

	INIT_LIST_HEAD(&pass.files);
	for (i = 0; i < nr && !err; i++) {
		if (!mmget_not_zero(mms[i]))
			continue;
		pass.mems = cpuset_mems_allowed(tasks[i]);
		nodes_and(pass.mems, pass.mems, node_states[N_MEMORY]);
		err = mp2_update_vma_policies(&pass, mms[i]);
		mmput(mms[i]);
	}
	/*
	 * The task policies last, all targets under one hold of the lock that
	 * keeps threads from joining (taken with no mmap lock held: a forking
	 * thread holds its mmap lock before it takes that lock for reading).
	 */
	if (!err && whole) {
		bool dry = call->flags & MIGRATE_PAGES2_DRY_RUN;

		if (!dry)
			mp2_threads_lock();
		for (i = 0; i < nr; i++)
			mp2_update_task_policies(call, tasks[i]);
		if (!dry)
			mp2_threads_unlock();
	}
	list_for_each_entry_safe(r, next, &pass.files, link) {
		fput(r->file);
		kfree(r);
	}
	return err;
}
