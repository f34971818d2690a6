// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2(2): one batch's life, moving the pages of one mm through a
 * call's node map: filled, then moved or dropped.  The walk over the
 * targets and the threads that move batches (mm/migrate_pages2_workers.c)
 * call this file, which calls nothing there.
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
 * not look done.  With helpers, a folio is met again while this call
 * moves it: off the LRU with its other mappings gone (it looks mapped
 * once), behind a migration entry, or as its new folio with only some of
 * its mappings restored (mapped once too): each is checked against the
 * record, the last on any destination that is also a source.  A small
 * anonymous folio mapped once is not recorded: the
 * walk only moves forward, so it cannot be met again, and that is most
 * pages.  What this does not cover is listed in
 * Documentation/userspace-api/migrate_pages2.rst ("At most once").
 */

#include <linux/gfp.h>
#include <linux/hash.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sizes.h>
#include <kunit/visibility.h>

#include "internal.h"
#include "page_alloc.h"
#include "migrate_pages2.h"

#define MP2_BATCH_PAGES	(SZ_2M >> PAGE_SHIFT)

/**
 * mp2_map_done - derive what a call moves from its node map
 * @call: the call, its map filled (NUMA_NO_NODE for a node that is not
 *	a source)
 *
 * Fills @call's moving sources (those whose destination is another node)
 * and tells whether moved pages must be remembered: when a destination is
 * also a source, a page moved there could be met again and moved on.
 *
 * Context: any.
 */
void mp2_map_done(struct mp2_call *call)
{
	int nid;

	nodes_clear(call->moving);
	for (nid = 0; nid < MAX_NUMNODES; nid++)
		if (call->map[nid] != NUMA_NO_NODE && call->map[nid] != nid)
			node_set(nid, call->moving);
	call->track_moved = false;
	for_each_node_mask(nid, call->moving)
		if (node_isset(call->map[nid], call->moving))
			call->track_moved = true;
}

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

/**
 * mp2_tag_of - the record of a folio
 * @mapping: the folio's mapping
 * @index: its index
 * @order: its order
 *
 * A hash of the mapping and index, and the order beside it in an xarray
 * value.  The order tells a large folio's record from a small folio's at
 * the same pfn: a run of small folios contiguous in both pfn and index
 * looks like no large folio's pieces.  The index is spread before it
 * meets the mapping: two anon_vmas a few bytes apart, at indexes that
 * differ in the same bits, would give the same plain XOR.
 *
 * Context: any.
 * Return: the xarray value to store at the folio's pfn.
 */
VISIBLE_IF_KUNIT void *mp2_tag_of(const void *mapping, pgoff_t index,
				  unsigned int order)
{
	unsigned long hash = hash_long((unsigned long)mapping ^
				       hash_long(index, BITS_PER_LONG),
				       BITS_PER_LONG - 6);

	return xa_mk_value(hash << 5 | order);
}
EXPORT_SYMBOL_IF_KUNIT(mp2_tag_of);

/*
 * The record of a folio: its mapping, index and order, which migration
 * carries over to the new folio.  The folio is mapped (or being
 * migrated), so none changes under us.
 */
static void *mp2_tag(struct folio *folio)
{
	return mp2_tag_of(folio->mapping, folio->index, folio_order(folio));
}

/*
 * Is @folio, small, a piece of a large folio this call recorded at its
 * first visit and then split to move?  Only the head's pfn was recorded,
 * with the head's tag: look at the pfn that would have been the head, for
 * each order, with the tag its head had (a piece keeps the mapping, and
 * its index is the head's plus its offset).  For a folio off
 * the LRU or behind a migration entry only: a piece a helper is moving,
 * met through the rest of the large folio's mappings.
 */
static bool mp2_piece_recorded(struct mp2_call *call, struct folio *folio)
{
	unsigned long pfn = folio_pfn(folio), head;
	unsigned int order;

	for (order = 1; order <= MAX_PAGE_ORDER; order++) {
		head = ALIGN_DOWN(pfn, 1UL << order);
		if (xa_load(&call->seen, head) ==
		    mp2_tag_of(folio->mapping, folio->index - (pfn - head), order))
			return true;
	}
	return false;
}

enum mp2_visit { MP2_FIRST, MP2_AGAIN, MP2_NO_SLOT };

/*
 * Record a folio that can be met again; tell whether this is its first
 * visit.  Under the page table lock the xarray may not sleep to allocate:
 * if it cannot, the walk stops before the folio and resumes once a slot
 * is reserved.
 *
 * A folio under migration cannot have been freed and its pfn reused, so
 * any record at its pfn is its own: and a page cache folio that a helper
 * has just moved has lost its mapping (and so its tag) before the last of
 * its migration entries are replaced.  A small one, or a small shared one
 * off the LRU, may be a piece of a large folio recorded at its head that a
 * helper split to move.
 */
static enum mp2_visit mp2_record(struct mp2_batch *b, struct folio *folio,
				 bool migrating)
{
	unsigned long pfn = folio_pfn(folio);
	void *tag = mp2_tag(folio), *old;

	if (migrating && xa_load(&b->call->seen, pfn))
		return MP2_AGAIN;
	if ((migrating || !folio_test_lru(folio)) && !folio_test_large(folio) &&
	    mp2_piece_recorded(b->call, folio))
		return MP2_AGAIN;
	old = xa_store(&b->call->seen, pfn, tag,
		       GFP_NOWAIT | __GFP_ACCOUNT | __GFP_NOWARN);
	if (xa_is_err(old)) {
		b->reserve = pfn;
		b->need_reserve = true;
		return MP2_NO_SLOT;
	}
	return old == tag ? MP2_AGAIN : MP2_FIRST;
}

/*
 * migrate_pages(2): is @folio the large folio of the previous run of PTEs
 * that mainline's walk of the pass met on its source?  Its walk skips such
 * a run (queue_pages->large) whether it isolated the folio or not.  The
 * engine's walk is one per batch, and looks at every node: it remembers
 * that folio for the whole pass by its tag, which a moved folio keeps.
 */
static bool mp2_mainline_same_run(struct mp2_batch *b, struct folio *folio,
				  unsigned int how)
{
	void *tag = mp2_tag(folio);
	bool same;

	if (!(how & QUEUE_FOLIO_PTES) || !folio_test_large(folio))
		return false;
	same = b->call->last_large == tag;
	b->call->last_large = tag;
	return same;
}

/*
 * migrate_pages(2): @folio is met again in the pass, through another
 * mapping of this mm.  Mainline isolates the whole pass before it moves
 * any of it, so there the folio is still isolated and fails isolation:
 * counted as @nr failed (the PTEs of its run, or 1 for a PMD or a huge
 * PTE), unless its run is skipped as the previous large folio's, or it is
 * shared and, without MPOL_MF_MOVE_ALL, not tried.
 */
static void mp2_mainline_again(struct mp2_batch *b, struct folio *folio,
			       unsigned int how, long nr)
{
	if (mp2_mainline_same_run(b, folio, how))
		return;
	if ((b->call->flags & MIGRATE_PAGES2_MOVE_ALL) ||
	    !(how & QUEUE_FOLIO_SHARED))
		b->failed += nr;
}

/* queue_folio_wanted_t: choose and count, under the page table lock. */
static enum queue_folio_verdict mp2_folio_wanted(struct folio *folio,
						 struct vm_area_struct *vma,
						 unsigned int how, long nr_mapped,
						 void *arg)
{
	struct mp2_batch *b = arg;
	struct mp2_call *call = b->call;
	bool mainline = call->flags & MP2_F_MAINLINE;
	long nr = folio_nr_pages(folio);

	if (mp2_batch_full(b, nr))
		return QUEUE_FOLIO_STOP;
	b->found += nr;
	/* migrate_pages(2) after -ENOMEM: hugetlb folios only (mp2_walk_mm()). */
	if (call->hugetlb_only && !folio_test_hugetlb(folio))
		return QUEUE_FOLIO_SKIP;
	if (!node_isset(folio_nid(folio), call->moving)) {
		/*
		 * migrate_pages(2): moved by this pass (mp2_alloc_folio()
		 * recorded it) and met again, where mainline would still
		 * find it isolated on the source.
		 */
		if (mainline && !(how & QUEUE_FOLIO_MIGRATING) &&
		    (how & QUEUE_FOLIO_SHARED || folio_test_large(folio)) &&
		    node_isset(folio_nid(folio), call->dests) &&
		    xa_load(&call->seen, folio_pfn(folio)) == mp2_tag(folio))
			mp2_mainline_again(b, folio, how, nr_mapped);
		return QUEUE_FOLIO_SKIP;
	}
	/*
	 * Neither anonymous nor file backed: a kernel page that a special
	 * mapping or a driver inserted (7.3's vDSO data, [vvar], is one,
	 * faulted into every process that reads the clock).  Migration
	 * cannot move it and it is not the process's memory: like the
	 * shared zero page, it is neither moved nor counted.  Mainline
	 * migrate_pages(2) counts it as a page it could not move, and so
	 * does do_migrate_pages() on the engine.
	 */
	if (!(how & QUEUE_FOLIO_MIGRATING) && !folio_test_anon(folio) &&
	    !folio_mapping(folio) && !(call->flags & MP2_F_MAINLINE))
		return QUEUE_FOLIO_SKIP;
	/*
	 * Met again if mapped more than once, or in pieces; and a folio under
	 * migration may be one of this call's, isolated from another mapping
	 * and being moved by a helper.
	 */
	if (how & (QUEUE_FOLIO_SHARED | QUEUE_FOLIO_MIGRATING) ||
	    folio_test_large(folio)) {
		switch (mp2_record(b, folio, how & QUEUE_FOLIO_MIGRATING)) {
		case MP2_AGAIN:
			if (mainline && !(how & QUEUE_FOLIO_MIGRATING))
				mp2_mainline_again(b, folio, how, nr_mapped);
			return QUEUE_FOLIO_SKIP;
		case MP2_NO_SLOT:
			b->found -= nr;
			return QUEUE_FOLIO_STOP;
		case MP2_FIRST:
			if (mainline)
				mp2_mainline_same_run(b, folio, how);
			break;
		}
	} else if (((!folio_test_lru(folio) || READ_ONCE(call->pieces_recorded) ||
		     (call->track_moved && node_isset(folio_nid(folio), call->dests))) &&
		    xa_load(&call->seen, folio_pfn(folio)) == mp2_tag(folio)) ||
		   (!folio_test_lru(folio) && mp2_piece_recorded(call, folio))) {
		/*
		 * Off the LRU because this call is moving it: a shared folio
		 * whose other mappings a helper has already unmapped looks
		 * mapped once now, or a piece of a large folio a helper split
		 * and is moving (recorded at its head).  Or a piece of a large
		 * folio this call split and moved, met through the rest of its
		 * mappings.  Or on a destination that is also a source, the
		 * new folio of a shared one whose mappings a helper is
		 * restoring one by one: it looks mapped once until the last.
		 * Without such a chain in the map, most folios cost no lookup.
		 */
		return QUEUE_FOLIO_SKIP;
	}

	b->stats.scanned += nr;
	if (how & QUEUE_FOLIO_MIGRATING) {
		b->stats.busy += nr;
		b->failed++;
		return QUEUE_FOLIO_SKIP;
	}
	if (how & QUEUE_FOLIO_SHARED && !(call->flags & MIGRATE_PAGES2_MOVE_ALL)) {
		b->stats.shared += nr;
		return QUEUE_FOLIO_SKIP;
	}
	/* Left for its next touch, unless a hinting fault cannot move it. */
	if (call->flags & MIGRATE_PAGES2_LAZY && mp2_lazy_markable(call, folio, vma)) {
		b->stats.deferred += nr;
		b->marks = true;
		return QUEUE_FOLIO_SKIP;
	}
	if (call->flags & MIGRATE_PAGES2_DRY_RUN)
		return QUEUE_FOLIO_SKIP;
	b->wanted += nr;
	b->wanted_folios++;
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
	       folio_maybe_mapped_shared(folio);
}

/*
 * A helper's destination for a large folio, as a THP fault that may not
 * stall asks for one: no direct reclaim, no compaction.
 */
static struct folio *mp2_alloc_large_light(unsigned int order, int nid)
{
	return __folio_alloc(GFP_TRANSHUGE_LIGHT | __GFP_THISNODE, order, nid, NULL);
}

/*
 * A reserved destination of @order, or, for a folio tried again after its
 * first destination was freed, a new one allocated the same way.
 */
static struct folio *mp2_take_reserved(struct list_head *reserved,
				       unsigned int order, int nid)
{
	struct folio *dst;

	list_for_each_entry(dst, reserved, lru) {
		if (folio_order(dst) == order) {
			list_del(&dst->lru);
			return dst;
		}
	}
	return mp2_alloc_large_light(order, nid);
}

/* A record's allocation: a helper's may not reclaim (see mp2_alloc_folio()). */
static gfp_t mp2_gfp_record(const struct mp2_batch *b)
{
	return b->by_helper ? GFP_NOWAIT | __GFP_ACCOUNT | __GFP_NOWARN :
			      GFP_KERNEL_ACCOUNT;
}

/*
 * new_folio_t: a folio on exactly the pair's destination node, or none.  A
 * full destination is an expected outcome, counted as no_memory: no warning.
 * @src is still mapped here (allocation precedes unmapping).  A helper
 * does not reclaim directly: as an io thread it would not be throttled
 * when reclaim makes no progress, so what it cannot allocate for at once
 * is left to the caller (mp2_count_stayed()), the record of a moved folio
 * included; a large folio's destination, which alloc_migration_target()
 * would reclaim and compact for, it took beforehand (mp2_reserve_large()).
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

	if (b->reserved && folio_test_large(src) && !folio_test_hugetlb(src)) {
		dst = mp2_take_reserved(b->reserved, folio_order(src), nid);
	} else {
		if (b->by_helper)
			mtc.gfp_mask &= ~__GFP_DIRECT_RECLAIM;
		dst = alloc_migration_target(src, (unsigned long)&mtc);
	}
	if (!dst)
		b->nomem = src;
	if (!dst || !mp2_may_meet_again(b, src))
		return dst;
	if (!call->track_moved) {
		/*
		 * migrate_pages(2) counts what it meets again after the move
		 * (mp2_folio_wanted()): the record is for that count alone,
		 * and a move does not fail for the want of it.
		 */
		if (call->flags & MP2_F_MAINLINE)
			xa_store(&call->seen, folio_pfn(dst), mp2_tag(src),
				 mp2_gfp_record(b));
		return dst;
	}
	/*
	 * The new folio will hold @src's mapping and index.  A helper's
	 * large destination has its slot reserved (mp2_reserve_large()):
	 * NULL for a large @src would split it.
	 */
	if (xa_is_err(xa_store(&call->seen, folio_pfn(dst), mp2_tag(src),
			       mp2_gfp_record(b)))) {
		folio_put(dst);
		b->nomem = src;
		if (!b->by_helper)
			b->err = -ENOMEM;
		return NULL;
	}
	if (!folio_test_large(src) && b->large)
		WRITE_ONCE(call->pieces_recorded, true);
	return dst;
}

/*
 * A helper's large destination, with its record's slot reserved if the
 * move will record it (mp2_alloc_folio()), so that the record cannot
 * fail.  Nonzero, and @dst freed, if the slot cannot be had.
 */
static int mp2_reserve_record(struct mp2_batch *b, struct folio *dst)
{
	int err;

	if (!b->call->track_moved)
		return 0;
	err = xa_reserve(&b->call->seen, folio_pfn(dst), mp2_gfp_record(b));
	if (err)
		folio_put(dst);
	return err;
}

/*
 * free_folio_t: a destination folio the move did not use.  Its pfn is free
 * again, and the target may fault a page onto it: forget it.  A helper's
 * large destination is given back and taken again at once, where it is
 * most likely to be found (the per-CPU lists hold a freed THP): a large
 * folio tried again must not find its reservation gone, or migrate_pages()
 * would split it.
 */
static void mp2_free_folio(struct folio *dst, unsigned long private)
{
	struct mp2_batch *b = (struct mp2_batch *)private;
	unsigned int order = folio_order(dst);
	int nid = folio_nid(dst);
	bool refill;

	if (b->call->track_moved || (b->call->flags & MP2_F_MAINLINE))
		xa_erase(&b->call->seen, folio_pfn(dst));
	refill = b->reserved && order && !folio_test_hugetlb(dst);
	folio_put(dst);
	if (refill) {
		dst = mp2_alloc_large_light(order, nid);
		if (dst && mp2_reserve_record(b, dst))
			dst = NULL;
		if (dst)
			list_add(&dst->lru, b->reserved);
	}
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
 * A folio that stayed after a large folio of its list was split: maybe
 * one of its pieces, which the walk can meet again through the rest of
 * the large folio's mappings, mapped once and on the LRU now.  Recorded,
 * the walk skips it: it was counted, and tried, once.  What a helper
 * cannot record (GFP_NOWAIT) it leaves to the caller, uncounted, which
 * tries it again and records what stays of it (@b->record_stayed); a
 * record the caller cannot have fails the call (-ENOMEM) rather than
 * count a page twice.  False if the folio went to the caller.
 */
static bool mp2_record_piece(struct mp2_batch *b, struct folio *folio)
{
	struct mp2_call *call = b->call;

	if (folio_test_large(folio))
		return true;
	if (xa_is_err(xa_store(&call->seen, folio_pfn(folio), mp2_tag(folio),
			       mp2_gfp_record(b)))) {
		if (b->by_helper) {
			list_move_tail(&folio->lru, &b->for_caller);
			b->record_stayed = true;
			return false;
		}
		b->err = -ENOMEM;
		return true;
	}
	WRITE_ONCE(call->pieces_recorded, true);
	return true;
}

/*
 * Count what stayed of a list migrate_pages() was given.  It stops at the
 * first folio it cannot allocate a destination for (-ENOMEM, or in the
 * pieces of a split folio) and hands back, in this order, the folios that
 * failed before it (pinned, locked, racing: busy), that folio, and those
 * it did not try: from that folio on, no_memory; or, for a helper, left
 * to the caller to try again with direct reclaim.
 */
static void mp2_count_stayed(struct mp2_batch *b, struct list_head *stayed)
{
	bool no_memory = false;
	struct folio *folio, *next;

	list_for_each_entry_safe(folio, next, stayed, lru) {
		no_memory |= folio == b->nomem;
		if (b->split_stayed && !mp2_record_piece(b, folio))
			continue;
		if (!no_memory)
			b->stats.busy += folio_nr_pages(folio);
		else if (b->by_helper)
			list_move_tail(&folio->lru, &b->for_caller);
		else
			b->stats.no_memory += folio_nr_pages(folio);
	}
}

/*
 * A helper's destinations for the large folios of @to_node, allocated
 * before migrate_pages() sees them: it splits a large folio it gets no
 * destination for, so a large folio the helper finds no room for without
 * reclaim or compaction goes whole to the caller, whose allocation may
 * reclaim and compact, as does one whose new folio's record cannot be
 * reserved (a helper's record of a large folio must not fail: that would
 * split it).  A partly mapped folio is split before its
 * destination is asked for: none is taken for it.  Hugetlb folios go to
 * the caller: a destination outside the node's pool is a surplus page
 * allocated with reclaim whatever the helper's mask says
 * (htlb_modify_alloc_mask()).
 */
static void mp2_reserve_large(struct mp2_batch *b, struct list_head *to_node,
			      int nid, struct list_head *reserved)
{
	struct folio *folio, *next, *dst;

	list_for_each_entry_safe(folio, next, to_node, lru) {
		if (!folio_test_large(folio) || folio_test_partially_mapped(folio))
			continue;
		if (folio_test_hugetlb(folio)) {
			list_move_tail(&folio->lru, &b->for_caller);
			continue;
		}
		dst = mp2_alloc_large_light(folio_order(folio), nid);
		if (dst && !mp2_reserve_record(b, dst))
			list_add_tail(&dst->lru, reserved);
		else
			list_move_tail(&folio->lru, &b->for_caller);
	}
	b->reserved = reserved;
}

static void mp2_free_reserved(struct mp2_batch *b)
{
	struct folio *dst, *next;

	if (!b->reserved)
		return;
	list_for_each_entry_safe(dst, next, b->reserved, lru) {
		list_del(&dst->lru);
		if (b->call->track_moved)
			xa_release(&b->call->seen, folio_pfn(dst));
		folio_put(dst);
	}
	b->reserved = NULL;
}

/*
 * Move the folios of the batch that go to the destination of its first
 * one; what stays is added to @left.  migrate_pages() gives up on its whole
 * list at the first folio it cannot allocate for, so each destination gets
 * a list of its own: a full node does not hold back the others.  Except for
 * migrate_pages(2), whose mainline gives up there with -ENOMEM, and counts
 * folios rather than pages: migrate_pages()'s own count.
 */
static void mp2_migrate_to_one_node(struct mp2_batch *b, struct list_head *left)
{
	struct mp2_call *call = b->call;
	int nid = call->map[folio_nid(list_first_entry(&b->folios, struct folio, lru))];
	struct migrate_counts counts = {};
	struct folio *folio, *next;
	LIST_HEAD(reserved);
	LIST_HEAD(to_node);
	int rc;

	list_for_each_entry_safe(folio, next, &b->folios, lru)
		if (call->map[folio_nid(folio)] == nid)
			list_move_tail(&folio->lru, &to_node);
	if (b->by_helper)
		mp2_reserve_large(b, &to_node, nid, &reserved);
	b->nomem = NULL;
	rc = list_empty(&to_node) ? 0 :
		migrate_pages_counted(&to_node, mp2_alloc_folio, mp2_free_folio,
				      (unsigned long)b, MIGRATE_SYNC, MR_SYSCALL,
				      &counts);
	mp2_free_reserved(b);
	b->stats.moved += counts.nr_succeeded;
	b->stats.split += counts.nr_split;
	/* migrate_pages(2)'s count: what stayed of migrate_pages()'s list. */
	if (rc >= 0) {
		b->gathered += counts.nr_failed;
		b->stayed |= !list_empty(&to_node);
	} else if (rc == -ENOMEM && (call->flags & MP2_F_MAINLINE) && !b->err) {
		b->err = -ENOMEM;
	}
	b->split_stayed = counts.nr_split || b->record_stayed;
	mp2_count_stayed(b, &to_node);
	b->split_stayed = false;
	list_splice_tail_init(&to_node, left);
}

/*
 * Folios chosen but not isolated: off the LRU for now (pinned, racing).
 * migrate_pages(2) counts each as one folio that failed (mainline counts a
 * large folio mapped by PTEs once per PTE of its first run: a transient
 * case that is not worth a second count here).
 */
static void mp2_count_unisolated(struct mp2_batch *b)
{
	unsigned long isolated = mp2_list_pages(&b->folios);

	b->stats.busy += b->wanted - min(isolated, b->wanted);
	isolated = list_count_nodes(&b->folios);
	b->failed += b->wanted_folios - min(isolated, b->wanted_folios);
	b->wanted = 0;
	b->wanted_folios = 0;
}

/**
 * mp2_migrate_batch - move an isolated batch to its destinations
 * @b: the batch; its folios are moved, or put back, and counted; for a
 *	helper (@b->by_helper), those it could not allocate for without
 *	direct reclaim stay isolated on @b->for_caller, uncounted, for
 *	mp2_migrate_for_caller()
 *
 * Context: process context, no locks held; the caller or a helper.
 */
void mp2_migrate_batch(struct mp2_batch *b)
{
	bool mainline = b->call->flags & MP2_F_MAINLINE;
	LIST_HEAD(left);

	mp2_count_unisolated(b);
	while (!list_empty(&b->folios) && !(mainline && b->err))
		mp2_migrate_to_one_node(b, &left);
	/* migrate_pages(2) stopped at a full node: the rest is not tried. */
	b->stats.no_memory += mp2_list_pages(&b->folios);
	b->failed += list_count_nodes(&b->folios);
	list_splice_tail_init(&b->folios, &left);
	putback_movable_pages(&left);
}

/**
 * mp2_migrate_for_caller - move what a helper left of a batch
 * @b: a batch a helper moved, with folios on @b->for_caller
 *
 * Tries them again with direct reclaim, in the caller, which reclaim
 * throttles, once the helpers' per-CPU page lists are drained (once per
 * call: a full node stays full); counts them as mp2_migrate_batch() does.
 *
 * Context: process context, no locks held; the caller.
 */
void mp2_migrate_for_caller(struct mp2_batch *b)
{
	/*
	 * What is left on the destination may sit in the helpers' per-CPU
	 * lists, which the caller's allocation does not see (reclaim drains
	 * them only after progress): flush them to the node first.
	 */
	if (!b->call->drained) {
		drain_all_pages(NULL);
		b->call->drained = true;
	}
	b->by_helper = false;
	list_splice_init(&b->for_caller, &b->folios);
	mp2_migrate_batch(b);
}

/**
 * mp2_drop_batch - put an isolated batch back without moving it
 * @b: the batch; its folios count as busy
 *
 * For a call that a fatal signal is ending: nothing is left isolated.
 *
 * Context: process context, no locks held.
 */
void mp2_drop_batch(struct mp2_batch *b)
{
	list_splice_init(&b->for_caller, &b->folios);
	mp2_count_unisolated(b);
	b->stats.busy += mp2_list_pages(&b->folios);
	b->failed += list_count_nodes(&b->folios);
	putback_movable_pages(&b->folios);
}

/**
 * mp2_fill_batch - isolate the next batch of an mm
 * @b: an empty batch of the call
 * @mm: the mm walked, with a user reference held
 * @addr: where the walk resumes; advanced to where this batch ended
 *
 * Takes @mm's mmap lock for reading and isolates the folios to move, until
 * the batch has met 2 MiB of memory or the target waits for the lock; with
 * MIGRATE_PAGES2_LAZY, marks those it defers to their next touch, under the
 * same hold of the lock.
 *
 * Context: process context, no locks held; the caller of the call.
 * Return: 0, -EINTR if a fatal signal interrupted the wait for the lock, or
 * -ENOMEM if the call's bookkeeping could not be allocated.  In every case
 * @b holds what it isolated, to be moved or dropped.
 */
int mp2_fill_batch(struct mp2_batch *b, struct mm_struct *mm,
		   unsigned long *addr)
{
	struct mp2_call *call = b->call;
	unsigned long from = *addr;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	b->mm = mm;
	*addr = queue_folios_range(mm, from, call->end, mp2_folio_wanted, b,
				   &b->folios);
	if (b->marks && !(call->flags & MIGRATE_PAGES2_DRY_RUN))
		mp2_lazy_mark(mm, from, *addr);
	mmap_read_unlock(mm);
	call->batches++;
	if (b->need_reserve &&
	    xa_reserve(&call->seen, b->reserve, GFP_KERNEL_ACCOUNT))
		return -ENOMEM;
	return 0;
}
