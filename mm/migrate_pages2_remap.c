// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages(2) and cpuset memory migration on the migrate_pages2 engine.
 *
 * do_migrate_pages() moves an mm's pages from one node mask to another,
 * by bit position (node_remap()), for kernel_migrate_pages() and for
 * cpuset_migrate_mm() when a cpuset's mems change.  It walks the whole
 * address space once per source node, in an order that empties a node
 * before filling it; it used to hold the mmap lock for each whole walk,
 * and could not be stopped.  Now it turns the masks into the same
 * (source, destination) pairs and runs one pass of the migrate_pages2
 * engine per source, in the same order: the mmap lock held for one batch
 * of at most 2 MiB at a time, and a fatal signal ends it within a batch.
 * Arguments, permissions and errnos stay with the callers, and the result
 * is mainline's: the number of folios that could not be isolated or moved
 * (migrate_pages()'s own count, plus migration entries met, and a folio
 * met again in a pass, still isolated in mainline), shared pages skipped
 * without MPOL_MF_MOVE_ALL not counted, and -ENOMEM as soon as a
 * destination is full, the rest left where it is but for hugetlb folios,
 * which mainline's migrate_pages() moves first.
 */

#include <linux/mempolicy.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "migrate_pages2.h"

/**
 * mp2_map_from_masks - mainline's (source, destination) pairs of two masks
 * @call: the call whose map, moving and destination masks are filled
 * @from: the source nodes
 * @to: the destination nodes
 *
 * Node s of @from goes to node_remap(s, @from, @to), the node of @to at
 * the same position (modulo its weight).  When the masks have different
 * weights, a source that is also a destination stays where it is, as
 * do_migrate_pages() always did: [0-7] -> [3,4,5] moves only 0, 1, 2, 6
 * and 7.
 *
 * Context: any.
 */
VISIBLE_IF_KUNIT void mp2_map_from_masks(struct mp2_call *call,
					 const nodemask_t *from,
					 const nodemask_t *to)
{
	bool same_weight = nodes_weight(*from) == nodes_weight(*to);
	int nid;

	for (nid = 0; nid < MAX_NUMNODES; nid++)
		call->map[nid] = NUMA_NO_NODE;
	nodes_clear(call->dests);
	for_each_node_mask(nid, *from) {
		if (!same_weight && node_isset(nid, *to))
			continue;
		call->map[nid] = node_remap(nid, *from, *to);
		node_set(call->map[nid], call->dests);
	}
	mp2_map_done(call);
}
EXPORT_SYMBOL_IF_KUNIT(mp2_map_from_masks);

/*
 * Mainline's next pass: among the sources left in @tmp, the last one that
 * moves, or the first whose destination is not itself a source left, so
 * that a node is emptied before it is filled.  Returns the source, or
 * NUMA_NO_NODE when nothing is left to move.
 */
static int mp2_next_pass(const struct mp2_call *pairs, const nodemask_t *tmp)
{
	int s, source = NUMA_NO_NODE;

	for_each_node_mask(s, *tmp) {
		int d = pairs->map[s];

		if (d == NUMA_NO_NODE || d == s)
			continue;
		source = s;
		if (!node_isset(d, *tmp))
			break;
	}
	return source;
}

/**
 * do_migrate_pages - move an mm's pages between two node masks
 * @mm: the mm, with a user reference held
 * @from: the source nodes
 * @to: the destination nodes, paired with @from by position
 * @flags: MPOL_MF_MOVE (pages mapped more than once stay, uncounted) or
 *	MPOL_MF_MOVE_ALL
 *
 * One pass of the engine per source node, in mainline's order (a node is
 * emptied before it is filled where the pairs allow it), each pass a walk
 * of the whole mm in batches: the same order, placement, count and
 * -ENOMEM as mainline's per-node passes.
 *
 * Context: process context (or a workqueue, for cpusets), no locks held.
 * Return: the number of folios that could not be moved, at most INT_MAX;
 * -ENOMEM when a destination is full (pages already moved stay moved) or
 * memory for the call ran out, or -EINTR if a fatal signal ended the move.
 */
int do_migrate_pages(struct mm_struct *mm, const nodemask_t *from,
		     const nodemask_t *to, int flags)
{
	struct mp2_call *pairs, *call;
	u64 left = 0;
	nodemask_t tmp;
	int source, nid, err = 0;

	pairs = kzalloc_objs(*pairs, 2);
	if (!pairs)
		return -ENOMEM;
	call = &pairs[1];
	mp2_map_from_masks(pairs, from, to);
	tmp = *from;
	while ((source = mp2_next_pass(pairs, &tmp)) != NUMA_NO_NODE) {
		node_clear(source, tmp);
		*call = (struct mp2_call) {
			.flags = MP2_F_MAINLINE,
			.end = TASK_SIZE_MAX,
		};
		if (flags & MPOL_MF_MOVE_ALL)
			call->flags |= MIGRATE_PAGES2_MOVE_ALL;
		for (nid = 0; nid < MAX_NUMNODES; nid++)
			call->map[nid] = NUMA_NO_NODE;
		call->map[source] = pairs->map[source];
		nodes_clear(call->dests);
		node_set(call->map[source], call->dests);
		mp2_map_done(call);
		xa_init(&call->seen);
		err = mp2_run(call, &mm, 1, 0);
		left += call->failed + (call->stayed ? call->gathered : 0);
		xa_destroy(&call->seen);
		if (err)
			break;
	}
	kfree(pairs);
	return err ? err : min_t(u64, left, INT_MAX);
}
