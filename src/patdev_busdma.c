// SPDX-License-Identifier: GPL-2.0
/*
 * DMA by the devices bound to patdev (PATDEV_IOC_DMA_MAP): NetBSD's
 * bus_dmamem_mmap() beside bus_space_mmap(). A program maps a device's
 * registers (a BAR object) and a RAM object in the mode it wants, maps the
 * object for the device's DMA here, and programs the device with the
 * addresses this answers: a driver in user space, as NetBSD's proposal
 * meant for audio, frame grabbers and message passing.
 *
 * What must never happen is a device writing pages that were freed:
 * - a mapping holds its object (a reference: its memory stays; a pin: its
 *   mode cannot change, nor can it be revoked);
 * - the device masters the bus only while it has a mapping;
 * - one open file at a time maps for a device, so that whenever mappings
 *   end without their owner asking for each (its close, the device's
 *   unbinding or removal) they are all of the device's: bus mastering
 *   goes off first, then the pages are unmapped;
 * - a device whose mappings ended that way may still hold a transfer of
 *   its dead owner, which bus mastering off only holds back: at unbinding
 *   or removal the device is reset before its pages are unmapped (if it
 *   has a way to reset); after a close, no new mapping is made for it
 *   until it is reset (EBUSY; sysfs "reset") or unbound;
 * - and as a reset may not stop a transfer already under way (QEMU's edu
 *   ignores resets), the pages of mappings that ended that way are kept
 *   from reuse for dma_quarantine_ms after they are unmapped, as the
 *   IOMMU's flush queue keeps freed IOVAs: a late transfer lands in pages
 *   nobody else has yet.
 * An unmap the owner asks for is the owner's promise that the device is
 * done with it, as NetBSD's bus_dmamap_unload() is; the last one turns bus
 * mastering off before it unmaps.
 */
#include <linux/atomic.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include "patdev.h"

static unsigned int dma_quarantine_ms = 1000;
module_param(dma_quarantine_ms, uint, 0644);
MODULE_PARM_DESC(dma_quarantine_ms,
		 "How long the pages of DMA mappings that ended without their owner (close, unbind, removal) stay unused, for a late transfer of a device that a reset does not stop (default 1000)");

/**
 * struct patdev_busdma - the DMA state of one bound device
 * @ref: the binding's, each BAR object's and each caller's reference
 * @pdev: the device (a reference)
 * @link: in busdma_list
 * @lock: protects the fields below
 * @gone: unbound or removed: no new mapping
 * @needs_reset: its owner closed with mappings: no new one until a reset
 * @owner: the open file whose mappings the device has, NULL with none
 * @maps: its mappings (&struct patdev_busmap)
 * @nmaps: how many
 * @dma_bits: the DMA mask's width, while @nmaps
 * @saved_mask: the mask the device had before, given back with the last
 */
struct patdev_busdma {
	struct kref ref;
	struct pci_dev *pdev;
	struct list_head link;
	struct mutex lock;	/* the fields below */
	bool gone;
	bool needs_reset;
	struct patdev_file *owner;
	struct list_head maps;
	unsigned int nmaps;
	unsigned int dma_bits;
	u64 saved_mask;
};

/* One mapping of an object for the device; in quarantine, its pages' hold. */
struct patdev_busmap {
	struct list_head link;
	u64 handle;
	struct patdev_obj *obj;
	struct sg_table sgt;
	enum dma_data_direction dir;
	unsigned long release_at;
};

/* Every bound device's state, for the unmaps and closes to search. */
static LIST_HEAD(busdma_list);
static DEFINE_MUTEX(busdma_list_lock);
/* Handles are never reused: a stale one cannot end another's mapping. */
static atomic64_t busdma_handles = ATOMIC64_INIT(0);
/* Ended mappings whose pages are kept until their release_at, in that order. */
static LIST_HEAD(busdma_quarantine);
static DEFINE_MUTEX(busdma_quarantine_lock);
static void patdev_busdma_release(struct work_struct *work);
static DECLARE_DELAYED_WORK(busdma_release_work, patdev_busdma_release);

/**
 * patdev_busdma_bind() - DMA state for a device being bound
 * @pdev: the device
 *
 * Turns bus mastering off: nothing is mapped for the device yet.
 *
 * Return: the state, with the binding's reference; NULL without memory.
 */
struct patdev_busdma *patdev_busdma_bind(struct pci_dev *pdev)
{
	struct patdev_busdma *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (!d)
		return NULL;
	kref_init(&d->ref);
	d->pdev = pci_dev_get(pdev);
	mutex_init(&d->lock);
	INIT_LIST_HEAD(&d->maps);
	pci_clear_master(pdev);
	mutex_lock(&busdma_list_lock);
	list_add_tail(&d->link, &busdma_list);
	mutex_unlock(&busdma_list_lock);
	return d;
}

struct patdev_busdma *patdev_busdma_get(struct patdev_busdma *d)
{
	kref_get(&d->ref);
	return d;
}

static void patdev_busdma_free(struct kref *ref)
{
	struct patdev_busdma *d = container_of(ref, struct patdev_busdma, ref);

	pci_dev_put(d->pdev);
	mutex_destroy(&d->lock);
	kfree(d);
}

void patdev_busdma_put(struct patdev_busdma *d)
{
	kref_put(&d->ref, patdev_busdma_free);
}

static void patdev_busmap_free(struct patdev_busdma *d, struct patdev_busmap *m)
{
	patdev_dma_unmap_obj(&d->pdev->dev, &m->sgt, m->dir);
	patdev_obj_unpin(m->obj);
	patdev_obj_put(m->obj);
	kfree(m);
}

/* Drops the pages of quarantined mappings taken off the list. */
static void patdev_busmap_drop(struct list_head *ended)
{
	struct patdev_busmap *m, *next;

	list_for_each_entry_safe(m, next, ended, link) {
		patdev_obj_put(m->obj);
		kfree(m);
	}
}

/* Drops the pages whose quarantine is over; comes back for the next. */
static void patdev_busdma_release(struct work_struct *work)
{
	struct patdev_busmap *m, *next;
	LIST_HEAD(over);

	mutex_lock(&busdma_quarantine_lock);
	list_for_each_entry_safe(m, next, &busdma_quarantine, link) {
		if (time_before(jiffies, m->release_at)) {
			schedule_delayed_work(&busdma_release_work, m->release_at - jiffies);
			break;
		}
		list_move_tail(&m->link, &over);
	}
	mutex_unlock(&busdma_quarantine_lock);
	/* Freeing pages may change their memtype: not under the lock closes take. */
	patdev_busmap_drop(&over);
}

/*
 * Ends a mapping its owner did not end: unmapped now (an IOMMU blocks the
 * device from here on), its pages kept for dma_quarantine_ms. The pin
 * goes: the object may change mode or be revoked meanwhile.
 */
static void patdev_busmap_quarantine(struct patdev_busdma *d, struct patdev_busmap *m)
{
	unsigned long delay = msecs_to_jiffies(READ_ONCE(dma_quarantine_ms));
	struct patdev_busmap *last;

	patdev_dma_unmap_obj(&d->pdev->dev, &m->sgt, m->dir);
	patdev_obj_unpin(m->obj);
	mutex_lock(&busdma_quarantine_lock);
	/* A shorter setting than the last one's waits behind it: in order. */
	m->release_at = jiffies + delay;
	last = list_empty(&busdma_quarantine) ? NULL :
	       list_last_entry(&busdma_quarantine, struct patdev_busmap, link);
	if (last && time_after(last->release_at, m->release_at))
		m->release_at = last->release_at;
	list_add_tail(&m->link, &busdma_quarantine);
	/*
	 * Under the lock: the work may free @m once it is dropped. A pending
	 * run is due no later than this entry, being for an earlier one.
	 */
	delay = time_after(m->release_at, jiffies) ? m->release_at - jiffies : 0;
	schedule_delayed_work(&busdma_release_work, delay);
	mutex_unlock(&busdma_quarantine_lock);
}

/*
 * The module goes: no device is bound any more. The pages of the last
 * ended mappings (the unbinding of every device, just before) are kept
 * until their quarantine is over, then everything goes.
 */
void patdev_busdma_exit(void)
{
	struct patdev_busmap *m;
	unsigned long until = 0;

	mutex_lock(&busdma_quarantine_lock);
	if (!list_empty(&busdma_quarantine)) {
		m = list_last_entry(&busdma_quarantine, struct patdev_busmap, link);
		if (time_after(m->release_at, jiffies))
			until = m->release_at - jiffies;
	}
	mutex_unlock(&busdma_quarantine_lock);
	if (until)
		schedule_timeout_uninterruptible(until);
	cancel_delayed_work_sync(&busdma_release_work);
	patdev_busmap_drop(&busdma_quarantine);
	INIT_LIST_HEAD(&busdma_quarantine);
}

/* The device has no mapping left: no owner, the mask it had before the first. */
static void patdev_busdma_idle(struct patdev_busdma *d)
{
	d->owner = NULL;
	dma_set_mask(&d->pdev->dev, d->saved_mask);
}

/* Ends one mapping; the last one turns bus mastering off first. */
static void patdev_busmap_end(struct patdev_busdma *d, struct patdev_busmap *m)
{
	lockdep_assert_held(&d->lock);
	if (d->nmaps == 1)
		pci_clear_master(d->pdev);
	list_del(&m->link);
	patdev_busmap_free(d, m);
	if (!--d->nmaps)
		patdev_busdma_idle(d);
}

/*
 * Ends every mapping of the device, which their owner did not ask for:
 * bus mastering off before the first, their pages into quarantine.
 */
static void patdev_busdma_end_all(struct patdev_busdma *d)
{
	struct patdev_busmap *m, *next;

	lockdep_assert_held(&d->lock);
	if (!d->nmaps)
		return;
	pci_clear_master(d->pdev);
	list_for_each_entry_safe(m, next, &d->maps, link) {
		list_del(&m->link);
		patdev_busmap_quarantine(d, m);
	}
	d->nmaps = 0;
	patdev_busdma_idle(d);
}

/**
 * patdev_busdma_stop() - the device is being unbound or removed
 * @d: its state
 *
 * First of all: no new mapping, bus mastering off.
 */
void patdev_busdma_stop(struct patdev_busdma *d)
{
	mutex_lock(&d->lock);
	d->gone = true;
	pci_clear_master(d->pdev);
	mutex_unlock(&d->lock);
}

/*
 * Resets @pdev, whose device lock the caller holds, as a reset through
 * sysfs would: its upstream bridge, whose configuration a bus reset
 * touches, locked too, but only tried (sysfs locks the bridge first).
 */
static int patdev_busdma_reset(struct pci_dev *pdev)
{
	struct pci_dev *bridge = pci_upstream_bridge(pdev);
	int ret;

	/* A device surprise-removed answers nothing: no reset to wait for. */
	if (!pci_device_is_present(pdev))
		return -ENODEV;
	if (bridge && !pci_dev_trylock(bridge))
		return -EBUSY;
	pci_save_state(pdev);
	pci_cfg_access_lock(pdev);
	ret = __pci_reset_function_locked(pdev);
	pci_cfg_access_unlock(pdev);
	pci_restore_state(pdev);
	if (bridge)
		pci_dev_unlock(bridge);
	return ret;
}

/**
 * patdev_busdma_unbind() - end the DMA of a device being unbound or removed
 * @d: its state, stopped (patdev_busdma_stop())
 *
 * Called with the device locked, once nothing maps its BARs: a device
 * left with mappings, or left by an owner that closed with some, is reset
 * (if it has a way), so that no transfer it holds can resume, before its
 * mappings are unmapped. Drops the binding's reference.
 */
void patdev_busdma_unbind(struct patdev_busdma *d)
{
	struct pci_dev *pdev = d->pdev;

	mutex_lock(&d->lock);
	/* The reset restores the configuration saved after the stop: no master. */
	if ((d->nmaps || d->needs_reset) && patdev_busdma_reset(pdev))
		pci_info(pdev, "patdev: not reset: bus mastering off is all that stops its DMA\n");
	patdev_busdma_end_all(d);
	mutex_unlock(&d->lock);
	mutex_lock(&busdma_list_lock);
	list_del(&d->link);
	mutex_unlock(&busdma_list_lock);
	patdev_busdma_put(d);
}

/*
 * The open file @pfile is closing: the devices it maps for stop, and wait
 * for a reset before they map again (a transfer may be held in them).
 */
void patdev_busdma_release_file(struct patdev_file *pfile)
{
	struct patdev_busdma *d;

	mutex_lock(&busdma_list_lock);
	list_for_each_entry(d, &busdma_list, link) {
		mutex_lock(&d->lock);
		if (d->owner == pfile) {
			d->needs_reset = true;
			patdev_busdma_end_all(d);
		}
		mutex_unlock(&d->lock);
	}
	mutex_unlock(&busdma_list_lock);
}

/**
 * patdev_busdma_reset_done() - the device was reset, its configuration restored
 * @d: its state
 *
 * It holds no transfer any more. The restored configuration has bus
 * mastering as it was saved, which a mapping made or ended during the
 * reset may have changed since: it is set again to match.
 */
void patdev_busdma_reset_done(struct patdev_busdma *d)
{
	mutex_lock(&d->lock);
	d->needs_reset = false;
	if (d->nmaps)
		pci_set_master(d->pdev);
	else
		pci_clear_master(d->pdev);
	mutex_unlock(&d->lock);
}

/* The device a BAR offset names, with a reference. */
static struct patdev_busdma *patdev_busdma_lookup(u64 offset)
{
	struct patdev_busdma *d;
	struct patdev_obj *bar;

	bar = patdev_obj_lookup(offset >> PAGE_SHIFT, 0);
	if (IS_ERR(bar))
		return ERR_CAST(bar);
	d = patdev_bar_busdma(bar);
	patdev_obj_put(bar);
	return d ?: ERR_PTR(-ENODEV);
}

/* The segments of @sgt into a new array of @n entries. */
static struct patdev_dma_seg *patdev_busdma_segs(struct sg_table *sgt, unsigned int *n)
{
	struct patdev_dma_seg *segs;
	struct scatterlist *sg;
	unsigned int i;

	segs = kvmalloc_array(sgt->nents, sizeof(*segs), GFP_KERNEL);
	if (!segs)
		return NULL;
	for_each_sgtable_dma_sg(sgt, sg, i) {
		segs[i].addr = sg_dma_address(sg);
		segs[i].len = sg_dma_len(sg);
	}
	*n = sgt->nents;
	return segs;
}

/*
 * Maps @m->obj for @d's device, under @d->lock: the checks of the device's
 * state first. On success @segs holds the segments, for the caller to copy
 * out once the lock is dropped (a copy may wait on user space).
 */
static int patdev_busdma_map(struct patdev_busdma *d, struct patdev_file *pfile,
			     struct patdev_busmap *m, struct patdev_dma_map *r,
			     struct patdev_dma_seg **segs)
{
	struct device *dev = &d->pdev->dev;
	struct patdev_busmap *other;
	unsigned int n;
	int ret;

	if (d->gone)
		return -ENXIO;
	/* Another program drives the device, or one left it unreset. */
	if ((d->owner && d->owner != pfile) || (!d->nmaps && d->needs_reset))
		return -EBUSY;
	if (d->nmaps >= PATDEV_DMA_MAX_MAPS)
		return -ENOSPC;
	if (d->nmaps && r->dma_bits != d->dma_bits)
		return -EBUSY;
	/* Two mappings of one buffer for one device are a bug of the program. */
	list_for_each_entry(other, &d->maps, link)
		if (other->obj == m->obj)
			return -EEXIST;
	/* Streaming mappings only: the coherent mask is not patdev's concern. */
	if (!d->nmaps) {
		d->saved_mask = dma_get_mask(dev);
		ret = dma_set_mask(dev, DMA_BIT_MASK(r->dma_bits));
		if (ret)
			return ret;
		d->dma_bits = r->dma_bits;
	}
	ret = patdev_dma_map_obj(m->obj, dev, m->dir, &m->sgt);
	if (ret)
		goto err_mask;
	ret = -E2BIG;
	if (m->sgt.nents > r->nsegs) {
		r->nsegs = m->sgt.nents;
		goto err_unmap;
	}
	ret = -ENOMEM;
	*segs = patdev_busdma_segs(&m->sgt, &n);
	if (!*segs)
		goto err_unmap;
	r->nsegs = n;
	m->handle = atomic64_inc_return(&busdma_handles);
	r->handle = m->handle;
	list_add_tail(&m->link, &d->maps);
	d->owner = pfile;
	if (!d->nmaps++)
		pci_set_master(d->pdev);
	return 0;
err_unmap:
	patdev_dma_unmap_obj(dev, &m->sgt, m->dir);
err_mask:
	if (!d->nmaps)
		patdev_busdma_idle(d);
	return ret;
}

/* Ends @pfile's mapping @handle, if it still exists: 0, or -ENOENT. */
static int patdev_busdma_end_handle(struct patdev_file *pfile, u64 handle)
{
	struct patdev_busdma *d;
	struct patdev_busmap *m;
	int ret = -ENOENT;

	mutex_lock(&busdma_list_lock);
	list_for_each_entry(d, &busdma_list, link) {
		mutex_lock(&d->lock);
		if (d->owner == pfile) {
			list_for_each_entry(m, &d->maps, link) {
				if (m->handle == handle) {
					patdev_busmap_end(d, m);
					ret = 0;
					break;
				}
			}
		}
		mutex_unlock(&d->lock);
		if (!ret)
			break;
	}
	mutex_unlock(&busdma_list_lock);
	return ret;
}

long patdev_ioctl_dma_map(struct file *file, void __user *arg)
{
	struct patdev_dma_seg *segs = NULL;
	struct patdev_busdma *d;
	struct patdev_busmap *m;
	struct patdev_dma_map r;
	int ret;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	if (r.reserved || !r.flags ||
	    (r.flags & ~(PATDEV_DMA_TO_DEVICE | PATDEV_DMA_FROM_DEVICE)) ||
	    r.dma_bits < 24 || r.dma_bits > 64 || !PAGE_ALIGNED(r.device))
		return -EINVAL;
	ret = patdev_mmio_allowed();
	if (ret)
		return ret;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->dir = r.flags == PATDEV_DMA_TO_DEVICE ? DMA_TO_DEVICE :
		 r.flags == PATDEV_DMA_FROM_DEVICE ? DMA_FROM_DEVICE : DMA_BIDIRECTIONAL;
	d = patdev_busdma_lookup(r.device);
	ret = PTR_ERR(d);
	if (IS_ERR(d))
		goto err_free;
	m->obj = patdev_dma_obj_lookup(file, r.offset, m->dir != DMA_TO_DEVICE);
	ret = PTR_ERR(m->obj);
	if (IS_ERR(m->obj)) {
		patdev_busdma_put(d);
		goto err_free;
	}
	ret = patdev_obj_pin(m->obj, false);
	if (ret) {
		patdev_busdma_put(d);
		goto err_put_obj;
	}
	ret = mutex_lock_killable(&d->lock);
	if (!ret) {
		ret = patdev_busdma_map(d, file->private_data, m, &r, &segs);
		mutex_unlock(&d->lock);
	}
	patdev_busdma_put(d);
	if (ret) {
		patdev_obj_unpin(m->obj);
		/* E2BIG tells how many segments it takes. */
		if (ret == -E2BIG && copy_to_user(arg, &r, sizeof(r)))
			ret = -EFAULT;
		goto err_put_obj;
	}
	/* The mapping is made: a failed answer ends it, unless something else did. */
	if (copy_to_user(u64_to_user_ptr(r.segs), segs, r.nsegs * sizeof(*segs)) ||
	    copy_to_user(arg, &r, sizeof(r))) {
		patdev_busdma_end_handle(file->private_data, r.handle);
		ret = -EFAULT;
	}
	kvfree(segs);
	return ret;
err_put_obj:
	patdev_obj_put(m->obj);
err_free:
	kfree(m);
	return ret;
}

long patdev_ioctl_dma_unmap(struct patdev_file *pfile, void __user *arg)
{
	struct patdev_dma_unmap u;

	if (copy_from_user(&u, arg, sizeof(u)))
		return -EFAULT;
	if (u.reserved)
		return -EINVAL;
	return patdev_busdma_end_handle(pfile, u.handle);
}

/* The debugfs listing: each bound device's bus mastering and mappings. */
void patdev_busdma_show(struct seq_file *s)
{
	struct patdev_busdma *d;
	struct patdev_busmap *m;
	u16 cmd;

	mutex_lock(&busdma_list_lock);
	list_for_each_entry(d, &busdma_list, link) {
		mutex_lock(&d->lock);
		pci_read_config_word(d->pdev, PCI_COMMAND, &cmd);
		seq_printf(s, "%s: master %s maps %u dma_bits %u%s\n", pci_name(d->pdev),
			   cmd & PCI_COMMAND_MASTER ? "on" : "off", d->nmaps,
			   d->nmaps ? d->dma_bits : 0, d->needs_reset ? " needs_reset" : "");
		list_for_each_entry(m, &d->maps, link)
			seq_printf(s, "  handle %llu pgoff %lu pages %lu segs %u cache %u dir %d\n",
				   m->handle, m->obj->base, m->obj->npages, m->sgt.nents,
				   READ_ONCE(m->obj->cache), m->dir);
		mutex_unlock(&d->lock);
	}
	mutex_unlock(&busdma_list_lock);
	mutex_lock(&busdma_quarantine_lock);
	list_for_each_entry(m, &busdma_quarantine, link) {
		long left = max_t(long, m->release_at - jiffies, 0);

		seq_printf(s, "quarantine: pgoff %lu pages %lu for %u ms\n", m->obj->base,
			   m->obj->npages, jiffies_to_msecs(left));
	}
	mutex_unlock(&busdma_quarantine_lock);
}
