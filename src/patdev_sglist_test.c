// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel checks of the sglist port, for what user space cannot reach
 * through the device (merge, EFBIG atomicity, slice, sharing): reading
 * <debugfs>/patdev/sglist_selftest runs them and prints one TAP-like line
 * per check. The addresses are never mapped or touched.
 */
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include "patdev.h"
#include "patdev_sglist.h"

#define SGCHECK(m, cond) patdev_sgcheck(m, cond, #cond, __LINE__)

static void patdev_sgcheck(struct seq_file *m, bool ok, const char *what, int line)
{
	seq_printf(m, "%s %s (line %d)\n", ok ? "ok" : "not ok", what, line);
}

static phys_addr_t lookup(const struct patdev_sglist *sg, u64 off)
{
	phys_addr_t pa;

	return patdev_sglist_lookup(sg, off, &pa, NULL) ? (phys_addr_t)-1 : pa;
}

static int patdev_sglist_selftest_show(struct seq_file *m, void *unused)
{
	const phys_addr_t a = 0x100000, b = 0x200000, c = 0x400000;
	struct patdev_sglist *sg, *slice;

	SGCHECK(m, !patdev_sglist_alloc(0, GFP_KERNEL));
	SGCHECK(m, !patdev_sglist_alloc(PATDEV_SGLIST_MAXSEG + 1, GFP_KERNEL));
	sg = patdev_sglist_alloc(2, GFP_KERNEL);
	if (!sg)
		return -ENOMEM;
	SGCHECK(m, patdev_sglist_append_phys(sg, a, PAGE_SIZE) == 0);
	/* Physically adjacent: extends the segment. */
	SGCHECK(m, patdev_sglist_append_phys(sg, a + PAGE_SIZE, PAGE_SIZE) == 0);
	SGCHECK(m, patdev_sglist_count(sg) == 1);
	SGCHECK(m, patdev_sglist_append_phys(sg, b, PAGE_SIZE) == 0);
	SGCHECK(m, patdev_sglist_count(sg) == 2);
	/* Full: a new segment fails and changes nothing; a merge still works. */
	SGCHECK(m, patdev_sglist_append_phys(sg, c, PAGE_SIZE) == -EFBIG);
	SGCHECK(m, patdev_sglist_count(sg) == 2 && patdev_sglist_length(sg) == 3 * PAGE_SIZE);
	SGCHECK(m, patdev_sglist_append_phys(sg, b + PAGE_SIZE, PAGE_SIZE) == 0);
	SGCHECK(m, patdev_sglist_length(sg) == 4 * PAGE_SIZE);
	SGCHECK(m, patdev_sglist_append_phys(sg, c + 1, PAGE_SIZE) == -EINVAL);
	SGCHECK(m, patdev_sglist_append_phys(sg, c, 0) == -EINVAL);
	SGCHECK(m, patdev_sglist_append_phys(sg, (phys_addr_t)-PAGE_SIZE, 2 * PAGE_SIZE) ==
		-EINVAL);

	SGCHECK(m, lookup(sg, 0) == a);
	SGCHECK(m, lookup(sg, PAGE_SIZE + 5) == a + PAGE_SIZE + 5);
	SGCHECK(m, lookup(sg, 2 * PAGE_SIZE) == b);
	SGCHECK(m, lookup(sg, 4 * PAGE_SIZE - 1) == b + 2 * PAGE_SIZE - 1);
	SGCHECK(m, lookup(sg, 4 * PAGE_SIZE) == (phys_addr_t)-1);

	slice = patdev_sglist_slice(sg, PAGE_SIZE, 2 * PAGE_SIZE, GFP_KERNEL);
	SGCHECK(m, !IS_ERR(slice));
	if (!IS_ERR(slice)) {
		SGCHECK(m, patdev_sglist_count(slice) == 2);
		SGCHECK(m, patdev_sglist_length(slice) == 2 * PAGE_SIZE);
		SGCHECK(m, lookup(slice, 0) == a + PAGE_SIZE);
		SGCHECK(m, lookup(slice, PAGE_SIZE) == b);
		patdev_sglist_free(slice);
	}
	SGCHECK(m, PTR_ERR(patdev_sglist_slice(sg, 3 * PAGE_SIZE, 2 * PAGE_SIZE, GFP_KERNEL)) ==
		-EINVAL);
	SGCHECK(m, PTR_ERR(patdev_sglist_slice(sg, 1, PAGE_SIZE, GFP_KERNEL)) == -EINVAL);

	/* Shared lists are read-only. */
	patdev_sglist_hold(sg);
	SGCHECK(m, patdev_sglist_append_phys(sg, b + 2 * PAGE_SIZE, PAGE_SIZE) == -EBUSY);
	patdev_sglist_free(sg);
	SGCHECK(m, patdev_sglist_append_phys(sg, b + 2 * PAGE_SIZE, PAGE_SIZE) == 0);
	patdev_sglist_free(sg);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(patdev_sglist_selftest);

void patdev_sglist_test_init(struct dentry *dir)
{
	debugfs_create_file("sglist_selftest", 0400, dir, NULL, &patdev_sglist_selftest_fops);
}
