// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages(2) and cpuset memory migration on the migrate_pages2 engine.
 *
 * do_migrate_pages() moves an mm's pages from one node mask to another,
 * by bit position (node_remap()), for kernel_migrate_pages() and for
 * cpuset_migrate_mm() when a cpuset's mems change.  It used to walk the
 * whole address space once per source node, holding the mmap lock for
 * each walk, and could not be stopped.  Now it turns the masks into the
 * same (source, destination) pairs and runs the migrate_pages2 engine:
 * one walk, the mmap lock held for one batch of at most 2 MiB at a time,
 * a fatal signal ends it within a batch, and each page moves at most once.
 * Arguments, permissions and errnos stay with the callers, and the result
 * is mainline's: the number of folios that could not be isolated or moved
 * (migrate_pages()'s own count, plus migration entries met), shared pages
 * skipped without MPOL_MF_MOVE_ALL not counted, and -ENOMEM as soon as a
 * destination is full, the rest left where it is.
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

/**
 * do_migrate_pages - move an mm's pages between two node masks
 * @mm: the mm, with a user reference held
 * @from: the source nodes
 * @to: the destination nodes, paired with @from by position
 * @flags: MPOL_MF_MOVE (pages mapped more than once stay, uncounted) or
 *	MPOL_MF_MOVE_ALL
 *
 * Context: process context (or a workqueue, for cpusets), no locks held.
 * Return: the number of folios that could not be moved, at most INT_MAX;
 * -ENOMEM when a destination is full (pages already moved stay moved) or
 * memory for the call ran out, or -EINTR if a fatal signal ended the move.
 */
int do_migrate_pages(struct mm_struct *mm, const nodemask_t *from,
		     const nodemask_t *to, int flags)
{
	struct mp2_call *call;
	u64 left;
	int err;

	call = kzalloc_obj(*call);
	if (!call)
		return -ENOMEM;
	call->flags = MP2_F_MAINLINE;
	if (flags & MPOL_MF_MOVE_ALL)
		call->flags |= MIGRATE_PAGES2_MOVE_ALL;
	call->start = 0;
	call->end = TASK_SIZE_MAX;
	xa_init(&call->seen);
	mp2_map_from_masks(call, from, to);
	err = mp2_run(call, &mm, 1, 0);
	left = call->failed;
	xa_destroy(&call->seen);
	kfree(call);
	return err ? err : min_t(u64, left, INT_MAX);
}
