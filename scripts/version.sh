#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# version.sh: patdev's version, MAJOR.MINOR, from the one place it is
# written: PATDEV_VERSION_MAJOR/MINOR in the uapi header. The module
# (MODULE_VERSION), the Debian package and dkms.conf all take it from there.
h="$(dirname "$0")/../include/uapi/linux/patdev.h"
major=$(sed -n 's/^#define PATDEV_VERSION_MAJOR[[:space:]]*\([0-9]*\)$/\1/p' "$h")
minor=$(sed -n 's/^#define PATDEV_VERSION_MINOR[[:space:]]*\([0-9]*\)$/\1/p' "$h")
[ -n "$major" ] && [ -n "$minor" ] || { echo "version.sh: no version in $h" >&2; exit 1; }
echo "$major.$minor"
