/* SPDX-License-Identifier: GPL-2.0 */
/*
 * patdev_map(): mmap(2) of a patdev object followed by FreeBSD-style
 * prefault, the one call a user of MAP_PREFAULT_READ/WRITE would make.
 */
#ifndef _PATDEV_USER_H
#define _PATDEV_USER_H

#include <errno.h>
#include <stdint.h>
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

#endif /* _PATDEV_USER_H */
