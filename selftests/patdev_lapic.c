// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests for the FreeBSD demo's own scatter/gather object, run with the
 * module loaded with sg_source=lapic: offset PAGE_SIZE maps the local
 * APIC page, read-only and strongly uncached, for CAP_SYS_RAWIO only and
 * never under lockdown. Each test skips where the APIC has no MMIO page
 * (x2APIC mode). Once the kernel is locked down (integrity or more, as
 * /sys/kernel/security/lockdown says), the tests expect EPERM instead.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/types.h>

#include "kselftest_harness.h"
#include "patdev_names.h"
#include "patdev_selftest.h"

#define DEV "/dev/patdev"
#define LOCKDOWN "/sys/kernel/security/lockdown"
#define APIC_ID		0x20
#define APIC_VERSION	0x30

/* Whether the kernel is locked down to integrity or more. */
static int locked_down(void)
{
	char buf[128] = "";
	FILE *f;

	if (access(LOCKDOWN, R_OK))
		mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL);
	f = fopen(LOCKDOWN, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return !strstr(buf, "[none]");
}

/* One 32-bit register read, never cached or merged by the compiler. */
static __u32 apic_read(__u32 *apic, unsigned int reg)
{
	return __atomic_load_n(apic + reg / 4, __ATOMIC_RELAXED);
}

FIXTURE(lapic) {
	int fd;
	size_t page;
	int locked;
	int absent;
};

/* A skip from the setup does not stop the 6.1 harness: each test asks. */
#define NO_APIC "no local APIC page (x2APIC mode?): offset PAGE_SIZE names nothing"

FIXTURE_SETUP(lapic)
{
	struct patdev_objinfo info = { .pgoff = PATDEV_PGOFF_SG };

	self->page = sysconf(_SC_PAGESIZE);
	self->locked = locked_down();
	self->fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0);
	self->absent = ioctl(self->fd, PATDEV_IOC_OBJINFO, &info) && errno == ENXIO;
}

FIXTURE_TEARDOWN(lapic)
{
	close(self->fd);
}

TEST_F(lapic, object_is_one_readonly_strong_uc_page)
{
	struct patdev_objinfo info = { .pgoff = PATDEV_PGOFF_SG };

	if (self->absent)
		SKIP(return, NO_APIC);

	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_OBJINFO, &info));
	ASSERT_EQ(PATDEV_OBJ_SG, info.kind);
	ASSERT_EQ(self->page, info.size);
	ASSERT_EQ(1, info.nsegs);
	EXPECT_STREQ("UC", patdev_cache_name(info.cache));
	ASSERT_TRUE(info.flags & PATDEV_OBJ_READONLY);
	/* Device memory: no RAM chunks. */
	ASSERT_EQ(0, info.chunks[0]);
}

/*
 * Through one mapping, each CPU reads its own APIC: the ID register holds
 * the initial APIC ID CPUID leaf 1 gives on that CPU, and all share one
 * version register.
 */
TEST_F(lapic, each_cpu_reads_its_own_apic_id)
{
	__u32 *apic, version = 0;
	cpu_set_t all, one;
	int cpu, seen = 0;
	void *p;

	if (self->absent)
		SKIP(return, NO_APIC);

	p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd, PATDEV_PGOFF_SG * self->page);
	if (self->locked) {
		ASSERT_EQ(MAP_FAILED, p);
		ASSERT_EQ(EPERM, errno) TH_LOG("locked down: mapping device memory is refused");
		return;
	}
	ASSERT_NE(MAP_FAILED, p);
	apic = p;
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(all), &all));
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		unsigned int a, b, c, d;

		if (!CPU_ISSET(cpu, &all))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
		ASSERT_EQ(1, __get_cpuid(1, &a, &b, &c, &d));
		EXPECT_EQ(b >> 24, apic_read(apic, APIC_ID) >> 24) TH_LOG("cpu %d", cpu);
		if (!seen++)
			version = apic_read(apic, APIC_VERSION);
		EXPECT_EQ(version, apic_read(apic, APIC_VERSION)) TH_LOG("cpu %d", cpu);
	}
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(all), &all));
	ASSERT_NE(0, version);
	ASSERT_GE(seen, 1);
	munmap(p, self->page);
}

TEST_F(lapic, entry_is_strong_uc)
{
	struct patdev_query q = { 0 };
	unsigned char *p;

	if (self->absent)
		SKIP(return, NO_APIC);

	p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd, PATDEV_PGOFF_SG * self->page);
	if (self->locked) {
		ASSERT_EQ(MAP_FAILED, p);
		ASSERT_EQ(EPERM, errno);
		return;
	}
	ASSERT_NE(MAP_FAILED, p);
	(void)apic_read((__u32 *)p, APIC_VERSION);
	q.addr = (uintptr_t)p;
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_QUERY, &q));
	ASSERT_TRUE(q.flags & PATDEV_QUERY_PRESENT);
	EXPECT_STREQ("UC", patdev_cache_name(q.cache)) TH_LOG("PCD and PWT: strong UC, not UC-");
	munmap(p, self->page);
}

TEST_F(lapic, write_refused)
{
	void *p;

	if (self->absent)
		SKIP(return, NO_APIC);

	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
				   PATDEV_PGOFF_SG * self->page));
	ASSERT_EQ(self->locked ? EPERM : EACCES, errno);
	if (self->locked)
		return;
	p = mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd, PATDEV_PGOFF_SG * self->page);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(-1, mprotect(p, self->page, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	munmap(p, self->page);
}

TEST_F(lapic, needs_cap_sys_rawio)
{
	int status;
	pid_t pid;

	if (self->absent)
		SKIP(return, NO_APIC);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (patdev_drop_cap(CAP_SYS_RAWIO))
			_exit(2);
		if (mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd,
			 PATDEV_PGOFF_SG * self->page) != MAP_FAILED)
			_exit(3);
		_exit(errno == EPERM ? 0 : 4);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/* The other offsets work as in the default configuration. */
/* The module's own objects keep the modes their names promise. */
TEST_F(lapic, mode_change_refused)
{
	struct patdev_set_cache sc = {
		.offset = PATDEV_PGOFF_SG * self->page, .cache = PATDEV_CACHE_WB,
	};
	struct patdev_objinfo info = { .pgoff = PATDEV_PGOFF_SG };

	if (self->absent)
		SKIP(return, NO_APIC);
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_SET_CACHE, &sc));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_OBJINFO, &info));
	EXPECT_STREQ("UC", patdev_cache_name(info.cache));
}

TEST_F(lapic, anonymous_object_unchanged)
{
	unsigned char *p = mmap(NULL, self->page, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);

	ASSERT_NE(MAP_FAILED, p);
	p[0] = 0x42;
	ASSERT_EQ(0x42, p[0]);
	munmap(p, self->page);
}

TEST_HARNESS_MAIN
