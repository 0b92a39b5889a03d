/* SPDX-License-Identifier: GPL-2.0 */
/*
 * patdev_map(): mmap(2) of a patdev object followed by FreeBSD-style
 * prefault, the one call a user of MAP_PREFAULT_READ/WRITE would make.
 */
#ifndef _PATDEV_USER_H
#define _PATDEV_USER_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/patdev.h>

/**
 * patdev_map() - map a patdev object and populate it
 * @fd: open /dev/patdev
 * @len: mapping length
 * @prot: PROT_* of the mapping
 * @pgoff: object, PATDEV_PGOFF_*
 * @prefault: 0, PATDEV_PREFAULT_READ or PATDEV_PREFAULT_WRITE
 *
 * Return: the mapping, or MAP_FAILED with errno set (nothing stays mapped).
 */
static inline void *patdev_map(int fd, size_t len, int prot, unsigned long pgoff,
			       unsigned int prefault)
{
	struct patdev_prefault pf = { .len = len, .flags = prefault };
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)pgoff * sysconf(_SC_PAGESIZE));
	int err;

	if (p == MAP_FAILED || !prefault)
		return p;
	pf.addr = (uintptr_t)p;
	if (ioctl(fd, PATDEV_IOC_PREFAULT, &pf)) {
		err = errno;
		munmap(p, len);
		errno = err;
		return MAP_FAILED;
	}
	return p;
}

/**
 * patdev_create() - PATDEV_IOC_CREATE in one call
 * @fd: open /dev/patdev
 * @kind: PATDEV_OBJ_ANON or PATDEV_OBJ_SG
 * @size: size in bytes
 * @cache: PATDEV_CACHE_WB, _WC or _UC_MINUS
 * @sg_order: PATDEV_OBJ_SG: order of every chunk; otherwise 0
 * @flags: PATDEV_CREATE_*
 * @offset: out, if not NULL: the new object's mmap offset
 *
 * Return: 0, or -1 with errno set.
 */
static inline int patdev_create(int fd, __u64 kind, __u64 size, __u64 cache, __u64 sg_order,
				__u64 flags, unsigned long long *offset)
{
	struct patdev_create c = {
		.kind = kind, .size = size, .cache = cache, .sg_order = sg_order, .flags = flags,
	};
	int ret = ioctl(fd, PATDEV_IOC_CREATE, &c);

	if (offset)
		*offset = c.offset;
	return ret;
}

/* PATDEV_IOC_DESTROY of the object at @offset; 0, or -1 with errno set. */
static inline int patdev_destroy(int fd, unsigned long long offset, __u64 flags)
{
	struct patdev_destroy d = { .offset = offset, .flags = flags };

	return ioctl(fd, PATDEV_IOC_DESTROY, &d);
}

/**
 * patdev_export() - PATDEV_IOC_EXPORT in one call
 * @fd: open /dev/patdev
 * @offset: the object's first offset (or 0, PAGE_SIZE for the named ones)
 * @flags: PATDEV_EXPORT_WRITE or 0
 *
 * Return: the dma-buf's file descriptor, or -1 with errno set.
 */
static inline int patdev_export(int fd, unsigned long long offset, __u64 flags)
{
	struct patdev_export e = { .offset = offset, .flags = flags };

	return ioctl(fd, PATDEV_IOC_EXPORT, &e) ? -1 : (int)e.fd;
}

/* PATDEV_IOC_QUERY of the entry at @addr into @q; 0, or -1 with errno set. */
static inline int patdev_query(int fd, const void *addr, struct patdev_query *q)
{
	memset(q, 0, sizeof(*q));
	q->addr = (uintptr_t)addr;
	return ioctl(fd, PATDEV_IOC_QUERY, q);
}

/* PATDEV_IOC_OBJINFO of the object page offset @pgoff names; 0, or -1. */
static inline int patdev_objinfo(int fd, unsigned long pgoff, struct patdev_objinfo *info)
{
	memset(info, 0, sizeof(*info));
	info->pgoff = pgoff;
	return ioctl(fd, PATDEV_IOC_OBJINFO, info);
}

/* PATDEV_IOC_SET_CACHE of the object at @offset; 0, or -1 with errno set. */
static inline int patdev_set_cache(int fd, unsigned long long offset, __u64 cache)
{
	struct patdev_set_cache sc = { .offset = offset, .cache = cache };

	return ioctl(fd, PATDEV_IOC_SET_CACHE, &sc);
}

/*
 * The DMA address of byte @off of a mapped object, from its segments, or
 * ~0 past them.
 */
static inline __u64 patdev_dma_addr(const struct patdev_dma_seg *segs, __u64 nsegs, __u64 off)
{
	__u64 i;

	for (i = 0; i < nsegs; off -= segs[i].len, i++)
		if (off < segs[i].len)
			return segs[i].addr + off;
	return ~0ULL;
}

/*
 * PATDEV_IOC_DMA_MAP of the object at @offset for the device with a BAR
 * at @device: the segments to @segs (room for @*nsegs, which gets the
 * count), the handle to @handle. Returns the ioctl's answer.
 */
static inline int patdev_dma_map(int fd, __u64 device, __u64 offset, __u64 flags, __u64 bits,
				 struct patdev_dma_seg *segs, __u64 *nsegs, __u64 *handle)
{
	struct patdev_dma_map m = {
		.device = device, .offset = offset, .flags = flags, .dma_bits = bits,
		.segs = (uintptr_t)segs, .nsegs = *nsegs,
	};
	int ret = ioctl(fd, PATDEV_IOC_DMA_MAP, &m);

	*nsegs = m.nsegs;
	if (!ret)
		*handle = m.handle;
	return ret;
}

static inline int patdev_dma_unmap(int fd, __u64 handle)
{
	struct patdev_dma_unmap u = { .handle = handle };

	return ioctl(fd, PATDEV_IOC_DMA_UNMAP, &u);
}

#endif /* _PATDEV_USER_H */
