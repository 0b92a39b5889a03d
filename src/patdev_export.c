// SPDX-License-Identifier: GPL-2.0
/*
 * RAM objects as dma-bufs (PATDEV_IOC_EXPORT): FreeBSD's "DMA from this
 * region" and NetBSD's bus_dmamem_mmap(), the Linux way. Other drivers
 * and their devices take DMA buffers as dma-bufs; the exporters people use
 * (udmabuf, the system heap) hand out write-back memory. Here every alias
 * of the memory keeps the object's mode:
 *
 * - an mmap of the dma-buf is a patdev mapping (patdev_mmap_obj()): its
 *   file maps through the offset space's address_space, so revocations,
 *   mode changes and modified/referenced clears reach its entries too;
 * - an importer's kernel mapping is a vmap() in the object's mode;
 * - an importer's DMA mapping holds the object's own pages: a mapping the
 *   DMA layer had to bounce is refused, never handed out.
 *
 * The kernel and DMA mappings are outside patdev's page tables, where no
 * zap reaches: while one exists the object is pinned (patdev_obj_pin()),
 * and a mode change or a revocation fails with EBUSY instead of leaving an
 * alias of the old mode or of a revoked object behind. Static importers
 * keep their mappings for as long as they like, so no move_notify is
 * offered: refusing is the only promise that holds for all of them.
 */
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include "compat.h"
#include "patdev.h"
#include "patdev_enum_names.h"

/*
 * MODULE_IMPORT_NS(DMA_BUF) before 6.13, MODULE_IMPORT_NS("DMA_BUF") since:
 * both are this modinfo line, which every release reads alike.
 */
MODULE_INFO(import_ns, "DMA_BUF");

/**
 * struct patdev_dmabuf - one export of an object
 * @obj: the object; the dma-buf holds a reference until it is released
 * @writable: may be mapped for writing
 * @dmabuf: the dma-buf
 * @link: in patdev_exports (exports_lock)
 * @lock: protects @mapped and @vaddr
 * @mapped: the importers' DMA mappings (&struct patdev_dmamap), for the
 *	CPU-access syncs of a WB object
 * @vaddr: the kernel mapping the importers share, or NULL
 */
struct patdev_dmabuf {
	struct patdev_obj *obj;
	bool writable;
	struct dma_buf *dmabuf;
	struct list_head link;
	struct mutex lock;	/* @mapped, @vaddr */
	struct list_head mapped;
	void *vaddr;
};

/* One DMA mapping of an attachment. */
struct patdev_dmamap {
	struct sg_table sgt;
	struct list_head link;
	struct device *dev;
	enum dma_data_direction dir;
};

/* Every live export, for debugfs. */
static LIST_HEAD(patdev_exports);
static DEFINE_MUTEX(exports_lock);

/*
 * An importer's DMA mapping: of the object's own pages, never of a bounce
 * buffer (patdev_dma_map_obj()), and only towards the device for a
 * read-only export (EACCES).
 */
static struct sg_table *patdev_export_map(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct patdev_dmabuf *pd = attach->dmabuf->priv;
	struct device *dev = attach->dev;
	struct patdev_dmamap *m;
	int ret;

	if (!pd->writable && dir != DMA_TO_DEVICE)
		return ERR_PTR(-EACCES);
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->dev = dev;
	m->dir = dir;
	ret = patdev_obj_pin(pd->obj, false);
	if (ret)
		goto err_free;
	ret = patdev_dma_map_obj(pd->obj, dev, dir, &m->sgt);
	if (ret)
		goto err_unpin;
	mutex_lock(&pd->lock);
	list_add(&m->link, &pd->mapped);
	mutex_unlock(&pd->lock);
	return &m->sgt;
err_unpin:
	patdev_obj_unpin(pd->obj);
err_free:
	kfree(m);
	return ERR_PTR(ret);
}

static void patdev_export_unmap(struct dma_buf_attachment *attach, struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct patdev_dmabuf *pd = attach->dmabuf->priv;
	struct patdev_dmamap *m = container_of(sgt, struct patdev_dmamap, sgt);

	mutex_lock(&pd->lock);
	list_del(&m->link);
	mutex_unlock(&pd->lock);
	patdev_dma_unmap_obj(attach->dev, sgt, dir);
	kfree(m);
	patdev_obj_unpin(pd->obj);
}

/*
 * DMA_BUF_IOCTL_SYNC and importers' CPU accesses. A WB object lives in
 * the CPU's caches: the mapped attachments are synced, as the DMA API
 * asks (nothing on x86's coherent DMA, cache maintenance elsewhere). WC
 * and UC- memory is not cached: before a device reads, a WC writer's
 * write-combining buffers are drained; UC- writes are done in order.
 */
static int patdev_export_begin_cpu(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	struct patdev_dmabuf *pd = dmabuf->priv;
	struct patdev_dmamap *m;

	if (READ_ONCE(pd->obj->cache) != PATDEV_CACHE_WB)
		return 0;
	mutex_lock(&pd->lock);
	list_for_each_entry(m, &pd->mapped, link)
		dma_sync_sgtable_for_cpu(m->dev, &m->sgt, m->dir);
	mutex_unlock(&pd->lock);
	return 0;
}

static int patdev_export_end_cpu(struct dma_buf *dmabuf, enum dma_data_direction dir)
{
	struct patdev_dmabuf *pd = dmabuf->priv;
	struct patdev_dmamap *m;

	switch (READ_ONCE(pd->obj->cache)) {
	case PATDEV_CACHE_WB:
		mutex_lock(&pd->lock);
		list_for_each_entry(m, &pd->mapped, link)
			dma_sync_sgtable_for_device(m->dev, &m->sgt, m->dir);
		mutex_unlock(&pd->lock);
		break;
	case PATDEV_CACHE_WC:
		wmb();	/* drains this CPU's write-combining buffers */
		break;
	default:
		break;
	}
	return 0;
}

static int patdev_export_mmap(struct dma_buf *dmabuf, struct vm_area_struct *vma)
{
	struct patdev_dmabuf *pd = dmabuf->priv;
	struct patdev_obj *obj = pd->obj;

	if (READ_ONCE(obj->revoked))
		return -ENXIO;
	/* The dma-buf core checked the range against the buffer's size. */
	vma->vm_pgoff += obj->base;
	return patdev_mmap_obj(vma, patdev_obj_get(obj), !pd->writable, 0);
}

/*
 * The importers' kernel mapping, in the object's mode (the pages' memtype
 * is that mode already: patdev_range_set_memtype()). The core makes one
 * for all its users and counts them. The core takes a failed ->vmap for a
 * bug (a warning), so this fails only where the kernel cannot map, and
 * maps a revoked object too: the dma-buf still holds its memory. A
 * read-only export has no ->vmap at all (patdev_dmabuf_ro_ops), which the
 * core answers quietly: importers take a kernel mapping as writable.
 */
static int patdev_export_vmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct patdev_dmabuf *pd = dmabuf->priv;
	struct patdev_obj *obj = pd->obj;
	unsigned long pfn, run;
	struct page **pages;
	void *vaddr = NULL;
	pgoff_t idx, i;
	int ret;

	pages = kvmalloc_array(obj->npages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	/* RAM objects always answer: the core would warn on a failure here. */
	for (idx = 0; idx < obj->npages; idx += run) {
		ret = patdev_obj_run(obj, idx, &pfn, &run);
		if (ret)
			goto out;
		run = min(run, obj->npages - idx);
		for (i = 0; i < run; i++)
			pages[idx + i] = pfn_to_page(pfn + i);
	}
	/* The mode cannot change while pinned: the mapping keeps it. */
	patdev_obj_pin(obj, true);
	vaddr = vmap(pages, obj->npages, VM_MAP, patdev_obj_pgprot(obj, PAGE_KERNEL));
	if (!vaddr) {
		patdev_obj_unpin(obj);
		ret = -ENOMEM;
		goto out;
	}
	mutex_lock(&pd->lock);
	pd->vaddr = vaddr;
	mutex_unlock(&pd->lock);
	iosys_map_set_vaddr(map, vaddr);
out:
	kvfree(pages);
	return ret;
}

static void patdev_export_vunmap(struct dma_buf *dmabuf, struct iosys_map *map)
{
	struct patdev_dmabuf *pd = dmabuf->priv;

	mutex_lock(&pd->lock);
	pd->vaddr = NULL;
	mutex_unlock(&pd->lock);
	vunmap(map->vaddr);
	patdev_obj_unpin(pd->obj);
}

static void patdev_export_release(struct dma_buf *dmabuf)
{
	struct patdev_dmabuf *pd = dmabuf->priv;

	mutex_lock(&exports_lock);
	list_del(&pd->link);
	mutex_unlock(&exports_lock);
	patdev_obj_put(pd->obj);
	mutex_destroy(&pd->lock);
	kfree(pd);
}

/* What every export offers; a writable one adds the kernel mapping. */
#define PATDEV_DMABUF_COMMON_OPS					\
	.map_dma_buf = patdev_export_map,				\
	.unmap_dma_buf = patdev_export_unmap,				\
	.release = patdev_export_release,				\
	.begin_cpu_access = patdev_export_begin_cpu,			\
	.end_cpu_access = patdev_export_end_cpu,			\
	.mmap = patdev_export_mmap

static const struct dma_buf_ops patdev_dmabuf_ops = {
	PATDEV_DMABUF_COMMON_OPS,
	.vmap = patdev_export_vmap,
	.vunmap = patdev_export_vunmap,
};

/* A read-only export: no kernel mapping (dma_buf_vmap() answers EINVAL). */
static const struct dma_buf_ops patdev_dmabuf_ro_ops = {
	PATDEV_DMABUF_COMMON_OPS,
};

long patdev_ioctl_export(struct file *file, void __user *arg)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct patdev_dmabuf *pd;
	struct patdev_export e;
	struct patdev_obj *obj;
	bool write;
	int fd, ret;

	if (copy_from_user(&e, arg, sizeof(e)))
		return -EFAULT;
	if (e.reserved || (e.flags & ~PATDEV_EXPORT_WRITE))
		return -EINVAL;
	write = e.flags & PATDEV_EXPORT_WRITE;
	obj = patdev_dma_obj_lookup(file, e.offset, write);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	ret = -ENOMEM;
	pd = kzalloc(sizeof(*pd), GFP_KERNEL);
	if (!pd)
		goto err_put;
	pd->obj = obj;
	pd->writable = write;
	mutex_init(&pd->lock);
	INIT_LIST_HEAD(&pd->mapped);
	info.exp_name = KBUILD_MODNAME;
	info.owner = THIS_MODULE;
	info.ops = write ? &patdev_dmabuf_ops : &patdev_dmabuf_ro_ops;
	info.size = (size_t)obj->npages << PAGE_SHIFT;
	info.flags = write ? O_RDWR : O_RDONLY;
	info.priv = pd;
	pd->dmabuf = dma_buf_export(&info);
	if (IS_ERR(pd->dmabuf)) {
		ret = PTR_ERR(pd->dmabuf);
		mutex_destroy(&pd->lock);
		kfree(pd);
		goto err_put;
	}
	/* From here on the dma-buf's release frees @pd and drops @obj. */
	mutex_lock(&exports_lock);
	list_add_tail(&pd->link, &patdev_exports);
	mutex_unlock(&exports_lock);
	/* Its mmaps link where the object's zaps find them. */
	patdev_space_open(pd->dmabuf->file);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		dma_buf_put(pd->dmabuf);
		return fd;
	}
	e.fd = fd;
	if (copy_to_user(arg, &e, sizeof(e))) {
		put_unused_fd(fd);
		dma_buf_put(pd->dmabuf);
		return -EFAULT;
	}
	/* The dma-buf's own reference to its file goes to the descriptor. */
	fd_install(fd, pd->dmabuf->file);
	return 0;
err_put:
	patdev_obj_put(obj);
	return ret;
}

/*
 * The debugfs listing of exports, for the importer tests: what the
 * importers hold, and the mode of the kernel mapping they share, read
 * from the kernel's page table page by page (one mode for all, or
 * "mixed").
 */
void patdev_export_show(struct seq_file *m)
{
	struct patdev_dmabuf *pd;
	struct patdev_dmamap *dm;

	mutex_lock(&exports_lock);
	list_for_each_entry(pd, &patdev_exports, link) {
		const char *vmap = "none";
		unsigned int ndma = 0;
		pgoff_t i;

		mutex_lock(&pd->lock);
		list_for_each_entry(dm, &pd->mapped, link)
			ndma++;
		if (pd->vaddr) {
			unsigned long va = (unsigned long)pd->vaddr;
			enum patdev_cache c = patdev_kernel_cache(va);

			vmap = patdev_cache_names[c];
			for (i = 1; i < pd->obj->npages; i++) {
				if (patdev_kernel_cache(va + (i << PAGE_SHIFT)) != c)
					vmap = "mixed";
				cond_resched();
			}
		}
		seq_printf(m, "pgoff %lu: %s pages %lu cache %s %s dma_maps %u vmap %s\n",
			   pd->obj->base, patdev_kind_names[pd->obj->kind], pd->obj->npages,
			   patdev_cache_names[READ_ONCE(pd->obj->cache)],
			   pd->writable ? "rw" : "ro", ndma, vmap);
		mutex_unlock(&pd->lock);
	}
	mutex_unlock(&exports_lock);
}
