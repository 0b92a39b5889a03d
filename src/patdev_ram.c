// SPDX-License-Identifier: GPL-2.0
/*
 * RAM objects: memory the module allocates as physically contiguous
 * chunks of up to 2 MiB, described by an sglist so that the OBJT_SG pager
 * finds any page's frame in O(log n), with the memory type set segment by
 * segment (runs of adjacent chunks) through their direct-map range (see
 * patdev_range_set_memtype(): 2 MiB chunks keep their 2 MiB direct-map
 * pages).
 *
 * x86 trap: vmf_insert_pfn_prot() with a WC protection on ordinary RAM
 * silently gives a write-back entry, because PAT looks up the page's own
 * memtype and overrides the request. The memtype is therefore set before
 * any user mapping exists, and back to WB before the chunks are freed.
 */
#include <linux/mm.h>
#include <linux/pfn.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include "patdev.h"
#include "patdev_sglist.h"

struct patdev_chunk {
	struct page *page;
	unsigned int order;
};

struct patdev_ram {
	enum patdev_cache cache;
	void (*freed)(pgoff_t npages);
	pgoff_t npages;
	struct patdev_sglist *sg;
	unsigned long nchunks;
	struct patdev_chunk chunk[];
};

static struct page *patdev_seg_page(const struct patdev_sgseg *seg)
{
	return pfn_to_page(PHYS_PFN(seg->paddr));
}

/* Sets WB again on segments [0, n) of @ram, which have the mode @cache. */
static void patdev_ram_restore_wb(struct patdev_ram *ram, unsigned int n,
				  enum patdev_cache cache)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		patdev_range_restore_wb(patdev_seg_page(&ram->sg->seg[i]),
					ram->sg->seg[i].len >> PAGE_SHIFT, cache);
}

/* Frees the chunks and what describes them; they are WB again. */
static void patdev_ram_free(struct patdev_ram *ram)
{
	unsigned long i;

	for (i = 0; i < ram->nchunks; i++) {
		patdev_free_pages(ram->chunk[i].page, ram->chunk[i].order);
		cond_resched();
	}
	patdev_sglist_free(ram->sg);
	kvfree(ram);
}

static void patdev_ram_release(void *data)
{
	struct patdev_ram *ram = data;
	void (*freed)(pgoff_t npages) = ram->freed;
	pgoff_t npages = ram->npages;

	patdev_ram_restore_wb(ram, ram->sg->nseg, ram->cache);
	patdev_ram_free(ram);
	if (freed)
		freed(npages);
}

/*
 * Gives every segment of @ram, all WB, the mode @cache. On failure they are
 * all WB again (as far as the kernel can: see patdev_range_set_memtype()).
 */
static int patdev_ram_set_all(struct patdev_ram *ram, enum patdev_cache cache)
{
	unsigned int set;
	int ret;

	for (set = 0; set < ram->sg->nseg; set++) {
		ret = patdev_range_set_memtype(patdev_seg_page(&ram->sg->seg[set]),
					       ram->sg->seg[set].len >> PAGE_SHIFT, cache);
		if (ret) {
			/* The failed segment is WB again; the earlier ones are not. */
			patdev_ram_restore_wb(ram, set, cache);
			return ret;
		}
		cond_resched();
	}
	return 0;
}

/*
 * PATDEV_IOC_SET_CACHE: the object's entries are gone and faults wait.
 * x86 moves RAM between two non-WB types only through WB (a RAM page has
 * one memtype at a time), and set_memory_*() flushes the caches, so the
 * data survives each step. If the new type cannot be set, the old one is
 * tried again; if that fails too, the memory stays WB, and *@cache says
 * which it is.
 */
static int patdev_ram_set_cache(void *data, enum patdev_cache *cache)
{
	struct patdev_ram *ram = data;
	int ret;

	patdev_ram_restore_wb(ram, ram->sg->nseg, ram->cache);
	ret = patdev_ram_set_all(ram, *cache);
	if (ret)
		*cache = patdev_ram_set_all(ram, ram->cache) ? PATDEV_CACHE_WB : ram->cache;
	ram->cache = *cache;
	return ret;
}

static const struct patdev_backing patdev_ram_backing = {
	.release = patdev_ram_release,
	.set_cache = patdev_ram_set_cache,
	.cache_ok = patdev_cache_supported,
};

/*
 * One chunk, zeroed. Orders above 0 come from free memory only, with no
 * direct reclaim or compaction, unless @must (the caller asked for that
 * order): a large object then takes smaller chunks instead of stalling
 * the system to assemble 2 MiB ones. Never a warning: failing is allowed.
 */
static struct page *patdev_ram_alloc_chunk(unsigned int order, bool must, gfp_t zone)
{
	gfp_t gfp = GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN | zone;

	if (!order)
		gfp |= __GFP_RETRY_MAYFAIL;
	else if (must)
		gfp |= __GFP_NORETRY;
	else
		gfp = (gfp & ~__GFP_DIRECT_RECLAIM) | __GFP_NORETRY | __GFP_NOMEMALLOC;
	return patdev_alloc_pages(gfp, order);
}

/*
 * Allocates the chunks of an @npages object: by @orders in turn, each of
 * which must fit, or, @orders NULL, the largest order up to 2 MiB that
 * fits what is left and that the allocator gives cheaply, dropping to
 * smaller orders as larger ones fail. Returns the chunks, all WB, or an
 * ERR_PTR.
 */
static struct patdev_ram *patdev_ram_alloc(pgoff_t npages, const u8 *orders,
					   unsigned int norders, gfp_t zone)
{
	unsigned int order = PMD_SHIFT - PAGE_SHIFT;
	struct patdev_ram *ram;
	pgoff_t left = npages;
	struct page *page;
	int ret;

	/* At most one chunk per page. */
	ram = kvzalloc(struct_size(ram, chunk, npages), GFP_KERNEL | __GFP_NOWARN);
	if (!ram)
		return ERR_PTR(-ENOMEM);
	while (left) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err;
		}
		if (orders) {
			order = orders[ram->nchunks % norders];
			if (1UL << order > left) {
				ret = -EINVAL;
				goto err;
			}
			page = patdev_ram_alloc_chunk(order, true, zone);
		} else {
			while (1UL << order > left)
				order--;
			while (!(page = patdev_ram_alloc_chunk(order, false, zone)) && order)
				order--;
		}
		if (!page) {
			ret = -ENOMEM;
			goto err;
		}
		ram->chunk[ram->nchunks].page = page;
		ram->chunk[ram->nchunks].order = order;
		ram->nchunks++;
		left -= 1UL << order;
		cond_resched();
	}
	return ram;
err:
	patdev_ram_free(ram);
	return ERR_PTR(ret);
}

/**
 * patdev_ram_obj_create() - a RAM object with its own range of offsets
 * @kind: PATDEV_OBJ_ANON or PATDEV_OBJ_SG (only the label differs)
 * @npages: size, non-zero
 * @cache: the object's mode, WB, WC or UC-: already what PAT gives
 * @orders: chunk orders, in turn, or NULL for the largest the allocator
 *	gives cheaply (see patdev_ram_alloc())
 * @norders: entries in @orders
 * @freed: called with @npages once the memory is freed, after the last
 *	reference went (the creator's accounting), or NULL; not called when
 *	this fails
 * @zone: 0, or GFP_DMA32: all the memory below 4 GiB
 *
 * The object is zeroed (through the WB alias: changing the memtype flushes
 * the caches) and not named yet.
 *
 * Return: the object, or an ERR_PTR: -ENOMEM, -EINTR, -ENOSPC, -EINVAL.
 */
struct patdev_obj *patdev_ram_obj_create(enum patdev_obj_kind kind, pgoff_t npages,
					 enum patdev_cache cache, const u8 *orders,
					 unsigned int norders, void (*freed)(pgoff_t npages),
					 gfp_t zone)
{
	struct patdev_obj *obj;
	struct patdev_ram *ram;
	unsigned long i;
	int ret;

	ram = patdev_ram_alloc(npages, orders, norders, zone);
	if (IS_ERR(ram))
		return ERR_CAST(ram);
	ret = -ENOMEM;
	if (ram->nchunks > PATDEV_SGLIST_MAXSEG)
		goto err;
	ram->sg = patdev_sglist_alloc(ram->nchunks, GFP_KERNEL | __GFP_NOWARN);
	if (!ram->sg)
		goto err;
	for (i = 0; i < ram->nchunks; i++)
		/* Adjacent chunks merge into one segment, as sglist(9) does. */
		if (patdev_sglist_append_phys(ram->sg, PFN_PHYS(page_to_pfn(ram->chunk[i].page)),
					      PAGE_SIZE << ram->chunk[i].order))
			goto err;
	ret = patdev_ram_set_all(ram, cache);
	if (ret)
		goto err;
	ram->cache = cache;
	ram->npages = npages;
	/* The object takes its own reference to the list; @ram keeps one. */
	obj = patdev_sg_obj_create(kind, ram->sg, cache, &patdev_ram_backing, ram);
	if (IS_ERR(obj)) {
		patdev_ram_restore_wb(ram, ram->sg->nseg, cache);
		ret = PTR_ERR(obj);
		goto err;
	}
	for (i = 0; i < ram->nchunks; i++)
		obj->chunks[ram->chunk[i].order]++;
	ret = patdev_space_add(obj);
	if (ret) {
		/* Frees the chunks through patdev_ram_release(). */
		patdev_obj_put(obj);
		return ERR_PTR(ret);
	}
	ram->freed = freed;
	return obj;
err:
	patdev_ram_free(ram);
	return ERR_PTR(ret);
}
