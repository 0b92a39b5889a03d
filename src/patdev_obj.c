// SPDX-License-Identifier: GPL-2.0
/*
 * The object layer: a refcounted, sized object with one cache mode for all
 * its mappings, as FreeBSD's vm_object carries its memattr. Keeping the
 * mode on the object, not on each mapping, is what keeps every user
 * mapping of a page on one memory type.
 */
#include <linux/mm.h>
#include "patdev.h"

void patdev_obj_init(struct patdev_obj *obj, enum patdev_obj_kind kind,
		     enum patdev_cache cache, pgoff_t npages,
		     const struct patdev_obj_ops *ops)
{
	kref_init(&obj->ref);
	obj->kind = kind;
	obj->cache = cache;
	obj->npages = npages;
	atomic_set(&obj->nmaps, 0);
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
