// SPDX-License-Identifier: GPL-2.0
/* Feature test (Kbuild): zap_special_vma_range(), zap_vma_ptes() renamed in 7.2. */
#include <linux/mm.h>

void patdev_conftest(struct vm_area_struct *vma);
void patdev_conftest(struct vm_area_struct *vma)
{
	zap_special_vma_range(vma, vma->vm_start, vma->vm_end - vma->vm_start);
}
