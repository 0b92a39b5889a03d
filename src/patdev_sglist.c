// SPDX-License-Identifier: GPL-2.0
/*
 * sglist(9) port. Lists are built by one owner, then shared read-only by
 * holding references, like FreeBSD's: a change to a shared list would
 * change what existing mappings point at under them.
 */
#include <linux/bsearch.h>
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include "patdev_sglist.h"

struct patdev_sglist *patdev_sglist_alloc(unsigned int maxseg, gfp_t gfp)
{
	struct patdev_sglist *sg;

	if (!maxseg || maxseg > PATDEV_SGLIST_MAXSEG)
		return NULL;
	sg = kvzalloc(struct_size(sg, seg, maxseg), gfp);
	if (!sg)
		return NULL;
	kref_init(&sg->ref);
	sg->maxseg = maxseg;
	return sg;
}

struct patdev_sglist *patdev_sglist_hold(struct patdev_sglist *sg)
{
	kref_get(&sg->ref);
	return sg;
}

static void patdev_sglist_release(struct kref *ref)
{
	kvfree(container_of(ref, struct patdev_sglist, ref));
}

/* Drops a reference, as sglist_free() does. */
void patdev_sglist_free(struct patdev_sglist *sg)
{
	if (sg)
		kref_put(&sg->ref, patdev_sglist_release);
}

/**
 * patdev_sglist_append_phys() - add a physical range at the end of the list
 * @sg: the list, not shared
 * @paddr: page-aligned physical address
 * @len: page-aligned non-zero length
 *
 * A range that starts where the last segment ends extends that segment.
 *
 * Return: 0; -EINVAL for unaligned or empty ranges, -EBUSY if the list is
 * shared, -EFBIG if a new segment is needed and none is left (the list is
 * then unchanged).
 */
int patdev_sglist_append_phys(struct patdev_sglist *sg, phys_addr_t paddr, u64 len)
{
	struct patdev_sgseg *last = sg->nseg ? &sg->seg[sg->nseg - 1] : NULL;
	u64 end;

	if (!len || !PAGE_ALIGNED(paddr) || !PAGE_ALIGNED(len) ||
	    check_add_overflow((u64)paddr, len, &end))
		return -EINVAL;
	if (kref_read(&sg->ref) > 1)
		return -EBUSY;
	if (last && last->paddr + last->len == paddr) {
		last->len += len;
		return 0;
	}
	if (sg->nseg == sg->maxseg)
		return -EFBIG;
	sg->seg[sg->nseg].paddr = paddr;
	sg->seg[sg->nseg].len = len;
	sg->seg[sg->nseg].off = last ? last->off + last->len : 0;
	sg->nseg++;
	return 0;
}

unsigned int patdev_sglist_count(const struct patdev_sglist *sg)
{
	return sg->nseg;
}

u64 patdev_sglist_length(const struct patdev_sglist *sg)
{
	const struct patdev_sgseg *last;

	if (!sg->nseg)
		return 0;
	last = &sg->seg[sg->nseg - 1];
	return last->off + last->len;
}

static int patdev_sgseg_cmp(const void *key, const void *elt)
{
	u64 off = *(const u64 *)key;
	const struct patdev_sgseg *seg = elt;

	if (off < seg->off)
		return -1;
	return off >= seg->off + seg->len;
}

static const struct patdev_sgseg *patdev_sglist_find(const struct patdev_sglist *sg, u64 off)
{
	return bsearch(&off, sg->seg, sg->nseg, sizeof(sg->seg[0]), patdev_sgseg_cmp);
}

/**
 * patdev_sglist_lookup() - physical address at byte offset @off of the list
 * @sg: the list
 * @off: offset from the start of the list
 * @paddr: out: the physical address
 * @left: out: bytes from @off to the end of its segment, physically
 *	contiguous from *@paddr on (may be NULL)
 *
 * FreeBSD's SG pager walks the list linearly on every fault; the segments'
 * offsets are sorted, so a binary search finds the segment in O(log n).
 *
 * Return: 0, or -ENXIO when @off is past the end.
 */
int patdev_sglist_lookup(const struct patdev_sglist *sg, u64 off, phys_addr_t *paddr, u64 *left)
{
	const struct patdev_sgseg *seg = patdev_sglist_find(sg, off);

	if (!seg)
		return -ENXIO;
	*paddr = seg->paddr + (off - seg->off);
	if (left)
		*left = seg->off + seg->len - off;
	return 0;
}

/**
 * patdev_sglist_slice() - a new list describing part of @sg
 * @sg: the source list
 * @off: page-aligned start within @sg
 * @len: page-aligned non-zero length
 * @gfp: allocation flags
 *
 * Return: the new list, or an ERR_PTR: -EINVAL for unaligned or
 * out-of-range requests, -ENOMEM.
 */
struct patdev_sglist *patdev_sglist_slice(const struct patdev_sglist *sg, u64 off,
					  u64 len, gfp_t gfp)
{
	const struct patdev_sgseg *first, *seg;
	struct patdev_sglist *slice;
	u64 end, pos;
	int ret;

	if (!len || !PAGE_ALIGNED(off) || !PAGE_ALIGNED(len) ||
	    check_add_overflow(off, len, &end) || end > patdev_sglist_length(sg))
		return ERR_PTR(-EINVAL);
	first = patdev_sglist_find(sg, off);
	seg = patdev_sglist_find(sg, end - 1);
	slice = patdev_sglist_alloc(seg - first + 1, gfp);
	if (!slice)
		return ERR_PTR(-ENOMEM);
	for (seg = first, pos = off; pos < end; seg++) {
		u64 skip = pos - seg->off;
		u64 n = min(seg->len - skip, end - pos);

		ret = patdev_sglist_append_phys(slice, seg->paddr + skip, n);
		if (WARN_ON_ONCE(ret)) {
			patdev_sglist_free(slice);
			return ERR_PTR(ret);
		}
		pos += n;
	}
	return slice;
}
