// SPDX-License-Identifier: GPL-2.0
/*
 * read()/write() on the device access the anonymous object's bytes, one
 * page at a time through a short-lived kmap_local_page() mapping: Linux's
 * pmap_quick_enter_page(). On x86-64 that is the direct map, whose alias
 * was switched to WC with the pages, so the kernel sees what user space
 * wrote through its WC mapping without a cache-attribute conflict.
 *
 * Stores through a WC alias sit in the CPU's write-combining buffers until
 * something drains them; a write() ends with a barrier, so that once it
 * returns its bytes are in memory for any other agent to see, as after a
 * write() to any other file.
 */
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include "patdev.h"

static ssize_t patdev_rw(char __user *ubuf, size_t count, loff_t *ppos, bool write)
{
	struct patdev_obj *obj = patdev_anon_get();
	loff_t pos = *ppos, size;
	size_t done = 0;
	ssize_t ret = 0;

	if (IS_ERR(obj))
		return PTR_ERR(obj) == -ENOENT ? -ENXIO : PTR_ERR(obj);
	size = (loff_t)obj->npages << PAGE_SHIFT;
	if (pos < 0) {
		ret = -EINVAL;
		goto out;
	}
	if (pos >= size) {
		/* Read at the end is EOF; the object cannot grow. */
		ret = write && count ? -ENOSPC : 0;
		goto out;
	}
	count = min_t(loff_t, count, size - pos);
	while (done < count) {
		size_t off = offset_in_page(pos);
		size_t n = min(PAGE_SIZE - off, count - done);
		unsigned long left, pfn;
		void *kaddr;

		if (patdev_obj_pfn(obj, pos >> PAGE_SHIFT, &pfn)) {
			ret = done ? 0 : -EIO;
			break;
		}
		kaddr = kmap_local_page(pfn_to_page(pfn));
		if (write)
			left = copy_from_user(kaddr + off, ubuf + done, n);
		else
			left = copy_to_user(ubuf + done, kaddr + off, n);
		kunmap_local(kaddr);
		done += n - left;
		pos += n - left;
		if (left) {
			if (!done)
				ret = -EFAULT;
			break;
		}
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
	if (write && done)
		wmb();	/* drain the WC buffers before write() returns */
	*ppos = pos;
out:
	patdev_obj_put(obj);
	return ret ?: done;
}

ssize_t patdev_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	return patdev_rw(buf, count, ppos, false);
}

ssize_t patdev_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos)
{
	return patdev_rw((char __user *)buf, count, ppos, true);
}
