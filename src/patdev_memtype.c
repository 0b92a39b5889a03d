// SPDX-License-Identifier: GPL-2.0
/*
 * The RAM the module allocates for its objects, and its kernel memory
 * type. PAT answers a user mapping of RAM with the page's own memtype
 * whatever the mapping asked for, so the memtype is set before any user
 * mapping exists and set back to WB before the pages are freed.
 *
 * One invariant is enforced where pages are freed: a page whose
 * direct-map entry is not WB never goes back to the allocator, because its
 * next owner would get uncached or write-combined memory without knowing.
 */
#include <linux/mm.h>
#include <asm/set_memory.h>
#include "patdev.h"

/* Live objects and pages, for the debugfs stats and the unload check. */
static atomic_long_t live_objs = ATOMIC_LONG_INIT(0);
static atomic_long_t live_pages = ATOMIC_LONG_INIT(0);

struct page *patdev_alloc_pages(gfp_t gfp, unsigned int order)
{
	struct page *page = alloc_pages(gfp, order);

	if (page)
		atomic_long_add(1L << order, &live_pages);
	return page;
}

/*
 * The cache bits of the direct-map entry that maps @page, in the 4 KiB
 * layout whatever the entry's size; false if there is no such entry.
 */
static bool patdev_direct_map_is_wb(struct page *page)
{
	unsigned int level;
	pte_t *ptep = lookup_address((unsigned long)page_address(page), &level);
	pgprot_t prot;

	if (!ptep)
		return false;
	switch (level) {
	case PG_LEVEL_4K:
		prot = pte_pgprot(*ptep);
		break;
	case PG_LEVEL_2M:
		prot = pgprot_large_2_4k(__pgprot(pmd_flags(*(pmd_t *)ptep)));
		break;
	default:
		prot = pgprot_large_2_4k(__pgprot(pud_flags(*(pud_t *)ptep)));
		break;
	}
	return !(pgprot_val(prot) & _PAGE_CACHE_MASK);
}

/**
 * patdev_free_pages() - free an allocation of patdev_alloc_pages()
 * @page: its first page
 * @order: its order
 *
 * An allocation any page of which is not WB in the direct map is leaked,
 * with a warning, instead of being freed.
 */
void patdev_free_pages(struct page *page, unsigned int order)
{
	unsigned long i;

	for (i = 0; i < 1UL << order; i++) {
		if (!patdev_direct_map_is_wb(page + i)) {
			pr_warn_ratelimited("patdev: pfn %#lx is not WB in the direct map; leaking %lu pages\n",
					    page_to_pfn(page + i), 1UL << order);
			return;
		}
	}
	atomic_long_sub(1L << order, &live_pages);
	__free_pages(page, order);
}

void patdev_obj_count(long delta)
{
	atomic_long_add(delta, &live_objs);
}

void patdev_obj_stats(long *objs, long *pages)
{
	*objs = atomic_long_read(&live_objs);
	*pages = atomic_long_read(&live_pages);
}

void patdev_obj_check_leaks(void)
{
	long objs, pages;

	patdev_obj_stats(&objs, &pages);
	WARN(objs || pages, "patdev: %ld objects and %ld pages not freed at unload\n",
	     objs, pages);
}

/**
 * patdev_range_set_memtype() - give physically contiguous RAM the kernel
 * memtype @cache
 * @page: the first page, the range fresh from patdev_alloc_pages(), still WB
 * @npages: pages in the range
 * @cache: WB, WC or UC- (RAM cannot be strong UC)
 *
 * The change goes through the range's direct-map addresses, in one call:
 * a 2 MiB-aligned 2 MiB run keeps its 2 MiB direct-map page, changed in
 * place, where set_pages_array_*() would split it page by page, for good;
 * and one call flushes the caches and TLBs once for the whole range.
 *
 * set_memory_*() can fail half-way, after changing part of the direct map
 * (a split that cannot allocate a page table); its own error path only
 * drops the memtype reservation. WB is then restored on the whole range,
 * so that the caller may free it as WB; if even that fails,
 * patdev_free_pages() leaks what is still not WB.
 *
 * Return: 0, -EINVAL for a mode no object may have, or -ENOMEM.
 */
int patdev_range_set_memtype(struct page *page, unsigned long npages, enum patdev_cache cache)
{
	unsigned long addr = (unsigned long)page_address(page);
	int ret;

	if (npages > INT_MAX)
		return -ENOMEM;
	switch (cache) {
	case PATDEV_CACHE_WB:
		return 0;
	case PATDEV_CACHE_WC:
		ret = set_memory_wc(addr, npages);
		break;
	case PATDEV_CACHE_UC_MINUS:
		ret = set_memory_uc(addr, npages);
		break;
	default:
		return -EINVAL;
	}
	if (!ret)
		return 0;
	if (set_memory_wb(addr, npages))
		pr_warn("patdev: restoring WB after a failed memtype change failed\n");
	/*
	 * RAM the module just allocated cannot have a conflicting memtype:
	 * what failed is a page-table allocation, a lack of memory.
	 */
	return -ENOMEM;
}

/**
 * patdev_range_restore_wb() - undo patdev_range_set_memtype()
 * @page: the first page of the range
 * @npages: pages in the range
 * @cache: the mode it was set to (WB: it was never changed)
 *
 * Pages that stay non-WB (the call failed) are leaked by
 * patdev_free_pages() later, never handed back to the allocator.
 */
void patdev_range_restore_wb(struct page *page, unsigned long npages, enum patdev_cache cache)
{
	if (cache != PATDEV_CACHE_WB &&
	    set_memory_wb((unsigned long)page_address(page), npages))
		pr_warn("patdev: restoring WB on %lu pages failed\n", npages);
}
