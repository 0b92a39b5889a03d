// SPDX-License-Identifier: GPL-2.0
/*
 * A read-only view of the objects: <debugfs>/patdev/objects, one line per
 * object, in offset order, plus its physical segments;
 * <debugfs>/patdev/exports, one line per dma-buf export, with what its
 * importers hold; <debugfs>/patdev/dma, each bound device's bus mastering
 * and DMA mappings; and <debugfs>/patdev/stats, the live object, page and
 * claim counts and which claim the device's mmap makes (.mmap or
 * .mmap_prepare). Debugfs, not sysfs, because it is a
 * multi-line listing meant for people and tests, not a stable ABI.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/seq_file.h>
#include "patdev.h"

static struct dentry *patdev_dir;

#ifdef PATDEV_TEST_HOOKS
/*
 * test_hold_mmap_ms: the next mmap that prefaults a created object sleeps
 * that long after its prefault, holding its mmap lock for write: in .mmap
 * with its vma not linked yet (the window patdev_obj_claim() covers), in
 * ->mapped with it linked; one-shot.
 * test_hold_change_ms: the same for the next mode change, once it has
 * waited for the claims and before it takes revoke_lock and zaps (a change
 * under way, its mode_lock held).
 * test_hold_release: a write of a new value ends every hold at once.
 * test_holding: how many hold now, for the tests to wait on.
 */
static u32 patdev_hold_ms, patdev_hold_change_ms, patdev_hold_release;
static atomic_t patdev_holding = ATOMIC_INIT(0);

/* At most 10 s: a lock is held meanwhile. */
static void patdev_test_hold(u32 *knob)
{
	u32 ms = min(xchg(knob, 0), 10000U), release = READ_ONCE(patdev_hold_release);

	if (!ms)
		return;
	atomic_inc(&patdev_holding);
	for (; ms && READ_ONCE(patdev_hold_release) == release; ms -= min(ms, 20U))
		msleep(20);
	atomic_dec(&patdev_holding);
}

void patdev_test_hold_mmap(void)
{
	patdev_test_hold(&patdev_hold_ms);
}

void patdev_test_hold_change(void)
{
	patdev_test_hold(&patdev_hold_change_ms);
}

static void patdev_test_hooks_init(void)
{
	debugfs_create_u32("test_hold_mmap_ms", 0600, patdev_dir, &patdev_hold_ms);
	debugfs_create_u32("test_hold_change_ms", 0600, patdev_dir, &patdev_hold_change_ms);
	debugfs_create_u32("test_hold_release", 0600, patdev_dir, &patdev_hold_release);
	debugfs_create_atomic_t("test_holding", 0400, patdev_dir, &patdev_holding);
}
#else
static void patdev_test_hooks_init(void)
{
}
#endif

static int patdev_objects_show(struct seq_file *m, void *unused)
{
	patdev_space_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(patdev_objects);

static int patdev_exports_show(struct seq_file *m, void *unused)
{
	patdev_export_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(patdev_exports);

static int patdev_dma_show(struct seq_file *m, void *unused)
{
	patdev_busdma_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(patdev_dma);

static int patdev_stats_show(struct seq_file *m, void *unused)
{
	long objs, pages;

	patdev_obj_stats(&objs, &pages);
	seq_printf(m, "objects %ld\npages %ld\nclaims %ld\nmmap %s\n", objs, pages,
		   patdev_claims_live(), patdev_mmap_path());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(patdev_stats);

void patdev_debugfs_init(void)
{
	/* Debugfs failures are not fatal and need no checks. */
	patdev_dir = debugfs_create_dir("patdev", NULL);
	debugfs_create_file("objects", 0400, patdev_dir, NULL, &patdev_objects_fops);
	debugfs_create_file("exports", 0400, patdev_dir, NULL, &patdev_exports_fops);
	debugfs_create_file("dma", 0400, patdev_dir, NULL, &patdev_dma_fops);
	debugfs_create_file("stats", 0400, patdev_dir, NULL, &patdev_stats_fops);
	patdev_sglist_test_init(patdev_dir);
	patdev_test_hooks_init();
}

void patdev_debugfs_exit(void)
{
	debugfs_remove_recursive(patdev_dir);
}
