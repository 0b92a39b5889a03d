// SPDX-License-Identifier: GPL-2.0
/*
 * An object's pages mapped for a device's DMA: NetBSD's bus_dmamap_load()
 * of memory patdev owns, for the importers of its dma-bufs
 * (patdev_export.c) and for the devices bound to it (patdev_busdma.c).
 *
 * The one rule both keep: a device gets the addresses of the object's own
 * pages, or of an IOMMU's translation of them, never of a bounce buffer.
 * A bounce buffer would take the device's writes where no mapping of the
 * object sees them, and its copies would ignore the object's mode; so
 * where dma-direct would bounce, the mapping is refused (EREMOTEIO).
 */
#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/scatterlist.h>
#include <linux/swiotlb.h>
#include "compat.h"
#include "patdev.h"

/*
 * The pages from @idx on that one segment for @dev may hold: the
 * physical run there, no longer than the device's maximum segment, not
 * across its segment boundary (of bus addresses: dma-direct's are the
 * pages' own; an IOMMU keeps to the boundary itself, so splitting there
 * too costs nothing), not past the object's end. The device takes whole
 * pages (patdev_dma_map_obj() checked).
 */
static pgoff_t patdev_dma_seg(struct patdev_obj *obj, struct device *dev, pgoff_t idx,
			      unsigned long *pfn)
{
	unsigned long boundary = dma_get_seg_boundary(dev), run;
	pgoff_t max_run = dma_get_max_seg_size(dev) >> PAGE_SHIFT;
	dma_addr_t bus;

	if (patdev_obj_run(obj, idx, pfn, &run))
		return 0;
	run = min3(run, max_run, obj->npages - idx);
	bus = phys_to_dma(dev, PFN_PHYS(*pfn));
	/* Up to the boundary's next multiple: @boundary + 1 is a power of two. */
	if (boundary != ULONG_MAX)
		run = min_t(unsigned long, run, ((bus | boundary) - bus + 1) >> PAGE_SHIFT);
	return run;
}

/* A table of the object's pages, in segments @dev takes as they are. */
static int patdev_dma_table(struct patdev_obj *obj, struct device *dev, struct sg_table *sgt)
{
	unsigned long pfn, nents = 0;
	struct scatterlist *sg;
	pgoff_t idx, run;
	int ret;

	for (idx = 0; idx < obj->npages; idx += run) {
		run = patdev_dma_seg(obj, dev, idx, &pfn);
		if (!run)
			return -EFAULT;
		nents++;
	}
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret)
		return ret;
	sg = sgt->sgl;
	for (idx = 0; idx < obj->npages; idx += run, sg = sg_next(sg)) {
		run = patdev_dma_seg(obj, dev, idx, &pfn);
		sg_set_page(sg, pfn_to_page(pfn), run << PAGE_SHIFT, 0);
		cond_resched();
	}
	return 0;
}

/* Does @dev translate its DMA through an IOMMU's DMA domain? */
static bool patdev_dma_translated(struct device *dev)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	return domain && iommu_is_dma_domain(domain);
}

/*
 * Without an IOMMU, can @dev reach every page directly? dma-direct would
 * bounce what lies past its DMA mask or its bus's limit through swiotlb
 * (or fail, or warn, where swiotlb is off), and everything under
 * swiotlb=force: refused before anything is mapped.
 */
static bool patdev_dma_reachable(struct device *dev, struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned int i;
	u64 limit;

	if (!dev->dma_mask || is_swiotlb_force_bounce(dev))
		return false;
	limit = min_not_zero(*dev->dma_mask, dev->bus_dma_limit);
	for_each_sgtable_sg(sgt, sg, i)
		if (phys_to_dma(dev, sg_phys(sg) + sg->length - 1) > limit)
			return false;
	return true;
}

/*
 * Did dma-direct map the pages themselves? It maps each segment as it is,
 * to the page's own bus address, unless it bounced it (memory encryption
 * bounces what patdev_dma_reachable() cannot see coming): any other
 * address is a bounce.
 */
static bool patdev_dma_unbounced(struct device *dev, struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned int i;

	if (sgt->nents != sgt->orig_nents)
		return false;
	for_each_sgtable_sg(sgt, sg, i)
		if (sg_dma_address(sg) != phys_to_dma(dev, sg_phys(sg)) ||
		    sg_dma_len(sg) != sg->length)
			return false;
	return true;
}

/**
 * patdev_dma_map_obj() - map every page of @obj for @dev's DMA
 * @obj: a RAM object, which the caller keeps from changing mode or being
 *	revoked (patdev_obj_pin()) for as long as the mapping lasts
 * @dev: the device
 * @dir: the direction of the device's transfers
 * @sgt: the table to fill; patdev_dma_unmap_obj() frees it
 *
 * The segments are whole pages, in the object's order. Behind an IOMMU's
 * DMA domain the addresses are the IOMMU's; otherwise they are the pages'
 * bus addresses, which the device must reach as they are.
 *
 * Return: 0; -EINVAL if @dev's segments cannot hold a whole page,
 * -EREMOTEIO if the pages would be bounced, -EFAULT if @obj has no memory,
 * -ENOMEM, or what dma_map_sgtable() answers.
 */
int patdev_dma_map_obj(struct patdev_obj *obj, struct device *dev, enum dma_data_direction dir,
		       struct sg_table *sgt)
{
	bool direct;
	int ret;

	/* A device whose segments cannot hold a whole page takes none of ours. */
	if (dma_get_max_seg_size(dev) < PAGE_SIZE || dma_get_seg_boundary(dev) < PAGE_SIZE - 1)
		return -EINVAL;
	ret = patdev_dma_table(obj, dev, sgt);
	if (ret)
		return ret;
	direct = !patdev_dma_translated(dev);
	ret = -EREMOTEIO;
	if (direct && !patdev_dma_reachable(dev, sgt))
		goto err_table;
	ret = dma_map_sgtable(dev, sgt, dir, DMA_ATTR_NO_WARN);
	if (ret)
		goto err_table;
	if (direct && !patdev_dma_unbounced(dev, sgt)) {
		/* A bounce buffer holds nothing to copy back. */
		dma_unmap_sgtable(dev, sgt, dir, DMA_ATTR_SKIP_CPU_SYNC);
		ret = -EREMOTEIO;
		goto err_table;
	}
	return 0;
err_table:
	sg_free_table(sgt);
	return ret;
}

void patdev_dma_unmap_obj(struct device *dev, struct sg_table *sgt, enum dma_data_direction dir)
{
	dma_unmap_sgtable(dev, sgt, dir, 0);
	sg_free_table(sgt);
}

/**
 * patdev_dma_obj_lookup() - the RAM object a call through @file hands to devices
 * @file: the open device file making the call (an export, a DMA mapping)
 * @offset: the object, as patdev_obj_lookup_whole() names it
 * @write: devices will write it
 *
 * A device's mappings pin the object against its creator's mode changes
 * and revocations: a created object is its creator's to hand out, as it
 * is its creator's to change. Device memory is not handed out.
 *
 * Return: a new reference; an ERR_PTR of what patdev_obj_lookup_whole()
 * answers, or -EOPNOTSUPP (device memory), -EPERM or -ENXIO
 * (patdev_space_owner_check()), -ENXIO (revoked), -EACCES (@write to a
 * read-only object, or through a file not opened for writing, as an mmap
 * for PROT_WRITE would answer).
 */
struct patdev_obj *patdev_dma_obj_lookup(struct file *file, u64 offset, bool write)
{
	struct patdev_obj *obj = patdev_obj_lookup_whole(offset);
	int ret;

	if (IS_ERR(obj))
		return obj;
	ret = -EOPNOTSUPP;
	if (obj->mmio)
		goto err;
	if (obj->created) {
		ret = patdev_space_owner_check(file->private_data, obj);
		if (ret)
			goto err;
	}
	ret = -ENXIO;
	if (READ_ONCE(obj->revoked))
		goto err;
	ret = -EACCES;
	if (write && (obj->readonly || !(file->f_mode & FMODE_WRITE)))
		goto err;
	return obj;
err:
	patdev_obj_put(obj);
	return ERR_PTR(ret);
}
