// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2(2): move the pages of one mm through a call's node map.
 *
 * The range is walked once, in batches of at most 2 MiB of address space
 * (or one huge page).  For each batch the mmap lock is taken for reading,
 * mempolicy's folio walker isolates the folios whose node has a pair, the
 * lock is dropped, and migrate_pages() moves the batch with an allocation
 * callback that takes the destination from the map.  The walk then resumes
 * at the next address, so the target keeps faulting, mapping and unmapping
 * while a large move goes on.
 *
 * A page moves at most once per call: when a destination is also a source,
 * the pfns of the new folios that the walk could meet again are remembered
 * in the call's xarray, and a folio mapped more than once is remembered at
 * its first visit, so a second mapping, target or chained pair finds it
 * done.  The walk only moves forward, so a small anonymous folio mapped
 * once cannot be met again (unless the target itself mremaps it ahead of
 * the walk during the call, when it may move a second time, data intact).
 */

#include <linux/gfp.h>
#include <linux/hugetlb.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>

#include "internal.h"
#include "migrate_pages2.h"

#define MP2_SEEN	xa_mk_value(1)

/*
 * First visit of a folio that can be met again by this call.  Runs under
 * the page table lock, so the xarray may not sleep to allocate; if it
 * cannot, the folio may be counted twice, which is all that is lost.
 */
static bool mp2_first_visit(struct mp2_call *call, struct folio *folio)
{
	int err;

	err = xa_insert(&call->seen, folio_pfn(folio), MP2_SEEN,
			GFP_NOWAIT | __GFP_NOWARN);
	return err != -EBUSY;
}

/* queue_folio_wanted_t: choose and count, under the page table lock. */
static bool mp2_folio_wanted(struct folio *folio, void *arg)
{
	struct mp2_call *call = arg;
	long nr = folio_nr_pages(folio);
	bool shared;

	if (!node_isset(folio_nid(folio), call->moving))
		return false;
	if (call->track_moved && xa_load(&call->seen, folio_pfn(folio)))
		return false;
	shared = folio_likely_mapped_shared(folio);
	if (shared && !mp2_first_visit(call, folio))
		return false;

	call->stats.scanned += nr;
	if (shared && !(call->flags & MIGRATE_PAGES2_MOVE_ALL)) {
		call->stats.shared += nr;
		return false;
	}
	if (call->flags & MIGRATE_PAGES2_DRY_RUN)
		return false;
	call->batch_wanted += nr;
	call->batch_large |= folio_test_large(folio);
	return true;
}

/*
 * Can the walk meet @folio again once it has moved?  Only through another
 * mapping: a folio mapped more than once, page cache another target may
 * map, or a large folio (mapped in pieces, e.g. after a partial mremap,
 * and maybe split to move).
 * A small anonymous folio mapped once sits behind the walk for good, and
 * is not remembered: that is most pages, and saves an xarray store each.
 */
static bool mp2_may_meet_again(struct mp2_call *call, struct folio *folio)
{
	/* A large folio of this batch may have been split into @folio. */
	return call->batch_large || !folio_test_anon(folio) ||
	       folio_likely_mapped_shared(folio);
}

/*
 * new_folio_t: a folio on exactly the pair's destination node, or none.  A
 * full destination is an expected outcome, counted as no_memory: no warning.
 * @src is still mapped here (allocation precedes unmapping).
 */
static struct folio *mp2_alloc_folio(struct folio *src, unsigned long private)
{
	struct mp2_call *call = (struct mp2_call *)private;
	int nid = call->map[folio_nid(src)];
	nodemask_t nmask = nodemask_of_node(nid);
	struct migration_target_control mtc = {
		.nid = nid,
		.nmask = &nmask,
		.gfp_mask = GFP_HIGHUSER_MOVABLE | __GFP_THISNODE | __GFP_NOWARN,
		.reason = MR_SYSCALL,
	};
	struct folio *dst;

	dst = alloc_migration_target(src, (unsigned long)&mtc);
	if (dst && call->track_moved && mp2_may_meet_again(call, src) &&
	    xa_is_err(xa_store(&call->seen, folio_pfn(dst), MP2_SEEN,
			       GFP_KERNEL))) {
		folio_put(dst);
		return NULL;
	}
	return dst;
}

static unsigned long mp2_list_pages(struct list_head *folios)
{
	unsigned long nr = 0;
	struct folio *folio;

	list_for_each_entry(folio, folios, lru)
		nr += folio_nr_pages(folio);
	return nr;
}

/*
 * Move one isolated batch.  What migrate_pages() leaves on the list stayed:
 * for want of memory on a destination if it gave up with -ENOMEM, busy
 * otherwise.
 */
static void mp2_migrate_batch(struct mp2_call *call, struct list_head *folios)
{
	unsigned long isolated = mp2_list_pages(folios);
	struct migrate_counts counts = {};
	unsigned long left;
	int rc;

	call->stats.busy += call->batch_wanted - min(isolated, call->batch_wanted);
	call->batch_wanted = 0;
	if (!isolated) {
		call->batch_large = false;
		return;
	}

	rc = migrate_pages_counted(folios, mp2_alloc_folio, NULL,
				   (unsigned long)call, MIGRATE_SYNC,
				   MR_SYSCALL, &counts);
	call->stats.moved += counts.nr_succeeded;
	call->stats.split += counts.nr_split;
	left = isolated - min_t(unsigned long, isolated, counts.nr_succeeded);
	if (rc == -ENOMEM)
		call->stats.no_memory += left;
	else
		call->stats.busy += left;
	if (rc)
		putback_movable_pages(folios);
	call->batch_large = false;
}

/* A batch: at most 2 MiB of address space, or one huge page of the VMA. */
static unsigned long mp2_batch_end(struct vm_area_struct *vma,
				   unsigned long addr, unsigned long end)
{
	unsigned long size = max_t(unsigned long, SZ_2M, vma_kernel_pagesize(vma));

	return min3(end, vma->vm_end, ALIGN_DOWN(addr, size) + size);
}

/**
 * mp2_move_mm - move the pages of one mm in the call's range through its map
 * @call: the call: range, node map, and the statistics to add to
 * @mm: the target mm, with a reference held
 *
 * Context: process context, no locks held; takes and drops @mm's mmap lock
 * once per batch.
 * Return: 0, or -EINTR if a fatal signal is pending (pages already moved
 * stay moved, and @call's statistics count them).
 */
int mp2_move_mm(struct mp2_call *call, struct mm_struct *mm)
{
	unsigned long addr = call->start;
	struct vm_area_struct *vma;
	unsigned long next;
	LIST_HEAD(folios);

	while (addr < call->end) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (mmap_read_lock_killable(mm))
			return -EINTR;
		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start >= call->end) {
			mmap_read_unlock(mm);
			break;
		}
		addr = max(addr, vma->vm_start);
		next = mp2_batch_end(vma, addr, call->end);
		queue_folios_range(mm, addr, next, mp2_folio_wanted, call, &folios);
		mmap_read_unlock(mm);

		mp2_migrate_batch(call, &folios);
		addr = next;
		cond_resched();
	}
	return 0;
}
