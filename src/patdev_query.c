// SPDX-License-Identifier: GPL-2.0
/*
 * NetBSD pmap_extract() for a user address: which page backs it and with
 * which effective memory type. The type is decoded from the page table
 * entry itself, because on x86 the type requested at insert time is not
 * necessarily the type PAT lets through.
 */
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <asm/pgtable.h>
#include "compat.h"
#include "patdev.h"

/*
 * PTE cache bits (PAT | PCD | PWT) for each patdev_cache, read back from
 * the kernel's live PAT setup so that the decode matches the MSR.
 */
static pteval_t cache_bits[PATDEV_CACHE_WP + 1];

static const enum page_cache_mode to_linux[] = {
	[PATDEV_CACHE_WB] = _PAGE_CACHE_MODE_WB,
	[PATDEV_CACHE_WC] = _PAGE_CACHE_MODE_WC,
	[PATDEV_CACHE_UC_MINUS] = _PAGE_CACHE_MODE_UC_MINUS,
	[PATDEV_CACHE_UC] = _PAGE_CACHE_MODE_UC,
	[PATDEV_CACHE_WT] = _PAGE_CACHE_MODE_WT,
	[PATDEV_CACHE_WP] = _PAGE_CACHE_MODE_WP,
};

/* Linux's PAT layout (arch/x86/mm/pat), for encodings not canonical above. */
static const enum patdev_cache pat_layout[8] = {
	PATDEV_CACHE_WB, PATDEV_CACHE_WC, PATDEV_CACHE_UC_MINUS, PATDEV_CACHE_UC,
	PATDEV_CACHE_WB, PATDEV_CACHE_WP, PATDEV_CACHE_UC_MINUS, PATDEV_CACHE_WT,
};

void patdev_query_init(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(to_linux); i++)
		cache_bits[i] = cachemode2protval(to_linux[i]) & _PAGE_CACHE_MASK;
}

static enum patdev_cache patdev_decode_cache(pteval_t flags)
{
	pteval_t bits = flags & _PAGE_CACHE_MASK;
	int i;

	for (i = 0; i < ARRAY_SIZE(cache_bits); i++)
		if (cache_bits[i] == bits)
			return i;
	return pat_layout[(bits & _PAGE_PAT ? 4 : 0) | (bits & _PAGE_PCD ? 2 : 0) |
			  (bits & _PAGE_PWT ? 1 : 0)];
}

long patdev_ioctl_query(struct patdev_file *pfile, void __user *arg)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct patdev_query q;
	unsigned long pfn;
	pteval_t flags;
	long ret = 0;

	if (copy_from_user(&q, arg, sizeof(q)))
		return -EFAULT;
	if (!mm)
		return -EINVAL;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, q.addr);
	if (!vma || vma->vm_ops != &patdev_vm_ops) {
		ret = -EINVAL;
		goto out;
	}
	q.flags = 0;
	q.pfn = 0;
	q.cache = 0;
	/* Only 4 KiB entries exist here: the fault path never maps huge pages. */
	if (!patdev_read_pte(vma, q.addr & PAGE_MASK, &pfn, &flags) && (flags & _PAGE_PRESENT)) {
		q.flags = PATDEV_QUERY_PRESENT;
		if (flags & _PAGE_RW)
			q.flags |= PATDEV_QUERY_WRITE;
		if (flags & _PAGE_DIRTY)
			q.flags |= PATDEV_QUERY_DIRTY;
		if (flags & _PAGE_ACCESSED)
			q.flags |= PATDEV_QUERY_YOUNG;
		/* As /proc/pid/pagemap: PFNs help Rowhammer-style attacks. */
		q.pfn = pfile->show_pfn ? pfn : 0;
		q.cache = patdev_decode_cache(flags);
	}
out:
	mmap_read_unlock(mm);
	if (!ret && copy_to_user(arg, &q, sizeof(q)))
		ret = -EFAULT;
	return ret;
}

long patdev_ioctl_range_query(void __user *arg)
{
	struct mm_struct *mm = current->mm;
	struct patdev_range_query r;
	unsigned long start, end, addr, pfn;
	struct vm_area_struct *vma = NULL;
	pteval_t flags;
	long ret;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	r.resident = 0;
	r.writable = 0;
	r.dirty = 0;
	r.young = 0;
	if (!mm)
		return -EINVAL;
	mmap_read_lock(mm);
	ret = patdev_range_check(mm, r.addr, r.len, false, &start, &end);
	for (addr = start; !ret && addr < end; addr += PAGE_SIZE) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
		if (!vma || addr >= vma->vm_end)
			vma = vma_lookup(mm, addr);
		if (patdev_read_pte(vma, addr, &pfn, &flags) || !(flags & _PAGE_PRESENT))
			continue;
		r.resident++;
		r.writable += !!(flags & _PAGE_RW);
		r.dirty += !!(flags & _PAGE_DIRTY);
		r.young += !!(flags & _PAGE_ACCESSED);
	}
	mmap_read_unlock(mm);
	if (!ret && copy_to_user(arg, &r, sizeof(r)))
		ret = -EFAULT;
	return ret;
}
