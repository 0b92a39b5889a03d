// SPDX-License-Identifier: GPL-2.0
/* Feature test (Kbuild): follow_pfnmap_start(), 6.12. */
#include <linux/mm.h>

int patdev_conftest(struct follow_pfnmap_args *args);
int patdev_conftest(struct follow_pfnmap_args *args)
{
	return follow_pfnmap_start(args);
}
