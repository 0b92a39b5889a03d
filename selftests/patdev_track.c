// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests for NetBSD's per-page modified/referenced state (objects made
 * with PATDEV_CREATE_TRACK) and for the object-wide cache-mode change
 * (PATDEV_IOC_SET_CACHE). The state is read with PATDEV_IOC_MR_QUERY; the
 * entries each process has are read from its page tables with QUERY and
 * RANGE_QUERY; faults are counted with the task's minor faults.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "patdev_names.h"
#include "patdev_selftest.h"
#include "patdev_user.h"

#define DEV "/dev/patdev"
#define NPAGES 130	/* more than two bitmap words */

/* QUERY's flags at @p, or ~0 when the call fails. */
static unsigned long long qflags(int fd, const void *p)
{
	struct patdev_query q;

	return patdev_query(fd, p, &q) ? ~0ULL : q.flags;
}

static unsigned long long qcache(int fd, const void *p)
{
	struct patdev_query q;

	return patdev_query(fd, p, &q) || !(q.flags & PATDEV_QUERY_PRESENT) ? ~0ULL : q.cache;
}

static unsigned long long resident(int fd, const void *p, size_t len)
{
	struct patdev_range_query r = { .addr = (uintptr_t)p, .len = len };

	return ioctl(fd, PATDEV_IOC_RANGE_QUERY, &r) ? ~0ULL : r.resident;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* MR_QUERY (@clear 0) or MR_CLEAR of @n pages from @first; maps optional. */
static int mr(int fd, unsigned long long off, __u64 first, __u64 n, __u64 clear,
	      struct patdev_mr *m, __u64 *mod_map, __u64 *ref_map)
{
	memset(m, 0, sizeof(*m));
	m->offset = off;
	m->first = first;
	m->npages = n;
	m->flags = clear;
	m->modified_map = (uintptr_t)mod_map;
	m->referenced_map = (uintptr_t)ref_map;
	return ioctl(fd, clear ? PATDEV_IOC_MR_CLEAR : PATDEV_IOC_MR_QUERY, m);
}

/* Bit @i of a uapi bitmap. */
static int bit(const __u64 *map, unsigned int i)
{
	return (map[i / 64] >> (i % 64)) & 1;
}

static void touch_read(const unsigned char *p)
{
	(void)__atomic_load_n(p, __ATOMIC_RELAXED);
}

FIXTURE(track) {
	int fd;
	size_t page;
	unsigned long long off;
	unsigned char *p;
};

FIXTURE_SETUP(track)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("open %s: %s", DEV, strerror(errno));
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, NPAGES * self->page,
				   PATDEV_CACHE_WC, 0, PATDEV_CREATE_TRACK, &self->off))
		TH_LOG("CREATE TRACK: %s", strerror(errno));
	self->p = mmap(NULL, NPAGES * self->page, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		       self->off);
	ASSERT_NE(MAP_FAILED, self->p);
}

FIXTURE_TEARDOWN(track)
{
	munmap(self->p, NPAGES * self->page);
	patdev_destroy(self->fd, self->off, 0);
	close(self->fd);
}

TEST_F(track, objinfo_says_tracked_and_fresh_state_is_clear)
{
	struct patdev_objinfo info = { .pgoff = self->off / self->page };
	__u64 mod[3] = { ~0ULL, ~0ULL, ~0ULL }, ref[3] = { ~0ULL, ~0ULL, ~0ULL };
	struct patdev_version v;
	struct patdev_mr m;

	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_VERSION, &v));
	ASSERT_TRUE(v.features & PATDEV_FEAT_MR);
	ASSERT_TRUE(v.features & PATDEV_FEAT_SET_CACHE);
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_OBJINFO, &info));
	ASSERT_TRUE(info.flags & PATDEV_OBJ_TRACKED);
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES, 0, &m, mod, ref));
	ASSERT_EQ(0, m.modified);
	ASSERT_EQ(0, m.referenced);
	ASSERT_EQ(0, mod[0] | mod[1] | mod[2] | ref[0] | ref[1] | ref[2]);
	ASSERT_EQ(0, resident(self->fd, self->p, NPAGES * self->page));
}

TEST_F(track, read_marks_referenced_only_and_enters_read_only)
{
	__u64 mod[3], ref[3];
	struct patdev_mr m;
	long f0;

	f0 = minflt();
	touch_read(self->p + 3 * self->page);
	ASSERT_EQ(1, minflt() - f0);
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES, 0, &m, mod, ref));
	ASSERT_EQ(1, m.referenced);
	ASSERT_EQ(0, m.modified);
	ASSERT_TRUE(bit(ref, 3));
	/* Present, read-only, no fault-around. */
	ASSERT_EQ(PATDEV_QUERY_PRESENT, qflags(self->fd, self->p + 3 * self->page) &
		  (PATDEV_QUERY_PRESENT | PATDEV_QUERY_WRITE));
	ASSERT_EQ(1, resident(self->fd, self->p, NPAGES * self->page));
}

TEST_F(track, write_marks_modified_and_faults_once)
{
	__u64 mod[3], ref[3];
	struct patdev_mr m;
	long f0;

	f0 = minflt();
	self->p[5 * self->page] = 1;
	ASSERT_EQ(1, minflt() - f0);
	self->p[5 * self->page + 8] = 2;
	ASSERT_EQ(1, minflt() - f0);
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES, 0, &m, mod, ref));
	ASSERT_EQ(1, m.modified);
	ASSERT_EQ(1, m.referenced);
	ASSERT_TRUE(bit(mod, 5) && bit(ref, 5));
	ASSERT_EQ(PATDEV_QUERY_PRESENT | PATDEV_QUERY_WRITE | PATDEV_QUERY_DIRTY,
		  qflags(self->fd, self->p + 5 * self->page) &
		  (PATDEV_QUERY_PRESENT | PATDEV_QUERY_WRITE | PATDEV_QUERY_DIRTY));
}

TEST_F(track, write_after_read_goes_through_pfn_mkwrite)
{
	struct patdev_mr m;
	long f0;

	touch_read(self->p + 7 * self->page);
	ASSERT_EQ(0, mr(self->fd, self->off, 7, 1, 0, &m, NULL, NULL));
	ASSERT_EQ(0, m.modified);
	f0 = minflt();
	self->p[7 * self->page] = 1;
	ASSERT_EQ(1, minflt() - f0);
	ASSERT_EQ(0, mr(self->fd, self->off, 7, 1, 0, &m, NULL, NULL));
	ASSERT_EQ(1, m.modified);
	ASSERT_TRUE(qflags(self->fd, self->p + 7 * self->page) & PATDEV_QUERY_WRITE);
}

TEST_F(track, write_pass_faults_once_per_page)
{
	struct patdev_mr m;
	size_t i;
	long f0;

	f0 = minflt();
	for (i = 0; i < NPAGES; i++)
		self->p[i * self->page] = (unsigned char)i;
	ASSERT_EQ(NPAGES, minflt() - f0);
	f0 = minflt();
	for (i = 0; i < NPAGES; i++)
		self->p[i * self->page + 1] = (unsigned char)i;
	ASSERT_EQ(0, minflt() - f0);
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES, 0, &m, NULL, NULL));
	ASSERT_EQ(NPAGES, m.modified);
	ASSERT_EQ(NPAGES, m.referenced);
}

TEST_F(track, clear_modified_then_write_faults_once_and_marks_again)
{
	unsigned char *q = self->p + 9 * self->page;
	struct patdev_mr m;
	long f0;

	*q = 1;
	ASSERT_EQ(0, mr(self->fd, self->off, 9, 1, PATDEV_MR_MODIFIED, &m, NULL, NULL));
	/* The answer is the state before the clear. */
	ASSERT_EQ(1, m.modified);
	ASSERT_EQ(1, m.referenced);
	ASSERT_EQ(0, qflags(self->fd, q) & PATDEV_QUERY_PRESENT);
	ASSERT_EQ(0, mr(self->fd, self->off, 9, 1, 0, &m, NULL, NULL));
	ASSERT_EQ(0, m.modified);
	ASSERT_EQ(1, m.referenced);
	ASSERT_EQ(1, *q);	/* data kept */
	ASSERT_EQ(0, mr(self->fd, self->off, 9, 1, 0, &m, NULL, NULL));
	ASSERT_EQ(0, m.modified);
	ASSERT_EQ(0, qflags(self->fd, q) & PATDEV_QUERY_WRITE);
	f0 = minflt();
	*q = 2;
	ASSERT_EQ(1, minflt() - f0);
	ASSERT_EQ(0, mr(self->fd, self->off, 9, 1, 0, &m, NULL, NULL));
	ASSERT_EQ(1, m.modified);
}

TEST_F(track, clear_both_then_read_marks_referenced_not_modified)
{
	unsigned char *q = self->p + 11 * self->page;
	struct patdev_mr m;

	*q = 3;
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES,
			PATDEV_MR_MODIFIED | PATDEV_MR_REFERENCED, &m, NULL, NULL));
	ASSERT_EQ(1, m.modified);
	ASSERT_EQ(0, resident(self->fd, self->p, NPAGES * self->page));
	ASSERT_EQ(3, *q);
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES, 0, &m, NULL, NULL));
	ASSERT_EQ(0, m.modified);
	ASSERT_EQ(1, m.referenced);
	ASSERT_EQ(PATDEV_QUERY_PRESENT, qflags(self->fd, q) &
		  (PATDEV_QUERY_PRESENT | PATDEV_QUERY_WRITE));
}

TEST_F(track, clear_referenced_keeps_modified)
{
	unsigned char *q = self->p + 12 * self->page;
	struct patdev_mr m;

	*q = 1;
	ASSERT_EQ(0, mr(self->fd, self->off, 12, 1, PATDEV_MR_REFERENCED, &m, NULL, NULL));
	ASSERT_EQ(0, qflags(self->fd, q) & PATDEV_QUERY_PRESENT);
	ASSERT_EQ(0, mr(self->fd, self->off, 12, 1, 0, &m, NULL, NULL));
	ASSERT_EQ(1, m.modified);
	ASSERT_EQ(0, m.referenced);
}

TEST_F(track, bitmap_layout_follows_first)
{
	__u64 mod[3] = { 0 }, ref[3] = { 0 };
	unsigned int pages[] = { 0, 63, 64, 65, 129 };
	struct patdev_mr m;
	unsigned int i;

	for (i = 0; i < 5; i++)
		self->p[pages[i] * self->page] = 1;
	touch_read(self->p + 100 * self->page);
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES, 0, &m, mod, ref));
	ASSERT_EQ(5, m.modified);
	ASSERT_EQ(6, m.referenced);
	for (i = 0; i < NPAGES; i++) {
		int want = i == 0 || i == 63 || i == 64 || i == 65 || i == 129;

		ASSERT_EQ(want, bit(mod, i)) TH_LOG("page %u", i);
		ASSERT_EQ(want || i == 100, bit(ref, i)) TH_LOG("page %u", i);
	}
	/* From page 63 on: bit 0 is page 63; only the words of 3 pages are written. */
	memset(mod, 0xff, sizeof(mod));
	ASSERT_EQ(0, mr(self->fd, self->off, 63, 3, 0, &m, mod, NULL));
	ASSERT_EQ(3, m.modified);
	ASSERT_EQ(7, mod[0]);
	ASSERT_EQ(~0ULL, mod[1]);
}

TEST_F(track, state_survives_every_mapping_and_file)
{
	struct patdev_mr m;
	pid_t pid;
	int status;

	/* A child with its own open and mapping writes, then all of it goes. */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		int fd = open(DEV, O_RDWR);
		unsigned char *c = mmap(NULL, NPAGES * self->page, PROT_READ | PROT_WRITE,
					MAP_SHARED, fd, self->off);

		if (fd < 0 || c == MAP_FAILED)
			_exit(1);
		c[20 * self->page] = 1;
		touch_read(c + 21 * self->page);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	ASSERT_EQ(0, munmap(self->p, NPAGES * self->page));
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES, 0, &m, NULL, NULL));
	ASSERT_EQ(1, m.modified);
	ASSERT_EQ(2, m.referenced);
	self->p = mmap(NULL, NPAGES * self->page, PROT_READ, MAP_SHARED, self->fd, self->off);
	ASSERT_NE(MAP_FAILED, self->p);
	ASSERT_EQ(0, resident(self->fd, self->p, NPAGES * self->page));
	ASSERT_EQ(1, self->p[20 * self->page]);
}

/* Forked children write different pages; every process sees all marked. */
TEST_F(track, writes_in_any_process_mark_for_all)
{
	struct patdev_mr m;
	__u64 mod[3];
	int i, status;

	for (i = 0; i < 4; i++) {
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (!pid) {
			self->p[(30 + i) * self->page] = 1;
			_exit(0);
		}
	}
	for (i = 0; i < 4; i++) {
		ASSERT_GT(wait(&status), 0);
		ASSERT_EQ(0, status);
	}
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES, 0, &m, mod, NULL));
	ASSERT_EQ(4, m.modified);
	for (i = 0; i < 4; i++)
		ASSERT_TRUE(bit(mod, 30 + i));
	/* This process wrote nothing: its entries are read-only. */
	touch_read(self->p + 30 * self->page);
	ASSERT_EQ(PATDEV_QUERY_PRESENT, qflags(self->fd, self->p + 30 * self->page) &
		  (PATDEV_QUERY_PRESENT | PATDEV_QUERY_WRITE));
}

/* A clear in one process removes the entries of another. */
TEST_F(track, clear_revokes_in_every_process)
{
	int to_child[2], to_parent[2], status;
	struct patdev_mr m;
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		unsigned char *q = self->p + 40 * self->page;
		unsigned long long before, after;

		*q = 1;
		before = qflags(self->fd, q);
		if (write(to_parent[1], &c, 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(2);
		after = qflags(self->fd, q);
		_exit(!(before & PATDEV_QUERY_WRITE) || (after & PATDEV_QUERY_PRESENT) ? 1 : 0);
	}
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	ASSERT_EQ(0, mr(self->fd, self->off, 40, 1, PATDEV_MR_MODIFIED, &m, NULL, NULL));
	ASSERT_EQ(1, m.modified);
	ASSERT_EQ(1, write(to_child[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
}

TEST_F(track, mprotect_cannot_make_an_unmodified_page_writable)
{
	unsigned char *q = self->p + 50 * self->page;
	struct patdev_mr m;

	touch_read(q);
	ASSERT_EQ(0, mprotect(self->p, NPAGES * self->page, PROT_READ));
	ASSERT_EQ(0, mprotect(self->p, NPAGES * self->page, PROT_READ | PROT_WRITE));
	ASSERT_EQ(PATDEV_QUERY_PRESENT, qflags(self->fd, q) &
		  (PATDEV_QUERY_PRESENT | PATDEV_QUERY_WRITE));
	*q = 1;
	ASSERT_EQ(0, mr(self->fd, self->off, 50, 1, 0, &m, NULL, NULL));
	ASSERT_EQ(1, m.modified);
}

/* A dirty entry made read-only, then cleared: mprotect cannot revive it. */
TEST_F(track, clear_of_a_dirty_read_only_entry_then_mprotect)
{
	unsigned char *q = self->p + 51 * self->page;
	struct patdev_mr m;

	*q = 1;
	ASSERT_EQ(0, mprotect(self->p, NPAGES * self->page, PROT_READ));
	ASSERT_EQ(PATDEV_QUERY_PRESENT | PATDEV_QUERY_DIRTY, qflags(self->fd, q) &
		  (PATDEV_QUERY_PRESENT | PATDEV_QUERY_WRITE | PATDEV_QUERY_DIRTY));
	ASSERT_EQ(0, mr(self->fd, self->off, 51, 1, PATDEV_MR_MODIFIED, &m, NULL, NULL));
	ASSERT_EQ(1, m.modified);
	ASSERT_EQ(0, mprotect(self->p, NPAGES * self->page, PROT_READ | PROT_WRITE));
	touch_read(q);
	ASSERT_EQ(PATDEV_QUERY_PRESENT, qflags(self->fd, q) &
		  (PATDEV_QUERY_PRESENT | PATDEV_QUERY_WRITE));
	ASSERT_EQ(0, mr(self->fd, self->off, 51, 1, 0, &m, NULL, NULL));
	ASSERT_EQ(0, m.modified);
}

/* A bad bitmap fails the clear before anything is cleared. */
TEST_F(track, failed_clear_clears_nothing)
{
	__u64 ok[3];
	struct patdev_mr m;

	self->p[0] = 1;
	self->p[129 * self->page] = 1;
	/* The last word of the map lies in an unmapped page. */
	{
		unsigned char *two = mmap(NULL, 2 * self->page, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		__u64 *map;

		ASSERT_NE(MAP_FAILED, two);
		ASSERT_EQ(0, munmap(two + self->page, self->page));
		map = (__u64 *)(two + self->page) - 2;
		ASSERT_EQ(-1, mr(self->fd, self->off, 0, NPAGES,
				 PATDEV_MR_MODIFIED | PATDEV_MR_REFERENCED, &m, ok, map));
		ASSERT_EQ(EFAULT, errno);
		munmap(two, self->page);
	}
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES, 0, &m, NULL, NULL));
	ASSERT_EQ(2, m.modified);
	ASSERT_EQ(2, m.referenced);
	ASSERT_EQ(2, resident(self->fd, self->p, NPAGES * self->page));
}

struct flipper {
	void *map;
	size_t len;
	int stop;
};

/* Write-protects and unprotects a bitmap, as fast as it can. */
static void *flip_bitmap(void *p)
{
	struct flipper *f = p;

	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		mprotect(f->map, f->len, PROT_READ);
		mprotect(f->map, f->len, PROT_READ | PROT_WRITE);
	}
	return NULL;
}

/*
 * A clear whose bitmap another thread write-protects and unprotects under
 * it: each call either reports the state and clears it, or fails with
 * EFAULT having cleared nothing (one round of pages, so no earlier round
 * was cleared): no state is ever cleared without being reported. Both
 * outcomes must occur, so the race was run.
 */
TEST(clear_never_loses_state_to_a_racing_thread)
{
	const size_t page = sysconf(_SC_PAGESIZE), npages = page * 8 / 2;
	int fd = open(DEV, O_RDWR), i, ok = 0, efault = 0;
	struct patdev_prefault pf = { .len = npages * page, .flags = PATDEV_PREFAULT_READ };
	struct flipper f = { .len = page };
	unsigned long long off;
	struct patdev_mr m;
	pthread_t th;
	__u64 *map;
	void *p;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, patdev_create(fd, PATDEV_OBJ_SG, npages * page, PATDEV_CACHE_WB, 0,
				   PATDEV_CREATE_TRACK, &off));
	p = mmap(NULL, npages * page, PROT_READ, MAP_SHARED, fd, off);
	ASSERT_NE(MAP_FAILED, p);
	pf.addr = (uintptr_t)p;
	map = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	f.map = map;
	ASSERT_EQ(0, pthread_create(&th, NULL, flip_bitmap, &f));
	for (i = 0; i < 300 && _metadata->passed; i++) {
		/* Every page referenced again. */
		ASSERT_EQ(0, ioctl(fd, PATDEV_IOC_PREFAULT, &pf));
		if (!mr(fd, off, 0, npages, PATDEV_MR_REFERENCED, &m, NULL, map)) {
			ok++;
			EXPECT_EQ(npages, m.referenced);
			EXPECT_EQ(~0ULL, map[npages / 64 - 1]);
			ASSERT_EQ(0, mr(fd, off, 0, npages, 0, &m, NULL, NULL));
			EXPECT_EQ(0, m.referenced);
		} else {
			ASSERT_EQ(EFAULT, errno);
			efault++;
			ASSERT_EQ(0, mr(fd, off, 0, npages, 0, &m, NULL, NULL));
			EXPECT_EQ(npages, m.referenced)
				TH_LOG("call %d cleared unreported state", i);
		}
	}
	__atomic_store_n(&f.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	TH_LOG("%d clears reported and cleared, %d failed with EFAULT", ok, efault);
	EXPECT_GT(ok, 0);
	EXPECT_GT(efault, 0);
	munmap(p, npages * page);
	munmap(map, page);
	ASSERT_EQ(0, patdev_destroy(fd, off, 0));
	close(fd);
}

struct clear_call {
	int fd;
	struct patdev_mr *m;
	int ret;
};

static void *clear_thread(void *p)
{
	struct clear_call *c = p;

	c->ret = ioctl(c->fd, PATDEV_IOC_MR_CLEAR, c->m) ? errno : 0;
	return NULL;
}

/* Waits up to @ms for @t; 1 if it ended (and was joined), 0 if not. */
static int join_within(pthread_t t, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_timedjoin_np(t, NULL, &ts) == 0;
}

/*
 * Two clears of one object must not interleave. Clear A has read page 0
 * modified and stalls writing its report (its structure lies in a page
 * write-protected with userfaultfd). Were clear B let in, it would report
 * and clear the page, a write would mark it anew, and A, going on, would
 * clear that new mark without anyone reporting it. B waits for A instead,
 * and the new mark stays.
 */
TEST_F(track, concurrent_clears_never_clear_a_new_mark)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_writeprotect wp = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	struct clear_call a = { .fd = self->fd }, b = { .fd = self->fd };
	struct patdev_mr mb, m;
	struct pollfd pfd;
	struct uffd_msg msg;
	pthread_t ta, tb;
	int uffd, b_first;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	a.m = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a.m);
	memset(a.m, 0, sizeof(*a.m));
	a.m->offset = self->off;
	a.m->npages = 1;
	a.m->flags = PATDEV_MR_MODIFIED | PATDEV_MR_REFERENCED;
	reg.range.start = (uintptr_t)a.m;
	reg.range.len = self->page;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));
	wp.range = reg.range;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_WRITEPROTECT, &wp));

	self->p[0] = 1;
	ASSERT_EQ(0, pthread_create(&ta, NULL, clear_thread, &a));
	pfd.fd = uffd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 10000)) TH_LOG("clear A never wrote its report");
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	memset(&mb, 0, sizeof(mb));
	mb.offset = self->off;
	mb.npages = 1;
	mb.flags = PATDEV_MR_MODIFIED | PATDEV_MR_REFERENCED;
	b.m = &mb;
	ASSERT_EQ(0, pthread_create(&tb, NULL, clear_thread, &b));
	b_first = join_within(tb, 300);
	if (b_first)
		self->p[0] = 2;	/* a new mark, after B's clear */
	wp.mode = 0;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_WRITEPROTECT, &wp));
	ASSERT_EQ(0, pthread_join(ta, NULL));
	if (!b_first) {
		ASSERT_EQ(0, pthread_join(tb, NULL));
		self->p[0] = 2;	/* a new mark, after both clears */
	}
	ASSERT_EQ(0, a.ret);
	ASSERT_EQ(0, b.ret);
	EXPECT_FALSE(b_first) TH_LOG("clear B ran while clear A was under way");
	EXPECT_EQ(1, a.m->modified);
	ASSERT_EQ(0, mr(self->fd, self->off, 0, 1, 0, &m, NULL, NULL));
	EXPECT_EQ(1, m.modified) TH_LOG("a mark made after the last report was cleared");
	munmap(a.m, self->page);
	close(uffd);
}

/* Only the creator may clear a created object's state; anyone may read it. */
TEST_F(track, only_the_creator_clears)
{
	struct patdev_mr m;
	int other = open(DEV, O_RDWR);

	ASSERT_GE(other, 0);
	self->p[0] = 1;
	ASSERT_EQ(0, mr(other, self->off, 0, NPAGES, 0, &m, NULL, NULL));
	ASSERT_EQ(1, m.modified);
	ASSERT_EQ(-1, mr(other, self->off, 0, NPAGES, PATDEV_MR_MODIFIED, &m, NULL, NULL));
	ASSERT_EQ(EPERM, errno);
	close(other);
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES, 0, &m, NULL, NULL));
	ASSERT_EQ(1, m.modified);
}

TEST_F(track, prefault_marks_referenced_and_enters_read_only)
{
	struct patdev_prefault pf = {
		.addr = (uintptr_t)self->p, .len = NPAGES * self->page,
		.flags = PATDEV_PREFAULT_WRITE,
	};
	struct patdev_mr m;

	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_PREFAULT, &pf));
	ASSERT_EQ(NPAGES, pf.npages);
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES, 0, &m, NULL, NULL));
	ASSERT_EQ(NPAGES, m.referenced);
	ASSERT_EQ(0, m.modified);
	ASSERT_EQ(PATDEV_QUERY_PRESENT, qflags(self->fd, self->p) &
		  (PATDEV_QUERY_PRESENT | PATDEV_QUERY_WRITE));
	self->p[0] = 1;
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES, 0, &m, NULL, NULL));
	ASSERT_EQ(1, m.modified);
}

/* An mmap with SET_MMAP_FLAGS leaves a tracked object's pages to faults. */
TEST_F(track, mmap_prefault_leaves_pages_to_faults)
{
	struct patdev_mmap_flags mf = { .flags = PATDEV_PREFAULT_READ };
	unsigned char *q;

	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_SET_MMAP_FLAGS, &mf));
	q = mmap(NULL, NPAGES * self->page, PROT_READ, MAP_SHARED, self->fd, self->off);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, resident(self->fd, q, NPAGES * self->page));
	munmap(q, NPAGES * self->page);
}

TEST_F(track, clearing_one_object_leaves_another_alone)
{
	unsigned long long off2;
	unsigned char *q;
	struct patdev_mr m;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, 4 * self->page, PATDEV_CACHE_WC, 0,
				   PATDEV_CREATE_TRACK, &off2));
	q = mmap(NULL, 4 * self->page, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off2);
	ASSERT_NE(MAP_FAILED, q);
	q[0] = 1;
	q[self->page] = 1;
	self->p[0] = 1;
	ASSERT_EQ(0, mr(self->fd, self->off, 0, NPAGES,
			PATDEV_MR_MODIFIED | PATDEV_MR_REFERENCED, &m, NULL, NULL));
	ASSERT_EQ(0, resident(self->fd, self->p, NPAGES * self->page));
	ASSERT_EQ(2, resident(self->fd, q, 4 * self->page));
	ASSERT_EQ(0, mr(self->fd, off2, 0, 4, 0, &m, NULL, NULL));
	ASSERT_EQ(2, m.modified);
	munmap(q, 4 * self->page);
	ASSERT_EQ(0, patdev_destroy(self->fd, off2, 0));
}

/* A tracked SG object of 2 MiB chunks still gets 4 KiB entries, one per fault. */
TEST_F(track, no_2mib_entries_and_no_fault_around)
{
	size_t len = 4UL << 20;
	unsigned long long off2;
	struct patdev_query qq;
	unsigned char *q;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, len, PATDEV_CACHE_WC, 9,
				   PATDEV_CREATE_TRACK, &off2));
	q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off2);
	ASSERT_NE(MAP_FAILED, q);
	q[2UL << 20] = 1;
	ASSERT_EQ(1, resident(self->fd, q, len));
	ASSERT_EQ(0, patdev_query(self->fd, q + (2UL << 20), &qq));
	ASSERT_EQ(self->page, qq.size);
	munmap(q, len);
	ASSERT_EQ(0, patdev_destroy(self->fd, off2, 0));
}

TEST_F(track, mr_errnos)
{
	struct patdev_mr m;
	unsigned long long plain;

	/* Bad flags, reserved, ranges. */
	ASSERT_EQ(-1, mr(self->fd, self->off, 0, 1, 4, &m, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
	memset(&m, 0, sizeof(m));
	m.offset = self->off;
	m.npages = 1;
	m.flags = PATDEV_MR_MODIFIED;
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_MR_QUERY, &m));
	ASSERT_EQ(EINVAL, errno);
	m.flags = 0;
	m.reserved = 1;
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_MR_QUERY, &m));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, mr(self->fd, self->off, 0, 0, 0, &m, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, mr(self->fd, self->off, NPAGES, 1, 0, &m, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, mr(self->fd, self->off, 1, NPAGES, PATDEV_MR_MODIFIED, &m, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, mr(self->fd, self->off, 1, ~0ULL, 0, &m, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, mr(self->fd, self->off + 1, 0, 1, 0, &m, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
	/* A bad bitmap address. */
	ASSERT_EQ(-1, mr(self->fd, self->off, 0, 1, 0, &m, (__u64 *)8, NULL));
	ASSERT_EQ(EFAULT, errno);
	/* No object; an object that does not track. */
	ASSERT_EQ(-1, mr(self->fd, self->off + (64ULL << 30), 0, 1, 0, &m, NULL, NULL));
	ASSERT_EQ(ENXIO, errno);
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, self->page, PATDEV_CACHE_WC, 0, 0,
				   &plain));
	ASSERT_EQ(-1, mr(self->fd, plain, 0, 1, 0, &m, NULL, NULL));
	ASSERT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(-1, mr(self->fd, plain, 0, 1, PATDEV_MR_REFERENCED, &m, NULL, NULL));
	ASSERT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(0, patdev_destroy(self->fd, plain, 0));
}

/* The two named objects track exactly when the module parameter says so. */
TEST(named_objects_follow_the_track_parameter)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = open(DEV, O_RDWR);
	struct patdev_objinfo info = { .pgoff = PATDEV_PGOFF_SG };
	struct patdev_mr m;
	unsigned char *p;
	char param = 'N';
	FILE *f;

	ASSERT_GE(fd, 0);
	f = fopen("/sys/module/patdev/parameters/track", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, " %c", &param));
	fclose(f);
	ASSERT_EQ(0, ioctl(fd, PATDEV_IOC_OBJINFO, &info) && errno != ENXIO ? errno : 0);
	if (info.size != 16 * page) {
		close(fd);
		SKIP(return, "the object at offset PAGE_SIZE is not the 16-page RAM one");
	}
	ASSERT_EQ(param == 'Y', !!(info.flags & PATDEV_OBJ_TRACKED));
	p = mmap(NULL, 16 * page, PROT_READ, MAP_SHARED, fd, PATDEV_PGOFF_SG * page);
	ASSERT_NE(MAP_FAILED, p);
	touch_read(p + 2 * page);
	if (param == 'Y') {
		ASSERT_EQ(0, mr(fd, PATDEV_PGOFF_SG * page, 0, 16, 0, &m, NULL, NULL));
		ASSERT_EQ(1, m.referenced);
		ASSERT_EQ(0, mr(fd, PATDEV_PGOFF_SG * page, 0, 16, PATDEV_MR_REFERENCED, &m,
				NULL, NULL));
	} else {
		ASSERT_EQ(-1, mr(fd, PATDEV_PGOFF_SG * page, 0, 16, 0, &m, NULL, NULL));
		ASSERT_EQ(EOPNOTSUPP, errno);
	}
	munmap(p, 16 * page);
	close(fd);
}

/* ---- the object-wide cache-mode change ---- */

#define CM_PAGES 16

/* What an object asked to be @cache really is (without PAT: no WC). */
static __u64 effective(int fd, unsigned long long off)
{
	struct patdev_objinfo info = { .pgoff = off / sysconf(_SC_PAGESIZE) };

	return ioctl(fd, PATDEV_IOC_OBJINFO, &info) ? ~0ULL : info.cache;
}

FIXTURE(cachemode) {
	int fd;
	size_t page;
	unsigned long long off;
	unsigned char *p;
};

FIXTURE_SETUP(cachemode)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, CM_PAGES * self->page,
				   PATDEV_CACHE_WC, 0, 0, &self->off));
	self->p = mmap(NULL, CM_PAGES * self->page, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->fd, self->off);
	ASSERT_NE(MAP_FAILED, self->p);
}

FIXTURE_TEARDOWN(cachemode)
{
	munmap(self->p, CM_PAGES * self->page);
	patdev_destroy(self->fd, self->off, 0);
	close(self->fd);
}

/* Every process mapping the object sees the new mode; the data stays. */
TEST_F(cachemode, change_reaches_every_process_and_keeps_data)
{
	static const __u64 modes[] = { PATDEV_CACHE_UC_MINUS, PATDEV_CACHE_WB, PATDEV_CACHE_WC,
				       PATDEV_CACHE_WB, PATDEV_CACHE_UC_MINUS };
	int to_child[2], to_parent[2], status;
	size_t len = CM_PAGES * self->page;
	unsigned int i;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	patdev_fill_pattern(self->p, len, 1);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		/* A mapping of its own, besides the inherited one. */
		unsigned char *own = mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, self->off);
		__u64 mode;

		/* EOF on to_child once the parent closes its end. */
		close(to_child[1]);
		if (own == MAP_FAILED)
			_exit(10);
		touch_read(own);
		if (write(to_parent[1], &c, 1) != 1)
			_exit(14);
		while (read(to_child[0], &mode, sizeof(mode)) == sizeof(mode)) {
			if (qflags(self->fd, own) & PATDEV_QUERY_PRESENT)
				_exit(11);	/* not revoked */
			if (patdev_check_pattern(own, len, 1) ||
			    patdev_check_pattern(self->p, len, 1))
				_exit(12);
			if (qcache(self->fd, own) != mode || qcache(self->fd, self->p) != mode)
				_exit(13);
			if (write(to_parent[1], &c, 1) != 1)
				_exit(14);
		}
		_exit(0);
	}
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		__u64 was = effective(self->fd, self->off), want;

		ASSERT_EQ(0, patdev_set_cache(self->fd, self->off, modes[i]))
			TH_LOG("%s", strerror(errno));
		want = effective(self->fd, self->off);
		ASSERT_TRUE(want == modes[i] || (modes[i] == PATDEV_CACHE_WC &&
						 want == PATDEV_CACHE_UC_MINUS));
		/* Without PAT, WC is UC-: no change, nothing revoked. */
		if (want == was) {
			ASSERT_EQ(len / self->page, resident(self->fd, self->p, len));
			continue;
		}
		ASSERT_EQ(0, resident(self->fd, self->p, len));
		ASSERT_EQ(0, patdev_check_pattern(self->p, len, 1));
		ASSERT_EQ(want, qcache(self->fd, self->p + self->page));
		ASSERT_EQ(sizeof(want), write(to_child[1], &want, sizeof(want)));
		ASSERT_EQ(1, read(to_parent[0], &c, 1)) TH_LOG("child failed at mode %u", i);
	}
	close(to_child[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
}

/*
 * A 2 MiB entry of a mapping made before a change comes back in the new
 * mode, and as big as before (with PAT the insert takes the memtype the
 * change set; without PAT such a mapping gets 4 KiB entries).
 */
TEST_F(cachemode, mapping_of_2mib_chunks_follows_a_change)
{
	const size_t pmd = 2UL << 20;
	unsigned long long off2;
	unsigned char *area, *q;
	struct patdev_query before, after;
	__u64 target;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, pmd, PATDEV_CACHE_WC, 9, 0, &off2));
	area = mmap(NULL, 2 * pmd, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	q = (unsigned char *)(((uintptr_t)area + pmd - 1) & ~(pmd - 1));
	ASSERT_EQ(q, mmap(q, pmd, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, self->fd, off2));
	q[5] = 9;
	ASSERT_EQ(0, patdev_query(self->fd, q + 4 * self->page, &before));
	/* Without PAT the object is UC- already. */
	target = before.cache == PATDEV_CACHE_UC_MINUS ? PATDEV_CACHE_WB : PATDEV_CACHE_UC_MINUS;
	ASSERT_EQ(0, patdev_set_cache(self->fd, off2, target));
	ASSERT_EQ(0, resident(self->fd, q, pmd));
	ASSERT_EQ(9, q[5]);
	ASSERT_EQ(0, patdev_query(self->fd, q + 4 * self->page, &after));
	ASSERT_EQ(target, after.cache);
	ASSERT_EQ(target, effective(self->fd, off2));
	if (before.cache == PATDEV_CACHE_WC)	/* with PAT */
		ASSERT_EQ(before.size, after.size);
	TH_LOG("entry size %llu before, %llu after", (unsigned long long)before.size,
	       (unsigned long long)after.size);
	munmap(area, 2 * pmd);
	ASSERT_EQ(0, patdev_destroy(self->fd, off2, 0));
}

TEST_F(cachemode, same_mode_changes_nothing)
{
	unsigned long long n;

	touch_read(self->p);
	n = resident(self->fd, self->p, CM_PAGES * self->page);
	ASSERT_GT(n, 0);
	ASSERT_EQ(0, patdev_set_cache(self->fd, self->off, effective(self->fd, self->off)));
	ASSERT_EQ(n, resident(self->fd, self->p, CM_PAGES * self->page));
}

TEST_F(cachemode, set_cache_errnos)
{
	struct patdev_set_cache sc = { .offset = self->off, .cache = PATDEV_CACHE_WB,
				       .reserved = 1 };
	__u64 before = effective(self->fd, self->off);
	int other;

	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_SET_CACHE, &sc));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_set_cache(self->fd, self->off, PATDEV_CACHE_UC));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_set_cache(self->fd, self->off, PATDEV_CACHE_WT));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_set_cache(self->fd, self->off, 99));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_set_cache(self->fd, self->off + 1, PATDEV_CACHE_WB));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_set_cache(self->fd, self->off + self->page, PATDEV_CACHE_WB));
	ASSERT_EQ(ENXIO, errno);
	ASSERT_EQ(-1, patdev_set_cache(self->fd, self->off + (64ULL << 30), PATDEV_CACHE_WB));
	ASSERT_EQ(ENXIO, errno);
	/* The module's own objects keep their modes, whatever backs them. */
	ASSERT_EQ(-1, patdev_set_cache(self->fd, PATDEV_PGOFF_SG * self->page, PATDEV_CACHE_WB));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(-1, patdev_set_cache(self->fd, PATDEV_PGOFF_ANON * self->page, PATDEV_CACHE_WB));
	ASSERT_EQ(EPERM, errno);
	/* Another open file's object. */
	other = open(DEV, O_RDWR);
	ASSERT_GE(other, 0);
	ASSERT_EQ(-1, patdev_set_cache(other, self->off, PATDEV_CACHE_WB));
	ASSERT_EQ(EPERM, errno);
	close(other);
	/* None of it changed anything. */
	ASSERT_EQ(before, effective(self->fd, self->off));
}

/* A tracked object keeps its modified/referenced state across a change. */
TEST_F(cachemode, tracked_state_survives_a_change)
{
	unsigned long long off2;
	struct patdev_mr m;
	unsigned char *q;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, 4 * self->page, PATDEV_CACHE_WC, 0,
				   PATDEV_CREATE_TRACK, &off2));
	q = mmap(NULL, 4 * self->page, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off2);
	ASSERT_NE(MAP_FAILED, q);
	q[self->page] = 5;
	ASSERT_EQ(0, patdev_set_cache(self->fd, off2, PATDEV_CACHE_WB));
	ASSERT_EQ(0, resident(self->fd, q, 4 * self->page));
	ASSERT_EQ(0, mr(self->fd, off2, 0, 4, 0, &m, NULL, NULL));
	ASSERT_EQ(1, m.modified);
	ASSERT_EQ(5, q[self->page]);
	ASSERT_EQ(PATDEV_CACHE_WB, qcache(self->fd, q + self->page));
	munmap(q, 4 * self->page);
	ASSERT_EQ(0, patdev_destroy(self->fd, off2, 0));
}

/*
 * A child cycles the object's mode; the seqlock lets the parent tell a
 * window in which no change started or ended: an entry seen present in
 * such a window must have the mode the object had in it.
 */
struct changer {
	unsigned int gen;	/* odd while a change is under way */
	__u64 mode;		/* the mode while gen is even */
	int stop;
	int failed;
};

static struct changer *start_changer(int fd, unsigned long long off, pid_t *pid)
{
	static const __u64 cycle[] = { PATDEV_CACHE_UC_MINUS, PATDEV_CACHE_WC, PATDEV_CACHE_WB };
	struct changer *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				 -1, 0);
	unsigned int i;

	if (c == MAP_FAILED)
		return NULL;
	c->mode = effective(fd, off);
	*pid = fork();
	if (*pid)
		return *pid < 0 ? NULL : c;
	for (i = 0; !__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST); i++) {
		__atomic_add_fetch(&c->gen, 1, __ATOMIC_SEQ_CST);
		if (patdev_set_cache(fd, off, cycle[i % 3]))
			c->failed = errno;
		__atomic_store_n(&c->mode, effective(fd, off), __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&c->gen, 1, __ATOMIC_SEQ_CST);
		/* Stable windows for the checker, most of the time. */
		usleep(2000);
	}
	_exit(0);
}

static int stop_changer(struct changer *c, pid_t pid)
{
	int status;

	__atomic_store_n(&c->stop, 1, __ATOMIC_SEQ_CST);
	if (waitpid(pid, &status, 0) != pid || status || c->failed)
		return -1;
	return 0;
}

/*
 * 1: a stable window saw an entry of another mode, or QUERY failed (the
 * first such case is printed, with what was seen); 0: fine; -1: not stable.
 */
static int seen_in_window(struct changer *c, int fd, const unsigned char *q, int touch)
{
	unsigned int g1 = __atomic_load_n(&c->gen, __ATOMIC_SEQ_CST), g2;
	static int told;
	struct patdev_query qq;
	__u64 mode;

	if (touch)
		touch_read(q);
	if (patdev_query(fd, q, &qq)) {
		if (!told++)
			fprintf(stderr, "# QUERY of %p failed: %s\n", q, strerror(errno));
		return 1;
	}
	/*
	 * The mode before the second look at the counter, as a seqlock reader
	 * reads its data: read after it, the mode could be the next window's
	 * (a whole change can run between the two loads).
	 */
	mode = __atomic_load_n(&c->mode, __ATOMIC_SEQ_CST);
	g2 = __atomic_load_n(&c->gen, __ATOMIC_SEQ_CST);
	if (g1 & 1 || g2 != g1 || !(qq.flags & PATDEV_QUERY_PRESENT))
		return -1;
	if (qq.cache == mode)
		return 0;
	if (!told++)
		fprintf(stderr, "# %p: mode %llu (flags %#llx, %llu B) in window %u of mode %llu\n",
			q, (unsigned long long)qq.cache, (unsigned long long)qq.flags,
			(unsigned long long)qq.size, g1, (unsigned long long)mode);
	return 1;
}

/* mmaps that prefault while modes change never keep entries of an old mode. */
TEST_F(cachemode, prefaulting_mmaps_racing_a_change)
{
	struct patdev_mmap_flags mf = { .flags = PATDEV_PREFAULT_READ };
	size_t len = CM_PAGES * self->page;
	unsigned int i, checks = 0, bad = 0;
	struct changer *c;
	pid_t pid;

	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_SET_MMAP_FLAGS, &mf));
	c = start_changer(self->fd, self->off, &pid);
	ASSERT_NE(NULL, c);
	for (i = 0; i < 2000; i++) {
		unsigned char *q = mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, self->off);
		int r;

		ASSERT_NE(MAP_FAILED, q);
		r = seen_in_window(c, self->fd, q + (i % CM_PAGES) * self->page, 0);
		checks += r >= 0;
		bad += r > 0;
		munmap(q, len);
	}
	ASSERT_EQ(0, stop_changer(c, pid));
	TH_LOG("%u stable checks of prefaulted entries", checks);
	ASSERT_GT(checks, 0);
	ASSERT_EQ(0, bad);
}

TEST_F(cachemode, racing_faults_never_keep_an_old_mode)
{
	size_t len = CM_PAGES * self->page;
	unsigned int i, checks = 0, bad = 0;
	struct changer *c;
	pid_t pid;

	patdev_fill_pattern(self->p, len, 7);
	c = start_changer(self->fd, self->off, &pid);
	ASSERT_NE(NULL, c);
	for (i = 0; i < 20000; i++) {
		int r = seen_in_window(c, self->fd, self->p + (i % CM_PAGES) * self->page, 1);

		checks += r >= 0;
		bad += r > 0;
	}
	ASSERT_EQ(0, stop_changer(c, pid));
	ASSERT_EQ(0, patdev_check_pattern(self->p, len, 7));
	TH_LOG("%u stable checks", checks);
	ASSERT_GT(checks, 0);
	ASSERT_EQ(0, bad);
}

TEST_HARNESS_MAIN
