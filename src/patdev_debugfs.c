// SPDX-License-Identifier: GPL-2.0
/*
 * A read-only view of the objects: <debugfs>/patdev/objects, one line per
 * object, in offset order, plus its physical segments;
 * <debugfs>/patdev/exports, one line per dma-buf export, with what its
 * importers hold; and <debugfs>/patdev/stats, the live object and page
 * counts. Debugfs, not sysfs, because it is a
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
 * that long before returning, holding its mmap lock for write with its
 * vma not linked yet (the window patdev_obj_claim() covers); one-shot.
 * test_holding: how many such mmaps sleep now, for the tests to wait on.
 */
static u32 patdev_hold_ms;
static atomic_t patdev_holding = ATOMIC_INIT(0);

void patdev_test_hold_mmap(void)
{
	/* At most 10 s: the mmap lock is held meanwhile. */
	u32 ms = min(xchg(&patdev_hold_ms, 0), 10000U);

	if (!ms)
		return;
	atomic_inc(&patdev_holding);
	msleep(ms);
	atomic_dec(&patdev_holding);
}

static void patdev_test_hooks_init(void)
{
	debugfs_create_u32("test_hold_mmap_ms", 0600, patdev_dir, &patdev_hold_ms);
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

static int patdev_stats_show(struct seq_file *m, void *unused)
{
	long objs, pages;

	patdev_obj_stats(&objs, &pages);
	seq_printf(m, "objects %ld\npages %ld\nclaims %ld\n", objs, pages, patdev_claims_live());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(patdev_stats);

void patdev_debugfs_init(void)
{
	/* Debugfs failures are not fatal and need no checks. */
	patdev_dir = debugfs_create_dir("patdev", NULL);
	debugfs_create_file("objects", 0400, patdev_dir, NULL, &patdev_objects_fops);
	debugfs_create_file("exports", 0400, patdev_dir, NULL, &patdev_exports_fops);
	debugfs_create_file("stats", 0400, patdev_dir, NULL, &patdev_stats_fops);
	patdev_sglist_test_init(patdev_dir);
	patdev_test_hooks_init();
}

void patdev_debugfs_exit(void)
{
	debugfs_remove_recursive(patdev_dir);
}
