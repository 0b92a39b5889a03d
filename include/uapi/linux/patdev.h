/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * patdev - device mmap with explicit cache attributes
 *
 * Every object owns a range of mmap offsets, aligned to 2 MiB, in one offset
 * space shared by every open of the device: a mapping at an offset inside
 * an object maps that object from that page on. Two offsets are names
 * kept from FreeBSD's demo (d_mmap_single() rewrites them to the object's
 * own range): page offset PATDEV_PGOFF_ANON maps the shared anonymous
 * object (write-combining) and page offset PATDEV_PGOFF_SG the
 * scatter/gather object (uncached), both from their first page. More
 * objects are made with PATDEV_IOC_CREATE. Only MAP_SHARED mappings are
 * accepted.
 *
 * Device memory: a PCI device bound to the patdev driver (its sysfs
 * driver_override set to "patdev", then drivers_probe) has each memory BAR
 * of at least a page named as an object (PATDEV_OBJ_BAR) for as long as it
 * stays bound. The object's first mmap offset, in bytes, is in sysfs:
 * /sys/bus/pci/devices/DOMAIN:BUS:DEV.FN/patdev/barN_offset (hexadecimal).
 * Mapping one, and changing its mode, need CAP_SYS_RAWIO and no lockdown,
 * as /dev/mem does. Unbinding, removing or resetting the device revokes
 * every entry: touches raise SIGBUS (see PATDEV_OBJ_BAR).
 *
 * Offsets in ioctls: every ioctl that names an object by an mmap offset
 * (OBJINFO, DESTROY, MR_QUERY, MR_CLEAR, SET_CACHE, EXPORT, DMA_MAP's
 * @offset) answers, before
 * any other check of the object:
 *   ENOENT  offset 0 before the first mmap there made the anonymous object
 *           (OBJINFO, MR_QUERY, MR_CLEAR, EXPORT);
 *   EPERM   offsets 0 and PAGE_SIZE for DESTROY and SET_CACHE: the module's
 *           own objects, made yet or not, keep their names and modes;
 *   ENXIO   an offset that names no object (below the first range and past
 *           the two names, a destroyed object's, past an object's end);
 *   EINTR   offset 0: killed while the first mmap there makes its object.
 * Calls that wait for other processes, and how long they can, are listed
 * in docs/device.md ("Where a call waits").
 */
#ifndef _UAPI_LINUX_PATDEV_H
#define _UAPI_LINUX_PATDEV_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * ABI 1.0 is frozen: no ioctl number, structure layout or meaning below
 * changes within major 1. It grows only by the rules it was built for:
 * a new call or meaning gets a PATDEV_FEAT_* bit and the next minor; a new
 * field takes the place of a reserved one, whose zero keeps the old
 * meaning; unknown flags and non-zero reserved fields are EINVAL, so a
 * program can probe. No layout of the 0.x series is answered.
 */
#define PATDEV_VERSION_MAJOR	1
#define PATDEV_VERSION_MINOR	0

/* mmap offsets, in pages: offset = PATDEV_PGOFF_* * page size */
#define PATDEV_PGOFF_ANON	0
#define PATDEV_PGOFF_SG		1
/* Offsets from here on (in pages) belong to objects' own ranges. */
#define PATDEV_PGOFF_FIRST_RANGE	512

/**
 * enum patdev_cache - memory type of a mapping
 * @PATDEV_CACHE_WB: write-back (normal cached memory)
 * @PATDEV_CACHE_WC: write-combining
 * @PATDEV_CACHE_UC_MINUS: uncached, may be overridden to WC by an MTRR
 * @PATDEV_CACHE_UC: strongly uncached
 * @PATDEV_CACHE_WT: write-through
 * @PATDEV_CACHE_WP: write-protected
 *
 * RAM objects are WB, WC or UC- (RAM cannot be strong UC on x86). Device
 * memory: the local APIC page (sg_source=lapic) is UC; a prefetchable BAR
 * is WC (the default), UC- or UC, a non-prefetchable one UC (the default)
 * or UC-. WT and WP only
 * ever appear when decoding a page table entry. Without PAT (the nopat boot
 * option, or a CPU or hypervisor without it) the hardware has no WC: an
 * object that would be WC, RAM or BAR, is UC-, and says so; a UC object's entries are
 * still strong UC (PCD and PWT).
 */
enum patdev_cache {
	PATDEV_CACHE_WB = 0,
	PATDEV_CACHE_WC = 1,
	PATDEV_CACHE_UC_MINUS = 2,
	PATDEV_CACHE_UC = 3,
	PATDEV_CACHE_WT = 4,
	PATDEV_CACHE_WP = 5,
};

/**
 * struct patdev_version - answer of PATDEV_IOC_VERSION
 * @major: PATDEV_VERSION_MAJOR of the loaded module
 * @minor: PATDEV_VERSION_MINOR of the loaded module
 * @features: PATDEV_FEAT_* bits the module implements
 */
struct patdev_version {
	__u64 major;
	__u64 minor;
	__u64 features;
};

#define PATDEV_FEAT_QUERY	(1ULL << 0)
#define PATDEV_FEAT_OBJINFO	(1ULL << 1)
#define PATDEV_FEAT_RW		(1ULL << 2)
#define PATDEV_FEAT_PREFAULT	(1ULL << 3)
#define PATDEV_FEAT_CREATE	(1ULL << 4)
/* Mappings get 2 MiB entries where they can (Linux 6.12 and later). */
#define PATDEV_FEAT_HUGE	(1ULL << 5)
/* Per-page modified/referenced state (PATDEV_IOC_MR_QUERY, PATDEV_IOC_MR_CLEAR). */
#define PATDEV_FEAT_MR		(1ULL << 6)
/* Object-wide cache-mode change (PATDEV_IOC_SET_CACHE). */
#define PATDEV_FEAT_SET_CACHE	(1ULL << 7)
/* PCI devices' memory BARs bound to patdev are objects (PATDEV_OBJ_BAR). */
#define PATDEV_FEAT_BAR		(1ULL << 8)
/* Mappings get 1 GiB entries where they can (Linux 6.12 and later). */
#define PATDEV_FEAT_HUGE_1G	(1ULL << 9)
/* RAM objects can be exported as dma-bufs (PATDEV_IOC_EXPORT). */
#define PATDEV_FEAT_EXPORT	(1ULL << 10)
/* RAM objects can be mapped for a bound device's DMA (PATDEV_IOC_DMA_MAP). */
#define PATDEV_FEAT_DMA		(1ULL << 11)

/**
 * struct patdev_query - NetBSD pmap_extract() for one user address
 * @addr: in: virtual address in the caller's mm, inside a patdev mapping
 * @flags: out: PATDEV_QUERY_* bits of the page table entry
 * @pfn: out: page frame number, valid when PATDEV_QUERY_PRESENT is set and
 *	the file was opened with CAP_SYS_ADMIN (0 otherwise, as in
 *	/proc/pid/pagemap)
 * @cache: out: &enum patdev_cache decoded from the entry's PAT, PCD and PWT
 *	bits through the CPU's PAT register
 * @size: out: bytes the entry maps: 4096, 2097152 for a 2 MiB entry
 *	(PATDEV_FEAT_HUGE), 1073741824 for a 1 GiB one (PATDEV_FEAT_HUGE_1G);
 *	0 when no entry is present
 * @reserved: in: must be zero (EINVAL otherwise); out: zero
 *
 * The answer is read from the page table itself, so it is the effective
 * attribute, not the one the driver asked for. @pfn is the frame of the
 * 4 KiB page at @addr, inside a 2 MiB entry too.
 */
struct patdev_query {
	__u64 addr;
	__u64 flags;
	__u64 pfn;
	__u64 cache;
	__u64 size;
	__u64 reserved;
};

#define PATDEV_QUERY_PRESENT	(1ULL << 0)
#define PATDEV_QUERY_WRITE	(1ULL << 1)
#define PATDEV_QUERY_DIRTY	(1ULL << 2)
#define PATDEV_QUERY_YOUNG	(1ULL << 3)

/**
 * enum patdev_obj_kind - what backs an object
 * @PATDEV_OBJ_ANON: anonymous RAM pages owned by the object
 * @PATDEV_OBJ_SG: a scatter/gather list of physical ranges (FreeBSD OBJT_SG)
 * @PATDEV_OBJ_BAR: a memory BAR of a PCI device bound to patdev (NetBSD's
 *	bus_space_mmap()): named while the device stays bound; unbinding,
 *	removing or resetting the device revokes every entry of it (touches
 *	raise SIGBUS, as after PATDEV_DESTROY_REVOKE), and its offsets then
 *	name nothing. After a reset the device is bound again with new
 *	objects, under new offsets. Not destroyable (EPERM).
 */
enum patdev_obj_kind {
	PATDEV_OBJ_ANON = 1,
	PATDEV_OBJ_SG = 2,
	PATDEV_OBJ_BAR = 3,
};

/* Chunk sizes an object's RAM may come in: 1 << 0 to 1 << 9 pages. */
#define PATDEV_CHUNK_ORDERS	10

/**
 * struct patdev_objinfo - answer of PATDEV_IOC_OBJINFO
 * @pgoff: in: an mmap page offset naming the object: PATDEV_PGOFF_ANON,
 *	PATDEV_PGOFF_SG, or any page of an object's own range
 * @kind: out: &enum patdev_obj_kind
 * @size: out: object size in bytes; touching a mapping past it is SIGBUS
 * @cache: out: &enum patdev_cache every mapping of the object gets
 * @nmaps: out: number of vmas (in any process) mapping the object
 * @nsegs: out: physically contiguous segments of the object's memory
 * @flags: out: PATDEV_OBJ_*
 * @base_pgoff: out: first page offset of the object's own range
 * @chunks: out: @chunks[i] is how many physically contiguous chunks of
 *	(1 << i) pages the object's memory was allocated as
 * @reserved: in: must be zero (EINVAL otherwise); out: zero
 *
 * @cache is the mode the object's entries really get (see &enum
 * patdev_cache for PAT being off).
 * Errors: ENOENT, ENXIO (see "Offsets in ioctls" above), EINVAL (@reserved).
 */
struct patdev_objinfo {
	__u64 pgoff;
	__u64 kind;
	__u64 size;
	__u64 cache;
	__u64 nmaps;
	__u64 nsegs;
	__u64 flags;
	__u64 base_pgoff;
	__u64 chunks[PATDEV_CHUNK_ORDERS];
	__u64 reserved;
};

#define PATDEV_OBJ_READONLY	(1ULL << 0)
/* Made by PATDEV_IOC_CREATE */
#define PATDEV_OBJ_CREATED	(1ULL << 1)
/* Keeps per-page modified/referenced state (PATDEV_CREATE_TRACK) */
#define PATDEV_OBJ_TRACKED	(1ULL << 2)
/* Device memory (a BAR, the local APIC page): CAP_SYS_RAWIO to map */
#define PATDEV_OBJ_MMIO		(1ULL << 3)

/**
 * struct patdev_create - make an object (PATDEV_IOC_CREATE)
 * @kind: in: &enum patdev_obj_kind
 * @size: in: size in bytes, a non-zero multiple of the page size (of the
 *	chunk size for PATDEV_OBJ_SG)
 * @cache: in: PATDEV_CACHE_WB, PATDEV_CACHE_WC or PATDEV_CACHE_UC_MINUS;
 *	without PAT, WC becomes UC- (PATDEV_IOC_OBJINFO tells)
 * @sg_order: in: PATDEV_OBJ_SG: every chunk is (1 << @sg_order) pages,
 *	@sg_order < PATDEV_CHUNK_ORDERS; PATDEV_OBJ_ANON: must be 0, the
 *	module takes the largest chunks, up to 2 MiB, the allocator gives
 *	without reclaiming for them
 * @flags: in: PATDEV_CREATE_READONLY (no writable mapping may be made),
 *	PATDEV_CREATE_TRACK (keep per-page modified/referenced state, see
 *	&struct patdev_mr), PATDEV_CREATE_DMA32 (all the memory below 4 GiB,
 *	for importers of its dma-bufs whose devices have 32-bit DMA masks and
 *	no IOMMU: see &struct patdev_export; it counts against max_mb as any
 *	object, and takes memory of the kernel's 32-bit zone)
 * @offset: out: the mmap offset, in bytes, of the object's first page
 * @reserved: in: must be zero; out: zero
 *
 * The object is zeroed, with its memory type already set. It is named by
 * @offset until PATDEV_IOC_DESTROY or until the open file that made it is
 * released; mappings keep it alive after that. Offsets are never reused.
 * Objects made with chunks under 2 MiB in WC or UC- split the kernel's 2 MiB
 * direct-map pages around them for good (x86 does not merge them back).
 * Errors: EINVAL (bad field), ENOSPC (as many objects as the module
 * parameter max_objects allows), ENOMEM (past the module parameter
 * max_mb of created memory, or no memory), EINTR (killed while allocating).
 */
struct patdev_create {
	__u64 kind;
	__u64 size;
	__u64 cache;
	__u64 sg_order;
	__u64 flags;
	__u64 offset;
	__u64 reserved;
};

#define PATDEV_CREATE_READONLY	(1ULL << 0)
#define PATDEV_CREATE_TRACK	(1ULL << 1)
#define PATDEV_CREATE_DMA32	(1ULL << 2)

/**
 * struct patdev_destroy - remove an object's name (PATDEV_IOC_DESTROY)
 * @offset: in: the offset PATDEV_IOC_CREATE answered, through the same open
 *	file (EPERM for offsets 0 and PAGE_SIZE, the module's own objects;
 *	ENXIO if it names nothing or is not the object's first offset; EPERM
 *	if another file made it)
 * @flags: in: PATDEV_DESTROY_REVOKE: also remove every entry of the object
 *	from every process's page tables; touching its mappings then raises
 *	SIGBUS
 * @reserved: in: must be zero
 *
 * Later mmaps at the offset fail with ENXIO. Without REVOKE, existing
 * mappings keep working and keep the object alive until they go. With
 * REVOKE the call first waits for a cache-mode change of the object in
 * progress (killable: EINTR, and nothing was done); once the object is
 * marked revoked it completes whatever happens to the caller, waiting for
 * the mmaps and forks of other processes that could hold entries the
 * removal would otherwise miss. An object another thread of the owner
 * destroyed without REVOKE during that first wait is still revoked.
 * REVOKE fails with EBUSY, and nothing is done, while an importer of one of
 * the object's dma-bufs holds a DMA or kernel mapping of it (see &struct
 * patdev_export).
 */
struct patdev_destroy {
	__u64 offset;
	__u64 flags;
	__u64 reserved;
};

#define PATDEV_DESTROY_REVOKE	(1ULL << 0)

/**
 * struct patdev_prefault - FreeBSD MAP_PREFAULT_READ/WRITE on a mapping
 * @addr: in: start of the range in the caller's mm (rounded down to a page)
 * @len: in: length of the range (rounded up to pages), non-zero
 * @flags: in: PATDEV_PREFAULT_READ or PATDEV_PREFAULT_WRITE
 * @reserved: must be zero
 * @npages: out: pages of the range mapped when the call returns, whether
 *	entered by it or already present; pages past the end of an object
 *	are never mapped
 *
 * The range must lie entirely inside patdev mappings of the caller, which
 * may be several adjacent vmas (EINVAL otherwise), none of them PROT_NONE
 * (EACCES). READ enters present, clean entries; WRITE enters writable
 * entries already marked dirty and accessed, and needs writable mappings
 * (EACCES otherwise). Where the kernel wants to see the first write to a
 * writable mapping (soft-dirty tracking after a clear_refs, for one), WRITE
 * enters read-only clean entries instead and the first write faults as
 * usual. Entries that are already present are left as they are. Pages past
 * an object's end are neither walked nor counted. ENXIO: the object was
 * revoked (PATDEV_DESTROY_REVOKE).
 *
 * With PATDEV_FEAT_HUGE, every empty 2 MiB-aligned 2 MiB of the range
 * that one aligned physical run of the object backs gets one 2 MiB entry
 * (with PATDEV_FEAT_HUGE_1G, every such 1 GiB one 1 GiB entry first), as a
 * fault there would (see docs/device.md for the kernels and settings that
 * allow it, and for the protection-key check of that path); the rest gets
 * 4 KiB entries, a page table's share at a time.
 */
struct patdev_prefault {
	__u64 addr;
	__u64 len;
	__u32 flags;
	__u32 reserved;
	__u64 npages;
};

#define PATDEV_PREFAULT_READ	(1U << 0)
#define PATDEV_PREFAULT_WRITE	(1U << 1)

/**
 * struct patdev_range_query - NetBSD pmap_resident_count()/pmap_is_modified()
 * over a range of patdev mappings, read from the page tables
 * @addr: in: start of the range (rounded down to a page)
 * @len: in: length (rounded up to pages), non-zero
 * @resident: out: pages with a present entry
 * @writable: out: present entries that allow writes
 * @dirty: out: present entries marked dirty (modified)
 * @young: out: present entries marked accessed (referenced)
 * @huge: out: those of @resident mapped by entries larger than a page
 *	(2 MiB or 1 GiB)
 * @huge_1g: out: those of @huge mapped by 1 GiB entries
 * @reserved: in: must be zero (EINVAL otherwise); out: zero
 *
 * Counts are in pages: a 2 MiB or 1 GiB entry counts each of its pages
 * that lie in the range, with the entry's flags. The range rules of &struct
 * patdev_prefault apply, except that PROT_NONE mappings may be counted.
 * Pages past an object's end are counted as absent without being walked,
 * so a huge mapping of a small object answers at once.
 */
struct patdev_range_query {
	__u64 addr;
	__u64 len;
	__u64 resident;
	__u64 writable;
	__u64 dirty;
	__u64 young;
	__u64 huge;
	__u64 huge_1g;
	__u64 reserved;
};

/**
 * struct patdev_mmap_flags - prefault the next mmaps of this open file
 * @flags: 0, PATDEV_PREFAULT_READ or PATDEV_PREFAULT_WRITE; the closest
 *	Linux gets to passing FreeBSD's MAP_PREFAULT_* to mmap(2): every later
 *	mmap through this file descriptor's open file populates its pages
 *	before returning (WRITE on a mapping without PROT_WRITE: EACCES)
 * @reserved: must be zero
 */
struct patdev_mmap_flags {
	__u32 flags;
	__u32 reserved;
};

/**
 * struct patdev_mr - NetBSD pmap_is_modified()/pmap_is_referenced() and
 * pmap_clear_modify()/pmap_clear_reference() over pages of an object
 * @offset: in: an mmap offset, in bytes, naming a tracked object (as for
 *	PATDEV_IOC_OBJINFO: 0, PAGE_SIZE, or a page of an object's range)
 * @first: in: first page of the object
 * @npages: in: number of pages, non-zero, [@first, @first + @npages)
 *	inside the object
 * @flags: in: PATDEV_IOC_MR_QUERY: must be zero; PATDEV_IOC_MR_CLEAR:
 *	PATDEV_MR_MODIFIED, PATDEV_MR_REFERENCED or both, the states to clear
 * @modified: out: pages of the range that were modified
 * @referenced: out: pages of the range that were referenced
 * @modified_map: in: 0, or the user address of a bitmap of
 *	ceil(@npages / 64) __u64 words: bit i % 64 of word i / 64 is set
 *	when page @first + i was modified
 * @referenced_map: in: 0, or a bitmap as @modified_map, of referenced pages
 * @reserved: in: must be zero
 *
 * BARs track when the module's bar_track parameter was set as they were
 * bound: a frame buffer's damage, on memory without struct pages.
 * The state belongs to the page of the object, not to a mapping: it is
 * kept when every mapping is gone and every file closed, for as long as
 * the object lives. A page is referenced from the first access through any
 * mapping (or a PATDEV_IOC_PREFAULT that entered it), and modified from
 * the first write through any mapping, until cleared; read() and write()
 * of the device do not mark pages. Clearing removes the page's entries
 * from every process, so that the next access faults and marks the page
 * again; no page is writable anywhere while it is not marked modified. The
 * answers of PATDEV_IOC_MR_CLEAR are the state before the clear. A tracked
 * object's mappings take one fault per page (no fault-around, no 2 MiB
 * entries), and PATDEV_IOC_SET_MMAP_FLAGS does not populate them.
 * The calls work in rounds of 16384 pages. Each round's state is reported
 * first, in the bitmaps and in @modified and @referenced of this structure
 * (both written back after every round), and only then cleared, exactly
 * as reported: no state is ever cleared without having been reported, a
 * page marked again meanwhile keeps its mark, and another thread that
 * unmaps or write-protects the bitmaps or this structure under the call
 * can only make it fail.
 * Errors: ENOENT, ENXIO (see "Offsets in ioctls" above), EOPNOTSUPP (the
 * object does not track), EINVAL (bad range, flags or reserved field),
 * EPERM (PATDEV_IOC_MR_CLEAR of a created object through another open file
 * than its creator's, or of a BAR without CAP_SYS_RAWIO or under
 * lockdown), EFAULT (a bitmap or this structure could not be
 * written: the bitmaps are checked whole first; a failure in a later
 * round leaves the earlier rounds cleared, as the counts last written
 * say, and the rest untouched; keep this structure inside one page for
 * its counts to be written whole), EINTR (killed waiting for another
 * clear of the object, or between rounds; the same holds), ENOMEM.
 * Clears of one object run one at a time: a second one waits for the
 * first, including its writes to its caller's memory.
 */
struct patdev_mr {
	__u64 offset;
	__u64 first;
	__u64 npages;
	__u64 flags;
	__u64 modified;
	__u64 referenced;
	__u64 modified_map;
	__u64 referenced_map;
	__u64 reserved;
};

#define PATDEV_MR_MODIFIED	(1ULL << 0)
#define PATDEV_MR_REFERENCED	(1ULL << 1)

/**
 * struct patdev_set_cache - change the cache mode of a whole object
 * @offset: in: the object's first offset: one PATDEV_IOC_CREATE answered
 *	through the same open file (EPERM if another file made it), or a
 *	BAR's (sysfs barN_offset; EPERM without CAP_SYS_RAWIO or under
 *	lockdown). EPERM for offsets 0 and PAGE_SIZE, the module's own
 *	objects; ENXIO if it names nothing or is not the object's first offset
 * @cache: in: for RAM, PATDEV_CACHE_WB, PATDEV_CACHE_WC or
 *	PATDEV_CACHE_UC_MINUS; for a BAR, PATDEV_CACHE_UC, PATDEV_CACHE_UC_MINUS
 *	or, prefetchable BARs only, PATDEV_CACHE_WC (EINVAL otherwise)
 * @reserved: in: must be zero
 *
 * Every entry of the object is removed from every process, the memory type
 * of all its memory is changed (a BAR's memtype reservation is replaced),
 * and the object takes the new mode; the next access through any mapping
 * faults the new mode in. Faults that race with the change wait for it.
 * The data is kept. Without PAT, WC means UC- (PATDEV_IOC_OBJINFO tells).
 * On failure (ENOMEM: the kernel could not split its direct map; EBUSY: a
 * BAR's range is reserved with another type elsewhere) the object keeps
 * its mode, or, if even restoring that failed, is WB (RAM) or revoked (a
 * BAR: touches raise SIGBUS); PATDEV_IOC_OBJINFO tells which. EOPNOTSUPP: the object's type
 * is fixed (the local APIC page, which is EPERM first). EINTR: killed
 * while waiting for another change or a revocation of the object, or for
 * an mmap or fork in progress in another process; nothing was changed.
 * When the call returns no entry of the old mode is left in any process.
 * EBUSY also while an importer holds the object's memory through one of
 * its dma-bufs (see &struct patdev_export): a DMA mapping of an attachment
 * or a kernel mapping (vmap), whose modes a change could not reach.
 */
struct patdev_set_cache {
	__u64 offset;
	__u64 cache;
	__u64 reserved;
};

/**
 * struct patdev_export - a RAM object as a dma-buf (PATDEV_IOC_EXPORT)
 * @offset: in: the object: offset 0 or PAGE_SIZE (the module's objects,
 *	anyone's to export), or the first offset of a created one, through
 *	the open file that created it (EPERM otherwise: an importer's
 *	mappings hold the object against its creator's changes, below);
 *	EINVAL if not page-aligned, ENXIO for any other offset
 * @flags: in: PATDEV_EXPORT_WRITE: the dma-buf may be written: mapped for
 *	writing, mapped for DMA from a device, mapped by the kernel (EACCES
 *	if the object is read-only or this file was not opened for writing).
 *	Without it, only mmaps for reading and DMA mappings towards a device
 *	are given: a writable mmap or DMA mapping gets EACCES, a kernel
 *	mapping EINVAL (the export offers none).
 * @fd: out: the dma-buf's file descriptor, close-on-exec
 * @reserved: in: must be zero; out: zero
 *
 * Every alias of the memory has the object's mode: an mmap of the dma-buf
 * is a patdev mapping like any other (same faults, 2 MiB entries at
 * 2 MiB-aligned addresses, tracking, revocation: PATDEV_IOC_QUERY answers
 * for it); an importer's kernel mapping (dma_buf_vmap()) is made in the
 * object's mode; an importer's DMA mapping holds the object's own pages,
 * never a bounce buffer: a device that cannot reach them directly (its DMA
 * mask) or through an IOMMU cannot map the buffer (EREMOTEIO to the
 * importer): for a 32-bit mask, PATDEV_CREATE_DMA32 usually suffices
 * (not for narrower masks or bus limits, nor where memory encryption
 * moves bus addresses). An importer that needs the buffer contiguous in
 * DMA space (vb2-dma-contig) without an IOMMU needs an object of one
 * physically contiguous run: PATDEV_IOC_OBJINFO's @nsegs is 1. Device
 * DMA and kernel writes do not mark a tracked object's pages modified.
 * DMA_BUF_IOCTL_SYNC: for a WB object, the CPU's caches are synced with
 * the importers' mapped attachments; for WC, the end of a write drains the
 * CPU's write-combining buffers; UC- needs nothing.
 * The object lives as long as the dma-buf, its attachments and mappings.
 * While an importer holds a DMA mapping or a kernel mapping of it (on
 * 6.1 and 6.12 a dynamic importer, such as a GPU driver, holds a DMA
 * mapping from its attach to its detach),
 * PATDEV_IOC_SET_CACHE and PATDEV_IOC_DESTROY with PATDEV_DESTROY_REVOKE
 * fail with EBUSY, as a change could not reach those aliases; with none,
 * they apply to the dma-buf's mmaps as to any mapping, and after a
 * revocation new mmaps and DMA mappings fail with ENXIO. A kernel mapping
 * cannot be refused (the dma-buf core takes a failed vmap for a bug): an
 * importer still holding the dma-buf can map it after a revocation, so
 * revoke once the importers have closed it. An importer's pin that comes
 * while a mode change waits for other processes' mmaps makes the change
 * fail with EBUSY at its end, having changed nothing.
 * Errors: ENOENT, ENXIO, EINTR (see "Offsets in ioctls" above), EINVAL
 * (bad offset, flags or reserved field), EPERM, EACCES, EOPNOTSUPP
 * (device memory: a BAR, the local APIC page), EFAULT, EMFILE, ENOMEM.
 */
struct patdev_export {
	__u64 offset;
	__u64 flags;
	__u64 fd;
	__u64 reserved;
};

#define PATDEV_EXPORT_WRITE	(1ULL << 0)

/**
 * struct patdev_dma_seg - one segment of a DMA mapping
 * @addr: the address the device uses: the pages' bus address, or an IOVA
 *	behind an IOMMU
 * @len: its length in bytes, a multiple of the page size
 */
struct patdev_dma_seg {
	__u64 addr;
	__u64 len;
};

/**
 * struct patdev_dma_map - a RAM object mapped for a bound device's DMA
 *	(NetBSD's bus_dmamap_load() of bus_dmamem_alloc()ed memory)
 * @device: in: the mmap offset, in bytes, of any BAR object of a PCI device
 *	bound to patdev (sysfs barN_offset): the device that will do the DMA
 * @offset: in: the RAM object, as &struct patdev_export names it
 * @flags: in: PATDEV_DMA_TO_DEVICE (the device reads the object),
 *	PATDEV_DMA_FROM_DEVICE (it writes it), or both
 * @dma_bits: in: how many address bits the device drives, 24 to 64: its
 *	DMA mask, set by the first mapping for the device and then fixed
 *	while any of its mappings lasts (EBUSY for another value); the last
 *	unmap gives the device back the mask it had before
 * @segs: in: user address of an array of &struct patdev_dma_seg
 * @nsegs: in: the entries @segs has room for; out: the mapping's segments,
 *	filled in the object's order (E2BIG, nothing mapped, if more than
 *	fit: @nsegs then tells how many)
 * @handle: out: names the mapping to PATDEV_IOC_DMA_UNMAP
 * @reserved: in: must be zero; out: zero
 *
 * Needs CAP_SYS_RAWIO and no lockdown (EPERM): without an IOMMU a device
 * reaches any memory, as through /dev/mem. The whole object is mapped, to
 * its own pages (never a bounce buffer: EREMOTEIO if the device cannot
 * reach them directly or through an IOMMU). The device may master the bus
 * only while it has a mapping: the first mapping enables bus mastering,
 * the last unmap disables it before the pages are unmapped. One open file
 * maps for a device at a time. A mapping lasts until PATDEV_IOC_DMA_UNMAP,
 * the close of the file that made it, or the device's unbinding or
 * removal; across a reset of the device it stays. At unbinding or
 * removal bus mastering goes off, nothing maps the BARs any more, the
 * device is reset if it had mappings (where it has a reset method), and
 * then the mappings go. At a close with mappings bus mastering goes off
 * and the mappings go; as the device may still hold a transfer of the
 * closed file, which bus mastering off only holds back, no new mapping is
 * made for it (EBUSY) until it is reset (its sysfs reset file) or bound
 * again. The pages of mappings that ended without their owner's unmap
 * stay unused for a while (the dma_quarantine_ms module parameter), for a
 * transfer a reset did not stop. While a mapping lasts the object's memory stays (a DESTROY takes
 * the name only), and SET_CACHE and a revoking DESTROY are EBUSY. DMA
 * writes do not mark a tracked object's pages modified or referenced:
 * they do not go through the CPU's page tables.
 * Errors: ENOENT, ENXIO, EINTR (see "Offsets in ioctls" above: @offset;
 * ENXIO also when @device names no BAR of a bound device, or the device
 * is going), ENODEV (@device names an object that is no BAR), EINVAL (bad
 * flags, @dma_bits or reserved field, @device not page-aligned, or the
 * device's DMA segments cannot hold a page), EPERM (also: a created
 * object of another file), EACCES (PATDEV_DMA_FROM_DEVICE on a read-only
 * object or file), EOPNOTSUPP (device memory), EBUSY (another file maps
 * for the device; the device waits for a reset; another @dma_bits), EIO
 * (the platform cannot give the device that mask), EEXIST (the object is
 * mapped for the device already), EREMOTEIO, E2BIG, ENOSPC
 * (PATDEV_DMA_MAX_MAPS already), EFAULT (nothing stays mapped), ENOMEM.
 */
struct patdev_dma_map {
	__u64 device;
	__u64 offset;
	__u64 flags;
	__u64 dma_bits;
	__u64 segs;
	__u64 nsegs;
	__u64 handle;
	__u64 reserved;
};

#define PATDEV_DMA_TO_DEVICE	(1ULL << 0)
#define PATDEV_DMA_FROM_DEVICE	(1ULL << 1)
/* Mappings a device may have at once. */
#define PATDEV_DMA_MAX_MAPS	256

/**
 * struct patdev_dma_unmap - end a mapping of PATDEV_IOC_DMA_MAP
 * @handle: in: its handle, through the open file that made it (ENOENT
 *	otherwise, and once it ended by an unbinding or removal)
 * @reserved: in: must be zero
 *
 * The device must be done with the mapping: without an IOMMU it could go
 * on writing pages whose object may be gone; behind one its accesses then
 * fault, at once under strict invalidation (iommu.strict=1), after the
 * IOMMU's flush otherwise.
 */
struct patdev_dma_unmap {
	__u64 handle;
	__u64 reserved;
};

#define PATDEV_IOC_MAGIC	0xB7
#define PATDEV_IOC_VERSION	_IOR(PATDEV_IOC_MAGIC, 0x00, struct patdev_version)
#define PATDEV_IOC_QUERY	_IOWR(PATDEV_IOC_MAGIC, 0x01, struct patdev_query)
#define PATDEV_IOC_OBJINFO	_IOWR(PATDEV_IOC_MAGIC, 0x02, struct patdev_objinfo)
#define PATDEV_IOC_PREFAULT	_IOWR(PATDEV_IOC_MAGIC, 0x03, struct patdev_prefault)
#define PATDEV_IOC_RANGE_QUERY	_IOWR(PATDEV_IOC_MAGIC, 0x04, struct patdev_range_query)
#define PATDEV_IOC_SET_MMAP_FLAGS _IOW(PATDEV_IOC_MAGIC, 0x05, struct patdev_mmap_flags)
#define PATDEV_IOC_CREATE	_IOWR(PATDEV_IOC_MAGIC, 0x06, struct patdev_create)
#define PATDEV_IOC_DESTROY	_IOW(PATDEV_IOC_MAGIC, 0x07, struct patdev_destroy)
#define PATDEV_IOC_MR_QUERY	_IOWR(PATDEV_IOC_MAGIC, 0x08, struct patdev_mr)
#define PATDEV_IOC_MR_CLEAR	_IOWR(PATDEV_IOC_MAGIC, 0x09, struct patdev_mr)
#define PATDEV_IOC_SET_CACHE	_IOW(PATDEV_IOC_MAGIC, 0x0a, struct patdev_set_cache)
#define PATDEV_IOC_EXPORT	_IOWR(PATDEV_IOC_MAGIC, 0x0b, struct patdev_export)
#define PATDEV_IOC_DMA_MAP	_IOWR(PATDEV_IOC_MAGIC, 0x0c, struct patdev_dma_map)
#define PATDEV_IOC_DMA_UNMAP	_IOW(PATDEV_IOC_MAGIC, 0x0d, struct patdev_dma_unmap)

#endif /* _UAPI_LINUX_PATDEV_H */
