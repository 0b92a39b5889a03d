#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# vm-job.sh demo|bench: build patdev for the default kernel (Debian 6.1;
# PATDEV_DEMO_KERNEL or PATDEV_BENCH_KERNEL may name 6.12 or newest), boot
# that kernel in a VM, load the module and run the demo (which maps the
# device and prints address, PFN and cache mode) or the benchmarks (with
# its test-only baseline module, tools/bench-module, loaded too; the VM
# gets an IOMMU for vfio-pci).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

job=$1
case $job in
demo) series=${PATDEV_DEMO_KERNEL:-6.1} ;;
bench) series=${PATDEV_BENCH_KERNEL:-6.1} ;;
*) echo "usage: $0 demo|bench" >&2; exit 2 ;;
esac

echo "==> installing or checking dependencies (first run: several minutes of apt downloads)"
"$here/deps.sh"
kver=$(kver_of "$series")
bdir="$PATDEV_CACHE/build/$job-$kver"
echo "==> building patdev.ko for $kver and the $job program"
"$here/stage.sh" "$bdir"
# The newest kernel (PATDEV_*_KERNEL=newest) builds in the trixie chroot.
if in_chroot_kernel "$kver"; then
	"$here/chroot.sh" run --modules "$kver" --bind "$bdir" -- \
		make -s -C "/lib/modules/$kver/build" M="$bdir" modules
else
	make -s -C "/lib/modules/$kver/build" M="$bdir" modules
fi
extra=
if [ "$job" = bench ]; then
	# The baseline: a test-only module, built here and never installed.
	rdir="$bdir-remap"
	rm -rf "$rdir"
	cp -r "$here/../tools/bench-module" "$rdir"
	if in_chroot_kernel "$kver"; then
		"$here/chroot.sh" run --modules "$kver" --bind "$rdir" -- \
			make -s -C "/lib/modules/$kver/build" M="$rdir" modules
	else
		make -s -C "/lib/modules/$kver/build" M="$rdir" modules
	fi
	extra="$rdir/patdev_remap.ko"
fi
make -s -C "$here/../tools"
# vfio-pci, the benchmark's third way to map a BAR, needs an IOMMU.
if [ "$job" = bench ]; then
	export PATDEV_VM_IOMMU=1
	export PATDEV_VM_APPEND="intel_iommu=on${PATDEV_VM_APPEND:+ $PATDEV_VM_APPEND}"
fi
echo "==> running the $job in a VM"
"$here/vm.sh" "$kver" ./scripts/guest.sh "$job" "$bdir/patdev.ko" $extra
