// SPDX-License-Identifier: GPL-2.0
/* Feature test (Kbuild): follow_pte() taking the vma, 6.10 (gone in 6.12). */
#include <linux/mm.h>

int patdev_conftest(struct vm_area_struct *vma, unsigned long addr, pte_t **ptep);
int patdev_conftest(struct vm_area_struct *vma, unsigned long addr, pte_t **ptep)
{
	spinlock_t *ptl;	/* the lock follow_pte() takes */

	return follow_pte(vma, addr, ptep, &ptl);
}
