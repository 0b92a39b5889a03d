#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: build patdev for the default kernel (Debian 6.1), boot it in a
# VM and run tools/patdev-bench there; prints a table and BENCH lines.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

echo "==> installing or checking dependencies (first run: several minutes of apt downloads)"
"$here/deps.sh"
kver=$(kver_of "${PATDEV_BENCH_KERNEL:-6.1}")
bdir="$PATDEV_CACHE/build/bench-$kver"
echo "==> building patdev.ko for $kver and the benchmark"
"$here/stage.sh" "$bdir"
make -s -C "/lib/modules/$kver/build" M="$bdir" modules
make -s -C "$here/../tools"
echo "==> running the benchmark in a VM (about a minute after boot)"
"$here/vm.sh" "$kver" ./scripts/guest.sh bench "$bdir/patdev.ko"
