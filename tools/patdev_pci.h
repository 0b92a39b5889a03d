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

/* Opens the sysfs or debugfs file @dir/@name (@dir NULL: @name is a path). */
static inline int patdev_sysfs_open(const char *dir, const char *name, int flags)
{
	char path[2 * PATH_MAX];

	snprintf(path, sizeof(path), "%s%s%s", dir ? dir : "", dir ? "/" : "", name);
	return open(path, flags);
}

/* Writes @val to the sysfs or debugfs file @dir/@name (@dir NULL: @name is a path). */
static inline int patdev_sysfs_write(const char *dir, const char *name, const char *val)
{
	int fd = patdev_sysfs_open(dir, name, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * Reads the number in the sysfs or debugfs file @dir/@name (@dir NULL:
 * @name is a path), in any base strtoull takes.
 */
static inline int patdev_sysfs_read_u64(const char *dir, const char *name,
					unsigned long long *val)
{
	int fd = patdev_sysfs_open(dir, name, O_RDONLY);
	char buf[64], *end;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	errno = 0;
	*val = strtoull(buf, &end, 0);
	return errno || end == buf ? -1 : 0;
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

/* Resets the device at @dir through sysfs (its driver is told before and after). */
static inline int patdev_pci_reset(const char *dir)
{
	return patdev_sysfs_write(dir, "reset", "1\n");
}

/* Removes the device at @dir, then rescans the bus: it comes back unbound. */
static inline int patdev_pci_remove_rescan(const char *dir)
{
	if (patdev_sysfs_write(dir, "remove", "1\n"))
		return -1;
	return patdev_sysfs_write(NULL, "/sys/bus/pci/rescan", "1\n");
}

/**
 * patdev_pci_bind_driver() - bind the device at @dir to the driver @name
 * @dir: its sysfs directory
 * @name: a PCI driver's name, "patdev" or "vfio-pci"
 *
 * As for vfio-pci: the device leaves its driver, driver_override names the
 * new one, and the PCI core probes it again.
 *
 * Return: 0 once @name is its driver, or -1.
 */
static inline int patdev_pci_bind_driver(const char *dir, const char *name)
{
	char drv[PATH_MAX], val[64];

	patdev_pci_driver(dir, drv, sizeof(drv));
	if (!strcmp(drv, name))
		return 0;
	snprintf(val, sizeof(val), "%s\n", name);
	if (patdev_pci_unbind(dir) || patdev_sysfs_write(dir, "driver_override", val))
		return -1;
	if (patdev_sysfs_write(NULL, "/sys/bus/pci/drivers_probe", strrchr(dir, '/') + 1))
		return -1;
	patdev_pci_driver(dir, drv, sizeof(drv));
	return strcmp(drv, name) ? -1 : 0;
}

/* Binds the device at @dir to patdev (patdev_pci_bind_driver()). */
static inline int patdev_pci_bind(const char *dir)
{
	return patdev_pci_bind_driver(dir, "patdev");
}

/**
 * patdev_pci_bar_resource() - where BAR @bar of the device at @dir lies
 * @dir: its sysfs directory
 * @bar: BAR index
 * @start: out: its physical address
 * @len: out: its length in bytes
 *
 * Return: 0, or -1 if sysfs's resource file cannot tell.
 */
static inline int patdev_pci_bar_resource(const char *dir, int bar, unsigned long long *start,
					  unsigned long long *len)
{
	unsigned long long end = 0, flags;
	char path[2 * PATH_MAX];
	int i, ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/resource", dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	for (i = 0; !ret && i <= bar; i++)
		if (fscanf(f, "%llx %llx %llx", start, &end, &flags) != 3)
			ret = -1;
	fclose(f);
	*len = end - *start + 1;
	return ret;
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
