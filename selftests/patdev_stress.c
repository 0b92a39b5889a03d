// SPDX-License-Identifier: GPL-2.0
/*
 * patdev_stress: bounded concurrency stress for /dev/patdev, run right
 * after the module loads. Worker processes race the first mmap at offset 0
 * with different sizes, then loop for a fixed time over mmap, munmap,
 * partial munmap, fork with mappings, prefault, MADV_DONTNEED (refused on
 * VM_PFNMAP), close while mapped, pread/pwrite, while a thread in each
 * worker hammers the query ioctls. Each worker owns one page of the shared
 * object and checks its own pattern there to the end. Workers also create
 * objects of their own, publish their offsets, and destroy them (half the
 * time revoking them) while the other workers map them with a prefault at
 * mmap and prefault them again: every answer must be a success or ENXIO
 * (destroyed, or revoked under the prefault), and a revoked mapping must
 * have no entry left. Tracked objects are written by a forked child while
 * the creator clears their modified/referenced state and changes their
 * cache mode under it: the data must survive and the state stay exact.
 * Where mappings get 2 MiB entries (PATDEV_FEAT_HUGE), processes holding
 * one fork while the object changes mode and is revoked: no child may keep
 * an entry of an old mode, or any entry after the revocation. Exported
 * objects (dma-bufs) are mapped, prefaulted, imported by vgem or queued
 * into vivid (where they are loaded: vivid's kernel mapping pins the
 * object on every kernel, vgem's import where it maps the attachment) and
 * let go by a thread while the creator changes their mode,
 * revokes them and closes their descriptor: every answer is a success,
 * EBUSY (an importer pins the object) or ENXIO (revoked), and the data
 * survives every change. Afterwards the module holds no claim.
 *
 * Usage: patdev_stress [seconds] [workers]. Prints what it did; exit 0 on
 * success.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "patdev_selftest.h"
#include "patdev_user.h"

#define DEV "/dev/patdev"

static long page;
static size_t obj_pages;
static int have_huge;	/* PATDEV_FEAT_HUGE: 2 MiB entries, and forks copying them */

#define MAXWORKERS 64

struct shared {
	unsigned long ops;
	unsigned long queries;
	unsigned long revoked;
	unsigned long others_mapped;
	unsigned long tracked;
	unsigned long forked;
	unsigned long exported;
	unsigned long busy;
	int failed;
	/* Offsets and sizes of the workers' created objects, 0 when none. */
	unsigned long long offsets[MAXWORKERS];
	unsigned long long sizes[MAXWORKERS];
};

static void fail(struct shared *sh, int w, const char *what)
{
	fprintf(stderr, "stress: worker %d: %s: %s\n", w, what, strerror(errno));
	sh->failed = 1;
}

static unsigned char pattern(int w, unsigned long gen, size_t i)
{
	return (unsigned char)(w * 31 + gen * 7 + i);
}

struct querier {
	int fd;
	uintptr_t addr;		/* __atomic access: the worker moves it */
	int stop;
	unsigned long count;
	int bad;
};

/* Races the worker's own munmaps: EINVAL is a fine answer, nothing else. */
static void *query_thread(void *arg)
{
	struct querier *q = arg;
	struct patdev_range_query r;
	struct patdev_query pq;

	while (!__atomic_load_n(&q->stop, __ATOMIC_RELAXED)) {
		uintptr_t a = __atomic_load_n(&q->addr, __ATOMIC_RELAXED);

		memset(&pq, 0, sizeof(pq));
		pq.addr = a;
		if (ioctl(q->fd, PATDEV_IOC_QUERY, &pq) && errno != EINVAL)
			q->bad = errno;
		memset(&r, 0, sizeof(r));
		r.addr = a;
		r.len = 4 * page;
		if (ioctl(q->fd, PATDEV_IOC_RANGE_QUERY, &r) && errno != EINVAL)
			q->bad = errno;
		q->count++;
	}
	return NULL;
}

static int check_own_page(unsigned char *p, int w, unsigned long gen)
{
	size_t i;

	for (i = 0; i < (size_t)page; i++)
		if (p[i] != pattern(w, gen, i))
			return -1;
	return 0;
}

static void fill_own_page(unsigned char *p, int w, unsigned long gen)
{
	size_t i;

	for (i = 0; i < (size_t)page; i++)
		p[i] = pattern(w, gen, i);
}

static int prefault_ok(int fd, void *p, size_t len, unsigned int *seed)
{
	struct patdev_prefault pf = {
		.addr = (uintptr_t)p,
		.len = len,
		.flags = rand_r(seed) & 1 ? PATDEV_PREFAULT_READ : PATDEV_PREFAULT_WRITE,
	};

	return ioctl(fd, PATDEV_IOC_PREFAULT, &pf) || pf.npages != obj_pages;
}

/*
 * Creates an object, uses it, destroys it; revokes half the time. Half the
 * objects are one 2 MiB chunk, which mappings get as one 2 MiB entry where
 * the kernel has them; a page unmapped in their middle splits it.
 */
static int own_object(int fd, int w, struct shared *sh, unsigned int *seed)
{
	int big = rand_r(seed) & 1;
	struct patdev_create c = {
		.kind = big || rand_r(seed) & 1 ? PATDEV_OBJ_SG : PATDEV_OBJ_ANON,
		.size = big ? 2UL << 20 : 4 * page, .cache = PATDEV_CACHE_WC,
		.sg_order = big ? 9 : 0,
	};
	size_t npages = c.size / page, i;
	int revoke = rand_r(seed) & 1;
	struct patdev_destroy d = { .flags = revoke ? PATDEV_DESTROY_REVOKE : 0 };
	struct patdev_range_query r = { .len = c.size };
	unsigned char *m;

	if (ioctl(fd, PATDEV_IOC_CREATE, &c))
		return -1;
	__atomic_store_n(&sh->sizes[w], c.size, __ATOMIC_RELAXED);
	__atomic_store_n(&sh->offsets[w], c.offset, __ATOMIC_RELAXED);
	m = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, c.offset);
	if (m == MAP_FAILED)
		return -1;
	for (i = 0; i < npages; i++)
		m[i * page] = (unsigned char)(w + i);
	if (big && munmap(m + npages / 2 * page, page))
		return -1;
	for (i = 0; i < npages; i++)
		if ((!big || i != npages / 2) && m[i * page] != (unsigned char)(w + i))
			return -1;
	/* Let the others find it for a moment. */
	usleep(rand_r(seed) % 2000);
	__atomic_store_n(&sh->offsets[w], 0, __ATOMIC_RELAXED);
	d.offset = c.offset;
	if (ioctl(fd, PATDEV_IOC_DESTROY, &d))
		return -1;
	r.addr = (uintptr_t)m;
	r.len = big ? npages / 2 * page : c.size;
	if (ioctl(fd, PATDEV_IOC_RANGE_QUERY, &r) || (revoke && r.resident))
		return -1;
	if (revoke)
		__atomic_fetch_add(&sh->revoked, 1, __ATOMIC_RELAXED);
	if (big)
		return munmap(m, npages / 2 * page) ||
		       munmap(m + (npages / 2 + 1) * page, (npages / 2 - 1) * page);
	return munmap(m, c.size);
}

/*
 * Maps another worker's object, prefaulting at mmap (2 MiB entries too,
 * where they can be), then prefaults again.
 */
static int others_object(int fd_prefault, int w, int nworkers, struct shared *sh,
			 unsigned int *seed)
{
	int other = rand_r(seed) % nworkers;
	unsigned long long off = __atomic_load_n(&sh->offsets[other], __ATOMIC_RELAXED);
	unsigned long long size = __atomic_load_n(&sh->sizes[other], __ATOMIC_RELAXED);
	struct patdev_prefault pf = { .flags = PATDEV_PREFAULT_READ };
	unsigned char *m;

	if (!off || !size)
		return 0;
	/* A size of the worker's next object maps too much or too little: both work. */
	m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd_prefault, off);
	if (m == MAP_FAILED)
		return errno == ENXIO ? 0 : -1;
	pf.addr = (uintptr_t)m;
	pf.len = size;
	if (ioctl(fd_prefault, PATDEV_IOC_PREFAULT, &pf) && errno != ENXIO)
		return -1;
	__atomic_fetch_add(&sh->others_mapped, 1, __ATOMIC_RELAXED);
	return munmap(m, size);
}

static int mr_op(int fd, unsigned long long off, __u64 npages, __u64 clear, struct patdev_mr *m)
{
	memset(m, 0, sizeof(*m));
	m->offset = off;
	m->npages = npages;
	m->flags = clear;
	return ioctl(fd, clear ? PATDEV_IOC_MR_CLEAR : PATDEV_IOC_MR_QUERY, m);
}

/*
 * A tracked object: a child writes and reads its pages in a loop while
 * this process clears their state and moves the object between modes.
 * Then, with the child gone: the data is intact, and after a clear of
 * everything one write marks exactly one page modified.
 */
static int tracked_object(int fd, int w, unsigned int *seed)
{
	static const __u64 modes[] = { PATDEV_CACHE_WB, PATDEV_CACHE_WC, PATDEV_CACHE_UC_MINUS };
	const size_t npages = 8;
	struct patdev_create c = {
		.kind = PATDEV_OBJ_ANON, .size = npages * page, .cache = PATDEV_CACHE_WC,
		.flags = PATDEV_CREATE_TRACK,
	};
	struct patdev_set_cache sc = { 0 };
	int *stop;
	struct patdev_mr m;
	int i, status, ret = -1;
	unsigned char *p;
	pid_t pid;
	size_t j;

	if (ioctl(fd, PATDEV_IOC_CREATE, &c))
		return -1;
	p = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, c.offset);
	stop = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || stop == MAP_FAILED)
		return -1;
	__atomic_store_n(stop, 0, __ATOMIC_RELAXED);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		unsigned long round = 0;

		while (!__atomic_load_n(stop, __ATOMIC_RELAXED)) {
			for (j = 0; j < npages; j++)
				p[j * page + round % page] = (unsigned char)(w + j);
			round++;
		}
		_exit(0);
	}
	sc.offset = c.offset;
	for (i = 0; i < 40; i++) {
		if (rand_r(seed) % 2 && mr_op(fd, c.offset, npages, 1 + rand_r(seed) % 3, &m))
			goto out;
		if (rand_r(seed) % 4 == 0) {
			sc.cache = modes[rand_r(seed) % 3];
			if (ioctl(fd, PATDEV_IOC_SET_CACHE, &sc))
				goto out;
		}
		if (mr_op(fd, c.offset, npages, 0, &m))
			goto out;
		usleep(rand_r(seed) % 500);
	}
	__atomic_store_n(stop, 1, __ATOMIC_RELAXED);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		goto out;
	pid = 0;
	for (j = 0; j < npages; j++)
		if (p[j * page] != (unsigned char)(w + j) && p[j * page])
			goto out;
	if (mr_op(fd, c.offset, npages, PATDEV_MR_MODIFIED | PATDEV_MR_REFERENCED, &m))
		goto out;
	p[3 * page + 1] = 1;
	if (mr_op(fd, c.offset, npages, 0, &m) || m.modified != 1 || m.referenced != 1)
		goto out;
	ret = 0;
out:
	if (pid > 0) {
		__atomic_store_n(stop, 1, __ATOMIC_RELAXED);
		waitpid(pid, &status, 0);
	}
	munmap(p, c.size);
	munmap(stop, page);
	if (patdev_destroy(fd, c.offset, 0))
		ret = -1;
	return ret;
}

/*
 * Forks of a process holding a 2 MiB entry, racing mode changes and then a
 * revocation. The core copies 2 MiB entries without the page-table lock
 * (copy_huge_pmd(), 6.12 on), so a fork could hand its child an entry a
 * concurrent zap had already passed; the module waits for forks that began
 * before a change, and a fork during one drops the parent's entries before
 * the copy (patdev_vm_open()). Each child, once told the changes
 * are over, must hold no entry of another mode than the last, and once
 * told the revocation is over, no entry at all.
 */
#define FORK_KIDS 8

struct forker {
	int fd;
	void *m;
	int *phase;	/* shared: 1 changes over, 2 revocation over */
	__u64 *mode;	/* shared: the mode of the last change */
	int stop;
	int nkids;
	pid_t kids[2 * FORK_KIDS];
};

static void fork_child(int fd, void *m, int *phase, __u64 *mode)
{
	struct patdev_query q = { .addr = (uintptr_t)m };
	struct patdev_range_query r = { .addr = (uintptr_t)m, .len = 2UL << 20 };
	int waited;

	for (waited = 0; __atomic_load_n(phase, __ATOMIC_ACQUIRE) < 1; waited++)
		if (usleep(1000) || waited > 60000)
			_exit(2);
	if (ioctl(fd, PATDEV_IOC_QUERY, &q))
		_exit(2);
	if ((q.flags & PATDEV_QUERY_PRESENT) && q.cache != __atomic_load_n(mode, __ATOMIC_RELAXED))
		_exit(3);
	for (waited = 0; __atomic_load_n(phase, __ATOMIC_ACQUIRE) < 2; waited++)
		if (usleep(1000) || waited > 60000)
			_exit(2);
	_exit(ioctl(fd, PATDEV_IOC_RANGE_QUERY, &r) || r.resident ? 4 : 0);
}

static void *forker_thread(void *arg)
{
	struct forker *f = arg;

	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED) && f->nkids < 2 * FORK_KIDS) {
		pid_t pid = fork();

		if (pid == 0)
			fork_child(f->fd, f->m, f->phase, f->mode);
		if (pid < 0)
			break;
		f->kids[f->nkids++] = pid;
		usleep(200);
	}
	return NULL;
}

static int forking_object(int fd, unsigned int *seed)
{
	static const __u64 modes[] = { PATDEV_CACHE_WB, PATDEV_CACHE_WC, PATDEV_CACHE_UC_MINUS };
	struct patdev_create c = {
		.kind = PATDEV_OBJ_SG, .size = 2UL << 20, .cache = PATDEV_CACHE_WC, .sg_order = 9,
	};
	struct patdev_prefault pf = { .len = 2UL << 20, .flags = PATDEV_PREFAULT_READ };
	struct patdev_set_cache sc = { 0 };
	struct patdev_objinfo info = { 0 };
	struct forker f = { .fd = fd };
	int *phase;
	pthread_t th;
	int i, status, ret = 0;

	phase = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (phase == MAP_FAILED || ioctl(fd, PATDEV_IOC_CREATE, &c))
		return -1;
	f.phase = phase;
	f.mode = (__u64 *)(phase + 2);
	f.m = mmap(NULL, c.size, PROT_READ, MAP_SHARED, fd, c.offset);
	if (f.m == MAP_FAILED)
		return -1;
	pf.addr = (uintptr_t)f.m;
	sc.offset = c.offset;
	info.pgoff = c.offset / page;
	if (pthread_create(&th, NULL, forker_thread, &f))
		return -1;
	for (i = 0; i < 6 && !ret; i++) {
		sc.cache = modes[rand_r(seed) % 3];
		ret = ioctl(fd, PATDEV_IOC_PREFAULT, &pf) || ioctl(fd, PATDEV_IOC_SET_CACHE, &sc);
	}
	ret = ret || ioctl(fd, PATDEV_IOC_PREFAULT, &pf) || ioctl(fd, PATDEV_IOC_OBJINFO, &info);
	__atomic_store_n(&f.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	__atomic_store_n(f.mode, info.cache, __ATOMIC_RELAXED);
	__atomic_store_n(phase, 1, __ATOMIC_RELEASE);
	/* The revocation, under forks again. */
	f.stop = 0;
	if (!ret && pthread_create(&th, NULL, forker_thread, &f) == 0) {
		ret = patdev_destroy(fd, c.offset, PATDEV_DESTROY_REVOKE);
		__atomic_store_n(&f.stop, 1, __ATOMIC_RELAXED);
		pthread_join(th, NULL);
	} else {
		patdev_destroy(fd, c.offset, PATDEV_DESTROY_REVOKE);
		ret = -1;
	}
	__atomic_store_n(phase, 2, __ATOMIC_RELEASE);
	for (i = 0; i < f.nkids; i++)
		if (waitpid(f.kids[i], &status, 0) != f.kids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fprintf(stderr, "stress: a forked child found %s\n",
				WIFEXITED(status) && WEXITSTATUS(status) == 3 ?
				"an entry of an old mode" : WIFEXITED(status) &&
				WEXITSTATUS(status) == 4 ? "an entry after the revocation" :
				"nothing it could check");
			ret = -1;
		}
	munmap(f.m, c.size);
	munmap(phase, page);
	return ret ? -1 : 0;
}

/*
 * vivid's vb2-vmalloc instance, set up, or -1: one worker holds it, as a
 * queue has one owner.
 */
static int vivid_open_small(void)
{
	int fd = patdev_vivid_open(0);
	__u32 sizeimage;

	if (fd >= 0 && patdev_vivid_setup(fd, &sizeimage)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

struct importer {
	int dmabuf, vgem, vivid, stop, bad;
	size_t len;
	unsigned int seed;
};

/*
 * Maps the dma-buf, prefaults it, has vgem import it and let it go, again
 * and again, until told to stop; after a revocation only ENXIO may come.
 */
static void *importer_thread(void *arg)
{
	struct importer *im = arg;

	while (!__atomic_load_n(&im->stop, __ATOMIC_RELAXED) && !im->bad) {
		struct patdev_prefault pf = { .len = im->len, .flags = PATDEV_PREFAULT_WRITE };
		unsigned char *m = mmap(NULL, im->len, PROT_READ | PROT_WRITE, MAP_SHARED,
					im->dmabuf, 0);
		__u32 handle;
		int fd;

		if (m == MAP_FAILED) {
			if (errno != ENXIO)
				im->bad = errno;
			continue;
		}
		/* Any patdev file asks for patdev's mappings: a dma-buf's count. */
		fd = open(DEV, O_RDWR);
		pf.addr = (uintptr_t)m;
		if (fd < 0 || (ioctl(fd, PATDEV_IOC_PREFAULT, &pf) && errno != ENXIO))
			im->bad = errno;
		if (fd >= 0)
			close(fd);
		if (im->vivid >= 0) {
			/* vb2-vmalloc's QBUF vmaps (a pin) until REQBUFS(0) lets go. */
			if (!patdev_vivid_reqbufs(im->vivid, 2) &&
			    !patdev_vivid_qbuf(im->vivid, 0, im->dmabuf, im->len))
				usleep(rand_r(&im->seed) % 500);
			else if (errno != EFAULT)	/* vb2's answer to a failed vmap */
				im->bad = errno;
			if (patdev_vivid_reqbufs(im->vivid, 0))
				im->bad = errno;
		} else if (im->vgem >= 0) {
			/* Where the import maps the attachment: a pin. */
			if (!patdev_vgem_import(im->vgem, im->dmabuf, &handle)) {
				usleep(rand_r(&im->seed) % 500);
				if (patdev_vgem_close(im->vgem, handle))
					im->bad = errno;
			} else if (errno != ENXIO && errno != EBUSY) {
				im->bad = errno;
			}
		}
		munmap(m, im->len);
	}
	return NULL;
}

/*
 * An exported object under an importer thread: its creator changes its
 * mode (EBUSY while vgem's import pins it), revokes it (retried while
 * pinned) and closes the dma-buf's descriptor while the thread still maps
 * and imports through it. The data written first survives every change.
 */
static int exported_object(int fd, int vgem, int vivid, struct shared *sh, unsigned int *seed)
{
	const size_t len = 2UL << 20;
	struct importer im = { .vgem = vgem, .vivid = vivid, .len = len, .seed = *seed };
	unsigned long long off;
	unsigned char *m;
	pthread_t th;
	int i, ret = -1, tries, dmabuf;

	if (patdev_create(fd, PATDEV_OBJ_SG, len, PATDEV_CACHE_WC, rand_r(seed) % 2 ? 9 : 0, 0,
			  &off))
		return -1;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	dmabuf = patdev_export(fd, off, PATDEV_EXPORT_WRITE);
	/* The thread's own descriptor: the creator closes its own under it. */
	im.dmabuf = dmabuf < 0 ? -1 : dup(dmabuf);
	if (m == MAP_FAILED || im.dmabuf < 0)
		return -1;
	patdev_fill_pattern(m, len, (unsigned int)off);
	if (pthread_create(&th, NULL, importer_thread, &im))
		return -1;
	for (i = 0; i < 6; i++) {
		struct patdev_set_cache sc = { .offset = off, .cache = i % 3 };

		usleep(rand_r(seed) % 1000);
		if (ioctl(fd, PATDEV_IOC_SET_CACHE, &sc)) {
			if (errno != EBUSY)
				goto out;
			__atomic_fetch_add(&sh->busy, 1, __ATOMIC_RELAXED);
		}
		if (patdev_check_pattern(m, len, (unsigned int)off))
			goto out;
	}
	if (rand_r(seed) % 2) {
		close(dmabuf);	/* while the thread maps and imports the dma-buf */
		dmabuf = -1;
	}
	for (tries = 0; patdev_destroy(fd, off, PATDEV_DESTROY_REVOKE); tries++) {
		if (errno != EBUSY || tries > 100000)
			goto out;
		usleep(100);
	}
	ret = 0;
out:
	__atomic_store_n(&im.stop, 1, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	if (im.bad) {
		errno = im.bad;
		ret = -1;
	}
	close(im.dmabuf);
	if (dmabuf >= 0)
		close(dmabuf);
	munmap(m, len);
	if (ret)
		patdev_destroy(fd, off, 0);
	return ret;
}

static void worker(int w, int nworkers, double seconds, struct shared *sh)
{
	size_t len = obj_pages * page, own = (size_t)w * page;
	unsigned long gen = 0, ops = 0;
	unsigned int seed = 1234 + w;
	struct querier q = { 0 };
	unsigned char *p, buf[64];
	struct timespec t0, t;
	struct patdev_mmap_flags mf = { .flags = PATDEV_PREFAULT_READ };
	pthread_t thread;
	int fd, fd_prefault, status, vgem = patdev_vgem_open();
	/* Worker 0 pins through vivid, the others through vgem's imports. */
	int vivid = w ? -1 : vivid_open_small();

	fd = open(DEV, O_RDWR);
	fd_prefault = open(DEV, O_RDWR);
	if (fd < 0 || fd_prefault < 0 || ioctl(fd_prefault, PATDEV_IOC_SET_MMAP_FLAGS, &mf))
		return fail(sh, w, "open");
	p = patdev_map(fd, len, PROT_READ | PROT_WRITE, PATDEV_PGOFF_ANON, 0);
	if (p == MAP_FAILED)
		return fail(sh, w, "mmap");
	fill_own_page(p + own, w, gen);
	q.fd = fd;
	__atomic_store_n(&q.addr, (uintptr_t)p, __ATOMIC_RELAXED);
	if (pthread_create(&thread, NULL, query_thread, &q))
		return fail(sh, w, "pthread_create");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		unsigned char *m, *n;
		size_t mlen;
		int fd2;
		pid_t pid;

		switch (rand_r(&seed) % 13) {
		case 0:	/* new mapping of random length, check, rewrite */
			mlen = own + (1 + rand_r(&seed) % obj_pages) * page;
			m = patdev_map(fd, mlen, PROT_READ | PROT_WRITE, PATDEV_PGOFF_ANON, 0);
			if (m == MAP_FAILED || check_own_page(m + own, w, gen))
				return fail(sh, w, "remap check");
			fill_own_page(m + own, w, ++gen);
			__atomic_store_n(&q.addr, (uintptr_t)m, __ATOMIC_RELAXED);
			if (munmap(m, mlen))
				return fail(sh, w, "munmap");
			break;
		case 1:	/* partial munmap of a 3-page mapping */
			m = patdev_map(fd, 3 * page, PROT_READ, PATDEV_PGOFF_SG, 0);
			if (m == MAP_FAILED || munmap(m + page, page) ||
			    munmap(m, page) || munmap(m + 2 * page, page))
				return fail(sh, w, "partial munmap");
			break;
		case 2:	/* fork with the mapping; the child checks and exits */
			pid = fork();
			if (pid == 0)
				_exit(check_own_page(p + own, w, gen) ? 1 : 0);
			if (pid < 0 || waitpid(pid, &status, 0) != pid ||
			    !WIFEXITED(status) || WEXITSTATUS(status))
				return fail(sh, w, "fork check");
			break;
		case 3:	/* prefault read and write */
			if (prefault_ok(fd, p, len, &seed))
				return fail(sh, w, "prefault");
			break;
		case 4:	/* MADV_DONTNEED is refused on VM_PFNMAP: data stays */
			if (madvise(p, len, MADV_DONTNEED) != -1 || errno != EINVAL)
				return fail(sh, w, "madvise");
			break;
		case 5:	/* close the file while its mapping lives */
			fd2 = open(DEV, O_RDWR);
			n = fd2 < 0 ? MAP_FAILED :
				patdev_map(fd2, own + page, PROT_READ, PATDEV_PGOFF_ANON, 0);
			if (n == MAP_FAILED)
				return fail(sh, w, "close-while-mapped map");
			close(fd2);
			if (check_own_page(n + own, w, gen) || munmap(n, own + page))
				return fail(sh, w, "close-while-mapped check");
			break;
		case 6:	/* pwrite own page, read it back through the mapping */
			memset(buf, 0, sizeof(buf));
			if (pread(fd, buf, sizeof(buf), own) != sizeof(buf) ||
			    memcmp(buf, p + own, sizeof(buf)))
				return fail(sh, w, "pread");
			break;
		case 7:	/* an object of its own, destroyed or revoked under the others */
			if (own_object(fd, w, sh, &seed))
				return fail(sh, w, "own object");
			break;
		case 8:	/* another worker's object, maybe destroyed or revoked meanwhile */
			if (others_object(fd_prefault, w, nworkers, sh, &seed))
				return fail(sh, w, "someone else's object");
			break;
		case 9:	/* a tracked object under writes, clears and mode changes */
			if (tracked_object(fd, w, &seed))
				return fail(sh, w, "tracked object");
			__atomic_fetch_add(&sh->tracked, 1, __ATOMIC_RELAXED);
			break;
		case 10: /* forks under mode changes and a revocation */
			if (!have_huge)
				break;
			if (forking_object(fd, &seed))
				return fail(sh, w, "forks under changes and a revocation");
			__atomic_fetch_add(&sh->forked, 1, __ATOMIC_RELAXED);
			break;
		case 11: /* a dma-buf under importers, mode changes and a revocation */
			if (exported_object(fd, vgem, vivid, sh, &seed))
				return fail(sh, w, "exported object");
			__atomic_fetch_add(&sh->exported, 1, __ATOMIC_RELAXED);
			break;
		default: /* the mmap rules keep answering */
			if (mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, 0) != MAP_FAILED ||
			    errno != EINVAL)
				return fail(sh, w, "MAP_PRIVATE");
			break;
		}
		ops++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (!sh->failed &&
		 (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);

	__atomic_store_n(&q.addr, (uintptr_t)p, __ATOMIC_RELAXED);
	__atomic_store_n(&q.stop, 1, __ATOMIC_RELAXED);
	pthread_join(thread, NULL);
	if (q.bad) {
		errno = q.bad;
		return fail(sh, w, "query thread");
	}
	if (check_own_page(p + own, w, gen))
		return fail(sh, w, "final pattern");
	__atomic_fetch_add(&sh->ops, ops, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sh->queries, q.count, __ATOMIC_RELAXED);
	munmap(p, len);
	close(fd_prefault);
	close(fd);
	if (vgem >= 0)
		close(vgem);
	if (vivid >= 0)
		close(vivid);
}

/*
 * Only the objects there were before (the scatter/gather object, the BARs
 * of devices bound to patdev: @want_objs) and the anonymous one are left,
 * with the RAM objects' pages: nothing leaked.
 */
static int check_stats(long want_objs, size_t want_pages)
{
	long objs, pages, claims;

	if (patdev_stats_all(&objs, &pages, &claims)) {
		fprintf(stderr, "stress: cannot read the module's stats\n");
		return -1;
	}
	printf("stress: afterwards %ld objects, %ld pages, %ld claims held ", objs, pages, claims);
	printf("(expected %ld, %zu, 0)\n", want_objs, want_pages);
	return objs == want_objs && pages == (long)want_pages && !claims ? 0 : -1;
}

/* Racing first mmaps of different sizes: exactly one of them sizes it. */
static int race_first_mmap(int fd, int nworkers)
{
	struct patdev_objinfo info;
	int i, status, ok = 1;

	if (patdev_objinfo(fd, PATDEV_PGOFF_ANON, &info) != -1 || errno != ENOENT) {
		fprintf(stderr, "stress: needs a freshly loaded module\n");
		return -1;
	}
	for (i = 0; i < nworkers; i++) {
		if (fork() == 0) {
			size_t len = (nworkers + 4 * i) * page;
			int f = open(DEV, O_RDWR);
			void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, f, 0);

			_exit(p == MAP_FAILED);
		}
	}
	for (i = 0; i < nworkers; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			ok = 0;
	if (!ok || patdev_objinfo(fd, PATDEV_PGOFF_ANON, &info))
		return -1;
	obj_pages = info.size / page;
	if (obj_pages < (size_t)nworkers || (obj_pages - nworkers) % 4 ||
	    obj_pages >= (size_t)nworkers * 5)
		return -1;
	printf("stress: %d racing first mmaps made one object of %zu pages\n", nworkers, obj_pages);
	return 0;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 10;
	int nworkers = argc > 2 ? atoi(argv[2]) : 4;
	struct patdev_objinfo anon, sg;
	struct patdev_version version;
	long objs0 = -1, pages0, claims0;
	struct shared *sh;
	int fd, w, status, ok = 1;

	page = sysconf(_SC_PAGESIZE);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fd = open(DEV, O_RDWR);
	/* Before the first mmap at offset 0 made the anonymous object. */
	if (!patdev_stats_all(&objs0, &pages0, &claims0) &&
	    !patdev_objinfo(fd, PATDEV_PGOFF_ANON, &anon))
		objs0--;
	if (sh == MAP_FAILED || fd < 0 || objs0 < 0 || nworkers < 1 || nworkers > MAXWORKERS ||
	    ioctl(fd, PATDEV_IOC_VERSION, &version) || race_first_mmap(fd, nworkers)) {
		fprintf(stderr, "stress: setup failed\n");
		return 1;
	}
	have_huge = !!(version.features & PATDEV_FEAT_HUGE);
	for (w = 0; w < nworkers; w++) {
		if (fork() == 0) {
			worker(w, nworkers, seconds, sh);
			_exit(sh->failed);
		}
	}
	for (w = 0; w < nworkers; w++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			ok = 0;
	if (patdev_objinfo(fd, PATDEV_PGOFF_ANON, &anon) ||
	    patdev_objinfo(fd, PATDEV_PGOFF_SG, &sg) ||
	    anon.nmaps || sg.nmaps) {
		fprintf(stderr, "stress: mappings left: anon %llu sg %llu\n",
			(unsigned long long)anon.nmaps, (unsigned long long)sg.nmaps);
		ok = 0;
	}
	if (check_stats(objs0 + 1, obj_pages + sg.size / page))
		ok = 0;
	printf("stress: %d processes (each + 1 query thread), %.0f s, %lu operations, ",
	       nworkers, seconds, sh->ops);
	printf("%lu query rounds, %lu revocations, %lu mappings of another's object, ",
	       sh->queries, sh->revoked, sh->others_mapped);
	printf("%lu tracked objects under clears and mode changes, ", sh->tracked);
	printf("%lu 2 MiB objects under forks, mode changes and a revocation, ", sh->forked);
	printf("%lu dma-bufs under importers (%lu changes refused while pinned): %s\n",
	       sh->exported, sh->busy, ok && !sh->failed ? "PASS" : "FAIL");
	close(fd);
	return !(ok && !sh->failed);
}
