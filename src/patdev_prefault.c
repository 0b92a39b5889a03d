// SPDX-License-Identifier: GPL-2.0
/*
 * FreeBSD's MAP_PREFAULT_READ/MAP_PREFAULT_WRITE as an ioctl on an
 * existing mapping. Linux offers nothing for VM_PFNMAP vmas: MAP_POPULATE
 * skips them silently and MADV_POPULATE_* fails with EINVAL.
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include "compat.h"
#include "patdev.h"

/*
 * The protection of the 4 KiB entries a prefault enters. vmf_insert_pfn_prot()
 * enters clean, old entries. For WRITE they are made dirty and young up
 * front, as FreeBSD's prefault for write does, but only where the vma's
 * protection is writable: where the kernel wants to see the first write
 * (soft-dirty or other write-notify), the protection is read-only and a
 * dirty read-only entry would be the shadow-stack encoding on x86. Those
 * entries stay read-only and clean; the first write faults as usual.
 */
static bool patdev_prefault_dirty(struct vm_area_struct *vma, bool write)
{
	return write && pte_write(__pte(pgprot_val(vma->vm_page_prot)));
}

static pgprot_t patdev_prefault_prot(struct vm_area_struct *vma, bool write)
{
	pte_t entry = __pte(pgprot_val(vma->vm_page_prot));

	if (!patdev_prefault_dirty(vma, write))
		return vma->vm_page_prot;
	return pte_pgprot(pte_mkyoung(pte_mkdirty(entry)));
}

/*
 * A huge entry for the empty slot at @haddr, made by the fault path
 * itself: the core allocates the upper page tables (their allocators are
 * not exported) and calls ->huge_fault, as a user fault would. For @dirty,
 * a write fault makes the entry writable, dirty and young; otherwise it is
 * clean, and writable only if the vma's protection is (as for 4 KiB
 * entries). Answers 0 also when the core declines the size (the THP
 * setting on some kernels, MADV_NOHUGEPAGE, PR_SET_THP_DISABLE): a smaller
 * entry, or ->fault, then entered the first pages of the slot, and the
 * caller fills the rest. The fault is accounted as one (PGFAULT, the
 * task's minor faults).
 */
static int patdev_prefault_huge(struct vm_area_struct *vma, unsigned long haddr, bool dirty)
{
	struct patdev_obj *obj = vma->vm_private_data;
	vm_fault_t ret;

	ret = handle_mm_fault(vma, haddr, dirty ? FAULT_FLAG_WRITE : 0, NULL);
	if (!(ret & VM_FAULT_ERROR))
		return 0;
	if (ret & VM_FAULT_OOM)
		return -ENOMEM;
	return READ_ONCE(obj->revoked) ? -ENXIO : -EFAULT;
}

/*
 * [addr, end) is one empty slot of @size that may get one entry: fault it
 * in. Return: the pages it maps then, 0 if it got smaller entries (the
 * caller goes on at the next size down), or a negative errno.
 */
static long patdev_prefault_slot(struct vm_area_struct *vma, unsigned long addr,
				 unsigned long size, bool write)
{
	struct patdev_obj *obj = vma->vm_private_data;
	int ret = patdev_prefault_huge(vma, addr, patdev_prefault_dirty(vma, write));
	bool leaf;

	if (ret)
		return ret;
	/*
	 * Under the mmap lock only a revocation, or a mode change reaching a
	 * linked vma (->mapped), removes a huge entry: then smaller ones go in.
	 */
	leaf = size == PUD_SIZE ? patdev_pud_leaf(vma->vm_mm, addr) :
				  patdev_pmd_leaf(vma->vm_mm, addr);
	return leaf && !READ_ONCE(obj->revoked) ? size >> PAGE_SHIFT : 0;
}

/* May [addr, next) get one entry of @size, and is its slot empty? */
static bool patdev_prefault_huge_ok(struct vm_area_struct *vma, unsigned long addr,
				    unsigned long next, unsigned long size)
{
	unsigned long pfn;

	if (!IS_ALIGNED(addr, size) || next - addr != size ||
	    !patdev_huge_slot(vma, addr, size, &pfn))
		return false;
	return size == PUD_SIZE ? patdev_pud_none(vma->vm_mm, addr) :
				  patdev_pmd_none(vma->vm_mm, addr);
}

/*
 * Enters the pages of [start, end) in @vma that lie inside its object;
 * those past its end are not walked. Each 1 GiB slot that can be is one
 * entry; elsewhere each page table's share is one batch: a 2 MiB entry
 * where the slot allows one, else 4 KiB entries under one lock. Returns
 * how many pages are mapped afterwards, or a negative errno.
 */
long patdev_prefault_vma(struct vm_area_struct *vma, unsigned long start,
			 unsigned long end, bool write)
{
	static const unsigned long sizes[] = { PUD_SIZE, PMD_SIZE };
	struct patdev_obj *obj = vma->vm_private_data;
	unsigned long addr, next;
	long n = 0, got;
	unsigned int i;
	int ret;

	end = min(end, patdev_vma_obj_end(vma));
	for (addr = start; addr < end; addr = next) {
		bool faulted = false;

		if (fatal_signal_pending(current))
			return -EINTR;
		next = pud_addr_end(addr, end);
		/* A 1 GiB entry maps all of its slot's part of the range. */
		if (patdev_pud_leaf(vma->vm_mm, addr)) {
			n += (next - addr) >> PAGE_SHIFT;
			continue;
		}
		/*
		 * The largest entry the slot allows, in an empty slot only:
		 * present entries are left as they are.
		 */
		for (i = 0, got = 0; i < ARRAY_SIZE(sizes) && !got; i++) {
			next = sizes[i] == PUD_SIZE ? pud_addr_end(addr, end) :
						      pmd_addr_end(addr, end);
			if (!patdev_prefault_huge_ok(vma, addr, next, sizes[i]))
				continue;
			got = patdev_prefault_slot(vma, addr, sizes[i], write);
			if (got < 0)
				return got;
			faulted = !got;
		}
		if (got) {
			n += got;
			continue;
		}
		down_read(&obj->revoke_lock);
		if (obj->revoked) {
			ret = -ENXIO;
		} else {
			pgprot_t prot = patdev_obj_vma_prot(obj, patdev_prefault_prot(vma, write));

			mutex_lock(&obj->populate_lock);
			/*
			 * A prefault is an access: what it enters is referenced,
			 * marked first so that no entry is ever present unmarked.
			 */
			if (patdev_obj_tracked(obj))
				patdev_track_mark(obj, patdev_obj_index(vma, addr),
						  (next - addr) >> PAGE_SHIFT);
			ret = patdev_fill(vma, addr, next, prot,
					  faulted && patdev_prefault_dirty(vma, write));
			mutex_unlock(&obj->populate_lock);
		}
		up_read(&obj->revoke_lock);
		if (ret)
			return ret;
		n += (next - addr) >> PAGE_SHIFT;
		cond_resched();
	}
	return n;
}

long patdev_ioctl_prefault(void __user *arg)
{
	struct mm_struct *mm = current->mm;
	struct patdev_prefault pf;
	struct vm_area_struct *vma;
	unsigned long start, end, addr;
	bool write;
	long ret, n;

	if (copy_from_user(&pf, arg, sizeof(pf)))
		return -EFAULT;
	if (pf.reserved || (pf.flags != PATDEV_PREFAULT_READ && pf.flags != PATDEV_PREFAULT_WRITE))
		return -EINVAL;
	write = pf.flags == PATDEV_PREFAULT_WRITE;
	pf.npages = 0;

	if (!mm)
		return -EINVAL;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	ret = patdev_range_check(mm, pf.addr, pf.len, true, write, &start, &end);
	for (addr = start; !ret && addr < end; addr = vma->vm_end) {
		vma = vma_lookup(mm, addr);
		n = patdev_prefault_vma(vma, addr, min(end, vma->vm_end), write);
		if (n < 0)
			ret = n;
		else
			pf.npages += n;
	}
	mmap_read_unlock(mm);
	if (!ret && copy_to_user(arg, &pf, sizeof(pf)))
		ret = -EFAULT;
	return ret;
}

long patdev_ioctl_set_mmap_flags(struct patdev_file *pfile, void __user *arg)
{
	struct patdev_mmap_flags mf;

	if (copy_from_user(&mf, arg, sizeof(mf)))
		return -EFAULT;
	if (mf.reserved || (mf.flags && mf.flags != PATDEV_PREFAULT_READ &&
			    mf.flags != PATDEV_PREFAULT_WRITE))
		return -EINVAL;
	WRITE_ONCE(pfile->mmap_prefault, mf.flags);
	return 0;
}
