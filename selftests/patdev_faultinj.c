// SPDX-License-Identifier: GPL-2.0
/*
 * patdev_faultinj: allocation-failure sweep, for kernels with
 * CONFIG_FAULT_INJECTION, FAILSLAB and FAIL_PAGE_ALLOC (the debug lane).
 * For n = 1, 2, ... it makes the n-th slab or page allocation of this task
 * fail (/proc/thread-self/fail-nth) during the first mmap (which creates
 * the anonymous object) and during a prefault of a mapping in a fresh part
 * of the address space (so page tables must be allocated), until one
 * attempt gets through without reaching the n-th allocation. Every failed
 * attempt must answer ENOMEM, create nothing and leave the module's page
 * count as it was (through .mmap_prepare, a failure of the core's own
 * allocations after it may leave the object made, whole: counted and
 * shown, and the sweep goes on from a fresh module); the next attempt
 * must succeed. A failure some path
 * absorbs (kvmalloc falls back to vmalloc) lets the mmap succeed: the
 * module is then reloaded from KO to sweep on. A sweep that never gets
 * through is a failure too: it proves nothing.
 *
 * A third sweep makes PATDEV_IOC_CREATE of an object, then an mmap that
 * prefaults it (SET_MMAP_FLAGS), fail part-way, the mmap after it filled
 * the first page table (16 entries, up to a 2 MiB boundary): the answer
 * must be ENOMEM and, once destroyed, nothing of the object may be left.
 * A fourth does the same with 2 MiB entries (two 2 MiB chunks mapped
 * 2 MiB-aligned), which the prefault enters through the fault path.
 * That the failed mmap's entries go first cannot be seen from here:
 * CONFIG_PAGE_TABLE_CHECK ignores special entries (7.3
 * mm/page_table_check.c), which is all a VM_PFNMAP vma has.
 *
 * A fifth makes PATDEV_IOC_SET_CACHE (WB to WC) of a fresh object of
 * single pages fail part-way: the direct map must be split for it. Every
 * answer must be success or ENOMEM, the data must stay, and the mode
 * OBJINFO reports must be the one the object's entries then get.
 *
 * Usage: patdev_faultinj KO (the module loaded from KO, freshly)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "patdev_selftest.h"
#include "patdev_user.h"

#define DBG "/sys/kernel/debug/"
#define NPAGES 4

static long page;

/*
 * The thread's fail-nth file, opened once: opening it again between arming
 * and the call under test would itself allocate and use the failure up.
 */
static int nth_fd = -1;

/* Arms the n-th allocation of this thread to fail. */
static int fail_nth(int n)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", n);
	return pwrite(nth_fd, v, strlen(v), 0) == (ssize_t)strlen(v) ? 0 : -1;
}

/* Disarms; returns whether the armed failure was not reached. */
static int fail_nth_unused(void)
{
	char v[16] = "";
	ssize_t n = pread(nth_fd, v, sizeof(v) - 1, 0);
	int left = n > 0 ? atoi(v) : 0;

	if (pwrite(nth_fd, "0", 1, 0) != 1)
		return -1;
	return left > 0;
}

static long module_pages(void)
{
	long objs, pages;

	return patdev_stats(&objs, &pages) ? -1 : pages;
}

/*
 * The end of a sweep: its summary, and how many ways it failed. A sweep
 * must have injected failures, must have got through once, and must leave
 * the module holding @pages pages.
 */
static int sweep_verdict(const char *what, int failures, int done, long pages)
{
	int bad = 0;

	printf("faultinj: %s: %d injected failures, all ENOMEM; %s\n", what, failures,
	       done ? "one got through" : "NONE GOT THROUGH");
	if (!failures || !done)
		bad++;
	if (module_pages() != pages)
		bad++;
	return bad;
}

/* Unloads and loads the module again; returns a new fd of the device. */
static int reload(int fd, const char *ko)
{
	int kofd = open(ko, O_RDONLY | O_CLOEXEC);

	close(fd);
	if (kofd < 0 || syscall(SYS_delete_module, "patdev", O_NONBLOCK) ||
	    syscall(SYS_finit_module, kofd, "", 0))
		return -1;
	close(kofd);
	return open("/dev/patdev", O_RDWR);
}

static int set_prefault(int fd, unsigned int flags)
{
	struct patdev_mmap_flags mf = { .flags = flags };

	return ioctl(fd, PATDEV_IOC_SET_MMAP_FLAGS, &mf);
}

static int setup(void)
{
	static const char *const attrs[] = { "failslab", "fail_page_alloc" };
	char path[128];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		/* Allocations that may sleep are the ones the driver makes. */
		snprintf(path, sizeof(path), DBG "%s/ignore-gfp-wait", attrs[i]);
		if (patdev_sysfs_write(NULL, path, "N"))
			return -1;
		/* No stack dump per injected failure: dmesg stays clean. */
		snprintf(path, sizeof(path), DBG "%s/verbose", attrs[i]);
		if (patdev_sysfs_write(NULL, path, "0"))
			return -1;
	}
	if (patdev_sysfs_write(NULL, DBG "fail_page_alloc/min-order", "0") ||
	    patdev_sysfs_write(NULL, DBG "fail_page_alloc/ignore-gfp-highmem", "N"))
		return -1;
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	return nth_fd < 0 ? -1 : 0;
}

/*
 * Sweeps allocation failures over PATDEV_IOC_CREATE of an object (@kind,
 * @size, @sg_order) and a prefaulting mmap of it placed @before bytes
 * below a 2 MiB boundary, each attempt in a fresh GiB of address space.
 * Every failure must answer ENOMEM and, once the object is destroyed and
 * unmapped, leave the module holding @pages. Returns how many ways it
 * failed.
 */
static int sweep_create_and_map(int fd, unsigned int kind, size_t size, unsigned int sg_order,
				size_t before, long pages, const char *what)
{
	int n, failures = 0, done = 0, bad = 0, err;
	void *p;

	for (n = 1; n < 2000 && !done; n++) {
		struct patdev_create c = {
			.kind = kind, .size = size, .cache = PATDEV_CACHE_WC, .sg_order = sg_order,
		};
		char *hint = (char *)(0x7d0000000000UL - (unsigned long)n * (1UL << 30)) +
			     (2UL << 20) - before;
		int fresh, ret;

		fail_nth(n);
		ret = ioctl(fd, PATDEV_IOC_CREATE, &c);
		p = MAP_FAILED;
		if (!ret)
			p = mmap(hint, size, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED_NOREPLACE, fd, c.offset);
		err = errno;
		fresh = fail_nth_unused();
		if (p != MAP_FAILED)
			munmap(p, size);
		if (!ret) {
			struct patdev_destroy d = { .offset = c.offset };

			if (ioctl(fd, PATDEV_IOC_DESTROY, &d))
				bad++;
		}
		if (p != MAP_FAILED) {
			done = fresh;
			continue;
		}
		failures++;
		if (err != ENOMEM || module_pages() != pages) {
			fprintf(stderr, "faultinj: %s failure %d: errno %d, pages %ld\n",
				ret ? "create" : "mmap", n, err, module_pages());
			bad++;
		}
	}
	return bad + sweep_verdict(what, failures, done, pages);
}

/* The mode QUERY reads from the entry at @p, after touching it. */
static long long entry_mode(int fd, unsigned char *p)
{
	struct patdev_query q = { .addr = (uintptr_t)p };

	(void)__atomic_load_n(p, __ATOMIC_RELAXED);
	if (ioctl(fd, PATDEV_IOC_QUERY, &q) || !(q.flags & PATDEV_QUERY_PRESENT))
		return -1;
	return q.cache;
}

/*
 * Sweeps allocation failures over a WB-to-WC change of a fresh 64-page
 * object of single pages, mapped and written first. Returns how many ways
 * it failed.
 */
static int sweep_set_cache(int fd, long pages)
{
	const size_t npages = 64;
	int n, failures = 0, done = 0, bad = 0;

	for (n = 1; n < 300 && !done; n++) {
		struct patdev_create c = {
			.kind = PATDEV_OBJ_SG, .size = npages * page, .cache = PATDEV_CACHE_WB,
		};
		struct patdev_set_cache sc = { .cache = PATDEV_CACHE_WC };
		struct patdev_objinfo info = { 0 };
		unsigned char *p;
		int ret, err, fresh;
		size_t i;

		if (ioctl(fd, PATDEV_IOC_CREATE, &c))
			return bad + 1;
		p = mmap(NULL, c.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, c.offset);
		if (p == MAP_FAILED)
			return bad + 1;
		for (i = 0; i < npages; i++)
			p[i * page] = (unsigned char)(i + n);
		sc.offset = c.offset;
		fail_nth(n);
		ret = ioctl(fd, PATDEV_IOC_SET_CACHE, &sc);
		err = errno;
		fresh = fail_nth_unused();
		info.pgoff = c.offset / page;
		if (ioctl(fd, PATDEV_IOC_OBJINFO, &info))
			bad++;
		for (i = 0; i < npages; i++)
			if (p[i * page] != (unsigned char)(i + n) ||
			    entry_mode(fd, p + i * page) != (long long)info.cache) {
				fprintf(stderr, "faultinj: set_cache attempt %d: page %zu wrong\n",
					n, i);
				bad++;
				break;
			}
		if (ret) {
			failures++;
			if (err != ENOMEM) {
				fprintf(stderr, "faultinj: set_cache failure %d: errno %d\n", n,
					err);
				bad++;
			}
		} else {
			done = fresh;
		}
		munmap(p, c.size);
		if (patdev_destroy(fd, c.offset, 0))
			bad++;
	}
	printf("faultinj: set_cache: %d injected failures, all ENOMEM, data and mode consistent; ",
	       failures);
	printf("%s\n", done ? "one got through" : "NONE GOT THROUGH");
	/* The direct map may already be split where the pages land: then nothing fails. */
	if (!done || module_pages() != pages)
		bad++;
	return bad;
}

int main(int argc, char **argv)
{
	size_t len = NPAGES * sysconf(_SC_PAGESIZE);
	struct patdev_objinfo info = { .pgoff = PATDEV_PGOFF_ANON };
	int fd, n, failures = 0, absorbed = 0, left = 0, bad = 0, done, err, made, prepared;
	long base;
	void *p;

	page = sysconf(_SC_PAGESIZE);
	if (argc < 2) {
		fprintf(stderr, "usage: patdev_faultinj KO\n");
		return 2;
	}
	fd = open("/dev/patdev", O_RDWR);
	if (fd < 0 || setup()) {
		perror("faultinj: setup (needs CONFIG_FAULT_INJECTION debugfs)");
		return 1;
	}
	if (ioctl(fd, PATDEV_IOC_OBJINFO, &info) != -1 || errno != ENOENT) {
		fprintf(stderr, "faultinj: needs a freshly loaded module\n");
		return 1;
	}
	base = module_pages();
	prepared = patdev_mmap_prepared();
	if (prepared < 0) {
		fprintf(stderr, "faultinj: the module's stats do not say which mmap claims\n");
		return 1;
	}

	/* 1. the first mmap, which creates the object */
	for (n = 1;; n++) {
		int fresh;

		fail_nth(n);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		fresh = fail_nth_unused();
		if (p != MAP_FAILED) {
			if (fresh)
				break;
			/* Absorbed: start again from a fresh module. */
			absorbed++;
			munmap(p, len);
			fd = reload(fd, argv[1]);
			if (fd < 0 || module_pages() != base) {
				perror("faultinj: reload");
				return 1;
			}
			continue;
		}
		err = errno;
		failures++;
		info.pgoff = PATDEV_PGOFF_ANON;
		made = !ioctl(fd, PATDEV_IOC_OBJINFO, &info);
		/*
		 * Through .mmap_prepare the object is made before the core
		 * allocates the vma, and nothing tells the driver when that
		 * fails (docs/kernel-api.md): the object stays, whole, as the
		 * failed mmap sized it. Start again from a fresh module.
		 */
		if (prepared == 1 && err == ENOMEM && made && info.size == len &&
		    module_pages() == base + NPAGES) {
			left++;
			fd = reload(fd, argv[1]);
			if (fd < 0 || module_pages() != base) {
				perror("faultinj: reload");
				return 1;
			}
			continue;
		}
		if (err != ENOMEM || made || module_pages() != base) {
			fprintf(stderr, "faultinj: mmap failure %d: errno %d, pages %ld/%ld\n",
				n, err, module_pages(), base);
			bad++;
		}
	}
	if (module_pages() != base + NPAGES)
		bad++;
	if (!failures)
		bad++;
	printf("faultinj: first mmap: %d injected failures answered ENOMEM and left nothing, ",
	       failures);
	printf("%d absorbed (module reloaded), %d left the object made (%s)\n", absorbed, left,
	       prepared == 1 ? ".mmap_prepare: the core failed after it; reloaded" : ".mmap");

	/* 2. prefault of a mapping where no page table exists yet */
	munmap(p, len);
	failures = 0;
	done = 0;
	for (n = 1; n < 1000 && !done; n++) {
		struct patdev_prefault pf = { .len = len, .flags = PATDEV_PREFAULT_WRITE };
		void *hint = (void *)(0x7e0000000000UL - (unsigned long)n * (1UL << 30));
		int ret, fresh;

		p = mmap(hint, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE,
			 fd, 0);
		if (p == MAP_FAILED)
			continue;
		pf.addr = (unsigned long)p;
		fail_nth(n);
		ret = ioctl(fd, PATDEV_IOC_PREFAULT, &pf);
		fresh = fail_nth_unused();
		if (!ret && fresh)
			done = pf.npages == NPAGES;
		if (ret) {
			failures++;
			if (errno != ENOMEM) {
				fprintf(stderr, "faultinj: prefault failure %d: errno %d\n", n,
					errno);
				bad++;
			}
			/* The next attempt, without injection, succeeds. */
			if (ioctl(fd, PATDEV_IOC_PREFAULT, &pf) || pf.npages != NPAGES)
				bad++;
		}
		munmap(p, len);
	}
	bad += sweep_verdict("prefault (each retried fine)", failures, done, base + NPAGES);

	/*
	 * 3. PATDEV_IOC_CREATE of a 1024-page object, then an mmap of it that
	 * prefaults (SET_MMAP_FLAGS) across a page-table boundary: a failure
	 * anywhere must answer ENOMEM, and once the object is destroyed and
	 * unmapped the module must hold what it held before. A failed chunk
	 * allocation the module absorbs (it takes smaller chunks) counts as
	 * getting through only when the failure was not reached.
	 */
	if (set_prefault(fd, PATDEV_PREFAULT_WRITE)) {
		perror("faultinj: SET_MMAP_FLAGS");
		return 1;
	}
	bad += sweep_create_and_map(fd, PATDEV_OBJ_ANON, 1024 * page, 0, 16 * page,
				    base + NPAGES, "create and prefaulting mmap (nothing left)");
	/*
	 * 4. The same with two 2 MiB chunks mapped 2 MiB-aligned in a fresh
	 * part of the address space: where the kernel has 2 MiB entries, the
	 * prefault enters them through the fault path, which must allocate
	 * the upper page tables first.
	 */
	bad += sweep_create_and_map(fd, PATDEV_OBJ_SG, 4UL << 20, 9, 0, base + NPAGES,
				    "create and 2 MiB prefaulting mmap (nothing left)");
	set_prefault(fd, 0);
	/* 5. a cache-mode change that must split the direct map */
	bad += sweep_set_cache(fd, base + NPAGES);
	close(fd);
	printf("faultinj: %s\n", bad ? "FAIL" : "PASS");
	return bad != 0;
}
