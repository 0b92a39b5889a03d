// SPDX-License-Identifier: GPL-2.0
/* Feature test (Kbuild): vmf_insert_pfn_pmd() takes a raw pfn, pfn_t gone in 6.17. */
#include <linux/mm.h>

vm_fault_t patdev_conftest(struct vm_fault *vmf, unsigned long pfn);
vm_fault_t patdev_conftest(struct vm_fault *vmf, unsigned long pfn)
{
	return vmf_insert_pfn_pmd(vmf, pfn, false);
}
