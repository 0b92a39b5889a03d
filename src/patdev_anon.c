// SPDX-License-Identifier: GPL-2.0
/*
 * The shared anonymous object behind mmap offset 0: created by the first
 * mmap with that mapping's size, then shared by every later mmap at
 * offset 0 until the module unloads (FreeBSD patdev keeps it the same way).
 * A RAM object (patdev_ram.c), write-combining.
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include "patdev.h"

unsigned int patdev_anon_max_mb = 256;
module_param_named(anon_max_mb, patdev_anon_max_mb, uint, 0644);
MODULE_PARM_DESC(anon_max_mb,
		 "Largest anonymous object the first mmap at offset 0 may create, in MiB (default 256)");

/* The module's reference to the shared object; NULL until the first mmap. */
static struct patdev_obj *anon_shared;
static DEFINE_MUTEX(anon_lock);

/**
 * patdev_anon_get_shared() - the shared object, created on first use
 * @npages: size of the mapping asking; sizes the object if it is created
 *
 * Serialised so that racing first mmaps create exactly one object. A first
 * mmap of a large object takes a while; whoever waits for it can be killed.
 *
 * Return: a new reference to the object, or an ERR_PTR.
 */
static struct patdev_obj *patdev_anon_get_shared(pgoff_t npages)
{
	struct patdev_obj *obj;

	if (mutex_lock_killable(&anon_lock))
		return ERR_PTR(-EINTR);
	if (!anon_shared) {
		if (npages > ((pgoff_t)READ_ONCE(patdev_anon_max_mb) << (20 - PAGE_SHIFT))) {
			obj = ERR_PTR(-ENOMEM);
			goto out;
		}
		/* WC, or UC- where the CPU has no WC (PAT off). */
		obj = patdev_ram_obj_create(PATDEV_OBJ_ANON, npages,
					    patdev_pat_effective(PATDEV_CACHE_WC), NULL, 0, NULL,
					    0);
		if (IS_ERR(obj))
			goto out;
		if (READ_ONCE(patdev_track_named) && patdev_track_init(obj)) {
			patdev_obj_put(obj);
			obj = ERR_PTR(-ENOMEM);
			goto out;
		}
		patdev_space_name(obj, NULL);
		anon_shared = obj;
	}
	obj = patdev_obj_get(anon_shared);
out:
	mutex_unlock(&anon_lock);
	return obj;
}

/*
 * The shared object if the first mmap has created it: a new reference, or
 * ERR_PTR(-ENOENT) before that, ERR_PTR(-EINTR) if killed while waiting.
 */
struct patdev_obj *patdev_anon_get(void)
{
	struct patdev_obj *obj = ERR_PTR(-ENOENT);

	if (mutex_lock_killable(&anon_lock))
		return ERR_PTR(-EINTR);
	if (anon_shared)
		obj = patdev_obj_get(anon_shared);
	mutex_unlock(&anon_lock);
	return obj;
}

/* Offset 0: made by its first mmap, which sizes it. */
static struct patdev_obj *patdev_anon_name(pgoff_t create_npages)
{
	return create_npages ? patdev_anon_get_shared(create_npages) : patdev_anon_get();
}

void patdev_anon_init(void)
{
	patdev_space_set_name(PATDEV_PGOFF_ANON, patdev_anon_name);
}

void patdev_anon_exit(void)
{
	patdev_space_set_name(PATDEV_PGOFF_ANON, NULL);
	/* No mapping can exist here: each holds the file, hence the module. */
	patdev_obj_put(patdev_space_forget(anon_shared));
	anon_shared = NULL;
}
