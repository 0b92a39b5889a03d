// SPDX-License-Identifier: GPL-2.0
/*
 * The PCI driver: binds only devices an administrator hands it, as
 * vfio-pci and uio_pci_generic do (no ID table: sysfs driver_override,
 * then drivers_probe, or new_id), and names each of the device's memory
 * BARs of at least a page as an object (patdev_bar.c).
 *
 * The device's memory goes away on unbind and removal (->remove) and
 * changes under a reset (->reset_prepare, ->reset_done: the sysfs reset
 * file, and any other pci_reset_function() caller; ->error_detected,
 * ->slot_reset: the reset of AER or DPC recovery): each revokes every
 * entry of every BAR object. A reset is not undone for the old mappings:
 * what the device's memory holds after it is the device's business, and a
 * program that kept writing through a mapping across it would not know.
 * Once it is over the BARs get new objects, under new offsets, which sysfs
 * tells.
 *
 * A bound device may do DMA into RAM objects mapped for it
 * (patdev_busdma.c), named by the offset of any of its BARs; its mappings
 * survive a reset, after which bus mastering is set to match them.
 *
 * A program finds a BAR's offset in sysfs, under the device:
 * patdev/barN_offset. Mappings keep the device file, hence the module:
 * the module cannot go while a BAR is mapped, and unloading it unbinds
 * the devices first.
 */
#include <linux/device.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include "patdev.h"

/**
 * struct patdev_pci - a bound device
 * @lock: protects @bars; not the device lock, which unbinding holds while
 *	it waits for the sysfs readers of @bars to finish
 * @bars: the objects of its memory BARs, NULL for the others
 * @requested: the BARs whose regions probe requested, to release
 * @dma: its DMA state (patdev_busdma.c)
 * @saved: its configuration at probe, for AER recovery to restore
 */
struct patdev_pci {
	struct mutex lock;	/* protects @bars */
	struct patdev_obj *bars[PCI_STD_NUM_BARS];
	int requested;
	struct patdev_busdma *dma;
	struct pci_saved_state *saved;
};

/* A BAR that can be an object: memory, assigned, page-aligned, a page at least. */
static bool patdev_pci_bar_ok(struct pci_dev *pdev, int bar)
{
	unsigned long flags = pci_resource_flags(pdev, bar);

	return (flags & IORESOURCE_MEM) && !(flags & IORESOURCE_UNSET) &&
	       pci_resource_start(pdev, bar) && PAGE_ALIGNED(pci_resource_start(pdev, bar)) &&
	       pci_resource_len(pdev, bar) >= PAGE_SIZE &&
	       PAGE_ALIGNED(pci_resource_len(pdev, bar));
}

/* Revokes and forgets every BAR object: nothing maps the device afterwards. */
static void patdev_pci_drop_objects(struct patdev_pci *p)
{
	int bar;

	mutex_lock(&p->lock);
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (p->bars[bar])
			patdev_bar_obj_gone(p->bars[bar]);
		p->bars[bar] = NULL;
	}
	mutex_unlock(&p->lock);
}

/* The memory BARs that can be objects: the ones requested, too. */
static int patdev_pci_bars(struct pci_dev *pdev)
{
	int bar, bars = 0;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++)
		if (patdev_pci_bar_ok(pdev, bar))
			bars |= BIT(bar);
	return bars;
}

static int patdev_pci_make_objects(struct pci_dev *pdev, struct patdev_pci *p)
{
	struct patdev_obj *obj;
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (!patdev_pci_bar_ok(pdev, bar))
			continue;
		obj = patdev_bar_obj_create(pdev, bar, p->dma);
		if (IS_ERR(obj)) {
			pci_err(pdev, "patdev: BAR %d: no object (%pe)\n", bar, obj);
			patdev_pci_drop_objects(p);
			return PTR_ERR(obj);
		}
		mutex_lock(&p->lock);
		p->bars[bar] = obj;
		mutex_unlock(&p->lock);
	}
	return 0;
}

static int patdev_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct patdev_pci *p;
	int bars, ret;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	mutex_init(&p->lock);
	ret = pci_enable_device_mem(pdev);
	if (ret)
		goto err_free;
	/* Its BARs are the device's: nothing else may claim one meanwhile. */
	bars = patdev_pci_bars(pdev);
	ret = pci_request_selected_regions(pdev, bars, "patdev");
	if (ret)
		goto err_disable;
	p->requested = bars;
	ret = -ENOMEM;
	p->dma = patdev_busdma_bind(pdev);
	if (!p->dma)
		goto err_release;
	ret = patdev_pci_make_objects(pdev, p);
	if (ret)
		goto err_dma;
	/*
	 * What AER recovery restores after a link reset (->slot_reset): kept
	 * apart, since any restore before it (a reset, a resume) uses up the
	 * device's own saved state.
	 */
	pci_save_state(pdev);
	p->saved = pci_store_saved_state(pdev);
	pci_set_drvdata(pdev, p);
	return 0;
err_dma:
	patdev_busdma_stop(p->dma);
	patdev_busdma_unbind(p->dma);
err_release:
	pci_release_selected_regions(pdev, bars);
err_disable:
	pci_disable_device(pdev);
err_free:
	mutex_destroy(&p->lock);
	kfree(p);
	return ret;
}

static void patdev_pci_remove(struct pci_dev *pdev)
{
	struct patdev_pci *p = pci_get_drvdata(pdev);

	/*
	 * The device stops mastering the bus first; then no entry of its
	 * BARs is left, so that a reset that ends its DMA finds no user of
	 * them; then its DMA mappings go; then the regions and decoding.
	 */
	patdev_busdma_stop(p->dma);
	patdev_pci_drop_objects(p);
	patdev_busdma_unbind(p->dma);
	pci_release_selected_regions(pdev, p->requested);
	pci_disable_device(pdev);
	kfree(p->saved);
	mutex_destroy(&p->lock);
	kfree(p);
}

/* Called with the device locked, before the device's memory goes away. */
static void patdev_pci_reset_prepare(struct pci_dev *pdev)
{
	patdev_pci_drop_objects(pci_get_drvdata(pdev));
}

/*
 * The device is back (its config space restored): new objects, new
 * offsets. Any object still there goes first: a recovery may reset a
 * device whose own error_detected saw no need to (another device's vote).
 */
static void patdev_pci_reset_done(struct pci_dev *pdev)
{
	struct patdev_pci *p = pci_get_drvdata(pdev);

	patdev_pci_drop_objects(p);
	patdev_busdma_reset_done(p->dma);
	if (patdev_pci_make_objects(pdev, p))
		pci_warn(pdev, "patdev: no objects after the reset; unbind and bind again\n");
}

/*
 * AER or DPC recovery of an uncorrectable error resets the link without
 * ->reset_prepare: the device's memory is gone or about to be, so the
 * objects go now, and come back once the slot is reset.
 */
static pci_ers_result_t patdev_pci_error_detected(struct pci_dev *pdev,
						  pci_channel_state_t state)
{
	if (state == pci_channel_io_normal)
		return PCI_ERS_RESULT_CAN_RECOVER;
	patdev_pci_drop_objects(pci_get_drvdata(pdev));
	return state == pci_channel_io_perm_failure ? PCI_ERS_RESULT_DISCONNECT :
						      PCI_ERS_RESULT_NEED_RESET;
}

/*
 * The link was reset: the PCI core restores no configuration here, so the
 * BARs, decoding and bus mastering come back from the state saved at
 * probe (and then are set to match the mappings).
 */
static pci_ers_result_t patdev_pci_slot_reset(struct pci_dev *pdev)
{
	struct patdev_pci *p = pci_get_drvdata(pdev);

	if (p->saved)
		pci_load_saved_state(pdev, p->saved);
	pci_restore_state(pdev);
	patdev_pci_reset_done(pdev);
	return PCI_ERS_RESULT_RECOVERED;
}

static const struct pci_error_handlers patdev_pci_err_handlers = {
	.error_detected = patdev_pci_error_detected,
	.slot_reset = patdev_pci_slot_reset,
	.reset_prepare = patdev_pci_reset_prepare,
	.reset_done = patdev_pci_reset_done,
};

static ssize_t patdev_pci_bar_show(struct device *dev, int bar, char *buf)
{
	struct patdev_pci *p = dev_get_drvdata(dev);
	ssize_t ret = -ENXIO;

	/* The group goes before ->remove: @p outlives every reader. */
	mutex_lock(&p->lock);
	if (p->bars[bar])
		ret = sysfs_emit(buf, "0x%llx\n", (u64)p->bars[bar]->base << PAGE_SHIFT);
	mutex_unlock(&p->lock);
	return ret;
}

#define PATDEV_BAR_ATTR(n)							\
static ssize_t bar##n##_offset_show(struct device *dev,			\
				    struct device_attribute *attr, char *buf)	\
{										\
	return patdev_pci_bar_show(dev, n, buf);				\
}										\
static DEVICE_ATTR_RO(bar##n##_offset)

PATDEV_BAR_ATTR(0);
PATDEV_BAR_ATTR(1);
PATDEV_BAR_ATTR(2);
PATDEV_BAR_ATTR(3);
PATDEV_BAR_ATTR(4);
PATDEV_BAR_ATTR(5);

static struct attribute *patdev_pci_attrs[] = {
	&dev_attr_bar0_offset.attr,
	&dev_attr_bar1_offset.attr,
	&dev_attr_bar2_offset.attr,
	&dev_attr_bar3_offset.attr,
	&dev_attr_bar4_offset.attr,
	&dev_attr_bar5_offset.attr,
	NULL,
};

/* Only the BARs that are objects have a file (a reset may leave one without). */
static umode_t patdev_pci_attr_visible(struct kobject *kobj, struct attribute *attr, int n)
{
	struct pci_dev *pdev = to_pci_dev(kobj_to_dev(kobj));

	return patdev_pci_bar_ok(pdev, n) ? attr->mode : 0;
}

static const struct attribute_group patdev_pci_group = {
	.name = "patdev",
	.attrs = patdev_pci_attrs,
	.is_visible = patdev_pci_attr_visible,
};

static const struct attribute_group *patdev_pci_groups[] = {
	&patdev_pci_group,
	NULL,
};

static struct pci_driver patdev_pci_driver = {
	.name = "patdev",
	.probe = patdev_pci_probe,
	.remove = patdev_pci_remove,
	.err_handler = &patdev_pci_err_handlers,
	.dev_groups = patdev_pci_groups,
};

int patdev_pci_init(void)
{
	return pci_register_driver(&patdev_pci_driver);
}

void patdev_pci_exit(void)
{
	pci_unregister_driver(&patdev_pci_driver);
}
