/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shims for the kernel API differences between the supported kernels
 * (Debian 6.1, 6.12 and the newest, 7.x). Each names the release that
 * changed the API; the PATDEV_HAVE_* macros come from try-compile feature
 * tests in Kbuild (src/compat/NAME.c). A test that cannot compile leaves
 * the old API selected, which then fails the build loudly, never silently.
 */
#ifndef _PATDEV_COMPAT_H
#define _PATDEV_COMPAT_H

#include <linux/mm.h>

#ifndef PATDEV_HAVE_VM_FLAGS_SET
/* 6.3 made vm_flags read-only behind vm_flags_set() and friends. */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/* 7.2 renamed zap_vma_ptes() to zap_special_vma_range(). */
static inline void patdev_zap_vma(struct vm_area_struct *vma)
{
#ifdef PATDEV_HAVE_ZAP_SPECIAL_VMA_RANGE
	zap_special_vma_range(vma, vma->vm_start, vma->vm_end - vma->vm_start);
#else
	zap_vma_ptes(vma, vma->vm_start, vma->vm_end - vma->vm_start);
#endif
}

/**
 * patdev_read_pte() - snapshot the entry mapping @addr in a VM_PFNMAP vma
 * @vma: the vma, with the mmap lock held for read
 * @addr: user virtual address inside @vma
 * @pfn: out: page frame number
 * @entry: out: an entry with the same flag bits, for the pte_*() helpers
 *	(its frame number is not meaningful)
 *
 * 6.10 changed follow_pte() to take the vma instead of the mm; 6.12
 * replaced it with follow_pfnmap_start()/follow_pfnmap_end(), which hand
 * out the protection bits rather than the entry.
 *
 * Return: 0, or -EINVAL when no entry is present.
 */
static inline int patdev_read_pte(struct vm_area_struct *vma, unsigned long addr,
				  unsigned long *pfn, pte_t *entry)
{
#if defined(PATDEV_HAVE_FOLLOW_PFNMAP)
	struct follow_pfnmap_args args = { .vma = vma, .address = addr };
	int ret = follow_pfnmap_start(&args);

	if (ret)
		return ret;
	*pfn = args.pfn;
	*entry = __pte(pgprot_val(args.pgprot));
	follow_pfnmap_end(&args);
	return 0;
#else
	spinlock_t *ptl;	/* page-table lock follow_pte() takes */
	pte_t *ptep;
	int ret;

#if defined(PATDEV_HAVE_FOLLOW_PTE_VMA)
	ret = follow_pte(vma, addr, &ptep, &ptl);
#else
	ret = follow_pte(vma->vm_mm, addr, &ptep, &ptl);
#endif
	if (ret)
		return ret;
	/* follow_pte() returns with the lock held but lacks the annotation. */
	__acquire(ptl);
	*entry = *ptep;
	pte_unmap_unlock(ptep, ptl);
	*pfn = pte_pfn(*entry);
	return 0;
#endif
}

#endif /* _PATDEV_COMPAT_H */
