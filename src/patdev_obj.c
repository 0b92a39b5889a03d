// SPDX-License-Identifier: GPL-2.0
/*
 * The object layer: a refcounted, sized object with one cache mode for all
 * its mappings, as FreeBSD's vm_object carries its memattr. Keeping the
 * mode on the object, not on each mapping, is what keeps every user
 * mapping of a page on one memory type.
 */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/uaccess.h>
#include "patdev.h"

void patdev_obj_init(struct patdev_obj *obj, enum patdev_obj_kind kind,
		     enum patdev_cache cache, pgoff_t npages,
		     const struct patdev_obj_ops *ops)
{
	memset(obj, 0, sizeof(*obj));
	kref_init(&obj->ref);
	patdev_obj_count(1);
	obj->kind = kind;
	obj->cache = cache;
	obj->npages = npages;
	atomic_set(&obj->nmaps, 0);
	init_rwsem(&obj->revoke_lock);
	mutex_init(&obj->populate_lock);
	mutex_init(&obj->mode_lock);
	mutex_init(&obj->mr_lock);
	spin_lock_init(&obj->claim_lock);
	INIT_LIST_HEAD(&obj->claims);
	INIT_LIST_HEAD(&obj->owner_link);
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

	/* Out of the offset space first: nothing may find it from here on. */
	patdev_space_remove(obj);
	patdev_obj_drop_claims(obj);
	patdev_track_free(obj);
	mutex_destroy(&obj->populate_lock);
	mutex_destroy(&obj->mode_lock);
	mutex_destroy(&obj->mr_lock);
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
 * @prot: the vma's page protection, without cache bits
 *
 * pgprot_noncached() asks for UC- on x86, the strongest type RAM can have.
 * A UC object is MMIO under a strong-UC memtype reservation of its own, and
 * its entries ask for strong UC themselves (PCD and PWT, no helper names
 * it): with PAT the reservation would upgrade UC- anyway, but without PAT
 * nothing would, and PCD alone is UC-.
 *
 * Return: @prot with the object's cache mode.
 */
pgprot_t patdev_obj_pgprot(const struct patdev_obj *obj, pgprot_t prot)
{
	switch (READ_ONCE(obj->cache)) {
	case PATDEV_CACHE_WC:
		return pgprot_writecombine(prot);
	case PATDEV_CACHE_UC_MINUS:
		return pgprot_noncached(prot);
	case PATDEV_CACHE_UC:
		return __pgprot(pgprot_val(prot) | cachemode2protval(_PAGE_CACHE_MODE_UC));
	default:
		return prot;
	}
}

/**
 * patdev_obj_vma_prot() - protection for entering @obj's pages in a vma
 * @obj: the object, its revoke_lock held (the mode is stable under it)
 * @vma_prot: the vma's vm_page_prot
 *
 * The vma got the object's mode of the time of its mmap; the mode may have
 * changed since (PATDEV_IOC_SET_CACHE), and the cache bits of a protection
 * are or-ed in by pgprot_writecombine()/pgprot_noncached() before 6.16.
 * So the old cache bits go first. (No helper swaps only those bits.)
 *
 * Return: @vma_prot's access bits with the object's current mode.
 */
pgprot_t patdev_obj_vma_prot(const struct patdev_obj *obj, pgprot_t vma_prot)
{
	return patdev_obj_pgprot(obj, __pgprot(pgprot_val(vma_prot) & ~_PAGE_CACHE_MASK));
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
	unsigned long run;

	return patdev_obj_run(obj, idx, pfn, &run);
}

/**
 * patdev_obj_run() - the physically contiguous run of @obj from page @idx
 * @obj: the object
 * @idx: page index, checked against the object's size
 * @pfn: out: the frame behind page @idx
 * @run: out: pages from @idx on whose frames follow *@pfn (at least 1)
 *
 * Return: 0, or -EFAULT as patdev_obj_pfn().
 */
int patdev_obj_run(struct patdev_obj *obj, pgoff_t idx, unsigned long *pfn, unsigned long *run)
{
	int ret;

	if (idx >= obj->npages)
		return -EFAULT;
	ret = obj->ops->pfn(obj, idx, pfn, run);
	if (!ret)
		*run = clamp_t(unsigned long, *run, 1, obj->npages - idx);
	return ret;
}

/**
 * patdev_obj_index() - page of its object a user address in @vma maps
 * @vma: a patdev vma
 * @addr: an address inside it
 *
 * Return: the page index inside the object (may be past its end).
 */
pgoff_t patdev_obj_index(struct vm_area_struct *vma, unsigned long addr)
{
	struct patdev_obj *obj = vma->vm_private_data;

	return linear_page_index(vma, addr) - obj->base;
}

/* Answers @info for the object @info->pgoff names; the rest is output. */
static int patdev_objinfo_fill(struct patdev_objinfo *info)
{
	struct patdev_obj *obj = patdev_obj_lookup(info->pgoff, 0);
	u64 pgoff = info->pgoff;
	unsigned int i;

	if (IS_ERR(obj))
		return PTR_ERR(obj);
	memset(info, 0, sizeof(*info));
	info->pgoff = pgoff;
	info->kind = obj->kind;
	info->size = (u64)obj->npages << PAGE_SHIFT;
	info->cache = READ_ONCE(obj->cache);
	info->nmaps = atomic_read(&obj->nmaps);
	info->nsegs = obj->ops->nsegs ? obj->ops->nsegs(obj) : 0;
	info->flags = (obj->readonly ? PATDEV_OBJ_READONLY : 0) |
		      (obj->created ? PATDEV_OBJ_CREATED : 0) |
		      (patdev_obj_tracked(obj) ? PATDEV_OBJ_TRACKED : 0) |
		      (obj->mmio ? PATDEV_OBJ_MMIO : 0);
	info->base_pgoff = obj->base;
	for (i = 0; i < PATDEV_CHUNK_ORDERS; i++)
		info->chunks[i] = obj->chunks[i];
	patdev_obj_put(obj);
	return 0;
}

long patdev_ioctl_objinfo(void __user *arg)
{
	struct patdev_objinfo info;
	int ret;

	if (copy_from_user(&info, arg, sizeof(info)))
		return -EFAULT;
	if (info.reserved)
		return -EINVAL;
	ret = patdev_objinfo_fill(&info);
	if (ret)
		return ret;
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}
