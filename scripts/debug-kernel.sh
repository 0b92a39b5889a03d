#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh: build, once, the debug-lane kernel: Debian's source of
# the newest kernel (linux-source-X.Y from trixie-backports, which
# scripts/deps.sh unpacks into $NEWEST_SRC) with virtme-ng's small virtme
# config plus KASAN, lockdep, DEBUG_VM, kmemleak, KFENCE,
# DEBUG_ATOMIC_SLEEP, fault injection (failslab, fail_page_alloc) and the
# page-table debugging that matters to a driver that enters PFNs into user
# page tables (PTDUMP_DEBUGFS, PAGE_TABLE_CHECK, DEBUG_VM_PGTABLE), the
# DMA API's checks (DMA_API_DEBUG), and the two dma-buf importers the
# export tests use, built in (vivid, configured on the command line, and
# vgem).
# Built with the host's gcc (bookworm's gcc-12 builds this source: only
# Debian's prebuilt headers insist on gcc-14), so modules for it are built
# on the host too, with the same compiler. Cached under $PATDEV_CACHE:
# later runs only check. Prints the tree's path on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

dir="$PATDEV_CACHE/debug-kernel"
tarball=$(ls "$NEWEST_SRC"/usr/src/linux-source-*.tar.* 2>/dev/null | sort -V | tail -n 1) ||
	true
[ -n "$tarball" ] || { echo "[debug-kernel] no linux-source tarball in $NEWEST_SRC: run scripts/deps.sh" >&2; exit 1; }
name=$(basename "$tarball")
name=${name%.tar.*}
src="$dir/$name"

# Options on top of virtme's defconfig. Drivers a VM does not need go (DRM
# stays for vgem, without the GPU drivers: bochs-display is patdev's), and
# so does debug info, to keep the build short on two cores.
# PAGE_TABLE_CHECK is off at boot unless enforced (or page_table_check=on).
options=(
	-d SOUND -d WLAN -d WIRELESS -d USB_SUPPORT -d AGP
	-d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -e DEBUG_INFO_NONE
	-d BPF_JIT -d FUNCTION_TRACER -d KPROBES -d FTRACE_SYSCALLS
	-e KASAN -e KASAN_GENERIC -e PROVE_LOCKING -e DEBUG_VM -e DEBUG_KMEMLEAK
	-e KFENCE -e DEBUG_ATOMIC_SLEEP -e FAULT_INJECTION -e FAILSLAB
	-e FAIL_PAGE_ALLOC -e FAULT_INJECTION_DEBUG_FS -e DEBUG_FS -e X86_PAT
	-e DEBUG_KERNEL -e PTDUMP_DEBUGFS -e PAGE_TABLE_CHECK -e PAGE_TABLE_CHECK_ENFORCED
	-e DEBUG_VM_PGTABLE -e CHECKPOINT_RESTORE -e MEM_SOFT_DIRTY
	-e TRANSPARENT_HUGEPAGE -e TRANSPARENT_HUGEPAGE_ALWAYS -e USERFAULTFD
	-e DMA_API_DEBUG -e DRM -d DRM_I915 -d DRM_XE -d DRM_BOCHS -d DRM_VIRTIO_GPU -d DRM_QXL
	-d DRM_SIMPLEDRM -d DRM_AMDGPU -d DRM_RADEON -d DRM_NOUVEAU -d DRM_VMWGFX -d DRM_GMA500
	-d DRM_CIRRUS_QEMU -d DRM_AST -d DRM_MGAG200 -d DRM_VBOXVIDEO -d DRM_HYPERV -e DRM_VGEM -e MEDIA_SUPPORT -e MEDIA_SUPPORT_FILTER
	-e MEDIA_TEST_SUPPORT -e VIDEO_DEV -e V4L_TEST_DRIVERS -e VIDEO_VIVID -d VIDEO_VIVID_CEC
)
# What must come out of olddefconfig as =y (a dependency it could not meet
# silently drops an option).
required=(KASAN PROVE_LOCKING DEBUG_VM DEBUG_KMEMLEAK KFENCE DEBUG_ATOMIC_SLEEP
	  FAULT_INJECTION FAILSLAB FAIL_PAGE_ALLOC MODULES
	  PTDUMP_DEBUGFS PAGE_TABLE_CHECK PAGE_TABLE_CHECK_ENFORCED DEBUG_VM_PGTABLE
	  MEM_SOFT_DIRTY TRANSPARENT_HUGEPAGE ARCH_SUPPORTS_PMD_PFNMAP USERFAULTFD
	  ARCH_SUPPORTS_PUD_PFNMAP HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD PCI PCIEPORTBUS
	  DMA_API_DEBUG DMA_SHARED_BUFFER DRM_VGEM VIDEO_VIVID VIDEOBUF2_DMA_CONTIG)
cc_version=$(gcc --version | head -n 1)
key=$(printf '%s\n' "$(stat -c '%n %s %Y' "$tarball")" "${options[*]}" "$cc_version" |
      sha256sum | cut -c1-16)
stamp="$dir/built-$key"

# One build at a time: a second caller (a check started while an earlier
# one's background build still runs) waits, then finds it cached.
mkdir -p "$dir"
exec 9>"$dir.lock"
flock 9

if [ -f "$stamp" ] && [ -f "$src/arch/x86/boot/bzImage" ] && [ -f "$src/Module.symvers" ]; then
	echo "[debug-kernel] cached: $src" >&2
	echo "$src"
	exit 0
fi

mkdir -p "$dir"
rm -f "$dir"/built-*
# Trees of other sources (an older release) only take disk space now.
for old in "$dir"/linux-source-*; do
	[ -d "$old" ] && [ "$old" != "$src" ] && rm -rf "$old"
done
if [ ! -f "$src/Makefile" ]; then
	echo "[debug-kernel] extracting $tarball" >&2
	rm -rf "$src"
	tar -xf "$tarball" -C "$dir"
fi
cd "$src"
echo "[debug-kernel] configuring $name (virtme defconfig + debug options), $cc_version" >&2
PATH="$VNG_ROOT/usr/bin:$PATH" PYTHONPATH="$VNG_ROOT/usr/lib/python3/dist-packages" \
	/usr/bin/python3 "$VNG_ROOT/usr/bin/virtme-configkernel" --defconfig >"$dir/config.log" 2>&1
./scripts/config "${options[@]}"
make olddefconfig >>"$dir/config.log" 2>&1
for opt in "${required[@]}"; do
	grep -q "^CONFIG_$opt=y" .config || { echo "[debug-kernel] CONFIG_$opt not set" >&2; exit 1; }
done
jobs=$(($(nproc) + 1))
echo "[debug-kernel] building with -j$jobs: about 30-40 minutes on 2 cores, once" >&2
t0=$(date +%s)
if ! make -j"$jobs" >"$dir/build.log" 2>&1; then
	tail -n 40 "$dir/build.log" >&2
	exit 1
fi
echo "[debug-kernel] built in $(($(date +%s) - t0)) s" >&2
touch "$stamp"
echo "$src"
