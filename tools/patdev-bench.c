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
#include <stdint.h>
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
#define PMD (2UL << 20)
/* The big object: 256 MiB. */
#define BIG_PAGES 65536

static long page;
static int fd, remap_fd;
/* The object sections 1 and 3 map: 256 MiB of 2 MiB chunks, WB like the baseline's. */
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

/*
 * Maps @len of patdev from @off at an address 2 MiB-aligned plus @shift:
 * with @shift 0 the mapping's 2 MiB slots line up with the object's 2 MiB
 * chunks (2 MiB entries where the kernel has them); with one page, none
 * does and every entry is 4 KiB, on every kernel.
 */
static unsigned char *map_obj(unsigned long long off, size_t len, int prot, size_t shift)
{
	unsigned char *area, *start, *p;
	size_t span = len + 2 * PMD;

	area = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED)
		die("reserving address space");
	start = (unsigned char *)(((uintptr_t)area + PMD - 1) & ~(PMD - 1)) + shift;
	p = mmap(start, len, prot, MAP_SHARED | MAP_FIXED, fd, off);
	if (p == MAP_FAILED)
		die("mmap");
	if (start > area)
		munmap(area, start - area);
	munmap(start + len, area + span - (start + len));
	return p;
}

static unsigned long long create_flags(unsigned int kind, size_t npages, unsigned int cache,
				       unsigned int sg_order, __u64 flags)
{
	unsigned long long off;

	if (patdev_create(fd, kind, npages * page, cache, sg_order, flags, &off))
		die("PATDEV_IOC_CREATE");
	return off;
}

static unsigned long long create(unsigned int kind, size_t npages, unsigned int cache,
				 unsigned int sg_order)
{
	unsigned long long off;

	if (patdev_create(fd, kind, npages * page, cache, sg_order, 0, &off))
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

static unsigned long long huge_pages(unsigned char *p, size_t len)
{
	struct patdev_range_query r = { .addr = (uintptr_t)p, .len = len };

	if (ioctl(fd, PATDEV_IOC_RANGE_QUERY, &r))
		die("PATDEV_IOC_RANGE_QUERY");
	return r.huge;
}

/* The ways to populate the big object measured in section 1. */
enum way { TOUCH_4K, TOUCH_2M, PREFAULT_4K, PREFAULT_2M, REMAP, NWAYS };
static const char *const way_names[] = {
	"first_touch_4k", "first_touch_2m", "prefault_4k", "prefault_2m", "remap_pfn_range",
};

struct sample {
	double ns;
	double faults;
	double huge;
};

static struct sample populate_once(enum way way)
{
	size_t len = BIG_PAGES * page;
	struct patdev_prefault pf = { .len = len, .flags = PATDEV_PREFAULT_READ };
	size_t shift = way == TOUCH_4K || way == PREFAULT_4K ? page : 0;
	struct sample s = { 0 };
	unsigned char *p;
	double t0;
	long f0;

	if (way == REMAP) {
		/* The baseline module populates the whole mapping in mmap. */
		t0 = now_ns();
		p = map_at(remap_fd, len, PROT_READ, 0);
		s.ns = now_ns() - t0;
		munmap(p, len);
		return s;
	}
	p = map_obj(big_off, len, PROT_READ, shift);
	f0 = minflt();
	t0 = now_ns();
	if (way == TOUCH_4K || way == TOUCH_2M) {
		touch_pages(p, BIG_PAGES);
	} else {
		pf.addr = (uintptr_t)p;
		if (ioctl(fd, PATDEV_IOC_PREFAULT, &pf))
			die("PATDEV_IOC_PREFAULT");
	}
	s.ns = now_ns() - t0;
	s.faults = minflt() - f0;
	s.huge = huge_pages(p, len);
	munmap(p, len);
	return s;
}

static void report_ratio(const char *name, double value, const char *target, int met)
{
	printf("  %-44s %10.2f   %-14s %s\n", name, value, target,
	       met < 0 ? "n/a" : met ? "met" : "NOT met");
	printf("BENCH figure=%s value=%.2f target=\"%s\" met=%s\n", name, value, target,
	       met < 0 ? "n/a" : met ? "yes" : "no");
}

static void bench_populate(int have_huge)
{
	double t[NWAYS][REPS], f[NWAYS][REPS], h[NWAYS][REPS], ns[NWAYS], flt[NWAYS], hg[NWAYS];
	const double mib = BIG_PAGES * page / (1024.0 * 1024);
	unsigned int w, r;

	printf("\n1. populating a 256 MiB object (2 MiB chunks, WB), fault-around off,\n"
	       "   median of %d\n", REPS);
	printf("%18s %14s %12s %14s\n", "way", "ns per MiB", "faults", "pages in 2M");
	set_param("fault_around", 0);
	for (r = 0; r < REPS; r++)
		for (w = 0; w < NWAYS; w++) {
			struct sample s = populate_once(w);

			t[w][r] = s.ns;
			f[w][r] = s.faults;
			h[w][r] = s.huge;
		}
	for (w = 0; w < NWAYS; w++) {
		ns[w] = median(t[w], REPS);
		flt[w] = median(f[w], REPS);
		hg[w] = median(h[w], REPS);
		printf("%18s %14.0f %12.0f %14.0f\n", way_names[w], ns[w] / mib, flt[w], hg[w]);
		printf("BENCH figure=populate way=%s ns_per_mib=%.0f faults=%.0f huge_pages=%.0f\n",
		       way_names[w], ns[w] / mib, flt[w], hg[w]);
	}
	printf("\n%-46s %10s   %-14s %s\n", "  ratio", "value", "target", "");
	report_ratio("faults_touch_4k_over_touch_2m",
		     flt[TOUCH_4K] / (flt[TOUCH_2M] ? flt[TOUCH_2M] : 1), ">= 500",
		     have_huge ? flt[TOUCH_4K] >= 500 * flt[TOUCH_2M] : -1);
	report_ratio("time_touch_4k_over_touch_2m", ns[TOUCH_4K] / ns[TOUCH_2M],
		     "(time per MiB)", -1);
	report_ratio("time_prefault_4k_over_prefault_2m", ns[PREFAULT_4K] / ns[PREFAULT_2M],
		     ">= 50", have_huge ? ns[PREFAULT_4K] >= 50 * ns[PREFAULT_2M] : -1);
	report_ratio("time_remap_over_prefault_2m", ns[REMAP] / ns[PREFAULT_2M],
		     "> 1 (faster)", have_huge ? ns[REMAP] > ns[PREFAULT_2M] : -1);
	report_ratio("time_prefault_4k_over_remap", ns[PREFAULT_4K] / ns[REMAP], "<= 1.0",
		     ns[PREFAULT_4K] <= ns[REMAP]);
	report_ratio("time_touch_4k_over_prefault_4k", ns[TOUCH_4K] / ns[PREFAULT_4K], ">= 10",
		     ns[TOUCH_4K] >= 10 * ns[PREFAULT_4K]);
	set_param("fault_around", 16);
}

/*
 * The same 1024 pages as chunks of 512, 16 or 1 pages: as many segments as
 * chunks, fewer where the allocator handed out neighbours (OBJINFO tells).
 * Mapped one page off 2 MiB so that every entry is 4 KiB.
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
	       "   4 KiB entries, fault-around off (ns per fault, median of %d)\n", npages, REPS);
	printf("%8s %10s %12s %12s\n", "chunk", "segments", "ns/fault", "vs 2 MiB");
	set_param("fault_around", 0);
	for (s = 0; s < ARRAY_SIZE(orders); s++) {
		off = create(PATDEV_OBJ_SG, npages, PATDEV_CACHE_WB, orders[s]);
		memset(&info, 0, sizeof(info));
		info.pgoff = off / page;
		if (ioctl(fd, PATDEV_IOC_OBJINFO, &info))
			die("PATDEV_IOC_OBJINFO");
		for (r = 0; r < REPS; r++) {
			unsigned char *p = map_obj(off, npages * page, PROT_READ, page);
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
	set_param("fault_around", 16);
}

static void bench_fault_around(void)
{
	static const unsigned int windows[] = { 0, 16, 64 };
	const size_t npages = 16384;
	double t[REPS], f[REPS], base = 0, faults;
	unsigned int w, r;

	printf("\n3. sequential first touch of %zu pages by fault-around window,\n"
	       "   4 KiB entries (median of %d)\n", npages, REPS);
	printf("%8s %12s %12s %14s\n", "window", "faults", "ns/page", "faults cut");
	for (w = 0; w < ARRAY_SIZE(windows); w++) {
		set_param("fault_around", windows[w]);
		for (r = 0; r < REPS; r++) {
			unsigned char *p = map_obj(big_off, npages * page, PROT_READ, page);
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

/* 2 MiB direct-map pages split by making a 256 MiB object WC. */
static long splits_of_wc_object(unsigned int kind, unsigned int sg_order)
{
	long before = vm_counter("direct_map_level2_splits");
	unsigned long long off = create(kind, BIG_PAGES, PATDEV_CACHE_WC, sg_order);
	long after = vm_counter("direct_map_level2_splits");

	destroy(off);
	return before < 0 ? -1 : after - before;
}

static void bench_direct_map(void)
{
	long chunked, order0;

	printf("\n4. kernel direct-map 2 MiB pages split by a 256 MiB WC object\n");
	chunked = splits_of_wc_object(PATDEV_OBJ_ANON, 0);
	order0 = splits_of_wc_object(PATDEV_OBJ_SG, 0);
	printf("%28s %8ld\n%28s %8ld\n", "chunks of up to 2 MiB", chunked, "single pages (order 0)",
	       order0);
	printf("BENCH figure=direct_map_splits chunks=2m value=%ld\n", chunked);
	printf("BENCH figure=direct_map_splits chunks=4k value=%ld\n", order0);
	report_ratio("direct_map_splits_2m_chunks", chunked, "0", chunked == 0);
}

/* One byte written per page, in order: ns per page; faults in *@faults. */
static double write_pass(unsigned char *p, size_t npages, double *faults)
{
	long f0 = minflt();
	double t0 = now_ns();
	size_t i;

	for (i = 0; i < npages; i++)
		p[i * page] = (unsigned char)i;
	*faults = minflt() - f0;
	return (now_ns() - t0) / npages;
}

/*
 * The price of NetBSD's modified/referenced emulation: a first write pass
 * over a tracked object against untracked ones, the default (2 MiB
 * entries where they fit, fault-around 16) and one that also takes a
 * fault per page (order-0 chunks, no fault-around); then a pass again
 * after clearing the modified state, which revokes every entry.
 */
static void bench_tracking(void)
{
	static const char *const names[] = {
		"untracked, default", "untracked, 4 KiB, no fault-around", "tracked",
		"tracked, after MR_CLEAR",
	};
	const size_t npages = 4096;
	double t[4][REPS], f[4][REPS], med[4], faults[4];
	unsigned int c, r;

	printf("\n5. modified/referenced tracking: a write pass over %zu pages (median of %d)\n",
	       npages, REPS);
	for (r = 0; r < REPS; r++) {
		for (c = 0; c < 3; c++) {
			unsigned long long off = c == 1 ?
				create(PATDEV_OBJ_SG, npages, PATDEV_CACHE_WB, 0) :
				create_flags(PATDEV_OBJ_ANON, npages, PATDEV_CACHE_WB, 0,
					     c == 2 ? PATDEV_CREATE_TRACK : 0);
			unsigned char *p;

			set_param("fault_around", c == 1 ? 0 : 16);
			p = map_obj(off, npages * page, PROT_READ | PROT_WRITE, 0);
			t[c][r] = write_pass(p, npages, &f[c][r]);
			if (c == 2) {
				struct patdev_mr m = {
					.offset = off, .npages = npages,
					.flags = PATDEV_MR_MODIFIED,
				};

				if (ioctl(fd, PATDEV_IOC_MR_CLEAR, &m) || m.modified != npages)
					die("PATDEV_IOC_MR_CLEAR");
				t[3][r] = write_pass(p, npages, &f[3][r]);
			}
			munmap(p, npages * page);
			destroy(off);
		}
	}
	set_param("fault_around", 16);
	printf("%36s %10s %10s %12s\n", "", "faults", "ns/page", "vs 4 KiB");
	for (c = 0; c < 4; c++) {
		med[c] = median(t[c], REPS);
		faults[c] = median(f[c], REPS);
	}
	for (c = 0; c < 4; c++) {
		printf("%36s %10.0f %10.0f %11.2fx\n", names[c], faults[c], med[c],
		       med[c] / med[1]);
		printf("BENCH figure=tracking case=%u faults=%.0f ns_per_page=%.1f",
		       c, faults[c], med[c]);
		printf(" ratio_vs_4k=%.2f\n", med[c] / med[1]);
	}
	printf("BENCH figure=tracking_cost_vs_default value=%.2f\n", med[2] / med[0]);
}

int main(void)
{
	struct patdev_version v;
	int have_huge;

	page = sysconf(_SC_PAGESIZE);
	fd = open("/dev/patdev", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/patdev");
	remap_fd = open("/dev/patdev_remap", O_RDWR | O_CLOEXEC);
	if (remap_fd < 0)
		die("open /dev/patdev_remap (load tools/bench-module/patdev_remap.ko)");
	if (ioctl(fd, PATDEV_IOC_VERSION, &v))
		die("PATDEV_IOC_VERSION");
	have_huge = !!(v.features & PATDEV_FEAT_HUGE);
	printf("patdev-bench: timings are emulated under QEMU TCG; only the ratios between\n"
	       "figures of this one run are meaningful. Medians of %d runs. 2 MiB entries: %s\n",
	       REPS, have_huge ? "yes" : "no (this kernel maps 4 KiB only)");
	printf("BENCH figure=kernel huge=%d\n", have_huge);
	/* 256 MiB for sections 1 and 3, a little more for section 2's objects. */
	set_param("max_mb", 512);
	big_off = create(PATDEV_OBJ_SG, BIG_PAGES, PATDEV_CACHE_WB, 9);
	bench_populate(have_huge);
	bench_sg();
	bench_fault_around();
	destroy(big_off);
	bench_direct_map();
	bench_tracking();
	set_param("max_mb", 256);
	close(remap_fd);
	close(fd);
	return 0;
}
