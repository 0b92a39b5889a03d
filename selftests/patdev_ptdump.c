// SPDX-License-Identifier: GPL-2.0
/*
 * An oracle for the cache modes that does not go through the module: the
 * kernel's own page-table dump (CONFIG_PTDUMP_DEBUGFS, the debug lane),
 * decoded here with Linux's PAT layout, must agree with PATDEV_IOC_QUERY
 * on every page of both FreeBSD-named objects.
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

#include "kselftest_harness.h"
#include "patdev_names.h"

#define DEBUGFS "/sys/kernel/debug"
#define NPAGES 16

/* Linux's PAT layout: index PAT << 2 | PCD << 1 | PWT. */
static const char *const pat_layout[8] = {
	"WB", "WC", "UC_MINUS", "UC", "WB", "WP", "UC_MINUS", "WT",
};

/*
 * The cache mode ptdump shows for the 4 KiB entry mapping @addr, or NULL.
 * Lines look like "0x...-0x...  16K  USR RW  PWT  ...  NX  pte": a range of
 * entries with the same protection, its flags as words.
 */
static const char *ptdump_mode(uintptr_t addr, char *why, size_t whylen)
{
	static const char *const files[] = {
		DEBUGFS "/page_tables/current_user", DEBUGFS "/page_tables/current_kernel",
	};
	const char *mode = NULL;
	char line[512];
	unsigned int i;
	FILE *f = NULL;

	if (access(DEBUGFS "/page_tables", R_OK))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	for (i = 0; i < 2 && !f; i++)
		f = fopen(files[i], "r");
	if (!f) {
		snprintf(why, whylen, "no %s: %s", files[0], strerror(errno));
		return NULL;
	}
	snprintf(why, whylen, "0x%lx not in the dump", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		int idx;

		if (sscanf(line, "0x%llx-0x%llx", &start, &end) != 2 || addr < start ||
		    addr >= end)
			continue;
		if (!strstr(line, " pte")) {
			snprintf(why, whylen, "not a 4 KiB entry: %s", line);
			break;
		}
		idx = (strstr(line, " PAT ") ? 4 : 0) | (strstr(line, " PCD ") ? 2 : 0) |
		      (strstr(line, " PWT ") ? 1 : 0);
		mode = pat_layout[idx];
		break;
	}
	fclose(f);
	return mode;
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
			 unsigned long pgoff, const char *want)
{
	unsigned char *p = mmap(NULL, NPAGES * page, PROT_READ, MAP_SHARED, fd, pgoff * page);
	struct patdev_query q;
	const char *mode;
	char why[600];
	size_t i;

	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < NPAGES; i++)
		(void)__atomic_load_n(p + i * page, __ATOMIC_RELAXED);
	for (i = 0; i < NPAGES; i++) {
		memset(&q, 0, sizeof(q));
		q.addr = (uintptr_t)(p + i * page);
		ASSERT_EQ(0, ioctl(fd, PATDEV_IOC_QUERY, &q));
		ASSERT_TRUE(q.flags & PATDEV_QUERY_PRESENT);
		mode = ptdump_mode(q.addr, why, sizeof(why));
		ASSERT_NE(NULL, mode) TH_LOG("%s", why);
		ASSERT_STREQ(mode, patdev_cache_name(q.cache)) TH_LOG("page %zu", i);
		ASSERT_STREQ(want, mode) TH_LOG("page %zu", i);
	}
	munmap(p, NPAGES * page);
}

TEST_F(ptdump, anon_object_query_agrees_with_ptdump)
{
	check_object(_metadata, self->fd, self->page, PATDEV_PGOFF_ANON, "WC");
}

TEST_F(ptdump, sg_object_query_agrees_with_ptdump)
{
	check_object(_metadata, self->fd, self->page, PATDEV_PGOFF_SG, "UC_MINUS");
}

TEST_HARNESS_MAIN
