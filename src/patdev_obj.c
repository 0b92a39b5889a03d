// SPDX-License-Identifier: GPL-2.0
/*
 * The object layer: a refcounted, sized object with one cache mode for all
 * its mappings, as FreeBSD's vm_object carries its memattr. Keeping the
 * mode on the object, not on each mapping, is what keeps every user
 * mapping of a page on one memory type.
 */
#include <linux/mm.h>
#include <linux/uaccess.h>
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

void patdev_free_pages(struct page *page, unsigned int order)
{
	atomic_long_sub(1L << order, &live_pages);
	__free_pages(page, order);
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

void patdev_obj_init(struct patdev_obj *obj, enum patdev_obj_kind kind,
		     enum patdev_cache cache, pgoff_t npages,
		     const struct patdev_obj_ops *ops)
{
	kref_init(&obj->ref);
	atomic_long_inc(&live_objs);
	obj->kind = kind;
	obj->cache = cache;
	obj->npages = npages;
	atomic_set(&obj->nmaps, 0);
	obj->readonly = false;
	obj->ops = ops;
}

struct patdev_obj *patdev_obj_get(struct patdev_obj *obj)
{
	kref_get(&obj->ref);
	return obj;
}

static void patdev_obj_release(struct kref *ref)
{
	struct patdev_obj *obj = container_of(ref, struct patdev_obj, ref);

	obj->ops->release(obj);
	atomic_long_dec(&live_objs);
}

void patdev_obj_put(struct patdev_obj *obj)
{
	if (obj)
		kref_put(&obj->ref, patdev_obj_release);
}

/**
 * patdev_obj_pgprot() - protection for mapping @obj, from the vma's @prot
 * @obj: the object
 * @prot: the vma's page protection
 *
 * x86 cannot give RAM strong UC through PAT (it becomes UC-), and
 * pgprot_noncached() already asks for UC- there; both UC modes map to it.
 *
 * Return: @prot with the object's cache mode.
 */
pgprot_t patdev_obj_pgprot(const struct patdev_obj *obj, pgprot_t prot)
{
	switch (obj->cache) {
	case PATDEV_CACHE_WC:
		return pgprot_writecombine(prot);
	case PATDEV_CACHE_UC:
	case PATDEV_CACHE_UC_MINUS:
		return pgprot_noncached(prot);
	default:
		return prot;
	}
}

/**
 * patdev_obj_lookup() - the object an mmap page offset names, if it exists
 * @pgoff: PATDEV_PGOFF_*
 *
 * Return: a new reference; ERR_PTR(-ENOENT) for the anonymous object before
 * the first mmap creates it, ERR_PTR(-ENXIO) for an offset naming nothing.
 */
struct patdev_obj *patdev_obj_lookup(pgoff_t pgoff)
{
	struct patdev_obj *obj;

	switch (pgoff) {
	case PATDEV_PGOFF_ANON:
		obj = patdev_anon_get();
		return obj ?: ERR_PTR(-ENOENT);
	case PATDEV_PGOFF_SG:
		return patdev_sg_get();
	default:
		return ERR_PTR(-ENXIO);
	}
}

long patdev_ioctl_objinfo(void __user *arg)
{
	struct patdev_objinfo info;
	struct patdev_obj *obj;

	if (copy_from_user(&info, arg, sizeof(info)))
		return -EFAULT;
	obj = patdev_obj_lookup(info.pgoff);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	info.kind = obj->kind;
	info.size = (u64)obj->npages << PAGE_SHIFT;
	info.cache = obj->cache;
	info.nmaps = atomic_read(&obj->nmaps);
	info.nsegs = obj->ops->nsegs ? obj->ops->nsegs(obj) : 0;
	info.flags = obj->readonly ? PATDEV_OBJ_READONLY : 0;
	patdev_obj_put(obj);
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

/**
 * patdev_pages_set_memtype() - give RAM pages the kernel memtype @cache
 * @pages: the pages
 * @n: how many
 * @cache: the mode their user mappings will ask for
 *
 * PAT answers a user mapping of RAM with the page's own memtype whatever
 * the mapping asked, so the memtype must be set first. RAM cannot be
 * strong UC: the UC modes both give UC-.
 *
 * Return: 0 or -ENOMEM.
 */
int patdev_pages_set_memtype(struct page **pages, unsigned long n, enum patdev_cache cache)
{
	int ret;

	switch (cache) {
	case PATDEV_CACHE_WC:
		ret = set_pages_array_wc(pages, n);
		break;
	case PATDEV_CACHE_UC:
	case PATDEV_CACHE_UC_MINUS:
		ret = set_pages_array_uc(pages, n);
		break;
	default:
		return 0;
	}
	/*
	 * set_pages_array_*() answer EINVAL whatever failed, out of memory for
	 * page-table splits included; pages the module just allocated cannot
	 * have a conflicting memtype, so a failure here is a lack of memory.
	 */
	return ret ? -ENOMEM : 0;
}

/**
 * patdev_pages_free() - restore WB on pages patdev_pages_set_memtype() set
 * to @cache, then free them
 * @pages: the pages, each an order-0 allocation
 * @n: how many
 * @cache: the mode they were set to (WB: they were never changed)
 *
 * Pages whose memtype cannot be restored are leaked: freeing them would
 * hand WC or UC memory to the next user.
 */
void patdev_pages_free(struct page **pages, unsigned long n, enum patdev_cache cache)
{
	unsigned long i;

	if (!n)
		return;
	if (cache != PATDEV_CACHE_WB && set_pages_array_wb(pages, n)) {
		pr_warn("patdev: restoring WB on %lu pages failed; leaking them\n", n);
		return;
	}
	for (i = 0; i < n; i++)
		patdev_free_pages(pages[i], 0);
}
