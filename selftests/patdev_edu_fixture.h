/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture of the DMA selftests (patdev_dma.c, patdev_dma_iommu.c):
 * QEMU's edu device bound to patdev, its registers mapped UC through
 * BAR 0, and helpers for objects, patterns and the device's bus mastering.
 */
#ifndef _PATDEV_EDU_FIXTURE_H
#define _PATDEV_EDU_FIXTURE_H

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "patdev_edu.h"
#include "patdev_pci.h"
#include "patdev_selftest.h"
#include "patdev_user.h"

#define DEV "/dev/patdev"
#define DMA_DEBUGFS "/sys/kernel/debug/patdev/dma"
#define MAXSEGS 64
#define ALL (PATDEV_DMA_TO_DEVICE | PATDEV_DMA_FROM_DEVICE)

FIXTURE(edu) {
	int fd;
	size_t page;
	char dir[PATH_MAX];
	unsigned long long dev;	/* BAR 0's mmap offset: names the device */
	void *regs;
	int iommu;
};

FIXTURE_SETUP(edu)
{
	struct patdev_version v;
	const char *want = getenv("PATDEV_EXPECT_IOMMU");
	char path[2 * PATH_MAX];

	self->page = sysconf(_SC_PAGESIZE);
	ASSERT_EQ(0, patdev_pci_find(EDU_VENDOR, EDU_DEVICE, self->dir, sizeof(self->dir)))
		TH_LOG("no edu device: scripts/vm.sh attaches one");
	ASSERT_EQ(0, patdev_pci_bind(self->dir));
	ASSERT_EQ(0, patdev_pci_bar_offset(self->dir, 0, &self->dev));
	self->fd = open(DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_VERSION, &v));
	ASSERT_TRUE(v.features & PATDEV_FEAT_DMA);
	self->regs = patdev_map(self->fd, self->page, PROT_READ | PROT_WRITE,
				self->dev / self->page, 0);
	ASSERT_NE(MAP_FAILED, self->regs);
	ASSERT_EQ(0xed, edu_read32(self->regs, EDU_REG_ID) & 0xff) TH_LOG("not edu's ID");
	snprintf(path, sizeof(path), "%s/iommu_group", self->dir);
	self->iommu = !access(path, F_OK);
	ASSERT_NE(NULL, want) TH_LOG("PATDEV_EXPECT_IOMMU=0 or 1 says what the lane gives");
	ASSERT_EQ(atoi(want), self->iommu) TH_LOG("the device is %sbehind an IOMMU",
						  self->iommu ? "" : "not ");
}

FIXTURE_TEARDOWN(edu)
{
	munmap(self->regs, self->page);
	close(self->fd);
}

/* Is the device allowed to master the bus (its command register, bit 2)? */
static inline int bus_master(const char *dir)
{
	int fd = patdev_sysfs_open(dir, "config", O_RDONLY);
	__u16 cmd = 0;

	if (fd < 0 || pread(fd, &cmd, sizeof(cmd), 4) != sizeof(cmd))
		cmd = 0xffff;
	if (fd >= 0)
		close(fd);
	return cmd == 0xffff ? -1 : !!(cmd & 4);
}

/* Every byte of @len set from @seed: moved or lost data shows. */
static inline void fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 7 + i / 256 + seed);
}

/* How many bytes differ from fill()'s. */
static inline size_t differing(const unsigned char *p, size_t len, unsigned int seed)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += p[i] != (unsigned char)(i * 7 + i / 256 + seed);
	return n;
}

/* How many bytes are not @c. */
static inline size_t not_byte(const unsigned char *p, size_t len, unsigned char c)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += p[i] != c;
	return n;
}

/* A created RAM object of @pages pages and mode @cache, mapped read-write. */
static inline unsigned char *make_obj(struct __test_metadata *_metadata, int fd, size_t pages,
				      __u64 cache, __u64 flags, unsigned long long *off)
{
	size_t page = sysconf(_SC_PAGESIZE);
	unsigned char *p;

	if (patdev_create(fd, PATDEV_OBJ_ANON, pages * page, cache, 0, flags, off))
		return MAP_FAILED;
	p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, *off);
	return p;
}

/* Two one-page objects of mode @cache, mapped: 0, or -1. */
static inline int make_two(int fd, __u64 cache, unsigned long long *a, unsigned char **pa,
			   unsigned long long *b, unsigned char **pb)
{
	*pa = make_obj(NULL, fd, 1, cache, 0, a);
	*pb = make_obj(NULL, fd, 1, cache, 0, b);
	return *pa == MAP_FAILED || *pb == MAP_FAILED ? -1 : 0;
}

/* Page @from of a mapped object into the device and back into page @to. */
static inline int copy_through(void *regs, const struct patdev_dma_seg *segs, __u64 nsegs,
			       size_t from, size_t to)
{
	size_t page = sysconf(_SC_PAGESIZE);

	return edu_copy(regs, patdev_dma_addr(segs, nsegs, from * page),
			patdev_dma_addr(segs, nsegs, to * page), page);
}

#endif /* _PATDEV_EDU_FIXTURE_H */
