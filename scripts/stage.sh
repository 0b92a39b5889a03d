#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# stage.sh DIR: copy the module's sources (what a kbuild of it needs) into
# DIR, fresh, for the lanes' W=1 C=2 builds and the VM jobs.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$1"
mkdir -p "$1"
cp -r "$src/Kbuild" "$src/Makefile" "$src/dkms.conf" "$src/src" "$src/include" "$1/"
