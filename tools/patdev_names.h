/* SPDX-License-Identifier: GPL-2.0 */
/* Names of patdev's uapi values, shared by the demo and the selftests. */
#ifndef _PATDEV_NAMES_H
#define _PATDEV_NAMES_H

#include <linux/patdev.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

static inline const char *patdev_cache_name(unsigned long long cache)
{
	static const char *const names[] = {
		[PATDEV_CACHE_WB] = "WB",
		[PATDEV_CACHE_WC] = "WC",
		[PATDEV_CACHE_UC_MINUS] = "UC_MINUS",
		[PATDEV_CACHE_UC] = "UC",
		[PATDEV_CACHE_WT] = "WT",
		[PATDEV_CACHE_WP] = "WP",
	};

	return cache < ARRAY_SIZE(names) ? names[cache] : "?";
}

#endif /* _PATDEV_NAMES_H */
