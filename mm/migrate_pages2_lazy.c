// SPDX-License-Identifier: GPL-2.0
/*
 * migrate_pages2(2) with MIGRATE_PAGES2_LAZY: a page moves on its next
 * touch, to the destination of its pair, whichever thread touches it.
 *
 * The call gives each target a lazy map, its pairs and range (one per mm,
 * replaced by the next lazy call, dropped with the mm, not inherited by a
 * fork), and marks the pages it would have moved as NUMA balancing marks
 * pages: their PTEs and PMDs become PROT_NONE, so that the next access
 * takes a NUMA hinting fault.  do_numa_page() and do_huge_pmd_numa_page()
 * ask numa_migrate_check(), which asks mp2_lazy_target() for a target
 * that has ever had a map, where the folio goes: to the map's destination
 * for a folio on one of its sources in its range, and the fault migrates
 * it as NUMA balancing's would (migrate_misplaced_folio()).
 *
 * Called by the syscall (the map), the batch's walk (what is marked) and
 * the hinting fault (where a page goes); it calls mempolicy and mprotect,
 * and nothing of migrate_pages2 back.
 */

#include <linux/memcontrol.h>
#include <linux/mempolicy.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/sched/sysctl.h>
#include <linux/slab.h>
#include <linux/vmstat.h>
#include <asm/tlb.h>

#include "internal.h"
#include "migrate_pages2.h"

/* Can a hinting fault be taken in @vma, and move what it maps there? */
static bool mp2_lazy_vma(struct vm_area_struct *vma)
{
	return vma_is_accessible(vma) && !is_vm_hugetlb_page(vma) &&
	       !(vma->vm_flags & VM_MIXEDMAP) && vma_migratable(vma);
}

/**
 * mp2_lazy_markable - may a folio the call would move be left to its touch
 * @folio: a folio on a source of the call, that the shared rule moves
 * @vma: the VMA the walk met it in
 *
 * What a NUMA hinting fault cannot move is moved by the call at once: a
 * hugetlb folio, a folio of a VMA that cannot fault (PROT_NONE) or is
 * VM_MIXEDMAP, and what folio_hint_can_migrate() refuses (KSM and other
 * copy-on-write folios mapped more than once, pinned folios, dirty page
 * cache).  A PMD-mapped folio needs THP migration.
 *
 * Context: under the page table lock.
 * Return: true if the folio is to be marked rather than moved.
 */
bool mp2_lazy_markable(struct folio *folio, struct vm_area_struct *vma)
{
	if (folio_test_pmd_mappable(folio) && !thp_migration_supported())
		return false;
	return mp2_lazy_vma(vma) && folio_hint_can_migrate(folio, vma);
}

/**
 * mp2_lazy_mark - mark what a batch's walk left to the next touch
 * @mm: the mm walked, its mmap lock held for reading
 * @start: where the batch's walk started
 * @end: where it stopped
 *
 * change_protection() makes PROT_NONE the mappings that the map of @mm
 * chooses (folio_can_map_lazy()): what the walk counted as deferred.  The
 * span is widened to whole PMDs, so that a huge PMD at either end is
 * marked whole and not split; the map's range still decides which folios
 * are marked, and a mapping already PROT_NONE is left as it is.
 *
 * Context: process context, @mm's mmap lock held for reading.
 */
void mp2_lazy_mark(struct mm_struct *mm, unsigned long start,
		   unsigned long end)
{
	VMA_ITERATOR(vmi, mm, ALIGN_DOWN(start, PMD_SIZE));
	struct vm_area_struct *vma;
	struct mmu_gather tlb;
	long nr;

	end = ALIGN(end, PMD_SIZE);
	for_each_vma_range(vmi, vma, end) {
		if (!mp2_lazy_vma(vma))
			continue;
		tlb_gather_mmu(&tlb, mm);
		nr = change_protection(&tlb, vma,
				       max(ALIGN_DOWN(start, PMD_SIZE), vma->vm_start),
				       min(end, vma->vm_end),
				       MM_CP_PROT_NUMA | MM_CP_LAZY_MIGRATE);
		tlb_finish_mmu(&tlb);
		if (nr > 0)
			count_vm_numa_events(NUMA_PTE_UPDATES, nr);
	}
}

/*
 * The map of @mm, charged to @mm's memory cgroup: it lives as long as the
 * target, whoever made the call.
 */
static struct mp2_lazy_map *mp2_lazy_alloc(const struct mp2_call *call,
					   struct mm_struct *mm)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm), *old;
	struct mp2_lazy_map *map;
	int nid;

	old = set_active_memcg(memcg);
	map = kmalloc(struct_size(map, dest, nr_node_ids), GFP_KERNEL_ACCOUNT);
	set_active_memcg(old);
	mem_cgroup_put(memcg);
	if (!map)
		return NULL;
	map->start = call->start;
	map->end = call->end;
	map->move_all = call->flags & MIGRATE_PAGES2_MOVE_ALL;
	for (nid = 0; nid < nr_node_ids; nid++)
		map->dest[nid] = node_isset(nid, call->moving) ? call->map[nid] :
								 NUMA_NO_NODE;
	return map;
}

static void mp2_lazy_replace(struct mm_struct *mm, struct mp2_lazy_map *map)
{
	struct mp2_lazy_map *old;

	/* Before the map: a fault that finds the map knows to look. */
	if (map)
		WRITE_ONCE(mm->lazy_marked, true);
	old = unrcu_pointer(xchg(&mm->lazy_map, RCU_INITIALIZER(map)));
	if (old)
		kfree_rcu(old, rcu);
}

/**
 * mp2_lazy_install - give each target the call's lazy map
 * @call: a MIGRATE_PAGES2_LAZY call, its node map built
 * @mms: the distinct mms of its targets
 * @nr: entries in @mms
 *
 * Each map replaces the one the mm had; a call whose pairs move nothing
 * (each source its own destination) clears it.  Marks an earlier map
 * left stay in the page tables: mp2_lazy_target() moves nothing for them
 * while NUMA balancing is off.  Every map is allocated before any is
 * installed.
 *
 * Context: process context; sleeps.
 * Return: 0, or -ENOMEM with no map changed.
 */
int mp2_lazy_install(const struct mp2_call *call, struct mm_struct **mms,
		     u32 nr)
{
	struct mp2_lazy_map **maps;
	u32 i;

	maps = kcalloc(nr, sizeof(*maps), GFP_KERNEL);
	if (!maps)
		return -ENOMEM;
	for (i = 0; i < nr && !nodes_empty(call->moving); i++) {
		maps[i] = mp2_lazy_alloc(call, mms[i]);
		if (!maps[i]) {
			while (i--)
				kfree(maps[i]);
			kfree(maps);
			return -ENOMEM;
		}
	}
	for (i = 0; i < nr; i++)
		mp2_lazy_replace(mms[i], maps[i]);
	kfree(maps);
	return 0;
}

/**
 * mp2_lazy_target - where a NUMA hinting fault moves a folio
 * @folio: the folio the fault found
 * @vmf: the fault, in an mm that has or had a lazy map
 * @addr: the address of the folio's mapping (of its PMD for a huge PMD)
 *
 * A folio the map covers (on one of its sources, mapped in its range) goes
 * to its pair's destination, and nowhere if it has become shared since
 * the call and the map does not move shared folios.  Any other folio is
 * placed as without a map: by the memory policy when NUMA balancing is
 * on; when it is off, no hinting fault would have been taken but for a
 * mark that outlived its map (a map replaced or cleared, a child forked
 * with its parent's marks), and the fault moves nothing: it must not turn
 * into a move toward the touching thread's node.
 *
 * Context: the hinting fault, under the page table lock.
 * Return: the node to move the folio to, or NUMA_NO_NODE.
 */
int mp2_lazy_target(struct folio *folio, struct vm_fault *vmf,
		    unsigned long addr)
{
	struct mp2_lazy_map *map;
	int nid = NUMA_NO_NODE;
	bool covered;

	rcu_read_lock();
	map = rcu_dereference(vmf->vma->vm_mm->lazy_map);
	covered = map && mp2_lazy_dest(map, folio, addr) != NUMA_NO_NODE;
	if (covered && (map->move_all || !folio_maybe_mapped_shared(folio)))
		nid = mp2_lazy_dest(map, folio, addr);
	rcu_read_unlock();
	if (covered || !sysctl_numa_balancing_mode)
		return nid;
	return mpol_misplaced(folio, vmf, addr);
}

/**
 * mp2_lazy_drop - free an mm's lazy map
 * @mm: the mm, freed by __mmdrop()
 *
 * Context: no fault can be running in @mm any more.
 */
void mp2_lazy_drop(struct mm_struct *mm)
{
	kfree(rcu_dereference_protected(mm->lazy_map, true));
}
