// SPDX-License-Identifier: GPL-2.0
/*
 * patdev-bench: how fast patdev populates and faults its mappings, as
 * ratios against baselines measured in the same run. Runs as root with
 * patdev loaded and the test-only baseline module patdev_remap
 * (tools/bench-module) loaded next to it. Its objects are made with
 * PATDEV_IOC_CREATE. Under QEMU TCG every time is emulated: only the
 * ratios mean anything.
 *
 * Output: a table, then one "BENCH key=value ..." line per figure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "patdev_user.h"

#define REPS 5
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PARAMS "/sys/module/patdev/parameters/"

static long page;
static int fd, remap_fd;
/* The object section 1 and 3 map: 64 Ki pages, WB like the baseline's. */
static unsigned long long big_off;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static void die(const char *what)
{
	fprintf(stderr, "patdev-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void set_param(const char *name, unsigned long val)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%lu\n", val) < 0 || fclose(f))
		die(path);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void *map_at(int on, size_t len, int prot, unsigned long long off)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, on, off);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

static unsigned long long create(unsigned int kind, size_t npages, unsigned int sg_order)
{
	unsigned long long off;

	if (patdev_create(fd, kind, npages * page, PATDEV_CACHE_WB, sg_order, 0, &off))
		die("PATDEV_IOC_CREATE");
	return off;
}

static void destroy(unsigned long long off)
{
	if (patdev_destroy(fd, off, 0))
		die("PATDEV_IOC_DESTROY");
}

static void touch_pages(unsigned char *p, size_t npages)
{
	size_t i;

	for (i = 0; i < npages; i++)
		(void)__atomic_load_n(p + i * page, __ATOMIC_RELAXED);
}

/* ns per page to populate npages of a created object, one way. */
enum way { PREFAULT, TOUCH, REMAP, ANON_POPULATE, NWAYS };
static const char *const way_names[] = {
	"prefault_ioctl", "first_touch", "remap_pfn_range", "anon_map_populate",
};

static double populate_once(enum way way, size_t npages)
{
	size_t len = npages * page;
	struct patdev_prefault pf = { .len = len, .flags = PATDEV_PREFAULT_READ };
	unsigned char *p = NULL;
	double t0, t1;

	switch (way) {
	case PREFAULT:
		p = map_at(fd, len, PROT_READ, big_off);
		pf.addr = (uintptr_t)p;
		t0 = now_ns();
		if (ioctl(fd, PATDEV_IOC_PREFAULT, &pf))
			die("PATDEV_IOC_PREFAULT");
		t1 = now_ns();
		break;
	case TOUCH:
		p = map_at(fd, len, PROT_READ, big_off);
		t0 = now_ns();
		touch_pages(p, npages);
		t1 = now_ns();
		break;
	case REMAP:
		/* The baseline module populates the whole mapping in mmap. */
		t0 = now_ns();
		p = map_at(remap_fd, len, PROT_READ, 0);
		t1 = now_ns();
		break;
	default:
		t0 = now_ns();
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		t1 = now_ns();
		if (p == MAP_FAILED)
			die("anonymous mmap");
		break;
	}
	munmap(p, len);
	return (t1 - t0) / npages;
}

static void bench_populate(void)
{
	static const size_t sizes[] = { 1024, 4096, 16384, 65536 };
	double t[NWAYS][REPS], med[NWAYS];
	unsigned int s, w, r;

	printf("\n1. populating N pages of a created WB object (ns per page, median of %d)\n",
	       REPS);
	printf("%8s %16s %16s %16s %18s %12s %14s\n", "pages", way_names[0], way_names[1],
	       way_names[2], way_names[3], "touch/pref", "pref/remap");
	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		for (r = 0; r < REPS; r++)
			for (w = 0; w < NWAYS; w++)
				t[w][r] = populate_once(w, sizes[s]);
		for (w = 0; w < NWAYS; w++)
			med[w] = median(t[w], REPS);
		printf("%8zu %16.0f %16.0f %16.0f %18.0f %12.2f %14.2f\n", sizes[s],
		       med[0], med[1], med[2], med[3], med[TOUCH] / med[PREFAULT],
		       med[PREFAULT] / med[REMAP]);
		for (w = 0; w < NWAYS; w++)
			printf("BENCH figure=populate pages=%zu way=%s ns_per_page=%.1f\n",
			       sizes[s], way_names[w], med[w]);
		printf("BENCH figure=populate pages=%zu ratio=touch_over_prefault value=%.2f\n",
		       sizes[s], med[TOUCH] / med[PREFAULT]);
		printf("BENCH figure=populate pages=%zu ratio=prefault_over_remap value=%.2f\n",
		       sizes[s], med[PREFAULT] / med[REMAP]);
	}
}

/*
 * The same 1024 pages as chunks of 512, 16 or 1 pages: as many segments as
 * chunks, fewer where the allocator handed out neighbours (OBJINFO tells).
 */
static void bench_sg(void)
{
	static const unsigned int orders[] = { 9, 4, 0 };
	const size_t npages = 1024;
	double t[REPS], med, base = 0;
	struct patdev_objinfo info;
	unsigned long long off;
	unsigned int s, r;

	printf("\n2. first-touch fault cost on scatter/gather objects of %zu pages,\n"
	       "   fault-around off (ns per fault, median of %d)\n", npages, REPS);
	printf("%8s %10s %12s %12s\n", "chunk", "segments", "ns/fault", "vs 2 MiB");
	set_param("fault_around", 0);
	for (s = 0; s < ARRAY_SIZE(orders); s++) {
		off = create(PATDEV_OBJ_SG, npages, orders[s]);
		memset(&info, 0, sizeof(info));
		info.pgoff = off / page;
		if (ioctl(fd, PATDEV_IOC_OBJINFO, &info))
			die("PATDEV_IOC_OBJINFO");
		for (r = 0; r < REPS; r++) {
			unsigned char *p = map_at(fd, npages * page, PROT_READ, off);
			double t0 = now_ns();

			touch_pages(p, npages);
			t[r] = (now_ns() - t0) / npages;
			munmap(p, npages * page);
		}
		destroy(off);
		med = median(t, REPS);
		if (!s)
			base = med;
		printf("%8lu %10llu %12.0f %12.2f\n", page << orders[s] >> 10,
		       (unsigned long long)info.nsegs, med, med / base);
		printf("BENCH figure=sg_fault chunk_kib=%lu segments=%llu",
		       page << orders[s] >> 10, (unsigned long long)info.nsegs);
		printf(" ns_per_fault=%.1f ratio_vs_2m=%.2f\n", med, med / base);
	}
}

static void bench_fault_around(void)
{
	static const unsigned int windows[] = { 0, 16, 64 };
	const size_t npages = 16384;
	double t[REPS], f[REPS], base = 0, faults;
	unsigned int w, r;

	printf("\n3. sequential first touch of %zu pages by fault-around window (median of %d)\n",
	       npages, REPS);
	printf("%8s %12s %12s %14s\n", "window", "faults", "ns/page", "faults cut");
	for (w = 0; w < ARRAY_SIZE(windows); w++) {
		set_param("fault_around", windows[w]);
		for (r = 0; r < REPS; r++) {
			unsigned char *p = map_at(fd, npages * page, PROT_READ, big_off);
			long f0 = minflt();
			double t0 = now_ns();

			touch_pages(p, npages);
			t[r] = (now_ns() - t0) / npages;
			f[r] = minflt() - f0;
			munmap(p, npages * page);
		}
		faults = median(f, REPS);
		if (!w)
			base = faults;
		printf("%8u %12.0f %12.0f %13.1fx\n", windows[w], faults, median(t, REPS),
		       base / faults);
		printf("BENCH figure=fault_around window=%u faults=%.0f ns_per_page=%.1f",
		       windows[w], faults, median(t, REPS));
		printf(" faults_cut=%.1f\n", base / faults);
	}
	set_param("fault_around", 16);
}

int main(void)
{
	page = sysconf(_SC_PAGESIZE);
	fd = open("/dev/patdev", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/patdev");
	remap_fd = open("/dev/patdev_remap", O_RDWR | O_CLOEXEC);
	if (remap_fd < 0)
		die("open /dev/patdev_remap (load tools/bench-module/patdev_remap.ko)");
	printf("patdev-bench: timings are emulated under QEMU TCG; only the ratios between\n"
	       "figures of this one run are meaningful. Medians of %d runs.\n", REPS);
	/* 256 MiB for section 1 and 3, a little more for section 2's objects. */
	set_param("max_mb", 512);
	big_off = create(PATDEV_OBJ_ANON, 65536, 0);
	set_param("fault_around", 0);
	bench_populate();
	bench_sg();
	bench_fault_around();
	destroy(big_off);
	set_param("max_mb", 256);
	close(remap_fd);
	close(fd);
	return 0;
}
