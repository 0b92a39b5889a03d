#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The main job: build patdev for the default kernel (Debian 6.1), boot that
# kernel in a VM, load the module and run the demo, which maps the device
# and prints the mapping's address, PFN and effective cache mode.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

echo "==> installing or checking dependencies (first run: several minutes of apt downloads)"
"$here/deps.sh"
kver=$(kver_of "${PATDEV_DEMO_KERNEL:-6.1}")
bdir="$PATDEV_CACHE/build/demo-$kver"
echo "==> building patdev.ko for $kver and the demo program"
"$here/stage.sh" "$bdir"
make -s -C "/lib/modules/$kver/build" M="$bdir" modules
make -s -C "$here/../tools"
echo "==> running the demo in a VM"
"$here/vm.sh" "$kver" ./scripts/guest.sh demo "$bdir/patdev.ko"
