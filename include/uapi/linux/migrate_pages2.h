/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _UAPI_LINUX_MIGRATE_PAGES2_H
#define _UAPI_LINUX_MIGRATE_PAGES2_H

#include <linux/const.h>
#include <linux/types.h>

/**
 * struct migrate_pages_args - arguments of migrate_pages2(2)
 * @flags: MIGRATE_PAGES2_* flags
 * @pids: const __s32 *: the target processes (pids, or pidfds with
 *	MIGRATE_PAGES2_PIDFD); 0 means the caller
 * @old_nodes: const __s32 *: source node of pair i, or
 *	MIGRATE_PAGES2_ANY_NODE
 * @new_nodes: const __s32 *: destination node of pair i
 * @stats: struct migrate_pages_stats *: written on return, may be 0
 * @start: first byte of the range, page aligned
 * @len: length of the range in bytes; start == 0 && len == 0 means the
 *	whole address space
 * @nr_pids: number of entries in @pids
 * @nr_nodes: number of pairs in @old_nodes and @new_nodes
 * @workers: (VER1) threads that may move this call's pages at once: the
 *	caller and up to @workers - 1 helpers; 0 or 1 means the caller alone
 * @reserved: (VER1) must be 0
 *
 * Passed with its size; later versions only add fields at the end.
 */
struct migrate_pages_args {
	__u64 flags;
	__u64 pids;
	__u64 old_nodes;
	__u64 new_nodes;
	__u64 stats;
	__u64 start;
	__u64 len;
	__u32 nr_pids;
	__u32 nr_nodes;
	__u32 workers;
	__u32 reserved;
};

#define MIGRATE_PAGES_ARGS_SIZE_VER0	64
#define MIGRATE_PAGES_ARGS_SIZE_VER1	72

/**
 * struct migrate_pages_stats - what migrate_pages2(2) did, in base pages
 * @scanned: present pages found on a source node whose pair moves them
 * @moved: of those, pages now on their destination node
 * @shared: skipped: mapped more than once and MIGRATE_PAGES2_MOVE_ALL not
 *	given
 * @busy: could not be isolated or migrated (pinned, writeback, races)
 * @no_memory: the destination node could not supply a page
 * @split: huge pages that had to be split to move (a count of huge pages)
 * @policies: memory policies rewritten (MIGRATE_PAGES2_UPDATE_POLICY: one
 *	per VMA after splits, one per thread), else 0
 * @deferred: (MIGRATE_PAGES2_LAZY) pages left in place, to move on their
 *	next touch
 */
struct migrate_pages_stats {
	__u64 scanned;
	__u64 moved;
	__u64 shared;
	__u64 busy;
	__u64 no_memory;
	__u64 split;
	__u64 policies;
	__u64 deferred;
};

/* Also move pages mapped more than once; needs CAP_SYS_NICE. */
#define MIGRATE_PAGES2_MOVE_ALL		_BITULL(0)
/* pids[] holds pidfds, not pids. */
#define MIGRATE_PAGES2_PIDFD		_BITULL(1)
/* Count only: fill stats, move nothing. */
#define MIGRATE_PAGES2_DRY_RUN		_BITULL(2)
/* First rewrite the targets' memory policies through the pairs. */
#define MIGRATE_PAGES2_UPDATE_POLICY	_BITULL(3)
/* Mark the pages instead: each moves to its pair's node on its next touch. */
#define MIGRATE_PAGES2_LAZY		_BITULL(4)

/* In old_nodes[]: any node that no other pair names as a source. */
#define MIGRATE_PAGES2_ANY_NODE		(-1)

#endif /* _UAPI_LINUX_MIGRATE_PAGES2_H */
