/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM migrate_pages2

#if !defined(_TRACE_MIGRATE_PAGES2_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_MIGRATE_PAGES2_H

#include <linux/tracepoint.h>
#include <uapi/linux/migrate_pages2.h>

/* At most this many pids and pairs are recorded; the counts are exact. */
#define MP2_TRACE_MAX	32

/*
 * One event per migrate_pages2() call that got as far as moving: the
 * targets, the pairs, what was done, the number of batches (each one hold
 * of a target's mmap lock) and the value the call returns.
 */
TRACE_EVENT(migrate_pages2,
	    TP_PROTO(const s32 *pids, u32 nr_pids, const s32 *old_nodes,
		     const s32 *new_nodes, u32 nr_nodes, u64 flags,
		     const struct migrate_pages_stats *stats, unsigned long batches,
		     long ret),
	    TP_ARGS(pids, nr_pids, old_nodes, new_nodes, nr_nodes, flags, stats,
		    batches, ret),
	    TP_STRUCT__entry(__field(u64, flags)
			     __field(u32, nr_pids)
			     __field(u32, nr_nodes)
			     __dynamic_array(s32, pids, min_t(u32, nr_pids, MP2_TRACE_MAX))
			     __dynamic_array(s32, old_nodes, min_t(u32, nr_nodes, MP2_TRACE_MAX))
			     __dynamic_array(s32, new_nodes, min_t(u32, nr_nodes, MP2_TRACE_MAX))
			     __field(u64, scanned)
			     __field(u64, moved)
			     __field(u64, shared)
			     __field(u64, busy)
			     __field(u64, no_memory)
			     __field(u64, split)
			     __field(u64, policies)
			     __field(u64, deferred)
			     __field(unsigned long, batches)
			     __field(long, ret)),
	    TP_fast_assign(__entry->flags = flags;
			   __entry->nr_pids = nr_pids;
			   __entry->nr_nodes = nr_nodes;
			   memcpy(__get_dynamic_array(pids), pids,
				  __get_dynamic_array_len(pids));
			   memcpy(__get_dynamic_array(old_nodes), old_nodes,
				  __get_dynamic_array_len(old_nodes));
			   memcpy(__get_dynamic_array(new_nodes), new_nodes,
				  __get_dynamic_array_len(new_nodes));
			   __entry->scanned = stats->scanned;
			   __entry->moved = stats->moved;
			   __entry->shared = stats->shared;
			   __entry->busy = stats->busy;
			   __entry->no_memory = stats->no_memory;
			   __entry->split = stats->split;
			   __entry->policies = stats->policies;
			   __entry->deferred = stats->deferred;
			   __entry->batches = batches;
			   __entry->ret = ret;),
	    TP_printk("flags=%#llx nr_pids=%u pids=%s nr_nodes=%u old=%s new=%s scanned=%llu moved=%llu shared=%llu busy=%llu no_memory=%llu split=%llu policies=%llu deferred=%llu batches=%lu ret=%ld",
		      __entry->flags, __entry->nr_pids,
		      __print_array(__get_dynamic_array(pids),
				    __get_dynamic_array_len(pids) / sizeof(s32),
				    sizeof(s32)),
		      __entry->nr_nodes,
		      __print_array(__get_dynamic_array(old_nodes),
				    __get_dynamic_array_len(old_nodes) / sizeof(s32),
				    sizeof(s32)),
		      __print_array(__get_dynamic_array(new_nodes),
				    __get_dynamic_array_len(new_nodes) / sizeof(s32),
				    sizeof(s32)),
		      __entry->scanned, __entry->moved, __entry->shared,
		      __entry->busy, __entry->no_memory, __entry->split,
		      __entry->policies, __entry->deferred, __entry->batches,
		      __entry->ret)
);

#endif /* _TRACE_MIGRATE_PAGES2_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
