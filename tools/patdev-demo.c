// SPDX-License-Identifier: GPL-2.0
/*
 * patdev-demo: map /dev/patdev at offset 0 and print what backs the
 * mapping, as read from the page table (not what the driver asked for).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "patdev_names.h"

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/patdev";
	long page = sysconf(_SC_PAGESIZE);
	struct patdev_version v;
	struct patdev_query q;
	size_t len = 4 * page;
	unsigned char *p;
	int fd, i;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "patdev-demo: open %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (ioctl(fd, PATDEV_IOC_VERSION, &v)) {
		fprintf(stderr, "patdev-demo: PATDEV_IOC_VERSION: %s\n", strerror(errno));
		return 1;
	}
	printf("patdev %llu.%llu, features 0x%llx\n", (unsigned long long)v.major,
	       (unsigned long long)v.minor, (unsigned long long)v.features);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PATDEV_PGOFF_ANON * page);
	if (p == MAP_FAILED) {
		fprintf(stderr, "patdev-demo: mmap: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < 4; i++) {
		p[i * page] = 0x5a;
		memset(&q, 0, sizeof(q));
		q.addr = (uintptr_t)(p + i * page);
		if (ioctl(fd, PATDEV_IOC_QUERY, &q)) {
			fprintf(stderr, "patdev-demo: PATDEV_IOC_QUERY: %s\n", strerror(errno));
			return 1;
		}
		printf("page %d: address %p pfn 0x%llx cache %s%s%s\n", i, (void *)(p + i * page),
		       (unsigned long long)q.pfn, patdev_cache_name(q.cache),
		       q.flags & PATDEV_QUERY_DIRTY ? " dirty" : "",
		       q.flags & PATDEV_QUERY_WRITE ? " writable" : "");
	}
	munmap(p, len);
	close(fd);
	return 0;
}
