// SPDX-License-Identifier: GPL-2.0
/*
 * patdev - device mmap with the right cache attributes
 *
 * A port of FreeBSD's patdev demo (d_mmap_single, per-object memory
 * attributes, sglist(9) and the OBJT_SG pager) and NetBSD pmap(9) ideas.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "compat.h"
#include "patdev.h"

static ushort patdev_mode = 0600;
module_param_named(mode, patdev_mode, ushort, 0444);
MODULE_PARM_DESC(mode, "Permission bits of /dev/patdev (default 0600, root only)");

static long patdev_ioctl_version(void __user *arg)
{
	struct patdev_version v = {
		.major = PATDEV_VERSION_MAJOR,
		.minor = PATDEV_VERSION_MINOR,
		.features = PATDEV_FEAT_QUERY | PATDEV_FEAT_OBJINFO | PATDEV_FEAT_RW |
			    PATDEV_FEAT_PREFAULT | PATDEV_FEAT_CREATE |
			    (PATDEV_HUGE ? PATDEV_FEAT_HUGE : 0) |
			    PATDEV_FEAT_MR | PATDEV_FEAT_SET_CACHE | PATDEV_FEAT_BAR |
			    (PATDEV_HUGE_1G ? PATDEV_FEAT_HUGE_1G : 0) | PATDEV_FEAT_EXPORT |
			    PATDEV_FEAT_DMA,
	};

	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static int patdev_open(struct inode *inode, struct file *file)
{
	struct patdev_file *pfile = kzalloc(sizeof(*pfile), GFP_KERNEL);

	if (!pfile)
		return -ENOMEM;
	/* Decided at open, as /proc/pid/pagemap does: the file may be passed on. */
	pfile->show_pfn = capable(CAP_SYS_ADMIN);
	INIT_LIST_HEAD(&pfile->objects);
	/* Replaces the miscdevice pointer misc_open() left here. */
	file->private_data = pfile;
	patdev_space_open(file);
	return 0;
}

static int patdev_release(struct inode *inode, struct file *file)
{
	struct patdev_file *pfile = file->private_data;

	/* The devices it drives stop before its objects can go. */
	patdev_busdma_release_file(pfile);
	patdev_space_release_file(pfile);
	kfree(pfile);
	return 0;
}

static long patdev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case PATDEV_IOC_VERSION:
		return patdev_ioctl_version(uarg);
	case PATDEV_IOC_QUERY:
		return patdev_ioctl_query(file->private_data, uarg);
	case PATDEV_IOC_OBJINFO:
		return patdev_ioctl_objinfo(uarg);
	case PATDEV_IOC_PREFAULT:
		return patdev_ioctl_prefault(uarg);
	case PATDEV_IOC_RANGE_QUERY:
		return patdev_ioctl_range_query(uarg);
	case PATDEV_IOC_SET_MMAP_FLAGS:
		return patdev_ioctl_set_mmap_flags(file->private_data, uarg);
	case PATDEV_IOC_CREATE:
		return patdev_ioctl_create(file->private_data, uarg);
	case PATDEV_IOC_DESTROY:
		return patdev_ioctl_destroy(file->private_data, uarg);
	case PATDEV_IOC_MR_QUERY:
		return patdev_ioctl_mr(file->private_data, uarg, false);
	case PATDEV_IOC_MR_CLEAR:
		return patdev_ioctl_mr(file->private_data, uarg, true);
	case PATDEV_IOC_SET_CACHE:
		return patdev_ioctl_set_cache(file->private_data, uarg);
	case PATDEV_IOC_EXPORT:
		return patdev_ioctl_export(file, uarg);
	case PATDEV_IOC_DMA_MAP:
		return patdev_ioctl_dma_map(file, uarg);
	case PATDEV_IOC_DMA_UNMAP:
		return patdev_ioctl_dma_unmap(file->private_data, uarg);
	default:
		return -ENOTTY;
	}
}

#define PATDEV_FOPS_COMMON						\
	.owner = THIS_MODULE,						\
	.open = patdev_open,						\
	.release = patdev_release,					\
	.llseek = default_llseek,					\
	.read = patdev_read,						\
	.write = patdev_write,						\
	.unlocked_ioctl = patdev_ioctl,					\
	.compat_ioctl = compat_ptr_ioctl,				\
	PATDEV_FOPS_UNMAPPED_AREA

#if PATDEV_HUGE
#define PATDEV_FOPS_UNMAPPED_AREA .get_unmapped_area = patdev_get_unmapped_area,
#else
#define PATDEV_FOPS_UNMAPPED_AREA
#endif

/* Kernels before 7.1: the claim in one step (patdev_mmap.c). */
static const struct file_operations patdev_fops_mmap = {
	PATDEV_FOPS_COMMON
	.mmap = patdev_mmap,
};

#if PATDEV_MMAP_PREPARE
/* 7.1 on: .mmap_prepare, then vm_ops->mapped once the vma exists. */
static const struct file_operations patdev_fops_prepare = {
	PATDEV_FOPS_COMMON
	.mmap_prepare = patdev_mmap_prepare,
};

#define PATDEV_FOPS (&patdev_fops_prepare)
#else
#define PATDEV_FOPS (&patdev_fops_mmap)
#endif

#if defined(PATDEV_TEST_HOOKS) && PATDEV_MMAP_PREPARE
/* Test builds: the debug lane runs the claim tests of .mmap on 7.1+ too. */
static bool patdev_test_mmap_path;
module_param_named(test_mmap_path, patdev_test_mmap_path, bool, 0444);
MODULE_PARM_DESC(test_mmap_path, "Test builds: claim through .mmap, not .mmap_prepare");
#else
#define patdev_test_mmap_path false
#endif

static struct miscdevice patdev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "patdev",
};

const char *patdev_mmap_path(void)
{
	return patdev_misc.fops->mmap ? ".mmap" : ".mmap_prepare";
}

static int __init patdev_init(void)
{
	int ret;

	patdev_pat_init();
	ret = patdev_space_init();
	if (ret)
		return ret;
	patdev_anon_init();
	ret = patdev_sg_init();
	if (ret)
		goto err_sg;
	patdev_misc.mode = patdev_mode & 0777;
	patdev_misc.fops = patdev_test_mmap_path ? &patdev_fops_mmap : PATDEV_FOPS;
	ret = misc_register(&patdev_misc);
	if (ret)
		goto err_sg;
	ret = patdev_pci_init();
	if (ret)
		goto err_misc;
	patdev_debugfs_init();
	return 0;
err_misc:
	misc_deregister(&patdev_misc);
err_sg:
	patdev_sg_exit();
	patdev_anon_exit();
	patdev_space_exit();
	return ret;
}

static void __exit patdev_exit(void)
{
	patdev_debugfs_exit();
	/* Unbinds the devices: their objects are revoked and gone. */
	patdev_pci_exit();
	patdev_busdma_exit();
	misc_deregister(&patdev_misc);
	patdev_anon_exit();
	patdev_sg_exit();
	patdev_space_exit();
	patdev_obj_check_leaks();
}

module_init(patdev_init);
module_exit(patdev_exit);

MODULE_DESCRIPTION("Device mmap with per-object cache attributes (FreeBSD patdev port)");
MODULE_AUTHOR("patdev developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(__stringify(PATDEV_VERSION_MAJOR) "." __stringify(PATDEV_VERSION_MINOR));
