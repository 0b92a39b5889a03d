// SPDX-License-Identifier: GPL-2.0
/*
 * Bench-only modes, off by default, for tools/patdev-bench.c to compare
 * patdev's paths with baselines in one run:
 *
 * - bench_remap: mmap populates the whole mapping with remap_pfn_range(),
 *   one call per physically contiguous run: the kernel's own fastest way,
 *   the baseline for PATDEV_IOC_PREFAULT;
 * - bench_sg_segs: mmap at PATDEV_PGOFF_BENCH_SG gets a fresh WB
 *   scatter/gather object of that many segments, to show that the fault
 *   cost does not grow with the segment count.
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pfn.h>
#include <linux/slab.h>
#include "patdev.h"
#include "patdev_sglist.h"

static bool bench_remap;
module_param(bench_remap, bool, 0644);
MODULE_PARM_DESC(bench_remap, "Benchmarks only: populate every mmap with remap_pfn_range() (default N)");

static uint bench_sg_segs;
module_param(bench_sg_segs, uint, 0644);
MODULE_PARM_DESC(bench_sg_segs,
		 "Benchmarks only: segments of the object at mmap page offset 2 (default 0: no object)");

/* Pages a bench sg object spans per segment count: at least this many. */
#define BENCH_SG_PAGES	1024

bool patdev_bench_remap(void)
{
	return READ_ONCE(bench_remap);
}

long patdev_bench_remap_vma(struct vm_area_struct *vma)
{
	struct patdev_obj *obj = vma->vm_private_data;
	pgprot_t prot = patdev_obj_pgprot(obj, vma->vm_page_prot);
	pgoff_t idx, run, n = min_t(pgoff_t, vma_pages(vma), obj->npages);
	unsigned long pfn, next;
	int ret;

	for (idx = 0; idx < n; idx += run) {
		ret = patdev_obj_pfn(obj, idx, &pfn);
		if (ret)
			return ret;
		for (run = 1; idx + run < n; run++)
			if (patdev_obj_pfn(obj, idx + run, &next) || next != pfn + run)
				break;
		ret = remap_pfn_range(vma, vma->vm_start + (idx << PAGE_SHIFT), pfn,
				      run << PAGE_SHIFT, prot);
		if (ret)
			return ret;
	}
	return n;
}

struct bench_backing {
	struct page *chunk[2];
	unsigned int order;
};

static void bench_backing_free(void *data)
{
	struct bench_backing *b = data;

	if (b->chunk[0])
		patdev_free_pages(b->chunk[0], b->order);
	if (b->chunk[1])
		patdev_free_pages(b->chunk[1], b->order);
	kfree(b);
}

/*
 * @nseg segments of max(1, BENCH_SG_PAGES / @nseg) pages each, alternating
 * between the starts of two chunks: the memory is aliased, only the list's
 * shape matters here. With several segments each chunk is twice a
 * segment's size, so the chunks' starts, aligned to their size, are at
 * least two segments apart and no segment can merge with the next.
 */
struct patdev_obj *patdev_bench_sg_create(void)
{
	unsigned int nseg = READ_ONCE(bench_sg_segs), i;
	struct patdev_sglist *sg = NULL;
	struct patdev_obj *obj = ERR_PTR(-ENOMEM);
	struct bench_backing *b;
	unsigned long seg_pages;

	if (!nseg || nseg > PATDEV_SGLIST_MAXSEG)
		return ERR_PTR(-ENXIO);
	seg_pages = max(1U, BENCH_SG_PAGES / nseg);
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return obj;
	b->order = get_order(seg_pages << PAGE_SHIFT) + (nseg > 1);
	b->chunk[0] = patdev_alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN, b->order);
	b->chunk[1] = patdev_alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN, b->order);
	sg = patdev_sglist_alloc(nseg, GFP_KERNEL);
	if (!b->chunk[0] || !b->chunk[1] || !sg)
		goto err;
	for (i = 0; i < nseg; i++)
		if (patdev_sglist_append_phys(sg, PFN_PHYS(page_to_pfn(b->chunk[i & 1])),
					      seg_pages << PAGE_SHIFT))
			goto err;
	obj = patdev_sg_obj_create(sg, PATDEV_CACHE_WB, bench_backing_free, b);
	patdev_sglist_free(sg);
	if (!IS_ERR(obj))
		return obj;
	sg = NULL;
err:
	patdev_sglist_free(sg);
	bench_backing_free(b);
	return obj;
}
