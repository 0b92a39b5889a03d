// SPDX-License-Identifier: GPL-2.0
/*
 * Feature test (Kbuild): 1 GiB PFN-map entries through ->huge_fault(vmf,
 * PUD_ORDER), which the core calls for VM_PFNMAP vmas from 6.12 where the
 * architecture has them.
 */
#include <linux/mm.h>

#if !defined(CONFIG_ARCH_SUPPORTS_PUD_PFNMAP) || !defined(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD)
#error "no 1 GiB PFN-map entries on this kernel"
#endif

vm_fault_t patdev_conftest(struct vm_fault *vmf, unsigned int order);
vm_fault_t patdev_conftest(struct vm_fault *vmf, unsigned int order)
{
	return order == PUD_ORDER ? VM_FAULT_FALLBACK : 0;
}
