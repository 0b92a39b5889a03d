// SPDX-License-Identifier: GPL-2.0
/*
 * patdev-bench-frame: the cost of a captured frame, by where it lands.
 * vivid (loaded by the bench job with its vb2-vmalloc instance 0) captures
 * 1280x720 RGB24 frames of colour bars into, in turn:
 *   - vivid's own buffers (V4L2_MEMORY_MMAP, vmalloc'ed, WB);
 *   - system-heap dma-bufs (/dev/dma_heap/system, WB), where the kernel
 *     has one;
 *   - patdev dma-bufs of a WB object and of a WC object.
 * For each it reports the CPU time vivid's capture thread spends per frame
 * (filling the buffer through its kernel mapping: its run time in
 * /proc/PID/schedstat) and the time
 * a program takes to read a frame through its user mapping, and the ratios
 * of patdev's to the others', all in one run. Under QEMU's TCG, memory
 * types have no effect: these figures measure the software path (vb2,
 * the importer's mappings, faults), not what WC costs or saves on
 * hardware.
 *
 * Usage: patdev-bench-frame [frames]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/videodev2.h>

#include "patdev_importers.h"
#include "patdev_user.h"

#define W		1280
#define H		720
#define NBUFS		4

enum kind { VIVID_OWN, SYSTEM_HEAP, PATDEV_WB, PATDEV_WC, NKINDS };

static const char *const kind_names[NKINDS] = {
	"vivid's own buffers (MMAP)", "system heap dma-buf", "patdev WB dma-buf",
	"patdev WC dma-buf",
};

struct result {
	int ok;
	double thread_ms;	/* vivid's capture thread CPU per frame */
	double read_ms;		/* the reader's pass over a frame */
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/*
 * CPU time, in ms, of the thread named @comm (vivid's capture thread):
 * the scheduler's run time in /proc/PID/schedstat, in nanoseconds.
 */
static double thread_cpu_ms(const char *comm)
{
	char path[300], name[64];
	double ms = -1;
	struct dirent *d;
	DIR *dir = opendir("/proc");

	while (dir && (d = readdir(dir))) {
		unsigned long long ns;
		FILE *f;
		int match;

		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		match = fscanf(f, "%63s", name) == 1 && !strcmp(name, comm);
		fclose(f);
		if (!match)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/schedstat", d->d_name);
		f = fopen(path, "r");
		if (f && fscanf(f, "%llu", &ns) == 1)
			ms = ns / 1e6;
		if (f)
			fclose(f);
	}
	if (dir)
		closedir(dir);
	return ms;
}

/* A dma-buf of @len bytes of kind @k, or -1. */
static int make_dmabuf(int pd, enum kind k, size_t len, unsigned long long *off)
{
	struct dma_heap_allocation_data a = { .len = len, .fd_flags = O_RDWR | O_CLOEXEC };
	int heap, ret;

	if (k == SYSTEM_HEAP) {
		heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
		if (heap < 0)
			return -1;
		ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a);
		close(heap);
		return ret ? -1 : (int)a.fd;
	}
	if (patdev_create(pd, PATDEV_OBJ_ANON, len,
			  k == PATDEV_WC ? PATDEV_CACHE_WC : PATDEV_CACHE_WB, 0, 0, off))
		return -1;
	return patdev_export(pd, *off, PATDEV_EXPORT_WRITE);
}

static int qbuf(int fd, enum kind k, unsigned int i, int dfd, size_t len)
{
	struct v4l2_buffer b = { .index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = k == VIVID_OWN ? V4L2_MEMORY_MMAP : V4L2_MEMORY_DMABUF };

	if (k != VIVID_OWN) {
		b.m.fd = dfd;
		b.length = len;
	}
	return ioctl(fd, VIDIOC_QBUF, &b);
}

static void run(int pd, enum kind k, int frames, struct result *r)
{
	int fd = patdev_vivid_open(0), dfd[NBUFS], i, n, type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct v4l2_requestbuffers rb = { .count = NBUFS, .type = type };
	unsigned long long off[NBUFS] = { 0 };
	unsigned char *map[NBUFS];
	double t0, cpu0, read = 0;
	size_t len = 0;
	__u32 sizeimage;

	memset(r, 0, sizeof(*r));
	if (fd < 0 || patdev_vivid_format(fd, W, H, 120, &sizeimage))
		return;
	rb.memory = k == VIVID_OWN ? V4L2_MEMORY_MMAP : V4L2_MEMORY_DMABUF;
	if (ioctl(fd, VIDIOC_REQBUFS, &rb) || rb.count < NBUFS)
		goto out;
	for (i = 0; i < NBUFS; i++) {
		if (k == VIVID_OWN) {
			struct v4l2_buffer b = { .index = i, .type = type, .memory = rb.memory };

			if (ioctl(fd, VIDIOC_QUERYBUF, &b))
				goto out;
			len = b.length;
			map[i] = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, b.m.offset);
			dfd[i] = -1;
		} else {
			len = (sizeimage + (2 << 20) - 1) & ~((size_t)(2 << 20) - 1);
			dfd[i] = make_dmabuf(pd, k, len, &off[i]);
			if (dfd[i] < 0)
				goto out;
			map[i] = mmap(NULL, len, PROT_READ, MAP_SHARED, dfd[i], 0);
		}
		if (map[i] == MAP_FAILED || qbuf(fd, k, i, dfd[i], len))
			goto out;
	}
	if (ioctl(fd, VIDIOC_STREAMON, &type))
		goto out;
	cpu0 = thread_cpu_ms("vivid-000-vid-cap");
	t0 = now_ms();
	for (n = 0; n < frames; n++) {
		struct v4l2_buffer b = { .type = type, .memory = rb.memory };
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double t;
		size_t j;

		if (poll(&p, 1, 20000) != 1 || ioctl(fd, VIDIOC_DQBUF, &b))
			goto off;
		t = now_ms();
		for (j = 0; j < sizeimage; j += 64)
			(void)__atomic_load_n(map[b.index] + j, __ATOMIC_RELAXED);
		read += now_ms() - t;
		if (qbuf(fd, k, b.index, dfd[b.index], len))
			goto off;
	}
	r->thread_ms = (thread_cpu_ms("vivid-000-vid-cap") - cpu0) / frames;
	r->read_ms = read / frames;
	r->ok = cpu0 >= 0;
	fprintf(stderr, "  %s: %d frames in %.0f ms\n", kind_names[k], frames, now_ms() - t0);
off:
	ioctl(fd, VIDIOC_STREAMOFF, &type);
out:
	rb.count = 0;
	ioctl(fd, VIDIOC_REQBUFS, &rb);
	for (i = 0; i < NBUFS && k != VIVID_OWN; i++)
		if (off[i])
			patdev_destroy(pd, off[i], 0);
	close(fd);
}

int main(int argc, char **argv)
{
	int frames = argc > 1 ? atoi(argv[1]) : 120, pd = open("/dev/patdev", O_RDWR);
	int k, vivid = patdev_vivid_open(0);
	struct result r[NKINDS];

	if (pd < 0 || vivid < 0) {
		fprintf(stderr, "bench-frame: needs /dev/patdev and vivid (instance 0, vmalloc)\n");
		return 1;
	}
	close(vivid);
	printf("Captured frames (vivid, vb2-vmalloc, %dx%d RGB24, %d frames each):\n", W, H,
	       frames);
	for (k = 0; k < NKINDS; k++)
		run(pd, k, frames, &r[k]);
	printf("  %-28s %22s %22s\n", "buffer", "capture thread ms/frame", "user read ms/frame");
	for (k = 0; k < NKINDS; k++)
		if (r[k].ok)
			printf("  %-28s %22.2f %22.2f\n", kind_names[k], r[k].thread_ms,
			       r[k].read_ms);
		else
			printf("  %-28s %22s %22s\n", kind_names[k], "n/a", "n/a");
	for (k = PATDEV_WB; k <= PATDEV_WC; k++) {
		int base;

		for (base = VIVID_OWN; base <= SYSTEM_HEAP; base++)
			if (r[k].ok && r[base].ok && r[base].thread_ms > 0 && r[base].read_ms > 0)
				printf("  ratio %s / %s: capture %.2fx, read %.2fx\n",
				       kind_names[k], kind_names[base],
				       r[k].thread_ms / r[base].thread_ms,
				       r[k].read_ms / r[base].read_ms);
	}
	printf("  (TCG: memory types have no effect here; this is the software path.)\n");
	close(pd);
	return r[VIVID_OWN].ok && r[PATDEV_WC].ok ? 0 : 1;
}
