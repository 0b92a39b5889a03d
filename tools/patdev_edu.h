/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A user-space driver for QEMU's edu device (PCI 1234:11e8, QEMU's
 * docs/specs/edu.rst) bound to patdev: its registers through the UC
 * mapping of BAR 0, its DMA engine on RAM objects that PATDEV_IOC_DMA_MAP
 * mapped for it. Shared by the demo and the selftests.
 *
 * The engine copies up to 4 KiB between a DMA address and the device's
 * own buffer, at device address 0x40000, one transfer at a time; a
 * transfer completes on a 100 ms timer of the machine's virtual clock.
 */
#ifndef _PATDEV_EDU_H
#define _PATDEV_EDU_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <linux/types.h>

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_REG_ID	0x00
#define EDU_REG_SRC	0x80
#define EDU_REG_DST	0x88
#define EDU_REG_COUNT	0x90
#define EDU_REG_CMD	0x98
#define EDU_CMD_RUN	0x1
#define EDU_CMD_TO_RAM	0x2	/* device buffer -> RAM; without: RAM -> buffer */
#define EDU_BUF		0x40000ULL	/* the device's buffer, in its own space */
#define EDU_BUF_SIZE	4096
/*
 * The longest transfer used, from the buffer's start: QEMU until 8.0
 * takes a transfer that ends at the buffer's end for out of bounds (an
 * off-by-one) and stops the whole machine (hw_error()).
 */
#define EDU_XFER_MAX	(EDU_BUF_SIZE / 2)

/*
 * Register accesses the compiler neither drops, merges nor reorders: 32
 * bits below 0x80 (the device answers all ones to others), 32 or 64 from
 * 0x80 on.
 */
static inline __u32 edu_read32(void *regs, unsigned int reg)
{
	return __atomic_load_n((__u32 *)((char *)regs + reg), __ATOMIC_SEQ_CST);
}

static inline __u64 edu_read64(void *regs, unsigned int reg)
{
	return __atomic_load_n((__u64 *)((char *)regs + reg), __ATOMIC_SEQ_CST);
}

static inline void edu_write64(void *regs, unsigned int reg, __u64 val)
{
	__atomic_store_n((__u64 *)((char *)regs + reg), val, __ATOMIC_SEQ_CST);
}

/* Is a transfer still running? */
static inline int edu_busy(void *regs)
{
	return edu_read64(regs, EDU_REG_CMD) & EDU_CMD_RUN;
}

/* Starts a transfer of @len bytes from @src to @dst; @to_ram: buffer -> RAM. */
static inline void edu_dma_start(void *regs, __u64 src, __u64 dst, __u64 len, int to_ram)
{
	edu_write64(regs, EDU_REG_SRC, src);
	edu_write64(regs, EDU_REG_DST, dst);
	edu_write64(regs, EDU_REG_COUNT, len);
	edu_write64(regs, EDU_REG_CMD, EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0));
}

/* Polls the command register until the transfer is done: 0, or -1 after @ms. */
static inline int edu_dma_wait(void *regs, unsigned int ms)
{
	struct timespec t = { 0, 1000000 };
	unsigned int i;

	for (i = 0; i < ms; i++) {
		if (!edu_busy(regs))
			return 0;
		nanosleep(&t, NULL);
	}
	return edu_busy(regs) ? -1 : 0;
}

/*
 * One transfer, waited for. The device ignores its registers while a
 * transfer runs, so one that another program started (and may have left
 * behind when it exited) is waited for first.
 */
static inline int edu_dma(void *regs, __u64 src, __u64 dst, __u64 len, int to_ram)
{
	if (edu_dma_wait(regs, 10000))
		return -1;
	edu_dma_start(regs, src, dst, len, to_ram);
	return edu_dma_wait(regs, 10000);
}

/*
 * Copies @len bytes from DMA address @src to @dst through the device's
 * buffer, EDU_XFER_MAX at a time: 0, or -1 if the device did not finish.
 */
static inline int edu_copy(void *regs, __u64 src, __u64 dst, __u64 len)
{
	__u64 done, n;

	for (done = 0; done < len; done += n) {
		n = len - done < EDU_XFER_MAX ? len - done : EDU_XFER_MAX;
		if (edu_dma(regs, src + done, EDU_BUF, n, 0) ||
		    edu_dma(regs, EDU_BUF, dst + done, n, 1))
			return -1;
	}
	return 0;
}

#endif /* _PATDEV_EDU_H */
