// SPDX-License-Identifier: GPL-2.0
/*
 * Objects made on request (PATDEV_IOC_CREATE), named by their offsets
 * until PATDEV_IOC_DESTROY or until the open file that made them is
 * released, as GEM handles live with their file. Module-wide caps bound
 * what unprivileged-to-the-module callers (anyone allowed to open the
 * device) can pin: the number of created objects and their memory, both
 * counted until the memory is really freed, after the last mapping.
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include "patdev.h"

static unsigned int max_objects = 64;
module_param(max_objects, uint, 0644);
MODULE_PARM_DESC(max_objects, "Created objects that may exist at once (default 64)");

static unsigned int max_mb = 256;
module_param(max_mb, uint, 0644);
MODULE_PARM_DESC(max_mb, "Memory created objects may hold at once, in MiB (default 256)");

static DEFINE_SPINLOCK(charge_lock);
static unsigned int nr_created;
static unsigned long created_pages;

static int patdev_create_charge(pgoff_t npages)
{
	unsigned long cap = (unsigned long)READ_ONCE(max_mb) << (20 - PAGE_SHIFT);
	int ret = 0;

	spin_lock(&charge_lock);
	if (nr_created >= READ_ONCE(max_objects)) {
		ret = -ENOSPC;
	} else if (created_pages > cap || npages > cap - created_pages) {
		ret = -ENOMEM;
	} else {
		nr_created++;
		created_pages += npages;
	}
	spin_unlock(&charge_lock);
	return ret;
}

/* As a created object's memory is freed, or its creation fails. */
static void patdev_create_uncharge(pgoff_t npages)
{
	spin_lock(&charge_lock);
	nr_created--;
	created_pages -= npages;
	spin_unlock(&charge_lock);
}

long patdev_ioctl_create(struct patdev_file *pfile, void __user *arg)
{
	struct patdev_create c;
	struct patdev_obj *obj;
	pgoff_t npages;
	u8 order;
	int ret;

	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;
	if (c.reserved ||
	    (c.flags & ~(PATDEV_CREATE_READONLY | PATDEV_CREATE_TRACK | PATDEV_CREATE_DMA32)))
		return -EINVAL;
	if (c.cache > PATDEV_CACHE_WP || !patdev_cache_supported(c.cache))
		return -EINVAL;
	switch (c.kind) {
	case PATDEV_OBJ_ANON:
		if (c.sg_order)
			return -EINVAL;
		break;
	case PATDEV_OBJ_SG:
		if (c.sg_order >= PATDEV_CHUNK_ORDERS)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	order = c.sg_order;
	npages = c.size >> PAGE_SHIFT;
	if (!npages || !PAGE_ALIGNED(c.size) || !IS_ALIGNED(npages, 1UL << order))
		return -EINVAL;

	ret = patdev_create_charge(npages);
	if (ret)
		return ret;
	obj = patdev_ram_obj_create(c.kind, npages, patdev_pat_effective(c.cache),
				    c.kind == PATDEV_OBJ_SG ? &order : NULL, 1,
				    patdev_create_uncharge,
				    c.flags & PATDEV_CREATE_DMA32 ? GFP_DMA32 : 0);
	if (IS_ERR(obj)) {
		patdev_create_uncharge(npages);
		return PTR_ERR(obj);
	}
	/* From here on, freeing the object uncharges it. */
	obj->created = true;
	obj->revocable = true;
	obj->readonly = c.flags & PATDEV_CREATE_READONLY;
	if (c.flags & PATDEV_CREATE_TRACK) {
		ret = patdev_track_init(obj);
		if (ret) {
			patdev_obj_put(obj);
			return ret;
		}
	}
	/*
	 * Answered before the object is named: once it is, another thread
	 * of this file may destroy and free it at once.
	 */
	c.offset = (u64)obj->base << PAGE_SHIFT;
	if (copy_to_user(arg, &c, sizeof(c))) {
		/* Never named, so never seen: gone with this reference. */
		patdev_obj_put(obj);
		return -EFAULT;
	}
	patdev_space_name(obj, pfile);
	return 0;
}

long patdev_ioctl_destroy(struct patdev_file *pfile, void __user *arg)
{
	struct patdev_destroy d;

	if (copy_from_user(&d, arg, sizeof(d)))
		return -EFAULT;
	if (d.reserved || (d.flags & ~PATDEV_DESTROY_REVOKE) || !PAGE_ALIGNED(d.offset))
		return -EINVAL;
	/* The module's own objects (their names and ranges) are no one's to destroy. */
	if (d.offset >> PAGE_SHIFT == PATDEV_PGOFF_ANON ||
	    d.offset >> PAGE_SHIFT == PATDEV_PGOFF_SG)
		return -EPERM;
	return patdev_space_destroy(pfile, d.offset >> PAGE_SHIFT,
				    d.flags & PATDEV_DESTROY_REVOKE);
}
