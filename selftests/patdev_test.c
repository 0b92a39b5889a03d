// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests for /dev/patdev, run with the module loaded. One TEST_F per
 * behaviour; cache modes are read back from the page tables through
 * PATDEV_IOC_QUERY, never taken from what the driver asked for.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/capability.h>

#include "kselftest_harness.h"
#include "patdev_names.h"
#include "patdev_selftest.h"
#include "patdev_user.h"

#define DEV "/dev/patdev"
#define DEBUGFS PATDEV_DEBUGFS
#define OBJECTS DEBUGFS "/patdev/objects"
/* Size of the anonymous object: the first test to map it creates it. */
#define NPAGES 16
#define MAXSEGS 64

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

/* An address no access may succeed on: a PROT_NONE page. */
static void *bad_ptr(void)
{
	return mmap(NULL, sysconf(_SC_PAGESIZE), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* Pages the object's chunks add up to, as OBJINFO counts them. */
static unsigned long long chunk_pages(const struct patdev_objinfo *info)
{
	unsigned long long n = 0;
	int i;

	for (i = 0; i < PATDEV_CHUNK_ORDERS; i++)
		n += info->chunks[i] << i;
	return n;
}

/* PFN behind @addr, touching it first so that it is mapped; 0 if none. */
static unsigned long long pfn_of(int fd, unsigned char *addr)
{
	struct patdev_query q;

	(void)__atomic_load_n(addr, __ATOMIC_RELAXED);
	if (patdev_query(fd, addr, &q) || !(q.flags & PATDEV_QUERY_PRESENT))
		return 0;
	return q.pfn;
}

struct seg {
	unsigned long long off, paddr, len;
};

/* The segments of the object at @base, as the debugfs view lists them. */
static int read_segments(unsigned long long base, struct seg *segs, int max)
{
	char line[256];
	int n = 0, in_sg = 0;
	FILE *f;

	patdev_need_debugfs(OBJECTS);
	f = fopen(OBJECTS, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "pgoff ", 6)) {
			in_sg = strtoull(line + 6, NULL, 10) == base;
			continue;
		}
		if (in_sg && n < max &&
		    sscanf(line, " seg %*u off %llx paddr %llx len %llx",
			   &segs[n].off, &segs[n].paddr, &segs[n].len) == 3)
			n++;
	}
	fclose(f);
	return n;
}

static int write_param(const char *name, unsigned int val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/patdev/parameters/%s", name);
	return patdev_write_long(path, val);
}

static int read_param(const char *name)
{
	char path[128], c = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/patdev/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fread(&c, 1, 1, f) != 1)
		c = 0;
	fclose(f);
	return c == 'Y' || c == '1';
}

/*
 * The mode the anonymous object's entries get: WC, or UC- when PAT is off
 * (booted with nopat, or no PAT in the CPU), since the hardware then has
 * no WC. Told from the kernel command line and the CPU flags, not by the
 * module.
 */
static const char *anon_mode(void)
{
	return patdev_pat_on() ? "WC" : "UC_MINUS";
}

TEST_F(patdev, node_is_char_device_mode_0600)
{
	struct stat st;

	ASSERT_EQ(0, stat(DEV, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0600, st.st_mode & 07777);
	ASSERT_EQ(0, st.st_uid);
}

TEST_F(patdev, open_refused_to_other_users)
{
	int status, acc;

	for (acc = O_RDONLY; acc <= O_RDWR; acc++) {
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (pid == 0) {
			if (setgid(65534) || setuid(65534))
				_exit(2);
			_exit(open(DEV, acc) >= 0 ? 1 : errno == EACCES ? 0 : 3);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("access mode %d", acc);
	}
}

TEST_F(patdev, version_ioctl)
{
	struct patdev_version v;

	memset(&v, 0xff, sizeof(v));
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_VERSION, &v));
	ASSERT_EQ(PATDEV_VERSION_MAJOR, v.major);
	ASSERT_EQ(PATDEV_VERSION_MINOR, v.minor);
	ASSERT_EQ(1, v.major) TH_LOG("the frozen ioctl ABI 1.0");
	ASSERT_EQ(0, v.minor) TH_LOG("the frozen ioctl ABI 1.0");
	ASSERT_TRUE(v.features & PATDEV_FEAT_QUERY);
	ASSERT_TRUE(v.features & PATDEV_FEAT_OBJINFO);
	ASSERT_TRUE(v.features & PATDEV_FEAT_RW);
	ASSERT_TRUE(v.features & PATDEV_FEAT_PREFAULT);
	ASSERT_TRUE(v.features & PATDEV_FEAT_CREATE);
	ASSERT_TRUE(v.features & PATDEV_FEAT_EXPORT);
}

TEST_F(patdev, version_ioctl_bad_pointer_efault)
{
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_VERSION, bad_ptr()));
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

/*
 * Racing first mmaps from several processes: each reports page 0's PFN.
 * They wait on a barrier (the go pipe, closed once all are forked) so that
 * their mmaps really start together.
 */
#define RACERS 4

static void *race_first_mmaps(struct __test_metadata *_metadata, int fd, size_t len)
{
	unsigned long long pfns[RACERS];
	int pipefd[2], go[2], i, status;
	void *p;

	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < RACERS; i++) {
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (pid == 0) {
			unsigned long long pfn = 0;
			unsigned char *q;
			char c;

			close(go[1]);
			/* EOF once the parent closes its end: all go at once. */
			if (read(go[0], &c, 1) != 0)
				_exit(2);
			q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (q != MAP_FAILED)
				pfn = pfn_of(fd, q);
			if (write(pipefd[1], &pfn, sizeof(pfn)) != sizeof(pfn))
				_exit(2);
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);
	for (i = 0; i < RACERS; i++) {
		ASSERT_EQ(sizeof(pfns[i]), read(pipefd[0], &pfns[i], sizeof(pfns[i])));
		ASSERT_NE(0, pfns[i]);
		ASSERT_EQ(pfns[0], pfns[i]) TH_LOG("racing first mmaps made two objects");
	}
	for (i = 0; i < RACERS; i++) {
		ASSERT_LT(0, wait(&status));
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(pipefd[0]);
	close(pipefd[1]);
	p = map_anon(_metadata, fd, len);
	ASSERT_EQ(pfns[0], pfn_of(fd, p));
	return p;
}

/*
 * The uapi's rule for offsets (ENOENT at offset 0 before its object is
 * made; EPERM for the module's own names in DESTROY and SET_CACHE, made or
 * not), in every ioctl that takes an offset.
 */
static void offset_zero_before_its_object(struct __test_metadata *_metadata, int fd,
					  size_t page)
{
	struct patdev_mr m = { .offset = PATDEV_PGOFF_ANON, .npages = 1 };
	struct patdev_set_cache sc = { .cache = PATDEV_CACHE_WB };

	ASSERT_EQ(-1, ioctl(fd, PATDEV_IOC_MR_QUERY, &m));
	ASSERT_EQ(ENOENT, errno);
	m.flags = PATDEV_MR_MODIFIED;
	ASSERT_EQ(-1, ioctl(fd, PATDEV_IOC_MR_CLEAR, &m));
	ASSERT_EQ(ENOENT, errno);
	sc.offset = PATDEV_PGOFF_ANON * page;
	ASSERT_EQ(-1, ioctl(fd, PATDEV_IOC_SET_CACHE, &sc));
	ASSERT_EQ(EPERM, errno);
	sc.offset = PATDEV_PGOFF_SG * page;
	ASSERT_EQ(-1, ioctl(fd, PATDEV_IOC_SET_CACHE, &sc));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(-1, patdev_destroy(fd, PATDEV_PGOFF_ANON * page, 0));
	ASSERT_EQ(EPERM, errno);
	/* Below the first range, past the two names: nothing. */
	sc.offset = 2 * page;
	ASSERT_EQ(-1, ioctl(fd, PATDEV_IOC_SET_CACHE, &sc));
	ASSERT_EQ(ENXIO, errno);
	m.offset = 2 * page;
	ASSERT_EQ(-1, ioctl(fd, PATDEV_IOC_MR_CLEAR, &m));
	ASSERT_EQ(ENXIO, errno);
}

TEST_F(patdev, anon_created_by_first_mmap_sized_and_zeroed)
{
	size_t len = NPAGES * self->page;
	int cap_mb = 0;
	struct patdev_objinfo info;
	unsigned char *p;
	size_t i;
	FILE *f;

	/* Runs first: nothing has mapped offset 0 since the module loaded. */
	ASSERT_EQ(-1, patdev_objinfo(self->fd, PATDEV_PGOFF_ANON, &info));
	ASSERT_EQ(ENOENT, errno);
	offset_zero_before_its_object(_metadata, self->fd, self->page);

	/* Past the anon_max_mb cap: ENOMEM, and no object is created. */
	f = fopen("/sys/module/patdev/parameters/anon_max_mb", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%d", &cap_mb));
	fclose(f);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, ((size_t)cap_mb << 20) + self->page, PROT_READ,
				   MAP_SHARED, self->fd, 0));
	ASSERT_EQ(ENOMEM, errno);
	ASSERT_EQ(-1, patdev_objinfo(self->fd, PATDEV_PGOFF_ANON, &info));
	ASSERT_EQ(ENOENT, errno);

	p = race_first_mmaps(_metadata, self->fd, len);
	ASSERT_EQ(0, patdev_objinfo(self->fd, PATDEV_PGOFF_ANON, &info));
	ASSERT_EQ(PATDEV_OBJ_ANON, info.kind);
	ASSERT_EQ(len, info.size);
	EXPECT_STREQ(anon_mode(), patdev_cache_name(info.cache));
	ASSERT_EQ(1, info.nmaps);
	ASSERT_GE(info.nsegs, 1);
	ASSERT_EQ(NPAGES, chunk_pages(&info));
	for (i = 0; i < len; i++)
		ASSERT_EQ(0, p[i]) TH_LOG("byte %zu of a new object is not zero", i);
	ASSERT_EQ(0, munmap(p, len));
	ASSERT_EQ(0, patdev_objinfo(self->fd, PATDEV_PGOFF_ANON, &info));
	ASSERT_EQ(0, info.nmaps);
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
	ASSERT_EQ(0, patdev_query(self->fd, p, &q));
	ASSERT_TRUE(q.flags & PATDEV_QUERY_PRESENT);
	ASSERT_NE(0, q.pfn);
	EXPECT_STREQ(anon_mode(), patdev_cache_name(q.cache));
	ASSERT_EQ(0, munmap(p, self->page));
}

TEST_F(patdev, query_reports_dirty_young_write)
{
	unsigned char *p = map_anon(_metadata, self->fd, self->page);
	struct patdev_query q;

	p[0] = 5;
	ASSERT_EQ(0, patdev_query(self->fd, p, &q));
	ASSERT_EQ(PATDEV_QUERY_PRESENT | PATDEV_QUERY_WRITE | PATDEV_QUERY_DIRTY |
		  PATDEV_QUERY_YOUNG, q.flags);
	ASSERT_EQ(0, munmap(p, self->page));
}

TEST_F(patdev, query_untouched_page_not_present)
{
	unsigned char *p = map_anon(_metadata, self->fd, self->page);
	struct patdev_query q;

	ASSERT_EQ(0, patdev_query(self->fd, p, &q));
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
	ASSERT_EQ(-1, patdev_query(self->fd, &on_stack, &q));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_query(self->fd, anon, &q));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, munmap(anon, self->page));
	/* The same address, now unmapped. */
	ASSERT_EQ(-1, patdev_query(self->fd, anon, &q));
	ASSERT_EQ(EINVAL, errno);
}

/* Drops CAP_SYS_ADMIN from this (child) process, staying uid 0. */
TEST_F(patdev, query_hides_pfn_without_cap_sys_admin)
{
	int status;
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct patdev_query q;
		unsigned char *p;
		int fd;

		if (patdev_drop_cap(CAP_SYS_ADMIN))
			_exit(2);
		fd = open(DEV, O_RDWR);
		p = fd < 0 ? MAP_FAILED :
			mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(3);
		p[0] = 1;
		if (patdev_query(fd, p, &q) || !(q.flags & PATDEV_QUERY_PRESENT))
			_exit(4);
		/* Presence and cache mode, but no PFN. */
		_exit(q.pfn == 0 && !strcmp(patdev_cache_name(q.cache), anon_mode()) ? 0 : 5);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST_F(patdev, query_bad_pointer_efault)
{
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_QUERY, bad_ptr()));
	ASSERT_EQ(EFAULT, errno);
}

TEST_F(patdev, anon_shared_between_mappings_and_files)
{
	size_t len = NPAGES * self->page;
	int fd2 = open(DEV, O_RDWR);
	unsigned char *a, *b;

	ASSERT_GE(fd2, 0);
	a = map_anon(_metadata, self->fd, len);
	b = map_anon(_metadata, fd2, len);
	ASSERT_NE(a, b);
	a[3 * self->page + 1] = 0xa5;
	ASSERT_EQ(0xa5, b[3 * self->page + 1]);
	ASSERT_EQ(pfn_of(self->fd, a + self->page), pfn_of(fd2, b + self->page));
	munmap(a, len);
	munmap(b, len);
	close(fd2);
}

TEST_F(patdev, anon_shared_across_fork)
{
	size_t len = NPAGES * self->page;
	unsigned char *p = map_anon(_metadata, self->fd, len);
	struct patdev_objinfo info;
	int status;
	pid_t pid;

	p[0] = 1;
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* The child's copy of the vma holds its own reference. */
		if (patdev_objinfo(self->fd, PATDEV_PGOFF_ANON, &info) || info.nmaps != 2)
			_exit(1);
		p[0] = 2;
		p[len - 1] = 3;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(2, p[0]);
	ASSERT_EQ(3, p[len - 1]);
	ASSERT_EQ(0, patdev_objinfo(self->fd, PATDEV_PGOFF_ANON, &info));
	ASSERT_EQ(1, info.nmaps);
	munmap(p, len);
}

TEST_F(patdev, anon_shared_with_unrelated_process)
{
	size_t len = NPAGES * self->page;
	unsigned char *p;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* Its own open and its own mmap: nothing inherited. */
		int fd = open(DEV, O_RDWR);
		unsigned char *q = fd < 0 ? MAP_FAILED :
			mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (q == MAP_FAILED)
			_exit(1);
		memset(q, 0x3c, len);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	p = map_anon(_metadata, self->fd, len);
	ASSERT_EQ(0x3c, p[0]);
	ASSERT_EQ(0x3c, p[len - 1]);
	munmap(p, len);
}

TEST_F(patdev, anon_smaller_second_mapping_shares_start)
{
	unsigned char *full = map_anon(_metadata, self->fd, NPAGES * self->page);
	unsigned char *small = map_anon(_metadata, self->fd, self->page);

	ASSERT_NE(0, pfn_of(self->fd, full));
	ASSERT_EQ(pfn_of(self->fd, full), pfn_of(self->fd, small));
	munmap(full, NPAGES * self->page);
	munmap(small, self->page);
}

TEST_F(patdev, anon_larger_mapping_sigbus_past_object_end)
{
	size_t len = (NPAGES + 2) * self->page;
	unsigned char *p = map_anon(_metadata, self->fd, len);

	ASSERT_EQ(0, patdev_touch_in_child(p + (NPAGES - 1) * self->page, 1));
	ASSERT_EQ(SIGBUS, patdev_touch_in_child(p + NPAGES * self->page, 0));
	ASSERT_EQ(SIGBUS, patdev_touch_in_child(p + (NPAGES + 1) * self->page, 1));
	munmap(p, len);
}

TEST_F(patdev, map_private_einval)
{
	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_PRIVATE,
				   self->fd, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ, MAP_PRIVATE, self->fd,
				   PATDEV_PGOFF_SG * self->page));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(patdev, offset_naming_no_object_enxio)
{
	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd,
				   2 * self->page));
	ASSERT_EQ(ENXIO, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd,
				   1000 * self->page));
	ASSERT_EQ(ENXIO, errno);
}

TEST_F(patdev, unaligned_offset_einval)
{
	/* FreeBSD rounds the offset down; Linux's mmap(2) refuses it first. */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd, 1));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(patdev, write_mapping_through_readonly_fd_eacces)
{
	int ro = open(DEV, O_RDONLY);
	void *p;

	ASSERT_GE(ro, 0);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
	ASSERT_EQ(EACCES, errno);
	p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(-1, mprotect(p, self->page, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	munmap(p, self->page);
	close(ro);
}

TEST_F(patdev, sg_write_mapping_follows_readonly_object)
{
	int readonly = read_param("sg_readonly");
	struct patdev_objinfo info;
	void *p;

	ASSERT_GE(readonly, 0);
	ASSERT_EQ(0, patdev_objinfo(self->fd, PATDEV_PGOFF_SG, &info));
	ASSERT_EQ(readonly, !!(info.flags & PATDEV_OBJ_READONLY));
	p = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		 PATDEV_PGOFF_SG * self->page);
	if (readonly) {
		ASSERT_EQ(MAP_FAILED, p);
		ASSERT_EQ(EACCES, errno);
		p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd,
			 PATDEV_PGOFF_SG * self->page);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(-1, mprotect(p, self->page, PROT_READ | PROT_WRITE));
		ASSERT_EQ(EACCES, errno);
	} else {
		ASSERT_NE(MAP_FAILED, p);
	}
	munmap(p, self->page);
}

TEST_F(patdev, mremap_cannot_grow_mapping)
{
	unsigned char *p = map_anon(_metadata, self->fd, self->page);

	ASSERT_EQ(MAP_FAILED, mremap(p, self->page, 2 * self->page, MREMAP_MAYMOVE));
	ASSERT_EQ(EFAULT, errno);
	munmap(p, self->page);
}

TEST_F(patdev, split_vma_keeps_counts_and_data)
{
	unsigned char *p = map_anon(_metadata, self->fd, 3 * self->page);
	struct patdev_objinfo info;

	p[0] = 0x11;
	p[2 * self->page] = 0x22;
	ASSERT_EQ(0, munmap(p + self->page, self->page));
	ASSERT_EQ(0, patdev_objinfo(self->fd, PATDEV_PGOFF_ANON, &info));
	ASSERT_EQ(2, info.nmaps);
	ASSERT_EQ(0x11, p[0]);
	ASSERT_EQ(0x22, p[2 * self->page]);
	ASSERT_EQ(0, munmap(p, self->page));
	ASSERT_EQ(0, patdev_objinfo(self->fd, PATDEV_PGOFF_ANON, &info));
	ASSERT_EQ(1, info.nmaps);
	ASSERT_EQ(0x22, p[2 * self->page]);
	ASSERT_EQ(0, munmap(p + 2 * self->page, self->page));
	ASSERT_EQ(0, patdev_objinfo(self->fd, PATDEV_PGOFF_ANON, &info));
	ASSERT_EQ(0, info.nmaps);
}

TEST_F(patdev, sg_object_info)
{
	struct patdev_objinfo info;
	unsigned char *p;
	size_t i;

	ASSERT_EQ(0, patdev_objinfo(self->fd, PATDEV_PGOFF_SG, &info));
	ASSERT_EQ(PATDEV_OBJ_SG, info.kind);
	ASSERT_EQ(16 * self->page, info.size);
	/* RAM cannot be strong UC on x86: PAT gives it UC-. */
	ASSERT_EQ(PATDEV_CACHE_UC_MINUS, info.cache);
	ASSERT_GT(info.nsegs, 1) TH_LOG("the default sg object should be scattered");
	ASSERT_EQ(0, info.nmaps);
	p = mmap(NULL, info.size, PROT_READ, MAP_SHARED, self->fd, PATDEV_PGOFF_SG * self->page);
	ASSERT_NE(MAP_FAILED, p);
	/* Never old kernel data: nothing has written it yet, so it is zero. */
	for (i = 0; i < info.size; i++)
		ASSERT_EQ(0, p[i]) TH_LOG("byte %zu of the sg object", i);
	munmap(p, info.size);
}

TEST_F(patdev, sg_pte_cache_mode_is_object_mode)
{
	struct patdev_objinfo info;
	struct patdev_query q;
	unsigned char *p;

	ASSERT_EQ(0, patdev_objinfo(self->fd, PATDEV_PGOFF_SG, &info));
	p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd, PATDEV_PGOFF_SG * self->page);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(0, pfn_of(self->fd, p));
	ASSERT_EQ(0, patdev_query(self->fd, p, &q));
	EXPECT_STREQ(patdev_cache_name(info.cache), patdev_cache_name(q.cache));
	munmap(p, self->page);
}

TEST_F(patdev, sg_mapping_starts_at_object_start_and_follows_sglist)
{
	struct patdev_objinfo info;
	struct seg segs[MAXSEGS];
	unsigned long long pfn;
	unsigned char *p;
	size_t i, npages;
	int n, s;

	ASSERT_EQ(0, patdev_objinfo(self->fd, PATDEV_PGOFF_SG, &info));
	n = read_segments(info.base_pgoff, segs, MAXSEGS);
	ASSERT_EQ(info.nsegs, n) TH_LOG("segments in %s", OBJECTS);
	npages = info.size / self->page;
	p = mmap(NULL, info.size, PROT_READ, MAP_SHARED, self->fd, PATDEV_PGOFF_SG * self->page);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0, s = 0; i < npages; i++) {
		unsigned long long off = i * self->page;

		while (s < n && off >= segs[s].off + segs[s].len)
			s++;
		ASSERT_LT(s, n);
		pfn = (segs[s].paddr + off - segs[s].off) / self->page;
		ASSERT_EQ(pfn, pfn_of(self->fd, p + off)) TH_LOG("page %zu", i);
	}
	munmap(p, info.size);
}

TEST_F(patdev, sglist_in_kernel_checks)
{
	char line[256];
	int ok = 0;
	FILE *f;

	patdev_need_debugfs(OBJECTS);
	f = fopen(DEBUGFS "/patdev/sglist_selftest", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		EXPECT_EQ(0, strncmp(line, "ok ", 3)) TH_LOG("%s", line);
		ok++;
	}
	fclose(f);
	ASSERT_GE(ok, 20);
}

TEST_F(patdev, sg_larger_mapping_sigbus_past_object_end)
{
	struct patdev_objinfo info;
	unsigned char *p;

	ASSERT_EQ(0, patdev_objinfo(self->fd, PATDEV_PGOFF_SG, &info));
	p = mmap(NULL, info.size + self->page, PROT_READ, MAP_SHARED, self->fd,
		 PATDEV_PGOFF_SG * self->page);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, patdev_touch_in_child(p + info.size - self->page, 0));
	ASSERT_EQ(SIGBUS, patdev_touch_in_child(p + info.size, 0));
	munmap(p, info.size + self->page);
}

TEST_F(patdev, pwrite_then_read_through_mapping)
{
	size_t len = NPAGES * self->page;
	unsigned char *p = map_anon(_metadata, self->fd, len);
	char msg[] = "written by pwrite across a page boundary";
	off_t off = 2 * self->page - 10;

	ASSERT_EQ(sizeof(msg), pwrite(self->fd, msg, sizeof(msg), off));
	ASSERT_EQ(0, memcmp(p + off, msg, sizeof(msg)));
	munmap(p, len);
}

TEST_F(patdev, write_through_mapping_then_pread)
{
	size_t len = NPAGES * self->page;
	unsigned char *p = map_anon(_metadata, self->fd, len);
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		p[5 * self->page - 32 + i] = (unsigned char)(0x80 + i);
	ASSERT_EQ(sizeof(buf), pread(self->fd, buf, sizeof(buf), 5 * self->page - 32));
	for (i = 0; i < sizeof(buf); i++)
		ASSERT_EQ((unsigned char)(0x80 + i), (unsigned char)buf[i]);
	munmap(p, len);
}

TEST_F(patdev, rw_at_object_end)
{
	size_t len = NPAGES * self->page;
	char buf[16] = { 0 };

	ASSERT_EQ(8, pread(self->fd, buf, sizeof(buf), len - 8));
	ASSERT_EQ(0, pread(self->fd, buf, sizeof(buf), len));
	ASSERT_EQ(-1, pwrite(self->fd, buf, sizeof(buf), len));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(-1, pread(self->fd, bad_ptr(), sizeof(buf), 0));
	ASSERT_EQ(EFAULT, errno);
}

TEST_F(patdev, objinfo_bad_input)
{
	struct patdev_objinfo info;

	ASSERT_EQ(-1, patdev_objinfo(self->fd, 2, &info));
	ASSERT_EQ(ENXIO, errno);
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_OBJINFO, bad_ptr()));
	ASSERT_EQ(EFAULT, errno);
}

static int prefault(int fd, const void *addr, size_t len, unsigned int flags,
		    unsigned long long *npages)
{
	struct patdev_prefault pf = {
		.addr = (uintptr_t)addr, .len = len, .flags = flags,
	};
	int ret = ioctl(fd, PATDEV_IOC_PREFAULT, &pf);

	if (npages)
		*npages = pf.npages;
	return ret;
}

static int range_query(int fd, const void *addr, size_t len, struct patdev_range_query *r)
{
	memset(r, 0, sizeof(*r));
	r->addr = (uintptr_t)addr;
	r->len = len;
	return ioctl(fd, PATDEV_IOC_RANGE_QUERY, r);
}

TEST_F(patdev, map_populate_does_not_populate_pfnmap)
{
	size_t len = 4 * self->page;
	struct patdev_range_query r;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, self->fd, 0);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, range_query(self->fd, p, len, &r));
	ASSERT_EQ(0, r.resident);
	ASSERT_EQ(-1, madvise(p, len, MADV_POPULATE_READ));
	ASSERT_EQ(EINVAL, errno);
	munmap(p, len);
}

TEST_F(patdev, prefault_read_enters_present_clean_entries)
{
	size_t len = 8 * self->page;
	unsigned char *p = map_anon(_metadata, self->fd, len);
	struct patdev_range_query r;
	unsigned long long n = 0;
	struct patdev_query q;

	ASSERT_EQ(0, range_query(self->fd, p, len, &r));
	ASSERT_EQ(0, r.resident);
	ASSERT_EQ(0, prefault(self->fd, p, len, PATDEV_PREFAULT_READ, &n));
	ASSERT_EQ(8, n);
	ASSERT_EQ(0, range_query(self->fd, p, len, &r));
	ASSERT_EQ(8, r.resident);
	ASSERT_EQ(0, r.dirty);
	ASSERT_EQ(0, patdev_query(self->fd, p + 7 * self->page, &q));
	ASSERT_TRUE(q.flags & PATDEV_QUERY_PRESENT);
	ASSERT_FALSE(q.flags & PATDEV_QUERY_DIRTY);
	EXPECT_STREQ(anon_mode(), patdev_cache_name(q.cache));
	munmap(p, len);
}

TEST_F(patdev, prefault_write_enters_dirty_writable_entries)
{
	size_t len = 8 * self->page;
	unsigned char *p = map_anon(_metadata, self->fd, len);
	struct patdev_range_query r;
	unsigned long long n = 0;

	ASSERT_EQ(0, prefault(self->fd, p, len, PATDEV_PREFAULT_WRITE, &n));
	ASSERT_EQ(8, n);
	ASSERT_EQ(0, range_query(self->fd, p, len, &r));
	ASSERT_EQ(8, r.resident);
	ASSERT_EQ(8, r.writable);
	ASSERT_EQ(8, r.dirty);
	ASSERT_EQ(8, r.young);
	munmap(p, len);
}

TEST_F(patdev, prefault_write_on_readonly_mapping_eacces)
{
	void *p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd, 0);
	unsigned long long n = 0;

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(-1, prefault(self->fd, p, self->page, PATDEV_PREFAULT_WRITE, NULL));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(0, prefault(self->fd, p, self->page, PATDEV_PREFAULT_READ, &n));
	ASSERT_EQ(1, n);
	munmap(p, self->page);
}

TEST_F(patdev, prefault_spans_adjacent_vmas_but_not_holes)
{
	size_t half = 4 * self->page;
	struct patdev_range_query r;
	unsigned long long n = 0;
	unsigned char *p;

	/* Reserve 8 pages, then put two patdev mappings side by side in them. */
	p = mmap(NULL, 2 * half, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(p, mmap(p, half, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, self->fd, 0));
	ASSERT_EQ(p + half, mmap(p + half, half, PROT_READ, MAP_SHARED | MAP_FIXED, self->fd,
				 PATDEV_PGOFF_SG * self->page));
	ASSERT_EQ(0, prefault(self->fd, p, 2 * half, PATDEV_PREFAULT_READ, &n));
	ASSERT_EQ(8, n);
	ASSERT_EQ(0, range_query(self->fd, p, 2 * half, &r));
	ASSERT_EQ(8, r.resident);
	/* A foreign page in the middle makes the range invalid. */
	ASSERT_EQ(p + self->page, mmap(p + self->page, self->page, PROT_READ,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	ASSERT_EQ(-1, prefault(self->fd, p, 2 * half, PATDEV_PREFAULT_READ, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, range_query(self->fd, p, 2 * half, &r));
	ASSERT_EQ(EINVAL, errno);
	munmap(p, 2 * half);
}

TEST_F(patdev, prefault_stops_at_object_end)
{
	size_t len = (NPAGES + 2) * self->page;
	unsigned char *p = map_anon(_metadata, self->fd, len);
	unsigned long long n = 0;

	ASSERT_EQ(0, prefault(self->fd, p, len, PATDEV_PREFAULT_READ, &n));
	ASSERT_EQ(NPAGES, n);
	munmap(p, len);
}

static int set_mmap_flags(int fd, unsigned int flags, unsigned int reserved)
{
	struct patdev_mmap_flags mf = { .flags = flags, .reserved = reserved };

	return ioctl(fd, PATDEV_IOC_SET_MMAP_FLAGS, &mf);
}

TEST_F(patdev, mmap_flags_prefault_next_mmaps_of_the_file)
{
	size_t len = 4 * self->page;
	struct patdev_range_query r;
	int other = open(DEV, O_RDWR);
	void *p, *q;

	ASSERT_GE(other, 0);
	ASSERT_EQ(0, set_mmap_flags(self->fd, PATDEV_PREFAULT_WRITE, 0));
	p = map_anon(_metadata, self->fd, len);
	ASSERT_EQ(0, range_query(self->fd, p, len, &r));
	ASSERT_EQ(4, r.resident);
	ASSERT_EQ(4, r.dirty);
	/* Another open file is not affected. */
	q = map_anon(_metadata, other, len);
	ASSERT_EQ(0, range_query(other, q, len, &r));
	ASSERT_EQ(0, r.resident);
	munmap(q, len);
	/* WRITE needs a writable mapping; READ does not. */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, 0));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(0, set_mmap_flags(self->fd, PATDEV_PREFAULT_READ, 0));
	q = mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, PATDEV_PGOFF_SG * self->page);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, range_query(self->fd, q, len, &r));
	ASSERT_EQ(4, r.resident);
	ASSERT_EQ(0, r.dirty);
	munmap(q, len);
	ASSERT_EQ(0, set_mmap_flags(self->fd, 0, 0));
	q = map_anon(_metadata, self->fd, len);
	ASSERT_EQ(0, range_query(self->fd, q, len, &r));
	ASSERT_EQ(0, r.resident);
	munmap(q, len);
	munmap(p, len);
	close(other);
}

TEST_F(patdev, mmap_flags_bad_input)
{
	ASSERT_EQ(-1, set_mmap_flags(self->fd, PATDEV_PREFAULT_READ | PATDEV_PREFAULT_WRITE, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, set_mmap_flags(self->fd, 1U << 9, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, set_mmap_flags(self->fd, PATDEV_PREFAULT_READ, 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_SET_MMAP_FLAGS, bad_ptr()));
	ASSERT_EQ(EFAULT, errno);
}

TEST_F(patdev, prefault_bad_input)
{
	size_t len = 2 * self->page;
	unsigned char *p = map_anon(_metadata, self->fd, len);
	struct patdev_prefault pf = {
		.addr = (uintptr_t)p, .len = len, .flags = PATDEV_PREFAULT_READ, .reserved = 1,
	};
	struct patdev_range_query r;
	int on_stack;

	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_PREFAULT, &pf));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, prefault(self->fd, p, len, 0, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, prefault(self->fd, p, len, PATDEV_PREFAULT_READ | PATDEV_PREFAULT_WRITE,
			       NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, prefault(self->fd, p, len, 1U << 7, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, prefault(self->fd, p, 0, PATDEV_PREFAULT_READ, NULL));
	ASSERT_EQ(EINVAL, errno);
	/* Partial overlap: starts inside the mapping, ends past it. */
	ASSERT_EQ(-1, prefault(self->fd, p + self->page, len, PATDEV_PREFAULT_READ, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, prefault(self->fd, &on_stack, sizeof(on_stack), PATDEV_PREFAULT_READ, NULL));
	ASSERT_EQ(EINVAL, errno);
	/* Wraps around the address space. */
	ASSERT_EQ(-1, prefault(self->fd, p, (size_t)-self->page, PATDEV_PREFAULT_READ, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_PREFAULT, bad_ptr()));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, range_query(self->fd, p, 0, &r));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, range_query(self->fd, p, (size_t)-self->page, &r));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_RANGE_QUERY, bad_ptr()));
	ASSERT_EQ(EFAULT, errno);
	munmap(p, len);
}

TEST_F(patdev, patdev_map_wrapper_maps_and_prefaults)
{
	size_t len = 4 * self->page;
	struct patdev_range_query r;
	void *p;

	p = patdev_map(self->fd, len, PROT_READ | PROT_WRITE, PATDEV_PGOFF_ANON,
		       PATDEV_PREFAULT_WRITE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, range_query(self->fd, p, len, &r));
	ASSERT_EQ(4, r.resident);
	ASSERT_EQ(4, r.dirty);
	munmap(p, len);
	/* A failed prefault leaves nothing mapped and reports its errno. */
	ASSERT_EQ(MAP_FAILED, patdev_map(self->fd, len, PROT_READ, PATDEV_PGOFF_ANON,
					 PATDEV_PREFAULT_WRITE));
	ASSERT_EQ(EACCES, errno);
}

TEST_F(patdev, ioctl_directions_match_data_flow)
{
	/* VERSION only answers; SET_MMAP_FLAGS only takes; the rest do both. */
	ASSERT_EQ(_IOC_READ, _IOC_DIR(PATDEV_IOC_VERSION));
	ASSERT_EQ(_IOC_WRITE, _IOC_DIR(PATDEV_IOC_SET_MMAP_FLAGS));
	ASSERT_EQ(_IOC_READ | _IOC_WRITE, _IOC_DIR(PATDEV_IOC_QUERY));
	ASSERT_EQ(_IOC_READ | _IOC_WRITE, _IOC_DIR(PATDEV_IOC_OBJINFO));
	ASSERT_EQ(_IOC_READ | _IOC_WRITE, _IOC_DIR(PATDEV_IOC_PREFAULT));
	ASSERT_EQ(_IOC_READ | _IOC_WRITE, _IOC_DIR(PATDEV_IOC_RANGE_QUERY));
	/* CREATE answers the offset; DESTROY only takes. */
	ASSERT_EQ(_IOC_READ | _IOC_WRITE, _IOC_DIR(PATDEV_IOC_CREATE));
	ASSERT_EQ(_IOC_WRITE, _IOC_DIR(PATDEV_IOC_DESTROY));
}

TEST_F(patdev, reserved_fields_must_be_zero)
{
	unsigned char *p = map_anon(_metadata, self->fd, self->page);
	struct patdev_range_query r;
	struct patdev_objinfo info;
	struct patdev_query q;

	p[0] = 1;
	memset(&q, 0, sizeof(q));
	q.addr = (uintptr_t)p;
	q.reserved = 1;
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_QUERY, &q));
	ASSERT_EQ(EINVAL, errno);
	memset(&info, 0, sizeof(info));
	info.pgoff = PATDEV_PGOFF_SG;
	info.reserved = 1ULL << 63;
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_OBJINFO, &info));
	ASSERT_EQ(EINVAL, errno);
	memset(&r, 0, sizeof(r));
	r.addr = (uintptr_t)p;
	r.len = self->page;
	r.reserved = 2;
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_RANGE_QUERY, &r));
	ASSERT_EQ(EINVAL, errno);
	/* With them zero, the same calls succeed and answer zero there. */
	q.reserved = 0;
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_QUERY, &q));
	ASSERT_EQ(0, q.reserved);
	info.reserved = 0;
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_OBJINFO, &info));
	ASSERT_EQ(0, info.reserved);
	r.reserved = 0;
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_RANGE_QUERY, &r));
	ASSERT_EQ(1, r.resident);
	munmap(p, self->page);
}

TEST_F(patdev, prefault_of_prot_none_mapping_eacces)
{
	size_t len = 4 * self->page;
	struct patdev_range_query r;
	void *p = mmap(NULL, len, PROT_NONE, MAP_SHARED, self->fd, 0);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(-1, prefault(self->fd, p, len, PATDEV_PREFAULT_READ, NULL));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(0, range_query(self->fd, p, len, &r));
	ASSERT_EQ(0, r.resident);
	/* Nor may a PROT_NONE mmap be prefaulted through SET_MMAP_FLAGS. */
	ASSERT_EQ(0, set_mmap_flags(self->fd, PATDEV_PREFAULT_READ, 0));
	ASSERT_EQ(MAP_FAILED, mmap(NULL, len, PROT_NONE, MAP_SHARED, self->fd, 0));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(0, set_mmap_flags(self->fd, 0, 0));
	munmap(p, len);
}

/*
 * After clear_refs 4 the kernel tracks soft-dirty through write faults, so
 * the vma's protection is read-only. A write prefault must then never
 * enter a dirty read-only entry (the x86 shadow-stack encoding; a WARN in
 * pfn_pte() on 7.x): it enters read-only clean ones, and the first write
 * faults and makes the entry writable and dirty.
 */
TEST_F(patdev, prefault_write_under_soft_dirty_tracking)
{
	size_t len = 8 * self->page, i;
	unsigned char *p = map_anon(_metadata, self->fd, len);
	unsigned long long n = 0;
	struct patdev_query q;

	ASSERT_EQ(0, patdev_clear_soft_dirty());
	/* Write-notify is in force: even a read prefault enters read-only. */
	ASSERT_EQ(0, prefault(self->fd, p, self->page, PATDEV_PREFAULT_READ, &n));
	ASSERT_EQ(0, patdev_query(self->fd, p, &q));
	ASSERT_EQ(PATDEV_QUERY_PRESENT, q.flags & (PATDEV_QUERY_PRESENT | PATDEV_QUERY_WRITE))
		TH_LOG("soft-dirty tracking did not make the vma read-only");

	ASSERT_EQ(0, prefault(self->fd, p, len, PATDEV_PREFAULT_WRITE, &n));
	ASSERT_EQ(8, n);
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, patdev_query(self->fd, p + i * self->page, &q));
		ASSERT_TRUE(q.flags & PATDEV_QUERY_PRESENT);
		ASSERT_FALSE(q.flags & PATDEV_QUERY_WRITE) TH_LOG("page %zu", i);
		ASSERT_FALSE(q.flags & PATDEV_QUERY_DIRTY) TH_LOG("page %zu: dirty read-only", i);
	}
	p[self->page] = 9;
	ASSERT_EQ(0, patdev_query(self->fd, p + self->page, &q));
	ASSERT_EQ(PATDEV_QUERY_WRITE | PATDEV_QUERY_DIRTY,
		  q.flags & (PATDEV_QUERY_WRITE | PATDEV_QUERY_DIRTY));
	ASSERT_EQ(9, p[self->page]);
	munmap(p, len);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A 1 TiB mapping of the 16-page object: pages past the object's end are
 * never mapped, so neither call walks them. Walking them takes minutes.
 */
TEST_F(patdev, huge_mapping_of_small_object_answers_at_once)
{
	size_t len = 1ULL << 40;
	struct patdev_range_query r;
	unsigned long long n = 0;
	double t0, t_range, t_prefault;
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_NORESERVE, self->fd, 0);

	ASSERT_NE(MAP_FAILED, p);
	t0 = now_s();
	ASSERT_EQ(0, range_query(self->fd, p, len, &r));
	t_range = now_s() - t0;
	ASSERT_EQ(0, r.resident);
	t0 = now_s();
	ASSERT_EQ(0, prefault(self->fd, p, len, PATDEV_PREFAULT_READ, &n));
	t_prefault = now_s() - t0;
	ASSERT_EQ(NPAGES, n);
	ASSERT_EQ(0, range_query(self->fd, p, len, &r));
	ASSERT_EQ(NPAGES, r.resident);
	munmap(p, len);
	EXPECT_LT(t_range, 1.0) TH_LOG("RANGE_QUERY of 1 TiB took %.2f s", t_range);
	EXPECT_LT(t_prefault, 1.0) TH_LOG("PREFAULT of 1 TiB took %.2f s", t_prefault);
}

/*
 * Fault-around stops at the end of the faulting page table, so a window test
 * whose mapping straddled a 2 MiB boundary would count fewer entries than the
 * window allows (CI saw 14 of 16). Place the mapping at the start of a 2 MiB
 * region so that only the window, the vma and the object bound it.
 */
static void *map_anon_pmd_aligned(struct __test_metadata *_metadata, int fd, size_t len)
{
	const size_t pmd = 2UL << 20;
	unsigned char *area, *start, *p;

	area = mmap(NULL, len + pmd, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	start = (unsigned char *)(((uintptr_t)area + pmd - 1) & ~(pmd - 1));
	p = mmap(start, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(start, p) TH_LOG("mmap offset 0 at %p: %s", start, strerror(errno));
	if (start > area)
		munmap(area, start - area);
	if (area + len + pmd > start + len)
		munmap(start + len, area + len + pmd - (start + len));
	return p;
}

/* Maps @len_pages, touches page @touch, returns how many became resident. */
static long resident_after_one_touch(struct __test_metadata *_metadata, int fd,
				     size_t page, size_t touch, size_t len_pages)
{
	unsigned char *p = map_anon_pmd_aligned(_metadata, fd, len_pages * page);
	struct patdev_range_query r;

	(void)__atomic_load_n(p + touch * page, __ATOMIC_RELAXED);
	if (range_query(fd, p, len_pages * page, &r))
		r.resident = -1;
	munmap(p, len_pages * page);
	return r.resident;
}

/*
 * Tests that change module parameters: the fixture saves them first and
 * puts them back in its teardown, which runs even when an assertion ends
 * the test early, so a failure never leaks a setting into later tests.
 */
static const char *const saved_params[] = { "fault_around", "max_objects", "max_mb" };

FIXTURE(params) {
	int fd;
	size_t page;
	char saved[ARRAY_SIZE(saved_params)][32];
};

static int param_path(char *path, size_t size, const char *name)
{
	return snprintf(path, size, "/sys/module/patdev/parameters/%s", name) >= (int)size;
}

FIXTURE_SETUP(params)
{
	char path[128];
	unsigned int i;
	FILE *f;

	self->page = sysconf(_SC_PAGESIZE);
	self->fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0);
	for (i = 0; i < ARRAY_SIZE(saved_params); i++) {
		ASSERT_EQ(0, param_path(path, sizeof(path), saved_params[i]));
		f = fopen(path, "r");
		ASSERT_NE(NULL, f);
		ASSERT_NE(NULL, fgets(self->saved[i], sizeof(self->saved[i]), f));
		fclose(f);
	}
}

FIXTURE_TEARDOWN(params)
{
	char path[128];
	unsigned int i;
	FILE *f;

	for (i = 0; i < ARRAY_SIZE(saved_params); i++) {
		if (!self->saved[i][0] || param_path(path, sizeof(path), saved_params[i]))
			continue;
		f = fopen(path, "w");
		if (!f || fputs(self->saved[i], f) < 0 || fclose(f))
			fprintf(stderr, "# could not restore %s\n", saved_params[i]);
	}
	close(self->fd);
}

TEST_F(params, fault_around_window)
{
	int saved = -1;
	FILE *f = fopen("/sys/module/patdev/parameters/fault_around", "r");

	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%d", &saved));
	fclose(f);
	EXPECT_EQ(16, saved) TH_LOG("default window, as TTM's");

	ASSERT_EQ(0, write_param("fault_around", 0));
	EXPECT_EQ(1, resident_after_one_touch(_metadata, self->fd, self->page, 0, NPAGES));
	ASSERT_EQ(0, write_param("fault_around", 4));
	EXPECT_EQ(4, resident_after_one_touch(_metadata, self->fd, self->page, 0, NPAGES));
	/* Never past the vma's end... */
	EXPECT_EQ(2, resident_after_one_touch(_metadata, self->fd, self->page, 6, 8));
	/* ...nor past the object's end, and no SIGBUS for the neighbours. */
	EXPECT_EQ(2, resident_after_one_touch(_metadata, self->fd, self->page, NPAGES - 2,
					      NPAGES + 4));
	ASSERT_EQ(0, write_param("fault_around", 64));
	EXPECT_EQ(NPAGES, resident_after_one_touch(_metadata, self->fd, self->page, 0, NPAGES));
}

/*
 * A mapping of a created 1024-page object placed 16 pages before a 2 MiB
 * boundary: however large the window, one fault enters entries up to the
 * end of the faulting page table only.
 */
TEST_F(params, fault_around_bounded_by_page_table)
{
	const size_t pmd = 2UL << 20, npages = 1024;
	struct patdev_range_query r;
	unsigned long long off;
	unsigned char *area, *p;
	uintptr_t boundary;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, npages * self->page, PATDEV_CACHE_WB,
				   0, 0, &off));
	ASSERT_EQ(0, write_param("fault_around", 4294967295U));
	area = mmap(NULL, npages * self->page + 2 * pmd, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, area);
	boundary = ((uintptr_t)area + 2 * pmd - 1) & ~(pmd - 1);
	p = mmap((void *)(boundary - 16 * self->page), npages * self->page, PROT_READ,
		 MAP_SHARED | MAP_FIXED, self->fd, off);
	ASSERT_NE(MAP_FAILED, p);
	(void)__atomic_load_n(p, __ATOMIC_RELAXED);
	ASSERT_EQ(0, range_query(self->fd, p, npages * self->page, &r));
	EXPECT_EQ(16, r.resident) TH_LOG("one fault must stop at the page table's end");
	/* From the boundary on: one whole page table, 512 entries. */
	(void)__atomic_load_n(p + 16 * self->page, __ATOMIC_RELAXED);
	ASSERT_EQ(0, range_query(self->fd, p, npages * self->page, &r));
	EXPECT_EQ(16 + pmd / self->page, r.resident);
	munmap(area, npages * self->page + 2 * pmd);
}

/* Live objects, from the debugfs stats: freed objects are gone from it. */
static long live_objects(void)
{
	long objs, pages;

	return patdev_stats(&objs, &pages) ? -1 : objs;
}

static const char *effective_mode(unsigned int cache)
{
	return cache == PATDEV_CACHE_WC ? anon_mode() : patdev_cache_name(cache);
}

TEST_F(patdev, create_anon_in_each_mode_maps_zeroed_with_that_mode)
{
	static const unsigned int modes[] = {
		PATDEV_CACHE_WB, PATDEV_CACHE_WC, PATDEV_CACHE_UC_MINUS,
	};
	size_t len = 4 * self->page, i, m;
	struct patdev_objinfo info;
	unsigned long long off;
	struct patdev_query q;
	unsigned char *p;

	for (m = 0; m < ARRAY_SIZE(modes); m++) {
		ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, len, modes[m], 0, 0, &off));
		ASSERT_EQ(0, off % (2UL << 20)) TH_LOG("ranges are 2 MiB aligned");
		ASSERT_GE(off / self->page, PATDEV_PGOFF_FIRST_RANGE);
		ASSERT_EQ(0, patdev_objinfo(self->fd, off / self->page, &info));
		ASSERT_EQ(PATDEV_OBJ_ANON, info.kind);
		ASSERT_EQ(len, info.size);
		ASSERT_EQ(off / self->page, info.base_pgoff);
		ASSERT_EQ(PATDEV_OBJ_CREATED, info.flags);
		ASSERT_EQ(4, chunk_pages(&info));
		EXPECT_STREQ(effective_mode(modes[m]), patdev_cache_name(info.cache));
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
		ASSERT_NE(MAP_FAILED, p);
		for (i = 0; i < len; i++)
			ASSERT_EQ(0, p[i]) TH_LOG("byte %zu of a created object", i);
		p[len - 1] = 0x5a;
		ASSERT_EQ(0x5a, p[len - 1]);
		ASSERT_EQ(0, patdev_query(self->fd, p + len - 1, &q));
		EXPECT_STREQ(effective_mode(modes[m]), patdev_cache_name(q.cache));
		ASSERT_EQ(0, munmap(p, len));
		ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
	}
}

TEST_F(patdev, create_sg_takes_chunks_of_the_asked_order)
{
	size_t len = 64 * self->page, i;
	struct patdev_objinfo info;
	struct seg segs[MAXSEGS];
	unsigned long long off, pfn;
	unsigned char *p;
	int n, s;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, len, PATDEV_CACHE_UC_MINUS, 2, 0,
				   &off));
	ASSERT_EQ(0, patdev_objinfo(self->fd, off / self->page, &info));
	ASSERT_EQ(PATDEV_OBJ_SG, info.kind);
	for (i = 0; i < PATDEV_CHUNK_ORDERS; i++)
		ASSERT_EQ(i == 2 ? 16 : 0, info.chunks[i]) TH_LOG("chunks of order %zu", i);
	/* Physically adjacent chunks merge, as in sglist(9). */
	ASSERT_GE(info.nsegs, 1);
	ASSERT_LE(info.nsegs, 16);
	n = read_segments(info.base_pgoff, segs, MAXSEGS);
	ASSERT_EQ(info.nsegs, n);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, off);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0, s = 0; i < 64; i++) {
		unsigned long long o = i * self->page;
		struct patdev_query q;

		while (s < n && o >= segs[s].off + segs[s].len)
			s++;
		ASSERT_LT(s, n);
		pfn = (segs[s].paddr + o - segs[s].off) / self->page;
		ASSERT_EQ(pfn, pfn_of(self->fd, p + o)) TH_LOG("page %zu", i);
		ASSERT_EQ(0, patdev_query(self->fd, p + o, &q));
		EXPECT_STREQ("UC_MINUS", patdev_cache_name(q.cache));
	}
	munmap(p, len);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
}

TEST_F(patdev, create_offset_inside_object_maps_from_that_page)
{
	size_t len = 8 * self->page, i;
	unsigned long long off;
	unsigned char *p, *q;

	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, len, PATDEV_CACHE_WB, 0, 0, &off));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < 8; i++)
		p[i * self->page] = 0x40 + i;
	q = mmap(NULL, 2 * self->page, PROT_READ, MAP_SHARED, self->fd, off + 3 * self->page);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0x43, q[0]);
	ASSERT_EQ(0x44, q[self->page]);
	ASSERT_EQ(pfn_of(self->fd, p + 3 * self->page), pfn_of(self->fd, q));
	/* Past the end of the object, inside its range: names nothing. */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd,
				   off + len));
	ASSERT_EQ(ENXIO, errno);
	/* Mapping the tail longer than the object: SIGBUS past its end. */
	munmap(q, 2 * self->page);
	q = mmap(NULL, 2 * self->page, PROT_READ, MAP_SHARED, self->fd, off + 7 * self->page);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0x47, q[0]);
	ASSERT_EQ(SIGBUS, patdev_touch_in_child(q + self->page, 0));
	munmap(q, 2 * self->page);
	munmap(p, len);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
}

TEST_F(patdev, destroy_keeps_mappings_then_frees_with_the_last)
{
	size_t len = 4 * self->page;
	struct patdev_objinfo info;
	unsigned long long off;
	unsigned char *p;
	long before = live_objects();

	ASSERT_GE(before, 0);
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, len, PATDEV_CACHE_WC, 0, 0, &off));
	ASSERT_EQ(before + 1, live_objects());
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 0x77;
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
	/* The name is gone... */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, off));
	ASSERT_EQ(ENXIO, errno);
	ASSERT_EQ(-1, patdev_objinfo(self->fd, off / self->page, &info));
	ASSERT_EQ(ENXIO, errno);
	ASSERT_EQ(-1, patdev_destroy(self->fd, off, 0));
	ASSERT_EQ(ENXIO, errno);
	/* ...the mapping is not: old entries and new faults both work. */
	ASSERT_EQ(0x77, p[0]);
	p[len - 1] = 0x78;
	ASSERT_EQ(0x78, p[len - 1]);
	ASSERT_EQ(before + 1, live_objects());
	ASSERT_EQ(0, munmap(p, len));
	ASSERT_EQ(before, live_objects()) TH_LOG("the last mapping frees the object");
}

TEST_F(patdev, release_of_creating_file_removes_the_name)
{
	size_t len = 4 * self->page;
	long before = live_objects();
	unsigned long long off, gone;
	int creator = open(DEV, O_RDWR);
	unsigned char *p;

	ASSERT_GE(creator, 0);
	ASSERT_EQ(0, patdev_create(creator, PATDEV_OBJ_ANON, len, PATDEV_CACHE_WB, 0, 0, &off));
	ASSERT_EQ(0, patdev_create(creator, PATDEV_OBJ_ANON, len, PATDEV_CACHE_WB, 0, 0, &gone));
	/* Another open file maps it: one offset space for every open. */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	ASSERT_NE(MAP_FAILED, p);
	p[1] = 0x31;
	/* Only the creator may destroy it. */
	ASSERT_EQ(-1, patdev_destroy(self->fd, off, 0));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(before + 2, live_objects());
	ASSERT_EQ(0, close(creator));
	/* The unmapped one is freed; the mapped one lives on, unnamed. */
	ASSERT_EQ(before + 1, live_objects());
	ASSERT_EQ(MAP_FAILED, mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, off));
	ASSERT_EQ(ENXIO, errno);
	ASSERT_EQ(0x31, p[1]);
	ASSERT_EQ(0, munmap(p, len));
	ASSERT_EQ(before, live_objects());
}

/*
 * DESTROY with REVOKE in one process removes the object's entries in
 * another, which mapped it through another device node (same device, own
 * inode, on devtmpfs where device nodes work): the offset space is one
 * address_space for every open. A second
 * created object and the shared anonymous object stay mapped.
 */
TEST_F(patdev, revoke_removes_one_object_everywhere_and_nothing_else)
{
	const char *alias = "/dev/patdev-test-alias";
	size_t len = 4 * self->page;
	unsigned long long a, b;
	unsigned char *pa, *pb, *pn;
	int to_child[2], from_child[2], status;
	struct patdev_range_query r;
	struct stat st;
	pid_t pid;
	char c;

	ASSERT_EQ(0, stat(DEV, &st));
	unlink(alias);
	ASSERT_EQ(0, mknod(alias, S_IFCHR | 0600, st.st_rdev));
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, len, PATDEV_CACHE_WC, 0, 0, &a));
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, len, PATDEV_CACHE_UC_MINUS, 0, 0, &b));
	pa = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, a);
	pb = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, b);
	pn = map_anon(_metadata, self->fd, len);
	ASSERT_NE(MAP_FAILED, pa);
	ASSERT_NE(MAP_FAILED, pb);
	memset(pa, 0xaa, len);
	memset(pb, 0xbb, len);
	memset(pn, 0xcc, len);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(from_child));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int fd = open(alias, O_RDWR);
		unsigned char *q = fd < 0 ? MAP_FAILED :
				   mmap(NULL, len, PROT_READ, MAP_SHARED, fd, a);
		size_t i;

		if (q == MAP_FAILED)
			_exit(10);
		for (i = 0; i < len; i += self->page)
			if (q[i] != 0xaa)
				_exit(11);
		if (write(from_child[1], "r", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(12);
		/* Revoked: no entry is left, in this process either. */
		if (range_query(fd, q, len, &r) || r.resident)
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(1, read(from_child[0], &c, 1));
	ASSERT_EQ(0, patdev_destroy(self->fd, a, PATDEV_DESTROY_REVOKE));
	ASSERT_EQ(1, write(to_child[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("child step %d failed", WEXITSTATUS(status));
	ASSERT_EQ(0, range_query(self->fd, pa, len, &r));
	ASSERT_EQ(0, r.resident);
	ASSERT_EQ(SIGBUS, patdev_touch_in_child(pa, 0));
	ASSERT_EQ(-1, prefault(self->fd, pa, len, PATDEV_PREFAULT_READ, NULL));
	ASSERT_EQ(ENXIO, errno);
	/* The others keep every entry and every byte. */
	ASSERT_EQ(0, range_query(self->fd, pb, len, &r));
	ASSERT_EQ(4, r.resident);
	ASSERT_EQ(0, range_query(self->fd, pn, len, &r));
	ASSERT_EQ(4, r.resident);
	ASSERT_EQ(0xbb, pb[len - 1]);
	ASSERT_EQ(0xcc, pn[len - 1]);
	munmap(pa, len);
	munmap(pb, len);
	munmap(pn, len);
	ASSERT_EQ(0, patdev_destroy(self->fd, b, 0));
	unlink(alias);
}

/*
 * One process mmaps and munmaps a created object 100,000 times, each mmap
 * prefaulting: the module keeps a claim per such mmap for revocations, and
 * the caller's own earlier claims must go as its next mmap comes (it holds
 * its mmap lock, so its earlier mmaps are done). The live claims stay at a
 * small bound, and the calls do not slow down: the best of the last three
 * thousand-call blocks takes at most twice the first block's time.
 */
TEST_F_TIMEOUT(patdev, claims_of_the_callers_mm_stay_bounded, 600)
{
	const int calls = 100000, block = 1000;
	double t0 = 0, first = 0, last = 1e9;
	unsigned long long off;
	long claims;
	void *p;
	int i;

	ASSERT_LE(0, patdev_claims()) TH_LOG("no claims line in the debugfs stats");
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, self->page, PATDEV_CACHE_WB, 0, 0,
				   &off));
	ASSERT_EQ(0, set_mmap_flags(self->fd, PATDEV_PREFAULT_READ, 0));
	for (i = 0; i < calls; i++) {
		if (i % block == 0)
			t0 = now_s();
		p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd, off);
		ASSERT_NE(MAP_FAILED, p);
		ASSERT_EQ(0, munmap(p, self->page));
		if (i % block == block - 1) {
			double t = now_s() - t0;

			if (i < block)
				first = t;
			else if (i >= calls - 3 * block && t < last)
				last = t;
		}
		if (i % (10 * block) == 0) {
			claims = patdev_claims();
			ASSERT_LE(claims, 2)
				TH_LOG("%ld live claims after %d mmaps", claims, i + 1);
		}
	}
	ASSERT_EQ(0, set_mmap_flags(self->fd, 0, 0));
	TH_LOG("first 1000 calls %.3f s, best of the last three blocks %.3f s (ratio %.2f)",
	       first, last, last / first);
	EXPECT_LE(last, 2 * first);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
	ASSERT_LE(patdev_claims(), 1);
}

TEST_F(patdev, create_bad_input)
{
	struct patdev_create c = { .kind = PATDEV_OBJ_ANON, .size = 4096 };
	struct patdev_destroy d = { .reserved = 1 };
	unsigned long long off;
	size_t pg = self->page;

	/* Unknown kinds, modes, flags; reserved fields. */
	ASSERT_EQ(-1, patdev_create(self->fd, 0, pg, PATDEV_CACHE_WB, 0, 0, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_create(self->fd, 3, pg, PATDEV_CACHE_WB, 0, 0, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_ANON, pg, PATDEV_CACHE_UC, 0, 0, NULL));
	ASSERT_EQ(EINVAL, errno) TH_LOG("RAM cannot be strong UC");
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_ANON, pg, PATDEV_CACHE_WT, 0, 0, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_ANON, pg, PATDEV_CACHE_WP, 0, 0, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_ANON, pg, 99, 0, 0, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_ANON, pg, PATDEV_CACHE_WB, 0, 8, NULL));
	ASSERT_EQ(EINVAL, errno);
	c.reserved = 1;
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_CREATE, &c));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_CREATE, bad_ptr()));
	ASSERT_EQ(EFAULT, errno);
	/* Sizes: 0, unaligned, huge, not whole chunks. */
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_ANON, 0, PATDEV_CACHE_WB, 0, 0, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_ANON, pg + 1, PATDEV_CACHE_WB, 0, 0,
				    NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_ANON, 1ULL << 62, PATDEV_CACHE_WB, 0, 0,
				    NULL));
	ASSERT_EQ(ENOMEM, errno);
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_ANON, ~0ULL << 12, PATDEV_CACHE_WB, 0, 0,
				    NULL));
	ASSERT_EQ(ENOMEM, errno);
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_SG, 3 * pg, PATDEV_CACHE_WB, 1, 0, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_SG, 1024 * pg, PATDEV_CACHE_WB, 10, 0,
				    NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_ANON, 2 * pg, PATDEV_CACHE_WB, 1, 0,
				    NULL));
	ASSERT_EQ(EINVAL, errno) TH_LOG("sg_order is for sg objects");
	/* DESTROY: reserved, flags, alignment, the module's objects, nothing. */
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, 2 * pg, PATDEV_CACHE_WB, 0, 0, &off));
	d.offset = off;
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_DESTROY, &d));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_DESTROY, bad_ptr()));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, patdev_destroy(self->fd, off, 2));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_destroy(self->fd, off + 1, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, patdev_destroy(self->fd, off + pg, 0));
	ASSERT_EQ(ENXIO, errno) TH_LOG("only the offset CREATE answered names it");
	ASSERT_EQ(-1, patdev_destroy(self->fd, PATDEV_PGOFF_ANON * pg, 0));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(-1, patdev_destroy(self->fd, PATDEV_PGOFF_SG * pg, 0));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(-1, patdev_destroy(self->fd, 1ULL << 50, 0));
	ASSERT_EQ(ENXIO, errno);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
}

static long vm_counter(const char *name)
{
	char key[64];
	long val;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &val) == 2)
		if (!strcmp(key, name)) {
			fclose(f);
			return val;
		}
	fclose(f);
	return -1;
}

/* CREATE whose answer cannot be written back leaves no object behind. */
TEST_F(patdev, create_answer_unwritable_efault_and_nothing_left)
{
	long before = live_objects();
	struct patdev_create *c;

	ASSERT_GE(before, 0);
	c = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c);
	c->kind = PATDEV_OBJ_ANON;
	c->size = self->page;
	c->cache = PATDEV_CACHE_WB;
	ASSERT_EQ(0, mprotect(c, self->page, PROT_READ));
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_CREATE, c));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(before, live_objects());
	munmap(c, self->page);
}

/*
 * ABI 1.0 answers no layout of the 0.x series: their numbers (the same
 * request codes with other sizes or directions) are ENOTTY, their buffers
 * untouched, rather than read as something they are not.
 */
TEST_F(patdev, abi_0_x_calls_enotty)
{
	static const struct {
		unsigned int dir, nr, size;
		const char *what;
	} old[] = {
		{ _IOC_READ | _IOC_WRITE, 0x00, 24, "0.1 VERSION" },
		{ _IOC_READ | _IOC_WRITE, 0x01, 40, "0.3 QUERY" },
		{ _IOC_READ | _IOC_WRITE, 0x02, 64, "0.2 OBJINFO" },
		{ _IOC_READ | _IOC_WRITE, 0x04, 56, "0.3 RANGE_QUERY" },
		{ _IOC_READ | _IOC_WRITE, 0x04, 64, "0.5 RANGE_QUERY" },
	};
	unsigned char buf[128], want[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(old); i++) {
		unsigned long cmd = _IOC(old[i].dir, PATDEV_IOC_MAGIC, old[i].nr, old[i].size);

		memset(buf, 0, sizeof(buf));
		if (old[i].nr == 0x01 || old[i].nr == 0x04)
			*(__u64 *)buf = (uintptr_t)buf;
		memcpy(want, buf, sizeof(buf));
		EXPECT_EQ(-1, ioctl(self->fd, cmd, buf)) TH_LOG("%s", old[i].what);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("%s", old[i].what);
		EXPECT_EQ(0, memcmp(buf, want, sizeof(buf))) TH_LOG("%s", old[i].what);
	}
}

TEST_F(params, create_caps_objects_and_memory)
{
	size_t pg = self->page;
	unsigned long long a, b, c;
	unsigned char *p;

	ASSERT_EQ(0, write_param("max_objects", 2));
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, pg, PATDEV_CACHE_WB, 0, 0, &a));
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, pg, PATDEV_CACHE_WB, 0, 0, &b));
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_ANON, pg, PATDEV_CACHE_WB, 0, 0, &c));
	ASSERT_EQ(ENOSPC, errno);
	/* A destroyed object still counts while a mapping holds its memory. */
	p = mmap(NULL, pg, PROT_READ, MAP_SHARED, self->fd, a);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, patdev_destroy(self->fd, a, 0));
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_ANON, pg, PATDEV_CACHE_WB, 0, 0, &c));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, munmap(p, pg));
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, pg, PATDEV_CACHE_WB, 0, 0, &c));
	ASSERT_EQ(0, patdev_destroy(self->fd, b, 0));
	ASSERT_EQ(0, patdev_destroy(self->fd, c, 0));

	ASSERT_EQ(0, write_param("max_objects", 64));
	ASSERT_EQ(0, write_param("max_mb", 1));
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_ANON, 2UL << 20, PATDEV_CACHE_WB, 0, 0,
				    &a));
	ASSERT_EQ(ENOMEM, errno);
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, 1UL << 20, PATDEV_CACHE_WC, 0, 0,
				   &a));
	ASSERT_EQ(-1, patdev_create(self->fd, PATDEV_OBJ_SG, pg, PATDEV_CACHE_WB, 0, 0, &b));
	ASSERT_EQ(ENOMEM, errno);
	ASSERT_EQ(0, patdev_destroy(self->fd, a, 0));
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, pg, PATDEV_CACHE_WB, 0, 0, &b));
	ASSERT_EQ(0, patdev_destroy(self->fd, b, 0));
}

/*
 * Creating a 64 MiB WC object sets the memtype chunk by chunk through the
 * direct map: every 2 MiB chunk keeps its 2 MiB direct-map page. Only the
 * smaller chunks (if the allocator handed out any) may split one each.
 */
TEST_F(params, create_64mib_keeps_the_direct_map_large_pages)
{
	size_t len = 64UL << 20;
	struct patdev_objinfo info;
	long before, after, small = 0;
	unsigned long long off;
	int i;

	before = vm_counter("direct_map_level2_splits");
	if (before < 0)
		SKIP(return, "no direct_map_level2_splits counter");
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, len, PATDEV_CACHE_WC, 0, 0, &off));
	after = vm_counter("direct_map_level2_splits");
	ASSERT_EQ(0, patdev_objinfo(self->fd, off / self->page, &info));
	ASSERT_EQ(len / self->page, chunk_pages(&info));
	for (i = 0; i < 9; i++)
		small += info.chunks[i];
	TH_LOG("2 MiB chunks %llu, smaller chunks %ld, splits %ld -> %ld",
	       info.chunks[9], small, before, after);
	ASSERT_EQ(0, patdev_destroy(self->fd, off, 0));
	if (!info.chunks[9])
		SKIP(return, "the allocator gave no 2 MiB chunk");
	EXPECT_LE(after - before, small);
	/* Restoring WB before freeing does not split anything either. */
	EXPECT_EQ(after, vm_counter("direct_map_level2_splits"));
}

/* Last: it closes the fixture's file and leaves the module loaded. */
TEST_F(patdev, unload_refused_while_mapped)
{
	unsigned char *p = map_anon(_metadata, self->fd, self->page);

	/* Only the mapping is left to hold the module. */
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(-1, syscall(__NR_delete_module, "patdev", O_NONBLOCK));
	ASSERT_EQ(EWOULDBLOCK, errno);
	p[0] = 7;
	ASSERT_EQ(7, p[0]);
	ASSERT_EQ(0, munmap(p, self->page));
}

TEST_HARNESS_MAIN
