// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests for device memory: PCI BARs bound to patdev, on the QEMU
 * devices scripts/vm.sh attaches to every VM:
 *   ivshmem-plain (1af4:1110): BAR 2, 1 GiB, prefetchable, backed by a host
 *     file the guest reads at $PATDEV_IVSHMEM_FILE: the oracle for data;
 *   bochs-display (1234:1111): BAR 0, a 16 MiB prefetchable frame buffer;
 *   edu (1234:11e8): BAR 0, 1 MiB of registers, not prefetchable.
 * The fixture binds the three to patdev through sysfs, as an administrator
 * would. Entries' modes and sizes are read from the page tables (QUERY,
 * RANGE_QUERY), never taken from what was asked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/types.h>

#include "kselftest_harness.h"
#include "patdev_names.h"
#include "patdev_pci.h"
#include "patdev_selftest.h"
#include "patdev_user.h"

#define DEV "/dev/patdev"
#define MIB (1024UL * 1024)
#define GIB (1024 * MIB)
#define IVSHMEM_BAR 2
#define EDU_ID		0x00
#define EDU_LIVENESS	0x04
/* What scripts/vm.sh writes into the host file before the VM boots. */
#define HOST_SEED_OFF	(512UL << 20)
#define HOST_SEED	"patdev ivshmem seed, written by the host"

struct bar_dev {
	unsigned int vendor, device;
	int bar;
	char dir[PATH_MAX];
	unsigned long long off, size, start;
};

FIXTURE(bar) {
	int fd;
	size_t page;
	int huge, huge_1g;
	struct bar_dev ivshmem, bochs, edu;
};

static int dev_setup(struct bar_dev *d)
{
	if (patdev_pci_find(d->vendor, d->device, d->dir, sizeof(d->dir)) ||
	    patdev_pci_bind(d->dir) || patdev_pci_bar_offset(d->dir, d->bar, &d->off))
		return -1;
	return patdev_pci_bar_resource(d->dir, d->bar, &d->start, &d->size);
}

FIXTURE_SETUP(bar)
{
	struct patdev_version v;

	self->page = sysconf(_SC_PAGESIZE);
	self->ivshmem = (struct bar_dev){ .vendor = 0x1af4, .device = 0x1110, .bar = IVSHMEM_BAR };
	self->bochs = (struct bar_dev){ .vendor = 0x1234, .device = 0x1111, .bar = 0 };
	self->edu = (struct bar_dev){ .vendor = 0x1234, .device = 0x11e8, .bar = 0 };
	ASSERT_EQ(0, dev_setup(&self->ivshmem)) TH_LOG("ivshmem-plain: %s", strerror(errno));
	ASSERT_EQ(0, dev_setup(&self->bochs)) TH_LOG("bochs-display: %s", strerror(errno));
	ASSERT_EQ(0, dev_setup(&self->edu)) TH_LOG("edu: %s", strerror(errno));
	self->fd = open(DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_VERSION, &v));
	ASSERT_TRUE(v.features & PATDEV_FEAT_BAR);
	self->huge = !!(v.features & PATDEV_FEAT_HUGE);
	self->huge_1g = !!(v.features & PATDEV_FEAT_HUGE_1G);
}

FIXTURE_TEARDOWN(bar)
{
	close(self->fd);
}

static void *map_bar(int fd, const struct bar_dev *d, size_t len, unsigned int prefault)
{
	return patdev_map(fd, len, PROT_READ | PROT_WRITE, d->off / sysconf(_SC_PAGESIZE),
			  prefault);
}

/* The mode a prefetchable BAR starts in: WC, UC- where PAT is off. */
static unsigned int wc_mode(void)
{
	return patdev_pat_on() ? PATDEV_CACHE_WC : PATDEV_CACHE_UC_MINUS;
}

/* Device accesses the compiler neither drops, merges nor reorders. */
static unsigned char peek(const void *addr)
{
	return __atomic_load_n((const unsigned char *)addr, __ATOMIC_SEQ_CST);
}

static void poke(void *addr, unsigned char val)
{
	__atomic_store_n((unsigned char *)addr, val, __ATOMIC_SEQ_CST);
}

static __u32 reg_read(const void *regs, unsigned int reg)
{
	return __atomic_load_n((const __u32 *)regs + reg / 4, __ATOMIC_SEQ_CST);
}

static void reg_write(void *regs, unsigned int reg, __u32 val)
{
	__atomic_store_n((__u32 *)regs + reg / 4, val, __ATOMIC_SEQ_CST);
}

/* Reads @len bytes at @off of the host's file behind ivshmem's BAR. */
static int host_read(unsigned long long off, void *buf, size_t len)
{
	const char *path = getenv("PATDEV_IVSHMEM_FILE");
	ssize_t n;
	int fd;

	if (!path || !*path)
		return -1;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = pread(fd, buf, len, off);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* The memory type and size every entry of @d's BAR has after a prefault. */
static void check_entries(struct __test_metadata *_metadata, int fd, size_t page,
			  const struct bar_dev *d, unsigned int cache, unsigned long entry)
{
	struct patdev_range_query r = { 0 };
	unsigned char *p = map_bar(fd, d, d->size, PATDEV_PREFAULT_READ);
	unsigned long long npages = d->size / page;
	struct patdev_query q;
	size_t off;

	ASSERT_NE(MAP_FAILED, p);
	for (off = 0; off < d->size; off += d->size / 4) {
		ASSERT_EQ(0, patdev_query(fd, p + off, &q));
		ASSERT_EQ(PATDEV_QUERY_PRESENT, q.flags & PATDEV_QUERY_PRESENT);
		EXPECT_STREQ(patdev_cache_name(cache), patdev_cache_name(q.cache))
			TH_LOG("%s at +0x%zx", d->dir, off);
		EXPECT_EQ(entry, q.size) TH_LOG("%s at +0x%zx", d->dir, off);
		/* Opened as root: the frame is told, and it is the BAR's. */
		EXPECT_EQ((d->start + off) / page, q.pfn);
	}
	r.addr = (uintptr_t)p;
	r.len = d->size;
	ASSERT_EQ(0, ioctl(fd, PATDEV_IOC_RANGE_QUERY, &r));
	EXPECT_EQ(npages, r.resident);
	EXPECT_EQ(entry > page ? npages : 0, r.huge);
	EXPECT_EQ(entry == GIB ? npages : 0, r.huge_1g);
	munmap(p, d->size);
}

/* The largest entry a BAR of @size, aligned to it, gets on this kernel. */
static unsigned long best_entry(int huge, int huge_1g, unsigned long long size)
{
	if (huge_1g && size >= GIB)
		return GIB;
	if (huge && size >= 2 * MIB)
		return 2 * MIB;
	return sysconf(_SC_PAGESIZE);
}

TEST_F(bar, bars_are_objects_named_in_sysfs)
{
	struct bar_dev *devs[] = { &self->ivshmem, &self->bochs, &self->edu };
	unsigned int modes[] = { wc_mode(), wc_mode(), PATDEV_CACHE_UC };
	struct patdev_objinfo info;
	unsigned long long off;
	int i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, patdev_objinfo(self->fd, devs[i]->off / self->page, &info));
		EXPECT_EQ(PATDEV_OBJ_BAR, info.kind);
		EXPECT_EQ(devs[i]->size, info.size);
		EXPECT_EQ(modes[i], info.cache) TH_LOG("%s", devs[i]->dir);
		EXPECT_EQ(1, info.nsegs);
		EXPECT_EQ(PATDEV_OBJ_MMIO, info.flags & (PATDEV_OBJ_MMIO | PATDEV_OBJ_CREATED));
		EXPECT_EQ(devs[i]->off / self->page, info.base_pgoff);
	}
	/* ivshmem's BAR 0 is 256 bytes: less than a page, no object. */
	EXPECT_EQ(-1, patdev_pci_bar_offset(self->ivshmem.dir, 0, &off));
	EXPECT_EQ(-1, patdev_pci_bar_offset(self->ivshmem.dir, 1, &off));
	/* Offsets are 1 GiB apart from the BAR's phase: 1 GiB entries line up. */
	EXPECT_EQ(self->ivshmem.start % GIB, self->ivshmem.off % GIB);
	/* BARs are the device's, not any file's: nobody destroys them. */
	struct patdev_destroy d = { .offset = self->edu.off };

	EXPECT_EQ(-1, ioctl(self->fd, PATDEV_IOC_DESTROY, &d));
	EXPECT_EQ(EPERM, errno);
}

TEST_F(bar, ivshmem_bytes_reach_the_host_file_and_back)
{
	const size_t chunk = 4 * MIB;
	size_t offs[] = { 0, 300 * MIB, GIB - chunk };
	unsigned char *p, *buf = malloc(chunk);
	char seed[sizeof(HOST_SEED)];
	int i;

	ASSERT_NE(NULL, buf);
	p = map_bar(self->fd, &self->ivshmem, GIB, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 3; i++) {
		patdev_fill_pattern(p + offs[i], chunk, 0x1000 + i);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);	/* drains WC buffers (sfence) */
		ASSERT_EQ(0, host_read(offs[i], buf, chunk)) TH_LOG("no host file to read");
		EXPECT_EQ(0, patdev_check_pattern(buf, chunk, 0x1000 + i))
			TH_LOG("host file at 0x%zx differs", offs[i]);
	}
	/* The host wrote this before the guest booted. */
	memcpy(seed, p + HOST_SEED_OFF, sizeof(seed) - 1);
	seed[sizeof(seed) - 1] = 0;
	EXPECT_STREQ(HOST_SEED, seed);
	munmap(p, GIB);
	free(buf);
}

TEST_F(bar, entries_have_the_objects_mode_and_the_largest_size)
{
	check_entries(_metadata, self->fd, self->page, &self->ivshmem, wc_mode(),
		      best_entry(self->huge, self->huge_1g, self->ivshmem.size));
	check_entries(_metadata, self->fd, self->page, &self->bochs, wc_mode(),
		      best_entry(self->huge, self->huge_1g, self->bochs.size));
	check_entries(_metadata, self->fd, self->page, &self->edu, PATDEV_CACHE_UC, self->page);
}

TEST_F(bar, first_touch_of_the_whole_bar_takes_at_most_two_faults)
{
	unsigned long entry = best_entry(self->huge, self->huge_1g, GIB);
	unsigned char *p = map_bar(self->fd, &self->ivshmem, GIB, 0);
	struct rusage before, after;
	long faults;
	size_t off;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, getrusage(RUSAGE_SELF, &before));
	for (off = 0; off < GIB; off += self->page)
		peek(p + off);
	ASSERT_EQ(0, getrusage(RUSAGE_SELF, &after));
	faults = after.ru_minflt - before.ru_minflt;
	/* One per entry, and one more for the test's own page (its stack). */
	EXPECT_GE((long)(GIB / entry) + 1, faults) TH_LOG("%ld faults", faults);
	munmap(p, GIB);
}

/*
 * Splitting a vma inside a 1 GiB entry: the entry must go before the core
 * splits (it would walk into the entry as if it were a page table: an
 * oops). munmap of one page, mprotect of a 2 MiB-aligned part (no 2 MiB
 * split to do at all), then a fork copying what is left.
 */
TEST_F(bar, splitting_a_1g_entry_keeps_the_rest_mapped)
{
	unsigned char *p = map_bar(self->fd, &self->ivshmem, GIB, PATDEV_PREFAULT_WRITE);
	struct patdev_query q;
	int status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, p);
	patdev_fill_pattern(p + 8 * MIB, 4 * MIB, 31);
	ASSERT_EQ(0, munmap(p + 100 * self->page, self->page));
	EXPECT_EQ(SIGSEGV, patdev_touch_in_child(p + 100 * self->page, 0));
	EXPECT_EQ(0, patdev_check_pattern(p + 8 * MIB, 4 * MIB, 31));
	ASSERT_EQ(0, mprotect(p + 64 * MIB, 2 * MIB, PROT_READ));
	EXPECT_EQ(SIGSEGV, patdev_touch_in_child(p + 64 * MIB, 1));
	EXPECT_EQ(0, patdev_touch_in_child(p + 66 * MIB, 1));
	ASSERT_EQ(0, patdev_query(self->fd, p + 8 * MIB, &q));
	EXPECT_GE(2 * MIB, q.size) TH_LOG("a 1 GiB entry across split vmas");
	pid = fork();
	if (pid == 0)
		_exit(patdev_check_pattern(p + 8 * MIB, 4 * MIB, 31) ? 1 : 0);
	ASSERT_LT(0, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	munmap(p, GIB);
}

/*
 * mremap of a mapping with a 1 GiB entry, to a place congruent with it
 * modulo 1 GiB and to one that is not: x86's mremap cannot move such an
 * entry (it takes it for a bad page table: the lanes' dmesg scan looks
 * for "bad pud"), so the entry must be gone before; faults make it anew.
 */
TEST_F(bar, moving_a_1g_mapping_keeps_its_bytes)
{
	unsigned char *p = map_bar(self->fd, &self->ivshmem, GIB, PATDEV_PREFAULT_READ);
	unsigned char *area, *area2, *q, *r;
	struct patdev_query pq;

	ASSERT_NE(MAP_FAILED, p);
	patdev_fill_pattern(p + 20 * MIB, MIB, 41);
	area = mmap(NULL, 3 * GIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	/* Congruent: in the area's second gigabyte, at p's place in its own. */
	q = (unsigned char *)((((uintptr_t)area + GIB - 1) & ~(GIB - 1)) + (uintptr_t)p % GIB);
	q = mremap(p, GIB, GIB, MREMAP_MAYMOVE | MREMAP_FIXED, q);
	ASSERT_NE(MAP_FAILED, q) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, patdev_check_pattern(q + 20 * MIB, MIB, 41));
	ASSERT_EQ(0, patdev_query(self->fd, q + 20 * MIB, &pq));
	EXPECT_EQ(best_entry(self->huge, self->huge_1g, GIB), pq.size);
	/* Not congruent: 2 MiB-aligned, in another reservation. */
	area2 = mmap(NULL, GIB + 4 * MIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		     -1, 0);
	ASSERT_NE(MAP_FAILED, area2);
	r = (unsigned char *)(((uintptr_t)area2 + 2 * MIB - 1) & ~(2 * MIB - 1));
	if (!(((uintptr_t)r - (uintptr_t)q) % GIB))
		r += 2 * MIB;
	r = mremap(q, GIB, GIB, MREMAP_MAYMOVE | MREMAP_FIXED, r);
	ASSERT_NE(MAP_FAILED, r) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, patdev_check_pattern(r + 20 * MIB, MIB, 41));
	munmap(r, GIB);
	munmap(area2, GIB + 4 * MIB);
	munmap(area, 3 * GIB);
}

TEST_F(bar, set_cache_moves_every_mapping_of_a_bar)
{
	/* Each a change: without PAT the BAR starts UC-, and WC would be UC-. */
	unsigned int modes[] = { PATDEV_CACHE_UC, PATDEV_CACHE_UC_MINUS,
				 patdev_pat_on() ? PATDEV_CACHE_WC : PATDEV_CACHE_UC };
	struct patdev_objinfo info;
	struct patdev_query q;
	int to_child[2], from_child[2], i, status;
	unsigned char *p;
	char c;
	pid_t pid;

	p = map_bar(self->fd, &self->bochs, self->bochs.size, PATDEV_PREFAULT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	patdev_fill_pattern(p, self->bochs.size, 77);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(from_child));
	pid = fork();
	if (pid == 0) {
		/* Its own mapping, through its own open: each mode in turn. */
		int fd = open(DEV, O_RDWR);
		unsigned char *cp = map_bar(fd, &self->bochs, self->bochs.size,
					    PATDEV_PREFAULT_READ);

		if (cp == MAP_FAILED)
			_exit(2);
		for (i = 0; i < 3; i++) {
			if (write(from_child[1], "r", 1) != 1 || read(to_child[0], &c, 1) != 1)
				_exit(3);
			peek(cp);
			if (patdev_query(fd, cp, &q) || q.cache != modes[i])
				_exit(10 + i);
		}
		_exit(patdev_check_pattern(cp, self->bochs.size, 77) ? 4 : 0);
	}
	ASSERT_LT(0, pid);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, read(from_child[0], &c, 1));
		ASSERT_EQ(0, patdev_set_cache(self->fd, self->bochs.off, modes[i]))
			TH_LOG("mode %u: %s", modes[i], strerror(errno));
		ASSERT_EQ(0, patdev_objinfo(self->fd, self->bochs.off / self->page, &info));
		EXPECT_EQ(modes[i], info.cache);
		/* The change removed every entry; the next access faults the new mode in. */
		ASSERT_EQ(0, patdev_query(self->fd, p, &q));
		EXPECT_EQ(0, q.flags & PATDEV_QUERY_PRESENT);
		peek(p);
		ASSERT_EQ(0, patdev_query(self->fd, p, &q));
		EXPECT_STREQ(patdev_cache_name(modes[i]), patdev_cache_name(q.cache));
		ASSERT_EQ(1, write(to_child[1], "g", 1));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	EXPECT_EQ(0, patdev_check_pattern(p, self->bochs.size, 77));
	munmap(p, self->bochs.size);
	EXPECT_EQ(0, patdev_set_cache(self->fd, self->bochs.off, wc_mode()));
}

/*
 * A mapping with a 1 GiB entry made before a mode change: what faults
 * make afterwards has the new mode, whatever size they use.
 */
TEST_F(bar, a_1g_mapping_takes_the_new_mode_after_a_change)
{
	unsigned char *p = map_bar(self->fd, &self->ivshmem, GIB, PATDEV_PREFAULT_READ);
	struct patdev_query q;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, patdev_set_cache(self->fd, self->ivshmem.off, PATDEV_CACHE_UC));
	peek(p + GIB / 4);
	ASSERT_EQ(0, patdev_query(self->fd, p + GIB / 4, &q));
	EXPECT_STREQ("UC", patdev_cache_name(q.cache))
		TH_LOG("entry of %llu bytes", (unsigned long long)q.size);
	ASSERT_EQ(0, patdev_set_cache(self->fd, self->ivshmem.off, wc_mode()));
	peek(p + GIB / 4);
	ASSERT_EQ(0, patdev_query(self->fd, p + GIB / 4, &q));
	EXPECT_STREQ(patdev_cache_name(wc_mode()), patdev_cache_name(q.cache));
	munmap(p, GIB);
}

TEST_F(bar, set_cache_refuses_what_a_bar_cannot_be)
{
	/* Not prefetchable: no WC, as sysfs has no resourceN_wc there. */
	EXPECT_EQ(-1, patdev_set_cache(self->fd, self->edu.off, PATDEV_CACHE_WC));
	EXPECT_EQ(EINVAL, errno);
	/* Device memory is never WB. */
	EXPECT_EQ(-1, patdev_set_cache(self->fd, self->ivshmem.off, PATDEV_CACHE_WB));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, patdev_set_cache(self->fd, self->edu.off, PATDEV_CACHE_WT));
	EXPECT_EQ(EINVAL, errno);
	/* Not the object's first offset. */
	EXPECT_EQ(-1, patdev_set_cache(self->fd, self->edu.off + self->page,
				       PATDEV_CACHE_UC_MINUS));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(0, patdev_set_cache(self->fd, self->edu.off, PATDEV_CACHE_UC_MINUS));
	EXPECT_EQ(0, patdev_set_cache(self->fd, self->edu.off, PATDEV_CACHE_UC));
}

#define BAR_TRACK "/sys/module/patdev/parameters/bar_track"

/* Binds @d again, with bar_track set to @track while it binds. */
static int rebind(struct bar_dev *d, int track)
{
	if (patdev_write_long(BAR_TRACK, track) || patdev_pci_unbind(d->dir) ||
	    patdev_pci_bind(d->dir) || patdev_write_long(BAR_TRACK, 0))
		return -1;
	return patdev_pci_bar_offset(d->dir, d->bar, &d->off);
}

/* MR_QUERY or MR_CLEAR of the first 64 pages of @d: the modified and referenced bits. */
static int mr64(int fd, const struct bar_dev *d, unsigned long cmd, __u64 flags,
		__u64 *mod, __u64 *ref)
{
	struct patdev_mr mr = { .offset = d->off, .npages = 64, .flags = flags,
				.modified_map = (uintptr_t)mod, .referenced_map = (uintptr_t)ref };

	return ioctl(fd, cmd, &mr);
}

TEST_F(bar, bar_track_tells_which_pages_of_a_frame_buffer_were_written)
{
	struct patdev_objinfo info;
	struct patdev_query q;
	unsigned char *fb;
	__u64 mod, ref;

	ASSERT_EQ(0, rebind(&self->bochs, 1));
	ASSERT_EQ(0, patdev_objinfo(self->fd, self->bochs.off / self->page, &info));
	ASSERT_EQ(PATDEV_OBJ_TRACKED, info.flags & PATDEV_OBJ_TRACKED);
	fb = map_bar(self->fd, &self->bochs, self->bochs.size, 0);
	ASSERT_NE(MAP_FAILED, fb);
	ASSERT_EQ(0, mr64(self->fd, &self->bochs, PATDEV_IOC_MR_QUERY, 0, &mod, &ref));
	EXPECT_EQ(0, mod);
	EXPECT_EQ(0, ref);
	poke(fb + 3 * self->page, 1);
	poke(fb + 40 * self->page + 8, 2);
	peek(fb + 7 * self->page);
	ASSERT_EQ(0, mr64(self->fd, &self->bochs, PATDEV_IOC_MR_QUERY, 0, &mod, &ref));
	EXPECT_EQ(1ULL << 3 | 1ULL << 40, mod);
	EXPECT_EQ(1ULL << 3 | 1ULL << 7 | 1ULL << 40, ref);
	/* Per page: 4 KiB entries, in the BAR's mode still. */
	ASSERT_EQ(0, patdev_query(self->fd, fb + 3 * self->page, &q));
	EXPECT_EQ(self->page, q.size);
	EXPECT_STREQ(patdev_cache_name(wc_mode()), patdev_cache_name(q.cache));
	/* A clear answers what it cleared; the next write marks anew. */
	ASSERT_EQ(0, mr64(self->fd, &self->bochs, PATDEV_IOC_MR_CLEAR, PATDEV_MR_MODIFIED,
			  &mod, &ref));
	EXPECT_EQ(1ULL << 3 | 1ULL << 40, mod);
	poke(fb + 5 * self->page, 3);
	ASSERT_EQ(0, mr64(self->fd, &self->bochs, PATDEV_IOC_MR_QUERY, 0, &mod, &ref));
	EXPECT_EQ(1ULL << 5, mod);
	EXPECT_EQ(2, peek(fb + 40 * self->page + 8));
	munmap(fb, self->bochs.size);
	ASSERT_EQ(0, rebind(&self->bochs, 0));
	ASSERT_EQ(0, patdev_objinfo(self->fd, self->bochs.off / self->page, &info));
	EXPECT_EQ(0, info.flags & PATDEV_OBJ_TRACKED);
}

TEST_F(bar, edu_registers_through_a_strong_uc_mapping)
{
	void *regs = map_bar(self->fd, &self->edu, self->edu.size, 0);
	struct patdev_query q;

	ASSERT_NE(MAP_FAILED, regs);
	EXPECT_EQ(0x010000ed, reg_read(regs, EDU_ID));
	reg_write(regs, EDU_LIVENESS, 0x12345678);
	EXPECT_EQ(~0x12345678u, reg_read(regs, EDU_LIVENESS));
	ASSERT_EQ(0, patdev_query(self->fd, regs, &q));
	EXPECT_STREQ("UC", patdev_cache_name(q.cache));
	munmap(regs, self->edu.size);
}

TEST_F(bar, device_memory_needs_cap_sys_rawio)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct patdev_objinfo info;
		void *p;

		if (patdev_drop_cap(CAP_SYS_RAWIO))
			_exit(2);
		p = map_bar(self->fd, &self->edu, self->page, 0);
		if (p != MAP_FAILED || errno != EPERM)
			_exit(3);
		if (!patdev_set_cache(self->fd, self->edu.off, PATDEV_CACHE_UC_MINUS) ||
		    errno != EPERM)
			_exit(4);
		/* Looking is not touching. */
		_exit(patdev_objinfo(self->fd, self->edu.off / self->page, &info) ? 5 : 0);
	}
	ASSERT_LT(0, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/*
 * @n processes map ivshmem's BAR through their own opens and prefault it,
 * then wait; after @revoke, each touches its mapping and must get SIGBUS.
 */
static void revoke_in_every_process(struct __test_metadata *_metadata, int fd,
				    struct bar_dev *ivshmem, int (*revoke)(const char *dir))
{
	const size_t page = sysconf(_SC_PAGESIZE);
	const int n = 3;
	int ready[2], go[2], i, status;
	struct patdev_objinfo info;
	struct patdev_query q;
	unsigned long long off;
	pid_t pids[3];
	unsigned char *p;
	char c;

	p = map_bar(fd, ivshmem, GIB, PATDEV_PREFAULT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	patdev_fill_pattern(p + GIB / 2 + 16 * MIB, MIB, 5);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int cfd = open(DEV, O_RDWR);
			unsigned char *cp = map_bar(cfd, ivshmem, GIB, PATDEV_PREFAULT_READ);

			if (cp == MAP_FAILED || write(ready[1], "r", 1) != 1 ||
			    read(go[0], &c, 1) != 1)
				_exit(2);
			peek(cp + i * (GIB / n));	/* SIGBUS ends it here */
			_exit(3);
		}
		ASSERT_LT(0, pids[i]);
	}
	for (i = 0; i < n; i++)
		ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(0, revoke(ivshmem->dir)) TH_LOG("%s", strerror(errno));
	for (i = 0; i < n; i++)
		ASSERT_EQ(1, write(go[1], "g", 1));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
			TH_LOG("child %d: status 0x%x", i, status);
	}
	/* No entry left here either, and the old offset names nothing. */
	ASSERT_EQ(0, patdev_query(fd, p, &q));
	EXPECT_EQ(0, q.flags & PATDEV_QUERY_PRESENT);
	EXPECT_EQ(SIGBUS, patdev_touch_in_child(p, 0));
	EXPECT_EQ(-1, patdev_objinfo(fd, ivshmem->off / page, &info));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(MAP_FAILED, map_bar(fd, ivshmem, page, 0));
	EXPECT_EQ(ENXIO, errno);
	munmap(p, GIB);

	/* Bound again (a reset binds itself): a new object, new offsets, the same bytes. */
	if (patdev_pci_bar_offset(ivshmem->dir, IVSHMEM_BAR, &off)) {
		ASSERT_EQ(0, patdev_pci_bind(ivshmem->dir));
		ASSERT_EQ(0, patdev_pci_bar_offset(ivshmem->dir, IVSHMEM_BAR, &off));
	}
	EXPECT_NE(ivshmem->off, off);
	ivshmem->off = off;
	p = map_bar(fd, ivshmem, GIB, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, patdev_check_pattern(p + GIB / 2 + 16 * MIB, MIB, 5));
	munmap(p, GIB);
}

TEST_F(bar, unbind_revokes_every_mapping)
{
	revoke_in_every_process(_metadata, self->fd, &self->ivshmem, patdev_pci_unbind);
}

TEST_F(bar, removal_revokes_every_mapping)
{
	revoke_in_every_process(_metadata, self->fd, &self->ivshmem, patdev_pci_remove_rescan);
}

TEST_F(bar, reset_revokes_every_mapping)
{
	revoke_in_every_process(_metadata, self->fd, &self->ivshmem, patdev_pci_reset);
}

static sigjmp_buf racer_jmp;

static void racer_sigbus(int sig)
{
	siglongjmp(racer_jmp, 1);
}

/*
 * One racer: maps the BAR at whatever offset sysfs tells, prefaults,
 * queries, touches and unmaps, over and over, until *@stop. Every error
 * the revocations can cause is fine (ENXIO, EINVAL from a vanished
 * mapping, SIGBUS); a hang, a crash or a kernel warning is not.
 */
static int racer(const char *dir, int id, const int *stop)
{
	int fd = open(DEV, O_RDWR);
	unsigned long long off;
	struct patdev_query q;
	unsigned long iter = 0;
	struct sigaction sa = { .sa_handler = racer_sigbus };

	if (fd < 0)
		return 2;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	while (!__atomic_load_n(stop, __ATOMIC_RELAXED)) {
		unsigned char *p;

		/* Between a revocation and the next binding: no busy loop. */
		if (patdev_pci_bar_offset(dir, IVSHMEM_BAR, &off)) {
			usleep(1000);
			continue;
		}
		p = mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
		if (p == MAP_FAILED) {
			usleep(1000);
			continue;
		}
		if (!sigsetjmp(racer_jmp, 1)) {
			struct patdev_prefault pf = { .addr = (uintptr_t)p, .len = GIB,
						      .flags = PATDEV_PREFAULT_READ };

			if (id & 1)
				ioctl(fd, PATDEV_IOC_PREFAULT, &pf);
			poke(p + (iter * 4096 * 7919) % GIB, 1);
			patdev_query(fd, p, &q);
		}
		munmap(p, GIB);
		iter++;
	}
	close(fd);
	return iter ? 0 : 4;
}

TEST_F_TIMEOUT(bar, revocations_race_with_faults_prefaults_queries_and_mmaps, 600)
{
	int *stop = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			 -1, 0);
	int (*revoke[])(const char *dir) = {
		patdev_pci_unbind, patdev_pci_reset, patdev_pci_remove_rescan,
	};
	const int n = 4;
	pid_t pids[4];
	int i, round, status;

	ASSERT_NE(MAP_FAILED, stop);
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(racer(self->ivshmem.dir, i, stop));
		ASSERT_LT(0, pids[i]);
	}
	for (round = 0; round < 9; round++) {
		usleep(200 * 1000);
		ASSERT_EQ(0, revoke[round % 3](self->ivshmem.dir)) TH_LOG("round %d", round);
		ASSERT_EQ(0, patdev_pci_bind(self->ivshmem.dir)) TH_LOG("round %d", round);
	}
	__atomic_store_n(stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_EQ(0, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status))
			TH_LOG("racer %d", i);
	}
	munmap(stop, self->page);
}

TEST_F(bar, module_stays_while_a_bar_is_mapped)
{
	void *p = map_bar(self->fd, &self->edu, self->page, 0);

	ASSERT_NE(MAP_FAILED, p);
	close(self->fd);
	self->fd = -1;
	/* The mapping holds the file, the file the module. */
	EXPECT_EQ(-1, syscall(SYS_delete_module, "patdev", O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0x010000ed, reg_read(p, EDU_ID));
	munmap(p, self->page);
}

TEST_HARNESS_MAIN
