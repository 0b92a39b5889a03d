// SPDX-License-Identifier: GPL-2.0
/*
 * Feature test (Kbuild): what a claim through .mmap_prepare (6.16) needs,
 * all there from 7.1: vm_ops->mapped, which runs once the vma exists, and
 * the descriptor's flag helpers.
 */
#include <linux/fs.h>
#include <linux/mm.h>

static int patdev_conftest_mapped(unsigned long start, unsigned long end, pgoff_t pgoff,
				  const struct file *file, void **vm_private_data)
{
	return 0;
}

static const struct vm_operations_struct patdev_conftest_vm_ops = {
	.mapped = patdev_conftest_mapped,
};

static int patdev_conftest_prepare(struct vm_area_desc *desc)
{
	if (!vma_desc_test(desc, VMA_MAYSHARE_BIT) ||
	    !vma_desc_test_any_mask(desc, VMA_ACCESS_FLAGS))
		return -EINVAL;
	vma_desc_set_flags_mask(desc, VMA_REMAP_FLAGS);
	vma_desc_clear_flags(desc, VMA_MAYWRITE_BIT);
	desc->vm_ops = &patdev_conftest_vm_ops;
	return vma_desc_pages(desc) ? 0 : -EINVAL;
}

const struct file_operations patdev_conftest_fops;
const struct file_operations patdev_conftest_fops = {
	.mmap_prepare = patdev_conftest_prepare,
};
