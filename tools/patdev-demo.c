// SPDX-License-Identifier: GPL-2.0
/*
 * patdev-demo: the FreeBSD demo's two objects (the shared anonymous one at
 * offset 0, the scatter/gather one at offset PAGE_SIZE) and two objects
 * made with PATDEV_IOC_CREATE (4 pages WB, and one 2 MiB chunk WC, which
 * Linux 6.12 and later map with one 2 MiB entry), side by side: for each
 * of the first pages its address, PFN, entry size and cache mode as read
 * from the page table (not what the driver asked for). Then device
 * memory: the PCI devices of the demo VM (edu's register BAR, ivshmem's
 * 1 GiB BAR) bound to patdev through sysfs, their mmap offsets found
 * where any program finds them (sysfs, patdev/barN_offset). Then a driver
 * in user space: edu's DMA engine, programmed through its UC registers,
 * copies a page of a WC object into the device and back into another
 * page, with the addresses PATDEV_IOC_DMA_MAP answered. Last, the
 * module's object list.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>

#include "patdev_edu.h"
#include "patdev_names.h"
#include "patdev_pci.h"
#include "patdev_user.h"

#define NPAGES 4
#define OBJECTS "/sys/kernel/debug/patdev/objects"

static long page;

static int fail(const char *what)
{
	fprintf(stderr, "patdev-demo: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Maps @len at @off, touches its first pages, prints what their entries say. */
static int show(int fd, const char *name, unsigned long long off, size_t len, int prot)
{
	struct patdev_objinfo info = { .pgoff = off / page };
	struct patdev_query q;
	unsigned char *p;
	int i;

	if (ioctl(fd, PATDEV_IOC_OBJINFO, &info) && errno != ENOENT)
		return fail("PATDEV_IOC_OBJINFO");
	p = mmap(NULL, len, prot, MAP_SHARED, fd, off);
	if (p == MAP_FAILED)
		return fail("mmap");
	if (ioctl(fd, PATDEV_IOC_OBJINFO, &info))
		return fail("PATDEV_IOC_OBJINFO");
	printf("\n%s: mmap offset %#llx -> object range at page offset %llu,", name, off,
	       (unsigned long long)info.base_pgoff);
	printf(" %s, %llu pages, %llu segment(s), object mode %s\n",
	       info.kind < ARRAY_SIZE(patdev_kind_names) ? patdev_kind_names[info.kind] : "?",
	       (unsigned long long)info.size / page,
	       (unsigned long long)info.nsegs, patdev_cache_name(info.cache));
	for (i = 0; i < NPAGES; i++) {
		if (prot & PROT_WRITE)
			p[i * page] = 0x5a;
		else
			(void)__atomic_load_n(p + i * page, __ATOMIC_RELAXED);
		memset(&q, 0, sizeof(q));
		q.addr = (uintptr_t)(p + i * page);
		if (ioctl(fd, PATDEV_IOC_QUERY, &q))
			return fail("PATDEV_IOC_QUERY");
		printf("  page %d: address %p pfn %#llx entry %s cache %s%s%s\n", i,
		       (void *)(p + i * page), (unsigned long long)q.pfn,
		       q.size == 1UL << 30 ? "1G" : q.size == 2UL << 20 ? "2M" :
		       q.size ? "4K" : "none",
		       patdev_cache_name(q.cache), q.flags & PATDEV_QUERY_DIRTY ? " dirty" : "",
		       q.flags & PATDEV_QUERY_WRITE ? " writable" : "");
	}
	munmap(p, len);
	return 0;
}

/*
 * Device memory: binds the first PCI device @vendor:@device to patdev, as
 * an administrator would, and shows BAR @bar through the offset sysfs
 * tells. A VM without the device just says so.
 */
static int show_bar(int fd, const char *name, unsigned int vendor, unsigned int device,
		    int bar, size_t len, int prot)
{
	unsigned long long off;
	char dir[PATH_MAX];

	if (patdev_pci_find(vendor, device, dir, sizeof(dir))) {
		printf("\n%s: no %04x:%04x device here\n", name, vendor, device);
		return 0;
	}
	if (patdev_pci_bind(dir))
		return fail("binding the device to patdev");
	if (patdev_pci_bar_offset(dir, bar, &off))
		return fail("reading the BAR's offset");
	printf("\n%s: %s bound to patdev, %s/patdev/bar%d_offset = %#llx\n", name,
	       strrchr(dir, '/') + 1, dir, bar, off);
	return show(fd, name, off, len, prot);
}

/*
 * NetBSD's bus_dmamem_mmap() beside bus_space_mmap(): edu's registers
 * (UC) and a 2-page WC buffer, both mapped here; the device copies page 0
 * into its buffer and back into page 1.
 */
static int edu_copy_demo(int fd)
{
	struct patdev_dma_seg segs[8];
	unsigned long long regs_off, off;
	__u64 nsegs = 8, handle, src, dst;
	unsigned char *buf;
	char dir[PATH_MAX];
	void *regs;
	int i, ok;

	if (patdev_pci_find(EDU_VENDOR, EDU_DEVICE, dir, sizeof(dir)) ||
	    patdev_pci_bar_offset(dir, 0, &regs_off))
		return fail("finding edu's BAR 0");
	regs = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, regs_off);
	if (regs == MAP_FAILED)
		return fail("mapping edu's registers");
	if (patdev_create(fd, PATDEV_OBJ_ANON, 2 * page, PATDEV_CACHE_WC, 0, 0, &off))
		return fail("PATDEV_IOC_CREATE");
	buf = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	if (buf == MAP_FAILED)
		return fail("mapping the DMA buffer");
	for (i = 0; i < EDU_XFER_MAX; i++)
		buf[i] = (unsigned char)(i * 7 + 1);
	if (patdev_dma_map(fd, regs_off, off, PATDEV_DMA_TO_DEVICE | PATDEV_DMA_FROM_DEVICE, 64,
			   segs, &nsegs, &handle))
		return fail("PATDEV_IOC_DMA_MAP");
	src = patdev_dma_addr(segs, nsegs, 0);
	dst = patdev_dma_addr(segs, nsegs, page);
	printf("\nedu's DMA engine, driven from here, into a WC buffer of 2 pages:\n");
	for (i = 0; i < (int)nsegs; i++)
		printf("  segment %d: DMA address %#llx, %llu bytes\n", i,
		       (unsigned long long)segs[i].addr, (unsigned long long)segs[i].len);
	if (edu_copy(regs, src, dst, EDU_XFER_MAX))
		return fail("edu's transfer did not finish");
	ok = !memcmp(buf, buf + page, EDU_XFER_MAX);
	printf("  edu copied %d bytes %#llx -> device buffer %#llx -> %#llx: %s\n", EDU_XFER_MAX,
	       (unsigned long long)src, EDU_BUF, (unsigned long long)dst,
	       ok ? "the bytes arrived, read through the WC mapping" : "MISMATCH");
	if (patdev_dma_unmap(fd, handle))
		return fail("PATDEV_IOC_DMA_UNMAP");
	munmap(buf, 2 * page);
	munmap(regs, page);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/patdev";
	unsigned long long created, huge;
	struct patdev_version v;
	char line[256];
	FILE *f;
	int fd;

	page = sysconf(_SC_PAGESIZE);
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(dev);
	if (ioctl(fd, PATDEV_IOC_VERSION, &v))
		return fail("PATDEV_IOC_VERSION");
	printf("patdev %llu.%llu, features 0x%llx\n", (unsigned long long)v.major,
	       (unsigned long long)v.minor, (unsigned long long)v.features);

	if (patdev_create(fd, PATDEV_OBJ_ANON, NPAGES * page, PATDEV_CACHE_WB, 0, 0, &created) ||
	    patdev_create(fd, PATDEV_OBJ_SG, 2UL << 20, PATDEV_CACHE_WC, 9, 0, &huge))
		return fail("PATDEV_IOC_CREATE");
	if (show(fd, "FreeBSD's anonymous object (WC)", PATDEV_PGOFF_ANON * page,
		 NPAGES * page, PROT_READ | PROT_WRITE) ||
	    show(fd, "FreeBSD's scatter/gather object (UC; RAM gets UC-)",
		 PATDEV_PGOFF_SG * page, NPAGES * page, PROT_READ) ||
	    show(fd, "a created object (WB)", created, NPAGES * page, PROT_READ | PROT_WRITE) ||
	    show(fd, "a created 2 MiB chunk (WC)", huge, 2UL << 20, PROT_READ | PROT_WRITE))
		return 1;
	/* Read-only: a write to edu's registers could start something. */
	if (show_bar(fd, "edu's registers, BAR 0 (not prefetchable: UC)", 0x1234, 0x11e8, 0,
		     NPAGES * page, PROT_READ) ||
	    show_bar(fd, "ivshmem's shared memory, BAR 2 (prefetchable: WC)", 0x1af4, 0x1110,
		     2, 1UL << 30, PROT_READ | PROT_WRITE) ||
	    edu_copy_demo(fd))
		return 1;

	if (access(OBJECTS, R_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	f = fopen(OBJECTS, "r");
	if (!f)
		return fail(OBJECTS);
	printf("\nobjects (%s):\n", OBJECTS);
	while (fgets(line, sizeof(line), f))
		printf("  %s", line);
	fclose(f);
	close(fd);
	return 0;
}
