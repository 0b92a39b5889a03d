#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# stage.sh DIR: copy the module's sources, what "make -C KDIR M=DIR" needs
# (Kbuild, src/, include/), into DIR, fresh: for the lanes' W=1 C=2 builds,
# the VM jobs, and the DKMS source tree of the Debian package (debian/rules).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$1"
mkdir -p "$1"
cp -r "$src/Kbuild" "$src/src" "$src/include" "$1/"
