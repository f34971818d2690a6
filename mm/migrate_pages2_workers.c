// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2(2): the walk of a call over its targets, batch by batch,
 * and the helper threads that move the batches.
 *
 * This file owns the call's batches and the threads; what one batch does
 * (filled under the target's mmap lock, moved, or dropped) is
 * mm/migrate_pages2_move.c's, which this file calls and which calls
 * nothing here.  mp2_run() is the engine's entry, for migrate_pages2()
 * and for migrate_pages(2) and cpusets (mm/migrate_pages2_remap.c).
 *
 * Moving a 4 KiB page costs far more than walking to it: unmap, TLB flush,
 * allocation, copy, remap.  So the caller alone walks the targets, batch by
 * batch, and with workers = n > 1 up to n - 1 helpers move the batches it
 * isolates while it walks on; when every batch is taken, the caller moves
 * one itself.  One walker keeps "at most once" as simple as without
 * helpers: the walk meets each folio in address order, once per mapping,
 * and records what it may meet again before any thread moves it.
 *
 * Helpers are threads of the caller, created as io_uring creates its io
 * workers (create_io_thread()): their CPU time is the caller's process's
 * and is charged to the caller's cgroup, they block every signal but
 * SIGKILL and SIGSTOP, and they exist only during the call.  They run on
 * the CPUs both the caller's cpuset and its affinity allow, housekeeping
 * CPUs only, those of the destination nodes first, so that the copy is
 * local to the new memory; there are no more threads than those CPUs.
 *
 * An io thread is not throttled by reclaim that makes no progress, so a
 * helper does not reclaim directly: what it cannot allocate for at once
 * on a full destination it leaves to the caller, which tries again with
 * direct reclaim, throttled as any task is.
 *
 * A call owns two batches per thread: the walker takes an idle one, or
 * moves a ready one itself if none is idle, so at most that many batches of
 * at most 2 MiB are isolated at once.  A fatal signal makes every thread
 * stop after its current batch; what is still queued is put back.
 */

#include <linux/cpumask.h>
#include <linux/cpuset.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/sched/isolation.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "internal.h"
#include "migrate_pages2.h"

#define MP2_BATCHES_PER_THREAD	2

/**
 * struct mp2_pool - a call's batches and helpers
 * @lock: protects the lists, @done and the call's statistics
 * @idle: batches ready to be filled by the walker
 * @ready: isolated batches waiting to be moved
 * @for_caller: batches whose rest a helper leaves to the caller
 * @wait: helpers wait here for ready batches, the walker for idle ones
 * @done: the walk is over
 * @nr_helpers: helpers started
 * @running: helpers not yet exited
 * @exited: completed by the last helper to exit
 * @nr_batches: entries in @batches
 * @batches: the batches
 */
struct mp2_pool {
	spinlock_t lock;	/* the lists, @done, the call's statistics */
	struct list_head idle;
	struct list_head ready;
	struct list_head for_caller;
	wait_queue_head_t wait;
	bool done;
	unsigned int nr_helpers;
	atomic_t running;
	struct completion exited;
	unsigned int nr_batches;
	struct mp2_batch batches[] __counted_by(nr_batches);
};

static void mp2_stats_add(struct migrate_pages_stats *to,
			  const struct migrate_pages_stats *from)
{
	to->scanned += from->scanned;
	to->moved += from->moved;
	to->shared += from->shared;
	to->busy += from->busy;
	to->no_memory += from->no_memory;
	to->split += from->split;
	to->deferred += from->deferred;
}

/* A batch is done: its counts go to the call, and it is idle again. */
static void mp2_put_batch(struct mp2_batch *b)
{
	struct mp2_call *call = b->call;
	struct mp2_pool *pool = call->pool;

	spin_lock(&pool->lock);
	mp2_stats_add(&call->stats, &b->stats);
	call->failed += b->failed;
	call->gathered += b->gathered;
	call->stayed |= b->stayed;
	if (b->err && !call->err)
		WRITE_ONCE(call->err, b->err);
	*b = (struct mp2_batch) {
		.call = call,
		.folios = LIST_HEAD_INIT(b->folios),
		.for_caller = LIST_HEAD_INIT(b->for_caller),
	};
	list_add(&b->link, &pool->idle);
	spin_unlock(&pool->lock);
	wake_up_all(&pool->wait);
}

static struct mp2_batch *mp2_pop(struct mp2_pool *pool, struct list_head *list)
{
	struct mp2_batch *b;

	spin_lock(&pool->lock);
	b = list_first_entry_or_null(list, struct mp2_batch, link);
	if (b)
		list_del(&b->link);
	spin_unlock(&pool->lock);
	return b;
}

/*
 * A wait is over: a batch is ready, or idle or left by a helper (for the
 * walker), or the walk is done (for a helper).
 */
static bool mp2_has_batch(struct mp2_pool *pool, bool walker)
{
	if (!list_empty(&pool->ready))
		return true;
	if (walker)
		return !list_empty(&pool->idle) || !list_empty(&pool->for_caller);
	return READ_ONCE(pool->done);
}

/* Moved by a helper: idle again, or its rest to the caller. */
static void mp2_helper_done(struct mp2_batch *b)
{
	struct mp2_pool *pool = b->call->pool;

	if (list_empty(&b->for_caller)) {
		mp2_put_batch(b);
		return;
	}
	spin_lock(&pool->lock);
	list_add_tail(&b->link, &pool->for_caller);
	spin_unlock(&pool->lock);
	wake_up_all(&pool->wait);
}

/* The caller moves what helpers left it, with direct reclaim. */
static void mp2_finish_for_caller(struct mp2_pool *pool, bool killed)
{
	struct mp2_batch *b;

	while ((b = mp2_pop(pool, &pool->for_caller))) {
		if (killed)
			mp2_drop_batch(b);
		else
			mp2_migrate_for_caller(b);
		mp2_put_batch(b);
	}
}

/*
 * An empty batch for the walker.  If every batch is isolated already, moves
 * a ready one here first; if helpers hold them all, waits for one.  NULL if
 * a fatal signal is pending.
 */
static struct mp2_batch *mp2_get_batch(struct mp2_call *call)
{
	struct mp2_pool *pool = call->pool;
	struct mp2_batch *b;

	for (;;) {
		if (fatal_signal_pending(current))
			return NULL;
		mp2_finish_for_caller(pool, false);
		b = mp2_pop(pool, &pool->idle);
		if (b)
			return b;
		b = mp2_pop(pool, &pool->ready);
		if (b) {
			mp2_migrate_batch(b);
			mp2_put_batch(b);
			continue;
		}
		if (wait_event_killable(pool->wait, mp2_has_batch(pool, true)))
			return NULL;
	}
}

/*
 * Hand a walked batch on to be moved: to the helpers if there are any and
 * it holds folios, else moved here.
 */
static void mp2_submit_batch(struct mp2_batch *b)
{
	struct mp2_pool *pool = b->call->pool;

	if (!pool->nr_helpers || list_empty(&b->folios)) {
		mp2_migrate_batch(b);
		mp2_put_batch(b);
		return;
	}
	spin_lock(&pool->lock);
	list_add_tail(&b->link, &pool->ready);
	spin_unlock(&pool->lock);
	wake_up_all(&pool->wait);
}

/* A ready batch for a helper; NULL once the walk is over, or if killed. */
static struct mp2_batch *mp2_take_ready(struct mp2_pool *pool)
{
	struct mp2_batch *b;

	for (;;) {
		if (fatal_signal_pending(current))
			return NULL;
		b = mp2_pop(pool, &pool->ready);
		if (b || READ_ONCE(pool->done))
			return b;
		if (wait_event_killable(pool->wait, mp2_has_batch(pool, false)))
			return NULL;
	}
}

static int mp2_helper(void *arg)
{
	struct mp2_pool *pool = arg;
	char comm[TASK_COMM_LEN] = "mp2-worker";
	struct mp2_batch *b;

	set_task_comm(current, comm);
	while ((b = mp2_take_ready(pool))) {
		b->by_helper = true;
		mp2_migrate_batch(b);
		mp2_helper_done(b);
	}
	if (atomic_dec_and_test(&pool->running))
		complete(&pool->exited);
	do_exit(0);
}

/*
 * The CPUs helper @i runs on: those of the node of the i-th CPU the
 * caller's cpuset allows, counting the destination nodes' CPUs first.
 */
static void mp2_helper_cpus(struct mp2_call *call, unsigned int i,
			    const struct cpumask *allowed, struct cpumask *cpus)
{
	unsigned int n = 0;
	int nid, cpu;

	for_each_node_mask(nid, call->dests)
		for_each_cpu_and(cpu, cpumask_of_node(nid), allowed)
			if (n++ == i)
				goto found;
	for_each_cpu(cpu, allowed)
		if (!node_isset(cpu_to_node(cpu), call->dests) && n++ == i)
			goto found;
	cpumask_copy(cpus, allowed);
	return;
found:
	cpumask_and(cpus, cpumask_of_node(cpu_to_node(cpu)), allowed);
}

/* Start up to @nr helpers; fewer if threads cannot be created now. */
static void mp2_start_helpers(struct mp2_call *call, unsigned int nr,
			      const struct cpumask *allowed)
{
	struct mp2_pool *pool = call->pool;
	struct task_struct *tsk;
	cpumask_var_t cpus;
	unsigned int i;

	if (!alloc_cpumask_var(&cpus, GFP_KERNEL))
		return;
	for (i = 0; i < nr; i++) {
		mp2_helper_cpus(call, i, allowed, cpus);
		tsk = create_io_thread(mp2_helper, pool, cpu_to_node(cpumask_first(cpus)));
		if (IS_ERR(tsk))
			break;
		set_cpus_allowed_ptr(tsk, cpus);
		atomic_inc(&pool->running);
		pool->nr_helpers++;
		wake_up_new_task(tsk);
	}
	free_cpumask_var(cpus);
}

/**
 * mp2_workers_start - the call's batches, and its helpers
 * @call: the call
 * @workers: threads that may move pages: the caller and @workers - 1
 *	helpers, at most as many as the CPUs of the caller's cpuset
 *
 * Context: process context, the caller.
 * Return: 0, or -ENOMEM.
 */
static int mp2_workers_start(struct mp2_call *call, u32 workers)
{
	unsigned int threads = max(workers, 1U), i;
	cpumask_var_t allowed;
	struct mp2_pool *pool;

	if (threads > 1) {
		if (!alloc_cpumask_var(&allowed, GFP_KERNEL))
			return -ENOMEM;
		/*
		 * io threads take the cpuset's CPUs, not the caller's
		 * affinity: narrow them to it, and to housekeeping CPUs.
		 */
		cpuset_cpus_allowed(current, allowed);
		cpumask_and(allowed, allowed, current->cpus_ptr);
		scoped_guard(rcu)	/* the domain mask is replaced under RCU */
			cpumask_and(allowed, allowed,
				    housekeeping_cpumask(HK_TYPE_DOMAIN));
		cpumask_and(allowed, allowed, cpu_online_mask);
		threads = clamp(cpumask_weight(allowed), 1U, threads);
	}
	pool = kzalloc(struct_size(pool, batches, threads * MP2_BATCHES_PER_THREAD),
		       GFP_KERNEL_ACCOUNT);
	if (!pool) {
		if (workers > 1)
			free_cpumask_var(allowed);
		return -ENOMEM;
	}
	spin_lock_init(&pool->lock);
	INIT_LIST_HEAD(&pool->idle);
	INIT_LIST_HEAD(&pool->ready);
	INIT_LIST_HEAD(&pool->for_caller);
	init_waitqueue_head(&pool->wait);
	init_completion(&pool->exited);
	pool->nr_batches = threads * MP2_BATCHES_PER_THREAD;
	for (i = 0; i < pool->nr_batches; i++) {
		struct mp2_batch *b = &pool->batches[i];

		b->call = call;
		INIT_LIST_HEAD(&b->folios);
		INIT_LIST_HEAD(&b->for_caller);
		list_add(&b->link, &pool->idle);
	}
	call->pool = pool;
	if (workers > 1) {
		mp2_start_helpers(call, threads - 1, allowed);
		free_cpumask_var(allowed);
	}
	return 0;
}

/**
 * mp2_workers_stop - finish the batches and stop the helpers
 * @call: the call
 * @killed: a fatal signal is ending the call: batches no thread has taken
 *	are put back rather than moved
 *
 * Returns once every batch is moved or put back and every helper has
 * exited, each after its current batch.
 *
 * Context: process context, the caller.
 */
static void mp2_workers_stop(struct mp2_call *call, bool killed)
{
	struct mp2_pool *pool = call->pool;
	struct mp2_batch *b;

	if (!pool)
		return;
	spin_lock(&pool->lock);
	pool->done = true;
	spin_unlock(&pool->lock);
	wake_up_all(&pool->wait);
	while ((b = mp2_pop(pool, &pool->ready))) {
		if (killed)
			mp2_drop_batch(b);
		else
			mp2_migrate_batch(b);
		mp2_put_batch(b);
	}
	if (pool->nr_helpers)
		wait_for_completion(&pool->exited);
	mp2_finish_for_caller(pool, killed);
	kfree(pool);
	call->pool = NULL;
}

/*
 * Walk one mm a batch per hold of its mmap lock, handing each batch on to
 * be moved (by a helper, or here) as the walk goes on; the last batches
 * may still be moving when this returns.
 */
static int mp2_walk_mm(struct mp2_call *call, struct mm_struct *mm)
{
	unsigned long addr = call->start;
	struct mp2_batch *b;
	int err;

	while (addr < call->end) {
		if (fatal_signal_pending(current))
			return -EINTR;
		b = mp2_get_batch(call);
		if (!b)
			return -EINTR;
		err = mp2_fill_batch(b, mm, &addr);
		mp2_submit_batch(b);
		if (err)
			return err;
		err = READ_ONCE(call->err);
		if (err == -ENOMEM && (call->flags & MP2_F_MAINLINE) &&
		    !call->hugetlb_only) {
			/*
			 * migrate_pages(2): a destination is full.  Mainline's
			 * migrate_pages() moved every hugetlb folio of the
			 * pass before any other folio: walk the rest of the
			 * pass for those alone, then fail with -ENOMEM.  A
			 * further error ends the walk.
			 */
			call->hugetlb_only = true;
			WRITE_ONCE(call->err, 0);
		} else if (err) {
			return err;
		}
		cond_resched();
	}
	return call->hugetlb_only ? -ENOMEM : 0;
}

/**
 * mp2_run - move the pages of a call's targets through its node map
 * @call: the call: flags, range, node map; its statistics are filled
 * @mms: the targets' mms, each held at least by mmgrab()
 * @nr_mms: entries in @mms
 * @workers: threads that may move pages (see mp2_workers_start())
 *
 * Each mm is walked once, if it still has users: a target that exited
 * since it was checked is skipped, its memory being freed.
 *
 * Context: process context, no locks held; takes and drops each target's
 * mmap lock once per batch.
 * Return: 0; -EINTR if a fatal signal ended the call, or -ENOMEM if the
 * call's own bookkeeping could not be allocated, or for migrate_pages(2)
 * (%MP2_F_MAINLINE) if a destination was full (pages already moved stay
 * moved, and @call's statistics count them).
 */
int mp2_run(struct mp2_call *call, struct mm_struct **mms, u32 nr_mms,
	    u32 workers)
{
	/* Folios in per-CPU LRU caches cannot be isolated: drain them once. */
	bool drain = !(call->flags & MIGRATE_PAGES2_DRY_RUN);
	int err;
	u32 i;

	if (nodes_empty(call->moving))
		return 0;
	err = mp2_workers_start(call, drain ? workers : 0);
	if (err)
		return err;
	if (drain)
		lru_cache_disable();
	for (i = 0; i < nr_mms && !err; i++) {
		if (!mmget_not_zero(mms[i]))
			continue;
		err = mp2_walk_mm(call, mms[i]);
		mmput(mms[i]);
	}
	/* Killed after the walk: what is queued is put back, not moved. */
	mp2_workers_stop(call, err == -EINTR || fatal_signal_pending(current));
	if (!err)
		err = call->err;
	if (drain)
		lru_cache_enable();
	return err;
}
