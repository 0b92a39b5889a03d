// SPDX-License-Identifier: GPL-2.0
/*
 * Feature test (Kbuild): 2 MiB PFN-map entries through ->huge_fault(vmf,
 * order). The order argument arrived in 6.6; the core calls ->huge_fault
 * for VM_PFNMAP vmas from 6.12, where the architecture says so.
 */
#include <linux/mm.h>

#ifndef CONFIG_ARCH_SUPPORTS_PMD_PFNMAP
#error "no 2 MiB PFN-map entries on this kernel"
#endif

static vm_fault_t patdev_conftest_fault(struct vm_fault *vmf, unsigned int order)
{
	return VM_FAULT_FALLBACK;
}

const struct vm_operations_struct patdev_conftest_ops;
const struct vm_operations_struct patdev_conftest_ops = {
	.huge_fault = patdev_conftest_fault,
};
