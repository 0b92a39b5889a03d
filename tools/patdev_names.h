/* SPDX-License-Identifier: GPL-2.0 */
/* Names of patdev's uapi values, shared by the demo and the selftests. */
#ifndef _PATDEV_NAMES_H
#define _PATDEV_NAMES_H

#include <linux/patdev.h>
#include "patdev_enum_names.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

static inline const char *patdev_cache_name(unsigned long long cache)
{
	return cache < ARRAY_SIZE(patdev_cache_names) ? patdev_cache_names[cache] : "?";
}

#endif /* _PATDEV_NAMES_H */
