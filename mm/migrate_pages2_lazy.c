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
 * with a map where the folio goes: to the map's destination for a folio
 * on one of its sources in its range, and the fault migrates it as NUMA
 * balancing's would (migrate_misplaced_folio()); any other folio where
 * NUMA balancing sends it.
 *
 * A map replaced or cleared takes its marks with it (mp2_lazy_replace()),
 * a fork gives the child, which has no map, none (copy_present_ptes()),
 * and mremap() moves none (move_ptes()), so that a mark does not outlive
 * its map and turn into a move toward the touching thread's node.  While
 * a replaced map's marks are being removed, and wherever NUMA balancing
 * makes no marks, a fault the map does not cover moves nothing.
 *
 * Called by the syscall (the map), the batch's walk (what is marked) and
 * the hinting fault (where a page goes); it calls mempolicy and mprotect,
 * and nothing of migrate_pages2 back.
 */

#include <linux/memcontrol.h>
#include <linux/memory-tiers.h>
#include <linux/mempolicy.h>
#include <linux/pgtable.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/pagewalk.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/sched/sysctl.h>
#include <linux/slab.h>
#include <linux/userfaultfd_k.h>
#include <linux/vmstat.h>
#include <linux/wait_bit.h>
#include <linux/workqueue.h>
#include <asm/tlb.h>

#include "internal.h"
#include "migrate_pages2.h"

/*
 * Can a hinting fault be taken in @vma, and move what it maps there: may
 * it hold marks.  To be marked (@mark), not where userfaultfd protects:
 * read-write protection makes its own PROT_NONE entries, whose faults go
 * to userfaultfd, and an entry it protects later keeps its uffd bit,
 * which tells a mark from its own to the removal and to a fork.
 */
static bool mp2_lazy_vma(struct vm_area_struct *vma, bool mark)
{
	if (!vma_is_accessible(vma) || is_vm_hugetlb_page(vma) ||
	    (vma->vm_flags & VM_MIXEDMAP) || !vma_migratable(vma))
		return false;
	return !mark || !userfaultfd_protected(vma);
}

/**
 * mp2_lazy_markable - may a folio the call would move be left to its touch
 * @call: the MIGRATE_PAGES2_LAZY call
 * @folio: a folio on a source of the call, that the shared rule moves
 * @vma: the VMA the walk met it in
 *
 * What a NUMA hinting fault cannot move is moved by the call at once: a
 * hugetlb folio, a folio of a VMA that cannot fault (PROT_NONE) or is
 * VM_MIXEDMAP or armed for userfaultfd write or read-write protection, what
 * folio_hint_can_migrate() refuses (KSM and other copy-on-write folios
 * mapped more than once, pinned folios, dirty page cache), and a folio
 * whose destination is outside the targets' cpusets: the touching thread
 * allocates within its own (a caller with CAP_SYS_NICE may choose such a
 * node).  A PMD-mapped folio needs THP migration.
 *
 * Context: under the page table lock.
 * Return: true if the folio is to be marked rather than moved.
 */
bool mp2_lazy_markable(const struct mp2_call *call, struct folio *folio,
		       struct vm_area_struct *vma)
{
	if (folio_test_pmd_mappable(folio) && !thp_migration_supported())
		return false;
	if (!node_isset(call->map[folio_nid(folio)], call->touch_mems))
		return false;
	return mp2_lazy_vma(vma, true) && folio_hint_can_migrate(folio, vma);
}

/*
 * Mark [@start, @end) of @vma for the map (@mark), or give its hinting
 * marks back the VMA's protection, as a hinting fault would.
 */
static void mp2_lazy_mark_span(struct vm_area_struct *vma, unsigned long start,
			       unsigned long end, bool mark)
{
	unsigned long cp_flags = MM_CP_LAZY_MIGRATE;
	struct mmu_gather tlb;
	long nr;

	if (start >= end)
		return;
	if (mark)
		cp_flags |= MM_CP_PROT_NUMA;
	else if (vma_wants_manual_pte_write_upgrade(vma))
		cp_flags |= MM_CP_TRY_CHANGE_WRITABLE;
	tlb_gather_mmu(&tlb, vma->vm_mm);
	nr = change_protection(&tlb, vma, start, end, cp_flags);
	tlb_finish_mmu(&tlb);
	if (nr > 0 && mark)
		count_vm_numa_events(NUMA_PTE_UPDATES, nr);
}

/*
 * Is @addr of @vma mapped by a huge PMD?  change_protection() splits a
 * huge PMD that its span covers in part.
 */
static bool mp2_huge_pmd_at(struct vm_area_struct *vma, unsigned long addr)
{
	pmd_t *pmd = mm_find_pmd(vma->vm_mm, addr);

	return pmd && pmd_trans_huge(pmdp_get_lockless(pmd));
}

/*
 * Mark, or unmark, [@start, @end) of @mm page by page, except that a huge
 * PMD the span covers in part is changed whole rather than split.
 */
static void mp2_lazy_mark_range(struct mm_struct *mm, unsigned long start,
				unsigned long end, bool mark)
{
	VMA_ITERATOR(vmi, mm, start);
	struct vm_area_struct *vma;

	for_each_vma_range(vmi, vma, end) {
		unsigned long s = max(start, vma->vm_start);
		unsigned long e = min(end, vma->vm_end);
		unsigned long head = ALIGN_DOWN(s, PMD_SIZE);
		unsigned long tail = ALIGN_DOWN(e - 1, PMD_SIZE);

		if (!mp2_lazy_vma(vma, mark))
			continue;
		if (head != s && mp2_huge_pmd_at(vma, s)) {
			mp2_lazy_mark_span(vma, max(head, vma->vm_start),
					   min(head + PMD_SIZE, vma->vm_end), mark);
			s = min(head + PMD_SIZE, e);
		}
		if (s < e && e != tail + PMD_SIZE && tail >= s &&
		    mp2_huge_pmd_at(vma, e - 1)) {
			mp2_lazy_mark_span(vma, max(tail, vma->vm_start),
					   min(tail + PMD_SIZE, vma->vm_end), mark);
			e = tail;
		}
		mp2_lazy_mark_span(vma, s, e, mark);
	}
}

/**
 * mp2_lazy_mark - mark what a batch's walk left to the next touch
 * @mm: the mm walked, its mmap lock held for reading
 * @start: where the batch's walk started
 * @end: where it stopped
 *
 * change_protection() makes PROT_NONE the mappings that the map of @mm
 * chooses (folio_can_map_lazy()): what the walk counted as deferred.  It
 * marks [@start, @end) page by page, except that a huge PMD the span
 * covers in part (at the call's range ends: batches end before a folio)
 * is marked whole rather than split; the map's range decides that it is
 * covered.  A mapping already PROT_NONE is left as it is.
 *
 * Context: process context, @mm's mmap lock held for reading.
 */
void mp2_lazy_mark(struct mm_struct *mm, unsigned long start,
		   unsigned long end)
{
	mp2_lazy_mark_range(mm, start, end, true);
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
	/* Not what the call moves at once (mp2_lazy_markable()). */
	for (nid = 0; nid < nr_node_ids; nid++)
		map->dest[nid] = node_isset(nid, call->moving) &&
				 node_isset(call->map[nid], call->touch_mems) ?
				 call->map[nid] : NUMA_NO_NODE;
	return map;
}

/* How far one hold of the lock looks for a page table: PMDs or holes. */
#define MP2_UNMARK_LOOK		512

/* Where a removal's walk stopped, and whether at a populated PMD. */
struct mp2_unmark_walk {
	unsigned long addr;
	unsigned int budget;
	bool populated;
};

/* pmd_entry: the first PMD of the walk that maps anything. */
static int mp2_populated_pmd(pmd_t *pmd, unsigned long addr,
			     unsigned long next, struct mm_walk *walk)
{
	struct mp2_unmark_walk *w = walk->private;

	w->addr = addr;
	w->populated = true;
	return 1;
}

/* pte_hole: the walk looks no further than its budget per hold. */
static int mp2_unmark_hole(unsigned long addr, unsigned long next, int depth,
			   struct mm_walk *walk)
{
	struct mp2_unmark_walk *w = walk->private;

	w->addr = next;
	return --w->budget ? 0 : 1;
}

/* test_walk: only VMAs that may hold marks (DAX PUDs are not split). */
static int mp2_unmark_vma(unsigned long start, unsigned long end,
			  struct mm_walk *walk)
{
	struct mp2_unmark_walk *w = walk->private;

	if (!--w->budget) {
		w->addr = start;
		return -EAGAIN;
	}
	w->addr = end;
	return mp2_lazy_vma(walk->vma, false) ? 0 : 1;
}

static const struct mm_walk_ops mp2_unmark_ops = {
	.pmd_entry = mp2_populated_pmd,
	.pte_hole = mp2_unmark_hole,
	.test_walk = mp2_unmark_vma,
	.walk_lock = PGWALK_RDLOCK,
};

/*
 * Remove the marks of a replaced map from *@start to @end of @mm, a PMD's
 * span per hold of the mmap read lock (rule 7: the target's mmap() waits
 * one batch at most), skipping where no page table is, MP2_UNMARK_LOOK
 * entries or VMAs per hold at most: the cost follows the page tables
 * present, not the range.  Between holds a fork or mremap() strips the
 * marks it copies or moves (mp2_lazy_may_be_marked()).  A target that has
 * exited (the reference held here is its mm's last user) needs none
 * removed: it is being torn down.
 * *@start is where it stopped: -EINTR for a fatal signal.
 */
static int mp2_lazy_unmark(struct mm_struct *mm, unsigned long *start,
			   unsigned long end)
{
	unsigned long addr = *start, next;
	struct mp2_unmark_walk w;
	int ret = 0;

	while (addr < end && atomic_read(&mm->mm_users) > 1) {
		if (fatal_signal_pending(current) ||
		    mmap_read_lock_killable(mm)) {
			ret = -EINTR;
			break;
		}
		w = (struct mp2_unmark_walk){ .addr = end,
					      .budget = MP2_UNMARK_LOOK };
		ret = walk_page_range(mm, addr, end, &mp2_unmark_ops, &w);
		WARN_ON_ONCE(ret < 0 && ret != -EAGAIN);
		ret = 0;
		if (!w.populated) {
			mmap_read_unlock(mm);
			addr = max(addr, min(w.addr, end));
			cond_resched();
			continue;
		}
		addr = max(addr, w.addr);
		next = min(ALIGN_DOWN(addr, PMD_SIZE) + PMD_SIZE, end);
		mp2_lazy_mark_range(mm, addr, next, false);
		mmap_read_unlock(mm);
		addr = next;
		cond_resched();
	}
	*start = addr;
	return ret;
}

/* In &mm_struct.lazy_state: the count of removals under way. */
#define MP2_LAZY_REMOVALS	(MP2_LAZY_STALE - 1)

/*
 * Claim @mm's removal count for a replacement, if no removal is under way:
 * in one step, so that of two calls waiting only one goes on.
 */
static bool mp2_lazy_claim(struct mm_struct *mm)
{
	int state = atomic_read(&mm->lazy_state);

	do {
		if (state & MP2_LAZY_REMOVALS)
			return false;
	} while (!atomic_try_cmpxchg(&mm->lazy_state, &state, state + 1));
	return true;
}

/* Give the claim back, and wake the calls waiting for it. */
static void mp2_lazy_unclaim(struct mm_struct *mm)
{
	atomic_dec(&mm->lazy_state);
	/* The count, then the wake-up: see mp2_lazy_replace()'s wait. */
	smp_mb__after_atomic();
	wake_up_var(&mm->lazy_state);
}

/* A removal of @old's marks from @mm is done: what it held goes. */
static void mp2_lazy_removed(struct mm_struct *mm, struct mp2_lazy_map *old)
{
	mp2_lazy_unclaim(mm);
	mmput(mm);
	if (old)
		kfree_rcu(old, rcu);
}

/* The rest of a removal a fatal signal cut short. */
struct mp2_unmark_work {
	struct work_struct work;
	struct mm_struct *mm;
	struct mp2_lazy_map *old;
	unsigned long start;
};

static void mp2_lazy_unmark_fn(struct work_struct *work)
{
	struct mp2_unmark_work *w = container_of(work, struct mp2_unmark_work,
						 work);

	mp2_lazy_unmark(w->mm, &w->start, w->old->end);
	mp2_lazy_removed(w->mm, w->old);
	kfree(w);
}

/*
 * Hand the rest of a removal to a worker, with the reference to @mm and
 * the raised count, so that the dying caller returns now and no mark
 * outlives the removal.  False if there is no memory for it.
 */
static bool mp2_lazy_unmark_later(struct mm_struct *mm,
				  struct mp2_lazy_map *old, unsigned long start)
{
	struct mp2_unmark_work *w = kmalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return false;
	INIT_WORK(&w->work, mp2_lazy_unmark_fn);
	w->mm = mm;
	w->old = old;
	w->start = start;
	queue_work(system_dfl_long_wq, &w->work);
	return true;
}

/*
 * Replace the map of @mm by @map (NULL: clear it) and remove the old map's
 * marks.  Until they are gone, a fault outside the new map moves nothing:
 * it may be an old mark's.  A removal under way (a worker's, or another
 * call's) is waited for first, and the count claimed at once
 * (mp2_lazy_claim()): it would remove the new map's marks too, whoever
 * made them.  A fatal signal leaves the rest of the removal
 * to a worker (or, with no memory for one, the mm's uncovered faults
 * moving nothing for good: MP2_LAZY_STALE).  The marks of a lazy call
 * walking @mm meanwhile are made for the map it finds under the page
 * table lock: before the exchange they are the old map's, which the pass
 * after it removes.  @mm is held by mmget(), or its mappings are gone.
 */
static int mp2_lazy_replace(struct mm_struct *mm, struct mp2_lazy_map *map)
{
	struct mp2_lazy_map *old;
	unsigned long start;
	int ret = 0;

	if (!mmget_not_zero(mm)) {
		kfree(map);
		return 0;
	}
	if (wait_var_event_killable(&mm->lazy_state, mp2_lazy_claim(mm))) {
		mmput(mm);
		kfree(map);
		return -EINTR;
	}
	if (mmap_read_lock_killable(mm)) {
		mp2_lazy_removed(mm, NULL);
		kfree(map);
		return -EINTR;
	}
	/* Before the map and its marks: a fork reads it (copy_present_ptes()). */
	if (map)
		atomic_or(MP2_LAZY_HAD_MAP, &mm->lazy_state);
	old = unrcu_pointer(xchg(&mm->lazy_map, RCU_INITIALIZER(map)));
	mmap_read_unlock(mm);
	if (old) {
		start = old->start;
		ret = mp2_lazy_unmark(mm, &start, old->end);
		if (ret && mp2_lazy_unmark_later(mm, old, start))
			return ret;
		if (ret)
			atomic_or(MP2_LAZY_STALE, &mm->lazy_state);
	}
	mp2_lazy_removed(mm, old);
	return ret;
}

/**
 * mp2_lazy_install - give each target the call's lazy map
 * @call: a MIGRATE_PAGES2_LAZY call, its node map built
 * @mms: the distinct mms of its targets
 * @nr: entries in @mms
 *
 * Each map replaces the one the mm had; a call whose pairs move nothing
 * (each source its own destination) clears it.  The marks of the map
 * replaced are removed: its range gets back its VMAs' protection where
 * it is PROT_NONE for a hinting fault (NUMA balancing's marks there go
 * too; it makes new ones).  Every map is allocated before any is
 * installed.
 *
 * Context: process context; sleeps.
 * Return: 0; -ENOMEM with no map changed; or -EINTR if a fatal signal
 * interrupted the wait for a removal under way or for a target's mmap
 * lock (that target's map not installed) or the removal of its old marks
 * (its map installed: a worker finishes the removal), the maps of the
 * targets before it replaced.
 */
int mp2_lazy_install(const struct mp2_call *call, struct mm_struct **mms,
		     u32 nr)
{
	struct mp2_lazy_map **maps;
	int ret = 0;
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
	for (i = 0; i < nr; i++) {
		if (!ret)
			ret = mp2_lazy_replace(mms[i], maps[i]);
		else
			kfree(maps[i]);
	}
	kfree(maps);
	return ret;
}

/*
 * Could NUMA balancing have marked @folio: it scans every node, or in
 * memory tiering mode alone the nodes below the top tier.
 */
static bool mp2_balancing_marks(struct folio *folio)
{
	int mode = READ_ONCE(sysctl_numa_balancing_mode);

	if (mode & NUMA_BALANCING_NORMAL)
		return true;
	return mode & NUMA_BALANCING_MEMORY_TIERING &&
	       !node_is_toptier(folio_nid(folio));
}

/**
 * mp2_lazy_target - where a NUMA hinting fault moves a folio
 * @folio: the folio the fault found
 * @vmf: the fault, in an mm that has or has had a lazy map
 * @addr: the address of the folio's mapping (of its PMD for a huge PMD)
 *
 * A folio the map covers (on one of its sources, the faulting page in its
 * range, or for a huge PMD any of it) goes to its pair's destination, and
 * nowhere if it has become shared since the call and the map does not
 * move shared folios.  Any other folio goes where NUMA balancing sends it
 * (mpol_misplaced()), except while the marks of a replaced map are being
 * removed (or after a fatal signal cut that short), or where NUMA
 * balancing makes no marks (off, or in tiering mode alone a top-tier
 * node), when the mark may be migrate_pages2()'s: nowhere then, not toward
 * the touching thread's node, which mpol_misplaced() chooses for a task
 * early in its life.
 *
 * Context: the hinting fault, under the page table lock.
 * Return: the node to move the folio to, or NUMA_NO_NODE.
 */
int mp2_lazy_target(struct folio *folio, struct vm_fault *vmf,
		    unsigned long addr)
{
	/* A PTE fault is about its page, a PMD fault (no PTE) its folio. */
	unsigned long size = vmf->pte ? PAGE_SIZE : folio_size(folio);
	struct mm_struct *mm = vmf->vma->vm_mm;
	struct mp2_lazy_map *map;
	int nid = NUMA_NO_NODE;
	bool covered = false;

	rcu_read_lock();
	map = rcu_dereference(mm->lazy_map);
	if (map) {
		nid = mp2_lazy_dest(map, folio, addr, size);
		covered = nid != NUMA_NO_NODE;
		if (covered && !map->move_all && folio_maybe_mapped_shared(folio))
			nid = NUMA_NO_NODE;
	}
	rcu_read_unlock();
	/* The map read, then the state: see the count raised before it. */
	smp_rmb();
	if (covered || (atomic_read(&mm->lazy_state) & ~MP2_LAZY_HAD_MAP) ||
	    !mp2_balancing_marks(folio))
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
