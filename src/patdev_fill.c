// SPDX-License-Identifier: GPL-2.0
/*
 * Entering an object's pages into a vma: 4 KiB entries in batches, and
 * 2 MiB entries where a slot of the mapping is backed by one aligned
 * physical run (FreeBSD's pmap_object_init_pt() for device and SG objects).
 *
 * vmf_insert_pfn_prot() walks the page table, takes its lock and asks PAT
 * for the page's memory type, page by page. An object's memtype is set
 * once, when its chunks are made, and is the same for all its pages; so a
 * batch asks PAT once, through the first page it enters, and fills the
 * rest of the page table under one lock with the cache bits that page got,
 * as i915's remap_io_sg() does.
 *
 * Page tables and 2 MiB entries of an object's mappings are only ever made
 * under its populate_lock, by the code in this file and the fault handlers.
 * That keeps a 2 MiB entry and a page table from racing for the same slot:
 * apply_to_page_range() warns on a 2 MiB entry, and vmf_insert_pfn_pmd()
 * for a write warns on a page table.
 */
#include <linux/mm.h>
#include <linux/pgtable.h>
#include "compat.h"
#include "patdev.h"

/**
 * patdev_pmd_leaf() - is @addr mapped by a 2 MiB entry?
 * @mm: the mm, mmap lock held (upper page tables are not freed under it)
 * @addr: user address
 *
 * Return: true when the entry of @addr's slot is a leaf.
 */
bool patdev_pmd_leaf(struct mm_struct *mm, unsigned long addr)
{
#if PATDEV_HUGE
	pud_t *pud = patdev_pud_of(mm, addr);

	if (!pud || pud_none(READ_ONCE(*pud)) || pud_leaf(READ_ONCE(*pud)))
		return false;
	return pmd_leaf(pmdp_get_lockless(pmd_offset(pud, addr)));
#else
	return false;
#endif
}

/**
 * patdev_pud_leaf() - is @addr mapped by a 1 GiB entry?
 * @mm: the mm, mmap lock held
 * @addr: user address
 *
 * Return: true when the entry of @addr's 1 GiB slot is a leaf.
 */
bool patdev_pud_leaf(struct mm_struct *mm, unsigned long addr)
{
#if PATDEV_HUGE_1G
	pud_t *pud = patdev_pud_of(mm, addr);

	return pud && pud_leaf(READ_ONCE(*pud));
#else
	return false;
#endif
}

/**
 * patdev_huge_slot() - may the slot at @haddr get one entry of @size?
 * @vma: a patdev vma
 * @haddr: user address aligned to @size
 * @size: PMD_SIZE or PUD_SIZE
 * @pfn: out: the first frame of the slot
 *
 * Only if the kernel has such entries, the slot lies inside the vma and
 * the object, and its pages are one physically contiguous run aligned to
 * @size; 1 GiB ones only through the device's own file.
 *
 * Return: true if it may.
 */
bool patdev_huge_slot(struct vm_area_struct *vma, unsigned long haddr, unsigned long size,
		      unsigned long *pfn)
{
	struct patdev_obj *obj = vma->vm_private_data;
	unsigned long run, pages = size >> PAGE_SHIFT;
	pgoff_t idx;

	if (!(size == PMD_SIZE ? PATDEV_HUGE : PATDEV_HUGE_1G))
		return false;
	/*
	 * 1 GiB entries in the device's own mappings only: its
	 * get_unmapped_area() drops them before mremap() moves one
	 * (patdev_drop_pud_leaves()); a dma-buf's file has no such hook.
	 */
	if (size == PUD_SIZE && vma->vm_file->f_op->get_unmapped_area != patdev_get_unmapped_area)
		return false;
	/* A tracked object's state is per page: it gets 4 KiB entries only. */
	if (patdev_obj_tracked(obj) || haddr < vma->vm_start || vma->vm_end - haddr < size)
		return false;
	idx = patdev_obj_index(vma, haddr);
	if (idx >= obj->npages || obj->npages - idx < pages)
		return false;
	if (patdev_obj_run(obj, idx, pfn, &run))
		return false;
	return run >= pages && IS_ALIGNED(*pfn, pages);
}

/**
 * patdev_pmd_none() - is the 2 MiB slot of @addr empty?
 * @mm: the mm, mmap lock held
 * @addr: user address
 *
 * Return: true when no page table, no 2 MiB and no 1 GiB entry covers
 * @addr.
 */
bool patdev_pmd_none(struct mm_struct *mm, unsigned long addr)
{
	pud_t *pud = patdev_pud_of(mm, addr);
	pud_t val;

	if (!pud)
		return true;
	val = READ_ONCE(*pud);
	if (pud_none(val))
		return true;
	/* Under a 1 GiB entry there is no table to look at. */
	return !pud_leaf(val) && pmd_none(READ_ONCE(*pmd_offset(pud, addr)));
}

/**
 * patdev_pud_none() - is the 1 GiB slot of @addr empty?
 * @mm: the mm, mmap lock held
 * @addr: user address
 *
 * Return: true when nothing is mapped in @addr's 1 GiB slot.
 */
bool patdev_pud_none(struct mm_struct *mm, unsigned long addr)
{
	pud_t *pud = patdev_pud_of(mm, addr);

	return !pud || pud_none(READ_ONCE(*pud));
}

struct patdev_fill {
	struct vm_area_struct *vma;
	struct patdev_obj *obj;
	pgprot_t prot;
	bool mark;		/* make present writable entries dirty and young */
	pgoff_t idx;		/* object page of the entry at hand */
	unsigned long pfn;	/* its frame, valid while @run is not 0 */
	unsigned long run;	/* frames left in the physical run */
};

static int patdev_fill_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct patdev_fill *f = data;
	pte_t old = ptep_get(pte);

	if (!f->run && patdev_obj_run(f->obj, f->idx, &f->pfn, &f->run))
		return -EFAULT;
	if (pte_none(old)) {
		set_pte_at(f->vma->vm_mm, addr, pte, pte_mkspecial(pfn_pte(f->pfn, f->prot)));
		update_mmu_cache(f->vma, addr, pte);
	} else if (f->mark && pte_write(old) && !(pte_dirty(old) && pte_young(old))) {
		/* Only adds bits: nothing the MMU set meanwhile is lost, no flush. */
		set_pte_at(f->vma->vm_mm, addr, pte, pte_mkyoung(pte_mkdirty(old)));
	}
	f->idx++;
	f->pfn++;
	f->run--;
	return 0;
}

/**
 * patdev_fill_after() - enter the absent pages after a present entry
 * @vma: a patdev vma, mmap lock held
 * @addr: a page of @vma whose entry is present (a 4 KiB one)
 * @end: end of the batch, inside @addr's page table, the vma and the object
 * @prot: the protection asked for
 * @mark: the entries of [@addr, @end) already present were entered by the
 *	caller's own fault: make the writable ones dirty and young, as @prot
 *	would have (a WRITE prefault whose 2 MiB fault fell back to 4 KiB)
 *
 * The entries of (@addr, @end) get @prot with the cache bits of @addr's
 * entry: those are what PAT made of the object's mode. Caller holds the
 * object's revoke_lock for read and its populate_lock.
 *
 * Return: 0 or a negative errno; entries already entered stay.
 */
int patdev_fill_after(struct vm_area_struct *vma, unsigned long addr, unsigned long end,
		      pgprot_t prot, bool mark)
{
	struct patdev_fill f = { .vma = vma, .obj = vma->vm_private_data, .mark = mark };
	unsigned long pfn, size, from = mark ? addr : addr + PAGE_SIZE;
	pte_t entry;

	if (end <= from)
		return 0;
	if (patdev_read_pte(vma, addr, &pfn, &entry, &size) || size != PAGE_SIZE)
		return -EFAULT;
	/* No helper swaps only the cache bits of a protection. */
	f.prot = __pgprot((pgprot_val(prot) & ~_PAGE_CACHE_MASK) |
			  (pte_val(entry) & _PAGE_CACHE_MASK));
	f.idx = patdev_obj_index(vma, from);
	return apply_to_page_range(vma->vm_mm, from, end - from, patdev_fill_pte, &f);
}

/**
 * patdev_fill() - enter every page of [@start, @end) of @vma
 * @vma: a patdev vma, mmap lock held
 * @start: first page
 * @end: end, inside @start's page table, the vma and the object
 * @prot: the protection asked for
 * @mark: as for patdev_fill_after()
 *
 * Caller holds the object's revoke_lock for read and its populate_lock.
 * Pages already mapped keep their entries; a 2 MiB or 1 GiB entry maps
 * them all.
 *
 * Return: 0, -ENOMEM or -EFAULT.
 */
int patdev_fill(struct vm_area_struct *vma, unsigned long start, unsigned long end,
		pgprot_t prot, bool mark)
{
	unsigned long pfn;
	vm_fault_t ret;

	if (patdev_pud_leaf(vma->vm_mm, start) || patdev_pmd_leaf(vma->vm_mm, start))
		return 0;
	if (patdev_obj_pfn(vma->vm_private_data, patdev_obj_index(vma, start), &pfn))
		return -EFAULT;
	ret = vmf_insert_pfn_prot(vma, start, pfn, prot);
	if (ret & VM_FAULT_ERROR)
		return ret & VM_FAULT_OOM ? -ENOMEM : -EFAULT;
	return patdev_fill_after(vma, start, end, prot, mark);
}

struct patdev_mkwrite {
	struct vm_area_struct *vma;
	unsigned long pfn;
	bool done;
};

static int patdev_mkwrite_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct patdev_mkwrite *w = data;
	pte_t old = ptep_get(pte);

	if (!pte_present(old) || pte_pfn(old) != w->pfn)
		return 0;
	/* What the core makes of a write to a write-notify entry. */
	set_pte_at(w->vma->vm_mm, addr, pte, pte_mkyoung(pte_mkdirty(patdev_mkwrite_entry(old))));
	update_mmu_cache(w->vma, addr, pte);
	w->done = true;
	return 0;
}

/**
 * patdev_pte_mkwrite() - make the entry of @addr writable, dirty and young
 * @vma: a writable patdev vma, mmap lock held
 * @addr: a page of @vma
 * @pfn: the frame its entry must still map
 *
 * A tracked object's write faults upgrade the entry under the object's
 * populate_lock, where a clear of its modified state cannot interleave
 * (the core's own upgrade after ->pfn_mkwrite runs without it). Only adds
 * rights: a stale read-only TLB entry just faults once more.
 *
 * Return: true if the entry was there and is writable now.
 */
bool patdev_pte_mkwrite(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn)
{
	struct patdev_mkwrite w = { .vma = vma, .pfn = pfn };

	if (!(vma->vm_flags & VM_WRITE))
		return false;

	/*
	 * The page table is there (the entry was); 7.3 no longer exports
	 * apply_to_existing_page_range().
	 */
	if (apply_to_page_range(vma->vm_mm, addr, PAGE_SIZE, patdev_mkwrite_pte, &w))
		return false;
	return w.done;
}
