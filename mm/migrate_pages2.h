/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrate_pages2(2): state shared by the syscall (mm/migrate_pages2.c), the
 * engine (mm/migrate_pages2_move.c, mm/migrate_pages2_workers.c), the
 * mainline callers on it (mm/migrate_pages2_remap.c) and the KUnit tests.
 */
#ifndef __MM_MIGRATE_PAGES2_H
#define __MM_MIGRATE_PAGES2_H

#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/nodemask.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <uapi/linux/migrate_pages2.h>

#define MIGRATE_PAGES2_FLAGS	(MIGRATE_PAGES2_MOVE_ALL | \
				 MIGRATE_PAGES2_PIDFD | \
				 MIGRATE_PAGES2_DRY_RUN | \
				 MIGRATE_PAGES2_UPDATE_POLICY | \
				 MIGRATE_PAGES2_LAZY)
/*
 * Not a user flag (mp2_check_args() refuses it): do_migrate_pages() on the
 * engine, counting what mainline migrate_pages(2) counts.
 */
#define MP2_F_MAINLINE		BIT_ULL(63)
#define MIGRATE_PAGES2_MAX_PIDS	1024
#define MIGRATE_PAGES2_MAX_WORKERS	1024

struct mm_struct;

struct mp2_pool;

/**
 * struct mp2_call - one migrate_pages2() call
 * @flags: MIGRATE_PAGES2_* flags
 * @start: first address of the range
 * @end: end of the range (exclusive)
 * @map: destination node of each source node, NUMA_NO_NODE if none
 * @moving: source nodes whose destination differs from themselves
 * @dests: every destination node of the call
 * @touch_mems: for MIGRATE_PAGES2_LAZY, the nodes every target's own
 *	touches may allocate on (the intersection of their cpusets' mems): a
 *	page whose destination is not among them is moved by the call
 * @track_moved: a destination is also in @moving, so pages moved by this
 *	call must be remembered to move each page at most once
 * @seen: pfns this call is done with, each with a tag of its folio: folios
 *	mapped more than once or large, at their first visit, and the new
 *	folios of moved folios the walk could meet again when @track_moved
 * @pieces_recorded: a large folio was split to move and the new folios of
 *	its pieces recorded in @seen: from then on the walk looks up every
 *	small folio it means to move, not only shared and isolated ones (the
 *	rest of a large folio mapped in pieces points to them now)
 * @pool: the batches and the helper threads that migrate them
 * @drained: the per-CPU page lists were drained for a helper's leftovers
 * @err: -ENOMEM once the call's own bookkeeping could not be allocated
 * @batches: batches walked so far (for the tracepoint)
 * @stats: what the call did so far; batches add theirs under the pool's
 *	lock as they are done
 * @failed: for migrate_pages(2) (%MP2_F_MAINLINE), what mainline returns
 *	besides migrate_pages()'s own count: folios that could not be
 *	isolated, migration entries met, folios left untried at a full node
 * @gathered: for migrate_pages(2), migrate_pages()'s own count summed over
 *	the pass (&migrate_counts.nr_failed: split large folios included)
 * @stayed: for migrate_pages(2), a folio migrate_pages() was given stayed;
 *	if none did, the pass's @gathered counts nothing, as in mainline's
 *	single migrate_pages() call per node
 * @last_large: for migrate_pages(2), the tag of the last large folio met
 *	by PTEs on the pass's source (mainline's queue_pages->large)
 * @hugetlb_only: for migrate_pages(2), a destination was full: the rest
 *	of the pass is walked for hugetlb folios alone, which mainline moves
 *	before the other folios of its list; the pass then fails (-ENOMEM)
 */
struct mp2_call {
	u64 flags;
	unsigned long start;
	unsigned long end;
	int map[MAX_NUMNODES];
	nodemask_t moving;
	nodemask_t dests;
	nodemask_t touch_mems;
	bool track_moved;
	struct xarray seen;
	bool pieces_recorded;
	struct mp2_pool *pool;
	bool drained;
	int err;
	unsigned long batches;
	struct migrate_pages_stats stats;
	unsigned long failed;
	unsigned long gathered;
	bool stayed;
	void *last_large;
	bool hugetlb_only;
};

/**
 * struct mp2_batch - what one hold of a target's mmap lock isolated
 * @call: the call the batch belongs to
 * @link: on the pool's list of idle or of ready batches
 * @mm: the mm walked
 * @folios: the isolated folios
 * @found: base pages the walk met, on any node
 * @wanted: base pages chosen for isolation
 * @wanted_folios: folios chosen for isolation
 * @large: a large folio was chosen
 * @err: -ENOMEM if the call's bookkeeping could not be allocated
 * @reserve: a pfn whose slot in @call's xarray could not be allocated
 *	under the page table lock; the walk stopped before its folio
 * @need_reserve: @reserve is set
 * @nomem: the last folio a destination could not be allocated for
 * @by_helper: a helper is moving the batch
 * @for_caller: what a helper could not allocate for without direct reclaim
 * @reserved: for a helper, the destinations of the large folios being moved
 * @stats: what the walk and the move of this batch did
 * @failed: its part of &mp2_call.failed
 * @gathered: its part of &mp2_call.gathered
 * @stayed: a folio given to migrate_pages() stayed (&mp2_call.stayed)
 * @split_stayed: migrate_pages() split a large folio of the list being
 *	counted: what stayed may be its pieces, to be recorded
 * @record_stayed: a helper could not record pieces that stayed and left
 *	them on @for_caller: the caller records what stays of its folios
 * @marks: with MIGRATE_PAGES2_LAZY, the walk deferred a folio, to be
 *	marked for its next touch
 */
struct mp2_batch {
	struct mp2_call *call;
	struct list_head link;
	struct mm_struct *mm;
	struct list_head folios;
	unsigned long found;
	unsigned long wanted;
	unsigned long wanted_folios;
	bool large;
	int err;
	unsigned long reserve;
	bool need_reserve;
	struct folio *nomem;
	bool by_helper;
	struct list_head for_caller;
	struct list_head *reserved;
	struct migrate_pages_stats stats;
	unsigned long failed;
	unsigned long gathered;
	bool stayed;
	bool split_stayed;
	bool record_stayed;
	bool marks;
};

#if IS_ENABLED(CONFIG_KUNIT)
/* Static unless KUnit is built: the pure checks mm/migrate_pages2_test.c runs. */
int mp2_check_args(const struct migrate_pages_args *args);
int mp2_build_map(struct mp2_call *call, const s32 *old_nodes,
		  const s32 *new_nodes, u32 nr_nodes);
void mp2_map_from_masks(struct mp2_call *call, const nodemask_t *from,
			const nodemask_t *to);
struct mempolicy;
bool mp2_rewrite_policy(const struct mp2_call *call, struct mempolicy *pol,
			const nodemask_t *mems);
void *mp2_tag_of(const void *mapping, pgoff_t index, unsigned int order);
#endif

/*
 * The engine calls one way: the syscall and the mainline callers call
 * mp2_run() (mm/migrate_pages2_workers.c), which calls the batch's life in
 * mm/migrate_pages2_move.c, which calls neither back.
 */

/* mm/migrate_pages2_move.c: one batch's life: fill, move or drop it */
void mp2_map_done(struct mp2_call *call);
int mp2_fill_batch(struct mp2_batch *b, struct mm_struct *mm,
		   unsigned long *addr);
void mp2_migrate_batch(struct mp2_batch *b);
void mp2_migrate_for_caller(struct mp2_batch *b);
void mp2_drop_batch(struct mp2_batch *b);

/* mm/migrate_pages2_policy.c: MIGRATE_PAGES2_UPDATE_POLICY */
int mp2_update_policies(struct mp2_call *call, struct task_struct **tasks,
			struct mm_struct **mms, u32 nr);

/* mm/migrate_pages2_workers.c: the walk over the targets, and its helpers */
int mp2_run(struct mp2_call *call, struct mm_struct **mms, u32 nr_mms,
	    u32 workers);

/* mm/migrate_pages2_lazy.c: MIGRATE_PAGES2_LAZY */
struct folio;
struct vm_area_struct;
#ifdef CONFIG_MIGRATE_PAGES2_LAZY
int mp2_lazy_install(const struct mp2_call *call, struct mm_struct **mms,
		     u32 nr);
bool mp2_lazy_markable(const struct mp2_call *call, struct folio *folio,
		       struct vm_area_struct *vma);
void mp2_lazy_mark(struct mm_struct *mm, unsigned long start,
		   unsigned long end);
#else
static inline int mp2_lazy_install(const struct mp2_call *call,
				   struct mm_struct **mms, u32 nr)
{
	return -EOPNOTSUPP;
}

static inline bool mp2_lazy_markable(const struct mp2_call *call,
				     struct folio *folio,
				     struct vm_area_struct *vma)
{
	return false;
}

static inline void mp2_lazy_mark(struct mm_struct *mm, unsigned long start,
				 unsigned long end)
{
}
#endif

#endif /* __MM_MIGRATE_PAGES2_H */
