// SPDX-License-Identifier: GPL-2.0
/*
 * A read-only view of the objects: <debugfs>/patdev/objects, one line per
 * object plus its physical segments, and <debugfs>/patdev/stats, the live
 * object and page counts. Debugfs, not sysfs, because it is a
 * multi-line listing meant for people and tests, not a stable ABI.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include "patdev.h"
#include "patdev_cache_names.h"

static struct dentry *patdev_dir;

static int patdev_objects_show(struct seq_file *m, void *unused)
{
	static const pgoff_t pgoffs[] = { PATDEV_PGOFF_ANON, PATDEV_PGOFF_SG };
	struct patdev_obj *obj;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pgoffs); i++) {
		obj = patdev_obj_lookup(pgoffs[i]);
		if (IS_ERR(obj)) {
			seq_printf(m, "pgoff %lu: none\n", pgoffs[i]);
			continue;
		}
		seq_printf(m, "pgoff %lu: %s pages %lu cache %s maps %d refs %u%s\n",
			   pgoffs[i], obj->kind == PATDEV_OBJ_ANON ? "anon" : "sg",
			   obj->npages, patdev_cache_names[obj->cache], atomic_read(&obj->nmaps),
			   kref_read(&obj->ref) - 1, obj->readonly ? " readonly" : "");
		if (obj->ops->show)
			obj->ops->show(obj, m);
		patdev_obj_put(obj);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(patdev_objects);

static int patdev_stats_show(struct seq_file *m, void *unused)
{
	long objs, pages;

	patdev_obj_stats(&objs, &pages);
	seq_printf(m, "objects %ld\npages %ld\n", objs, pages);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(patdev_stats);

void patdev_debugfs_init(void)
{
	/* Debugfs failures are not fatal and need no checks. */
	patdev_dir = debugfs_create_dir("patdev", NULL);
	debugfs_create_file("objects", 0400, patdev_dir, NULL, &patdev_objects_fops);
	debugfs_create_file("stats", 0400, patdev_dir, NULL, &patdev_stats_fops);
	patdev_sglist_test_init(patdev_dir);
}

void patdev_debugfs_exit(void)
{
	debugfs_remove_recursive(patdev_dir);
}
