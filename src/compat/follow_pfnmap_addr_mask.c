// SPDX-License-Identifier: GPL-2.0
/* Feature test (Kbuild): follow_pfnmap_args.addr_mask, 6.15. */
#include <linux/mm.h>

unsigned long patdev_conftest(struct follow_pfnmap_args *args);
unsigned long patdev_conftest(struct follow_pfnmap_args *args)
{
	return args->addr_mask;
}
