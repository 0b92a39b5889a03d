/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Names of &enum patdev_cache values, for the module's debugfs view and for
 * the user tools. Not part of the uapi: include only where it is used.
 */
#ifndef _PATDEV_CACHE_NAMES_H
#define _PATDEV_CACHE_NAMES_H

/* Needs the uapi header <linux/patdev.h> included first. */

static const char *const patdev_cache_names[] = {
	[PATDEV_CACHE_WB] = "WB",
	[PATDEV_CACHE_WC] = "WC",
	[PATDEV_CACHE_UC_MINUS] = "UC_MINUS",
	[PATDEV_CACHE_UC] = "UC",
	[PATDEV_CACHE_WT] = "WT",
	[PATDEV_CACHE_WP] = "WP",
};

#endif /* _PATDEV_CACHE_NAMES_H */
