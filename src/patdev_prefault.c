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
 * The protection of the entries a prefault enters. vmf_insert_pfn_prot()
 * enters clean, old entries. For WRITE they are made dirty and young up
 * front, as FreeBSD's prefault for write does, but only where the vma's
 * protection is writable: where the kernel wants to see the first write
 * (soft-dirty or other write-notify), the protection is read-only and a
 * dirty read-only entry would be the shadow-stack encoding on x86. Those
 * entries stay read-only and clean; the first write faults as usual.
 */
static pgprot_t patdev_prefault_prot(struct vm_area_struct *vma, bool write)
{
	struct patdev_obj *obj = vma->vm_private_data;
	pgprot_t prot = patdev_obj_pgprot(obj, vma->vm_page_prot);
	pte_t entry = __pte(pgprot_val(prot));

	if (write && pte_write(entry))
		prot = pte_pgprot(pte_mkyoung(pte_mkdirty(entry)));
	return prot;
}

/*
 * Enters the pages of [start, end) in @vma that lie inside its object;
 * those past its end are not walked. Returns how many are mapped
 * afterwards, or a negative errno.
 */
long patdev_prefault_vma(struct vm_area_struct *vma, unsigned long start,
			 unsigned long end, bool write)
{
	struct patdev_obj *obj = vma->vm_private_data;
	pgprot_t prot = patdev_prefault_prot(vma, write);
	unsigned long addr, pfn;
	long n = 0;

	end = min(end, patdev_vma_obj_end(vma));
	down_read(&obj->revoke_lock);
	for (addr = start; addr < end; addr += PAGE_SIZE) {
		vm_fault_t vmf;

		if (obj->revoked) {
			n = -ENXIO;
			break;
		}
		if (patdev_obj_pfn(obj, patdev_obj_index(vma, addr), &pfn)) {
			n = -EFAULT;
			break;
		}
		vmf = vmf_insert_pfn_prot(vma, addr, pfn, prot);
		if (vmf & VM_FAULT_ERROR) {
			n = vmf & VM_FAULT_OOM ? -ENOMEM : -EFAULT;
			break;
		}
		n++;
		if (fatal_signal_pending(current)) {
			n = -EINTR;
			break;
		}
		cond_resched();
	}
	up_read(&obj->revoke_lock);
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
