#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh: build, once, the debug-lane kernel: Debian's
# linux-source-6.1 with virtme-ng's small virtme config plus KASAN,
# lockdep, DEBUG_VM, kmemleak, KFENCE, DEBUG_ATOMIC_SLEEP and fault
# injection (failslab, fail_page_alloc). Cached under $PATDEV_CACHE: later
# runs only check. Prints the tree's path on its last line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

dir="$PATDEV_CACHE/debug-kernel"
src="$dir/linux-source-6.1"
tarball=$(ls /usr/src/linux-source-6.1.tar.* | head -n 1)

# Options on top of virtme's defconfig. Drivers a VM does not need go, and
# so does debug info, to keep the build short on two cores.
options=(
	-d DRM -d SOUND -d WLAN -d WIRELESS -d USB_SUPPORT -d AGP
	-d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -e DEBUG_INFO_NONE
	-d BPF_JIT -d FUNCTION_TRACER -d KPROBES -d FTRACE_SYSCALLS
	-e KASAN -e KASAN_GENERIC -e PROVE_LOCKING -e DEBUG_VM -e DEBUG_KMEMLEAK
	-e KFENCE -e DEBUG_ATOMIC_SLEEP -e FAULT_INJECTION -e FAILSLAB
	-e FAIL_PAGE_ALLOC -e FAULT_INJECTION_DEBUG_FS -e DEBUG_FS -e X86_PAT
)
key=$(printf '%s\n' "$(stat -c '%n %s %Y' "$tarball")" "${options[*]}" | sha256sum | cut -c1-16)
stamp="$dir/built-$key"

if [ -f "$stamp" ] && [ -f "$src/arch/x86/boot/bzImage" ] && [ -f "$src/Module.symvers" ]; then
	echo "[debug-kernel] cached: $src" >&2
	echo "$src"
	exit 0
fi

mkdir -p "$dir"
rm -f "$dir"/built-*
if [ ! -f "$src/Makefile" ]; then
	echo "[debug-kernel] extracting $tarball" >&2
	rm -rf "$src"
	tar -xf "$tarball" -C "$dir"
fi
cd "$src"
echo "[debug-kernel] configuring (virtme defconfig + debug options)" >&2
PATH="$VNG_ROOT/usr/bin:$PATH" PYTHONPATH="$VNG_ROOT/usr/lib/python3/dist-packages" \
	/usr/bin/python3 "$VNG_ROOT/usr/bin/virtme-configkernel" --defconfig >"$dir/config.log" 2>&1
./scripts/config "${options[@]}"
make olddefconfig >>"$dir/config.log" 2>&1
for opt in KASAN PROVE_LOCKING DEBUG_VM DEBUG_KMEMLEAK KFENCE DEBUG_ATOMIC_SLEEP \
	   FAULT_INJECTION FAILSLAB FAIL_PAGE_ALLOC MODULES; do
	grep -q "^CONFIG_$opt=y" .config || { echo "[debug-kernel] CONFIG_$opt not set" >&2; exit 1; }
done
jobs=$(($(nproc) + 1))
echo "[debug-kernel] building with -j$jobs: about 20-30 minutes on 2 cores, once" >&2
t0=$(date +%s)
if ! make -j"$jobs" >"$dir/build.log" 2>&1; then
	tail -n 40 "$dir/build.log" >&2
	exit 1
fi
echo "[debug-kernel] built in $(($(date +%s) - t0)) s" >&2
touch "$stamp"
echo "$src"
