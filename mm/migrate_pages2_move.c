// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2(2): move the pages of one mm through a call's node map.
 *
 * The range is walked once, in batches.  For each batch the mmap lock is
 * taken for reading and mempolicy's folio walker isolates the folios whose
 * node has a pair, until it has met 2 MiB of memory (or one huge page) or
 * the target is waiting for the lock; the lock is dropped, migrate_pages()
 * moves the batch one destination at a time to folios allocated on exactly
 * that node, and the walk resumes where it stopped.  A batch is bounded by
 * the memory it meets, not by the span of addresses it covers: an empty or
 * PROT_NONE reservation costs one pass over its (absent) page tables.
 *
 * Each page is counted once, in exactly one reason, and moves at most once
 * per call, with the call's xarray of pfns:
 *  - a folio the walk can meet again (mapped more than once, or large and
 *    so perhaps mapped in pieces) is recorded at its first visit;
 *  - when a destination is also a source, the new folio of such a folio,
 *    or of any page cache folio, is recorded as it is allocated, and
 *    forgotten if the move fails and it is freed.
 * A record holds a tag of the folio's mapping and index, which a moved
 * folio keeps: a pfn freed during the call and taken by another page does
 * not look done.  A small anonymous folio mapped once is not recorded: the
 * walk only moves forward, so it cannot be met again, and that is most
 * pages.  What this does not cover is listed in
 * Documentation/userspace-api/migrate_pages2.rst ("At most once").
 */

#include <linux/gfp.h>
#include <linux/hash.h>
#include <linux/hugetlb.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>

#include "internal.h"
#include "migrate_pages2.h"

#define MP2_BATCH_PAGES	(SZ_2M >> PAGE_SHIFT)

/**
 * struct mp2_batch - what one hold of the mmap lock found and isolated
 * @call: the call the batch belongs to
 * @mm: the mm walked
 * @folios: the isolated folios
 * @found: base pages met by the walk, on any node
 * @wanted: base pages chosen for isolation
 * @large: a large folio was chosen
 * @err: -ENOMEM if the call's own bookkeeping could not be allocated
 * @reserve: a pfn whose slot in the call's xarray could not be allocated
 *	without sleeping; the walk stopped before its folio
 * @need_reserve: @reserve is set
 */
struct mp2_batch {
	struct mp2_call *call;
	struct mm_struct *mm;
	struct list_head folios;
	unsigned long found;
	unsigned long wanted;
	bool large;
	int err;
	unsigned long reserve;
	bool need_reserve;
};

/*
 * Stop before a folio that would take the batch over its size, or if the
 * target is waiting for its mmap lock.
 */
static bool mp2_batch_full(struct mp2_batch *b, long nr)
{
	if (!b->found)
		return false;
	return b->found + nr > MP2_BATCH_PAGES || mmap_lock_is_contended(b->mm);
}

/*
 * The record of a folio: its mapping and index, which migration carries
 * over to the new folio, hashed into an xarray value.  The folio is mapped
 * (or being migrated), so neither changes under us.
 */
static void *mp2_tag(struct folio *folio)
{
	return xa_mk_value(hash_long((unsigned long)folio->mapping ^ folio->index,
				     BITS_PER_LONG - 2));
}

enum mp2_visit { MP2_FIRST, MP2_AGAIN, MP2_NO_SLOT };

/*
 * Record a folio that can be met again; tell whether this is its first
 * visit.  Under the page table lock the xarray may not sleep to allocate:
 * if it cannot, the walk stops before the folio and resumes once a slot
 * is reserved.
 */
static enum mp2_visit mp2_record(struct mp2_batch *b, struct folio *folio)
{
	void *tag = mp2_tag(folio);
	void *old = xa_store(&b->call->seen, folio_pfn(folio), tag,
			     GFP_NOWAIT | __GFP_ACCOUNT | __GFP_NOWARN);

	if (xa_is_err(old)) {
		b->reserve = folio_pfn(folio);
		b->need_reserve = true;
		return MP2_NO_SLOT;
	}
	return old == tag ? MP2_AGAIN : MP2_FIRST;
}

/* queue_folio_wanted_t: choose and count, under the page table lock. */
static enum queue_folio_verdict mp2_folio_wanted(struct folio *folio,
						 unsigned int how, void *arg)
{
	struct mp2_batch *b = arg;
	struct mp2_call *call = b->call;
	long nr = folio_nr_pages(folio);

	if (mp2_batch_full(b, nr))
		return QUEUE_FOLIO_STOP;
	b->found += nr;
	if (!node_isset(folio_nid(folio), call->moving))
		return QUEUE_FOLIO_SKIP;
	if (how & QUEUE_FOLIO_SHARED || folio_test_large(folio)) {
		switch (mp2_record(b, folio)) {
		case MP2_AGAIN:
			return QUEUE_FOLIO_SKIP;
		case MP2_NO_SLOT:
			b->found -= nr;
			return QUEUE_FOLIO_STOP;
		case MP2_FIRST:
			break;
		}
	} else if (call->track_moved &&
		   xa_load(&call->seen, folio_pfn(folio)) == mp2_tag(folio)) {
		return QUEUE_FOLIO_SKIP;
	}

	call->stats.scanned += nr;
	if (how & QUEUE_FOLIO_MIGRATING) {
		call->stats.busy += nr;
		return QUEUE_FOLIO_SKIP;
	}
	if (how & QUEUE_FOLIO_SHARED && !(call->flags & MIGRATE_PAGES2_MOVE_ALL)) {
		call->stats.shared += nr;
		return QUEUE_FOLIO_SKIP;
	}
	if (call->flags & MIGRATE_PAGES2_DRY_RUN)
		return QUEUE_FOLIO_SKIP;
	b->wanted += nr;
	b->large |= folio_test_large(folio);
	return QUEUE_FOLIO_ISOLATE;
}

/*
 * Can the walk meet @folio again once it has moved?  Only through another
 * mapping: a folio mapped more than once, page cache another target may
 * map, or a large folio (mapped in pieces, and maybe split to move).
 */
static bool mp2_may_meet_again(struct mp2_batch *b, struct folio *folio)
{
	/* A large folio of this batch may have been split into @folio. */
	return b->large || !folio_test_anon(folio) ||
	       folio_likely_mapped_shared(folio);
}

/*
 * new_folio_t: a folio on exactly the pair's destination node, or none.  A
 * full destination is an expected outcome, counted as no_memory: no warning.
 * @src is still mapped here (allocation precedes unmapping).
 */
static struct folio *mp2_alloc_folio(struct folio *src, unsigned long private)
{
	struct mp2_batch *b = (struct mp2_batch *)private;
	struct mp2_call *call = b->call;
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
	if (!dst || !call->track_moved || !mp2_may_meet_again(b, src))
		return dst;
	/* The new folio will hold @src's mapping and index. */
	if (xa_is_err(xa_store(&call->seen, folio_pfn(dst), mp2_tag(src),
			       GFP_KERNEL_ACCOUNT))) {
		folio_put(dst);
		b->err = -ENOMEM;
		return NULL;
	}
	return dst;
}

/*
 * free_folio_t: a destination folio the move did not use.  Its pfn is free
 * again, and the target may fault a page onto it: forget it.
 */
static void mp2_free_folio(struct folio *dst, unsigned long private)
{
	struct mp2_batch *b = (struct mp2_batch *)private;

	if (b->call->track_moved)
		xa_erase(&b->call->seen, folio_pfn(dst));
	if (folio_test_hugetlb(dst))
		folio_putback_active_hugetlb(dst);
	else
		folio_put(dst);
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
 * Move the folios of the batch that go to the destination of its first
 * one; what stays is added to @left.  migrate_pages() gives up on its whole
 * list at the first folio it cannot allocate for, so each destination gets
 * a list of its own: a full node does not hold back the others.
 */
static void mp2_migrate_to_one_node(struct mp2_batch *b, struct list_head *left)
{
	struct mp2_call *call = b->call;
	int nid = call->map[folio_nid(list_first_entry(&b->folios, struct folio, lru))];
	struct migrate_counts counts = {};
	struct folio *folio, *next;
	unsigned long nr, stayed;
	LIST_HEAD(to_node);
	int rc;

	list_for_each_entry_safe(folio, next, &b->folios, lru)
		if (call->map[folio_nid(folio)] == nid)
			list_move_tail(&folio->lru, &to_node);
	nr = mp2_list_pages(&to_node);
	rc = migrate_pages_counted(&to_node, mp2_alloc_folio, mp2_free_folio,
				   (unsigned long)b, MIGRATE_SYNC, MR_SYSCALL,
				   &counts);
	call->stats.moved += counts.nr_succeeded;
	call->stats.split += counts.nr_split;
	stayed = nr - min_t(unsigned long, nr, counts.nr_succeeded);
	if (rc == -ENOMEM && !b->err)
		call->stats.no_memory += stayed;
	else
		call->stats.busy += stayed;
	list_splice_tail_init(&to_node, left);
}

/* Move one isolated batch and start the next one empty. */
static void mp2_migrate_batch(struct mp2_batch *b)
{
	unsigned long isolated = mp2_list_pages(&b->folios);
	struct mp2_call *call = b->call;
	LIST_HEAD(left);

	/* Chosen but not isolated: off the LRU for now (pinned, racing). */
	call->stats.busy += b->wanted - min(isolated, b->wanted);
	while (!list_empty(&b->folios))
		mp2_migrate_to_one_node(b, &left);
	putback_movable_pages(&left);
	b->found = 0;
	b->wanted = 0;
	b->large = false;
}

/* Reserve the xarray slot the last walk could not allocate under its lock. */
static int mp2_reserve(struct mp2_batch *b)
{
	if (!b->need_reserve)
		return 0;
	b->need_reserve = false;
	return xa_reserve(&b->call->seen, b->reserve, GFP_KERNEL_ACCOUNT);
}

static int mp2_walk(struct mp2_batch *b)
{
	struct mp2_call *call = b->call;
	unsigned long addr = call->start;
	int err;

	while (addr < call->end) {
		if (fatal_signal_pending(current))
			return -EINTR;
		err = mp2_reserve(b);
		if (err)
			return err;
		if (mmap_read_lock_killable(b->mm))
			return -EINTR;
		addr = queue_folios_range(b->mm, addr, call->end, mp2_folio_wanted,
					  b, &b->folios);
		mmap_read_unlock(b->mm);
		call->batches++;
		mp2_migrate_batch(b);
		if (b->err)
			return b->err;
		cond_resched();
	}
	return 0;
}

/**
 * mp2_move_mm - move the pages of one mm in the call's range through its map
 * @call: the call: range, node map, and the statistics to add to
 * @mm: the target mm, with a user reference held
 *
 * Context: process context, no locks held; takes and drops @mm's mmap lock
 * once per batch.
 * Return: 0; -EINTR if a fatal signal is pending, or -ENOMEM if the call's
 * own bookkeeping could not be allocated (pages already moved stay moved,
 * and @call's statistics count them).
 */
int mp2_move_mm(struct mp2_call *call, struct mm_struct *mm)
{
	struct mp2_batch b = {
		.call = call,
		.mm = mm,
		.folios = LIST_HEAD_INIT(b.folios),
	};

	return mp2_walk(&b);
}
