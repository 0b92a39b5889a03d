/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the patdev selftest programs share: the module's debugfs stats,
 * numbers in sysfs and debugfs files (on tools/patdev_pci.h's readers and
 * writers), whether PAT is on, a touch in a child, dropping one
 * capability for a test of what unprivileged callers get; the dma-buf
 * importers (vgem, vivid) from tools/patdev_importers.h.
 */
#ifndef _PATDEV_SELFTEST_H
#define _PATDEV_SELFTEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "patdev_importers.h"
#include "patdev_pci.h"

#define PATDEV_DEBUGFS "/sys/kernel/debug"

/* Mounts debugfs unless @path under it is already there. */
static inline void patdev_need_debugfs(const char *path)
{
	if (access(path, R_OK))
		mount("debugfs", PATDEV_DEBUGFS, "debugfs", 0, NULL);
}

/*
 * The module's debugfs stats: live objects and pages (freed ones are gone
 * from them), the claims of mmaps and forks it keeps for revocations and
 * mode changes, and which claim its mmap makes (".mmap" or
 * ".mmap_prepare"). Returns 0, or -1 if unreadable.
 */
struct patdev_stats {
	long objs, pages, claims;
	char mmap[16];
};

static inline int patdev_stats_read(struct patdev_stats *s)
{
	FILE *f;
	int n;

	patdev_need_debugfs(PATDEV_DEBUGFS "/patdev/stats");
	f = fopen(PATDEV_DEBUGFS "/patdev/stats", "r");
	if (!f)
		return -1;
	n = fscanf(f, "objects %ld pages %ld claims %ld mmap %15s", &s->objs, &s->pages,
		   &s->claims, s->mmap);
	fclose(f);
	return n == 4 ? 0 : -1;
}

static inline int patdev_stats_all(long *objs, long *pages, long *claims)
{
	struct patdev_stats s;

	if (patdev_stats_read(&s))
		return -1;
	*objs = s.objs;
	*pages = s.pages;
	*claims = s.claims;
	return 0;
}

static inline int patdev_stats(long *objs, long *pages)
{
	long claims;

	return patdev_stats_all(objs, pages, &claims);
}

/*
 * Whether the device's mmap claims through .mmap_prepare and ->mapped
 * (7.1 on): 1; through .mmap: 0; -1 if the stats do not say.
 */
static inline int patdev_mmap_prepared(void)
{
	struct patdev_stats s;

	return patdev_stats_read(&s) ? -1 : !strcmp(s.mmap, ".mmap_prepare");
}

/* Live claims, or -1 if unreadable. */
static inline long patdev_claims(void)
{
	long objs, pages, claims;

	return patdev_stats_all(&objs, &pages, &claims) ? -1 : claims;
}

/* The number a sysfs or debugfs file holds, or -1 if unreadable. */
static inline long patdev_read_long(const char *path)
{
	unsigned long long v;

	return patdev_sysfs_read_u64(NULL, path, &v) ? -1 : (long)v;
}

/* Writes @v to a sysfs or debugfs file. Returns 0, or -1. */
static inline int patdev_write_long(const char *path, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld\n", v);
	return patdev_sysfs_write(NULL, path, buf);
}

/*
 * Whether the CPU applies PAT: not booted with nopat, and PAT in the CPU
 * flags. Without it the hardware has no WC, and what would be WC is UC-.
 * Told from the kernel command line and the CPU, not by the module.
 */
static inline int patdev_pat_on(void)
{
	char buf[4096], *word, *save;
	int nopat = 0, pat = 0;
	FILE *f = fopen("/proc/cmdline", "r");

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			for (word = strtok_r(buf, "\n ", &save); word;
			     word = strtok_r(NULL, "\n ", &save))
				nopat |= !strcmp(word, "nopat");
		fclose(f);
	}
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "flags", 5) && strstr(buf, " pat ")) {
			pat = 1;
			break;
		}
	if (f)
		fclose(f);
	return pat && !nopat;
}

/* Touch @addr in a child; returns the signal that killed it, or 0. */
static inline int patdev_touch_in_child(unsigned char *addr, int write)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (write)
			__atomic_store_n(addr, 1, __ATOMIC_RELAXED);
		else
			(void)__atomic_load_n(addr, __ATOMIC_RELAXED);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
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

/*
 * A byte pattern written every PATDEV_PATTERN_STRIDE bytes of a region,
 * whose value tells the byte's offset in the region: data that moved or
 * was lost shows. patdev_pattern_seed_at() is the seed that checks the
 * part of a filled region from @off on (a multiple of the stride).
 */
#define PATDEV_PATTERN_STRIDE	64

static inline unsigned char patdev_pattern_byte(size_t off, unsigned int seed)
{
	return (unsigned char)(off / PATDEV_PATTERN_STRIDE * 13 + seed);
}

static inline unsigned int patdev_pattern_seed_at(unsigned int seed, size_t off)
{
	return seed + off / PATDEV_PATTERN_STRIDE * 13;
}

static inline void patdev_fill_pattern(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i += PATDEV_PATTERN_STRIDE)
		p[i] = patdev_pattern_byte(i, seed);
}

/* 0, or the first offset (1 for offset 0) whose byte is not the pattern's. */
static inline size_t patdev_check_pattern(const unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i += PATDEV_PATTERN_STRIDE)
		if (p[i] != patdev_pattern_byte(i, seed))
			return i ? i : 1;
	return 0;
}

/*
 * echo 4 > /proc/self/clear_refs: soft-dirty tracking write-protects this
 * process's vmas. Returns 0, or -1.
 */
static inline int patdev_clear_soft_dirty(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, "4", 1) == 1 ? 0 : -1;
	close(fd);
	return ret;
}

#endif /* _PATDEV_SELFTEST_H */
