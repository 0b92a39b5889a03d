/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the patdev selftest programs share: the module's debugfs stats,
 * and dropping one capability for a test of what unprivileged callers get.
 */
#ifndef _PATDEV_SELFTEST_H
#define _PATDEV_SELFTEST_H

#include <stdio.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#define PATDEV_DEBUGFS "/sys/kernel/debug"

/* Mounts debugfs unless @path under it is already there. */
static inline void patdev_need_debugfs(const char *path)
{
	if (access(path, R_OK))
		mount("debugfs", PATDEV_DEBUGFS, "debugfs", 0, NULL);
}

/*
 * The module's live objects and pages (<debugfs>/patdev/stats): freed
 * objects and pages are gone from them. Returns 0, or -1 if unreadable.
 */
static inline int patdev_stats(long *objs, long *pages)
{
	FILE *f;
	int n;

	patdev_need_debugfs(PATDEV_DEBUGFS "/patdev/stats");
	f = fopen(PATDEV_DEBUGFS "/patdev/stats", "r");
	if (!f)
		return -1;
	n = fscanf(f, "objects %ld pages %ld", objs, pages);
	fclose(f);
	return n == 2 ? 0 : -1;
}

/* Drops @cap from this process's effective and permitted sets. */
static inline int patdev_drop_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[cap / 32].effective &= ~(1U << (cap % 32));
	data[cap / 32].permitted &= ~(1U << (cap % 32));
	return syscall(SYS_capset, &hdr, data);
}

#endif /* _PATDEV_SELFTEST_H */
