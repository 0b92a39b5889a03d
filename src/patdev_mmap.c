// SPDX-License-Identifier: GPL-2.0
/*
 * mmap: the driver claims the vma and redirects it to an object of its own
 * choosing (FreeBSD d_mmap_single()); faults then enter the object's pages
 * with the object's cache mode.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include "compat.h"
#include "patdev.h"

static void patdev_vm_open(struct vm_area_struct *vma)
{
	struct patdev_obj *obj = vma->vm_private_data;

	/* A split or a fork copy: the new vma holds its own reference. */
	patdev_obj_get(obj);
	atomic_inc(&obj->nmaps);
}

static void patdev_vm_close(struct vm_area_struct *vma)
{
	struct patdev_obj *obj = vma->vm_private_data;

	atomic_dec(&obj->nmaps);
	patdev_obj_put(obj);
}

static vm_fault_t patdev_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct patdev_obj *obj = vma->vm_private_data;

	/* A mapping may be longer than its object: FreeBSD gives SIGBUS too. */
	if (vmf->pgoff >= obj->npages)
		return VM_FAULT_SIGBUS;
	return vmf_insert_pfn_prot(vma, vmf->address, obj->ops->pfn(obj, vmf->pgoff),
				   patdev_obj_pgprot(obj, vma->vm_page_prot));
}

const struct vm_operations_struct patdev_vm_ops = {
	.open = patdev_vm_open,
	.close = patdev_vm_close,
	.fault = patdev_vm_fault,
};

int patdev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct patdev_obj *obj;

	/*
	 * FreeBSD refuses MAP_PRIVATE on a device; on Linux a COW vma would
	 * also hit a BUG_ON in vmf_insert_pfn_prot().
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;

	if (vma->vm_pgoff == PATDEV_PGOFF_ANON)
		obj = patdev_anon_get_shared(vma_pages(vma));
	else
		obj = patdev_obj_lookup(vma->vm_pgoff);
	if (IS_ERR(obj))
		return PTR_ERR(obj);

	if (obj->readonly) {
		if (vma->vm_flags & VM_WRITE) {
			patdev_obj_put(obj);
			return -EACCES;
		}
		/* Nor may mprotect() make it writable later. */
		vm_flags_clear(vma, VM_MAYWRITE);
	}

	/* Redirected: the mapping starts at the object's first page. */
	vma->vm_pgoff = 0;
	vma->vm_private_data = obj;
	vma->vm_ops = &patdev_vm_ops;
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = patdev_obj_pgprot(obj, vma->vm_page_prot);
	atomic_inc(&obj->nmaps);
	return 0;
}
