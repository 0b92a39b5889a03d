/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The dma-buf importers the selftests and the frame benchmark drive:
 * vgem (DRM PRIME) and vivid (V4L2 capture into V4L2_MEMORY_DMABUF
 * buffers).
 */
#ifndef _PATDEV_IMPORTERS_H
#define _PATDEV_IMPORTERS_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <drm/drm.h>
#include <linux/videodev2.h>

/*
 * The vgem DRM node (a dma-buf importer), opened: the one DRM_IOCTL_VERSION
 * names "vgem". -1 without vgem.
 */
static inline int patdev_vgem_open(void)
{
	char path[64], name[16];
	int i, fd;

	for (i = 0; i < 256; i++) {
		struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };

		snprintf(path, sizeof(path), i < 128 ? "/dev/dri/card%d" : "/dev/dri/renderD%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(name, 0, sizeof(name));
		if (!ioctl(fd, DRM_IOCTL_VERSION, &v) && !strcmp(name, "vgem"))
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * vgem imports the dma-buf @dmabuf: its handle in *@handle. Returns 0, or
 * -1 with errno (the exporter's answer where the import maps it).
 */
static inline int patdev_vgem_import(int vgem, int dmabuf, __u32 *handle)
{
	struct drm_prime_handle imp = { .fd = dmabuf };

	if (ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &imp))
		return -1;
	*handle = imp.handle;
	return 0;
}

static inline int patdev_vgem_close(int vgem, __u32 handle)
{
	struct drm_gem_close gc = { .handle = handle };

	return ioctl(vgem, DRM_IOCTL_GEM_CLOSE, &gc);
}

/*
 * vivid, the V4L2 test capture driver, as a dma-buf importer: instance
 * @inst's capture node (bus "platform:vivid-00N"; scripts/guest.sh loads
 * instance 0 with vb2-vmalloc, instance 1 with vb2-dma-contig), opened, or
 * -1.
 */
static inline int patdev_vivid_open(int inst)
{
	char path[32], want[32];
	int i, fd;

	snprintf(want, sizeof(want), "platform:vivid-%03d", inst);
	for (i = 0; i < 64; i++) {
		struct v4l2_capability cap;

		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) && !strcmp((char *)cap.bus_info, want) &&
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE))
			return fd;
		close(fd);
	}
	return -1;
}

/* vivid's controls (drivers/media/test-drivers/vivid/vivid-ctrls.c). */
#define PATDEV_VIVID_CID_TEST_PATTERN	0x00f0f000
#define PATDEV_VIVID_CID_OSD_TEXT_MODE	0x00f0f001
#define PATDEV_VIVID_100_BARS		1
#define PATDEV_VIVID_OSD_NONE		2
#define PATDEV_VIVID_W			320
#define PATDEV_VIVID_H			180

static inline int patdev_vivid_ctrl(int fd, __u32 id, __s32 val)
{
	struct v4l2_ext_control c = { .id = id, .value = val };
	struct v4l2_ext_controls cs = { .which = V4L2_CTRL_WHICH_CUR_VAL, .count = 1,
					.controls = &c };

	return ioctl(fd, VIDIOC_S_EXT_CTRLS, &cs);
}

/*
 * The webcam input, @width x @height RGB24 (a webcam size: 320x180,
 * 640x360, 640x480, 1280x720, ...), 100% colour bars and no text: every
 * frame is eight equal bars of exact full-range colours. Asks for @fps
 * frames a second (vivid grants the nearest it has). The frame size in
 * *@sizeimage. Returns 0 or -1 with errno.
 */
static inline int patdev_vivid_format(int fd, __u32 width, __u32 height, __u32 fps,
				      __u32 *sizeimage)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_streamparm parm = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	int input = 0;

	if (ioctl(fd, VIDIOC_S_INPUT, &input) ||
	    patdev_vivid_ctrl(fd, PATDEV_VIVID_CID_TEST_PATTERN, PATDEV_VIVID_100_BARS) ||
	    patdev_vivid_ctrl(fd, PATDEV_VIVID_CID_OSD_TEXT_MODE, PATDEV_VIVID_OSD_NONE))
		return -1;
	f.fmt.pix.width = width;
	f.fmt.pix.height = height;
	f.fmt.pix.pixelformat = V4L2_PIX_FMT_RGB24;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	if (ioctl(fd, VIDIOC_S_FMT, &f))
		return -1;
	if (f.fmt.pix.width != width || f.fmt.pix.height != height ||
	    f.fmt.pix.pixelformat != V4L2_PIX_FMT_RGB24 || f.fmt.pix.bytesperline != width * 3) {
		errno = ERANGE;
		return -1;
	}
	*sizeimage = f.fmt.pix.sizeimage;
	parm.parm.capture.timeperframe.numerator = 1;
	parm.parm.capture.timeperframe.denominator = fps;
	ioctl(fd, VIDIOC_S_PARM, &parm);
	return 0;
}

/*
 * The tests' frames: 320x180, at 60 a second, as fast as the webcam goes
 * (TCG makes each frame slow enough).
 */
static inline int patdev_vivid_setup(int fd, __u32 *sizeimage)
{
	return patdev_vivid_format(fd, PATDEV_VIVID_W, PATDEV_VIVID_H, 60, sizeimage);
}

static inline int patdev_vivid_reqbufs(int fd, unsigned int count)
{
	struct v4l2_requestbuffers rb = { .count = count, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
					  .memory = V4L2_MEMORY_DMABUF };

	return ioctl(fd, VIDIOC_REQBUFS, &rb);
}

/*
 * Queues the dma-buf @dfd as buffer @index: vb2 imports it then (vmap,
 * and for dma-contig a DMA mapping of the attachment), which pins a
 * patdev object until REQBUFS(0).
 */
static inline int patdev_vivid_qbuf(int fd, unsigned int index, int dfd, size_t len)
{
	struct v4l2_buffer b = { .index = index, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				 .memory = V4L2_MEMORY_DMABUF, .length = len };

	b.m.fd = dfd;
	return ioctl(fd, VIDIOC_QBUF, &b);
}

#endif /* _PATDEV_IMPORTERS_H */
