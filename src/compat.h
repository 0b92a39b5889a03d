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
#if defined(PATDEV_HAVE_HUGE_PFNMAP) && !defined(PATDEV_HAVE_INSERT_PFN_PMD_RAW)
#include <linux/pfn_t.h>
#endif

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

/*
 * 6.16 added f_op->mmap_prepare, which fills a vm_area_desc before the vma
 * exists, and deprecated f_op->mmap; 7.1 added vm_ops->mapped, called once
 * the vma exists and is linked. patdev claims through the pair where both
 * are there (patdev_mmap.c), and through .mmap before 7.1: the claim's
 * reference and its prefault need the vma, which 6.16 to 7.0 never hand a
 * driver that uses .mmap_prepare.
 */
#ifdef PATDEV_HAVE_MMAP_PREPARE_MAPPED
#define PATDEV_MMAP_PREPARE	1
#else
#define PATDEV_MMAP_PREPARE	0
#endif

/* 7.2 renamed zap_vma_ptes() to zap_special_vma_range(). */
static inline void patdev_zap_range(struct vm_area_struct *vma, unsigned long start,
				    unsigned long size)
{
#ifdef PATDEV_HAVE_ZAP_SPECIAL_VMA_RANGE
	zap_special_vma_range(vma, start, size);
#else
	zap_vma_ptes(vma, start, size);
#endif
}

static inline void patdev_zap_vma(struct vm_area_struct *vma)
{
	patdev_zap_range(vma, vma->vm_start, vma->vm_end - vma->vm_start);
}

/*
 * A writable entry from a present one, for a vma without shadow stacks:
 * 6.6 gave pte_mkwrite() a vma and moved x86's out of line, unexported;
 * its part for other vmas is inline, and moves a SavedDirty bit back to
 * Dirty (x86 keeps Dirty there while the entry is read-only).
 */
static inline pte_t patdev_mkwrite_entry(pte_t pte)
{
#ifdef PATDEV_HAVE_PTE_MKWRITE_NOVMA
	return pte_clear_saveddirty(pte_mkwrite_novma(pte));
#else
	return pte_mkwrite(pte);
#endif
}

#ifdef PATDEV_HAVE_HUGE_PFNMAP
/*
 * 2 MiB entries in VM_PFNMAP vmas: ->huge_fault(vmf, order) is called for
 * them from 6.12 on. 6.17 removed pfn_t: vmf_insert_pfn_pmd() takes the
 * frame number itself.
 */
#define PATDEV_HUGE	1
#ifdef PATDEV_HAVE_INSERT_PFN_PMD_RAW
#define patdev_huge_pfn(pfn)	(pfn)
#else
#define patdev_huge_pfn(pfn)	__pfn_to_pfn_t(pfn, PFN_DEV)
#endif

static inline vm_fault_t patdev_insert_pfn_pmd(struct vm_fault *vmf, unsigned long pfn,
					       bool write)
{
	return vmf_insert_pfn_pmd(vmf, patdev_huge_pfn(pfn), write);
}
#else
#define PATDEV_HUGE	0
#endif

#if PATDEV_HUGE && defined(PATDEV_HAVE_HUGE_PFNMAP_PUD)
/*
 * 1 GiB entries in VM_PFNMAP vmas: ->huge_fault(vmf, PUD_ORDER), 6.12 on,
 * where the architecture has them. pfn_t went in 6.17 for both sizes.
 */
#define PATDEV_HUGE_1G	1
#include <linux/sched/mm.h>
static inline vm_fault_t patdev_insert_pfn_pud(struct vm_fault *vmf, unsigned long pfn,
					       bool write)
{
	return vmf_insert_pfn_pud(vmf, patdev_huge_pfn(pfn), write);
}

/*
 * vmf_insert_pfn_pud() entered vm_page_prot and dropped PAT's answer for
 * the frame until "mm/huge_memory: don't ignore queried cachemode in
 * vmf_insert_pfn_pud()" (2025): Debian's 6.12.95 has the bug, 7.3 the
 * fix. Told by 6.17's API (pfn_t gone), which every fixed kernel has.
 */
#ifdef PATDEV_HAVE_INSERT_PFN_PMD_RAW
#define PATDEV_PUD_INSERT_DROPS_PAT	0
#else
#define PATDEV_PUD_INSERT_DROPS_PAT	1
#endif

/* 6.19 dropped the mm argument of mm_get_unmapped_area(): it is current's. */
static inline unsigned long
patdev_mm_get_unmapped_area(struct file *file, unsigned long addr, unsigned long len,
			    unsigned long pgoff, unsigned long flags)
{
#ifdef PATDEV_HAVE_MM_GET_UNMAPPED_AREA_NOMM
	return mm_get_unmapped_area(file, addr, len, pgoff, flags);
#else
	return mm_get_unmapped_area(current->mm, file, addr, len, pgoff, flags);
#endif
}
#else
#define PATDEV_HUGE_1G	0
#endif

/*
 * The upper entry above @addr's 2 MiB slot, or NULL where a level above it
 * is empty (for the shim below and patdev_fill.c). The mmap lock keeps
 * upper page tables from being freed.
 */
static inline pud_t *patdev_pud_of(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;

	if (pgd_none(READ_ONCE(*pgd)))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(READ_ONCE(*p4d)))
		return NULL;
	return pud_offset(p4d, addr);
}

#if defined(PATDEV_HAVE_FOLLOW_PFNMAP) && !defined(PATDEV_HAVE_FOLLOW_PFNMAP_ADDR_MASK)
/*
 * The size of the leaf entry mapping @addr, as 6.15's addr_mask tells:
 * 6.12 to 6.14 map 2 MiB and 1 GiB PFN entries without saying which.
 */
static inline unsigned long patdev_leaf_size(struct mm_struct *mm, unsigned long addr)
{
	pud_t *pud = patdev_pud_of(mm, addr), pudval;

	if (!pud)
		return PAGE_SIZE;
	pudval = READ_ONCE(*pud);
	if (pud_none(pudval))
		return PAGE_SIZE;
	if (pud_leaf(pudval))
		return PUD_SIZE;
	return pmd_leaf(pmdp_get_lockless(pmd_offset(pud, addr))) ? PMD_SIZE : PAGE_SIZE;
}
#endif

/**
 * patdev_read_pte() - snapshot the entry mapping @addr in a VM_PFNMAP vma
 * @vma: the vma, with the mmap lock held for read
 * @addr: user virtual address inside @vma
 * @pfn: out: page frame number of the 4 KiB page at @addr
 * @entry: out: an entry with the same flag bits, for the pte_*() helpers
 *	(its frame number is not meaningful); a 2 MiB or 1 GiB entry's bits
 *	are converted to the 4 KiB layout (PAT moves from bit 12 to bit 7)
 * @size: out: bytes the entry maps: PAGE_SIZE, PMD_SIZE or PUD_SIZE
 *
 * 6.10 changed follow_pte() to take the vma instead of the mm; 6.12
 * replaced it with follow_pfnmap_start()/follow_pfnmap_end(), which hand
 * out the protection bits rather than the entry and see 2 MiB and 1 GiB
 * entries too; 6.15 added the size of the entry found (addr_mask).
 *
 * Return: 0, or -EINVAL when no entry is present.
 */
static inline int patdev_read_pte(struct vm_area_struct *vma, unsigned long addr,
				  unsigned long *pfn, pte_t *entry, unsigned long *size)
{
#if defined(PATDEV_HAVE_FOLLOW_PFNMAP)
	struct follow_pfnmap_args args = { .vma = vma, .address = addr };
	int ret = follow_pfnmap_start(&args);

	if (ret)
		return ret;
	*pfn = args.pfn;
#ifdef PATDEV_HAVE_FOLLOW_PFNMAP_ADDR_MASK
	*size = ~args.addr_mask + 1;
#else
	*size = patdev_leaf_size(vma->vm_mm, addr);
#endif
	*entry = __pte(pgprot_val(*size > PAGE_SIZE ? pgprot_large_2_4k(args.pgprot) :
				  args.pgprot));
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
	*size = PAGE_SIZE;
	return 0;
#endif
}

#endif /* _PATDEV_COMPAT_H */
