// SPDX-License-Identifier: GPL-2.0
/*
 * An object-wide cache-mode change: the mcache() call FreeBSD's PAT
 * patches describe and left out for its "high foot-shooting potential"
 * (nothing kept every mapping of a page on one memory type). patdev keeps
 * the mode on the object, so it can change it for all mappings at once:
 *
 * 1. @changing is set: an mmap that would prefault from now on leaves its
 *    pages to faults;
 * 2. the mmaps that prefaulted before are waited for, until their vmas
 *    are linked where unmap_mapping_range() reaches them (the object's
 *    locks are not held meanwhile: such an mmap may wait for them);
 * 3. with revoke_lock held for write, so that faults and prefaults wait,
 *    every entry of the object is removed from every process, the memory
 *    type of all its memory changes, and the object takes the new mode;
 *    unless an importer of one of its dma-bufs pinned it meanwhile
 *    (patdev_obj_pin()): then nothing changes (EBUSY).
 *
 * Faults after that enter the new mode: they take the mode from the
 * object, not from the vma (patdev_obj_vma_prot()). They wait for the
 * change in down_read(), uninterruptibly, for as long as the memtype
 * change of the whole object takes (set_memory_*() twice, flushing the
 * caches: a few milliseconds per 256 MiB on hardware). A revocation waits
 * for a change in progress (mode_lock), so that both see every claim; forks
 * claim too (patdev_obj_claim()).
 */
#include <linux/mm.h>
#include <linux/uaccess.h>
#include "patdev.h"

static int patdev_change_cache(struct patdev_obj *obj, enum patdev_cache want)
{
	enum patdev_cache mode = want;
	int ret;

	if (down_write_killable(&obj->revoke_lock))
		return -EINTR;
	/* Pinned now: EBUSY at once; pinned during the wait: at the end. */
	ret = obj->revoked ? -ENXIO : atomic_read(&obj->pins) ? -EBUSY : 0;
	if (!ret)
		WRITE_ONCE(obj->changing, true);
	up_write(&obj->revoke_lock);
	if (ret)
		return ret;

	ret = patdev_obj_wait_claims(obj, true);
	ret = min(ret, 0);
	patdev_test_hold_change();

	down_write(&obj->revoke_lock);
	if (!ret && obj->revoked)
		ret = -ENXIO;
	/* An importer pinned it during the wait: its alias keeps the old mode. */
	if (!ret && atomic_read(&obj->pins))
		ret = -EBUSY;
	if (!ret) {
		patdev_obj_unmap(obj, 0, obj->npages);
		ret = obj->ops->set_cache(obj, &mode);
		WRITE_ONCE(obj->cache, mode);
	}
	/* Release: a fork that reads false copies what the change left (patdev_vm_open()). */
	smp_store_release(&obj->changing, false);
	up_write(&obj->revoke_lock);
	return ret;
}

long patdev_ioctl_set_cache(struct patdev_file *pfile, void __user *arg)
{
	struct patdev_set_cache sc;
	struct patdev_obj *obj;
	enum patdev_cache want;
	long ret;

	if (copy_from_user(&sc, arg, sizeof(sc)))
		return -EFAULT;
	if (sc.reserved || !PAGE_ALIGNED(sc.offset) || sc.cache > PATDEV_CACHE_WP)
		return -EINVAL;
	/*
	 * As for PATDEV_IOC_DESTROY: the module's own objects keep the modes
	 * their names promise, whether made yet or not; an object made on
	 * request is its creator's to change, by its first offset.
	 */
	if (sc.offset == PATDEV_PGOFF_ANON << PAGE_SHIFT ||
	    sc.offset == PATDEV_PGOFF_SG << PAGE_SHIFT)
		return -EPERM;
	obj = patdev_obj_lookup(sc.offset >> PAGE_SHIFT, 0);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	/* In DESTROY's order: an offset, then its owner, then the object. */
	if (obj->base != sc.offset >> PAGE_SHIFT) {
		ret = -ENXIO;
		goto out;
	}
	ret = patdev_space_owner_check(pfile, obj);
	if (ret)
		goto out;
	if (!obj->ops->set_cache) {
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (!obj->ops->cache_ok(obj, sc.cache)) {
		ret = -EINVAL;
		goto out;
	}
	ret = mutex_lock_killable(&obj->mode_lock);
	if (ret)
		goto out;
	want = patdev_pat_effective(sc.cache);
	if (want != READ_ONCE(obj->cache))
		ret = patdev_change_cache(obj, want);
	mutex_unlock(&obj->mode_lock);
out:
	patdev_obj_put(obj);
	return ret;
}
