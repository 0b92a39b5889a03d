// SPDX-License-Identifier: GPL-2.0
/*
 * NetBSD pmap(9)'s modified/referenced state: an attribute of the page,
 * not of a mapping, kept after every mapping of it is gone and cleared
 * only on request (pmap_clear_modify(), pmap_clear_reference()). Where the
 * MMU keeps no such bits for the pmap's use, NetBSD emulates them, and so
 * does patdev for the objects that track: the object owns two bitmaps,
 *
 * - an entry is only ever present after a fault that marked its page
 *   referenced (no fault-around, no 2 MiB entries: each page faults
 *   alone; PATDEV_IOC_PREFAULT counts as an access and marks what it
 *   enters);
 * - an entry is only ever writable after a write fault that marked its page
 *   modified: the mappings are write-notify, so a write to a present
 *   read-only entry reaches ->pfn_mkwrite;
 * - clearing a state removes the page's entries from every process
 *   (unmap_mapping_range() over the object's offsets), so the next access
 *   faults and marks it again.
 *
 * The bitmaps change, and entries are entered, made writable and removed
 * for a clear, only under the object's populate_lock: a clear is atomic
 * against the fault that would mark the page again.
 */
#include <linux/bitmap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "patdev.h"

bool patdev_track_named;
module_param_named(track, patdev_track_named, bool, 0644);
MODULE_PARM_DESC(track,
		 "Keep per-page modified/referenced state for the objects at offsets 0 and PAGE_SIZE (read when each is made; default N)");

/**
 * patdev_track_init() - make @obj keep modified/referenced state
 * @obj: a new object, not named yet
 *
 * Return: 0 or -ENOMEM.
 */
int patdev_track_init(struct patdev_obj *obj)
{
	size_t longs = BITS_TO_LONGS(obj->npages);

	obj->referenced = kvcalloc(longs, sizeof(long), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	obj->modified = kvcalloc(longs, sizeof(long), GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (obj->referenced && obj->modified)
		return 0;
	patdev_track_free(obj);
	return -ENOMEM;
}

void patdev_track_free(struct patdev_obj *obj)
{
	kvfree(obj->referenced);
	kvfree(obj->modified);
	obj->referenced = NULL;
	obj->modified = NULL;
}

/**
 * patdev_track_mark() - pages [@idx, @idx + @n) of @obj were entered
 * @obj: a tracked object, its populate_lock held
 * @idx: first page
 * @n: number of pages
 */
void patdev_track_mark(struct patdev_obj *obj, pgoff_t idx, pgoff_t n)
{
	bitmap_set(obj->referenced, idx, n);
}

/**
 * patdev_track_fault() - ->fault for a tracked object
 * @vmf: the fault
 * @pfn: the frame of the faulting page
 *
 * Caller holds the object's revoke_lock for read. A read enters a
 * read-only entry (the vma's protection is, being write-notify); a write
 * also marks the page modified and makes the entry writable at once, as
 * the core's write fault on a shared page would.
 *
 * Return: the fault's answer.
 */
vm_fault_t patdev_track_fault(struct vm_fault *vmf, unsigned long pfn)
{
	struct vm_area_struct *vma = vmf->vma;
	struct patdev_obj *obj = vma->vm_private_data;
	pgoff_t idx = vmf->pgoff - obj->base;
	vm_fault_t ret;

	mutex_lock(&obj->populate_lock);
	__set_bit(idx, obj->referenced);
	ret = vmf_insert_pfn_prot(vma, vmf->address, pfn,
				  patdev_obj_vma_prot(obj, vma->vm_page_prot));
	if (!(ret & VM_FAULT_ERROR) && (vmf->flags & FAULT_FLAG_WRITE) &&
	    patdev_pte_mkwrite(vma, vmf->address, pfn))
		__set_bit(idx, obj->modified);
	mutex_unlock(&obj->populate_lock);
	return ret;
}

/**
 * patdev_track_pfn_mkwrite() - the first write to a read-only entry
 * @vmf: the fault
 *
 * Return: VM_FAULT_NOPAGE (the entry is writable, or gone and the access
 * faults again), or VM_FAULT_SIGBUS for a revoked object.
 */
vm_fault_t patdev_track_pfn_mkwrite(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct patdev_obj *obj = vma->vm_private_data;
	pgoff_t idx = vmf->pgoff - obj->base;
	vm_fault_t ret = VM_FAULT_NOPAGE;

	down_read(&obj->revoke_lock);
	if (obj->revoked || idx >= obj->npages) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	mutex_lock(&obj->populate_lock);
	/* A clear may have removed the entry since the core read it. */
	if (patdev_pte_mkwrite(vma, vmf->address, pte_pfn(vmf->orig_pte))) {
		__set_bit(idx, obj->referenced);
		__set_bit(idx, obj->modified);
	}
	mutex_unlock(&obj->populate_lock);
out:
	up_read(&obj->revoke_lock);
	return ret;
}

/* Pages per round: a round's two bitmaps take one page. */
#define PATDEV_MR_ROUND	(PAGE_SIZE * BITS_PER_BYTE / 2)

struct patdev_mr_round {
	u64 *mod;		/* state of the round's pages, in the uapi layout */
	u64 *ref;
	pgoff_t first;		/* object page of bit 0 */
	pgoff_t n;
};

/* Reads the state of a round's pages into @r and counts it in @mr. */
static void patdev_mr_read(struct patdev_obj *obj, struct patdev_mr_round *r,
			   struct patdev_mr *mr)
{
	pgoff_t i;

	memset(r->mod, 0, PATDEV_MR_ROUND / BITS_PER_BYTE);
	memset(r->ref, 0, PATDEV_MR_ROUND / BITS_PER_BYTE);
	for (i = 0; i < r->n; i++) {
		if (test_bit(r->first + i, obj->modified)) {
			r->mod[i / 64] |= 1ULL << (i % 64);
			mr->modified++;
		}
		if (test_bit(r->first + i, obj->referenced)) {
			r->ref[i / 64] |= 1ULL << (i % 64);
			mr->referenced++;
		}
	}
}

/*
 * Clears, of the states in @clear, exactly what @r reported set (a page
 * marked since was not reported, and keeps its mark), and removes the
 * entries of those pages: a referenced page may have entries anywhere, a
 * modified one writable entries.
 */
static void patdev_mr_clear(struct patdev_obj *obj, const struct patdev_mr_round *r,
			    u64 clear)
{
	pgoff_t i, zap_first = r->n, zap_end = 0;

	for (i = 0; i < r->n; i++) {
		bool mod = (clear & PATDEV_MR_MODIFIED) && (r->mod[i / 64] & (1ULL << (i % 64)));
		bool ref = (clear & PATDEV_MR_REFERENCED) && (r->ref[i / 64] & (1ULL << (i % 64)));

		if (mod)
			__clear_bit(r->first + i, obj->modified);
		if (ref)
			__clear_bit(r->first + i, obj->referenced);
		if (mod || ref) {
			zap_first = min(zap_first, i);
			zap_end = i + 1;
		}
	}
	/*
	 * One walk of the mapping for the round: removing the entries of
	 * pages in between too only costs them a fault, which marks them
	 * referenced again as they are.
	 */
	if (zap_end)
		patdev_obj_unmap(obj, r->first + zap_first, zap_end - zap_first);
}

/* Checks (and faults in) a whole user bitmap before anything is cleared. */
static int patdev_mr_probe_map(u64 uaddr, u64 npages)
{
	if (!uaddr)
		return 0;
	return clear_user(u64_to_user_ptr(uaddr), DIV_ROUND_UP(npages, 64) * sizeof(u64)) ?
	       -EFAULT : 0;
}

static int patdev_mr_copy_map(u64 uaddr, pgoff_t done, const u64 *map, pgoff_t n)
{
	u64 __user *dst = u64_to_user_ptr(uaddr);

	if (!uaddr)
		return 0;
	return copy_to_user(dst + done / 64, map, DIV_ROUND_UP(n, 64) * sizeof(u64)) ? -EFAULT : 0;
}

/* Reports a round: its bitmaps, then the counts so far in the user's struct. */
static int patdev_mr_report(void __user *arg, const struct patdev_mr *mr, pgoff_t done,
			    const struct patdev_mr_round *r)
{
	if (patdev_mr_copy_map(mr->modified_map, done, r->mod, r->n) ||
	    patdev_mr_copy_map(mr->referenced_map, done, r->ref, r->n) ||
	    copy_to_user(arg, mr, sizeof(*mr)))
		return -EFAULT;
	return 0;
}

/**
 * patdev_ioctl_mr() - PATDEV_IOC_MR_QUERY and PATDEV_IOC_MR_CLEAR
 * @pfile: the caller's open file
 * @arg: the user's &struct patdev_mr
 * @clear: PATDEV_IOC_MR_CLEAR
 *
 * Works round by round, dropping the object's lock between rounds, so the
 * time one call holds it is bounded. Each round reads the state, reports
 * it (bitmaps and counts, written to the user's memory, where another
 * thread may unmap or write-protect them at any time), and only then, for
 * a clear, clears exactly what was reported: state is never cleared
 * without having been reported, whatever happens to the user's memory or
 * to the caller, and a page marked again meanwhile keeps its mark (clears
 * of the object run one at a time, mr_lock). A clear may interleave with
 * faults between rounds, as pages of a range are cleared one after
 * another in NetBSD too.
 *
 * Return: 0 or a negative errno (see &struct patdev_mr).
 */
long patdev_ioctl_mr(struct patdev_file *pfile, void __user *arg, bool clear)
{
	struct patdev_mr_round r;
	struct patdev_obj *obj;
	struct patdev_mr mr;
	pgoff_t done;
	long ret;

	BUILD_BUG_ON(PATDEV_MR_ROUND % 64);
	if (copy_from_user(&mr, arg, sizeof(mr)))
		return -EFAULT;
	if (mr.reserved || !PAGE_ALIGNED(mr.offset))
		return -EINVAL;
	if (clear ? !mr.flags || (mr.flags & ~(PATDEV_MR_MODIFIED | PATDEV_MR_REFERENCED)) :
		    mr.flags)
		return -EINVAL;
	obj = patdev_obj_lookup(mr.offset >> PAGE_SHIFT, 0);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	ret = -EOPNOTSUPP;
	if (!patdev_obj_tracked(obj))
		goto out;
	ret = -EINVAL;
	if (!mr.npages || mr.first >= obj->npages || mr.npages > obj->npages - mr.first)
		goto out;
	/*
	 * A clear revokes entries everywhere: a created object's creator's
	 * call; device memory's, as mapping it, root's.
	 */
	if (clear && (obj->created || obj->mmio)) {
		ret = patdev_space_owner_check(pfile, obj);
		if (ret)
			goto out;
	}
	/* A bad address fails the call at once, not after some rounds. */
	ret = patdev_mr_probe_map(mr.modified_map, mr.npages);
	if (!ret)
		ret = patdev_mr_probe_map(mr.referenced_map, mr.npages);
	if (ret)
		goto out;
	ret = -ENOMEM;
	r.mod = kmalloc(PATDEV_MR_ROUND / BITS_PER_BYTE, GFP_KERNEL);
	r.ref = kmalloc(PATDEV_MR_ROUND / BITS_PER_BYTE, GFP_KERNEL);
	if (!r.mod || !r.ref)
		goto free;
	mr.modified = 0;
	mr.referenced = 0;
	if (clear && mutex_lock_killable(&obj->mr_lock)) {
		ret = -EINTR;
		goto free;
	}
	for (done = 0, ret = 0; done < mr.npages && !ret; done += r.n) {
		cond_resched();
		r.first = mr.first + done;
		r.n = min_t(u64, mr.npages - done, PATDEV_MR_ROUND);
		ret = mutex_lock_killable(&obj->populate_lock);
		if (ret)
			break;
		patdev_mr_read(obj, &r, &mr);
		mutex_unlock(&obj->populate_lock);
		/* Not under the lock: the user's memory may lie in a mapping of @obj. */
		ret = patdev_mr_report(arg, &mr, done, &r);
		if (ret || !clear)
			continue;
		mutex_lock(&obj->populate_lock);
		patdev_mr_clear(obj, &r, mr.flags);
		mutex_unlock(&obj->populate_lock);
	}
	if (clear)
		mutex_unlock(&obj->mr_lock);
free:
	kfree(r.mod);
	kfree(r.ref);
out:
	patdev_obj_put(obj);
	return ret;
}
