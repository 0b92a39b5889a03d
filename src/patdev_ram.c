// SPDX-License-Identifier: GPL-2.0
/*
 * RAM objects: memory the module allocates as physically contiguous
 * chunks of up to 2 MiB, described by an sglist so that the OBJT_SG pager
 * finds any page's frame in O(log n), with the memory type set chunk by
 * chunk through the chunk's direct-map range (see
 * patdev_chunk_set_memtype(): 2 MiB chunks keep their 2 MiB direct-map
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
	unsigned long nchunks;
	struct patdev_chunk chunk[];
};

/* Frees chunks [from, to) of @ram, which have the memtype @cache. */
static void patdev_ram_free_chunks(struct patdev_ram *ram, unsigned long from,
				   unsigned long to, enum patdev_cache cache)
{
	for (; from < to; from++) {
		patdev_chunk_free(ram->chunk[from].page, ram->chunk[from].order, cache);
		cond_resched();
	}
}

static void patdev_ram_release(void *data)
{
	struct patdev_ram *ram = data;

	patdev_ram_free_chunks(ram, 0, ram->nchunks, ram->cache);
	kvfree(ram);
}

/*
 * One chunk, zeroed. Orders above 0 come from free memory only, with no
 * direct reclaim or compaction, unless @must (the caller asked for that
 * order): a large object then takes smaller chunks instead of stalling
 * the system to assemble 2 MiB ones. Never a warning: failing is allowed.
 */
static struct page *patdev_ram_alloc_chunk(unsigned int order, bool must)
{
	gfp_t gfp = GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN;

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
					   unsigned int norders)
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
			page = patdev_ram_alloc_chunk(order, true);
		} else {
			while (1UL << order > left)
				order--;
			while (!(page = patdev_ram_alloc_chunk(order, false)) && order)
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
	patdev_ram_free_chunks(ram, 0, ram->nchunks, PATDEV_CACHE_WB);
	kvfree(ram);
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
 *
 * The object is zeroed (through the WB alias: changing the memtype flushes
 * the caches) and not named yet.
 *
 * Return: the object, or an ERR_PTR: -ENOMEM, -EINTR, -ENOSPC, -EINVAL.
 */
struct patdev_obj *patdev_ram_obj_create(enum patdev_obj_kind kind, pgoff_t npages,
					 enum patdev_cache cache, const u8 *orders,
					 unsigned int norders)
{
	struct patdev_sglist *sg = NULL;
	struct patdev_obj *obj;
	struct patdev_ram *ram;
	unsigned long i, set = 0;
	int ret = -ENOMEM;

	ram = patdev_ram_alloc(npages, orders, norders);
	if (IS_ERR(ram))
		return ERR_CAST(ram);
	if (ram->nchunks <= PATDEV_SGLIST_MAXSEG)
		sg = patdev_sglist_alloc(ram->nchunks, GFP_KERNEL | __GFP_NOWARN);
	if (!sg)
		goto err;
	for (i = 0; i < ram->nchunks; i++)
		/* Adjacent chunks merge into one segment, as sglist(9) does. */
		if (patdev_sglist_append_phys(sg, PFN_PHYS(page_to_pfn(ram->chunk[i].page)),
					      PAGE_SIZE << ram->chunk[i].order))
			goto err;
	for (set = 0; set < ram->nchunks; set++) {
		ret = patdev_chunk_set_memtype(ram->chunk[set].page, ram->chunk[set].order, cache);
		if (ret)
			goto err;
		cond_resched();
	}
	ram->cache = cache;
	obj = patdev_sg_obj_create(kind, sg, cache, patdev_ram_release, ram);
	/* The object holds the list now, or nothing does on failure. */
	patdev_sglist_free(sg);
	sg = NULL;
	if (IS_ERR(obj)) {
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
	return obj;
err:
	patdev_sglist_free(sg);
	patdev_ram_free_chunks(ram, 0, set, cache);
	patdev_ram_free_chunks(ram, set, ram->nchunks, PATDEV_CACHE_WB);
	kvfree(ram);
	return ERR_PTR(ret);
}
