/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migrate_pages2(2): state shared by the syscall (mm/migrate_pages2.c), the
 * page mover (mm/migrate_pages2_move.c) and the KUnit tests.
 */
#ifndef __MM_MIGRATE_PAGES2_H
#define __MM_MIGRATE_PAGES2_H

#include <linux/nodemask.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <uapi/linux/migrate_pages2.h>

#define MIGRATE_PAGES2_FLAGS	(MIGRATE_PAGES2_MOVE_ALL | \
				 MIGRATE_PAGES2_PIDFD | \
				 MIGRATE_PAGES2_DRY_RUN)
#define MIGRATE_PAGES2_MAX_PIDS	1024

struct mm_struct;

/**
 * struct mp2_call - one migrate_pages2() call
 * @flags: MIGRATE_PAGES2_* flags
 * @start: first address of the range
 * @end: end of the range (exclusive)
 * @map: destination node of each source node, NUMA_NO_NODE if none
 * @moving: source nodes whose destination differs from themselves
 * @dests: every destination node of the call
 * @track_moved: a destination is also in @moving, so pages moved by this
 *	call must be remembered to move each page at most once
 * @seen: pfns this call is done with, each with a tag of its folio: folios
 *	mapped more than once or large, at their first visit, and the new
 *	folios of moved folios the walk could meet again when @track_moved
 * @batches: batches walked so far (for the tracepoint)
 * @stats: what the call did so far
 */
struct mp2_call {
	u64 flags;
	unsigned long start;
	unsigned long end;
	int map[MAX_NUMNODES];
	nodemask_t moving;
	nodemask_t dests;
	bool track_moved;
	struct xarray seen;
	unsigned long batches;
	struct migrate_pages_stats stats;
};

#if IS_ENABLED(CONFIG_KUNIT)
/* Static unless KUnit is built: the pure checks mm/migrate_pages2_test.c runs. */
int mp2_check_args(const struct migrate_pages_args *args);
int mp2_build_map(struct mp2_call *call, const s32 *old_nodes,
		  const s32 *new_nodes, u32 nr_nodes);
#endif
int mp2_move_mm(struct mp2_call *call, struct mm_struct *mm);

#endif /* __MM_MIGRATE_PAGES2_H */
