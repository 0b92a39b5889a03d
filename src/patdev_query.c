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
	struct patdev_query q = {};
	struct vm_area_struct *vma;
	unsigned long pfn, esize;
	pte_t entry;
	long ret = 0;

	if (copy_from_user(&q, arg, sizeof(q)))
		return -EFAULT;
	if (q.reserved)
		return -EINVAL;
	if (!mm)
		return -EINVAL;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = vma_lookup(mm, q.addr);
	if (!vma || !patdev_is_vma(vma)) {
		ret = -EINVAL;
		goto out;
	}
	q.flags = 0;
	q.pfn = 0;
	q.cache = 0;
	q.size = 0;
	if (!patdev_read_pte(vma, q.addr & PAGE_MASK, &pfn, &entry, &esize) &&
	    pte_present(entry)) {
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
		q.size = esize;
	}
out:
	mmap_read_unlock(mm);
	if (!ret && copy_to_user(arg, &q, sizeof(q)))
		ret = -EFAULT;
	return ret;
}

/* Adds @pages pages of one entry, whose flag bits @entry holds, to @r. */
static void patdev_range_add(struct patdev_range_query *r, pte_t entry, unsigned long pages)
{
	/* The helpers answer a flag's value on some kernels, not 0 or 1. */
	r->resident += pages;
	r->writable += pte_write(entry) ? pages : 0;
	r->dirty += pte_dirty(entry) ? pages : 0;
	r->young += pte_young(entry) ? pages : 0;
}

/*
 * Adds the entries of [addr, end) in @vma to @r: a 2 MiB entry is read
 * once for all its pages in the range.
 */
static long patdev_range_count(struct vm_area_struct *vma, unsigned long addr,
			       unsigned long end, struct patdev_range_query *r)
{
	unsigned long next, pfn, size;
	pte_t entry;

	for (; addr < end; addr = next) {
		next = addr + PAGE_SIZE;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
		if (patdev_read_pte(vma, addr, &pfn, &entry, &size) || !pte_present(entry))
			continue;
		if (size > PAGE_SIZE) {
			next = min(ALIGN_DOWN(addr, size) + size, end);
			r->huge += (next - addr) >> PAGE_SHIFT;
			if (size == PUD_SIZE)
				r->huge_1g += (next - addr) >> PAGE_SHIFT;
		}
		patdev_range_add(r, entry, (next - addr) >> PAGE_SHIFT);
	}
	return 0;
}

long patdev_ioctl_range_query(void __user *arg)
{
	struct mm_struct *mm = current->mm;
	struct patdev_range_query r = {};
	unsigned long start, end, addr;
	struct vm_area_struct *vma;
	long ret;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	if (r.reserved)
		return -EINVAL;
	if (!mm)
		return -EINVAL;
	r.resident = 0;
	r.writable = 0;
	r.dirty = 0;
	r.young = 0;
	r.huge = 0;
	r.huge_1g = 0;
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
