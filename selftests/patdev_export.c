// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests for RAM objects exported as dma-bufs (PATDEV_IOC_EXPORT) and
 * used by real importers: vgem (DRM PRIME: import, mmap of the GEM object)
 * and vivid (V4L2 capture into V4L2_MEMORY_DMABUF buffers, with vivid's
 * vmalloc allocator on /dev/video of instance 0 and its dma-contig one on
 * instance 1: scripts/guest.sh loads vivid so). Every mode is read from a
 * page table: the user entries through PATDEV_IOC_QUERY, the importers'
 * kernel mapping through <debugfs>/patdev/exports, which reads the
 * kernel's page table.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <drm/drm.h>
#include <linux/dma-buf.h>
#include <linux/types.h>
#include <linux/videodev2.h>

#include "kselftest_harness.h"
#include "patdev_names.h"
#include "patdev_selftest.h"
#include "patdev_user.h"

#define DEV "/dev/patdev"
#define MIB (1024UL * 1024)
#define EXPORTS PATDEV_DEBUGFS "/patdev/exports"

FIXTURE(export) {
	int fd;
	size_t page;
	int huge;
	unsigned int wc;	/* what WC is here: UC- without PAT */
};

FIXTURE_SETUP(export)
{
	struct patdev_version v;

	self->page = sysconf(_SC_PAGESIZE);
	self->fd = open(DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_VERSION, &v));
	ASSERT_TRUE(v.features & PATDEV_FEAT_EXPORT);
	self->huge = !!(v.features & PATDEV_FEAT_HUGE);
	self->wc = patdev_pat_on() ? PATDEV_CACHE_WC : PATDEV_CACHE_UC_MINUS;
	patdev_need_debugfs(EXPORTS);
}

FIXTURE_TEARDOWN(export)
{
	close(self->fd);
}

/*
 * An mmap of @len bytes of @fd at a 2 MiB-aligned address: a dma-buf's
 * file has no placement of its own, so the caller picks the address, as
 * a user wanting 2 MiB entries would.
 */
static void *map_aligned(int fd, size_t len, int prot, off_t off)
{
	size_t pad = len + 2 * MIB;
	char *area = mmap(NULL, pad, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *at, *p;

	if (area == MAP_FAILED)
		return MAP_FAILED;
	at = (char *)(((uintptr_t)area + 2 * MIB - 1) & ~(2 * MIB - 1));
	p = mmap(at, len, prot, MAP_SHARED | MAP_FIXED, fd, off);
	if (p == MAP_FAILED) {
		int err = errno;

		munmap(area, pad);
		errno = err;
		return MAP_FAILED;
	}
	if (at > area)
		munmap(area, at - area);
	munmap(at + len, area + pad - (at + len));
	return p;
}

/*
 * The line of <debugfs>/patdev/exports for the object at @off: copies it
 * to @line and returns 0, or -1 if the object has no export.
 */
static int export_line(unsigned long long off, char *line, size_t size)
{
	unsigned long pgoff = off / sysconf(_SC_PAGESIZE), got;
	FILE *f = fopen(EXPORTS, "r");
	int ret = -1;

	while (f && fgets(line, size, f))
		if (sscanf(line, "pgoff %lu:", &got) == 1 && got == pgoff) {
			ret = 0;
			break;
		}
	if (f)
		fclose(f);
	return ret;
}

/* "dma_maps N" of an export's line, or -1. */
static long export_dma_maps(unsigned long long off)
{
	char line[256], *p;

	if (export_line(off, line, sizeof(line)))
		return -1;
	p = strstr(line, "dma_maps ");
	return p ? strtol(p + 9, NULL, 10) : -1;
}

/* The mode word of an export's kernel mapping ("none", "WC", ...), or "". */
static const char *export_vmap(unsigned long long off, char *buf, size_t size)
{
	char line[256], *p;

	buf[0] = 0;
	if (export_line(off, line, sizeof(line)))
		return buf;
	p = strstr(line, "vmap ");
	if (p)
		sscanf(p + 5, "%15s", buf);
	return buf;
}

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(sigbus_jmp, 1);
}

/* 1 if reading @p raises SIGBUS. */
static int read_sigbus(const unsigned char *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int bus = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(sigbus_jmp, 1))
		bus = 1;
	else
		(void)__atomic_load_n(p, __ATOMIC_RELAXED);
	sigaction(SIGBUS, &old, NULL);
	return bus;
}

TEST_F(export, bad_requests_get_their_errno)
{
	struct patdev_export e = { 0 };
	unsigned long long off, ro;
	int rdonly;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, 4 * MIB, PATDEV_CACHE_WC, 0, 0,
				   &off));
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, 64 * 1024, PATDEV_CACHE_WB, 0,
				   PATDEV_CREATE_READONLY, &ro));
	e.offset = off;
	e.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, PATDEV_IOC_EXPORT, &e));
	EXPECT_EQ(EINVAL, errno);
	e.reserved = 0;
	e.flags = 2;
	EXPECT_EQ(-1, ioctl(self->fd, PATDEV_IOC_EXPORT, &e));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, patdev_export(self->fd, off + 1, 0));
	EXPECT_EQ(EINVAL, errno);
	/* Not the object's first offset, and no object at all. */
	EXPECT_EQ(-1, patdev_export(self->fd, off + self->page, 0));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, patdev_export(self->fd, off + 64 * MIB, 0));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, patdev_export(self->fd, 2 * self->page, 0));
	EXPECT_EQ(ENXIO, errno);
	/* Writable: not of a read-only object, nor through a read-only open. */
	EXPECT_EQ(-1, patdev_export(self->fd, ro, PATDEV_EXPORT_WRITE));
	EXPECT_EQ(EACCES, errno);
	rdonly = open(DEV, O_RDONLY);
	ASSERT_LE(0, rdonly);
	EXPECT_EQ(-1, patdev_export(rdonly, PATDEV_PGOFF_SG * self->page, PATDEV_EXPORT_WRITE));
	EXPECT_EQ(EACCES, errno);
	close(rdonly);
	/*
	 * A created object is its creator's to export (an importer pins it
	 * against the creator's changes); the module's own are anyone's.
	 */
	rdonly = open(DEV, O_RDWR);
	ASSERT_LE(0, rdonly);
	EXPECT_EQ(-1, patdev_export(rdonly, off, 0));
	EXPECT_EQ(EPERM, errno);
	e.offset = PATDEV_PGOFF_SG * self->page;
	e.flags = 0;
	ASSERT_EQ(0, ioctl(rdonly, PATDEV_IOC_EXPORT, &e));
	close(e.fd);
	close(rdonly);
	/* A destroyed object's offset names nothing. */
	ASSERT_EQ(0, patdev_destroy(self->fd, ro, 0));
	EXPECT_EQ(-1, patdev_export(self->fd, ro, 0));
	EXPECT_EQ(ENXIO, errno);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
}

TEST_F(export, device_memory_is_not_exported)
{
	char dir[PATH_MAX];
	unsigned long long off;

	/* edu's register BAR, bound to patdev (scripts/vm.sh attaches edu). */
	ASSERT_EQ(0, patdev_pci_find(0x1234, 0x11e8, dir, sizeof(dir)));
	ASSERT_EQ(0, patdev_pci_bind(dir));
	ASSERT_EQ(0, patdev_pci_bar_offset(dir, 0, &off));
	EXPECT_EQ(-1, patdev_export(self->fd, off, 0));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(0, patdev_pci_unbind(dir));
}

TEST_F(export, fd_is_cloexec_with_the_access_asked)
{
	unsigned long long off;
	int rw, ro;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, MIB, PATDEV_CACHE_WC, 0, 0, &off));
	rw = patdev_export(self->fd, off, PATDEV_EXPORT_WRITE);
	ASSERT_LE(0, rw);
	ro = patdev_export(self->fd, off, 0);
	ASSERT_LE(0, ro);
	EXPECT_EQ(FD_CLOEXEC, fcntl(rw, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(FD_CLOEXEC, fcntl(ro, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(rw, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(O_RDONLY, fcntl(ro, F_GETFL) & O_ACCMODE);
	EXPECT_EQ((off_t)MIB, lseek(rw, 0, SEEK_END));
	/* A read-only dma-buf maps for reading only. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
	EXPECT_EQ(EACCES, errno);
	close(rw);
	close(ro);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
}

/*
 * The dma-buf's mmap is a patdev mapping: the device's bytes, the
 * object's mode in every entry, 2 MiB entries where aligned, for every
 * mode a RAM object may have.
 */
TEST_F(export, dmabuf_mmap_has_the_objects_bytes_mode_and_entry_sizes)
{
	const unsigned int modes[] = { PATDEV_CACHE_WB, self->wc, PATDEV_CACHE_UC_MINUS };
	const size_t len = 4 * MIB;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		unsigned long long off;
		struct patdev_query q;
		unsigned char *dev, *buf;
		int dfd;

		/* 2 MiB chunks (order 9), as patdev_huge.c: 2 MiB entries are sure. */
		ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, len, modes[i], 9, 0, &off));
		dev = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
		ASSERT_NE(MAP_FAILED, dev);
		dfd = patdev_export(self->fd, off, PATDEV_EXPORT_WRITE);
		ASSERT_LE(0, dfd);
		buf = map_aligned(dfd, len, PROT_READ | PROT_WRITE, 0);
		ASSERT_NE(MAP_FAILED, buf);
		patdev_fill_pattern(dev, len, 3 + i);
		EXPECT_EQ(0, patdev_check_pattern(buf, len, 3 + i));
		patdev_fill_pattern(buf + MIB, MIB, 9 + i);
		EXPECT_EQ(0, patdev_check_pattern(dev + MIB, MIB, 9 + i));
		ASSERT_EQ(0, patdev_query(self->fd, buf + 3 * MIB, &q));
		EXPECT_TRUE(q.flags & PATDEV_QUERY_PRESENT);
		EXPECT_STREQ(patdev_cache_name(modes[i]), patdev_cache_name(q.cache));
		EXPECT_EQ(self->huge ? 2 * MIB : self->page, q.size);
		munmap(buf, len);
		munmap(dev, len);
		close(dfd);
		ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
	}
}

TEST_F(export, dmabuf_mmap_private_or_past_the_end_is_refused)
{
	unsigned long long off;
	int dfd;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, MIB, PATDEV_CACHE_WC, 0, 0, &off));
	dfd = patdev_export(self->fd, off, PATDEV_EXPORT_WRITE);
	ASSERT_LE(0, dfd);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, MIB, PROT_READ, MAP_PRIVATE, dfd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * MIB, PROT_READ, MAP_SHARED, dfd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ, MAP_SHARED, dfd, MIB));
	EXPECT_EQ(EINVAL, errno);
	close(dfd);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
}

/* An offset into the dma-buf maps the object from that page on. */
TEST_F(export, dmabuf_mmap_at_an_offset_maps_that_page)
{
	unsigned long long off;
	unsigned char *dev, *buf;
	int dfd;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, MIB, PATDEV_CACHE_WC, 0, 0, &off));
	dev = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	ASSERT_NE(MAP_FAILED, dev);
	patdev_fill_pattern(dev, MIB, 21);
	dfd = patdev_export(self->fd, off, 0);
	ASSERT_LE(0, dfd);
	buf = mmap(NULL, 2 * self->page, PROT_READ, MAP_SHARED, dfd, 5 * self->page);
	ASSERT_NE(MAP_FAILED, buf);
	EXPECT_EQ(0, patdev_check_pattern(buf, 2 * self->page,
					  patdev_pattern_seed_at(21, 5 * self->page)));
	munmap(buf, 2 * self->page);
	munmap(dev, MIB);
	close(dfd);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
}

/*
 * With no importer holding it, a mode change reaches the dma-buf's
 * mappings as any other, and a revocation too: SIGBUS, and the dma-buf
 * maps nothing any more.
 */
TEST_F(export, change_and_revocation_reach_dmabuf_mappings)
{
	unsigned long long off;
	struct patdev_query q;
	unsigned char *buf;
	int dfd;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, 2 * MIB, PATDEV_CACHE_WC, 0, 0,
				   &off));
	dfd = patdev_export(self->fd, off, PATDEV_EXPORT_WRITE);
	ASSERT_LE(0, dfd);
	buf = map_aligned(dfd, 2 * MIB, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, buf);
	patdev_fill_pattern(buf, 2 * MIB, 5);
	/* WB: a change from WC, and from what WC is without PAT (UC-). */
	ASSERT_EQ(0, patdev_set_cache(self->fd, off, PATDEV_CACHE_WB));
	ASSERT_EQ(0, patdev_query(self->fd, buf, &q));
	EXPECT_FALSE(q.flags & PATDEV_QUERY_PRESENT);
	EXPECT_EQ(0, patdev_check_pattern(buf, 2 * MIB, 5));
	ASSERT_EQ(0, patdev_query(self->fd, buf, &q));
	EXPECT_STREQ("WB", patdev_cache_name(q.cache));

	ASSERT_EQ(0, patdev_destroy(self->fd, off, PATDEV_DESTROY_REVOKE));
	EXPECT_EQ(1, read_sigbus(buf + 7 * self->page));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ, MAP_SHARED, dfd, 0));
	EXPECT_EQ(ENXIO, errno);
	munmap(buf, 2 * MIB);
	close(dfd);
}

/*
 * The dma-buf holds the object: destroyed and its creator's file closed,
 * the data stays reachable through the dma-buf, and it is freed when the
 * dma-buf goes, whichever goes last.
 */
TEST_F(export, dmabuf_keeps_the_object_until_it_goes)
{
	long objs0, pages0, objs, pages;
	unsigned long long off;
	unsigned char *dev, *buf;
	int fd2, dfd;

	ASSERT_EQ(0, patdev_stats(&objs0, &pages0));
	fd2 = open(DEV, O_RDWR);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, patdev_create(fd2, PATDEV_OBJ_ANON, MIB, PATDEV_CACHE_WC, 0, 0, &off));
	dev = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, off);
	ASSERT_NE(MAP_FAILED, dev);
	patdev_fill_pattern(dev, MIB, 77);
	munmap(dev, MIB);
	dfd = patdev_export(fd2, off, PATDEV_EXPORT_WRITE);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, patdev_destroy(fd2, off, 0));
	close(fd2);
	buf = mmap(NULL, MIB, PROT_READ, MAP_SHARED, dfd, 0);
	ASSERT_NE(MAP_FAILED, buf);
	EXPECT_EQ(0, patdev_check_pattern(buf, MIB, 77));
	ASSERT_EQ(0, patdev_stats(&objs, &pages));
	EXPECT_EQ(objs0 + 1, objs);
	close(dfd);
	/* The mapping holds it now. */
	ASSERT_EQ(0, patdev_stats(&objs, &pages));
	EXPECT_EQ(objs0 + 1, objs);
	munmap(buf, MIB);
	ASSERT_EQ(0, patdev_stats(&objs, &pages));
	EXPECT_EQ(objs0, objs);
	EXPECT_EQ(pages0, pages);
}

/* DMA_BUF_IOCTL_SYNC: the documented flags pass, others are EINVAL. */
TEST_F(export, sync_ioctl_takes_the_documented_flags)
{
	const __u64 good[] = {
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE,
		DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW,
	};
	const __u64 bad[] = { 0, DMA_BUF_SYNC_START, 1ULL << 3, DMA_BUF_SYNC_RW | (1ULL << 40) };
	unsigned long long off;
	unsigned int i;
	int dfd;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, MIB, PATDEV_CACHE_WB, 0, 0, &off));
	dfd = patdev_export(self->fd, off, PATDEV_EXPORT_WRITE);
	ASSERT_LE(0, dfd);
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		struct dma_buf_sync s = { .flags = good[i] };

		EXPECT_EQ(0, ioctl(dfd, DMA_BUF_IOCTL_SYNC, &s))
			TH_LOG("flags %#llx", (unsigned long long)good[i]);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct dma_buf_sync s = { .flags = bad[i] };

		EXPECT_EQ(-1, ioctl(dfd, DMA_BUF_IOCTL_SYNC, &s));
		EXPECT_EQ(EINVAL, errno);
	}
	close(dfd);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
}

/* <debugfs>/dma_buf/bufinfo names patdev as the exporter, with the size. */
TEST_F(export, bufinfo_lists_patdev_as_exporter)
{
	char line[512], want[64];
	unsigned long long off;
	int dfd, found = 0;
	FILE *f;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, 3 * MIB, PATDEV_CACHE_WC, 0, 0,
				   &off));
	dfd = patdev_export(self->fd, off, 0);
	ASSERT_LE(0, dfd);
	f = fopen(PATDEV_DEBUGFS "/dma_buf/bufinfo", "r");
	ASSERT_NE(NULL, f);
	snprintf(want, sizeof(want), "%08lu", 3 * MIB);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, want) && strstr(line, "patdev"))
			found = 1;
	fclose(f);
	EXPECT_TRUE(found);
	close(dfd);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
}

/* A tracked object's state sees writes through the dma-buf's mapping. */
TEST_F(export, tracked_object_marks_writes_through_the_dmabuf)
{
	unsigned long long off;
	struct patdev_mr mr = { 0 };
	unsigned char *buf;
	int dfd;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, 16 * self->page, PATDEV_CACHE_WC,
				   0, PATDEV_CREATE_TRACK, &off));
	dfd = patdev_export(self->fd, off, PATDEV_EXPORT_WRITE);
	ASSERT_LE(0, dfd);
	buf = mmap(NULL, 16 * self->page, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	ASSERT_NE(MAP_FAILED, buf);
	buf[3 * self->page] = 1;
	(void)__atomic_load_n(buf + 5 * self->page, __ATOMIC_RELAXED);
	mr.offset = off;
	mr.npages = 16;
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_MR_QUERY, &mr));
	EXPECT_EQ(1, mr.modified);
	EXPECT_EQ(2, mr.referenced);
	munmap(buf, 16 * self->page);
	close(dfd);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
}

/* Whether bufinfo lists @dev among the attached devices of a 3 MiB patdev buffer. */
static int bufinfo_attached(size_t size, const char *dev)
{
	char line[512], want[32];
	int in = 0, found = 0;
	FILE *f = fopen(PATDEV_DEBUGFS "/dma_buf/bufinfo", "r");

	snprintf(want, sizeof(want), "%08zu", size);
	while (f && fgets(line, sizeof(line), f)) {
		if (line[0] != '\t')
			in = !strncmp(line, want, strlen(want)) && strstr(line, "patdev");
		else if (in && strstr(line, dev))
			found = 1;
	}
	if (f)
		fclose(f);
	return found;
}

/*
 * vgem imports the dma-buf (DRM PRIME). vgem cannot mmap an imported
 * object (DRM refuses MAP_DUMB offsets of imports), so the mapping is made
 * of the dma-buf vgem hands back for its handle: the same buffer, the same
 * bytes, the same mode. Where the import maps the attachment (6.1, 6.12;
 * 7.3 only attaches) the object is pinned: mode changes and revocations
 * are EBUSY until vgem lets go.
 */
TEST_F(export, vgem_imports_maps_back_the_same_bytes_and_mode)
{
	const size_t len = 4 * MIB;
	struct drm_prime_handle back = { 0 };
	struct stat st1, st2;
	__u32 handle;
	unsigned long long off;
	struct patdev_query q;
	unsigned char *dev, *buf;
	int vgem, dfd;
	long maps;

	vgem = patdev_vgem_open();
	ASSERT_LE(0, vgem) TH_LOG("no vgem DRM node (modprobe vgem)");
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, len, PATDEV_CACHE_WC, 9, 0, &off));
	dev = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	ASSERT_NE(MAP_FAILED, dev);
	patdev_fill_pattern(dev, len, 41);
	dfd = patdev_export(self->fd, off, PATDEV_EXPORT_WRITE);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, patdev_vgem_import(vgem, dfd, &handle));
	EXPECT_TRUE(bufinfo_attached(len, "vgem"));
	back.handle = handle;
	back.flags = DRM_CLOEXEC | DRM_RDWR;
	ASSERT_EQ(0, ioctl(vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &back));
	/* vgem hands back patdev's own dma-buf, not one of its own. */
	ASSERT_EQ(0, fstat(dfd, &st1));
	ASSERT_EQ(0, fstat(back.fd, &st2));
	EXPECT_EQ(st1.st_ino, st2.st_ino);
	close(dfd);
	buf = map_aligned(back.fd, len, PROT_READ | PROT_WRITE, 0);
	ASSERT_NE(MAP_FAILED, buf);
	EXPECT_EQ(0, patdev_check_pattern(buf, len, 41));
	patdev_fill_pattern(buf, MIB, 43);
	EXPECT_EQ(0, patdev_check_pattern(dev, MIB, 43));
	ASSERT_EQ(0, patdev_query(self->fd, buf + MIB / 2, &q));
	EXPECT_STREQ(patdev_cache_name(self->wc), patdev_cache_name(q.cache));
	EXPECT_EQ(self->huge ? 2 * MIB : self->page, q.size);

	maps = export_dma_maps(off);
	ASSERT_LE(0, maps);
	TH_LOG("vgem's import %s the attachment", maps ? "mapped" : "did not map");
	if (maps) {
		EXPECT_EQ(-1, patdev_set_cache(self->fd, off, PATDEV_CACHE_WB));
		EXPECT_EQ(EBUSY, errno);
		EXPECT_EQ(-1, patdev_destroy(self->fd, off, PATDEV_DESTROY_REVOKE));
		EXPECT_EQ(EBUSY, errno);
	}
	ASSERT_EQ(0, patdev_vgem_close(vgem, handle));
	EXPECT_EQ(0, export_dma_maps(off));
	EXPECT_FALSE(bufinfo_attached(len, "vgem"));
	EXPECT_EQ(0, patdev_set_cache(self->fd, off, PATDEV_CACHE_WB));
	EXPECT_EQ(0, patdev_check_pattern(buf + MIB, 2 * MIB, patdev_pattern_seed_at(41, MIB)));
	ASSERT_EQ(0, patdev_query(self->fd, buf + 2 * MIB, &q));
	EXPECT_STREQ("WB", patdev_cache_name(q.cache));
	munmap(buf, len);
	munmap(dev, len);
	close(back.fd);
	close(vgem);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, PATDEV_DESTROY_REVOKE));
}

/*
 * Exporting, importing and letting go in every order: the dma-buf's
 * descriptor, vgem's handle, the dma-buf's mapping, and the object's name
 * with its creator's file. Whichever goes last frees the object, and
 * nothing else is left (kmemleak checks the rest in the debug lane).
 */
TEST_F(export, every_release_order_frees_everything)
{
	static const char *const what[4] = { "dma-buf fd", "vgem handle", "mapping", "name+file" };
	long objs0, pages0, objs, pages;
	int perm[4], n, vgem;

	vgem = patdev_vgem_open();
	ASSERT_LE(0, vgem);
	ASSERT_EQ(0, patdev_stats(&objs0, &pages0));
	for (n = 0; n < 24; n++) {
		unsigned long long off;
		unsigned char *buf;
		int fd2, dfd, i, k;
		__u32 handle;

		/* The n-th permutation of the four releases. */
		for (i = 0; i < 4; i++)
			perm[i] = i;
		for (i = 0, k = n; i < 4; i++) {
			int j = i + k % (4 - i), t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
			k /= 4 - i;
		}
		fd2 = open(DEV, O_RDWR);
		ASSERT_LE(0, fd2);
		ASSERT_EQ(0, patdev_create(fd2, PATDEV_OBJ_ANON, MIB, PATDEV_CACHE_WC, 0, 0, &off));
		dfd = patdev_export(fd2, off, PATDEV_EXPORT_WRITE);
		ASSERT_LE(0, dfd);
		buf = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
		ASSERT_NE(MAP_FAILED, buf);
		buf[n] = 1;
		ASSERT_EQ(0, patdev_vgem_import(vgem, dfd, &handle));
		for (i = 0; i < 4; i++) {
			switch (perm[i]) {
			case 0:
				EXPECT_EQ(0, close(dfd));
				break;
			case 1:
				EXPECT_EQ(0, patdev_vgem_close(vgem, handle));
				break;
			case 2:
				EXPECT_EQ(0, munmap(buf, MIB));
				break;
			default:
				EXPECT_EQ(0, patdev_destroy(fd2, off, 0));
				EXPECT_EQ(0, close(fd2));
				break;
			}
			ASSERT_EQ(0, patdev_stats(&objs, &pages));
			EXPECT_EQ(objs0 + (i < 3), objs)
				TH_LOG("order %s, %s, %s, %s: after %s", what[perm[0]],
				       what[perm[1]], what[perm[2]], what[perm[3]], what[perm[i]]);
		}
		EXPECT_EQ(pages0, pages);
	}
	close(vgem);
}

/* The next filled buffer's index, or -1 (ETIME after 20 s). */
static int vivid_dqbuf(int fd, __u32 *bytesused)
{
	struct v4l2_buffer b = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_DMABUF };
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 20000) != 1) {
		errno = ETIME;
		return -1;
	}
	if (ioctl(fd, VIDIOC_DQBUF, &b))
		return -1;
	*bytesused = b.bytesused;
	return b.index;
}

/* 0, or 1 + the offset of the first byte that is not vivid's colour bars. */
#define NBUFS 2

static size_t check_bars(const unsigned char *frame)
{
	static const unsigned char bars[8][3] = {
		{ 255, 255, 255 }, { 255, 255, 0 }, { 0, 255, 255 }, { 0, 255, 0 },
		{ 255, 0, 255 }, { 255, 0, 0 }, { 0, 0, 255 }, { 0, 0, 0 },
	};
	size_t x, y, c;

	for (y = 0; y < PATDEV_VIVID_H; y++)
		for (x = 0; x < PATDEV_VIVID_W; x++)
			for (c = 0; c < 3; c++) {
				size_t o = (y * PATDEV_VIVID_W + x) * 3 + c;

				if (frame[o] != bars[x * 8 / PATDEV_VIVID_W][c])
					return o + 1;
			}
	return 0;
}

/*
 * vivid captures into patdev WC buffers: frames land whole, the user
 * entries and the kernel mapping vivid writes through are WC (read from
 * the page tables), and while vivid holds them the object is pinned.
 * @inst 0: vb2-vmalloc (vmap only); 1: vb2-dma-contig (a DMA mapping of
 * the attachment too, and a buffer contiguous in DMA space and below
 * 4 GiB: an SG object of one 256 KiB chunk, PATDEV_CREATE_DMA32).
 */
static void capture_into_patdev(struct __test_metadata *_metadata, int fd, unsigned int wc,
				int inst)
{
	const size_t len = 256 * 1024, page = sysconf(_SC_PAGESIZE);
	unsigned long long off[NBUFS];
	unsigned char *map[NBUFS];
	int vfd, dfd[NBUFS], i, frames;
	struct patdev_objinfo info;
	struct patdev_query q;
	__u32 sizeimage, used;
	char vmap[16];

	vfd = patdev_vivid_open(inst);
	ASSERT_LE(0, vfd) TH_LOG("no vivid instance %d (modprobe vivid n_devs=2 ...)", inst);
	ASSERT_EQ(0, patdev_vivid_setup(vfd, &sizeimage))
		TH_LOG("vivid setup: %s", strerror(errno));
	ASSERT_GE(len, sizeimage);
	ASSERT_EQ(0, patdev_vivid_reqbufs(vfd, NBUFS));
	for (i = 0; i < NBUFS; i++) {
		/* One chunk (nsegs 1), below 4 GiB for vivid's 32-bit DMA mask. */
		ASSERT_EQ(0, patdev_create(fd, PATDEV_OBJ_SG, len, PATDEV_CACHE_WC, 6,
					   PATDEV_CREATE_DMA32, &off[i]));
		ASSERT_EQ(0, patdev_objinfo(fd, off[i] / page, &info));
		ASSERT_EQ(1, info.nsegs);
		map[i] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off[i]);
		ASSERT_NE(MAP_FAILED, map[i]);
		memset(map[i], 0x5a, len);
		ASSERT_EQ(0, patdev_query(fd, map[i] + len - 1, &q));
		ASSERT_NE(0, q.pfn);
		ASSERT_GT(1ULL << 32, (q.pfn + 1) * page);
		dfd[i] = patdev_export(fd, off[i], PATDEV_EXPORT_WRITE);
		ASSERT_LE(0, dfd[i]);
		ASSERT_EQ(0, patdev_vivid_qbuf(vfd, i, dfd[i], len))
			TH_LOG("QBUF: %s", strerror(errno));
	}
	ASSERT_EQ(0, ioctl(vfd, VIDIOC_STREAMON, &(int){ V4L2_BUF_TYPE_VIDEO_CAPTURE }));
	for (frames = 0; frames < 4; frames++) {
		i = vivid_dqbuf(vfd, &used);
		ASSERT_LE(0, i) TH_LOG("DQBUF: %s", strerror(errno));
		EXPECT_EQ(sizeimage, used);
		EXPECT_EQ(0, check_bars(map[i])) TH_LOG("frame %d, buffer %d", frames, i);
		/* Beyond the frame, the buffer is as the CPU left it. */
		EXPECT_EQ(0x5a, map[i][sizeimage]);
		ASSERT_EQ(0, patdev_query(fd, map[i], &q));
		EXPECT_STREQ(patdev_cache_name(wc), patdev_cache_name(q.cache));
		EXPECT_STREQ(patdev_cache_name(wc), export_vmap(off[i], vmap, sizeof(vmap)));
		EXPECT_EQ(inst == 1 ? 1 : 0, export_dma_maps(off[i]));
		/* Pinned while vivid holds the buffer. */
		EXPECT_EQ(-1, patdev_set_cache(fd, off[i], PATDEV_CACHE_WB));
		EXPECT_EQ(EBUSY, errno);
		EXPECT_EQ(-1, patdev_destroy(fd, off[i], PATDEV_DESTROY_REVOKE));
		EXPECT_EQ(EBUSY, errno);
		memset(map[i], 0x5a, len);
		ASSERT_EQ(0, patdev_vivid_qbuf(vfd, i, dfd[i], len));
	}
	ASSERT_EQ(0, ioctl(vfd, VIDIOC_STREAMOFF, &(int){ V4L2_BUF_TYPE_VIDEO_CAPTURE }));
	ASSERT_EQ(0, patdev_vivid_reqbufs(vfd, 0));
	for (i = 0; i < NBUFS; i++) {
		/* vivid let go: no alias left but the user's, which a change reaches. */
		EXPECT_STREQ("none", export_vmap(off[i], vmap, sizeof(vmap)));
		EXPECT_EQ(0, export_dma_maps(off[i]));
		EXPECT_EQ(0, patdev_set_cache(fd, off[i], PATDEV_CACHE_WB));
		close(dfd[i]);
		munmap(map[i], len);
		EXPECT_EQ(0, patdev_destroy(fd, off[i], PATDEV_DESTROY_REVOKE));
	}
	close(vfd);
}

TEST_F(export, vivid_vmalloc_captures_into_wc_buffers)
{
	capture_into_patdev(_metadata, self->fd, self->wc, 0);
}

TEST_F(export, vivid_dma_contig_captures_into_wc_buffers)
{
	capture_into_patdev(_metadata, self->fd, self->wc, 1);
}

/*
 * vb2-dma-contig needs a buffer contiguous in DMA space: an object of
 * 4 KiB chunks that are not physically contiguous is refused by vivid,
 * cleanly (QBUF EFAULT), and leaves nothing pinned.
 */
TEST_F(export, vivid_dma_contig_refuses_a_scattered_object)
{
	const size_t len = 256 * 1024;
	struct patdev_objinfo info;
	unsigned long long off;
	__u32 sizeimage;
	int vfd, dfd, tries;

	vfd = patdev_vivid_open(1);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, patdev_vivid_setup(vfd, &sizeimage));
	ASSERT_EQ(0, patdev_vivid_reqbufs(vfd, NBUFS));
	/*
	 * Fresh 4 KiB pages often come in a physical run; freed ones come
	 * back last in, first out, so a second try gets a scattered object.
	 */
	for (tries = 0; tries < 8; tries++) {
		ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, len, PATDEV_CACHE_WC, 0,
					   PATDEV_CREATE_DMA32, &off));
		ASSERT_EQ(0, patdev_objinfo(self->fd, off / self->page, &info));
		if (info.nsegs > 1)
			break;
		ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
	}
	if (info.nsegs == 1)
		SKIP(goto out, "the allocator gave 64 contiguous pages %d times", tries);
	TH_LOG("%llu segments", (unsigned long long)info.nsegs);
	dfd = patdev_export(self->fd, off, PATDEV_EXPORT_WRITE);
	ASSERT_LE(0, dfd);
	EXPECT_EQ(-1, patdev_vivid_qbuf(vfd, 0, dfd, len));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, export_dma_maps(off));
	EXPECT_EQ(0, patdev_set_cache(self->fd, off, PATDEV_CACHE_UC_MINUS));
	close(dfd);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
out:
	ASSERT_EQ(0, patdev_vivid_reqbufs(vfd, 0));
	close(vfd);
}

/*
 * A read-only dma-buf gives no importer a way to write: vivid's capture
 * is refused on both allocators (no kernel mapping, no DMA mapping from
 * the device), cleanly, and nothing stays pinned.
 */
TEST_F(export, read_only_export_refuses_writing_importers)
{
	const size_t len = 256 * 1024;
	unsigned long long off;
	char vmap[16];
	__u32 sizeimage;
	int inst, vfd, dfd;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, len, PATDEV_CACHE_WC, 6,
				   PATDEV_CREATE_DMA32, &off));
	dfd = patdev_export(self->fd, off, 0);
	ASSERT_LE(0, dfd);
	for (inst = 0; inst < 2; inst++) {
		vfd = patdev_vivid_open(inst);
		ASSERT_LE(0, vfd);
		ASSERT_EQ(0, patdev_vivid_setup(vfd, &sizeimage));
		ASSERT_EQ(0, patdev_vivid_reqbufs(vfd, NBUFS));
		EXPECT_EQ(-1, patdev_vivid_qbuf(vfd, 0, dfd, len));
		/* vb2-vmalloc: EFAULT (no vmap); vb2-dma-contig: EINVAL (no map). */
		EXPECT_EQ(inst ? EINVAL : EFAULT, errno);
		EXPECT_EQ(0, export_dma_maps(off));
		EXPECT_STREQ("none", export_vmap(off, vmap, sizeof(vmap)));
		ASSERT_EQ(0, patdev_vivid_reqbufs(vfd, 0));
		close(vfd);
	}
	EXPECT_EQ(0, patdev_set_cache(self->fd, off, PATDEV_CACHE_UC_MINUS));
	close(dfd);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
}

/*
 * vivid's dma-contig instance has a 32-bit DMA mask: memory above 4 GiB
 * could only be reached through a bounce buffer, which patdev never hands
 * out (QBUF fails: vivid gets EREMOTEIO from the map), and nothing stays
 * pinned. Needs RAM above 4 GiB (the debug lane's 3 GiB VM has some).
 */
TEST_F(export, vivid_dma_contig_cannot_reach_memory_above_4g)
{
	const size_t len = 256 * 1024;
	unsigned long long off[16], high = 0;
	__u32 sizeimage;
	int vfd, dfd, i, n, found = -1;

	for (n = 0; n < 16 && found < 0; n++) {
		struct patdev_query q;
		unsigned char *p;

		ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, len, PATDEV_CACHE_WC, 6, 0,
					   &off[n]));
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, off[n]);
		ASSERT_NE(MAP_FAILED, p);
		(void)__atomic_load_n(p, __ATOMIC_RELAXED);
		ASSERT_EQ(0, patdev_query(self->fd, p, &q));
		munmap(p, len);
		ASSERT_NE(0, q.pfn) TH_LOG("QUERY tells frames to CAP_SYS_ADMIN only");
		if (q.pfn * self->page >= (1ULL << 32)) {
			found = n;
			high = q.pfn * self->page;
		}
	}
	if (found < 0)
		SKIP(goto out, "no object above 4 GiB in %d tries", n);
	TH_LOG("object at %#llx", high);
	vfd = patdev_vivid_open(1);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, patdev_vivid_setup(vfd, &sizeimage));
	ASSERT_EQ(0, patdev_vivid_reqbufs(vfd, NBUFS));
	dfd = patdev_export(self->fd, off[found], PATDEV_EXPORT_WRITE);
	ASSERT_LE(0, dfd);
	EXPECT_EQ(-1, patdev_vivid_qbuf(vfd, 0, dfd, len));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, export_dma_maps(off[found]));
	EXPECT_EQ(0, patdev_set_cache(self->fd, off[found], PATDEV_CACHE_UC_MINUS));
	ASSERT_EQ(0, patdev_vivid_reqbufs(vfd, 0));
	close(dfd);
	close(vfd);
out:
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, patdev_destroy(self->fd, off[i], 0));
}

TEST_HARNESS_MAIN
