// SPDX-License-Identifier: GPL-2.0
/*
 * patdev_remap: the benchmark's baseline, a test-only module built by
 * make bench and never installed. /dev/patdev_remap hands out one buffer
 * allocated at load time (as physically contiguous chunks of up to 2 MiB,
 * as patdev's objects are), and its mmap populates the whole mapping with
 * remap_pfn_range(), one call per chunk: the kernel's own fastest way to
 * fill a VM_PFNMAP vma, against which PATDEV_IOC_PREFAULT is measured.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

static unsigned int npages = 65536;
module_param(npages, uint, 0444);
MODULE_PARM_DESC(npages, "Pages of the buffer every mmap maps (default 65536)");

struct remap_chunk {
	struct page *page;
	unsigned int order;
};

static struct remap_chunk *chunks;
static unsigned int nchunks;

static int remap_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long addr = vma->vm_start, len;
	unsigned int i;
	int ret;

	if (!(vma->vm_flags & VM_MAYSHARE) || vma->vm_pgoff ||
	    vma_pages(vma) > npages)
		return -EINVAL;
	for (i = 0; i < nchunks && addr < vma->vm_end; i++) {
		len = min(PAGE_SIZE << chunks[i].order, vma->vm_end - addr);
		ret = remap_pfn_range(vma, addr, page_to_pfn(chunks[i].page), len,
				      vma->vm_page_prot);
		if (ret)
			return ret;
		addr += len;
	}
	return 0;
}

static const struct file_operations remap_fops = {
	.owner = THIS_MODULE,
	.mmap = remap_mmap,
};

static struct miscdevice remap_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "patdev_remap",
	.fops = &remap_fops,
	.mode = 0600,
};

static void remap_free(void)
{
	while (nchunks--)
		__free_pages(chunks[nchunks].page, chunks[nchunks].order);
	kvfree(chunks);
}

static int __init remap_init(void)
{
	const gfp_t gfp = GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN | __GFP_NORETRY;
	unsigned int order = PMD_SHIFT - PAGE_SHIFT, left = npages;
	int ret;

	if (!npages)
		return -EINVAL;
	chunks = kvcalloc(npages, sizeof(*chunks), GFP_KERNEL);
	if (!chunks)
		return -ENOMEM;
	while (left) {
		struct page *page = NULL;

		while (1U << order > left)
			order--;
		while (!(page = alloc_pages(gfp, order)) && order)
			order--;
		if (!page) {
			remap_free();
			return -ENOMEM;
		}
		chunks[nchunks].page = page;
		chunks[nchunks++].order = order;
		left -= 1U << order;
	}
	ret = misc_register(&remap_misc);
	if (ret)
		remap_free();
	return ret;
}

static void __exit remap_exit(void)
{
	misc_deregister(&remap_misc);
	remap_free();
}

module_init(remap_init);
module_exit(remap_exit);

MODULE_DESCRIPTION("patdev benchmark baseline: remap_pfn_range() at mmap (test only)");
MODULE_LICENSE("GPL");
