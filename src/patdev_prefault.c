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
#include "patdev.h"

/*
 * Enters the pages of [start, end) in @vma that lie inside its object.
 * Returns how many are mapped afterwards, or a negative errno.
 */
long patdev_prefault_vma(struct vm_area_struct *vma, unsigned long start,
			 unsigned long end, bool write)
{
	struct patdev_obj *obj = vma->vm_private_data;
	pgprot_t prot = patdev_obj_pgprot(obj, vma->vm_page_prot);
	unsigned long addr;
	long n = 0;

	/*
	 * vmf_insert_pfn_prot() enters clean, old entries. For WRITE, ask for
	 * them dirty and accessed up front, as FreeBSD's prefault for write
	 * does; the vma is writable, so the entry is a plain dirty RW one.
	 */
	if (write)
		prot = __pgprot(pgprot_val(prot) | _PAGE_DIRTY | _PAGE_ACCESSED);
	for (addr = start; addr < end; addr += PAGE_SIZE) {
		pgoff_t idx = linear_page_index(vma, addr);
		vm_fault_t vmf;

		if (idx >= obj->npages)
			break;
		vmf = vmf_insert_pfn_prot(vma, addr, obj->ops->pfn(obj, idx), prot);
		if (vmf & VM_FAULT_OOM)
			return -ENOMEM;
		if (vmf & VM_FAULT_ERROR)
			return -EFAULT;
		n++;
		if (fatal_signal_pending(current))
			return -EINTR;
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
	mmap_read_lock(mm);
	ret = patdev_range_check(mm, pf.addr, pf.len, write, &start, &end);
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
