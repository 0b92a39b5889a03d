// SPDX-License-Identifier: GPL-2.0
/* Feature test (Kbuild): vm_flags_set(), 6.3. */
#include <linux/mm.h>

void patdev_conftest(struct vm_area_struct *vma);
void patdev_conftest(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_IO);
}
