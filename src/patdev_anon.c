// SPDX-License-Identifier: GPL-2.0
/*
 * The shared anonymous object behind mmap offset 0: created by the first
 * mmap with that mapping's size, then shared by every later mmap at
 * offset 0 until the module unloads (FreeBSD patdev keeps it the same way).
 *
 * x86 trap: vmf_insert_pfn_prot() with a WC protection on ordinary RAM
 * silently gives a write-back PTE, because PAT looks up the page's own
 * memtype and overrides the request. The pages' memtype is therefore set
 * to WC with set_pages_array_wc() before they are ever mapped, and back to
 * WB before they are freed; never twice, or PAT refuses the reservation.
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include "patdev.h"

unsigned int patdev_anon_max_mb = 256;
module_param_named(anon_max_mb, patdev_anon_max_mb, uint, 0644);
MODULE_PARM_DESC(anon_max_mb,
		 "Largest anonymous object the first mmap at offset 0 may create, in MiB (default 256)");

struct patdev_anon {
	struct patdev_obj obj;
	struct page **pages;
};

/* The module's reference to the shared object; NULL until the first mmap. */
static struct patdev_obj *anon_shared;
static DEFINE_MUTEX(anon_lock);

static struct patdev_anon *to_anon(struct patdev_obj *obj)
{
	return container_of(obj, struct patdev_anon, obj);
}

static int patdev_anon_pfn(struct patdev_obj *obj, pgoff_t idx, unsigned long *pfn)
{
	*pfn = page_to_pfn(to_anon(obj)->pages[idx]);
	return 0;
}

static void patdev_anon_release(struct patdev_obj *obj)
{
	struct patdev_anon *anon = to_anon(obj);

	patdev_pages_free(anon->pages, obj->npages, obj->cache);
	kvfree(anon->pages);
	kfree(anon);
}

static const struct patdev_obj_ops patdev_anon_ops = {
	.pfn = patdev_anon_pfn,
	.release = patdev_anon_release,
};

static struct patdev_obj *patdev_anon_create(pgoff_t npages)
{
	const gfp_t gfp = GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN | __GFP_RETRY_MAYFAIL;
	/* WC, or UC- where the CPU has no WC (PAT off). */
	enum patdev_cache cache = patdev_pat_effective(PATDEV_CACHE_WC);
	struct patdev_anon *anon;
	pgoff_t i;
	int ret;

	anon = kzalloc(sizeof(*anon), GFP_KERNEL);
	if (!anon)
		return ERR_PTR(-ENOMEM);
	anon->pages = kvcalloc(npages, sizeof(*anon->pages), GFP_KERNEL);
	if (!anon->pages) {
		kfree(anon);
		return ERR_PTR(-ENOMEM);
	}
	/* Discontiguous order-0 pages: no need for high-order allocations. */
	for (i = 0; i < npages; i++) {
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err;
		}
		anon->pages[i] = patdev_alloc_pages(gfp, 0);
		if (!anon->pages[i]) {
			ret = -ENOMEM;
			goto err;
		}
		cond_resched();
	}
	/* Zeroed through the WB alias above; changing the memtype flushes it. */
	ret = patdev_pages_set_memtype(anon->pages, npages, cache);
	if (ret)
		goto err;
	patdev_obj_init(&anon->obj, PATDEV_OBJ_ANON, cache, npages, &patdev_anon_ops);
	return &anon->obj;
err:
	patdev_pages_free(anon->pages, i, PATDEV_CACHE_WB);
	kvfree(anon->pages);
	kfree(anon);
	return ERR_PTR(ret);
}

/**
 * patdev_anon_get_shared() - the shared object, created on first use
 * @npages: size of the mapping asking; sizes the object if it is created
 *
 * Serialised so that racing first mmaps create exactly one object. A first
 * mmap of a large object takes a while; whoever waits for it can be killed.
 *
 * Return: a new reference to the object, or an ERR_PTR.
 */
struct patdev_obj *patdev_anon_get_shared(pgoff_t npages)
{
	struct patdev_obj *obj;

	if (mutex_lock_killable(&anon_lock))
		return ERR_PTR(-EINTR);
	if (!anon_shared) {
		if (npages > ((pgoff_t)READ_ONCE(patdev_anon_max_mb) << (20 - PAGE_SHIFT))) {
			obj = ERR_PTR(-ENOMEM);
			goto out;
		}
		obj = patdev_anon_create(npages);
		if (IS_ERR(obj))
			goto out;
		anon_shared = obj;
	}
	obj = patdev_obj_get(anon_shared);
out:
	mutex_unlock(&anon_lock);
	return obj;
}

/*
 * The shared object if the first mmap has created it: a new reference, or
 * ERR_PTR(-ENOENT) before that, ERR_PTR(-EINTR) if killed while waiting.
 */
struct patdev_obj *patdev_anon_get(void)
{
	struct patdev_obj *obj = ERR_PTR(-ENOENT);

	if (mutex_lock_killable(&anon_lock))
		return ERR_PTR(-EINTR);
	if (anon_shared)
		obj = patdev_obj_get(anon_shared);
	mutex_unlock(&anon_lock);
	return obj;
}

void patdev_anon_exit(void)
{
	/* No mapping can exist here: each holds the file, hence the module. */
	patdev_obj_put(anon_shared);
	anon_shared = NULL;
}
