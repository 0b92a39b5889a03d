/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A port of the useful part of FreeBSD's sglist(9): an immutable-once-shared,
 * refcounted list of physical ranges. Segments here are page-aligned only.
 */
#ifndef _PATDEV_SGLIST_H
#define _PATDEV_SGLIST_H

#include <linux/kref.h>
#include <linux/types.h>

/* A 4 GiB list of single pages. */
#define PATDEV_SGLIST_MAXSEG	1048576U

/**
 * struct patdev_sgseg - one physically contiguous range
 * @paddr: physical start, page-aligned
 * @len: length in bytes, a multiple of the page size
 * @off: offset of the segment's start within the whole list
 */
struct patdev_sgseg {
	phys_addr_t paddr;
	u64 len;
	u64 off;
};

/**
 * struct patdev_sglist - a scatter/gather list of physical ranges
 * @ref: holders; modifications are refused once there are several
 * @nseg: segments in use
 * @maxseg: segments allocated
 * @seg: the segments, in list order
 */
struct patdev_sglist {
	struct kref ref;
	unsigned int nseg;
	unsigned int maxseg;
	struct patdev_sgseg seg[];
};

struct patdev_sglist *patdev_sglist_alloc(unsigned int maxseg, gfp_t gfp);
struct patdev_sglist *patdev_sglist_hold(struct patdev_sglist *sg);
void patdev_sglist_free(struct patdev_sglist *sg);
int patdev_sglist_append_phys(struct patdev_sglist *sg, phys_addr_t paddr, u64 len);
unsigned int patdev_sglist_count(const struct patdev_sglist *sg);
u64 patdev_sglist_length(const struct patdev_sglist *sg);
struct patdev_sglist *patdev_sglist_slice(const struct patdev_sglist *sg, u64 off,
					  u64 len, gfp_t gfp);
int patdev_sglist_lookup(const struct patdev_sglist *sg, u64 off, phys_addr_t *paddr, u64 *left);

#endif /* _PATDEV_SGLIST_H */
