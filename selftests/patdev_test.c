// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests for /dev/patdev, run with the module loaded. One TEST_F per
 * behaviour; cache modes are read back from the page tables through
 * PATDEV_IOC_QUERY, never taken from what the driver asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kselftest_harness.h"
#include "patdev_names.h"

#define DEV "/dev/patdev"
#define NPAGES 16

FIXTURE(patdev) {
	int fd;
	size_t page;
};

FIXTURE_SETUP(patdev)
{
	self->page = sysconf(_SC_PAGESIZE);
	self->fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("open %s: %s (is the module loaded?)", DEV, strerror(errno));
}

FIXTURE_TEARDOWN(patdev)
{
	close(self->fd);
}

static void *map_anon(struct __test_metadata *_metadata, int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	ASSERT_NE(p, MAP_FAILED) TH_LOG("mmap offset 0: %s", strerror(errno));
	return p;
}

static int query(int fd, const void *addr, struct patdev_query *q)
{
	memset(q, 0, sizeof(*q));
	q->addr = (uintptr_t)addr;
	return ioctl(fd, PATDEV_IOC_QUERY, q);
}

TEST_F(patdev, node_is_char_device_mode_0600)
{
	struct stat st;

	ASSERT_EQ(0, stat(DEV, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0600, st.st_mode & 07777);
	ASSERT_EQ(0, st.st_uid);
}

TEST_F(patdev, version_ioctl)
{
	struct patdev_version v;

	memset(&v, 0xff, sizeof(v));
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_VERSION, &v));
	ASSERT_EQ(PATDEV_VERSION_MAJOR, v.major);
	ASSERT_EQ(PATDEV_VERSION_MINOR, v.minor);
	ASSERT_TRUE(v.features & PATDEV_FEAT_QUERY);
}

TEST_F(patdev, version_ioctl_bad_pointer_efault)
{
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_VERSION, (void *)8));
	ASSERT_EQ(EFAULT, errno);
}

TEST_F(patdev, unknown_ioctl_enotty)
{
	char buf[64] = { 0 };

	ASSERT_EQ(-1, ioctl(self->fd, _IOWR(PATDEV_IOC_MAGIC, 0x7f, buf), buf));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(self->fd, _IO('x', 1)));
	ASSERT_EQ(ENOTTY, errno);
}

TEST_F(patdev, anon_page_writable_and_readable)
{
	size_t len = NPAGES * self->page;
	unsigned char *p = map_anon(_metadata, self->fd, len);
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 7 + 3);
	for (i = 0; i < len; i++)
		ASSERT_EQ((unsigned char)(i * 7 + 3), p[i]);
	ASSERT_EQ(0, munmap(p, len));
}

TEST_F(patdev, anon_pte_is_wc)
{
	unsigned char *p = map_anon(_metadata, self->fd, self->page);
	struct patdev_query q;

	p[0] = 1;
	ASSERT_EQ(0, query(self->fd, p, &q));
	ASSERT_TRUE(q.flags & PATDEV_QUERY_PRESENT);
	ASSERT_NE(0, q.pfn);
	EXPECT_STREQ("WC", patdev_cache_name(q.cache));
	ASSERT_EQ(0, munmap(p, self->page));
}

TEST_F(patdev, query_reports_dirty_young_write)
{
	unsigned char *p = map_anon(_metadata, self->fd, self->page);
	struct patdev_query q;

	p[0] = 5;
	ASSERT_EQ(0, query(self->fd, p, &q));
	ASSERT_EQ(PATDEV_QUERY_PRESENT | PATDEV_QUERY_WRITE | PATDEV_QUERY_DIRTY |
		  PATDEV_QUERY_YOUNG, q.flags);
	ASSERT_EQ(0, munmap(p, self->page));
}

TEST_F(patdev, query_untouched_page_not_present)
{
	unsigned char *p = map_anon(_metadata, self->fd, self->page);
	struct patdev_query q;

	ASSERT_EQ(0, query(self->fd, p, &q));
	ASSERT_EQ(0, q.flags);
	ASSERT_EQ(0, munmap(p, self->page));
}

TEST_F(patdev, query_outside_patdev_vma_einval)
{
	void *anon = mmap(NULL, self->page, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	struct patdev_query q;
	int on_stack = 0;

	ASSERT_NE(MAP_FAILED, anon);
	ASSERT_EQ(-1, query(self->fd, &on_stack, &q));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, query(self->fd, anon, &q));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, munmap(anon, self->page));
	/* The same address, now unmapped. */
	ASSERT_EQ(-1, query(self->fd, anon, &q));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(patdev, query_bad_pointer_efault)
{
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_QUERY, (void *)8));
	ASSERT_EQ(EFAULT, errno);
}

TEST_HARNESS_MAIN
