/* SPDX-License-Identifier: GPL-2.0 */
/*
 * patdev private interfaces: the object layer (a VM-object analogue), the
 * anonymous object, the mmap glue and the page-table query.
 */
#ifndef _PATDEV_H
#define _PATDEV_H

#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <uapi/linux/patdev.h>

struct dentry;
struct patdev_file;
struct patdev_obj;

/*
 * Objects' ranges in the offset space are made of 2 MiB slots, so that an
 * object's pages and a 2 MiB entry of a mapping line up.
 */
#define PATDEV_SLOT_SHIFT	(PMD_SHIFT - PAGE_SHIFT)

/**
 * struct patdev_obj_ops - what a kind of object provides
 * @pfn: page frame backing page @idx (< obj->npages) of the object in
 *	*@pfn, and in *@run how many pages from @idx on follow it physically;
 *	0, or -EFAULT if the backing cannot say (a fault then SIGBUSes)
 * @release: free the object; called when the last reference drops
 * @nsegs: number of physical segments, for PATDEV_IOC_OBJINFO (optional)
 * @show: kind-specific lines for the debugfs view (optional)
 * @set_cache: give all the object's memory the memory type *@cache
 *	(optional: without it the mode is fixed); on failure *@cache is
 *	the type the memory has afterwards
 * @cache_ok: may the object have the mode @cache? (with @set_cache)
 */
struct patdev_obj_ops {
	int (*pfn)(struct patdev_obj *obj, pgoff_t idx, unsigned long *pfn, unsigned long *run);
	void (*release)(struct patdev_obj *obj);
	unsigned int (*nsegs)(struct patdev_obj *obj);
	void (*show)(struct patdev_obj *obj, struct seq_file *m);
	int (*set_cache)(struct patdev_obj *obj, enum patdev_cache *cache);
	bool (*cache_ok)(struct patdev_obj *obj, enum patdev_cache cache);
};

/**
 * struct patdev_obj - a mappable object (FreeBSD vm_object analogue)
 * @ref: references: one for its name while it has one, one per vma
 *	mapping it, and short-lived ones of ioctls
 * @kind: what it reports itself as (&enum patdev_obj_kind)
 * @cache: memory type every mapping of the object gets
 * @npages: size in pages; faults at or past it raise SIGBUS
 * @base: first page offset of the object's range in the offset space
 * @nmaps: number of vmas currently mapping the object
 * @readonly: no writable mapping may be made
 * @created: made by PATDEV_IOC_CREATE (counted against the caps)
 * @mmio: device memory, not RAM: mapping it is guarded as /dev/mem is
 * @revocable: its entries may be revoked or change mode, so mappers that
 *	enter entries out of a zap's reach claim it (patdev_obj_claim())
 * @named: mmap and OBJINFO may still find it (space_lock)
 * @revoked: its entries were removed everywhere; faults SIGBUS
 * @changing: a cache-mode change is under way: mmaps do not prefault
 * @pins: aliases of the object's memory outside patdev's page tables,
 *	which neither a revocation nor a mode change could reach: importers'
 *	DMA and kernel mappings of its dma-bufs (patdev_obj_pin())
 * @revoke_lock: held for read while entries are entered, for write while
 *	@revoked or @cache change, so that no entry is entered after the
 *	revocation and none of the old mode after a mode change
 * @populate_lock: held while page tables or 2 MiB entries of the object's
 *	mappings are made (patdev_fill.c), inside @revoke_lock; for a
 *	tracked object also while its entries are entered, made writable or
 *	removed for a clear, and while @referenced and @modified change
 * @mode_lock: one cache-mode change at a time
 * @mr_lock: one PATDEV_IOC_MR_CLEAR at a time, from its first read to its
 *	last clear: a clear clears what it read, which another clear in
 *	between could have cleared and a fault marked anew
 * @referenced: tracked objects: bitmap of the pages accessed since the
 *	last clear (NetBSD's per-page reference state); NULL otherwise
 * @modified: tracked objects: bitmap of the pages written since the last
 *	clear; NULL otherwise
 * @claim_lock: protects @claims
 * @claims: mms that may hold entries of the object where a zap cannot see
 *	them yet: mmaps that prefault inside ->mmap, before the core links
 *	the new vma, and forks copying 2 MiB entries (patdev_obj_claim())
 * @owner: the open file that created it, while it is named
 * @owner_link: in the owner's list of objects (space_lock)
 * @chunks: chunks[i]: physically contiguous chunks of 1 << i pages
 * @ops: kind-specific operations
 */
struct patdev_obj {
	struct kref ref;
	enum patdev_obj_kind kind;
	enum patdev_cache cache;
	pgoff_t npages;
	pgoff_t base;
	atomic_t nmaps;
	bool readonly;
	bool created;
	bool mmio;
	bool revocable;
	bool named;
	bool revoked;
	bool changing;
	atomic_t pins;
	struct rw_semaphore revoke_lock;
	struct mutex populate_lock;	/* one page-table populator at a time */
	struct mutex mode_lock;		/* one cache-mode change at a time */
	struct mutex mr_lock;		/* one modified/referenced clear at a time */
	unsigned long *referenced;
	unsigned long *modified;
	spinlock_t claim_lock;	/* protects @claims */
	struct list_head claims;
	struct patdev_file *owner;
	struct list_head owner_link;
	unsigned int chunks[PATDEV_CHUNK_ORDERS];
	const struct patdev_obj_ops *ops;
};

void patdev_obj_init(struct patdev_obj *obj, enum patdev_obj_kind kind,
		     enum patdev_cache cache, pgoff_t npages,
		     const struct patdev_obj_ops *ops);
struct patdev_obj *patdev_obj_get(struct patdev_obj *obj);
pgoff_t patdev_obj_index(struct vm_area_struct *vma, unsigned long addr);
void patdev_obj_put(struct patdev_obj *obj);
pgprot_t patdev_obj_pgprot(const struct patdev_obj *obj, pgprot_t prot);
pgprot_t patdev_obj_vma_prot(const struct patdev_obj *obj, pgprot_t vma_prot);
int patdev_obj_pfn(struct patdev_obj *obj, pgoff_t idx, unsigned long *pfn);
int patdev_obj_run(struct patdev_obj *obj, pgoff_t idx, unsigned long *pfn, unsigned long *run);
long patdev_ioctl_objinfo(void __user *arg);

/* patdev_space.c: the offset space, one address_space for every open */
int patdev_space_init(void);
void patdev_space_exit(void);
void patdev_space_open(struct file *file);
int patdev_space_add(struct patdev_obj *obj);
int patdev_space_add_phase(struct patdev_obj *obj, unsigned long phase);
void patdev_space_remove(struct patdev_obj *obj);
struct patdev_obj *patdev_space_lookup(pgoff_t pgoff);
typedef struct patdev_obj *(*patdev_name_fn)(pgoff_t create_npages);
void patdev_space_set_name(pgoff_t pgoff, patdev_name_fn fn);
struct patdev_obj *patdev_obj_lookup(pgoff_t pgoff, pgoff_t create_npages);
struct patdev_obj *patdev_obj_lookup_whole(u64 offset);
void patdev_space_name(struct patdev_obj *obj, struct patdev_file *owner);
int patdev_space_destroy(struct patdev_file *owner, pgoff_t pgoff, bool revoke);
int patdev_space_owner_check(struct patdev_file *owner, struct patdev_obj *obj);
void patdev_space_release_file(struct patdev_file *owner);
struct patdev_obj *patdev_space_forget(struct patdev_obj *obj);
void patdev_space_show(struct seq_file *m);
int patdev_obj_revoke(struct patdev_obj *obj, bool unless_pinned);
int patdev_obj_pin(struct patdev_obj *obj, bool revoked_too);
void patdev_obj_unpin(struct patdev_obj *obj);
int patdev_obj_claim(struct patdev_obj *obj, struct mm_struct *mm, gfp_t gfp);
int patdev_obj_wait_claims(struct patdev_obj *obj, bool killable);
void patdev_obj_unmap(struct patdev_obj *obj, pgoff_t first, pgoff_t n);
long patdev_claims_live(void);
void patdev_obj_drop_claims(struct patdev_obj *obj);

/* The modes an object may have: what x86 PAT can give RAM. */
static inline bool patdev_cache_supported(enum patdev_cache cache)
{
	return cache == PATDEV_CACHE_WB || cache == PATDEV_CACHE_WC ||
	       cache == PATDEV_CACHE_UC_MINUS;
}

/* patdev_memtype.c: the module's own RAM and its kernel memory type */
struct page *patdev_alloc_pages(gfp_t gfp, unsigned int order);
void patdev_free_pages(struct page *page, unsigned int order);
void patdev_obj_stats(long *objs, long *pages);
void patdev_obj_count(long delta);
void patdev_obj_check_leaks(void);
int patdev_range_set_memtype(struct page *page, unsigned long npages, enum patdev_cache cache);
void patdev_range_restore_wb(struct page *page, unsigned long npages, enum patdev_cache cache);

/* patdev_pat.c: what the CPU's PAT makes of an entry's cache bits */
void patdev_pat_init(void);
enum patdev_cache patdev_pat_decode(pgprot_t prot);
enum patdev_cache patdev_pat_effective(enum patdev_cache want);
enum patdev_cache patdev_kernel_cache(unsigned long addr);

/* patdev_ram.c: RAM objects, made of physically contiguous chunks */
struct patdev_obj *patdev_ram_obj_create(enum patdev_obj_kind kind, pgoff_t npages,
					 enum patdev_cache cache, const u8 *orders,
					 unsigned int norders, void (*freed)(pgoff_t npages),
					 gfp_t zone);

/* patdev_anon.c: the shared anonymous object at offset 0 */
extern unsigned int patdev_anon_max_mb;
void patdev_anon_init(void);
struct patdev_obj *patdev_anon_get(void);
void patdev_anon_exit(void);

/* patdev_sg.c: the scatter/gather object at offset PAGE_SIZE */
int patdev_sg_init(void);
void patdev_sg_exit(void);

/* patdev_sg.c: an OBJT_SG object over @sg, whose memory @backing owns */
struct patdev_sglist;

/**
 * struct patdev_backing - the owner of the memory an sglist describes
 * @release: called with the object's data when the object is freed
 * @set_cache: give the memory another memory type, as
 *	&patdev_obj_ops.set_cache (NULL: the type is fixed)
 * @cache_ok: as &patdev_obj_ops.cache_ok (with @set_cache)
 */
struct patdev_backing {
	void (*release)(void *data);
	int (*set_cache)(void *data, enum patdev_cache *cache);
	bool (*cache_ok)(enum patdev_cache cache);
};

struct patdev_obj *patdev_sg_obj_create(enum patdev_obj_kind kind, struct patdev_sglist *sg,
					enum patdev_cache cache,
					const struct patdev_backing *backing, void *data);

/* patdev_bar.c, patdev_pci.c: PCI devices' memory BARs */
struct pci_dev;
struct patdev_busdma;
struct patdev_obj *patdev_bar_obj_create(struct pci_dev *pdev, int bar,
					 struct patdev_busdma *busdma);
void patdev_bar_obj_gone(struct patdev_obj *obj);
struct patdev_busdma *patdev_bar_busdma(struct patdev_obj *obj);

/* patdev_busdma.c: DMA by the devices bound to patdev */
struct patdev_busdma *patdev_busdma_bind(struct pci_dev *pdev);
void patdev_busdma_stop(struct patdev_busdma *d);
void patdev_busdma_unbind(struct patdev_busdma *d);
void patdev_busdma_reset_done(struct patdev_busdma *d);
void patdev_busdma_exit(void);
struct patdev_busdma *patdev_busdma_get(struct patdev_busdma *d);
void patdev_busdma_put(struct patdev_busdma *d);
long patdev_ioctl_dma_map(struct file *file, void __user *arg);
long patdev_ioctl_dma_unmap(struct patdev_file *pfile, void __user *arg);
void patdev_busdma_release_file(struct patdev_file *pfile);
void patdev_busdma_show(struct seq_file *m);
int patdev_pci_init(void);
void patdev_pci_exit(void);

/* patdev_track.c: NetBSD's per-page modified/referenced state */
extern bool patdev_track_named;
int patdev_track_init(struct patdev_obj *obj);
void patdev_track_free(struct patdev_obj *obj);
vm_fault_t patdev_track_fault(struct vm_fault *vmf, unsigned long pfn);
vm_fault_t patdev_track_pfn_mkwrite(struct vm_fault *vmf);
void patdev_track_mark(struct patdev_obj *obj, pgoff_t idx, pgoff_t n);
long patdev_ioctl_mr(struct patdev_file *pfile, void __user *arg, bool clear);

static inline bool patdev_obj_tracked(const struct patdev_obj *obj)
{
	return obj->referenced;
}

/* patdev_dma.c: an object's pages mapped for a device, never bounced */
struct device;
struct sg_table;
int patdev_dma_map_obj(struct patdev_obj *obj, struct device *dev, enum dma_data_direction dir,
		       struct sg_table *sgt);
void patdev_dma_unmap_obj(struct device *dev, struct sg_table *sgt, enum dma_data_direction dir);
struct patdev_obj *patdev_dma_obj_lookup(struct file *file, u64 offset, bool write);

/* patdev_export.c: RAM objects as dma-bufs */
long patdev_ioctl_export(struct file *file, void __user *arg);
void patdev_export_show(struct seq_file *m);

/* patdev_cachemode.c: moving an object between WB, WC and UC- */
long patdev_ioctl_set_cache(struct patdev_file *pfile, void __user *arg);

/* patdev_create.c: objects made on request */
long patdev_ioctl_create(struct patdev_file *pfile, void __user *arg);
long patdev_ioctl_destroy(struct patdev_file *pfile, void __user *arg);

/* patdev_rw.c: read()/write() of the anonymous object's bytes */
ssize_t patdev_read(struct file *file, char __user *buf, size_t count, loff_t *ppos);
ssize_t patdev_write(struct file *file, const char __user *buf, size_t count, loff_t *ppos);

/* patdev_debugfs.c */
#ifdef PATDEV_TEST_HOOKS
void patdev_test_hold_mmap(void);
void patdev_test_hold_change(void);
#else
/*
 * Test builds only (make PATDEV_TEST_HOOKS=y, the debug lane): a mapper
 * holds its mmap lock here for as long as the tests ask (in .mmap its vma
 * not yet linked, in ->mapped linked), so that the waits for claims can be
 * tested; a mode change holds after its wait for claims, before it zaps,
 * so that what meets a change under way can be. Nothing otherwise.
 */
static inline void patdev_test_hold_mmap(void)
{
}

static inline void patdev_test_hold_change(void)
{
}
#endif
/* Which claim the device's mmap makes: ".mmap" or ".mmap_prepare". */
const char *patdev_mmap_path(void);
void patdev_debugfs_init(void);
void patdev_debugfs_exit(void);
void patdev_sglist_test_init(struct dentry *dir);

/**
 * struct patdev_file - state of one open file
 * @mmap_prefault: PATDEV_PREFAULT_* applied to every later mmap, or 0
 * @show_pfn: the opener had CAP_SYS_ADMIN, so PATDEV_IOC_QUERY tells PFNs
 * @objects: the named objects this file created (space_lock, patdev_space.c)
 */
struct patdev_file {
	u32 mmap_prefault;
	bool show_pfn;
	struct list_head objects;
};

/* patdev_mmap.c */
bool patdev_is_vma(const struct vm_area_struct *vma);
int patdev_mmio_allowed(void);
int patdev_mmap(struct file *file, struct vm_area_struct *vma);
struct vm_area_desc;
int patdev_mmap_prepare(struct vm_area_desc *desc);
int patdev_mmap_obj(struct vm_area_struct *vma, struct patdev_obj *obj, bool readonly,
		    u32 prefault);
unsigned long patdev_get_unmapped_area(struct file *file, unsigned long addr,
				       unsigned long len, unsigned long pgoff,
				       unsigned long flags);
int patdev_range_check(struct mm_struct *mm, u64 addr, u64 len, bool access, bool write,
		       unsigned long *start, unsigned long *end);
unsigned long patdev_vma_obj_end(struct vm_area_struct *vma);

/* patdev_fill.c: entering pages, in batches and as 2 MiB and 1 GiB entries */
bool patdev_pmd_leaf(struct mm_struct *mm, unsigned long addr);
bool patdev_pud_leaf(struct mm_struct *mm, unsigned long addr);
bool patdev_huge_slot(struct vm_area_struct *vma, unsigned long haddr, unsigned long size,
		      unsigned long *pfn);
bool patdev_pmd_none(struct mm_struct *mm, unsigned long addr);
bool patdev_pud_none(struct mm_struct *mm, unsigned long addr);
int patdev_fill_after(struct vm_area_struct *vma, unsigned long addr, unsigned long end,
		      pgprot_t prot, bool mark);
int patdev_fill(struct vm_area_struct *vma, unsigned long start, unsigned long end,
		pgprot_t prot, bool mark);
bool patdev_pte_mkwrite(struct vm_area_struct *vma, unsigned long addr, unsigned long pfn);

/* patdev_prefault.c */
long patdev_ioctl_prefault(void __user *arg);
long patdev_ioctl_set_mmap_flags(struct patdev_file *pfile, void __user *arg);
long patdev_prefault_vma(struct vm_area_struct *vma, unsigned long start,
			 unsigned long end, bool write);

/* patdev_query.c */
long patdev_ioctl_query(struct patdev_file *pfile, void __user *arg);
long patdev_ioctl_range_query(void __user *arg);

#endif /* _PATDEV_H */
