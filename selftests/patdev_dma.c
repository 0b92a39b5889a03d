// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests for DMA by a device bound to patdev (PATDEV_IOC_DMA_MAP):
 * QEMU's edu device, which scripts/vm.sh attaches to every VM, driven from
 * user space through the UC mapping of its BAR 0 (tools/patdev_edu.h).
 * Its DMA engine copies a pattern from one page of a RAM object into the
 * device's buffer and back into another page; the result is read through
 * the object's user mapping. Run with PATDEV_EXPECT_IOMMU=0 or 1: the lane
 * says whether the device is behind an IOMMU, and the tests check it is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/types.h>

#include "patdev_edu_fixture.h"

FIXTURE_VARIANT(edu) {
	__u64 cache;
};

FIXTURE_VARIANT_ADD(edu, wb) { .cache = PATDEV_CACHE_WB };
FIXTURE_VARIANT_ADD(edu, wc) { .cache = PATDEV_CACHE_WC };
FIXTURE_VARIANT_ADD(edu, uc_minus) { .cache = PATDEV_CACHE_UC_MINUS };

/*
 * NetBSD's bus_dmamem_mmap() beside bus_space_mmap(): the program maps the
 * device's registers (UC) and a DMA buffer in the variant's mode, and the
 * device's engine copies page 0 into its buffer and back into page 2. The
 * user mapping keeps its mode throughout.
 */
TEST_F(edu, device_copies_between_pages_of_a_mapped_object)
{
	struct patdev_dma_seg segs[MAXSEGS];
	__u64 nsegs = MAXSEGS, handle;
	unsigned long long off;
	struct patdev_objinfo info;
	struct patdev_query q;
	unsigned char *p;

	p = make_obj(_metadata, self->fd, 3, variant->cache, 0, &off);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, patdev_objinfo(self->fd, off / self->page, &info));
	fill(p, self->page, 21);
	memset(p + self->page, 0x5a, 2 * self->page);
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, off, ALL, 64, segs, &nsegs, &handle));
	ASSERT_LE(1, nsegs);
	ASSERT_EQ(0, copy_through(self->regs, segs, nsegs, 0, 2));
	EXPECT_EQ(0, differing(p + 2 * self->page, self->page, 21))
	EXPECT_EQ(0, differing(p, self->page, 21));
	EXPECT_EQ(0, not_byte(p + self->page, self->page, 0x5a));
	ASSERT_EQ(0, patdev_query(self->fd, p + 2 * self->page, &q));
	EXPECT_EQ(info.cache, q.cache) TH_LOG("the entry is %llu", (unsigned long long)q.cache);
	EXPECT_EQ(0, patdev_dma_unmap(self->fd, handle));
	munmap(p, 3 * self->page);
	EXPECT_EQ(0, patdev_destroy(self->fd, off, 0));
}

/* The device masters the bus only while it has a mapping. */
TEST_F(edu, bus_mastering_only_while_mapped)
{
	struct patdev_dma_seg segs[MAXSEGS];
	__u64 n1 = MAXSEGS, n2 = MAXSEGS, h1, h2;
	unsigned long long a, b;
	unsigned char *pa, *pb;

	ASSERT_EQ(0, make_two(self->fd, variant->cache, &a, &pa, &b, &pb));
	EXPECT_EQ(0, bus_master(self->dir));
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, a, ALL, 64, segs, &n1, &h1));
	EXPECT_EQ(1, bus_master(self->dir));
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, b, ALL, 64, segs, &n2, &h2));
	EXPECT_EQ(0, patdev_dma_unmap(self->fd, h1));
	EXPECT_EQ(1, bus_master(self->dir));
	EXPECT_EQ(0, patdev_dma_unmap(self->fd, h2));
	EXPECT_EQ(0, bus_master(self->dir));
	EXPECT_EQ(-1, patdev_dma_unmap(self->fd, h2));
	EXPECT_EQ(ENOENT, errno);
	munmap(pa, self->page);
	munmap(pb, self->page);
}

/*
 * Once the last mapping is gone the device cannot write memory: a
 * transfer programmed to the address an unmapped page had does not land
 * (bus mastering is off; behind an IOMMU the address is unmapped too).
 */
TEST_F(edu, no_mapping_no_dma)
{
	struct patdev_dma_seg sa[MAXSEGS], sb[MAXSEGS];
	__u64 na = MAXSEGS, nb = MAXSEGS, ha, hb;
	unsigned long long a, b;
	unsigned char *pa, *pb;

	ASSERT_EQ(0, make_two(self->fd, variant->cache, &a, &pa, &b, &pb));
	fill(pa, self->page, 7);
	memset(pb, 0, self->page);
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, a, ALL, 64, sa, &na, &ha));
	ASSERT_EQ(0, edu_dma(self->regs, sa[0].addr, EDU_BUF, EDU_XFER_MAX, 0));
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, b, ALL, 64, sb, &nb, &hb));
	ASSERT_EQ(0, patdev_dma_unmap(self->fd, ha));
	ASSERT_EQ(0, patdev_dma_unmap(self->fd, hb));
	/* The object's pages are still there: the user mapping holds them. */
	ASSERT_EQ(0, edu_dma(self->regs, EDU_BUF, sb[0].addr, EDU_XFER_MAX, 1));
	EXPECT_EQ(0, not_byte(pb, self->page, 0)) TH_LOG("nothing may land");
	munmap(pa, self->page);
	munmap(pb, self->page);
}

/* Microseconds of the monotonic clock. */
static long long now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

/*
 * Unbinding the device stops it first: a transfer into the object that
 * is still pending (edu runs it 100 ms after the start) when the
 * unbinding begins never lands, though the unbinding itself may last
 * longer (it resets the device), and the mappings are gone (the handle is
 * unknown, the object can change mode again). The unbinding turns bus
 * mastering off as it begins: well inside 100 ms of the start, which
 * comes right before it.
 */
TEST_F(edu, unbinding_stops_a_transfer_in_flight_and_ends_the_mappings)
{
	struct patdev_dma_seg sa[MAXSEGS], sb[MAXSEGS];
	__u64 na = MAXSEGS, nb = MAXSEGS, ha, hb;
	unsigned long long a, b;
	unsigned char *pa, *pb;
	long long t0, took;

	ASSERT_EQ(0, make_two(self->fd, variant->cache, &a, &pa, &b, &pb));
	fill(pa, self->page, 3);
	memset(pb, 0, self->page);
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, a, ALL, 64, sa, &na, &ha));
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, b, ALL, 64, sb, &nb, &hb));
	ASSERT_EQ(0, edu_dma(self->regs, sa[0].addr, EDU_BUF, EDU_XFER_MAX, 0));
	t0 = now_us();
	edu_dma_start(self->regs, EDU_BUF, sb[0].addr, EDU_XFER_MAX, 1);
	ASSERT_EQ(0, patdev_pci_unbind(self->dir));
	took = now_us() - t0;
	usleep(300000);
	EXPECT_EQ(0, not_byte(pb, self->page, 0))
		TH_LOG("the transfer landed (the unbinding took %lld us)", took);
	EXPECT_EQ(-1, patdev_dma_unmap(self->fd, ha));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, patdev_set_cache(self->fd, b, PATDEV_CACHE_WB));
	EXPECT_EQ(0, patdev_set_cache(self->fd, b, variant->cache));
	munmap(self->regs, self->page);
	self->regs = MAP_FAILED;
	ASSERT_EQ(0, patdev_pci_bind(self->dir));
	EXPECT_EQ(0, bus_master(self->dir));
	ASSERT_EQ(0, patdev_pci_bar_offset(self->dir, 0, &self->dev));
	munmap(pa, self->page);
	munmap(pb, self->page);
}

/*
 * The pages of a mapping that ended without its owner (here: by the
 * unbinding) stay unused for dma_quarantine_ms, for a late transfer of a
 * device that a reset does not stop, then go. The object was destroyed:
 * the mapping held its only reference.
 */
/* Whether <debugfs>/patdev/dma lists no quarantined pages. */
static int quarantine_empty(void)
{
	char line[256];
	int empty = 1;
	FILE *f = fopen(DMA_DEBUGFS, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "quarantine:", 11))
			empty = 0;
	fclose(f);
	return empty;
}

TEST_F(edu, pages_of_an_ended_mapping_are_kept_a_while)
{
	struct patdev_dma_seg segs[MAXSEGS];
	long objs, pages, objs2, pages2;
	__u64 n = MAXSEGS, h;
	unsigned long long off;
	unsigned char *p;
	long ms = patdev_read_long("/sys/module/patdev/parameters/dma_quarantine_ms");

	patdev_need_debugfs("/sys/kernel/debug/patdev/stats");
	ASSERT_LE(500, ms);
	/* Earlier tests' quarantined pages go first: they would count here. */
	for (n = 0; n < 100 && quarantine_empty() != 1; n++)
		usleep(100 * 1000);
	ASSERT_EQ(1, quarantine_empty());
	n = MAXSEGS;
	p = make_obj(_metadata, self->fd, 2, variant->cache, 0, &off);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, off, ALL, 64, segs, &n, &h));
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
	ASSERT_EQ(0, munmap(p, 2 * self->page));
	ASSERT_EQ(0, patdev_stats(&objs, &pages));
	munmap(self->regs, self->page);
	self->regs = MAP_FAILED;
	ASSERT_EQ(0, patdev_pci_unbind(self->dir));
	ASSERT_EQ(0, patdev_stats(&objs2, &pages2));
	EXPECT_EQ(pages, pages2) TH_LOG("the pages went at once");
	usleep((ms + 500) * 1000);
	ASSERT_EQ(0, patdev_stats(&objs2, &pages2));
	EXPECT_EQ(pages - 2, pages2) TH_LOG("the pages stayed past the quarantine");
	ASSERT_EQ(0, patdev_pci_bind(self->dir));
	ASSERT_EQ(0, patdev_pci_bar_offset(self->dir, 0, &self->dev));
	/* The BAR's object is back: one object less, the destroyed one. */
	ASSERT_EQ(0, patdev_stats(&objs2, &pages2));
	EXPECT_EQ(objs - 1, objs2);
}

/*
 * In a child with its own open of the device: makes a one-page object of
 * mode @cache and maps it for the device at BAR offset @dev, without
 * CAP_SYS_RAWIO if @drop_rawio, then exits, its mapping left to the close.
 * Returns 0 if the mapping was made with bus mastering on, the errno of
 * the failed call otherwise (or 255 for a failure of the child itself).
 */
static int map_in_child(const char *dir, unsigned long long dev, __u64 cache, int drop_rawio)
{
	struct patdev_dma_seg segs[MAXSEGS];
	__u64 n = MAXSEGS, h;
	unsigned long long off;
	int status, fd;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return 255;
	if (!pid) {
		fd = open(DEV, O_RDWR);
		if (fd < 0 || make_obj(NULL, fd, 1, cache, 0, &off) == MAP_FAILED ||
		    (drop_rawio && patdev_drop_cap(CAP_SYS_RAWIO)))
			_exit(255);
		if (patdev_dma_map(fd, dev, off, ALL, 64, segs, &n, &h))
			_exit(errno & 0xff);
		_exit(bus_master(dir) == 1 ? 0 : 255);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 255;
	return WEXITSTATUS(status);
}

/*
 * Closing the file that mapped ends its mappings and turns bus mastering
 * off; as the device may still hold a transfer of the dead owner, no one
 * maps for it again (EBUSY) until it is reset, which revokes its BARs
 * (new offsets).
 */
TEST_F(edu, closing_the_file_ends_its_mappings_until_a_reset)
{
	struct patdev_dma_seg segs[MAXSEGS];
	__u64 n = MAXSEGS, h;
	unsigned long long off;
	unsigned char *p;

	ASSERT_EQ(0, map_in_child(self->dir, self->dev, variant->cache, 0));
	EXPECT_EQ(0, bus_master(self->dir));
	p = make_obj(_metadata, self->fd, 1, variant->cache, 0, &off);
	ASSERT_NE(MAP_FAILED, p);
	n = MAXSEGS;
	EXPECT_EQ(-1, patdev_dma_map(self->fd, self->dev, off, ALL, 64, segs, &n, &h));
	EXPECT_EQ(EBUSY, errno);
	munmap(self->regs, self->page);
	self->regs = MAP_FAILED;
	ASSERT_EQ(0, patdev_pci_reset(self->dir))
		TH_LOG("edu has no reset: scripts/vm.sh puts it behind a root port");
	n = MAXSEGS;
	EXPECT_EQ(-1, patdev_dma_map(self->fd, self->dev, off, ALL, 64, segs, &n, &h));
	EXPECT_EQ(ENXIO, errno) TH_LOG("the reset revoked the BAR's offset");
	ASSERT_EQ(0, patdev_pci_bar_offset(self->dir, 0, &self->dev));
	n = MAXSEGS;
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, off, ALL, 64, segs, &n, &h));
	EXPECT_EQ(1, bus_master(self->dir));
	EXPECT_EQ(0, patdev_dma_unmap(self->fd, h));
	munmap(p, self->page);
}

/* One open file drives a device at a time; another's handles are unknown. */
TEST_F(edu, one_file_maps_for_a_device_at_a_time)
{
	struct patdev_dma_seg segs[MAXSEGS];
	__u64 n = MAXSEGS, h, h2;
	unsigned long long a, b;
	unsigned char *pa, *pb;
	int fd2 = open(DEV, O_RDWR);

	ASSERT_LE(0, fd2);
	pa = make_obj(_metadata, self->fd, 1, variant->cache, 0, &a);
	pb = make_obj(_metadata, fd2, 1, variant->cache, 0, &b);
	ASSERT_NE(MAP_FAILED, pa);
	ASSERT_NE(MAP_FAILED, pb);
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, a, ALL, 64, segs, &n, &h));
	n = MAXSEGS;
	EXPECT_EQ(-1, patdev_dma_map(fd2, self->dev, b, ALL, 64, segs, &n, &h2));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(-1, patdev_dma_unmap(fd2, h));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, patdev_dma_unmap(self->fd, h));
	n = MAXSEGS;
	ASSERT_EQ(0, patdev_dma_map(fd2, self->dev, b, ALL, 64, segs, &n, &h2));
	EXPECT_EQ(0, patdev_dma_unmap(fd2, h2));
	munmap(pa, self->page);
	munmap(pb, self->page);
	close(fd2);
}

/*
 * A mapping holds its object: the mode cannot change nor the object be
 * revoked under the device (EBUSY); a DESTROY takes its name, and the
 * memory stays until the mapping ends, the device still writing it.
 */
TEST_F(edu, a_mapping_holds_its_object_memory_and_mode)
{
	struct patdev_dma_seg segs[MAXSEGS];
	__u64 n = MAXSEGS, h;
	unsigned long long off;
	long objs, pages, objs2, pages2;
	unsigned char *p;

	patdev_need_debugfs("/sys/kernel/debug/patdev/stats");
	p = make_obj(_metadata, self->fd, 2, variant->cache, 0, &off);
	ASSERT_NE(MAP_FAILED, p);
	fill(p, self->page, 9);
	memset(p + self->page, 0, self->page);
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, off, ALL, 64, segs, &n, &h));
	EXPECT_EQ(-1, patdev_set_cache(self->fd, off, variant->cache == PATDEV_CACHE_WB ?
				       PATDEV_CACHE_WC : PATDEV_CACHE_WB));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(-1, patdev_destroy(self->fd, off, PATDEV_DESTROY_REVOKE));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
	ASSERT_EQ(0, copy_through(self->regs, segs, n, 0, 1));
	EXPECT_EQ(0, differing(p + self->page, self->page, 9));
	ASSERT_EQ(0, munmap(p, 2 * self->page));
	ASSERT_EQ(0, patdev_stats(&objs, &pages));
	ASSERT_EQ(0, patdev_dma_unmap(self->fd, h));
	ASSERT_EQ(0, patdev_stats(&objs2, &pages2));
	EXPECT_EQ(objs - 1, objs2);
	EXPECT_EQ(pages - 2, pages2);
}

/*
 * DMA is no user access: a tracked object's pages that the device reads
 * and writes stay unreferenced and unmodified (its transfers do not go
 * through the CPU's page tables, where patdev's tracking sees accesses).
 * The user's read of the result is a reference, and no modification.
 */
TEST_F(edu, device_transfers_do_not_mark_a_tracked_object)
{
	struct patdev_mr mr = { .npages = 2, .flags = PATDEV_MR_MODIFIED | PATDEV_MR_REFERENCED };
	struct patdev_dma_seg segs[MAXSEGS];
	__u64 n = MAXSEGS, h;
	unsigned long long off;
	unsigned char *p;

	p = make_obj(_metadata, self->fd, 2, variant->cache, PATDEV_CREATE_TRACK, &off);
	ASSERT_NE(MAP_FAILED, p);
	fill(p, self->page, 5);
	memset(p + self->page, 0, self->page);
	mr.offset = off;
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_MR_CLEAR, &mr));
	EXPECT_EQ(2, mr.modified);
	mr.flags = 0;
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, off, ALL, 64, segs, &n, &h));
	ASSERT_EQ(0, copy_through(self->regs, segs, n, 0, 1));
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_MR_QUERY, &mr));
	EXPECT_EQ(0, mr.modified);
	EXPECT_EQ(0, mr.referenced);
	EXPECT_EQ(0, differing(p + self->page, self->page, 5));
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_MR_QUERY, &mr));
	EXPECT_EQ(0, mr.modified);
	EXPECT_EQ(1, mr.referenced);
	mr.first = 1;
	mr.npages = 1;
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_MR_QUERY, &mr));
	EXPECT_EQ(1, mr.referenced) TH_LOG("the page the user read");
	EXPECT_EQ(0, patdev_dma_unmap(self->fd, h));
	munmap(p, 2 * self->page);
}

/* Every bad input has its errno, and leaves nothing mapped. */
TEST_F(edu, bad_input)
{
	struct patdev_dma_seg segs[MAXSEGS];
	struct patdev_dma_map m;
	unsigned long long off, inside;
	__u64 n, h;
	unsigned char *p;
	void *z;
	int ro;

	p = make_obj(_metadata, self->fd, 2, variant->cache, 0, &off);
	ASSERT_NE(MAP_FAILED, p);
	inside = off + self->page;
#define BAD(err, dev, obj, flags, bits) do {						\
		n = MAXSEGS;								\
		EXPECT_EQ(-1, patdev_dma_map(self->fd, dev, obj, flags, bits, segs, &n, &h)); \
		EXPECT_EQ(err, errno);							\
	} while (0)
	BAD(EINVAL, self->dev, off, 0, 64);
	BAD(EINVAL, self->dev, off, 4, 64);
	BAD(EINVAL, self->dev, off, ALL, 23);
	BAD(EINVAL, self->dev, off, ALL, 65);
	BAD(ENODEV, off, off, ALL, 64);			/* no BAR */
	BAD(ENXIO, 0x7fff00000000ULL, off, ALL, 64);	/* names nothing */
	BAD(ENXIO, self->dev, inside, ALL, 64);		/* not an object's start */
	BAD(EINVAL, self->dev, off + 1, ALL, 64);
	BAD(EINVAL, self->dev + 1, off, ALL, 64);
	BAD(EOPNOTSUPP, self->dev, self->dev, ALL, 64);	/* device memory */
#undef BAD
	memset(&m, 0, sizeof(m));
	m.device = self->dev;
	m.offset = off;
	m.flags = ALL;
	m.dma_bits = 64;
	m.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, PATDEV_IOC_DMA_MAP, &m));
	EXPECT_EQ(EINVAL, errno);
	/* Too small an array: E2BIG, and how many it takes. */
	m.reserved = 0;
	m.segs = (uintptr_t)segs;
	m.nsegs = 0;
	EXPECT_EQ(-1, ioctl(self->fd, PATDEV_IOC_DMA_MAP, &m));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_LE(1, m.nsegs);
	EXPECT_GE(2, m.nsegs);
	EXPECT_EQ(0, m.handle) TH_LOG("no mapping, no handle");
	m.nsegs = MAXSEGS;
	m.segs = 8;
	EXPECT_EQ(-1, ioctl(self->fd, PATDEV_IOC_DMA_MAP, &m));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, PATDEV_IOC_DMA_MAP, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, bus_master(self->dir)) TH_LOG("a failed call left a mapping");
	EXPECT_EQ(-1, patdev_dma_unmap(self->fd, 0));
	EXPECT_EQ(ENOENT, errno);
	/* The device writes: not through a file opened read-only. */
	ro = open(DEV, O_RDONLY);
	ASSERT_LE(0, ro);
	z = mmap(NULL, self->page, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, z);
	n = MAXSEGS;
	EXPECT_EQ(-1, patdev_dma_map(ro, self->dev, 0, PATDEV_DMA_FROM_DEVICE, 64, segs, &n, &h));
	EXPECT_EQ(EACCES, errno);
	munmap(z, self->page);
	/* Another file's created object is its creator's (EPERM). */
	EXPECT_EQ(-1, patdev_dma_map(ro, self->dev, off, PATDEV_DMA_TO_DEVICE, 64, segs, &n, &h));
	EXPECT_EQ(EPERM, errno);
	close(ro);
	/* The mask stays while mapped. */
	n = MAXSEGS;
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, off, ALL, 64, segs, &n, &h));
	n = MAXSEGS;
	EXPECT_EQ(-1, patdev_dma_map(self->fd, self->dev, off, ALL, 40, segs, &n, &h));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, patdev_dma_unmap(self->fd, h));
	EXPECT_EQ(0, bus_master(self->dir));
	munmap(p, 2 * self->page);
}

#define MAX_OBJECTS "/sys/module/patdev/parameters/max_objects"

/*
 * A device has at most PATDEV_DMA_MAX_MAPS mappings (ENOSPC past them),
 * each of another object (EEXIST for a second of one: DMA_API_DEBUG warns
 * of a program's overlapping writable mappings).
 */
TEST_F(edu, mappings_per_device_are_bounded)
{
	static __u64 handles[PATDEV_DMA_MAX_MAPS];
	static unsigned long long offs[PATDEV_DMA_MAX_MAPS + 1];
	struct patdev_dma_seg segs[MAXSEGS];
	long max_objects = patdev_read_long(MAX_OBJECTS);
	__u64 n, h;
	int i;

	ASSERT_LT(0, max_objects);
	ASSERT_EQ(0, patdev_write_long(MAX_OBJECTS, 2 * PATDEV_DMA_MAX_MAPS));
	for (i = 0; i <= PATDEV_DMA_MAX_MAPS; i++) {
		ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, self->page, variant->cache,
					   0, 0, &offs[i])) TH_LOG("object %d", i);
		n = MAXSEGS;
		if (i < PATDEV_DMA_MAX_MAPS)
			ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, offs[i], ALL, 64, segs, &n,
						    &handles[i])) TH_LOG("mapping %d", i);
	}
	n = MAXSEGS;
	EXPECT_EQ(-1, patdev_dma_map(self->fd, self->dev, offs[i - 1], ALL, 64, segs, &n, &h));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, patdev_dma_unmap(self->fd, handles[0]));
	n = MAXSEGS;
	EXPECT_EQ(-1, patdev_dma_map(self->fd, self->dev, offs[1], ALL, 64, segs, &n, &h));
	EXPECT_EQ(EEXIST, errno);
	for (i = 1; i < PATDEV_DMA_MAX_MAPS; i++)
		ASSERT_EQ(0, patdev_dma_unmap(self->fd, handles[i]));
	EXPECT_EQ(0, bus_master(self->dir));
	for (i = 0; i <= PATDEV_DMA_MAX_MAPS; i++)
		EXPECT_EQ(0, patdev_destroy(self->fd, offs[i], 0));
	EXPECT_EQ(0, patdev_write_long(MAX_OBJECTS, max_objects));
}

/* A read-only object, as a read-only file, is only read by the device. */
TEST_F(edu, read_only_objects_and_files_are_read_by_the_device_only)
{
	struct patdev_dma_seg segs[MAXSEGS];
	unsigned long long off;
	__u64 n = MAXSEGS, h;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, self->page, variant->cache, 0,
				   PATDEV_CREATE_READONLY, &off));
	EXPECT_EQ(-1, patdev_dma_map(self->fd, self->dev, off, PATDEV_DMA_FROM_DEVICE, 64, segs,
				     &n, &h));
	EXPECT_EQ(EACCES, errno);
	n = MAXSEGS;
	EXPECT_EQ(-1, patdev_dma_map(self->fd, self->dev, off, ALL, 64, segs, &n, &h));
	EXPECT_EQ(EACCES, errno);
	n = MAXSEGS;
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, off, PATDEV_DMA_TO_DEVICE, 64, segs,
				    &n, &h));
	EXPECT_EQ(0, patdev_dma_unmap(self->fd, h));
	EXPECT_EQ(0, patdev_destroy(self->fd, off, 0));
}

/* Mapping for a device is root's, as /dev/mem is: CAP_SYS_RAWIO. */
TEST_F(edu, dma_needs_cap_sys_rawio)
{
	EXPECT_EQ(EPERM, map_in_child(self->dir, self->dev, variant->cache, 1));
	EXPECT_EQ(0, bus_master(self->dir));
}

/*
 * A device that drives fewer address bits than the pages need is refused
 * where the pages would be bounced (no IOMMU: EREMOTEIO), never given a
 * bounce buffer's address; behind an IOMMU it gets IOVAs below its limit.
 * 24 bits: patdev's pages lie above 16 MiB.
 */
TEST_F(edu, unreachable_pages_are_refused_not_bounced)
{
	struct patdev_dma_seg segs[MAXSEGS];
	__u64 n = MAXSEGS, h, i;
	unsigned long long off;
	struct patdev_query q;
	unsigned char *p;

	p = make_obj(_metadata, self->fd, 2, variant->cache, 0, &off);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	p[self->page] = 1;
	ASSERT_EQ(0, patdev_query(self->fd, p, &q));
	ASSERT_LT(1ULL << 24, q.pfn * self->page) TH_LOG("the page lies below 16 MiB");
	if (!self->iommu) {
		EXPECT_EQ(-1, patdev_dma_map(self->fd, self->dev, off, ALL, 24, segs, &n, &h));
		EXPECT_EQ(EREMOTEIO, errno);
		EXPECT_EQ(0, bus_master(self->dir));
	} else {
		ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, off, ALL, 24, segs, &n, &h));
		for (i = 0; i < n; i++)
			EXPECT_GE(1ULL << 24, segs[i].addr + segs[i].len);
		EXPECT_EQ(0, copy_through(self->regs, segs, n, 0, 1));
		EXPECT_EQ(0, patdev_dma_unmap(self->fd, h));
	}
	munmap(p, 2 * self->page);
}

/*
 * The addresses: without an IOMMU the pages' own (physical, on x86), in
 * the object's page order; behind one, IOVAs, which are not.
 */
TEST_F(edu, addresses_are_the_pages_own_or_iovas)
{
	struct patdev_dma_seg segs[MAXSEGS];
	__u64 n = MAXSEGS, h, i, same = 0;
	unsigned long long off;
	struct patdev_query q;
	unsigned char *p;

	p = make_obj(_metadata, self->fd, 4, variant->cache, 0, &off);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, off, ALL, 64, segs, &n, &h));
	for (i = 0; i < 4; i++) {
		p[i * self->page] = 1;
		ASSERT_EQ(0, patdev_query(self->fd, p + i * self->page, &q));
		ASSERT_NE(0, q.pfn) TH_LOG("QUERY shows frames to root");
		same += patdev_dma_addr(segs, n, i * self->page) == q.pfn * self->page;
	}
	EXPECT_EQ(self->iommu ? 0 : 4, same);
	EXPECT_EQ(0, patdev_dma_unmap(self->fd, h));
	munmap(p, 4 * self->page);
}

static sigjmp_buf racer_jmp;

static void racer_sigbus(int sig)
{
	siglongjmp(racer_jmp, 1);
}

/* Starts a transfer into @addr, unless the registers' mapping is revoked. */
static void racer_start(void *regs, __u64 addr)
{
	if (!sigsetjmp(racer_jmp, 1))
		edu_dma_start(regs, EDU_BUF, addr, EDU_XFER_MAX, 1);
}

/* Whether a transfer still runs after a second; 1 if the registers went. */
static int racer_busy(void *regs)
{
	if (sigsetjmp(racer_jmp, 1))
		return 1;
	return edu_dma_wait(regs, 1000) ? 1 : 0;
}

/*
 * Waits, through the registers at the BAR's current offset, for the
 * device to finish a transfer: an unmap is the owner's promise that the
 * device is done. A reset keeps the mappings and revokes the BARs, and
 * edu's transfer outlives it: while the device stays bound, its new
 * offset is waited for. Once unbound or removed there is nothing to ask
 * (the mappings ended with it, their pages in quarantine).
 */
static void racer_settle(int fd, const char *dir)
{
	size_t page = sysconf(_SC_PAGESIZE);
	unsigned long long dev;
	char drv[64];
	int tries;

	for (tries = 0; tries < 5000; tries++) {
		void *regs;
		int busy = 1;

		patdev_pci_driver(dir, drv, sizeof(drv));
		if (strcmp(drv, "patdev"))
			return;
		if (!patdev_pci_bar_offset(dir, 0, &dev)) {
			regs = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, dev);
			if (regs != MAP_FAILED) {
				busy = racer_busy(regs);
				munmap(regs, page);
			}
		}
		if (!busy)
			return;
		usleep(1000);
	}
}

/*
 * One racer, until *@stop: maps an object for the device under whatever
 * BAR offset sysfs tells, starts a transfer into it through the registers'
 * mapping, maps and unmaps the object in user space, and unmaps it for
 * the device, over and over. Racer 1 destroys its object while mapped, so
 * the DMA mapping holds the only reference. Before an unmap it waits for
 * the device's transfer, as a driver must. The answers a device going
 * away can cause are fine (ENXIO, ENODEV, ENOENT, EBUSY: another racer
 * drives the device; SIGBUS on the registers); any other, a crash or a
 * kernel report is not. Exit status: 0 with at least one mapping made.
 */
static int racer(const char *dir, int id, const int *stop)
{
	struct sigaction sa = { .sa_handler = racer_sigbus };
	size_t page = sysconf(_SC_PAGESIZE);
	struct patdev_dma_seg segs[MAXSEGS];
	unsigned long long dev, off;
	unsigned long maps = 0;
	__u64 n, h;
	int fd = open(DEV, O_RDWR);

	if (fd < 0)
		return 2;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	while (!__atomic_load_n(stop, __ATOMIC_RELAXED)) {
		unsigned char *p, *regs;

		if (patdev_pci_bar_offset(dir, 0, &dev)) {
			usleep(1000);
			continue;
		}
		if (patdev_create(fd, PATDEV_OBJ_ANON, 2 * page, PATDEV_CACHE_WC, 0, 0, &off))
			return 3;
		n = MAXSEGS;
		if (patdev_dma_map(fd, dev, off, ALL, 64, segs, &n, &h)) {
			if (errno != ENXIO && errno != ENODEV && errno != EBUSY)
				return 10 + errno;
			patdev_destroy(fd, off, 0);
			usleep(1000);
			continue;
		}
		maps++;
		if (id == 1 && patdev_destroy(fd, off, 0))
			return 4;
		regs = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, dev);
		if (regs != MAP_FAILED)
			racer_start(regs, segs[0].addr + page);
		p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
		if (p != MAP_FAILED) {
			p[0] = 1;
			munmap(p, 2 * page);
		}
		if (regs != MAP_FAILED)
			munmap(regs, page);
		usleep((maps % 7) * 3000);
		racer_settle(fd, dir);
		if (patdev_dma_unmap(fd, h) && errno != ENOENT)
			return 5;
		if (id != 1)
			patdev_destroy(fd, off, 0);
	}
	close(fd);
	return maps ? 0 : 6;
}

/*
 * Unbinding, removal and reset racing mappings for the device, transfers
 * in flight, user mappings of the same objects and their destruction:
 * no crash, no kernel report (the debug lane: KASAN, lockdep,
 * DMA_API_DEBUG, which reports a mapping left at unbinding), and in the
 * end no mapping and bus mastering off. A reset keeps the mappings and
 * rebinds nothing (edu's reset is its root port's bus reset, vm.sh).
 */
TEST_F_TIMEOUT(edu, unbind_and_removal_race_mappings_and_transfers, 600)
{
	int *stop = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			 -1, 0);
	int (*revoke[])(const char *dir) = {
		patdev_pci_unbind, patdev_pci_remove_rescan, patdev_pci_reset,
	};
	pid_t pids[2];
	int i, round, status;

	ASSERT_NE(MAP_FAILED, stop);
	munmap(self->regs, self->page);
	self->regs = MAP_FAILED;
	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(racer(self->dir, i, stop));
		ASSERT_LT(0, pids[i]);
	}
	for (round = 0; round < 6; round++) {
		int r = round % 3;

		usleep(150 * 1000);
		ASSERT_EQ(0, revoke[r](self->dir)) TH_LOG("round %d", round);
		if (r != 2)
			ASSERT_EQ(0, patdev_pci_bind(self->dir)) TH_LOG("round %d", round);
	}
	__atomic_store_n(stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_EQ(0, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status))
			TH_LOG("racer %d", i);
	}
	EXPECT_EQ(0, bus_master(self->dir));
	munmap(stop, self->page);
}

TEST_HARNESS_MAIN
