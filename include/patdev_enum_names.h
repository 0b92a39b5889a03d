/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Names of the values of the uapi's enums (&enum patdev_cache, &enum
 * patdev_obj_kind), for the module's debugfs view and for the user tools.
 * Not part of the uapi: include only where it is used.
 */
#ifndef _PATDEV_ENUM_NAMES_H
#define _PATDEV_ENUM_NAMES_H

/* Needs the uapi header <linux/patdev.h> included first. */

static const char *const patdev_cache_names[] = {
	[PATDEV_CACHE_WB] = "WB",
	[PATDEV_CACHE_WC] = "WC",
	[PATDEV_CACHE_UC_MINUS] = "UC_MINUS",
	[PATDEV_CACHE_UC] = "UC",
	[PATDEV_CACHE_WT] = "WT",
	[PATDEV_CACHE_WP] = "WP",
};

static const char *const patdev_kind_names[] = {
	[0] = "?",
	[PATDEV_OBJ_ANON] = "anon",
	[PATDEV_OBJ_SG] = "sg",
	[PATDEV_OBJ_BAR] = "bar",
};

#endif /* _PATDEV_ENUM_NAMES_H */
