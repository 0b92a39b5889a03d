// SPDX-License-Identifier: GPL-2.0
/*
 * Selftests for the waits of a revocation and of a mode change on the
 * mappers that claimed an object (patdev_obj_claim()), and for what a
 * killed caller leaves. They need the module built with
 * PATDEV_TEST_HOOKS=y (the debug lane), whose debugfs knobs make the next
 * prefaulting mmap of a created object hold its mmap lock after its
 * prefault (test_hold_mmap_ms), and the next mode change hold after its
 * wait for claims (test_hold_change_ms), for as long as a test needs.
 * Where the device claims through .mmap, the held mapper's vma is not
 * linked yet: the window a zap alone would miss, so revocations and
 * changes must wait for it. Where it claims through .mmap_prepare and
 * ->mapped (7.1 on), the vma is linked before the prefault: nothing needs
 * to wait, and the mapper is still left no entry. The debug lane runs this
 * program on both paths (the test build's test_mmap_path=1 forces .mmap).
 * Elsewhere the tests skip, and the lanes do not run them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "patdev_selftest.h"
#include "patdev_user.h"

#define DEV "/dev/patdev"
#define HOLD_KNOB PATDEV_DEBUGFS "/patdev/test_hold_mmap_ms"
#define HOLD_CHANGE_KNOB PATDEV_DEBUGFS "/patdev/test_hold_change_ms"
#define HOLD_RELEASE PATDEV_DEBUGFS "/patdev/test_hold_release"
#define HOLDING PATDEV_DEBUGFS "/patdev/test_holding"
#define HOLD_MS 4000
#define NPAGES 4

/* Waits up to @ms for @path to read @want; 0 when it did. */
static int wait_value(const char *path, long want, int ms)
{
	for (; ms > 0; ms -= 5) {
		if (patdev_read_long(path) == want)
			return 0;
		usleep(5000);
	}
	return -1;
}

/* The scheduler state letter of task @tid of process @pid, or 0. */
static char task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Waits up to 10 s for the task to sleep uninterruptibly (D). */
static int wait_sleeping(pid_t pid, pid_t tid)
{
	int ms;

	for (ms = 0; ms < 10000; ms += 2) {
		if (task_state(pid, tid) == 'D')
			return 0;
		usleep(2000);
	}
	return -1;
}

/*
 * A mapper in another process: SET_MMAP_FLAGS(READ), then an mmap of
 * @off that prefaults and, the knob set, holds its mmap lock. After its
 * mmap returns it waits for a byte on the pipe @go (60 s at most; EOF once
 * the test is gone), then exits 0 if no entry of the mapping is present,
 * 1 if some are, 2 on any other failure.
 */
static pid_t start_mapper(unsigned long long off, size_t len, const int *go_pipe)
{
	pid_t pid = fork();

	if (pid == 0) {
		int go = go_pipe[0];

		close(go_pipe[1]);
		alarm(60);
		struct patdev_mmap_flags mf = { .flags = PATDEV_PREFAULT_READ };
		struct patdev_range_query r = { .len = len };
		int fd = open(DEV, O_RDWR);
		void *p;
		char c;

		if (fd < 0 || ioctl(fd, PATDEV_IOC_SET_MMAP_FLAGS, &mf))
			_exit(2);
		p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off);
		if (p == MAP_FAILED || read(go, &c, 1) != 1)
			_exit(2);
		r.addr = (unsigned long)p;
		if (ioctl(fd, PATDEV_IOC_RANGE_QUERY, &r))
			_exit(2);
		_exit(r.resident ? 1 : 0);
	}
	return pid;
}

static int exit_code(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Ends every hold now. */
static int release_holds(void)
{
	return patdev_write_long(HOLD_RELEASE, patdev_read_long(HOLD_RELEASE) + 1);
}

FIXTURE(hold) {
	int fd;
	size_t page;
	unsigned long long off;
	int go[2];
};

/* Starts a mapper (start_mapper()) and waits until it holds in its mmap. */
static pid_t start_held_mapper(struct __test_metadata *_metadata, unsigned long long off,
			       size_t len, const int *go_pipe)
{
	pid_t mapper;

	ASSERT_EQ(0, patdev_write_long(HOLD_KNOB, HOLD_MS));
	mapper = start_mapper(off, len, go_pipe);
	ASSERT_GT(mapper, 0);
	ASSERT_EQ(0, wait_value(HOLDING, 1, 10000)) TH_LOG("the mapper never held its mmap");
	return mapper;
}

/*
 * A revoker (DESTROY with REVOKE through the creator's file, from a forked
 * child) that is killed once it sleeps; returns once it is reaped.
 */
static void kill_sleeping_revoker(struct __test_metadata *_metadata, int fd,
				  unsigned long long off)
{
	pid_t revoker = fork();

	ASSERT_GE(revoker, 0);
	if (revoker == 0)
		_exit(patdev_destroy(fd, off, PATDEV_DESTROY_REVOKE) ? errno : 0);
	ASSERT_EQ(0, wait_sleeping(revoker, revoker)) TH_LOG("the revoker never slept");
	ASSERT_EQ(0, kill(revoker, SIGKILL));
	ASSERT_EQ(revoker, waitpid(revoker, NULL, 0));
}

FIXTURE_SETUP(hold)
{
	self->page = sysconf(_SC_PAGESIZE);
	patdev_need_debugfs(HOLD_KNOB);
	if (access(HOLD_KNOB, W_OK))
		SKIP(return, "module built without PATDEV_TEST_HOOKS=y");
	self->fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_ANON, NPAGES * self->page,
				   PATDEV_CACHE_WC, 0, 0, &self->off));
	ASSERT_EQ(0, pipe(self->go));
}

FIXTURE_TEARDOWN(hold)
{
	if (access(HOLD_KNOB, W_OK))
		return;
	patdev_write_long(HOLD_KNOB, 0);
	patdev_write_long(HOLD_CHANGE_KNOB, 0);
	release_holds();
	patdev_destroy(self->fd, self->off, 0);
	close(self->fd);
	close(self->go[0]);
	close(self->go[1]);
}

/*
 * The control of the tests below: a held mapper that nothing revokes or
 * changes keeps what its prefault entered (so that "no entry" there means
 * something), on both claim paths.
 */
TEST_F(hold, held_mapper_keeps_its_prefault)
{
	pid_t mapper = start_held_mapper(_metadata, self->off, NPAGES * self->page, self->go);

	ASSERT_EQ(0, release_holds());
	ASSERT_EQ(1, write(self->go[1], "g", 1));
	ASSERT_EQ(1, exit_code(mapper)) TH_LOG("the mapper's prefault entered nothing");
}

/*
 * The issue-18 scenario: a mapper's prefault has entered entries and its
 * mmap holds on. Through .mmap its vma is not linked yet: the revoker must
 * wait for it, and killed while it waits, the revocation must still wait
 * and zap (the killed revoker exits only once the mapper is done). Through
 * .mmap_prepare the vma is linked: the revocation completes at once. Either
 * way the mapper is left no entry and the name is gone.
 */
TEST_F(hold, revocation_leaves_a_held_mapper_no_entry)
{
	size_t len = NPAGES * self->page;
	struct patdev_objinfo info = { .pgoff = self->off / self->page };
	int prepared = patdev_mmap_prepared(), revoked = 0;
	long holding;
	pid_t mapper;

	ASSERT_LE(0, prepared) TH_LOG("the stats do not say which mmap claims");
	mapper = start_held_mapper(_metadata, self->off, len, self->go);
	if (prepared)
		revoked = patdev_destroy(self->fd, self->off, PATDEV_DESTROY_REVOKE);
	else
		kill_sleeping_revoker(_metadata, self->fd, self->off);
	ASSERT_EQ(0, revoked);
	/* Through .mmap_prepare the mapper still holds; through .mmap it is done. */
	holding = patdev_read_long(HOLDING);
	EXPECT_EQ(prepared, holding)
		TH_LOG("%s", prepared ? "the revocation waited for a mapper whose vma is linked" :
					"the killed revoker left while the mapper held its claim");
	ASSERT_EQ(1, write(self->go[1], "g", 1));
	ASSERT_EQ(0, exit_code(mapper)) TH_LOG("the mapper kept entries of the revoked object");
	/* The name went first. */
	ASSERT_EQ(-1, ioctl(self->fd, PATDEV_IOC_OBJINFO, &info));
	ASSERT_EQ(ENXIO, errno);
}

struct change_arg {
	int fd;
	unsigned long long off;
	int ret;
};

static void *change_thread(void *p)
{
	struct change_arg *a = p;
	struct patdev_set_cache sc = { .offset = a->off, .cache = PATDEV_CACHE_WB };

	a->ret = ioctl(a->fd, PATDEV_IOC_SET_CACHE, &sc) ? errno : 0;
	return NULL;
}

/*
 * A revocation waiting for a mode change under way (held after its wait
 * for claims) has done nothing yet: killed there, it leaves at once and
 * the object keeps its name; the change then completes.
 */
TEST_F(hold, killed_revoker_waiting_for_a_change_leaves_at_once)
{
	struct patdev_objinfo info = { .pgoff = self->off / self->page };
	struct change_arg a = { .fd = self->fd, .off = self->off };
	pthread_t th;
	long holding;

	/* Held until released below (10 s at most). */
	ASSERT_EQ(0, patdev_write_long(HOLD_CHANGE_KNOB, 10000));
	ASSERT_EQ(0, pthread_create(&th, NULL, change_thread, &a));
	ASSERT_EQ(0, wait_value(HOLDING, 1, 10000)) TH_LOG("the change never held");
	kill_sleeping_revoker(_metadata, self->fd, self->off);
	holding = patdev_read_long(HOLDING);
	EXPECT_EQ(1, holding) TH_LOG("the killed revoker waited for the change to end");
	EXPECT_EQ(0, ioctl(self->fd, PATDEV_IOC_OBJINFO, &info)) TH_LOG("the name went");
	ASSERT_EQ(0, release_holds());
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(0, a.ret);
	EXPECT_EQ(PATDEV_CACHE_WB, (ioctl(self->fd, PATDEV_IOC_OBJINFO, &info), info.cache));
}

/*
 * A mode change meets the same held mapper, whose prefault entered entries
 * of the old mode. Through .mmap the zap cannot see its vma yet: the
 * change waits for the mapper before it zaps. Through .mmap_prepare it
 * needs no wait. Either way no entry of the old mode is left once the
 * change has returned.
 */
TEST_F(hold, change_leaves_a_held_mapper_no_old_entry)
{
	struct patdev_set_cache sc = { .offset = self->off, .cache = PATDEV_CACHE_WB };
	size_t len = NPAGES * self->page;
	int prepared = patdev_mmap_prepared();
	pid_t mapper;

	ASSERT_LE(0, prepared) TH_LOG("the stats do not say which mmap claims");
	mapper = start_held_mapper(_metadata, self->off, len, self->go);
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_SET_CACHE, &sc));
	/* Through .mmap_prepare the mapper still holds; through .mmap it is done. */
	EXPECT_EQ(prepared, patdev_read_long(HOLDING))
		TH_LOG("%s", prepared ? "the change waited for a mapper whose vma is linked" :
					"the change returned while the mapper held on");
	ASSERT_EQ(1, write(self->go[1], "g", 1));
	ASSERT_EQ(0, exit_code(mapper)) TH_LOG("the mapper kept entries of the old mode");
}

/*
 * A change is under way (held after its wait for claims); meanwhile vivid
 * (built into the debug kernel: vb2-vmalloc instance 0) imports a dma-buf
 * of the object, which pins it with a kernel mapping in the old mode. The
 * pin does not wait for the change, so the change must give up at its end
 * (EBUSY), leaving the object and the importer's mapping in the old mode.
 */
TEST_F(hold, a_pin_during_a_change_makes_it_give_up)
{
	const size_t len = 256 * 1024;
	struct patdev_set_cache wb = { .cache = PATDEV_CACHE_WB };
	struct patdev_objinfo info = { 0 };
	unsigned long long off;
	int vfd, dfd, status;
	__u32 sizeimage;
	pid_t changer;

	vfd = patdev_vivid_open(0);
	ASSERT_LE(0, vfd) TH_LOG("no vivid (the debug kernel has it built in)");
	ASSERT_EQ(0, patdev_vivid_setup(vfd, &sizeimage));
	ASSERT_EQ(0, patdev_vivid_reqbufs(vfd, 2));
	ASSERT_EQ(0, patdev_create(self->fd, PATDEV_OBJ_SG, len, PATDEV_CACHE_WC, 6, 0, &off));
	dfd = patdev_export(self->fd, off, PATDEV_EXPORT_WRITE);
	ASSERT_LE(0, dfd);
	/* Held until released below (10 s at most). */
	ASSERT_EQ(0, patdev_write_long(HOLD_CHANGE_KNOB, 10000));
	changer = fork();
	ASSERT_GE(changer, 0);
	if (changer == 0) {
		wb.offset = off;
		_exit(ioctl(self->fd, PATDEV_IOC_SET_CACHE, &wb) ? errno : 0);
	}
	ASSERT_EQ(0, wait_value(HOLDING, 1, 10000)) TH_LOG("the change never held");
	/* The importer's vmap: a pin, taken while the change is under way. */
	ASSERT_EQ(0, patdev_vivid_qbuf(vfd, 0, dfd, len));
	EXPECT_EQ(1, patdev_read_long(HOLDING)) TH_LOG("the change ended before the pin");
	ASSERT_EQ(0, release_holds());
	ASSERT_EQ(changer, waitpid(changer, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == EBUSY)
		TH_LOG("the change ended with %d, not EBUSY", WEXITSTATUS(status));
	info.pgoff = off / self->page;
	ASSERT_EQ(0, ioctl(self->fd, PATDEV_IOC_OBJINFO, &info));
	EXPECT_EQ(patdev_pat_on() ? PATDEV_CACHE_WC : PATDEV_CACHE_UC_MINUS, info.cache);
	/* Let go, the change goes through. */
	ASSERT_EQ(0, patdev_vivid_reqbufs(vfd, 0));
	wb.offset = off;
	EXPECT_EQ(0, ioctl(self->fd, PATDEV_IOC_SET_CACHE, &wb));
	close(dfd);
	close(vfd);
	EXPECT_EQ(0, patdev_destroy(self->fd, off, 0));
}

TEST_HARNESS_MAIN
