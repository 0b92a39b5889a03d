// SPDX-License-Identifier: GPL-2.0
/* Feature test (Kbuild): mm_get_unmapped_area() lost its mm argument in 6.19. */
#include <linux/mm.h>
#include <linux/sched/mm.h>

unsigned long patdev_conftest(struct file *file, unsigned long len);
unsigned long patdev_conftest(struct file *file, unsigned long len)
{
	return mm_get_unmapped_area(file, 0, len, 0, 0);
}
