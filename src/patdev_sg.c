// SPDX-License-Identifier: GPL-2.0
/*
 * The scatter/gather object behind mmap offset PAGE_SIZE: FreeBSD's OBJT_SG
 * pager, an object whose page i is wherever byte i * PAGE_SIZE of an
 * sglist lies. The module builds the list at load time from RAM chunks of
 * different orders it allocates itself, so the object really is scattered,
 * and marks them uncached. x86 cannot make RAM strong UC (PAT turns it into
 * UC-), so the object's mode is UC-: what its mappings really get.
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pfn.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include "patdev.h"
#include "patdev_sglist.h"

static bool sg_readonly;
module_param(sg_readonly, bool, 0444);
MODULE_PARM_DESC(sg_readonly, "Refuse writable mappings of the scatter/gather object (default N)");

struct patdev_sg {
	struct patdev_obj obj;
	struct patdev_sglist *sg;
	void (*release)(void *data);
	void *data;
};

/* Chunk orders of the default object: 1 + 4 + 2 + 8 + 1 = 16 pages. */
static const unsigned int sg_orders[] = { 0, 2, 1, 3, 0 };

static struct patdev_obj *sg_obj;
static struct page **sg_pages;
static unsigned long sg_npages;

static struct patdev_sg *to_sg(struct patdev_obj *obj)
{
	return container_of(obj, struct patdev_sg, obj);
}

static int patdev_sg_pfn(struct patdev_obj *obj, pgoff_t idx, unsigned long *pfn)
{
	phys_addr_t paddr;

	/* idx < npages, the list's length: a miss would be a corrupt list. */
	if (WARN_ON_ONCE(patdev_sglist_lookup(to_sg(obj)->sg, (u64)idx << PAGE_SHIFT, &paddr)))
		return -EFAULT;
	*pfn = PHYS_PFN(paddr);
	return 0;
}

static unsigned int patdev_sg_nsegs(struct patdev_obj *obj)
{
	return patdev_sglist_count(to_sg(obj)->sg);
}

static void patdev_sg_show(struct patdev_obj *obj, struct seq_file *m)
{
	const struct patdev_sglist *sg = to_sg(obj)->sg;
	unsigned int i;

	for (i = 0; i < sg->nseg; i++)
		seq_printf(m, "  seg %u off 0x%llx paddr 0x%llx len 0x%llx\n", i,
			   sg->seg[i].off, (u64)sg->seg[i].paddr, sg->seg[i].len);
}

static void patdev_sg_release(struct patdev_obj *obj)
{
	struct patdev_sg *sgo = to_sg(obj);

	patdev_sglist_free(sgo->sg);
	if (sgo->release)
		sgo->release(sgo->data);
	kfree(sgo);
}

static const struct patdev_obj_ops patdev_sg_ops = {
	.pfn = patdev_sg_pfn,
	.release = patdev_sg_release,
	.nsegs = patdev_sg_nsegs,
	.show = patdev_sg_show,
};

/**
 * patdev_sg_obj_create() - an OBJT_SG object over a list
 * @sg: the list; the object takes a reference
 * @cache: the object's cache mode, already the memtype of any RAM in @sg
 * @release: called with @data when the object is freed, or NULL
 * @data: for @release
 *
 * Return: the object, or ERR_PTR(-ENOMEM) (then @release is not called).
 */
struct patdev_obj *patdev_sg_obj_create(struct patdev_sglist *sg, enum patdev_cache cache,
					void (*release)(void *data), void *data)
{
	struct patdev_sg *sgo = kzalloc(sizeof(*sgo), GFP_KERNEL);

	if (!sgo)
		return ERR_PTR(-ENOMEM);
	sgo->sg = patdev_sglist_hold(sg);
	sgo->release = release;
	sgo->data = data;
	patdev_obj_init(&sgo->obj, PATDEV_OBJ_SG, cache,
			patdev_sglist_length(sg) >> PAGE_SHIFT, &patdev_sg_ops);
	return &sgo->obj;
}

/* Allocates the chunks and lists them, page by page, in sg_pages. */
static struct patdev_sglist *patdev_sg_build(void)
{
	struct patdev_sglist *sg;
	unsigned long n = 0;
	unsigned int i, j;
	struct page *p;

	for (i = 0; i < ARRAY_SIZE(sg_orders); i++)
		n += 1UL << sg_orders[i];
	sg_pages = kcalloc(n, sizeof(*sg_pages), GFP_KERNEL);
	sg = patdev_sglist_alloc(ARRAY_SIZE(sg_orders), GFP_KERNEL);
	if (!sg_pages || !sg)
		goto err;
	for (i = 0; i < ARRAY_SIZE(sg_orders); i++) {
		p = patdev_alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN, sg_orders[i]);
		if (!p)
			goto err;
		/* Split so that every page can be freed on its own. */
		split_page(p, sg_orders[i]);
		for (j = 0; j < 1U << sg_orders[i]; j++)
			sg_pages[sg_npages++] = p + j;
		/* Adjacent chunks merge into one segment, as sglist(9) does. */
		if (patdev_sglist_append_phys(sg, PFN_PHYS(page_to_pfn(p)),
					      PAGE_SIZE << sg_orders[i]))
			goto err;
	}
	return sg;
err:
	patdev_pages_free(sg_pages, sg_npages, PATDEV_CACHE_WB);
	patdev_sglist_free(sg);
	kfree(sg_pages);
	sg_pages = NULL;
	sg_npages = 0;
	return NULL;
}

int patdev_sg_init(void)
{
	struct patdev_sglist *sg = patdev_sg_build();
	int ret;

	if (!sg)
		return -ENOMEM;
	ret = patdev_pages_set_memtype(sg_pages, sg_npages, PATDEV_CACHE_UC_MINUS);
	if (ret)
		goto err;
	sg_obj = patdev_sg_obj_create(sg, PATDEV_CACHE_UC_MINUS, NULL, NULL);
	/* The object holds the list now, or nothing does on failure. */
	patdev_sglist_free(sg);
	if (IS_ERR(sg_obj)) {
		ret = PTR_ERR(sg_obj);
		sg_obj = NULL;
		patdev_pages_free(sg_pages, sg_npages, PATDEV_CACHE_UC_MINUS);
		goto out;
	}
	sg_obj->readonly = sg_readonly;
	return 0;
err:
	patdev_sglist_free(sg);
	patdev_pages_free(sg_pages, sg_npages, PATDEV_CACHE_WB);
out:
	kfree(sg_pages);
	sg_pages = NULL;
	return ret;
}

struct patdev_obj *patdev_sg_get(void)
{
	return patdev_obj_get(sg_obj);
}

void patdev_sg_exit(void)
{
	/* No mapping can exist here: each holds the file, hence the module. */
	patdev_obj_put(sg_obj);
	patdev_pages_free(sg_pages, sg_npages, PATDEV_CACHE_UC_MINUS);
	kfree(sg_pages);
}
