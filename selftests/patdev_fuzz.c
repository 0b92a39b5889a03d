// SPDX-License-Identifier: GPL-2.0
/*
 * patdev_fuzz: a bounded, randomised fuzzer of /dev/patdev's ioctls, mmap,
 * munmap, mprotect, mremap and pread/pwrite, and of the dma-bufs it
 * exports (mmap, DMA_BUF_IOCTL_SYNC, vgem's import, close). Every call must succeed or
 * answer an errno from a known set; the runner scans dmesg afterwards for
 * anything the kernel said. Nothing it maps is touched (SIGBUS past an
 * object's end is a correct answer, not one this fuzzer wants).
 *
 * Usage: patdev_fuzz [seconds] [seed]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/dma-buf.h>
#include <linux/patdev.h>

#include "patdev_selftest.h"

#define MAXMAPS 32
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static long page;
static unsigned int seed;
static struct { unsigned char *p; size_t len; } maps[MAXMAPS];
static unsigned char *guard;	/* a PROT_NONE page */
static unsigned char *buf;	/* 4 pages of scratch */
static unsigned long calls[6], bad;
/* Offsets of objects this fuzzer created, for its mmaps and destroys. */
static __u64 offsets[8];
/* dma-bufs it exported (0: none), and vgem to import them (-1: none). */
static int dmabufs[8];
static int vgem = -1;

static const int allowed[] = {
	EINVAL, EFAULT, ENOTTY, ENXIO, EACCES, ENOMEM, ENOSPC, ENOENT, EINTR,
	EEXIST, EPERM, EOVERFLOW, EAGAIN, EOPNOTSUPP, EBUSY,
};

static unsigned long rnd(void)
{
	return ((unsigned long)rand_r(&seed) << 31) ^ rand_r(&seed);
}

static void check(long ret, const char *what)
{
	unsigned int i;

	if (ret != -1)
		return;
	for (i = 0; i < ARRAY_SIZE(allowed); i++)
		if (errno == allowed[i])
			return;
	bad++;
	fprintf(stderr, "fuzz: %s: unexpected errno %d (%s)\n", what, errno, strerror(errno));
}

static __u64 some_addr(void)
{
	int i = rnd() % MAXMAPS;

	switch (rnd() % 6) {
	case 0:
		return rnd();
	case 1:
		return (uintptr_t)guard;
	case 2:
		return (uintptr_t)&i;
	case 3:
		return 0xffff888000000000ULL + (rnd() & 0xffffff000ULL);
	default:
		return maps[i].p ? (uintptr_t)maps[i].p + rnd() % (maps[i].len + 2 * page) :
				   (uintptr_t)buf;
	}
}

static __u64 some_len(void)
{
	static const __u64 lens[] = { 0, 1, 4096, 8192, 65536, 1ULL << 30, ~0ULL, 1ULL << 63 };

	return rnd() & 1 ? lens[rnd() % ARRAY_SIZE(lens)] : rnd() % (64 * page);
}

static void *some_arg(size_t size)
{
	__u64 *v = (__u64 *)buf;
	unsigned int i;

	switch (rnd() % 8) {
	case 0:
		return NULL;
	case 1:
		return guard;
	case 2:	/* straddles into the guard page */
		return guard - size / 2;
	case 3:
		return (void *)(uintptr_t)(0xffff888000000000ULL);
	default:
		for (i = 0; i < 8; i++)
			v[i] = rnd() % 3 ? (i % 2 ? some_len() : some_addr()) : rnd() % 4;
		return buf;
	}
}

static void fuzz_ioctl(int fd)
{
	static const unsigned int cmds[] = {
		PATDEV_IOC_VERSION, PATDEV_IOC_QUERY, PATDEV_IOC_OBJINFO, PATDEV_IOC_PREFAULT,
		PATDEV_IOC_RANGE_QUERY, PATDEV_IOC_SET_MMAP_FLAGS, PATDEV_IOC_CREATE,
		PATDEV_IOC_DESTROY, PATDEV_IOC_MR_QUERY, PATDEV_IOC_MR_CLEAR, PATDEV_IOC_SET_CACHE,
		PATDEV_IOC_EXPORT,
	};
	struct patdev_mr *m = (struct patdev_mr *)buf;
	unsigned int cmd = cmds[rnd() % ARRAY_SIZE(cmds)];
	struct patdev_create *c = (struct patdev_create *)buf;
	void *arg;
	long ret;

	if (rnd() % 4 == 0)	/* unknown commands of our magic, any size/direction */
		cmd = _IOC(rnd() % 4, PATDEV_IOC_MAGIC, rnd() % 256, rnd() % 128);
	arg = some_arg(_IOC_SIZE(cmd));
	if (cmd == PATDEV_IOC_CREATE && rnd() % 2) {
		/* Mostly valid, so that objects do get made. */
		memset(c, 0, sizeof(*c));
		c->kind = 1 + rnd() % 2;
		c->sg_order = c->kind == PATDEV_OBJ_SG ? rnd() % 3 : 0;
		c->size = (1 + rnd() % 64) * (page << c->sg_order);
		c->cache = rnd() % 4;
		c->flags = rnd() % 2 ? PATDEV_CREATE_TRACK : 0;
		arg = c;
	} else if (cmd == PATDEV_IOC_DESTROY && rnd() % 2) {
		memset(buf, 0, 3 * sizeof(__u64));
		((__u64 *)buf)[0] = offsets[rnd() % 8];
		((__u64 *)buf)[1] = rnd() % 2;
		arg = buf;
	} else if (cmd == PATDEV_IOC_SET_CACHE && rnd() % 2) {
		memset(buf, 0, 3 * sizeof(__u64));
		((__u64 *)buf)[0] = offsets[rnd() % 8];
		((__u64 *)buf)[1] = rnd() % 4;
		arg = buf;
	} else if (cmd == PATDEV_IOC_EXPORT && rnd() % 2) {
		memset(buf, 0, 4 * sizeof(__u64));
		((__u64 *)buf)[0] = rnd() % 4 ? offsets[rnd() % 8] : (rnd() % 3) * page;
		((__u64 *)buf)[1] = rnd() % 3;
		arg = buf;
	} else if ((cmd == PATDEV_IOC_MR_QUERY || cmd == PATDEV_IOC_MR_CLEAR) && rnd() % 2) {
		/* Mostly valid ranges of objects that may track, bitmaps anywhere. */
		memset(m, 0, sizeof(*m));
		m->offset = offsets[rnd() % 8];
		m->first = rnd() % 4;
		m->npages = 1 + rnd() % 80;
		m->flags = cmd == PATDEV_IOC_MR_CLEAR ? 1 + rnd() % 3 : 0;
		m->modified_map = rnd() % 2 ? (uintptr_t)(buf + 2048) : some_addr();
		m->referenced_map = rnd() % 2 ? 0 : (uintptr_t)(buf + 3072);
		arg = m;
	}
	ret = ioctl(fd, cmd, arg);
	check(ret, "ioctl");
	if (!ret && cmd == PATDEV_IOC_CREATE && arg == buf)
		offsets[rnd() % 8] = c->offset;
	if (!ret && cmd == PATDEV_IOC_EXPORT) {
		int slot = rnd() % 8, dfd = (int)((__u64 *)arg)[2];

		if (dmabufs[slot] > 0)
			close(dmabufs[slot]);
		dmabufs[slot] = dfd;
	}
	calls[0]++;
}

/*
 * What an importer and a user do with the dma-bufs: mmap (kept with the
 * others), DMA_BUF_IOCTL_SYNC with any flags, vgem's import and release,
 * close.
 */
static void fuzz_dmabuf(void)
{
	int slot = rnd() % 8, dfd = dmabufs[slot], i;
	struct dma_buf_sync sync;
	__u32 handle;
	void *p;

	if (dfd <= 0)
		return;
	switch (rnd() % 5) {
	case 0:
		i = rnd() % MAXMAPS;
		if (maps[i].p)
			break;
		maps[i].len = (1 + rnd() % 24) * page;
		p = mmap(NULL, maps[i].len, rnd() % 8, rnd() % 4 ? MAP_SHARED : MAP_PRIVATE, dfd,
			 (off_t)(rnd() % 4 ? 0 : rnd() % 32) * page);
		if (p == MAP_FAILED)
			check(-1, "dma-buf mmap");
		else
			maps[i].p = p;
		break;
	case 1:
		sync.flags = rnd() % 4 ? (rnd() % 2 ? DMA_BUF_SYNC_END : 0) | (1 + rnd() % 3) :
			     rnd();
		check(ioctl(dfd, DMA_BUF_IOCTL_SYNC, &sync), "DMA_BUF_IOCTL_SYNC");
		break;
	case 2:
		if (vgem < 0)
			break;
		if (patdev_vgem_import(vgem, dfd, &handle))
			check(-1, "vgem import");
		else if (rnd() % 8)
			check(patdev_vgem_close(vgem, handle), "vgem close");
		/* Else vgem keeps it until the end: the object stays pinned. */
		break;
	case 3:
		check(lseek(dfd, rnd() % 2 ? 0 : (off_t)rnd(), rnd() % 3), "dma-buf lseek");
		break;
	default:
		close(dfd);
		dmabufs[slot] = 0;
		break;
	}
	calls[4]++;
}

static void fuzz_mmap(int fd)
{
	static const int flags[] = { MAP_SHARED, MAP_PRIVATE, MAP_SHARED | MAP_FIXED_NOREPLACE,
				     MAP_SHARED | MAP_POPULATE, MAP_SHARED_VALIDATE };
	int i = rnd() % MAXMAPS, f = flags[rnd() % ARRAY_SIZE(flags)];
	size_t len = rnd() % 4 ? (1 + rnd() % 24) * page : some_len();
	off_t off = rnd() % 8 ? (off_t)(rnd() % 4) * page : (off_t)rnd();

	if (rnd() % 2)	/* a created object (or a destroyed one), maybe not from its start */
		off = offsets[rnd() % 8] + (off_t)(rnd() % 4 ? 0 : rnd() % 80) * page;
	void *hint = f & MAP_FIXED_NOREPLACE ? (void *)(uintptr_t)(some_addr() & ~(page - 1)) :
		     NULL;
	void *p;

	if (maps[i].p)
		return;
	p = mmap(hint, len, rnd() % 8, f, fd, off);
	calls[1]++;
	if (p == MAP_FAILED) {
		check(-1, "mmap");
		return;
	}
	maps[i].p = p;
	maps[i].len = len;
}

static void fuzz_unmap_protect(void)
{
	int i = rnd() % MAXMAPS;
	size_t pages, first;
	void *q;

	if (!maps[i].p)
		return;
	pages = (maps[i].len + page - 1) / page;
	switch (rnd() % 3) {
	case 0:	/* a page in the middle, then the rest */
		first = rnd() % pages;
		check(munmap(maps[i].p + first * page, page), "munmap");
		check(munmap(maps[i].p, maps[i].len), "munmap");
		maps[i].p = NULL;
		break;
	case 1:
		check(mprotect(maps[i].p, page * (1 + rnd() % pages), rnd() % 8), "mprotect");
		break;
	default:
		/* Growing fails (VM_DONTEXPAND); shrinking or moving works. */
		first = (1 + rnd() % (2 * pages)) * page;
		q = mremap(maps[i].p, maps[i].len, first, MREMAP_MAYMOVE);
		if (q == MAP_FAILED) {
			check(-1, "mremap");
		} else {
			maps[i].p = q;
			maps[i].len = first;
		}
		break;
	}
	calls[2]++;
}

static void fuzz_rw(int fd)
{
	size_t len = rnd() % (3 * page);
	off_t off = rnd() % 2 ? (off_t)(rnd() % (32 * page)) : (off_t)rnd();
	void *b = rnd() % 4 ? buf : some_arg(len);

	if (rnd() % 2)
		check(pread(fd, b, len, off), "pread");
	else
		check(pwrite(fd, b, len, off), "pwrite");
	calls[3]++;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 10;
	struct timespec t0, t;
	unsigned int seed0;
	int fd, i;

	seed = argc > 2 ? strtoul(argv[2], NULL, 0) : (unsigned int)time(NULL);
	seed0 = seed;
	page = sysconf(_SC_PAGESIZE);
	guard = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	buf = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open("/dev/patdev", O_RDWR);
	vgem = patdev_vgem_open();
	if (guard == MAP_FAILED || buf == MAP_FAILED || fd < 0) {
		perror("fuzz: setup");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (i = 0; i < 64; i++) {
			switch (rnd() % 5) {
			case 0:
				fuzz_ioctl(fd);
				break;
			case 4:
				fuzz_dmabuf();
				break;
			case 1:
				fuzz_mmap(fd);
				break;
			case 2:
				fuzz_unmap_protect();
				break;
			default:
				fuzz_rw(fd);
				break;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	for (i = 0; i < MAXMAPS; i++)
		if (maps[i].p)
			munmap(maps[i].p, maps[i].len);
	for (i = 0; i < 8; i++)
		if (dmabufs[i] > 0)
			close(dmabufs[i]);
	if (vgem >= 0)
		close(vgem);
	close(fd);
	printf("fuzz: seed %u, %.0f s, 1 process: %lu ioctls, %lu mmaps, ", seed0, seconds,
	       calls[0], calls[1]);
	printf("%lu munmap/mprotect/mremap, %lu pread/pwrite, %lu dma-buf calls (vgem %s); ",
	       calls[2], calls[3], calls[4], vgem >= 0 ? "imports" : "absent");
	printf("%lu unexpected answers: %s\n", bad, bad ? "FAIL" : "PASS");
	return bad != 0;
}
