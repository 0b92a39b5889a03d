// SPDX-License-Identifier: GPL-2.0
/*
 * NetBSD pmap_extract() for a user address: which page backs it and with
 * which effective memory type, and pmap_resident_count()-style counts over
 * a range. Everything is read from the page table entries themselves,
 * because on x86 the type requested at insert time is not necessarily the
 * type PAT lets through.
 */
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include "compat.h"
#include "patdev.h"

long patdev_ioctl_query(struct patdev_file *pfile, void __user *arg)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct patdev_query q;
	unsigned long pfn;
	pte_t entry;
	long ret = 0;

	if (copy_from_user(&q, arg, sizeof(q)))
		return -EFAULT;
	if (q.reserved || !mm)
		return -EINVAL;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = vma_lookup(mm, q.addr);
	if (!vma || vma->vm_ops != &patdev_vm_ops) {
		ret = -EINVAL;
		goto out;
	}
	q.flags = 0;
	q.pfn = 0;
	q.cache = 0;
	/* Only 4 KiB entries exist here: the fault path never maps huge pages. */
	if (!patdev_read_pte(vma, q.addr & PAGE_MASK, &pfn, &entry) && pte_present(entry)) {
		q.flags = PATDEV_QUERY_PRESENT;
		if (pte_write(entry))
			q.flags |= PATDEV_QUERY_WRITE;
		if (pte_dirty(entry))
			q.flags |= PATDEV_QUERY_DIRTY;
		if (pte_young(entry))
			q.flags |= PATDEV_QUERY_YOUNG;
		/* As /proc/pid/pagemap: PFNs help Rowhammer-style attacks. */
		q.pfn = pfile->show_pfn ? pfn : 0;
		q.cache = patdev_pat_decode(pte_pgprot(entry));
	}
out:
	mmap_read_unlock(mm);
	if (!ret && copy_to_user(arg, &q, sizeof(q)))
		ret = -EFAULT;
	return ret;
}

/* Adds the entries of [addr, end) in @vma to @r. */
static long patdev_range_count(struct vm_area_struct *vma, unsigned long addr,
			       unsigned long end, struct patdev_range_query *r)
{
	unsigned long pfn;
	pte_t entry;

	for (; addr < end; addr += PAGE_SIZE) {
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
		if (patdev_read_pte(vma, addr, &pfn, &entry) || !pte_present(entry))
			continue;
		/* The helpers answer a flag's value on some kernels, not 0 or 1. */
		r->resident++;
		r->writable += !!pte_write(entry);
		r->dirty += !!pte_dirty(entry);
		r->young += !!pte_young(entry);
	}
	return 0;
}

long patdev_ioctl_range_query(void __user *arg)
{
	struct mm_struct *mm = current->mm;
	struct patdev_range_query r;
	unsigned long start, end, addr;
	struct vm_area_struct *vma;
	long ret;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	if (r.reserved || !mm)
		return -EINVAL;
	r.resident = 0;
	r.writable = 0;
	r.dirty = 0;
	r.young = 0;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	ret = patdev_range_check(mm, r.addr, r.len, false, false, &start, &end);
	/* Past an object's end nothing is ever mapped: no need to look. */
	for (addr = start; !ret && addr < end; addr = vma->vm_end) {
		vma = vma_lookup(mm, addr);
		ret = patdev_range_count(vma, addr,
					 min3(end, vma->vm_end, patdev_vma_obj_end(vma)), &r);
	}
	mmap_read_unlock(mm);
	if (!ret && copy_to_user(arg, &r, sizeof(r)))
		ret = -EFAULT;
	return ret;
}
