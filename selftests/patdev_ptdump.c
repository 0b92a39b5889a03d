// SPDX-License-Identifier: GPL-2.0
/*
 * An oracle for the cache modes that does not go through the module: the
 * kernel's own page-table dump (CONFIG_PTDUMP_DEBUGFS, the debug lane),
 * decoded here with Linux's PAT layout, must agree with PATDEV_IOC_QUERY
 * on every page of both FreeBSD-named objects, and on the size and mode
 * of the 2 MiB entry of a created 2 MiB chunk (WC uses PWT only, so the
 * large entry's PAT bit, bit 12, is 0 there as in every mode an object
 * can have), and in every process mapping an object after each change of
 * its mode (PATDEV_IOC_SET_CACHE).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "patdev_names.h"
#include "patdev_selftest.h"
#include "patdev_user.h"

#define DEBUGFS PATDEV_DEBUGFS
#define NPAGES 16

/* Linux's PAT layout: index PAT << 2 | PCD << 1 | PWT. */
static const char *const pat_layout[8] = {
	"WB", "WC", "UC_MINUS", "UC", "WB", "WP", "UC_MINUS", "WT",
};

/* A range of entries with one protection, as the dump lists it. */
struct range {
	unsigned long long start, end;
	int pte;	/* 4 KiB entries */
	int pmd;	/* 2 MiB entries */
	int idx;	/* PAT index: PAT << 2 | PCD << 1 | PWT */
};

/*
 * Reads the dump once (each open walks the whole address space) and keeps
 * the ranges that overlap [lo, hi). Lines look like
 * "0x...-0x...  64K  USR RW  PWT  ...  NX  pte": the flags as words.
 */
static int read_dump(unsigned long long lo, unsigned long long hi, struct range *r, int max,
		     char *why, size_t whylen)
{
	static const char *const files[] = {
		DEBUGFS "/page_tables/current_user", DEBUGFS "/page_tables/current_kernel",
	};
	char line[512];
	unsigned int i;
	FILE *f = NULL;
	int n = 0;

	patdev_need_debugfs(DEBUGFS "/page_tables");
	for (i = 0; i < 2 && !f; i++)
		f = fopen(files[i], "r");
	if (!f) {
		snprintf(why, whylen, "no %s: %s", files[0], strerror(errno));
		return -1;
	}
	while (n < max && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "0x%llx-0x%llx", &r[n].start, &r[n].end) != 2 ||
		    r[n].end <= lo || r[n].start >= hi)
			continue;
		r[n].pte = !!strstr(line, " pte");
		r[n].pmd = !!strstr(line, " pmd");
		r[n].idx = (strstr(line, " PAT ") ? 4 : 0) | (strstr(line, " PCD ") ? 2 : 0) |
			   (strstr(line, " PWT ") ? 1 : 0);
		n++;
	}
	fclose(f);
	return n;
}

/*
 * The cache mode of the entry at @addr among @r, or NULL; *@size: 4 KiB or
 * 2 MiB. The dump prints a large entry's PAT bit (bit 12) as PAT too.
 */
static const char *dump_mode(const struct range *r, int n, unsigned long long addr,
			     unsigned long long *size)
{
	int i;

	for (i = 0; i < n; i++)
		if (addr >= r[i].start && addr < r[i].end) {
			*size = r[i].pmd ? 2ULL << 20 : 4096;
			return r[i].pte || r[i].pmd ? pat_layout[r[i].idx] : NULL;
		}
	return NULL;
}

FIXTURE(ptdump) {
	int fd;
	size_t page;
};

FIXTURE_SETUP(ptdump)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->fd = open("/dev/patdev", O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0);
}

FIXTURE_TEARDOWN(ptdump)
{
	close(self->fd);
}

static void check_object(struct __test_metadata *_metadata, int fd, size_t page,
			 unsigned long long off, size_t len, const char *want,
			 unsigned long long want_size)
{
	unsigned char *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);
	struct range ranges[2 * NPAGES];
	unsigned long long size;
	struct patdev_query q;
	const char *mode;
	char why[256];
	size_t i;
	int n;

	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < NPAGES; i++)
		(void)__atomic_load_n(p + i * page, __ATOMIC_RELAXED);
	n = read_dump((uintptr_t)p, (uintptr_t)p + NPAGES * page, ranges, 2 * NPAGES, why,
		      sizeof(why));
	ASSERT_GT(n, 0) TH_LOG("%s", n < 0 ? why : "the mapping is not in the dump");
	for (i = 0; i < NPAGES; i++) {
		memset(&q, 0, sizeof(q));
		q.addr = (uintptr_t)(p + i * page);
		ASSERT_EQ(0, ioctl(fd, PATDEV_IOC_QUERY, &q));
		ASSERT_TRUE(q.flags & PATDEV_QUERY_PRESENT);
		mode = dump_mode(ranges, n, q.addr, &size);
		ASSERT_NE(NULL, mode) TH_LOG("page %zu: no page-table entry in the dump", i);
		ASSERT_EQ(size, q.size) TH_LOG("page %zu", i);
		ASSERT_EQ(want_size, size) TH_LOG("page %zu", i);
		ASSERT_STREQ(mode, patdev_cache_name(q.cache)) TH_LOG("page %zu", i);
		ASSERT_STREQ(want, mode) TH_LOG("page %zu", i);
	}
	munmap(p, len);
}

/*
 * The same check, without asserting (a forked child runs it too), on an
 * existing mapping whose @npages pages are touched first: NULL when the
 * dump and QUERY agree with each other and with @want on every page.
 */
static const char *mapping_agrees(int fd, size_t page, unsigned char *p, size_t npages,
				  const char *want)
{
	static char why[300];
	struct range ranges[2 * NPAGES];
	unsigned long long size;
	struct patdev_query q;
	const char *mode;
	size_t i;
	int n;

	for (i = 0; i < npages; i++)
		(void)__atomic_load_n(p + i * page, __ATOMIC_RELAXED);
	n = read_dump((uintptr_t)p, (uintptr_t)p + npages * page, ranges, 2 * NPAGES, why,
		      sizeof(why));
	if (n <= 0)
		return n < 0 ? why : "the mapping is not in the dump";
	for (i = 0; i < npages; i++) {
		memset(&q, 0, sizeof(q));
		q.addr = (uintptr_t)(p + i * page);
		if (ioctl(fd, PATDEV_IOC_QUERY, &q) || !(q.flags & PATDEV_QUERY_PRESENT))
			return "QUERY: no entry";
		mode = dump_mode(ranges, n, q.addr, &size);
		if (!mode || strcmp(mode, patdev_cache_name(q.cache)) || strcmp(mode, want)) {
			snprintf(why, sizeof(why), "page %zu: dump %s, QUERY %s, want %s", i,
				 mode ? mode : "(none)", patdev_cache_name(q.cache), want);
			return why;
		}
	}
	return NULL;
}

/* Parent and child each map the object; each change shows in both page tables. */
TEST_F(ptdump, mode_change_seen_in_every_process)
{
	static const __u64 modes[] = { PATDEV_CACHE_UC_MINUS, PATDEV_CACHE_WB, PATDEV_CACHE_WC };
	int to_child[2], to_parent[2], status;
	size_t len = NPAGES * self->page;
	struct patdev_set_cache sc = { 0 };
	struct patdev_objinfo info = { 0 };
	unsigned long long off;
	const char *why;
	unsigned char *p;
	unsigned int i;
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, len, PATDEV_CACHE_WC, 0, 0, &off));
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, off);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		unsigned char *own = mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, off);
		char want[16];

		close(to_child[1]);
		if (own == MAP_FAILED || write(to_parent[1], &c, 1) != 1)
			_exit(10);
		while (read(to_child[0], want, sizeof(want)) == sizeof(want)) {
			why = mapping_agrees(self->fd, self->page, own, NPAGES, want);
			if (!why)
				why = mapping_agrees(self->fd, self->page, p, NPAGES, want);
			if (why) {
				fprintf(stderr, "# child: %s\n", why);
				_exit(11);
			}
			if (write(to_parent[1], &c, 1) != 1)
				_exit(12);
		}
		_exit(0);
	}
	close(to_child[0]);
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	sc.offset = off;
	info.pgoff = off / self->page;
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		char want[16] = { 0 };

		sc.cache = modes[i];
		ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_SET_CACHE, &sc));
		ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_OBJINFO, &info));
		strncpy(want, patdev_cache_name(info.cache), sizeof(want) - 1);
		why = mapping_agrees(self->fd, self->page, p, NPAGES, want);
		ASSERT_EQ(NULL, why) TH_LOG("%s", why);
		ASSERT_EQ(sizeof(want), write(to_child[1], want, sizeof(want)));
		ASSERT_EQ(1, read(to_parent[0], &c, 1)) TH_LOG("the child disagreed at %s", want);
	}
	close(to_child[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	munmap(p, len);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
}

TEST_F(ptdump, anon_object_query_agrees_with_ptdump)
{
	check_object(_metadata, self->fd, self->page, PATDEV_PGOFF_ANON * self->page,
		     NPAGES * self->page, "WC", self->page);
}

TEST_F(ptdump, sg_object_query_agrees_with_ptdump)
{
	check_object(_metadata, self->fd, self->page, PATDEV_PGOFF_SG * self->page,
		     NPAGES * self->page, "UC_MINUS", self->page);
}

/* A 2 MiB WC chunk: one 2 MiB entry where the kernel has them. */
TEST_F(ptdump, huge_entry_query_agrees_with_ptdump)
{
	struct patdev_version v;
	unsigned long long off;

	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_VERSION, &v));
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, 2UL << 20, PATDEV_CACHE_WC, 9, 0,
				   &off));
	check_object(_metadata, self->fd, self->page, off, 2UL << 20, "WC",
		     v.features & PATDEV_FEAT_HUGE ? 2UL << 20 : self->page);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
}

TEST_HARNESS_MAIN
