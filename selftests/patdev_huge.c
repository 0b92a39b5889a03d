// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests for 2 MiB entries and batched population: where a mapping's
 * 2 MiB slot is backed by one aligned physical run, Linux 6.12 and later
 * get one 2 MiB entry for it (PATDEV_FEAT_HUGE); elsewhere, and on older
 * kernels, 4 KiB entries. Entry sizes and cache modes are read back from
 * the page tables through QUERY and RANGE_QUERY.
 *
 * The fixture sets transparent_hugepage/enabled to "always" and puts the
 * setting it found back afterwards: Linux 6.12 before 6.12.115 lets that
 * setting veto 2 MiB PFN-map entries, so the tests must not depend on it.
 * One test shows what "never" gives.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "patdev_names.h"
#include "patdev_selftest.h"
#include "patdev_user.h"

#define DEV "/dev/patdev"
#define THP "/sys/kernel/mm/transparent_hugepage/enabled"
#define PMD (2UL << 20)
/* Four 2 MiB slots, each one 2 MiB chunk (an SG object of order 9). */
#define OBJ (4 * PMD)

static int read_thp(char *buf, size_t size)
{
	FILE *f = fopen(THP, "r");
	char *l, *r;

	if (!f)
		return -1;
	if (!fgets(buf, size, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* "always [madvise] never": keep the bracketed word. */
	l = strchr(buf, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!r)
		return -1;
	*r = 0;
	memmove(buf, l + 1, strlen(l + 1) + 1);
	return 0;
}

static int write_thp(const char *mode)
{
	FILE *f = fopen(THP, "w");

	if (!f)
		return -1;
	if (fputs(mode, f) < 0) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

FIXTURE(huge) {
	int fd;
	size_t page;
	int have_huge;
	char thp[32];
	unsigned long long off;
	unsigned int cache;
};

FIXTURE_SETUP(huge)
{
	struct patdev_version v;
	struct patdev_objinfo info = {};

	self->page = sysconf(_SC_PAGESIZE);
	self->fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("open %s: %s", DEV, strerror(errno));
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_VERSION, &v));
	self->have_huge = !!(v.features & PATDEV_FEAT_HUGE);
	ASSERT_EQ(0, read_thp(self->thp, sizeof(self->thp)));
	ASSERT_EQ(0, write_thp("always"));
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, OBJ, PATDEV_CACHE_WC, 9, 0,
				   &self->off)) TH_LOG("CREATE: %s", strerror(errno));
	info.pgoff = self->off / self->page;
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_OBJINFO, &info));
	ASSERT_EQ(OBJ / PMD, info.chunks[9]);
	self->cache = info.cache;
}

FIXTURE_TEARDOWN(huge)
{
	if (self->thp[0] && write_thp(self->thp))
		fprintf(stderr, "# could not restore %s to %s\n", THP, self->thp);
	patdev_destroy(self->fd, self->off, 0);
	close(self->fd);
}

/*
 * Maps @len of the object from byte @objoff at an address congruent to
 * @objoff modulo 2 MiB plus @shift, chosen inside a reserved area, so that
 * the test decides how the mapping's slots meet the object's.
 */
static unsigned char *map_at(struct __test_metadata *_metadata, int fd,
			     unsigned long long off, size_t len, unsigned long shift)
{
	unsigned char *area, *start, *p;
	size_t span = len + 2 * PMD;

	area = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED)
		return MAP_FAILED;
	start = (unsigned char *)(((uintptr_t)area + PMD - 1) & ~(PMD - 1));
	start += (off + shift) % PMD;
	p = mmap(start, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, off);
	if (p == MAP_FAILED)
		return p;
	if (start > area)
		munmap(area, start - area);
	munmap(start + len, area + span - (start + len));
	return p;
}

static int range_query(int fd, const void *addr, size_t len, struct patdev_range_query *r)
{
	memset(r, 0, sizeof(*r));
	r->addr = (uintptr_t)addr;
	r->len = len;
	return ioctl(fd, PATDEV_IOC_RANGE_QUERY, r);
}

static int prefault(int fd, const void *addr, size_t len, unsigned int flags, __u64 *npages)
{
	struct patdev_prefault pf = { .addr = (uintptr_t)addr, .len = len, .flags = flags };
	int ret = ioctl(fd, PATDEV_IOC_PREFAULT, &pf);

	*npages = pf.npages;
	return ret;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* The entry size QUERY sees at @p, 0 when absent. */
static unsigned long long entry_size(int fd, const void *p)
{
	struct patdev_query q;

	return patdev_query(fd, p, &q) ? ~0ULL : q.size;
}

static int kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma, mi;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return -1;
	return ma > major || (ma == major && mi >= minor);
}

TEST_F(huge, feature_present_from_linux_6_12)
{
	int want = kernel_at_least(6, 12);

	ASSERT_GE(want, 0);
	EXPECT_EQ(want, self->have_huge);
}

/*
 * Unhinted mmaps are placed so that the mapping's 2 MiB slots meet the
 * object's; the SG object's name (offset PAGE_SIZE) maps the object from
 * its first page, so it is placed as that page is, 2 MiB-aligned.
 */
TEST_F(huge, unhinted_mmap_lines_up_with_the_object)
{
	unsigned char *p, *q, *sg;

	p = mmap(NULL, OBJ, PROT_READ, MAP_SHARED, self->fd, self->off);
	ASSERT_NE(MAP_FAILED, p);
	q = mmap(NULL, 2 * PMD, PROT_READ, MAP_SHARED, self->fd, self->off + PMD / 2);
	ASSERT_NE(MAP_FAILED, q);
	sg = mmap(NULL, 2 * PMD, PROT_READ, MAP_SHARED, self->fd, PATDEV_PGOFF_SG * self->page);
	ASSERT_NE(MAP_FAILED, sg);
	if (self->have_huge) {
		EXPECT_EQ(0, (uintptr_t)p % PMD);
		EXPECT_EQ(PMD / 2, (uintptr_t)q % PMD);
		EXPECT_EQ(0, (uintptr_t)sg % PMD);
	}
	munmap(p, OBJ);
	munmap(q, 2 * PMD);
	munmap(sg, 2 * PMD);
}

/* A first-touch pass takes one fault per 2 MiB slot. */
TEST_F(huge, first_touch_one_fault_per_slot)
{
	unsigned char *p = map_at(_metadata, self->fd, self->off, OBJ, 0);
	struct patdev_range_query r;
	long before, faults;
	size_t i;

	ASSERT_NE(MAP_FAILED, p);
	before = minflt();
	for (i = 0; i < OBJ; i += self->page)
		p[i] = 1;
	faults = minflt() - before;
	ASSERT_EQ(0, range_query(self->fd, p, OBJ, &r));
	TH_LOG("%ld faults for %lu pages; %llu of %llu resident pages in 2 MiB entries",
	       faults, OBJ / self->page, r.huge, r.resident);
	EXPECT_EQ(OBJ / self->page, r.resident);
	if (self->have_huge) {
		EXPECT_EQ(OBJ / self->page, r.huge);
		/* Slack for a fault of the test's own (stack, libc). */
		EXPECT_GE(faults, OBJ / PMD);
		EXPECT_LE(faults, OBJ / PMD + 2);
		EXPECT_EQ(OBJ / self->page, r.dirty);
	} else {
		EXPECT_EQ(0, r.huge);
		EXPECT_LT(OBJ / PMD, faults);
	}
	munmap(p, OBJ);
}

/*
 * QUERY sees the 2 MiB entry's size, the object's mode and the 4 KiB
 * frame inside it, for each mode an object can have.
 */
TEST_F(huge, entry_size_and_mode_for_every_cache_mode)
{
	static const unsigned int modes[] = {
		PATDEV_CACHE_WB, PATDEV_CACHE_WC, PATDEV_CACHE_UC_MINUS,
	};
	struct patdev_objinfo info = {};
	struct patdev_query q0, q1;
	unsigned long long off;
	unsigned char *p;
	size_t m, at;

	for (m = 0; m < ARRAY_SIZE(modes); m++) {
		ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, PMD, modes[m], 9, 0, &off));
		info.pgoff = off / self->page;
		ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_OBJINFO, &info));
		p = map_at(_metadata, self->fd, off, PMD, 0);
		ASSERT_NE(MAP_FAILED, p);
		p[0] = 1;
		for (at = 0; at < PMD; at += PMD / 4) {
			p[at] = 1;
			p[at + self->page] = 1;
			ASSERT_EQ(0, patdev_query(self->fd, p + at, &q0));
			ASSERT_EQ(0, patdev_query(self->fd, p + at + self->page, &q1));
			EXPECT_EQ(self->have_huge ? PMD : self->page, q0.size);
			EXPECT_STREQ(patdev_cache_name(info.cache), patdev_cache_name(q0.cache));
			EXPECT_STREQ(patdev_cache_name(info.cache), patdev_cache_name(q1.cache));
			if (self->have_huge)
				EXPECT_EQ(q0.pfn + 1, q1.pfn);
		}
		munmap(p, PMD);
		ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
	}
}

/* munmap of one page inside a 2 MiB entry: the rest refaults, intact. */
TEST_F(huge, munmap_inside_a_slot_splits_it_data_intact)
{
	unsigned char *p = map_at(_metadata, self->fd, self->off, 2 * PMD, 0);

	ASSERT_NE(MAP_FAILED, p);
	patdev_fill_pattern(p, 2 * PMD, 3);
	ASSERT_EQ(self->have_huge ? PMD : self->page, entry_size(self->fd, p));
	ASSERT_EQ(0, munmap(p + PMD / 2, self->page));
	if (self->have_huge)
		EXPECT_EQ(0, entry_size(self->fd, p)) TH_LOG("the 2 MiB entry is gone");
	EXPECT_EQ(0, patdev_check_pattern(p, PMD / 2, 3));
	EXPECT_EQ(0, patdev_check_pattern(p + PMD / 2 + self->page, PMD / 2 - self->page,
					  patdev_pattern_seed_at(3, PMD / 2 + self->page)));
	EXPECT_EQ(self->page, entry_size(self->fd, p));
	EXPECT_EQ(self->have_huge ? PMD : self->page, entry_size(self->fd, p + PMD))
		TH_LOG("the next slot keeps its entry");
	EXPECT_EQ(0, patdev_check_pattern(p + PMD, PMD, patdev_pattern_seed_at(3, PMD)));
	munmap(p, PMD / 2);
	munmap(p + PMD / 2 + self->page, PMD + PMD / 2 - self->page);
}

/* mprotect of part of a slot splits it; the pages keep their data. */
TEST_F(huge, mprotect_inside_a_slot_splits_it_data_intact)
{
	unsigned char *p = map_at(_metadata, self->fd, self->off, PMD, 0);
	struct patdev_query q;

	ASSERT_NE(MAP_FAILED, p);
	patdev_fill_pattern(p, PMD, 5);
	ASSERT_EQ(0, mprotect(p + PMD - self->page, self->page, PROT_READ));
	EXPECT_EQ(0, patdev_check_pattern(p, PMD, 5));
	ASSERT_EQ(0, patdev_query(self->fd, p, &q));
	EXPECT_EQ(self->page, q.size);
	EXPECT_NE(0, q.flags & PATDEV_QUERY_WRITE);
	ASSERT_EQ(0, patdev_query(self->fd, p + PMD - self->page, &q));
	EXPECT_EQ(self->page, q.size);
	EXPECT_EQ(0, q.flags & PATDEV_QUERY_WRITE);
	EXPECT_STREQ(patdev_cache_name(self->cache), patdev_cache_name(q.cache));
	munmap(p, PMD);
}

/*
 * A second mapping whose slots do not line up with the object's runs gets
 * 4 KiB entries and sees the first mapping's data.
 */
TEST_F(huge, partial_second_mapping_gets_4k_entries_same_data)
{
	unsigned char *p = map_at(_metadata, self->fd, self->off, OBJ, 0);
	unsigned char *q = map_at(_metadata, self->fd, self->off + PMD / 2, 2 * PMD, PMD / 2);
	struct patdev_range_query r;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(MAP_FAILED, q);
	patdev_fill_pattern(p, OBJ, 9);
	EXPECT_EQ(0, patdev_check_pattern(q, 2 * PMD, patdev_pattern_seed_at(9, PMD / 2)));
	ASSERT_EQ(0, range_query(self->fd, q, 2 * PMD, &r));
	EXPECT_EQ(2 * PMD / self->page, r.resident);
	EXPECT_EQ(0, r.huge);
	ASSERT_EQ(0, range_query(self->fd, p, OBJ, &r));
	EXPECT_EQ(self->have_huge ? OBJ / self->page : 0, r.huge);
	munmap(p, OBJ);
	munmap(q, 2 * PMD);
}

/*
 * mremap moves a mapping with 2 MiB entries, to a 2 MiB-aligned address and
 * to one that is not: the data follow, and every entry has the object's mode.
 */
TEST_F(huge, mremap_moves_2m_entries_data_intact)
{
	unsigned char *p = map_at(_metadata, self->fd, self->off, 2 * PMD, 0);
	unsigned char *to, *q, *res[2];
	struct patdev_query qr;
	size_t shift;

	ASSERT_NE(MAP_FAILED, p);
	patdev_fill_pattern(p, 2 * PMD, 19);
	for (shift = 0; shift <= self->page; shift += self->page) {
		res[shift / self->page] = mmap(NULL, 4 * PMD, PROT_NONE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		to = res[shift / self->page];
		ASSERT_NE(MAP_FAILED, to);
		to = (unsigned char *)(((uintptr_t)to + PMD - 1) & ~(PMD - 1)) + shift;
		q = mremap(p, 2 * PMD, 2 * PMD, MREMAP_MAYMOVE | MREMAP_FIXED, to);
		ASSERT_EQ(to, q) TH_LOG("mremap: %s", strerror(errno));
		EXPECT_EQ(0, patdev_check_pattern(q, 2 * PMD, 19)) TH_LOG("shift %zu", shift);
		ASSERT_EQ(0, patdev_query(self->fd, q + PMD - 1, &qr));
		EXPECT_STREQ(patdev_cache_name(self->cache), patdev_cache_name(qr.cache));
		if (shift)
			EXPECT_EQ(self->page, qr.size);
		p = q;
	}
	/* The reservations, and the mapping inside the second. */
	munmap(res[0], 4 * PMD);
	munmap(res[1], 4 * PMD);
}

/* A child gets the 2 MiB entries (fork copies them) and shares the pages. */
TEST_F(huge, fork_child_shares_the_pages)
{
	unsigned char *p = map_at(_metadata, self->fd, self->off, 2 * PMD, 0);
	int status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, p);
	patdev_fill_pattern(p, 2 * PMD, 11);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		if (patdev_check_pattern(p, 2 * PMD, 11))
			_exit(1);
		if (entry_size(self->fd, p) != (self->have_huge ? PMD : self->page))
			_exit(2);
		patdev_fill_pattern(p, 2 * PMD, 12);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("1: data, 2: entry size in the child");
	EXPECT_EQ(0, patdev_check_pattern(p, 2 * PMD, 12));
	munmap(p, 2 * PMD);
}

TEST_F(huge, prefault_aligned_range_enters_2m_entries)
{
	unsigned char *p = map_at(_metadata, self->fd, self->off, OBJ, 0);
	struct patdev_range_query r;
	__u64 n;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, prefault(self->fd, p, OBJ, PATDEV_PREFAULT_READ, &n));
	EXPECT_EQ(OBJ / self->page, n);
	ASSERT_EQ(0, range_query(self->fd, p, OBJ, &r));
	EXPECT_EQ(OBJ / self->page, r.resident);
	EXPECT_EQ(self->have_huge ? OBJ / self->page : 0, r.huge);
	EXPECT_EQ(0, r.dirty);
	/* Entries already present are left as they are, 2 MiB ones too. */
	ASSERT_EQ(0, prefault(self->fd, p, OBJ, PATDEV_PREFAULT_WRITE, &n));
	ASSERT_EQ(0, range_query(self->fd, p, OBJ, &r));
	EXPECT_EQ(0, r.dirty);
	EXPECT_EQ(OBJ / self->page, r.writable);
	munmap(p, OBJ);
	/* WRITE on a fresh mapping enters them writable, dirty and young. */
	p = map_at(_metadata, self->fd, self->off, OBJ, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, prefault(self->fd, p, OBJ, PATDEV_PREFAULT_WRITE, &n));
	ASSERT_EQ(0, range_query(self->fd, p, OBJ, &r));
	EXPECT_EQ(self->have_huge ? OBJ / self->page : 0, r.huge);
	EXPECT_EQ(OBJ / self->page, r.dirty);
	EXPECT_EQ(OBJ / self->page, r.young);
	munmap(p, OBJ);
}

/*
 * SET_MMAP_FLAGS: the prefault inside mmap enters 2 MiB entries too (in
 * .mmap before the mapping is even linked into the process; from 7.1 in
 * ->mapped, which must find its vma).
 */
TEST_F(huge, mmap_flags_prefault_enters_2m_entries)
{
	struct patdev_mmap_flags mf = { .flags = PATDEV_PREFAULT_WRITE };
	struct patdev_range_query r;
	unsigned char *p;

	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_SET_MMAP_FLAGS, &mf));
	p = map_at(_metadata, self->fd, self->off, OBJ, 0);
	mf.flags = 0;
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_SET_MMAP_FLAGS, &mf));
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, range_query(self->fd, p, OBJ, &r));
	EXPECT_EQ(OBJ / self->page, r.resident);
	EXPECT_EQ(self->have_huge ? OBJ / self->page : 0, r.huge);
	EXPECT_EQ(OBJ / self->page, r.dirty);
	munmap(p, OBJ);
}

/*
 * Where the kernel declines 2 MiB entries (MADV_NOHUGEPAGE here; the THP
 * setting on some kernels), the fault path enters the first pages of a
 * slot and the batch the rest: WRITE still leaves every page dirty.
 */
TEST_F(huge, prefault_write_without_2m_entries_makes_every_page_dirty)
{
	unsigned char *p = map_at(_metadata, self->fd, self->off, OBJ, 0);
	struct patdev_range_query r;
	__u64 n;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, OBJ, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, prefault(self->fd, p, OBJ, PATDEV_PREFAULT_WRITE, &n));
	EXPECT_EQ(OBJ / self->page, n);
	ASSERT_EQ(0, range_query(self->fd, p, OBJ, &r));
	EXPECT_EQ(OBJ / self->page, r.resident);
	EXPECT_EQ(0, r.huge);
	EXPECT_EQ(OBJ / self->page, r.dirty);
	EXPECT_EQ(OBJ / self->page, r.young);
	munmap(p, OBJ);
}

/*
 * A mapping shifted by 1 MiB against the object gets 4 KiB entries only,
 * in batches, every one of them with the object's mode.
 */
TEST_F(huge, prefault_unaligned_range_enters_4k_entries_with_the_mode)
{
	unsigned char *p = map_at(_metadata, self->fd, self->off, 2 * PMD, PMD / 2);
	struct patdev_range_query r;
	struct patdev_query q;
	size_t i;
	__u64 n;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, prefault(self->fd, p, 2 * PMD, PATDEV_PREFAULT_READ, &n));
	EXPECT_EQ(2 * PMD / self->page, n);
	ASSERT_EQ(0, range_query(self->fd, p, 2 * PMD, &r));
	EXPECT_EQ(2 * PMD / self->page, r.resident);
	EXPECT_EQ(0, r.huge);
	for (i = 0; i < 2 * PMD; i += 61 * self->page) {
		ASSERT_EQ(0, patdev_query(self->fd, p + i, &q));
		ASSERT_EQ(self->page, q.size);
		ASSERT_STREQ(patdev_cache_name(self->cache), patdev_cache_name(q.cache))
			TH_LOG("page %zu", i / self->page);
	}
	munmap(p, 2 * PMD);
}

/* Only whole slots inside the range get 2 MiB entries. */
TEST_F(huge, prefault_partly_covered_slots_get_4k_entries)
{
	unsigned char *p = map_at(_metadata, self->fd, self->off, OBJ, 0);
	struct patdev_range_query r;
	__u64 n;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, prefault(self->fd, p + PMD / 2, 2 * PMD, PATDEV_PREFAULT_READ, &n));
	EXPECT_EQ(2 * PMD / self->page, n);
	ASSERT_EQ(0, range_query(self->fd, p, OBJ, &r));
	EXPECT_EQ(2 * PMD / self->page, r.resident);
	EXPECT_EQ(self->have_huge ? PMD / self->page : 0, r.huge);
	EXPECT_EQ(self->page, entry_size(self->fd, p + PMD / 2));
	EXPECT_EQ(0, entry_size(self->fd, p + PMD / 2 - self->page));
	EXPECT_EQ(self->have_huge ? PMD : self->page, entry_size(self->fd, p + PMD));
	EXPECT_EQ(self->page, entry_size(self->fd, p + 2 * PMD));
	munmap(p, OBJ);
}

/*
 * Under soft-dirty tracking the vma's protection is read-only: WRITE
 * prefault enters a clean read-only 2 MiB entry, as for 4 KiB entries, and
 * after the first write the slot is one writable, dirty 2 MiB entry again.
 */
TEST_F(huge, soft_dirty_write_to_a_read_only_2m_entry)
{
	unsigned char *p = map_at(_metadata, self->fd, self->off, PMD, 0);
	struct patdev_query q;
	__u64 n;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, patdev_clear_soft_dirty());
	ASSERT_EQ(0, prefault(self->fd, p, PMD, PATDEV_PREFAULT_WRITE, &n));
	ASSERT_EQ(0, patdev_query(self->fd, p, &q));
	EXPECT_EQ(self->have_huge ? PMD : self->page, q.size);
	EXPECT_EQ(PATDEV_QUERY_PRESENT, q.flags & (PATDEV_QUERY_PRESENT | PATDEV_QUERY_WRITE |
						   PATDEV_QUERY_DIRTY));
	p[self->page] = 7;
	ASSERT_EQ(0, patdev_query(self->fd, p + self->page, &q));
	EXPECT_EQ(self->have_huge ? PMD : self->page, q.size);
	EXPECT_EQ(PATDEV_QUERY_WRITE | PATDEV_QUERY_DIRTY,
		  q.flags & (PATDEV_QUERY_WRITE | PATDEV_QUERY_DIRTY));
	EXPECT_EQ(7, p[self->page]);
	munmap(p, PMD);
}

/*
 * A read-only 2 MiB entry (soft-dirty tracking write-protects the vma)
 * written by the kernel on the caller's behalf, a read(2) into it, which
 * faults under the mmap lock, not the per-VMA lock: the entry is made
 * writable and dirty in place and the slot stays one 2 MiB entry.
 */
TEST_F(huge, kernel_write_to_a_read_only_2m_entry_keeps_it)
{
	unsigned char *p = map_at(_metadata, self->fd, self->off, PMD, 0);
	static const char msg[] = "patdev";
	struct patdev_query q;
	int pipefd[2];
	__u64 n;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, patdev_clear_soft_dirty());
	ASSERT_EQ(0, prefault(self->fd, p, PMD, PATDEV_PREFAULT_READ, &n));
	ASSERT_EQ(0, patdev_query(self->fd, p, &q));
	EXPECT_EQ(self->have_huge ? PMD : self->page, q.size);
	ASSERT_EQ(0, q.flags & PATDEV_QUERY_WRITE) TH_LOG("the entry must be read-only");
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(sizeof(msg), write(pipefd[1], msg, sizeof(msg)));
	ASSERT_EQ(sizeof(msg), read(pipefd[0], p + self->page, sizeof(msg)));
	close(pipefd[0]);
	close(pipefd[1]);
	EXPECT_STREQ(msg, (char *)p + self->page);
	ASSERT_EQ(0, patdev_query(self->fd, p + self->page, &q));
	EXPECT_EQ(self->have_huge ? PMD : self->page, q.size) TH_LOG("the slot stays 2 MiB");
	EXPECT_EQ(PATDEV_QUERY_WRITE | PATDEV_QUERY_DIRTY,
		  q.flags & (PATDEV_QUERY_WRITE | PATDEV_QUERY_DIRTY));
	munmap(p, PMD);
}

/* RANGE_QUERY counts the pages of a 2 MiB entry that lie in the range. */
TEST_F(huge, range_query_counts_a_2m_entry_per_page)
{
	unsigned char *p = map_at(_metadata, self->fd, self->off, PMD, 0);
	struct patdev_range_query r;

	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	ASSERT_EQ(0, range_query(self->fd, p + 3 * self->page, 5 * self->page, &r));
	/* Without 2 MiB entries, fault-around mapped pages 0 to 15. */
	EXPECT_EQ(5, r.resident);
	EXPECT_EQ(self->have_huge ? 5 : 0, r.huge);
	munmap(p, PMD);
}

/*
 * Does transparent_hugepage/enabled veto 2 MiB PFN-map entries on this
 * kernel? From 6.12 until the fix (7.3, backported to 6.12.115 and 7.2.8).
 */
static int thp_setting_gates_pfnmap(void)
{
	struct utsname u;
	int ma, mi, pa = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d.%d", &ma, &mi, &pa) < 2)
		return -1;
	if (ma == 6 && mi == 12)
		return pa < 115;
	if (ma == 7 && mi == 2)
		return pa < 8;
	return (ma == 6 && mi > 12) || (ma == 7 && mi < 2);
}

/*
 * With transparent_hugepage/enabled at "never", Debian's 6.12.95 makes
 * 4 KiB entries only; 7.3 ignores the setting for PFN maps. Either way
 * every page is mapped, with the object's mode.
 */
TEST_F(huge, thp_never_still_maps_every_page_correctly)
{
	unsigned char *p;
	struct patdev_range_query r;
	struct patdev_query q;

	ASSERT_EQ(0, write_thp("never"));
	p = map_at(_metadata, self->fd, self->off, PMD, 0);
	ASSERT_NE(MAP_FAILED, p);
	patdev_fill_pattern(p, PMD, 13);
	EXPECT_EQ(0, patdev_check_pattern(p, PMD, 13));
	ASSERT_EQ(0, range_query(self->fd, p, PMD, &r));
	ASSERT_EQ(0, patdev_query(self->fd, p + PMD - 1, &q));
	TH_LOG("with THP never: %llu of %llu pages in 2 MiB entries", r.huge, r.resident);
	EXPECT_EQ(PMD / self->page, r.resident);
	ASSERT_GE(thp_setting_gates_pfnmap(), 0);
	EXPECT_EQ(self->have_huge && !thp_setting_gates_pfnmap() ? PMD / self->page : 0,
		  r.huge);
	EXPECT_STREQ(patdev_cache_name(self->cache), patdev_cache_name(q.cache));
	munmap(p, PMD);
}

/*
 * With "madvise", a mapping marked MADV_HUGEPAGE gets 2 MiB entries on
 * every kernel that has them.
 */
TEST_F(huge, thp_madvise_with_madv_hugepage_gets_2m_entries)
{
	struct patdev_range_query r;
	unsigned char *p;

	ASSERT_EQ(0, write_thp("madvise"));
	p = map_at(_metadata, self->fd, self->off, PMD, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, PMD, MADV_HUGEPAGE)) TH_LOG("%s", strerror(errno));
	patdev_fill_pattern(p, PMD, 17);
	EXPECT_EQ(0, patdev_check_pattern(p, PMD, 17));
	ASSERT_EQ(0, range_query(self->fd, p, PMD, &r));
	EXPECT_EQ(PMD / self->page, r.resident);
	EXPECT_EQ(self->have_huge ? PMD / self->page : 0, r.huge);
	munmap(p, PMD);
}

TEST_HARNESS_MAIN
