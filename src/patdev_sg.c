// SPDX-License-Identifier: GPL-2.0
/*
 * FreeBSD's OBJT_SG pager: an object whose page i is wherever byte
 * i * PAGE_SIZE of an sglist lies. Every RAM object is one (patdev_ram.c
 * lists its chunks). The one behind mmap offset PAGE_SIZE is built at load
 * time from chunks of different orders, so that it really is scattered,
 * and uncached. x86 cannot make RAM strong UC (PAT turns it into UC-), so
 * its mode is UC-: what its mappings really get.
 *
 * With sg_source=lapic it is the FreeBSD demo's object instead: one
 * segment covering the local APIC page, read-only and strongly uncached
 * (the module holds a UC memtype reservation for the page while the object
 * lives), mapped only by callers /dev/mem would let in.
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <asm/apicdef.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <linux/pfn.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include "patdev.h"
#include "patdev_sglist.h"

static char *sg_source = "ram";
module_param(sg_source, charp, 0444);
MODULE_PARM_DESC(sg_source,
		 "What the object at offset PAGE_SIZE covers: ram (default, module-owned RAM, UC-) or lapic (the local APIC page: read-only, strong UC, CAP_SYS_RAWIO to map)");

static bool sg_readonly;
module_param(sg_readonly, bool, 0444);
MODULE_PARM_DESC(sg_readonly, "Refuse writable mappings of the scatter/gather object (default N)");

struct patdev_sg {
	struct patdev_obj obj;
	struct patdev_sglist *sg;
	const struct patdev_backing *backing;
	void *data;
};

/* Chunk orders of the default object: 1 + 4 + 2 + 8 + 1 = 16 pages. */
static const u8 sg_orders[] = { 0, 2, 1, 3, 0 };

static struct patdev_obj *sg_obj;

static struct patdev_sg *to_sg(struct patdev_obj *obj)
{
	return container_of(obj, struct patdev_sg, obj);
}

static int patdev_sg_pfn(struct patdev_obj *obj, pgoff_t idx, unsigned long *pfn,
			 unsigned long *run)
{
	phys_addr_t paddr;
	u64 left;

	/* idx < npages, the list's length: a miss would be a corrupt list. */
	if (WARN_ON_ONCE(patdev_sglist_lookup(to_sg(obj)->sg, (u64)idx << PAGE_SHIFT,
					      &paddr, &left)))
		return -EFAULT;
	*pfn = PHYS_PFN(paddr);
	*run = left >> PAGE_SHIFT;
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
	sgo->backing->release(sgo->data);
	kfree(sgo);
}

static int patdev_sg_set_cache(struct patdev_obj *obj, enum patdev_cache *cache)
{
	struct patdev_sg *sgo = to_sg(obj);

	return sgo->backing->set_cache(sgo->data, cache);
}

static bool patdev_sg_cache_ok(struct patdev_obj *obj, enum patdev_cache cache)
{
	return to_sg(obj)->backing->cache_ok(cache);
}

/* Over memory whose type can change (RAM) */
static const struct patdev_obj_ops patdev_sg_ops = {
	.pfn = patdev_sg_pfn,
	.release = patdev_sg_release,
	.nsegs = patdev_sg_nsegs,
	.show = patdev_sg_show,
	.set_cache = patdev_sg_set_cache,
	.cache_ok = patdev_sg_cache_ok,
};

/* Over memory of a fixed type (the local APIC page) */
static const struct patdev_obj_ops patdev_sg_fixed_ops = {
	.pfn = patdev_sg_pfn,
	.release = patdev_sg_release,
	.nsegs = patdev_sg_nsegs,
	.show = patdev_sg_show,
};

/**
 * patdev_sg_obj_create() - an OBJT_SG object over a list
 * @kind: what the object reports itself as
 * @sg: the list; the object takes a reference
 * @cache: the object's cache mode, already the memtype of any RAM in @sg
 * @backing: the owner of the memory
 * @data: for @backing's calls
 *
 * Return: the object, or ERR_PTR(-ENOMEM) (then @backing->release is not
 * called).
 */
struct patdev_obj *patdev_sg_obj_create(enum patdev_obj_kind kind, struct patdev_sglist *sg,
					enum patdev_cache cache,
					const struct patdev_backing *backing, void *data)
{
	struct patdev_sg *sgo = kzalloc(sizeof(*sgo), GFP_KERNEL);

	if (!sgo)
		return ERR_PTR(-ENOMEM);
	sgo->sg = patdev_sglist_hold(sg);
	sgo->backing = backing;
	sgo->data = data;
	patdev_obj_init(&sgo->obj, kind, cache, patdev_sglist_length(sg) >> PAGE_SHIFT,
			backing->set_cache ? &patdev_sg_ops : &patdev_sg_fixed_ops);
	return &sgo->obj;
}

/* Drops the strong-UC reservation once the last mapping of the page is gone. */
static void patdev_lapic_release(void *data)
{
	iounmap((void __iomem __force *)data);
}

/* Device memory under a strong-UC reservation: its type never changes. */
static const struct patdev_backing patdev_lapic_backing = {
	.release = patdev_lapic_release,
};

/*
 * The local APIC page, if it has one: in x2APIC mode the APIC is reached
 * through MSRs only, and the offset then names nothing (ENXIO), as when
 * there is no enabled APIC at all. The load succeeds either way and says
 * which in the log.
 */
static int patdev_sg_init_lapic(void)
{
	struct patdev_sglist *sg;
	void __iomem *reserved;
	phys_addr_t paddr;
	u32 lo, hi;
	int ret;

	if (!boot_cpu_has(X86_FEATURE_APIC) || rdmsr_safe(MSR_IA32_APICBASE, &lo, &hi) ||
	    !(lo & MSR_IA32_APICBASE_ENABLE)) {
		pr_notice("patdev: no enabled local APIC: offset PAGE_SIZE names nothing\n");
		return 0;
	}
	if (lo & X2APIC_ENABLE) {
		pr_notice("patdev: the local APIC is in x2APIC mode and has no MMIO page: offset PAGE_SIZE names nothing\n");
		return 0;
	}
	paddr = ((u64)hi << 32 | lo) & MSR_IA32_APICBASE_BASE;
	/* Held for the object's life: user entries of the page come out UC, not UC-. */
	reserved = ioremap_uc(paddr, PAGE_SIZE);
	if (!reserved)
		return -EBUSY;
	sg = patdev_sglist_alloc(1, GFP_KERNEL);
	ret = sg ? patdev_sglist_append_phys(sg, paddr, PAGE_SIZE) : -ENOMEM;
	if (ret) {
		patdev_sglist_free(sg);
		iounmap(reserved);
		return ret;
	}
	sg_obj = patdev_sg_obj_create(PATDEV_OBJ_SG, sg, PATDEV_CACHE_UC, &patdev_lapic_backing,
				      (void __force *)reserved);
	patdev_sglist_free(sg);
	if (IS_ERR(sg_obj)) {
		iounmap(reserved);
		ret = PTR_ERR(sg_obj);
		sg_obj = NULL;
		return ret;
	}
	sg_obj->mmio = true;
	sg_obj->readonly = true;
	ret = patdev_space_add(sg_obj);
	if (ret) {
		patdev_obj_put(sg_obj);
		sg_obj = NULL;
		return ret;
	}
	patdev_space_name(sg_obj, NULL);
	pr_info("patdev: offset PAGE_SIZE maps the local APIC page at %pa, strong UC, read-only\n",
		&paddr);
	return 0;
}

/* Offset PAGE_SIZE: a new reference, or ERR_PTR(-ENXIO) when it names nothing. */
static struct patdev_obj *patdev_sg_name(pgoff_t create_npages)
{
	return sg_obj ? patdev_obj_get(sg_obj) : ERR_PTR(-ENXIO);
}

/* On failure nothing is left: patdev_sg_exit() finds no object. */
int patdev_sg_init(void)
{
	struct patdev_obj *obj;

	patdev_space_set_name(PATDEV_PGOFF_SG, patdev_sg_name);
	if (!strcmp(sg_source, "lapic"))
		return patdev_sg_init_lapic();
	if (strcmp(sg_source, "ram")) {
		pr_err("patdev: sg_source=%s: expected ram or lapic\n", sg_source);
		return -EINVAL;
	}
	obj = patdev_ram_obj_create(PATDEV_OBJ_SG, 16, PATDEV_CACHE_UC_MINUS, sg_orders,
				    ARRAY_SIZE(sg_orders), NULL, 0);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	obj->readonly = sg_readonly;
	if (READ_ONCE(patdev_track_named) && patdev_track_init(obj)) {
		patdev_obj_put(obj);
		return -ENOMEM;
	}
	patdev_space_name(obj, NULL);
	sg_obj = obj;
	return 0;
}

void patdev_sg_exit(void)
{
	patdev_space_set_name(PATDEV_PGOFF_SG, NULL);
	/* No mapping can exist here: each holds the file, hence the module. */
	patdev_obj_put(patdev_space_forget(sg_obj));
}
