#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh KVER|TREE COMMAND...: boot Debian kernel KVER, or the kernel built in
# the source tree TREE, under QEMU/TCG with the host root file system
# (virtme-ng) and run COMMAND in it from the repository.
# A kernel WARN or oops panics and ends the VM instead of hanging it; a
# timeout bounds the whole boot. Exit status is the guest command's.
# PATDEV_VM_APPEND: more kernel command-line words (e.g. nopat), after ours.
# The guest sees the host's cache at PATDEV_CACHE (its HOME is /): the
# selftests' kselftest target finds lib.mk there.
# Devices for the device-memory tests (PATDEV_VM_DEVICES=0: none):
#   ivshmem-plain behind a PCIe root port (so that it can be reset through
#     its bus), its 1 GiB BAR 2 backed by a host file the guest sees at
#     PATDEV_IVSHMEM_FILE (the host's root file system is the guest's);
#   bochs-display (a 16 MiB prefetchable frame buffer, BAR 0);
#   edu (a 1 MiB non-prefetchable register BAR 0, and a DMA engine that
#     drives all 64 address bits: its default of 28 would clamp addresses),
#     behind a root port of its own, which gives it a reset (the bus's);
#   with PATDEV_VM_IOMMU=1, an Intel IOMMU (for vfio-pci; the guest also
#     needs intel_iommu=on in PATDEV_VM_APPEND).
# Memory (PATDEV_VM_MEMORY): 3 GiB by default, of which QEMU's q35 puts
# 1 GiB above 4 GiB, out of reach of 32-bit DMA masks: the dma-buf tests
# need both kinds of memory.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

kver=$1
shift
kernel=$(kimg_of "$kver")
[ -d "$kver" ] && kernel=$kver
append="oops=panic panic_on_warn=1${PATDEV_VM_APPEND:+ $PATDEV_VM_APPEND}"
cd "$here/.." || exit 1
qemu_opts=
shm=
if [ "${PATDEV_VM_DEVICES:-1}" != 0 ]; then
	mkdir -p "$PATDEV_CACHE/vm-shm"
	shm=$(mktemp "$PATDEV_CACHE/vm-shm/ivshmem.XXXXXX") || exit 1
	truncate -s 1G "$shm"
	# What the guest must read through its mapping (selftests/patdev_bar.c).
	printf '%s' "patdev ivshmem seed, written by the host" |
		dd of="$shm" bs=1M seek=512 conv=notrunc status=none
	trap 'rm -f "$shm"' EXIT
	qemu_opts=
	[ "${PATDEV_VM_IOMMU:-0}" = 1 ] && qemu_opts="-device intel-iommu,intremap=off "
	qemu_opts+="-object memory-backend-file,id=pdshm,size=1G,share=on,mem-path=$shm"
	qemu_opts+=" -device pcie-root-port,id=pdrp,chassis=9,slot=9"
	qemu_opts+=" -device ivshmem-plain,memdev=pdshm,bus=pdrp"
	qemu_opts+=" -device bochs-display"
	qemu_opts+=" -device pcie-root-port,id=pdrp2,chassis=10,slot=10"
	qemu_opts+=" -device edu,bus=pdrp2,dma_mask=0xffffffffffffffff"
fi
echo "[vm] booting $kver under QEMU (TCG, no KVM): about 30-60 s before the guest runs"
echo "[vm] kernel command line adds: $append"
PATH="$VNG_ROOT/usr/bin:$PATH" PYTHONPATH="$VNG_ROOT/usr/lib/python3/dist-packages" \
	timeout --kill-after=10 "${PATDEV_VM_TIMEOUT:-900}" \
	/usr/bin/python3 "$VNG" --run "$kernel" --disable-kvm ${PATDEV_VM_VERBOSE:+--verbose} \
	--cpus 2 --memory "${PATDEV_VM_MEMORY:-3G}" --append "$append" \
	${qemu_opts:+--qemu-opts="$qemu_opts"} -- \
	"env PATDEV_CACHE=$PATDEV_CACHE PATDEV_IVSHMEM_FILE=$shm $*" 2>&1 | cat
status=${PIPESTATUS[0]}
[ "$status" -eq 124 ] && echo "[vm] timed out"
exit "$status"
