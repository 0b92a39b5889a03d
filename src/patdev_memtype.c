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
 * patdev_pages_set_memtype() - give RAM pages the kernel memtype @cache
 * @pages: the pages, fresh from patdev_alloc_pages(), still WB
 * @n: how many
 * @cache: WB, WC or UC- (RAM cannot be strong UC)
 *
 * set_pages_array_*() can fail half-way, after changing the direct map of
 * part of the array (a split that cannot allocate a page table); its own
 * error path only drops the memtype reservations. WB is then restored on
 * the whole array, so that the caller may free the pages as WB ones; if
 * even that fails, patdev_free_pages() leaks what is still not WB.
 *
 * Return: 0, -EINVAL for a mode no object may have, or -ENOMEM.
 */
int patdev_pages_set_memtype(struct page **pages, unsigned long n, enum patdev_cache cache)
{
	int ret;

	switch (cache) {
	case PATDEV_CACHE_WB:
		return 0;
	case PATDEV_CACHE_WC:
		ret = set_pages_array_wc(pages, n);
		break;
	case PATDEV_CACHE_UC_MINUS:
		ret = set_pages_array_uc(pages, n);
		break;
	default:
		return -EINVAL;
	}
	if (!ret)
		return 0;
	if (set_pages_array_wb(pages, n))
		pr_warn("patdev: restoring WB after a failed memtype change failed\n");
	/*
	 * set_pages_array_*() answer EINVAL whatever failed, out of memory for
	 * page-table splits included; pages the module just allocated cannot
	 * have a conflicting memtype, so a failure here is a lack of memory.
	 */
	return -ENOMEM;
}

/**
 * patdev_pages_free() - restore WB on pages patdev_pages_set_memtype() set
 * to @cache, then free them
 * @pages: the pages, each an order-0 allocation
 * @n: how many
 * @cache: the mode they were set to (WB: they were never changed)
 */
void patdev_pages_free(struct page **pages, unsigned long n, enum patdev_cache cache)
{
	unsigned long i;

	if (!n)
		return;
	if (cache != PATDEV_CACHE_WB && set_pages_array_wb(pages, n))
		pr_warn("patdev: restoring WB on %lu pages failed\n", n);
	/* Whatever is still not WB is leaked there, page by page. */
	for (i = 0; i < n; i++)
		patdev_free_pages(pages[i], 0);
}
