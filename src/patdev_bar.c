// SPDX-License-Identifier: GPL-2.0
/*
 * Device memory: a memory BAR of a PCI device as an object (NetBSD's
 * bus_space_mmap(), FreeBSD's OBJT_SG over a BAR's physical range).
 *
 * x86 gives a user entry of device memory the type of the memtype
 * reservation covering it, or UC- where there is none. So the object holds
 * a reservation of its own mode over the whole BAR, for as long as the BAR
 * is the device's (an ioremap of that type: the one exported way to hold
 * one), and every entry, 4 KiB, 2 MiB or 1 GiB, comes out in that mode
 * whatever its request said. A mode change replaces the reservation while
 * the object has no entry and faults wait: two reservations of different
 * types cannot coexist, and ioremap silently hands out the type already
 * reserved, so the kernel mapping of the new one is read back to check.
 *
 * When the device goes (unbind, removal, reset: patdev_pci.c), the object
 * is revoked and the reservation dropped at once; the vmas stay, and
 * touching them raises SIGBUS.
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pfn.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <asm/pgtable.h>
#include "patdev.h"

static bool bar_track;
module_param(bar_track, bool, 0644);
MODULE_PARM_DESC(bar_track,
		 "BARs bound from now on keep per-page modified/referenced state, e.g. a frame buffer's damage (4 KiB entries only; default N)");

/**
 * struct patdev_bar - a BAR object
 * @obj: the object
 * @start: physical address of the BAR
 * @bar: its index
 * @prefetch: prefetchable, so it may be write-combined
 * @reservation: the kernel mapping whose memtype reservation of @obj.cache
 *	covers the BAR; NULL once the device is gone. Changed with the
 *	object's revoke_lock held for write.
 * @dev: the device's name, for the debugfs view
 * @busdma: the device's DMA state (a reference), which names the device
 *	to PATDEV_IOC_DMA_MAP
 */
struct patdev_bar {
	struct patdev_obj obj;
	phys_addr_t start;
	int bar;
	bool prefetch;
	void __iomem *reservation;
	char dev[32];
	struct patdev_busdma *busdma;
};

static struct patdev_bar *to_bar(struct patdev_obj *obj)
{
	return container_of(obj, struct patdev_bar, obj);
}

/* One physically contiguous run: a BAR is never scattered. */
static int patdev_bar_pfn(struct patdev_obj *obj, pgoff_t idx, unsigned long *pfn,
			  unsigned long *run)
{
	*pfn = PHYS_PFN(to_bar(obj)->start) + idx;
	*run = obj->npages - idx;
	return 0;
}

static unsigned int patdev_bar_nsegs(struct patdev_obj *obj)
{
	return 1;
}

static void patdev_bar_show(struct patdev_obj *obj, struct seq_file *m)
{
	struct patdev_bar *b = to_bar(obj);

	seq_printf(m, "  %s bar %d paddr 0x%llx len 0x%llx%s%s\n", b->dev, b->bar, (u64)b->start,
		   (u64)obj->npages << PAGE_SHIFT, b->prefetch ? " prefetchable" : "",
		   b->reservation ? "" : " gone");
}

static void patdev_bar_release(struct patdev_obj *obj)
{
	struct patdev_bar *b = to_bar(obj);

	if (b->reservation)
		iounmap(b->reservation);
	if (b->busdma)
		patdev_busdma_put(b->busdma);
	kfree(b);
}

/* The modes a BAR may have: WC only where prefetching is allowed. */
static bool patdev_bar_cache_ok(struct patdev_obj *obj, enum patdev_cache cache)
{
	return cache == PATDEV_CACHE_UC || cache == PATDEV_CACHE_UC_MINUS ||
	       (cache == PATDEV_CACHE_WC && to_bar(obj)->prefetch);
}

/*
 * A reservation of @cache over the BAR, or NULL if none of exactly that
 * type can be had (another user holds the range with another type).
 */
static void __iomem *patdev_bar_reserve(struct patdev_bar *b, enum patdev_cache cache)
{
	resource_size_t len = (resource_size_t)b->obj.npages << PAGE_SHIFT;
	void __iomem *addr;

	switch (cache) {
	case PATDEV_CACHE_WC:
		addr = ioremap_wc(b->start, len);
		break;
	case PATDEV_CACHE_UC:
		addr = ioremap_uc(b->start, len);
		break;
	default:
		addr = ioremap(b->start, len);	/* UC- on x86 */
		break;
	}
	if (addr && patdev_kernel_cache((unsigned long __force)addr) != cache) {
		pr_warn("patdev: %s BAR %d: the range is reserved with another memory type elsewhere\n",
			b->dev, b->bar);
		iounmap(addr);
		addr = NULL;
	}
	return addr;
}

/*
 * PATDEV_IOC_SET_CACHE: the object's entries are gone and faults wait. The
 * old reservation goes first (see the top). If the new type cannot be
 * reserved, the old one is tried again; if that fails too, the object has
 * none and is revoked: its entries could no longer be given a known type.
 */
static int patdev_bar_set_cache(struct patdev_obj *obj, enum patdev_cache *cache)
{
	struct patdev_bar *b = to_bar(obj);

	if (!b->reservation)
		return -ENXIO;
	iounmap(b->reservation);
	b->reservation = patdev_bar_reserve(b, *cache);
	if (b->reservation)
		return 0;
	*cache = obj->cache;
	b->reservation = patdev_bar_reserve(b, *cache);
	if (!b->reservation)
		WRITE_ONCE(obj->revoked, true);
	return -EBUSY;
}

static const struct patdev_obj_ops patdev_bar_ops = {
	.pfn = patdev_bar_pfn,
	.release = patdev_bar_release,
	.nsegs = patdev_bar_nsegs,
	.show = patdev_bar_show,
	.set_cache = patdev_bar_set_cache,
	.cache_ok = patdev_bar_cache_ok,
};

/**
 * patdev_bar_obj_create() - name a memory BAR of @pdev as an object
 * @pdev: the device, enabled, its region @bar requested by the caller
 * @bar: the BAR's index; a memory BAR of at least a page, page-aligned
 * @busdma: the device's DMA state, of which the object takes a reference
 *
 * Prefetchable BARs start WC (UC- without PAT), others UC: what sysfs's
 * resourceN_wc and resourceN give, except that UC is strong. With the
 * bar_track parameter set, the object keeps modified/referenced state:
 * which pages of a frame buffer user space wrote since the last clear
 * (what fb_deferred_io can do only for memory with struct pages).
 *
 * Return: the object, named, with the name's reference; an ERR_PTR:
 * -ENOMEM, -ENOSPC, -EBUSY (the range is reserved with another type).
 */
struct patdev_obj *patdev_bar_obj_create(struct pci_dev *pdev, int bar,
					 struct patdev_busdma *busdma)
{
	bool prefetch = pci_resource_flags(pdev, bar) & IORESOURCE_PREFETCH;
	struct patdev_bar *b = kzalloc(sizeof(*b), GFP_KERNEL);
	enum patdev_cache cache;
	int ret;

	if (!b)
		return ERR_PTR(-ENOMEM);
	b->start = pci_resource_start(pdev, bar);
	b->bar = bar;
	b->prefetch = prefetch;
	b->busdma = patdev_busdma_get(busdma);
	strscpy(b->dev, pci_name(pdev), sizeof(b->dev));
	cache = prefetch ? patdev_pat_effective(PATDEV_CACHE_WC) : PATDEV_CACHE_UC;
	patdev_obj_init(&b->obj, PATDEV_OBJ_BAR, cache,
			pci_resource_len(pdev, bar) >> PAGE_SHIFT, &patdev_bar_ops);
	b->obj.mmio = true;
	b->obj.revocable = true;
	b->reservation = patdev_bar_reserve(b, cache);
	if (!b->reservation) {
		ret = -EBUSY;
		goto err;
	}
	/* Chosen before any mapping can exist: the object is not named yet. */
	if (READ_ONCE(bar_track)) {
		ret = patdev_track_init(&b->obj);
		if (ret)
			goto err;
	}
	ret = patdev_space_add_phase(&b->obj, PHYS_PFN(b->start));
	if (ret)
		goto err;
	patdev_space_name(&b->obj, NULL);
	return &b->obj;
err:
	patdev_obj_put(&b->obj);
	return ERR_PTR(ret);
}

/**
 * patdev_bar_busdma() - the DMA state of the device whose BAR @obj is
 * @obj: any object
 *
 * Return: a reference to it, or NULL if @obj is not a BAR.
 */
struct patdev_busdma *patdev_bar_busdma(struct patdev_obj *obj)
{
	return obj->ops == &patdev_bar_ops ? patdev_busdma_get(to_bar(obj)->busdma) : NULL;
}

/**
 * patdev_bar_obj_gone() - the device's BAR is no longer its
 * @obj: a BAR object
 *
 * The name goes, every entry in every process is removed (waiting for a
 * mode change in progress and for mmaps and forks in flight), and the
 * reservation is dropped: nothing maps the BAR through patdev from here
 * on, whatever its next owner makes of it. Drops the name's reference.
 */
void patdev_bar_obj_gone(struct patdev_obj *obj)
{
	struct patdev_bar *b = to_bar(obj);

	mutex_lock(&obj->mode_lock);
	patdev_space_forget(obj);
	patdev_obj_revoke(obj, false);
	down_write(&obj->revoke_lock);
	if (b->reservation)
		iounmap(b->reservation);
	b->reservation = NULL;
	up_write(&obj->revoke_lock);
	mutex_unlock(&obj->mode_lock);
	patdev_obj_put(obj);
}
