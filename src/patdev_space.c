// SPDX-License-Identifier: GPL-2.0
/*
 * The offset space. Every object owns a range of mmap page offsets, made
 * of 2 MiB slots, in one address_space that every open file of the device
 * maps through: open points the file's f_mapping at the i_mapping of an
 * inode of a private pseudo file system, as DRM does. All patdev vmas are
 * then linked into that one mapping, and unmap_mapping_range() over an
 * object's range removes its entries from every process, whichever device
 * node it opened.
 *
 * Ranges are handed out in increasing order and never reused: an offset a
 * process kept can never name a newer object, and a revocation can never
 * reach another object's entries. A 64-bit offset space does not run out.
 */
#include <linux/fs.h>
#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/pseudo_fs.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include "patdev.h"
#include "patdev_enum_names.h"

#define PATDEV_FS_MAGIC		0x70617464	/* "patd" */

static struct vfsmount *space_mnt;
static struct inode *space_inode;

/* Slot -> the object whose range holds it, from creation until freed. */
static DEFINE_MTREE(space_tree);
/*
 * Serialises the tree with objects' @named, @owner and @owner_link: a
 * lookup finds an object and takes its reference under it, and the
 * reference of a name is dropped only after the name is gone under it.
 */
static DEFINE_MUTEX(space_lock);
static unsigned long next_slot = PATDEV_PGOFF_FIRST_RANGE >> PATDEV_SLOT_SHIFT;

static int patdev_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, PATDEV_FS_MAGIC) ? 0 : -ENOMEM;
}

/*
 * No owner: a mounted superblock pins its type's module, and this mount
 * only goes in the module's exit. Never registered, so never mountable
 * from user space.
 */
static struct file_system_type patdev_fs_type = {
	.name = "patdev_space",
	.init_fs_context = patdev_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

int patdev_space_init(void)
{
	/* The names below the first range must not share a slot with one. */
	BUILD_BUG_ON(PATDEV_PGOFF_FIRST_RANGE % (1 << PATDEV_SLOT_SHIFT));
	BUILD_BUG_ON(PATDEV_PGOFF_SG >= PATDEV_PGOFF_FIRST_RANGE);
	space_mnt = kern_mount(&patdev_fs_type);
	if (IS_ERR(space_mnt))
		return PTR_ERR(space_mnt);
	space_inode = alloc_anon_inode(space_mnt->mnt_sb);
	if (IS_ERR(space_inode)) {
		kern_unmount(space_mnt);
		return PTR_ERR(space_inode);
	}
	return 0;
}

void patdev_space_exit(void)
{
	iput(space_inode);
	kern_unmount(space_mnt);
	mtree_destroy(&space_tree);
}

/* Every open maps through the one mapping: see the comment at the top. */
void patdev_space_open(struct file *file)
{
	file->f_mapping = space_inode->i_mapping;
}

static unsigned long patdev_obj_nslots(const struct patdev_obj *obj)
{
	return DIV_ROUND_UP(obj->npages, 1UL << PATDEV_SLOT_SHIFT);
}

/**
 * patdev_space_add_phase() - give a new object a range of its own, placed
 *	for 1 GiB entries
 * @obj: the object, not yet named
 * @phase: for an object of 1 GiB or more, its range starts at a page
 *	offset congruent to @phase modulo 1 GiB (in pages): the first frame
 *	of physically contiguous memory, whose 1 GiB-aligned parts then fall
 *	on 1 GiB slots of a mapping placed by patdev_get_unmapped_area()
 *
 * Return: 0; -ENOSPC if the offset space is exhausted, -ENOMEM.
 */
int patdev_space_add_phase(struct patdev_obj *obj, unsigned long phase)
{
	/* Byte offsets of every page of every range must fit an loff_t. */
	const unsigned long last_slot = MAX_LFS_FILESIZE >> PMD_SHIFT;
	const unsigned long pud_slots = 1UL << (PUD_SHIFT - PMD_SHIFT);
	unsigned long nslots = patdev_obj_nslots(obj);
	unsigned long first;
	int ret = -ENOSPC;

	mutex_lock(&space_lock);
	first = next_slot;
	if (obj->npages >= PUD_SIZE >> PAGE_SHIFT) {
		phase = (phase >> PATDEV_SLOT_SHIFT) & (pud_slots - 1);
		first += (phase - first) & (pud_slots - 1);
	}
	if (first < last_slot && nslots <= last_slot - first) {
		ret = mtree_insert_range(&space_tree, first, first + nslots - 1, obj, GFP_KERNEL);
		if (!ret) {
			obj->base = first << PATDEV_SLOT_SHIFT;
			next_slot = first + nslots;
		}
	}
	mutex_unlock(&space_lock);
	return ret;
}

/**
 * patdev_space_add() - give a new object a range of its own
 * @obj: the object, not yet named
 *
 * Return: 0; -ENOSPC if the offset space is exhausted, -ENOMEM.
 */
int patdev_space_add(struct patdev_obj *obj)
{
	return patdev_space_add_phase(obj, 0);
}

/* Called as the object is freed; its range is never handed out again. */
void patdev_space_remove(struct patdev_obj *obj)
{
	if (!obj->base)
		return;
	mutex_lock(&space_lock);
	mtree_erase(&space_tree, obj->base >> PATDEV_SLOT_SHIFT);
	mutex_unlock(&space_lock);
}

/*
 * The names below the first range, FreeBSD's demo offsets: each answered
 * by the kind of object behind it (patdev_space_set_name()), so that the
 * offset space knows no kind. Set before the device node appears and
 * cleared after it is gone.
 */
static patdev_name_fn space_names[PATDEV_PGOFF_SG + 1];

/**
 * patdev_space_set_name() - let @fn answer for the name @pgoff
 * @pgoff: PATDEV_PGOFF_ANON or PATDEV_PGOFF_SG
 * @fn: returns a new reference to the object the name stands for, or an
 *	ERR_PTR; NULL: the name stands for nothing (ENXIO)
 */
void patdev_space_set_name(pgoff_t pgoff, patdev_name_fn fn)
{
	if (!WARN_ON_ONCE(pgoff >= ARRAY_SIZE(space_names)))
		space_names[pgoff] = fn;
}

/**
 * patdev_obj_lookup() - the object an mmap page offset names
 * @pgoff: PATDEV_PGOFF_ANON, PATDEV_PGOFF_SG, or a page of an object's
 *	own range
 * @create_npages: for a name whose object is made by its first mmap: make
 *	it with this many pages if it does not exist yet; 0: do not
 *
 * Return: a new reference; ERR_PTR(-ENXIO) for an offset naming nothing,
 * or what the name's kind answers (patdev_anon.c, patdev_sg.c).
 */
struct patdev_obj *patdev_obj_lookup(pgoff_t pgoff, pgoff_t create_npages)
{
	if (pgoff >= PATDEV_PGOFF_FIRST_RANGE)
		return patdev_space_lookup(pgoff);
	if (pgoff < ARRAY_SIZE(space_names) && space_names[pgoff])
		return space_names[pgoff](create_npages);
	return ERR_PTR(-ENXIO);
}

/**
 * patdev_obj_lookup_whole() - the object an offset names as a whole
 * @offset: in bytes: offset 0 or PAGE_SIZE (the names), or the first
 *	offset of an object's own range
 *
 * What a call acting on a whole object (an export, a DMA mapping) names.
 *
 * Return: a new reference; ERR_PTR(-EINVAL) for an offset not
 * page-aligned, -ENXIO for one naming nothing or inside an object, or
 * what patdev_obj_lookup() answers for a name.
 */
struct patdev_obj *patdev_obj_lookup_whole(u64 offset)
{
	pgoff_t pgoff = offset >> PAGE_SHIFT;
	struct patdev_obj *obj;

	if (!PAGE_ALIGNED(offset))
		return ERR_PTR(-EINVAL);
	obj = patdev_obj_lookup(pgoff, 0);
	if (!IS_ERR(obj) && pgoff >= PATDEV_PGOFF_FIRST_RANGE && obj->base != pgoff) {
		patdev_obj_put(obj);
		return ERR_PTR(-ENXIO);
	}
	return obj;
}

/**
 * patdev_space_lookup() - the named object a page offset falls in
 * @pgoff: a page offset of an object's own range
 *
 * Return: a new reference, or ERR_PTR(-ENXIO) if @pgoff lies in no named
 * object (past an object's last page included).
 */
struct patdev_obj *patdev_space_lookup(pgoff_t pgoff)
{
	struct patdev_obj *obj;

	mutex_lock(&space_lock);
	obj = mtree_load(&space_tree, pgoff >> PATDEV_SLOT_SHIFT);
	if (obj && obj->named && pgoff - obj->base < obj->npages)
		patdev_obj_get(obj);
	else
		obj = ERR_PTR(-ENXIO);
	mutex_unlock(&space_lock);
	return obj;
}

/**
 * patdev_space_name() - make an object findable by its offsets
 * @obj: the object; the caller's reference becomes the name's
 * @owner: the open file that created it, or NULL for the module's own
 */
void patdev_space_name(struct patdev_obj *obj, struct patdev_file *owner)
{
	mutex_lock(&space_lock);
	obj->named = true;
	obj->owner = owner;
	if (owner)
		list_add_tail(&obj->owner_link, &owner->objects);
	mutex_unlock(&space_lock);
}

/* With space_lock held: the name goes, its reference is the caller's. */
static void patdev_space_unname(struct patdev_obj *obj)
{
	obj->named = false;
	obj->owner = NULL;
	list_del_init(&obj->owner_link);
}

static int patdev_obj_mark_revoked(struct patdev_obj *obj, bool unless_pinned);
static void patdev_obj_revoke_entries(struct patdev_obj *obj);

/**
 * patdev_space_destroy() - remove the name of an object @owner created
 * @owner: the open file asking
 * @pgoff: the object's first page offset
 * @revoke: also remove the object's entries from every process
 *
 * Return: 0, -ENXIO if @pgoff is not the start of a named object, -EPERM
 * if another open file created it, -EINTR if killed while waiting for a
 * mode change in progress, -EBUSY (@revoke) if an importer pins it
 * (patdev_obj_pin()); nothing was done then.
 */
int patdev_space_destroy(struct patdev_file *owner, pgoff_t pgoff, bool revoke)
{
	struct patdev_obj *obj;
	bool named;
	int ret = 0;

	mutex_lock(&space_lock);
	obj = mtree_load(&space_tree, pgoff >> PATDEV_SLOT_SHIFT);
	if (!obj || !obj->named || obj->base != pgoff)
		ret = -ENXIO;
	else if (obj->owner != owner)
		ret = -EPERM;	/* another file's, or the module's own */
	else
		patdev_obj_get(obj);
	mutex_unlock(&space_lock);
	if (ret)
		return ret;
	/*
	 * A revocation waits for a mode change in progress, which may wait
	 * for other processes' mmap locks: killably, since nothing has been
	 * done yet. A change in its wait holds claims this wait would miss.
	 */
	if (revoke && mutex_lock_killable(&obj->mode_lock)) {
		patdev_obj_put(obj);
		return -EINTR;
	}
	/*
	 * Marked revoked before the name goes, so that an object an importer
	 * pins (EBUSY) keeps it; from here on the revocation completes.
	 */
	if (revoke) {
		ret = patdev_obj_mark_revoked(obj, true);
		if (ret) {
			mutex_unlock(&obj->mode_lock);
			patdev_obj_put(obj);
			return ret;
		}
	}
	/*
	 * Another thread of the owner may have destroyed it meanwhile, without
	 * revoking: its name's reference went there, and this call still
	 * revokes what it was asked to.
	 */
	mutex_lock(&space_lock);
	named = obj->named && obj->owner == owner;
	if (named)
		patdev_space_unname(obj);
	mutex_unlock(&space_lock);
	if (revoke) {
		patdev_obj_revoke_entries(obj);
		mutex_unlock(&obj->mode_lock);
	} else if (!named) {
		ret = -ENXIO;
	}
	if (named)
		patdev_obj_put(obj);	/* the name's reference */
	patdev_obj_put(obj);
	return ret;
}

/**
 * patdev_space_owner_check() - may the open file @owner change @obj?
 * @owner: an open file
 * @obj: a named or unnamed object
 *
 * Device memory is root's to change, as it is root's to map
 * (patdev_mmio_allowed()); any other object its creator's.
 *
 * Return: 0 while @obj is named and @owner made it; -ENXIO once it lost its
 * name (its offset names nothing), -EPERM if another file, or the module,
 * made it; for device memory, patdev_mmio_allowed()'s answer.
 */
int patdev_space_owner_check(struct patdev_file *owner, struct patdev_obj *obj)
{
	int ret;

	if (obj->mmio)
		return patdev_mmio_allowed();
	mutex_lock(&space_lock);
	ret = !obj->named ? -ENXIO : obj->owner != owner ? -EPERM : 0;
	mutex_unlock(&space_lock);
	return ret;
}

/**
 * patdev_space_forget() - remove the name of one of the module's objects
 * @obj: the anonymous or scatter/gather object, as the module unloads
 *
 * Return: @obj, whose name's reference the caller now holds.
 */
struct patdev_obj *patdev_space_forget(struct patdev_obj *obj)
{
	if (!obj)
		return NULL;
	mutex_lock(&space_lock);
	patdev_space_unname(obj);
	mutex_unlock(&space_lock);
	return obj;
}

/* The open file @owner is released: the objects it created lose their names. */
void patdev_space_release_file(struct patdev_file *owner)
{
	struct patdev_obj *obj, *tmp;
	LIST_HEAD(gone);

	mutex_lock(&space_lock);
	list_for_each_entry_safe(obj, tmp, &owner->objects, owner_link) {
		patdev_space_unname(obj);
		list_add_tail(&obj->owner_link, &gone);
	}
	mutex_unlock(&space_lock);
	/* Mappings in other processes keep theirs alive. */
	list_for_each_entry_safe(obj, tmp, &gone, owner_link) {
		list_del_init(&obj->owner_link);
		patdev_obj_put(obj);
	}
}

struct patdev_claim {
	struct list_head link;
	struct mm_struct *mm;
};

/* Live claims of every object, for the debugfs stats. */
static atomic_long_t live_claims = ATOMIC_LONG_INIT(0);

long patdev_claims_live(void)
{
	return atomic_long_read(&live_claims);
}

/*
 * Moves the claims whose mapper is done to @done. The caller holds the mmap
 * lock of @locked: every earlier ->mmap or fork into that mm, which held it
 * for write throughout, has returned and linked its vmas, so its claims go
 * without a look. For other mms, a lock that can be taken proves the same.
 */
static void patdev_claims_prune(struct patdev_obj *obj, struct mm_struct *locked,
				struct list_head *done)
{
	struct patdev_claim *c, *tmp;

	list_for_each_entry_safe(c, tmp, &obj->claims, link) {
		if (c->mm == locked) {
			list_move(&c->link, done);
		} else if (mmap_read_trylock(c->mm)) {
			mmap_read_unlock(c->mm);
			list_move(&c->link, done);
		}
	}
}

static void patdev_claims_free(struct list_head *list)
{
	struct patdev_claim *c, *tmp;

	list_for_each_entry_safe(c, tmp, list, link) {
		mmdrop(c->mm);
		kfree(c);
		atomic_long_dec(&live_claims);
	}
}

/**
 * patdev_obj_claim() - note an mm about to hold entries of @obj out of reach
 * @obj: the object
 * @mm: the mm about to hold the entries; the caller holds its mmap lock
 * @gfp: GFP_KERNEL, or GFP_KERNEL | __GFP_NOFAIL where failing is no option
 *
 * Two paths enter entries where unmap_mapping_range() cannot see them yet,
 * with @mm's mmap lock held for write throughout: a prefault inside ->mmap,
 * before the core links the new vma into the offset space's mapping; and a
 * fork, whose copy of a 2 MiB entry reads the parent's entry without its
 * page-table lock (copy_huge_pmd(), 6.12 on) and may write it into the child
 * after a concurrent zap passed there. A revocation or a mode change sets
 * @revoked or @changing, then waits for the mms claimed here to drop that
 * lock, then zaps (patdev_obj_wait_claims()). A mapper that claims after
 * that wait took the list sees the flag, as the claim's lock orders it
 * after the flag was set: an mmap then does not prefault, and a fork
 * removes the parent's entries before the core copies them
 * (patdev_vm_open()).
 * Claims of finished mappers are pruned as new ones come, so the list holds
 * at most one claim of @mm and the claims of mappers still at work or
 * holding their mmap lock since.
 *
 * Return: 0 or -ENOMEM.
 */
int patdev_obj_claim(struct patdev_obj *obj, struct mm_struct *mm, gfp_t gfp)
{
	struct patdev_claim *c = kmalloc(sizeof(*c), gfp);
	LIST_HEAD(done);

	if (!c)
		return -ENOMEM;
	mmgrab(mm);
	c->mm = mm;
	atomic_long_inc(&live_claims);
	spin_lock(&obj->claim_lock);
	patdev_claims_prune(obj, mm, &done);
	list_add_tail(&c->link, &obj->claims);
	spin_unlock(&obj->claim_lock);
	patdev_claims_free(&done);
	return 0;
}

/* As the object is freed. */
void patdev_obj_drop_claims(struct patdev_obj *obj)
{
	patdev_claims_free(&obj->claims);
}

/**
 * patdev_obj_wait_claims() - wait for the mappers that claimed @obj
 * @obj: the object
 * @killable: give up on a fatal signal
 *
 * Waits until every mm claimed before the call has dropped the mmap lock it
 * held for its ->mmap or fork: its vmas are then linked where
 * patdev_obj_unmap() reaches their entries. The caller keeps later mmaps
 * from entering anything first (@revoked, @changing). Must not be called
 * with @obj's locks held: a mapper in ->mmap may be waiting for them with
 * its mmap lock held. Each wait lasts as long as another process holds its
 * mmap lock for write: for a claimed mmap, until its ->mmap returns (a
 * revocation stops its prefault at the next 2 MiB batch; under a change
 * it runs to its end, and the zap removes what it entered).
 *
 * Return: the number of claims waited for, or -EINTR if @killable and
 * killed (the claims not waited for stay, for the next caller).
 */
int patdev_obj_wait_claims(struct patdev_obj *obj, bool killable)
{
	struct patdev_claim *c, *tmp;
	LIST_HEAD(claims);
	LIST_HEAD(done);
	int n = 0;

	spin_lock(&obj->claim_lock);
	list_splice_init(&obj->claims, &claims);
	spin_unlock(&obj->claim_lock);
	list_for_each_entry_safe(c, tmp, &claims, link) {
		if (!killable) {
			mmap_read_lock(c->mm);
		} else if (mmap_read_lock_killable(c->mm)) {
			n = -EINTR;
			break;
		}
		mmap_read_unlock(c->mm);
		list_move(&c->link, &done);
		n++;
	}
	spin_lock(&obj->claim_lock);
	list_splice(&claims, &obj->claims);
	spin_unlock(&obj->claim_lock);
	patdev_claims_free(&done);
	return n;
}

/**
 * patdev_obj_unmap() - remove entries of pages of @obj from every process
 * @obj: the object
 * @first: first page of the object
 * @n: number of pages
 *
 * Every vma of every process that maps those pages through any open of the
 * device is reached, 2 MiB entries included (a 2 MiB entry that maps any of
 * the pages goes whole).
 */
void patdev_obj_unmap(struct patdev_obj *obj, pgoff_t first, pgoff_t n)
{
	unmap_mapping_range(space_inode->i_mapping, (loff_t)(obj->base + first) << PAGE_SHIFT,
			    (loff_t)n << PAGE_SHIFT, 1);
}

/*
 * Marks @obj revoked, with its mode_lock held: faults and prefaults enter
 * entries with revoke_lock held for read and give up once @revoked is
 * set, and pins are taken under it too. @unless_pinned: not while an
 * importer pins it (-EBUSY).
 */
static int patdev_obj_mark_revoked(struct patdev_obj *obj, bool unless_pinned)
{
	int ret = 0;

	lockdep_assert_held(&obj->mode_lock);
	down_write(&obj->revoke_lock);
	if (unless_pinned && atomic_read(&obj->pins))
		ret = -EBUSY;
	else
		WRITE_ONCE(obj->revoked, true);
	up_write(&obj->revoke_lock);
	return ret;
}

/*
 * Removes the entries of a revoked object: no fault can enter one after
 * @revoked was set, and the mappers whose entries the zap could miss are
 * waited for first (patdev_obj_claim()). Whatever happens to the caller:
 * a killed revoker that skipped the wait would leave a claimed mapper's
 * entries in place for the life of its vma.
 */
static void patdev_obj_revoke_entries(struct patdev_obj *obj)
{
	patdev_obj_wait_claims(obj, false);
	patdev_obj_unmap(obj, 0, patdev_obj_nslots(obj) << PATDEV_SLOT_SHIFT);
}

/**
 * patdev_obj_revoke() - remove every entry of @obj from every process
 * @obj: the object, its mode_lock held by the caller
 * @unless_pinned: give up if an importer pins the object
 *
 * Once @revoked is set the revocation completes whatever happens to its
 * caller. The vmas stay; touching them raises SIGBUS. New pins fail.
 *
 * Return: 0, or -EBUSY (@unless_pinned; nothing was done).
 */
int patdev_obj_revoke(struct patdev_obj *obj, bool unless_pinned)
{
	int ret = patdev_obj_mark_revoked(obj, unless_pinned);

	if (!ret)
		patdev_obj_revoke_entries(obj);
	return ret;
}

/**
 * patdev_obj_pin() - note an alias of @obj's memory outside patdev's page
 *	tables: an importer's DMA or kernel mapping, which neither a
 *	revocation nor a mode change could reach
 * @obj: the object
 * @revoked_too: pin a revoked object too (a kernel mapping, which the
 *	dma-buf core does not let an exporter refuse)
 *
 * While pinned, PATDEV_IOC_SET_CACHE and a revoking PATDEV_IOC_DESTROY
 * fail with EBUSY: a change that is waiting for claims when a pin comes
 * gives up at its end (patdev_change_cache()), so the object keeps the
 * mode it had at the pin. Never waits for other processes' mmap locks,
 * as a change does for its claims: importers pin under their reservation
 * lock, which faults of other drivers take under the mmap lock. It waits,
 * as faults do, while a change or revocation holds revoke_lock for write
 * (the zap and the memtype change).
 *
 * Return: 0; -ENXIO once revoked (unless @revoked_too).
 */
int patdev_obj_pin(struct patdev_obj *obj, bool revoked_too)
{
	int ret = 0;

	down_read(&obj->revoke_lock);
	if (obj->revoked && !revoked_too)
		ret = -ENXIO;
	else
		atomic_inc(&obj->pins);
	up_read(&obj->revoke_lock);
	return ret;
}

void patdev_obj_unpin(struct patdev_obj *obj)
{
	/* The alias is gone before a change or revocation can see no pin. */
	smp_mb__before_atomic();
	atomic_dec(&obj->pins);
}

/* The debugfs listing: every object that still has memory, in offset order. */
void patdev_space_show(struct seq_file *m)
{
	struct patdev_obj *obj;
	unsigned long index = 0;

	mutex_lock(&space_lock);
	/* An object is removed from the tree before it is freed: safe to read. */
	mt_for_each(&space_tree, obj, index, ULONG_MAX) {
		seq_printf(m, "pgoff %lu: %s pages %lu cache %s maps %d pins %d%s%s%s%s%s\n",
			   obj->base, patdev_kind_names[obj->kind], obj->npages,
			   patdev_cache_names[READ_ONCE(obj->cache)], atomic_read(&obj->nmaps),
			   atomic_read(&obj->pins),
			   obj->readonly ? " readonly" : "", obj->created ? " created" : "",
			   obj->named ? "" : " unnamed", obj->revoked ? " revoked" : "",
			   patdev_obj_tracked(obj) ? " tracked" : "");
		if (obj->ops->show)
			obj->ops->show(obj, m);
	}
	mutex_unlock(&space_lock);
}
