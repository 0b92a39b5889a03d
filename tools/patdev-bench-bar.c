// SPDX-License-Identifier: GPL-2.0
/*
 * patdev-bench-bar: one device BAR mapped three ways, measured in one run
 * (make bench). ivshmem-plain's 1 GiB BAR 2 (scripts/vm.sh attaches it) is
 * mapped whole through patdev (mmap + PATDEV_IOC_PREFAULT), through sysfs
 * resource2_wc (whose mmap populates everything) and through vfio-pci
 * where the VM has an IOMMU (mmap, then one touch per 2 MiB slot). For
 * each: the time until the whole BAR is mapped, the page-table memory it
 * cost (/proc/meminfo PageTables), the faults and time of a first-touch
 * pass over a fresh mapping, the entries (patdev: RANGE_QUERY; the others
 * have no such call) and the memory type the mapping really got (patdev:
 * QUERY, from the page table; the others: the memtype reservation that
 * decides their entries, from debugfs x86/pat_memtype_list). Last, what
 * each mapping sees when the device is removed under it.
 *
 * Times are emulated (QEMU TCG): only ratios within this run mean anything.
 * Each time is the median of REPS runs, after one that warms TCG's
 * translation of the code paths (the first run of a kernel path under TCG
 * pays for translating it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "patdev_names.h"
#include "patdev_pci.h"
#include "patdev_user.h"

#define MIB (1024UL * 1024)
#define GIB (1024 * MIB)
#define MEMTYPES "/sys/kernel/debug/x86/pat_memtype_list"
#define REPS 5

static char dir[PATH_MAX];
static unsigned long long bar_start;
static long page;

static void die(const char *what)
{
	fprintf(stderr, "patdev-bench-bar: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static long pagetables_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "PageTables: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* The memtype reservations starting at the BAR, as the kernel lists them. */
static void memtypes(char *out, size_t len)
{
	char line[256], want[64], *type;
	FILE *f;

	if (access(MEMTYPES, R_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	snprintf(want, sizeof(want), "[mem 0x%016llx-", bar_start);
	out[0] = 0;
	f = fopen(MEMTYPES, "r");
	while (f && fgets(line, sizeof(line), f)) {
		type = strstr(line, want) ? strchr(line, ']') : NULL;
		if (!type)
			continue;
		type[strcspn(type, "\n")] = 0;
		snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? "," : "", type + 2);
	}
	if (f)
		fclose(f);
	if (!out[0])
		snprintf(out, len, "none");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/*
 * A first-touch pass: one read per 4 KiB page; faults and time. Then the
 * same pass again, with every entry present: what the (emulated) TLB makes
 * of the entries, without faults.
 */
static void touch_pass(const unsigned char *p, long *faults, double *us, double *again_us)
{
	long f0 = minflt();
	double t0 = now_us();
	size_t off;

	for (off = 0; off < GIB; off += page)
		(void)__atomic_load_n(p + off, __ATOMIC_RELAXED);
	*us = now_us() - t0;
	*faults = minflt() - f0;
	t0 = now_us();
	for (off = 0; off < GIB; off += page)
		(void)__atomic_load_n(p + off, __ATOMIC_RELAXED);
	*again_us = now_us() - t0;
}

static void report(const char *how, double map_us, long pt_kb, long faults, double touch_us,
		   double again_us, const char *entries, const char *mode)
{
	printf("%-14s %12.0f %8ld %8ld %12.0f %12.0f  %-22s %s\n", how, map_us, pt_kb, faults,
	       touch_us, again_us, entries, mode);
	printf("BENCH figure=bar how=%s map_us=%.0f pagetables_kb=%ld faults=%ld", how, map_us,
	       pt_kb, faults);
	printf(" touch_us=%.0f again_us=%.0f entries=%s mode=%s\n", touch_us, again_us, entries,
	       mode);
}

/* ivshmem bound to patdev: an open /dev/patdev, and BAR 2's offset in *@off. */
static int open_patdev_bar(unsigned long long *off)
{
	int fd;

	if (patdev_pci_bind(dir) || patdev_pci_bar_offset(dir, 2, off))
		die("binding ivshmem to patdev");
	fd = open("/dev/patdev", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/patdev");
	return fd;
}

static double bench_patdev(void)
{
	struct patdev_range_query r = { .len = GIB };
	struct patdev_query q = { 0 };
	double t0, map_us, touch_us, again_us, t[REPS];
	unsigned char *p = MAP_FAILED;
	unsigned long long off;
	long pt0, pt_kb, faults;
	char entries[64];
	int fd, i;

	fd = open_patdev_bar(&off);
	for (i = 0; i <= REPS; i++) {
		if (i)
			munmap(p, GIB);
		pt0 = pagetables_kb();
		t0 = now_us();
		p = patdev_map(fd, GIB, PROT_READ | PROT_WRITE, off / page, PATDEV_PREFAULT_READ);
		t[i ? i - 1 : 0] = now_us() - t0;
		pt_kb = pagetables_kb() - pt0;
		if (p == MAP_FAILED)
			die("patdev mmap + PREFAULT");
	}
	map_us = median(t, REPS);
	r.addr = (uintptr_t)p;
	q.addr = (uintptr_t)p;
	if (ioctl(fd, PATDEV_IOC_RANGE_QUERY, &r) || ioctl(fd, PATDEV_IOC_QUERY, &q))
		die("RANGE_QUERY");
	snprintf(entries, sizeof(entries), "1G:%llu,2M:%llu,4K:%llu",
		 (unsigned long long)r.huge_1g / (GIB / page),
		 (unsigned long long)(r.huge - r.huge_1g) / (2 * MIB / page),
		 (unsigned long long)(r.resident - r.huge));
	munmap(p, GIB);
	p = patdev_map(fd, GIB, PROT_READ | PROT_WRITE, off / page, 0);
	if (p == MAP_FAILED)
		die("patdev mmap");
	touch_pass(p, &faults, &touch_us, &again_us);
	munmap(p, GIB);
	close(fd);
	report("patdev", map_us, pt_kb, faults, touch_us, again_us, entries,
	       patdev_cache_name(q.cache));
	return map_us;
}

static double bench_sysfs(void)
{
	char path[2 * PATH_MAX], mode[128];
	double t0, map_us, touch_us, again_us, t[REPS];
	unsigned char *p = MAP_FAILED;
	long pt0, pt_kb, faults;
	int fd, i;

	if (patdev_pci_unbind(dir))
		die("unbinding ivshmem");
	snprintf(path, sizeof(path), "%s/resource2_wc", dir);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(path);
	for (i = 0; i <= REPS; i++) {
		if (i)
			munmap(p, GIB);
		pt0 = pagetables_kb();
		t0 = now_us();
		p = mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		t[i ? i - 1 : 0] = now_us() - t0;
		pt_kb = pagetables_kb() - pt0;
		if (p == MAP_FAILED)
			die("mmap of resource2_wc");
	}
	map_us = median(t, REPS);
	memtypes(mode, sizeof(mode));
	touch_pass(p, &faults, &touch_us, &again_us);
	munmap(p, GIB);
	close(fd);
	report("resource2_wc", map_us, pt_kb, faults, touch_us, again_us, "4K(populated)", mode);
	return map_us;
}

/* vfio-pci's device file for ivshmem, or -1 where the VM has no IOMMU. */
static int vfio_open(int *container, int *group)
{
	char link[PATH_MAX], path[PATH_MAX + 32], gpath[64];
	struct vfio_group_status status = { .argsz = sizeof(status) };
	ssize_t n;
	int dev;

	snprintf(path, sizeof(path), "%s/iommu_group", dir);
	n = readlink(path, link, sizeof(link) - 1);
	/*
	 * The bench VM's IOMMU has no interrupt remapping (QEMU's needs a
	 * split irqchip, which TCG lacks); the bench uses no interrupts.
	 */
	if (n <= 0 || system("modprobe vfio_iommu_type1 allow_unsafe_interrupts=1") ||
	    system("modprobe vfio-pci"))
		return -1;
	link[n] = 0;
	if (patdev_pci_bind_driver(dir, "vfio-pci"))
		return -1;
	snprintf(gpath, sizeof(gpath), "/dev/vfio/%s", strrchr(link, '/') + 1);
	*container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	*group = open(gpath, O_RDWR | O_CLOEXEC);
	if (*container < 0 || *group < 0 || ioctl(*group, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE) ||
	    ioctl(*group, VFIO_GROUP_SET_CONTAINER, container) ||
	    ioctl(*container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -1;
	dev = ioctl(*group, VFIO_GROUP_GET_DEVICE_FD, strrchr(dir, '/') + 1);
	return dev;
}

/* BAR 2's region offset in the vfio device file, memory decoding on. */
static long long vfio_bar2(int dev)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	struct vfio_region_info bar = { .argsz = sizeof(bar),
					.index = VFIO_PCI_BAR2_REGION_INDEX };
	unsigned short cmd;

	if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &cfg) ||
	    ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &bar) ||
	    !(bar.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -1;
	if (pread(dev, &cmd, 2, cfg.offset + PCI_COMMAND) != 2)
		return -1;
	cmd |= PCI_COMMAND_MEMORY;
	if (pwrite(dev, &cmd, 2, cfg.offset + PCI_COMMAND) != 2)
		return -1;
	return bar.offset;
}

/*
 * vfio-pci's removal waits for its user to close the device: a child
 * removes, the mapping is touched meanwhile, then the device is closed.
 */
static void vfio_removal(int dev, long long off)
{
	unsigned char *p = mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_SHARED, dev, off);
	int status, blocked, sig;
	pid_t remover, toucher;

	if (p == MAP_FAILED)
		die("vfio mmap");
	remover = fork();
	if (remover == 0) {
		/* Holding no vfio file itself: the removal waits for the others. */
		munmap(p, GIB);
		close_range(3, ~0U, 0);
		_exit(patdev_sysfs_write(dir, "remove", "1\n") ? 1 : 0);
	}
	sleep(2);
	blocked = waitpid(remover, &status, WNOHANG) == 0;
	toucher = fork();
	if (toucher == 0) {
		__atomic_store_n(p + MIB, 0xa5, __ATOMIC_RELAXED);
		_exit(0);
	}
	waitpid(toucher, &status, 0);
	sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	munmap(p, GIB);
	printf("%-14s after the device's removal: %s; the mapping meanwhile %s\n", "vfio-pci",
	       blocked ? "the removal waits until the user closes the device" :
			 "the removal went through",
	       sig ? strsignal(sig) : "still reads and writes the BAR's memory");
	printf("BENCH figure=bar_removal how=vfio-pci blocked=%d signal=%d\n", blocked, sig);
	close(dev);
}

static void bench_vfio(void)
{
	double t0, map_us, touch_us, again_us, t[REPS];
	int container = -1, group = -1, dev, i;
	unsigned char *p = MAP_FAILED;
	long pt0, pt_kb, faults;
	long long off;
	char mode[128];
	size_t slot;

	dev = vfio_open(&container, &group);
	off = dev < 0 ? -1 : vfio_bar2(dev);
	if (off < 0) {
		printf("%-14s (no IOMMU in this VM, or vfio-pci would not take the device)\n",
		       "vfio-pci");
		printf("BENCH figure=bar how=vfio-pci unavailable=1\n");
		goto out;
	}
	for (i = 0; i <= REPS; i++) {
		if (i)
			munmap(p, GIB);
		pt0 = pagetables_kb();
		t0 = now_us();
		p = mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_SHARED, dev, off);
		if (p == MAP_FAILED)
			die("vfio mmap");
		for (slot = 0; slot < GIB; slot += 2 * MIB)
			(void)__atomic_load_n(p + slot, __ATOMIC_RELAXED);
		t[i ? i - 1 : 0] = now_us() - t0;
		pt_kb = pagetables_kb() - pt0;
	}
	map_us = median(t, REPS);
	memtypes(mode, sizeof(mode));
	munmap(p, GIB);
	p = mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_SHARED, dev, off);
	if (p == MAP_FAILED)
		die("vfio mmap");
	touch_pass(p, &faults, &touch_us, &again_us);
	munmap(p, GIB);
	report("vfio-pci", map_us, pt_kb, faults, touch_us, again_us, "(not readable)", mode);
	vfio_removal(dev, off);
out:
	if (off < 0 && dev >= 0)
		close(dev);
	if (group >= 0)
		close(group);
	if (container >= 0)
		close(container);
	if (off >= 0) {
		waitpid(-1, NULL, 0);	/* the remover, now that the device is closed */
		if (patdev_sysfs_write(NULL, "/sys/bus/pci/rescan", "1\n") ||
		    patdev_pci_find(0x1af4, 0x1110, dir, sizeof(dir)))
			die("rescan");
	} else {
		patdev_pci_unbind(dir);
	}
}

/* Maps the BAR through @how, removes the device, touches the mapping. */
static void remove_under(const char *how)
{
	char path[2 * PATH_MAX], what[160];
	unsigned long long off;
	unsigned char *p;
	int fd, status;
	pid_t pid;

	if (!strcmp(how, "patdev")) {
		fd = open_patdev_bar(&off);
	} else {
		patdev_pci_unbind(dir);
		off = 0;
		snprintf(path, sizeof(path), "%s/resource2_wc", dir);
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (fd < 0)
		die(how);
	p = mmap(NULL, GIB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	if (p == MAP_FAILED)
		die("mmap");
	__atomic_store_n(p, 0x5a, __ATOMIC_RELAXED);
	if (patdev_sysfs_write(dir, "remove", "1\n"))
		die("remove");
	pid = fork();
	if (pid == 0) {
		__atomic_store_n(p + MIB, 0xa5, __ATOMIC_RELAXED);
		_exit(__atomic_load_n(p, __ATOMIC_RELAXED) == 0x5a ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		snprintf(what, sizeof(what), "touches raise %s", strsignal(WTERMSIG(status)));
	else
		snprintf(what, sizeof(what), "still reads%s and writes the BAR's memory",
			 WEXITSTATUS(status) ? " (other data)" : "");
	printf("%-14s after the device's removal: %s\n", how, what);
	printf("BENCH figure=bar_removal how=%s signal=%d\n", how,
	       WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	munmap(p, GIB);
	close(fd);
	if (patdev_sysfs_write(NULL, "/sys/bus/pci/rescan", "1\n"))
		die("rescan");
}

/*
 * The host allocates the pages of the file behind the BAR on their first
 * access (seconds for 1 GiB under TCG): one pass over the whole BAR first,
 * so that no mapping's figures pay for it.
 */
static void warm_host(void)
{
	unsigned long long off;
	long faults;
	double us, again;
	unsigned char *p;
	int fd;

	fd = open_patdev_bar(&off);
	p = patdev_map(fd, GIB, PROT_READ, off / page, 0);
	if (p == MAP_FAILED)
		die("mmap");
	touch_pass(p, &faults, &us, &again);
	printf("warming the host's file behind the BAR: %.0f us, then %.0f us again\n", us, again);
	munmap(p, GIB);
	close(fd);
}

int main(void)
{
	unsigned long long bar_len;
	double patdev_us, sysfs_us;

	page = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (patdev_pci_find(0x1af4, 0x1110, dir, sizeof(dir)))
		die("no ivshmem-plain device (scripts/vm.sh attaches one)");
	if (patdev_pci_bar_resource(dir, 2, &bar_start, &bar_len))
		die("reading the device's resource file");
	printf("\npatdev-bench-bar: ivshmem's BAR 2 (%llu MiB) at %#llx, mapped whole three ways\n"
	       "(times emulated under TCG: compare within this run only)\n", bar_len >> 20,
	       bar_start);
	warm_host();
	printf("%-14s %12s %8s %8s %12s %12s  %-22s %s\n", "mapping", "mapped (us)", "PT (kB)",
	       "faults", "touch (us)", "again (us)", "entries", "mode");
	patdev_us = bench_patdev();
	sysfs_us = bench_sysfs();
	bench_vfio();
	printf("resource2_wc / patdev, time until the whole BAR is mapped: %.1fx\n",
	       sysfs_us / patdev_us);
	printf("BENCH figure=bar_ratio sysfs_over_patdev=%.1f\n", sysfs_us / patdev_us);
	remove_under("patdev");
	remove_under("resource2_wc");
	return 0;
}
