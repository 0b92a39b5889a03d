// SPDX-License-Identifier: GPL-2.0
/*
 * mmap: the driver claims the vma and redirects it to an object of its own
 * choosing (FreeBSD d_mmap_single()); faults then enter the object's pages
 * with the object's cache mode.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pagemap.h>
#include <linux/security.h>
#include <asm/memtype.h>
#include "compat.h"
#include "patdev.h"

/*
 * The vma dup_mmap() copied @vma from, when ->open is called by a fork:
 * the caller's mm is the parent's, locked for write, and holds an
 * identical patdev vma at the same place. NULL for every other caller of
 * ->open (a split or mremap in the caller's own mm, a kernel thread).
 */
static struct vm_area_struct *patdev_fork_parent(struct vm_area_struct *vma)
{
	struct mm_struct *oldmm = current->mm;
	struct vm_area_struct *parent;

	if (!oldmm || oldmm == vma->vm_mm || !rwsem_is_locked(&oldmm->mmap_lock))
		return NULL;
	parent = vma_lookup(oldmm, vma->vm_start);
	if (!parent || parent == vma || !patdev_is_vma(parent) ||
	    parent->vm_private_data != vma->vm_private_data || parent->vm_end != vma->vm_end ||
	    parent->vm_pgoff != vma->vm_pgoff || parent->vm_file != vma->vm_file)
		return NULL;
	return parent;
}

static void patdev_vm_open(struct vm_area_struct *vma)
{
	struct patdev_obj *obj = vma->vm_private_data;
	struct vm_area_struct *parent;

	/* A split or a fork copy: the new vma holds its own reference. */
	patdev_obj_get(obj);
	atomic_inc(&obj->nmaps);
	/*
	 * A fork: the core copies the parent's entries after this, reading a
	 * 2 MiB entry without its page-table lock (copy_huge_pmd()), so a
	 * revocation or mode change must wait for this fork before its zap
	 * (patdev_obj_claim()). One whose flag is already set (read after the
	 * claim, which orders the two) may have zapped past the parent's
	 * entries: they go now, before the copy, and the parent faults them
	 * back once the change is over. The parent's mm and vmas are
	 * write-locked by the fork, so it gains no entry meanwhile. ->open
	 * returns nothing, so the claim's few bytes may not fail.
	 */
	if (!PATDEV_HUGE || !obj->revocable || patdev_obj_tracked(obj))
		return;
	parent = patdev_fork_parent(vma);
	if (!parent)
		return;
	patdev_obj_claim(obj, vma->vm_mm, GFP_KERNEL | __GFP_NOFAIL);
	/* Acquire: pairs with the end of a change, whose zap the copy must see. */
	if (smp_load_acquire(&obj->changing) || READ_ONCE(obj->revoked))
		patdev_zap_vma(parent);
}

static void patdev_vm_close(struct vm_area_struct *vma)
{
	struct patdev_obj *obj = vma->vm_private_data;

	/* A .mmap_prepare claim whose ->mapped found no object holds nothing. */
	if (!obj)
		return;
	atomic_dec(&obj->nmaps);
	patdev_obj_put(obj);
}

static unsigned int patdev_fault_around = 16;
module_param_named(fault_around, patdev_fault_around, uint, 0644);
MODULE_PARM_DESC(fault_around,
		 "Pages entered per fault from the faulting one on, as TTM does (default 16; 0 or 1: only the faulting page)");

static vm_fault_t patdev_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct patdev_obj *obj = vma->vm_private_data;
	unsigned long window = READ_ONCE(patdev_fault_around);
	pgoff_t idx = vmf->pgoff - obj->base;
	unsigned long n, pfn;
	vm_fault_t ret;
	pgprot_t prot;

	down_read(&obj->revoke_lock);
	/* A mapping may be longer than its object: FreeBSD gives SIGBUS too. */
	if (obj->revoked || patdev_obj_pfn(obj, idx, &pfn)) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	if (patdev_obj_tracked(obj)) {
		ret = patdev_track_fault(vmf, pfn);
		goto out;
	}
	prot = patdev_obj_vma_prot(obj, vma->vm_page_prot);
	mutex_lock(&obj->populate_lock);
	/* Another thread's 2 MiB or 1 GiB entry took the slot meanwhile: retry. */
	if (patdev_pud_leaf(vma->vm_mm, vmf->address) ||
	    patdev_pmd_leaf(vma->vm_mm, vmf->address)) {
		ret = VM_FAULT_NOPAGE;
		goto unlock;
	}
	ret = vmf_insert_pfn_prot(vma, vmf->address, pfn, prot);
	if ((ret & VM_FAULT_ERROR) || window <= 1)
		goto unlock;

	/*
	 * Fault-around: a sequential pass then takes one fault per window.
	 * The neighbours are best effort, and never past the vma, the object
	 * or the faulting page table, so one fault's work stays bounded
	 * whatever the parameter says.
	 */
	n = min3(window, (pmd_addr_end(vmf->address, vma->vm_end) - vmf->address) >> PAGE_SHIFT,
		 obj->npages - idx);
	patdev_fill_after(vma, vmf->address, vmf->address + (n << PAGE_SHIFT), prot, false);
unlock:
	mutex_unlock(&obj->populate_lock);
out:
	up_read(&obj->revoke_lock);
	return ret;
}

#if PATDEV_HUGE
/*
 * Under populate_lock nobody else makes a page table or a huge entry in
 * the slot: an empty slot stays empty until the entry is in, and a huge
 * entry of ours stays one (only munmap, mprotect and revocation remove it,
 * and each excludes this fault), so a write insert never meets a table. A
 * write to our read-only huge entry (write-notify, soft-dirty) makes it
 * writable and dirty in place; answering FALLBACK there would let the core
 * replace it by a table for good. A table means smaller entries.
 */
static vm_fault_t patdev_insert_huge(struct vm_fault *vmf, unsigned long pfn,
				     unsigned long size, bool write)
{
#if PATDEV_HUGE_1G
	if (size == PUD_SIZE) {
		pud_t pud = READ_ONCE(*vmf->pud);

		if (pud_none(pud) || (write && pud_leaf(pud)))
			return patdev_insert_pfn_pud(vmf, pfn, write);
		/* Another thread's entry: the access is retried. */
		return pud_leaf(pud) ? VM_FAULT_NOPAGE : VM_FAULT_FALLBACK;
	}
#endif
	{
		pmd_t pmd = pmdp_get_lockless(vmf->pmd);

		if (pmd_none(pmd) || (write && pmd_leaf(pmd)))
			return patdev_insert_pfn_pmd(vmf, pfn, write);
		return VM_FAULT_FALLBACK;
	}
}

/*
 * A 2 MiB or 1 GiB entry for the faulting slot where one physical run
 * backs it all (patdev_huge_slot()); anywhere else the core falls back to
 * smaller entries. The entry gets vm_page_prot, already of the object's
 * mode, and PAT answers for the slot's first frame: the object keeps all
 * its memory on one memtype, so that answer holds for the whole slot.
 */
static vm_fault_t patdev_vm_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct patdev_obj *obj = vma->vm_private_data;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	unsigned long pfn, size;
	vm_fault_t ret;

	if (order == PMD_ORDER)
		size = PMD_SIZE;
	else if (PATDEV_HUGE_1G && order == PUD_ORDER)
		size = PUD_SIZE;
	else
		return VM_FAULT_FALLBACK;
	if (!patdev_huge_slot(vma, vmf->address & ~(size - 1), size, &pfn))
		return VM_FAULT_FALLBACK;
	down_read(&obj->revoke_lock);
	if (obj->revoked) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	/*
	 * The insert takes vm_page_prot, whose cache bits date from this
	 * vma's mmap. With PAT, the insert replaces them by the memtype of
	 * the object's memory, which a mode change set; without PAT nothing
	 * does, so after a change such a vma gets 4 KiB entries, which take
	 * the object's mode of now (patdev_obj_vma_prot()). Where a 1 GiB
	 * insert drops what PAT answered (PATDEV_PUD_INSERT_DROPS_PAT), after
	 * a change such a vma gets 2 MiB entries, whose insert keeps it.
	 */
	if ((!pat_enabled() || (size == PUD_SIZE && PATDEV_PUD_INSERT_DROPS_PAT)) &&
	    pgprot_val(patdev_obj_vma_prot(obj, vma->vm_page_prot)) !=
	    pgprot_val(vma->vm_page_prot)) {
		ret = VM_FAULT_FALLBACK;
		goto out;
	}
	mutex_lock(&obj->populate_lock);
	ret = patdev_insert_huge(vmf, pfn, size, write);
	mutex_unlock(&obj->populate_lock);
out:
	up_read(&obj->revoke_lock);
	return ret;
}
#endif

#if PATDEV_HUGE_1G
/*
 * Removes the 1 GiB entry of @vma's slot at @haddr, if there is one. The
 * vma is write-locked before the look, so that a fault under the vma lock,
 * in flight or to come, cannot make the entry again until the caller
 * drops the mmap lock it holds for write.
 */
static void patdev_drop_pud_entry(struct vm_area_struct *vma, unsigned long haddr)
{
	vma_start_write(vma);
	if (patdev_pud_leaf(vma->vm_mm, haddr))
		patdev_zap_range(vma, haddr, PUD_SIZE);
}

/*
 * A split of the vma inside a 1 GiB entry (munmap, mprotect, madvise,
 * mremap of a part): the core breaks up 2 MiB entries at the split, never
 * 1 GiB ones, and would walk into the entry as if it were a page table
 * (mm_find_pmd() only asks whether the upper entry is present). The entry
 * goes first; after the split no piece holds the whole slot, and faults
 * make smaller entries.
 */
static int patdev_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	unsigned long haddr = addr & PUD_MASK;

	if (!IS_ALIGNED(addr, PUD_SIZE) && haddr >= vma->vm_start &&
	    vma->vm_end - haddr >= PUD_SIZE)
		patdev_drop_pud_entry(vma, haddr);
	return 0;
}
#endif

#if PATDEV_HUGE
#define PATDEV_VM_OPS_HUGE_FAULT .huge_fault = patdev_vm_huge_fault,
#else
#define PATDEV_VM_OPS_HUGE_FAULT
#endif
#if PATDEV_HUGE_1G
#define PATDEV_VM_OPS_MAY_SPLIT .may_split = patdev_vm_may_split,
#else
#define PATDEV_VM_OPS_MAY_SPLIT
#endif

/* A mapping's operations, for either claim (the .mmap_prepare one adds ->mapped). */
#define PATDEV_VM_OPS							\
	.open = patdev_vm_open,						\
	.close = patdev_vm_close,					\
	.fault = patdev_vm_fault,					\
	PATDEV_VM_OPS_HUGE_FAULT					\
	PATDEV_VM_OPS_MAY_SPLIT

/*
 * A tracked object's mappings: ->pfn_mkwrite makes the core map them
 * write-notify (vm_page_prot read-only on shared writable vmas), so the
 * first write to each page reaches the driver. 4 KiB entries only.
 */
#define PATDEV_VM_OPS_TRACKED						\
	.open = patdev_vm_open,						\
	.close = patdev_vm_close,					\
	.fault = patdev_vm_fault,					\
	.pfn_mkwrite = patdev_track_pfn_mkwrite,

static const struct vm_operations_struct patdev_vm_ops = { PATDEV_VM_OPS };
static const struct vm_operations_struct patdev_tracked_vm_ops = { PATDEV_VM_OPS_TRACKED };

/*
 * What both ways of claiming check before they choose the object: FreeBSD
 * refuses MAP_PRIVATE on a device (on Linux a COW vma would also hit a
 * BUG_ON in vmf_insert_pfn_prot()), and a prefault is refused as
 * PATDEV_IOC_PREFAULT would refuse it on the new mapping.
 */
static int patdev_mmap_check(bool shared, bool access, bool write, u32 prefault)
{
	if (!shared)
		return -EINVAL;
	if (prefault && !access)
		return -EACCES;
	if (prefault == PATDEV_PREFAULT_WRITE && !write)
		return -EACCES;
	return 0;
}

/* The object that the offset names, device memory only for CAP_SYS_RAWIO. */
static struct patdev_obj *patdev_mmap_lookup(pgoff_t pgoff, pgoff_t npages)
{
	struct patdev_obj *obj = patdev_obj_lookup(pgoff, npages);
	int ret;

	if (IS_ERR(obj) || !obj->mmio)
		return obj;
	ret = patdev_mmio_allowed();
	if (ret) {
		patdev_obj_put(obj);
		return ERR_PTR(ret);
	}
	return obj;
}

/*
 * The prefault of a new mapping of @obj, whose vma holds its reference.
 * @claim: the vma is not linked into the offset space's mapping yet (in
 * .mmap), where a revocation's or a mode change's zap would reach what the
 * prefault enters: they must wait for this mapper (patdev_obj_claim()).
 * Once a change is under way the pages are left to faults, which wait for
 * it. A tracked object's first accesses always fault: in .mmap its clears
 * could miss entries entered now, and both paths behave alike.
 *
 * Return: pages entered, or a negative errno.
 */
static long patdev_mmap_prefault(struct vm_area_struct *vma, struct patdev_obj *obj,
				 u32 prefault, bool claim)
{
	long n;

	if (!prefault || patdev_obj_tracked(obj))
		return 0;
	/* Only created objects and BARs can be revoked or change mode. */
	n = claim && obj->revocable ? patdev_obj_claim(obj, vma->vm_mm, GFP_KERNEL) : 0;
	if (!n && READ_ONCE(obj->changing))
		return 0;
	if (!n)
		n = patdev_prefault_vma(vma, vma->vm_start, vma->vm_end,
					prefault == PATDEV_PREFAULT_WRITE);
	if (n >= 0 && obj->created)
		patdev_test_hold_mmap();
	return n;
}

#if PATDEV_MMAP_PREPARE
/*
 * A vma whose ->mapped found no object: it holds nothing, and until the
 * core has unmapped it (if even that fails) it faults with SIGBUS, forks
 * and splits take nothing, and patdev's ioctls do not see it as theirs.
 */
static const struct vm_operations_struct patdev_dead_vm_ops = { };

/*
 * ->mapped of a claim through .mmap_prepare (7.1 on): the vma exists and is
 * linked, with the mmap lock held for write and the vma write-locked. It
 * finds the object again by the offset patdev_mmap_prepare() chose:
 * offsets are never reused, so it is the same object, or none if it went
 * meanwhile (ENXIO, and the core unmaps the vma). Its reference becomes
 * the vma's, and the prefault needs no claim: a zap reaches what it enters.
 */
static int patdev_vm_mapped(unsigned long start, unsigned long end, pgoff_t pgoff,
			    const struct file *file, void **vm_private_data)
{
	struct vm_area_struct *vma = vma_lookup(current->mm, start);
	struct patdev_file *pfile;
	struct patdev_obj *obj;
	u32 prefault;
	long n;

	/*
	 * The core copies *@vm_private_data into the vma only after this
	 * returns 0; the prefault and an error's unmap (->close) need it
	 * now, so the vma is looked up. A stacked caller that set its vma's
	 * file to this one (coda's mmap does, fs/coda/file.c:201 in 7.3)
	 * passes patdev_mmap_prepare()'s check but calls this through
	 * compat_vma_mmap() before its vma is in the tree: no such vma is
	 * found, and the mapping is refused (nothing is held yet).
	 */
	if (!vma || vma->vm_start != start || vma->vm_end != end || vma->vm_file != file ||
	    vma->vm_private_data || !patdev_is_vma(vma))
		return -ENODEV;
	obj = patdev_obj_lookup(pgoff, 0);
	if (IS_ERR(obj)) {
		vma->vm_ops = &patdev_dead_vm_ops;
		return PTR_ERR(obj);
	}
	vma->vm_private_data = obj;
	*vm_private_data = obj;
	atomic_inc(&obj->nmaps);
	/*
	 * The file's prefault setting may have changed since the prepare
	 * checked it: a setting the mapping's protection forbids now is
	 * not applied, rather than failing a mapping that was allowed.
	 */
	pfile = file->private_data;
	prefault = READ_ONCE(pfile->mmap_prefault);
	if (patdev_mmap_check(true, vma->vm_flags & VM_ACCESS_FLAGS, vma->vm_flags & VM_WRITE,
			      prefault))
		return 0;
	n = patdev_mmap_prefault(vma, obj, prefault, false);
	return n < 0 ? n : 0;
}

/* The tables above, with ->mapped: the core refuses it from an .mmap. */
static const struct vm_operations_struct patdev_prepared_vm_ops = {
	PATDEV_VM_OPS
	.mapped = patdev_vm_mapped,
};

static const struct vm_operations_struct patdev_prepared_tracked_vm_ops = {
	PATDEV_VM_OPS_TRACKED
	.mapped = patdev_vm_mapped,
};
#endif

/**
 * patdev_mmio_allowed() - may the caller map or change device memory?
 *
 * Device memory is guarded as /dev/mem is: CAP_SYS_RAWIO, and no lockdown.
 *
 * Return: 0, -EPERM, or lockdown's answer.
 */
int patdev_mmio_allowed(void)
{
	return capable(CAP_SYS_RAWIO) ? security_locked_down(LOCKDOWN_DEV_MEM) : -EPERM;
}

bool patdev_is_vma(const struct vm_area_struct *vma)
{
#if PATDEV_MMAP_PREPARE
	if (vma->vm_ops == &patdev_prepared_vm_ops ||
	    vma->vm_ops == &patdev_prepared_tracked_vm_ops)
		return true;
#endif
	return vma->vm_ops == &patdev_vm_ops || vma->vm_ops == &patdev_tracked_vm_ops;
}

/**
 * patdev_mmap_obj() - claim @vma for @obj (FreeBSD d_mmap_single())
 * @vma: the new vma, its vm_pgoff already in @obj's range
 * @obj: the object; the caller's reference becomes the vma's, or is
 *	dropped on failure
 * @readonly: no writable mapping, now or through mprotect() later
 * @prefault: PATDEV_PREFAULT_* to populate the vma with before returning
 *
 * The one path of both the device's mmap and a dma-buf's
 * (patdev_export.c): same vm_ops, same entries, same mode.
 *
 * Return: 0, -EINVAL (not shared), -EACCES, or a prefault's error.
 */
int patdev_mmap_obj(struct vm_area_struct *vma, struct patdev_obj *obj, bool readonly,
		    u32 prefault)
{
	long n;

	if (!(vma->vm_flags & VM_MAYSHARE)) {
		patdev_obj_put(obj);
		return -EINVAL;
	}
	if (obj->readonly || readonly) {
		if (vma->vm_flags & VM_WRITE) {
			patdev_obj_put(obj);
			return -EACCES;
		}
		/* Nor may mprotect() make it writable later. */
		vm_flags_clear(vma, VM_MAYWRITE);
	}

	vma->vm_private_data = obj;
	vma->vm_ops = patdev_obj_tracked(obj) ? &patdev_tracked_vm_ops : &patdev_vm_ops;
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = patdev_obj_pgprot(obj, vma->vm_page_prot);
	atomic_inc(&obj->nmaps);
	n = patdev_mmap_prefault(vma, obj, prefault, true);
	if (n >= 0)
		return 0;
	/*
	 * ->close is not called for a failed mmap. The core unmaps what the
	 * prefault entered, but only after this returns: zap it now, before
	 * the reference that may be the object's last goes.
	 */
	patdev_zap_vma(vma);
	atomic_dec(&obj->nmaps);
	patdev_obj_put(obj);
	return n;
}

/* The .mmap of kernels before 7.1 (and of test builds that ask for it). */
int patdev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct patdev_file *pfile = file->private_data;
	u32 prefault = READ_ONCE(pfile->mmap_prefault);
	struct patdev_obj *obj;
	int ret;

	/*
	 * Before the lookup, which makes the object at offset 0: a refused
	 * mmap makes nothing (patdev_mmap_obj() asks again, for dma-bufs).
	 */
	ret = patdev_mmap_check(vma->vm_flags & VM_MAYSHARE, vma->vm_flags & VM_ACCESS_FLAGS,
				vma->vm_flags & VM_WRITE, prefault);
	if (ret)
		return ret;
	obj = patdev_mmap_lookup(vma->vm_pgoff, vma_pages(vma));
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	/*
	 * FreeBSD's *foff rewrite: the two names map their objects from the
	 * first page of the objects' own ranges; an offset inside a range
	 * stays as it is.
	 */
	if (vma->vm_pgoff < PATDEV_PGOFF_FIRST_RANGE)
		vma->vm_pgoff = obj->base;
	return patdev_mmap_obj(vma, obj, false, prefault);
}

#if PATDEV_MMAP_PREPARE
/**
 * patdev_mmap_prepare() - the claim's first half, through .mmap_prepare
 * @desc: the mapping to be, before its vma exists
 *
 * The same checks, offset rewrite, flags and mode as patdev_mmap(), on the
 * descriptor, but no reference: the mapping may still fail after this, and
 * nothing would drop one. patdev_vm_mapped() takes it, and prefaults, once
 * the vma exists.
 *
 * Return: 0, the errno patdev_mmap() would give, or -ENODEV for a stacked
 * caller.
 */
int patdev_mmap_prepare(struct vm_area_desc *desc)
{
	struct patdev_file *pfile = desc->file->private_data;
	u32 prefault = READ_ONCE(pfile->mmap_prefault);
	struct patdev_obj *obj;
	int ret;

	/*
	 * A stacked caller (compat_vma_mmap()) that maps another file: its
	 * vma would be neither in the offset space's mapping, where
	 * revocations and mode changes reach entries, nor in the tree when
	 * ->mapped runs (which refuses the stacked callers this misses).
	 */
	if (desc->vm_file != desc->file)
		return -ENODEV;
	ret = patdev_mmap_check(vma_desc_test(desc, VMA_MAYSHARE_BIT),
				vma_desc_test_any_mask(desc, VMA_ACCESS_FLAGS),
				vma_desc_test(desc, VMA_WRITE_BIT), prefault);
	if (ret)
		return ret;
	obj = patdev_mmap_lookup(desc->pgoff, vma_desc_pages(desc));
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	if (obj->readonly) {
		if (vma_desc_test(desc, VMA_WRITE_BIT)) {
			patdev_obj_put(obj);
			return -EACCES;
		}
		/* Nor may mprotect() make it writable later. */
		vma_desc_clear_flags(desc, VMA_MAYWRITE_BIT);
	}
	if (desc->pgoff < PATDEV_PGOFF_FIRST_RANGE)
		desc->pgoff = obj->base;
	desc->vm_ops = patdev_obj_tracked(obj) ? &patdev_prepared_tracked_vm_ops :
						 &patdev_prepared_vm_ops;
	vma_desc_set_flags_mask(desc, VMA_REMAP_FLAGS);
	desc->page_prot = patdev_obj_pgprot(obj, desc->page_prot);
	patdev_obj_put(obj);
	return 0;
}
#endif

#if PATDEV_HUGE_1G
/*
 * An address congruent to @pgoff modulo 1 GiB, for a mapping of at least
 * 1 GiB: as the core's THP alignment does for 2 MiB, by asking for 1 GiB
 * more and moving up inside it. 0 where that cannot be had.
 */
static unsigned long patdev_unmapped_area_1g(struct file *file, unsigned long len,
					     unsigned long pgoff, unsigned long flags)
{
	unsigned long off = pgoff << PAGE_SHIFT, pad = len + PUD_SIZE, addr;

	if (len < PUD_SIZE || pad < len || pgoff > ULONG_MAX >> PAGE_SHIFT)
		return 0;
	addr = patdev_mm_get_unmapped_area(file, 0, pad, 0, flags);
	if (IS_ERR_VALUE(addr))
		return 0;
	return addr + ((off - addr) & (PUD_SIZE - 1));
}

/*
 * mremap() moves page tables without asking the driver first, and cannot
 * move a 1 GiB PFN entry on x86: its walk takes the entry for a bad page
 * table (get_old_pud(), pud_none_or_clear_bad()) and clears it without a
 * TLB flush, or walks into it (get_old_pmd()). Its destination comes
 * through here first, MAP_FIXED, with the mmap lock held for write (every
 * move of a patdev vma does: it cannot grow, DONTUNMAP is refused, and a
 * part is split off first, ->may_split). So the caller's 1 GiB entries of
 * @file over the offsets being placed go here; faults make them anew at
 * the new place. A new MAP_FIXED mmap of such offsets costs
 * the caller's other mappings of them their 1 GiB entries.
 */
static void patdev_drop_pud_leaves(struct file *file, unsigned long len, unsigned long pgoff)
{
	struct mm_struct *mm = current->mm;
	unsigned long end = pgoff + (len >> PAGE_SHIFT), a;
	struct vm_area_struct *vma;

	VMA_ITERATOR(vmi, mm, 0);
	if (!mm)
		return;
	mmap_assert_write_locked(mm);
	for_each_vma(vmi, vma) {
		if (!patdev_is_vma(vma) || vma->vm_file != file)
			continue;
		for (a = ALIGN(vma->vm_start, PUD_SIZE); a < vma->vm_end &&
		     vma->vm_end - a >= PUD_SIZE; a += PUD_SIZE) {
			pgoff_t idx = linear_page_index(vma, a);

			if (idx + (PUD_SIZE >> PAGE_SHIFT) <= pgoff || idx >= end)
				continue;
			patdev_drop_pud_entry(vma, a);
		}
	}
}
#endif

/**
 * patdev_get_unmapped_area() - where an mmap without MAP_FIXED goes
 * @file: a patdev file
 * @addr: the hint
 * @len: length
 * @pgoff: page offset asked for
 * @flags: mmap flags
 *
 * Huge entries need the mapping's slots to line up with the object's: an
 * unhinted mapping of at least 1 GiB is placed at an address congruent to
 * its offset modulo 1 GiB (BAR objects' ranges are placed so that their
 * 1 GiB-aligned memory falls on such slots), one of at least 2 MiB modulo
 * 2 MiB. 6.12 did the latter for any file; 6.13 keeps it for anonymous
 * memory only, so the driver asks for it. The two names are aligned as the
 * first page of the object's range, which is what ->mmap rewrites them to.
 *
 * Return: the address, or a negative errno.
 */
unsigned long patdev_get_unmapped_area(struct file *file, unsigned long addr,
				       unsigned long len, unsigned long pgoff,
				       unsigned long flags)
{
	if (pgoff < PATDEV_PGOFF_FIRST_RANGE)
		pgoff = 0;
#if PATDEV_HUGE_1G
	if (!addr && !(flags & MAP_FIXED)) {
		unsigned long ret = patdev_unmapped_area_1g(file, len, pgoff, flags);

		if (ret)
			return ret;
	}
	if ((flags & MAP_FIXED) && len >= PUD_SIZE)
		patdev_drop_pud_leaves(file, len, pgoff);
#endif
	return thp_get_unmapped_area(file, addr, len, pgoff, flags);
}

/**
 * patdev_range_check() - check that a user range lies in patdev mappings
 * @mm: the caller's mm, mmap lock held
 * @addr: start, rounded down to a page
 * @len: length, rounded up to pages
 * @access: every vma of the range must allow some access (not PROT_NONE)
 * @write: every vma of the range must be writable
 * @start: out: page-aligned start
 * @end: out: page-aligned end
 *
 * The range may span several adjacent patdev vmas but no hole and no
 * foreign vma.
 *
 * Return: 0, -EINVAL (empty, wrapping, holes, foreign vmas) or -EACCES.
 */
int patdev_range_check(struct mm_struct *mm, u64 addr, u64 len, bool access, bool write,
		       unsigned long *start, unsigned long *end)
{
	struct vm_area_struct *vma;
	unsigned long pos;
	u64 last;

	if (!mm || !len || check_add_overflow(addr, len - 1, &last) || last >= TASK_SIZE)
		return -EINVAL;
	*start = addr & PAGE_MASK;
	*end = (last | ~PAGE_MASK) + 1;
	for (pos = *start; pos < *end; pos = vma->vm_end) {
		vma = vma_lookup(mm, pos);
		if (!vma || !patdev_is_vma(vma))
			return -EINVAL;
		if (access && !(vma->vm_flags & VM_ACCESS_FLAGS))
			return -EACCES;
		if (write && !(vma->vm_flags & VM_WRITE))
			return -EACCES;
	}
	return 0;
}

/**
 * patdev_vma_obj_end() - where the object behind a patdev vma ends in it
 * @vma: the vma
 *
 * Return: the address of the first page of @vma past its object's end, or
 * vm_end if the object covers the whole vma. No page from there on is ever
 * mapped, so walks stop there.
 */
unsigned long patdev_vma_obj_end(struct vm_area_struct *vma)
{
	struct patdev_obj *obj = vma->vm_private_data;
	pgoff_t first = vma->vm_pgoff - obj->base;

	if (first >= obj->npages)
		return vma->vm_start;
	if (obj->npages - first >= vma_pages(vma))
		return vma->vm_end;
	return vma->vm_start + ((obj->npages - first) << PAGE_SHIFT);
}
