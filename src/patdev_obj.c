// SPDX-License-Identifier: GPL-2.0
/*
 * The object layer: a refcounted, sized object with one cache mode for all
 * its mappings, as FreeBSD's vm_object carries its memattr. Keeping the
 * mode on the object, not on each mapping, is what keeps every user
 * mapping of a page on one memory type.
 */
#include <linux/mm.h>
#include <linux/uaccess.h>
#include "patdev.h"

void patdev_obj_init(struct patdev_obj *obj, enum patdev_obj_kind kind,
		     enum patdev_cache cache, pgoff_t npages,
		     const struct patdev_obj_ops *ops)
{
	kref_init(&obj->ref);
	patdev_obj_count(1);
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
	patdev_obj_count(-1);
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
 * pgprot_noncached() asks for UC- on x86, the strongest type RAM can have.
 *
 * Return: @prot with the object's cache mode.
 */
pgprot_t patdev_obj_pgprot(const struct patdev_obj *obj, pgprot_t prot)
{
	switch (obj->cache) {
	case PATDEV_CACHE_WC:
		return pgprot_writecombine(prot);
	case PATDEV_CACHE_UC_MINUS:
		return pgprot_noncached(prot);
	default:
		return prot;
	}
}

/**
 * patdev_obj_pfn() - the page frame behind page @idx of @obj
 * @obj: the object
 * @idx: page index, checked against the object's size
 * @pfn: out: the frame
 *
 * Return: 0, or -EFAULT past the object's end or where the backing has no
 * answer: a fault there is SIGBUS, never a mapping of frame 0.
 */
int patdev_obj_pfn(struct patdev_obj *obj, pgoff_t idx, unsigned long *pfn)
{
	if (idx >= obj->npages)
		return -EFAULT;
	return obj->ops->pfn(obj, idx, pfn);
}

/**
 * patdev_obj_lookup() - the object an mmap page offset names, if it exists
 * @pgoff: PATDEV_PGOFF_*
 *
 * Return: a new reference; ERR_PTR(-ENOENT) for the anonymous object before
 * the first mmap creates it, ERR_PTR(-ENXIO) for an offset naming nothing,
 * ERR_PTR(-EINTR) if killed while waiting for a first mmap to finish.
 */
struct patdev_obj *patdev_obj_lookup(pgoff_t pgoff)
{
	switch (pgoff) {
	case PATDEV_PGOFF_ANON:
		return patdev_anon_get();
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
	if (info.reserved)
		return -EINVAL;
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
