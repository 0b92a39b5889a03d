/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Binding PCI devices to patdev and finding their BARs' mmap offsets, as
 * an administrator does it through sysfs. Shared by the tools and the
 * selftests.
 */
#ifndef _PATDEV_PCI_H
#define _PATDEV_PCI_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATDEV_PCI_DEVICES "/sys/bus/pci/devices"

/* Writes @val to the sysfs file @dir/@name (@dir NULL: @name is a path). */
static inline int patdev_sysfs_write(const char *dir, const char *name, const char *val)
{
	char path[2 * PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s%s%s", dir ? dir : "", dir ? "/" : "", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* Reads the number in the sysfs file @dir/@name (any base strtoull takes). */
static inline int patdev_sysfs_read_u64(const char *dir, const char *name,
					unsigned long long *val)
{
	char path[2 * PATH_MAX], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	errno = 0;
	*val = strtoull(buf, NULL, 0);
	return errno ? -1 : 0;
}

/**
 * patdev_pci_find() - the sysfs directory of the first device @vendor:@device
 * @vendor: PCI vendor ID
 * @device: PCI device ID
 * @dir: out: /sys/bus/pci/devices/DOMAIN:BUS:DEV.FN
 * @len: size of @dir
 *
 * Return: 0, or -1 if there is none.
 */
static inline int patdev_pci_find(unsigned int vendor, unsigned int device, char *dir,
				  size_t len)
{
	unsigned long long v, d;
	struct dirent *e;
	int ret = -1;
	DIR *dp;

	dp = opendir(PATDEV_PCI_DEVICES);
	if (!dp)
		return -1;
	while (ret && (e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(dir, len, "%s/%s", PATDEV_PCI_DEVICES, e->d_name);
		if (!patdev_sysfs_read_u64(dir, "vendor", &v) &&
		    !patdev_sysfs_read_u64(dir, "device", &d) && v == vendor && d == device)
			ret = 0;
	}
	closedir(dp);
	return ret;
}

/* The driver bound to the device at @dir into @drv ("" if none). */
static inline void patdev_pci_driver(const char *dir, char *drv, size_t len)
{
	char path[2 * PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/driver", dir);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	snprintf(drv, len, "%s", n > 0 ? strrchr(link, '/') + 1 : "");
}

/* Unbinds the device at @dir from its driver, if it has one. */
static inline int patdev_pci_unbind(const char *dir)
{
	char drv[PATH_MAX];

	patdev_pci_driver(dir, drv, sizeof(drv));
	if (!drv[0])
		return 0;
	return patdev_sysfs_write(dir, "driver/unbind", strrchr(dir, '/') + 1);
}

/**
 * patdev_pci_bind() - bind the device at @dir to patdev
 * @dir: its sysfs directory
 *
 * As for vfio-pci: the device leaves its driver, driver_override names
 * patdev, and the PCI core probes it again.
 *
 * Return: 0 once patdev is its driver, or -1.
 */
static inline int patdev_pci_bind(const char *dir)
{
	char drv[PATH_MAX];

	patdev_pci_driver(dir, drv, sizeof(drv));
	if (!strcmp(drv, "patdev"))
		return 0;
	if (patdev_pci_unbind(dir) || patdev_sysfs_write(dir, "driver_override", "patdev\n"))
		return -1;
	if (patdev_sysfs_write(NULL, "/sys/bus/pci/drivers_probe", strrchr(dir, '/') + 1))
		return -1;
	patdev_pci_driver(dir, drv, sizeof(drv));
	return strcmp(drv, "patdev") ? -1 : 0;
}

/**
 * patdev_pci_bar_offset() - the mmap offset of BAR @bar of the bound device
 * @dir: the device's sysfs directory
 * @bar: BAR index
 * @offset: out: the byte offset to pass to mmap() on /dev/patdev
 *
 * Return: 0, or -1 if the BAR is no object (not bound, not memory, less
 * than a page).
 */
static inline int patdev_pci_bar_offset(const char *dir, int bar, unsigned long long *offset)
{
	char name[32];

	snprintf(name, sizeof(name), "patdev/bar%d_offset", bar);
	return patdev_sysfs_read_u64(dir, name, offset);
}

#endif /* _PATDEV_PCI_H */
