// SPDX-License-Identifier: GPL-2.0
/*
 * DMA by a device bound to patdev behind an IOMMU (the IOMMU lane: QEMU's
 * q35 with intel-iommu, the guest booted with intel_iommu=on and
 * iommu.strict=1, so that an unmap reaches the IOMMU before it returns).
 * The device reaches what is mapped for it and nothing else: a transfer
 * programmed past its mapping, or to a mapping that ended, is blocked by
 * the IOMMU (a DMAR fault in the kernel's log, which these tests expect)
 * and the memory around is intact. Without an IOMMU such a transfer would
 * write wherever it pointed: these tests refuse to run there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/types.h>

#include "patdev_edu_fixture.h"

/*
 * Opens the kernel's log past its current end. The kernel logs DMAR faults
 * at most ten per 5 s window: faults of earlier tests (patdev_dma's races
 * make many) may have used the window up, so it is waited out first.
 */
static int kmsg_open(void)
{
	int fd;

	usleep(5500 * 1000);
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Waits up to 2 s for a DMAR fault record at @addr's page in the log read by @fd. */
static int kmsg_dmar_fault(int fd, __u64 addr)
{
	char rec[2048], want[64];
	int tries;
	ssize_t n;

	snprintf(want, sizeof(want), "fault addr 0x%llx", (unsigned long long)(addr & ~0xfffULL));
	for (tries = 0; tries < 200; tries++) {
		while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
			if (n <= 0)
				continue;
			rec[n] = 0;
			if (strstr(rec, "DMAR") && strstr(rec, want))
				return 1;
		}
		usleep(10000);
	}
	return 0;
}

FIXTURE_VARIANT(edu) {
	__u64 cache;
};

FIXTURE_VARIANT_ADD(edu, wc) { .cache = PATDEV_CACHE_WC };

/*
 * A transfer past the end of an object's mapping faults in the IOMMU;
 * the object and the object mapped next to it keep their bytes.
 */
TEST_F(edu, transfer_past_the_mapping_is_blocked)
{
	struct patdev_dma_seg sa[MAXSEGS], sb[MAXSEGS];
	__u64 na = MAXSEGS, nb = MAXSEGS, ha, hb, past;
	unsigned long long a, b;
	unsigned char *pa, *pb;
	int kmsg = kmsg_open();

	ASSERT_LE(0, kmsg);
	ASSERT_EQ(1, self->iommu) TH_LOG("without an IOMMU this transfer would land anywhere");
	ASSERT_EQ(0, make_two(self->fd, variant->cache, &a, &pa, &b, &pb));
	fill(pa, self->page, 11);
	fill(pb, self->page, 12);
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, a, ALL, 64, sa, &na, &ha));
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, b, ALL, 64, sb, &nb, &hb));
	ASSERT_EQ(1, na);
	/* The two work: a round trip within each. */
	ASSERT_EQ(0, edu_dma(self->regs, sa[0].addr, EDU_BUF, EDU_XFER_MAX, 0));
	ASSERT_EQ(0, edu_dma(self->regs, EDU_BUF, sa[0].addr, EDU_XFER_MAX, 1));
	/* The page past a's mapping, unless that is b's: then the one before. */
	past = sa[0].addr + sa[0].len;
	if (past == sb[0].addr)
		past = sa[0].addr - self->page;
	ASSERT_EQ(0, edu_dma(self->regs, EDU_BUF, past, EDU_XFER_MAX, 1));
	EXPECT_EQ(1, kmsg_dmar_fault(kmsg, past))
		TH_LOG("no DMAR fault at 0x%llx", (unsigned long long)past);
	EXPECT_EQ(0, differing(pa, self->page, 11));
	EXPECT_EQ(0, differing(pb, self->page, 12));
	EXPECT_EQ(0, patdev_dma_unmap(self->fd, ha));
	EXPECT_EQ(0, patdev_dma_unmap(self->fd, hb));
	munmap(pa, self->page);
	munmap(pb, self->page);
	close(kmsg);
}

/*
 * An unmap takes the mapping out of the IOMMU before it returns: with
 * another mapping keeping bus mastering on, a transfer to the ended one's
 * address faults, and the page (still mapped by the program) is intact.
 */
TEST_F(edu, an_ended_mapping_is_blocked)
{
	struct patdev_dma_seg sa[MAXSEGS], sb[MAXSEGS];
	__u64 na = MAXSEGS, nb = MAXSEGS, ha, hb;
	unsigned long long a, b;
	unsigned char *pa, *pb;
	int kmsg = kmsg_open();

	ASSERT_LE(0, kmsg);
	ASSERT_EQ(1, self->iommu) TH_LOG("without an IOMMU this transfer could land");
	ASSERT_EQ(0, make_two(self->fd, variant->cache, &a, &pa, &b, &pb));
	fill(pa, self->page, 13);
	memset(pb, 0, self->page);
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, a, ALL, 64, sa, &na, &ha));
	ASSERT_EQ(0, patdev_dma_map(self->fd, self->dev, b, ALL, 64, sb, &nb, &hb));
	ASSERT_EQ(0, edu_dma(self->regs, sa[0].addr, EDU_BUF, EDU_XFER_MAX, 0));
	ASSERT_EQ(0, patdev_dma_unmap(self->fd, hb));
	EXPECT_EQ(1, bus_master(self->dir));
	ASSERT_EQ(0, edu_dma(self->regs, EDU_BUF, sb[0].addr, EDU_XFER_MAX, 1));
	EXPECT_EQ(1, kmsg_dmar_fault(kmsg, sb[0].addr));
	EXPECT_EQ(0, not_byte(pb, self->page, 0)) TH_LOG("the transfer landed");
	EXPECT_EQ(0, patdev_dma_unmap(self->fd, ha));
	munmap(pa, self->page);
	munmap(pb, self->page);
	close(kmsg);
}

TEST_HARNESS_MAIN
