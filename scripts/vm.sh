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
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

kver=$1
shift
kernel=$(kimg_of "$kver")
[ -d "$kver" ] && kernel=$kver
append="oops=panic panic_on_warn=1${PATDEV_VM_APPEND:+ $PATDEV_VM_APPEND}"
cd "$here/.." || exit 1
echo "[vm] booting $kver under QEMU (TCG, no KVM): about 30-60 s before the guest runs"
echo "[vm] kernel command line adds: $append"
PATH="$VNG_ROOT/usr/bin:$PATH" PYTHONPATH="$VNG_ROOT/usr/lib/python3/dist-packages" \
	timeout --kill-after=10 "${PATDEV_VM_TIMEOUT:-900}" \
	/usr/bin/python3 "$VNG" --run "$kernel" --disable-kvm ${PATDEV_VM_VERBOSE:+--verbose} \
	--cpus 2 --memory "${PATDEV_VM_MEMORY:-2G}" --append "$append" -- \
	"env PATDEV_CACHE=$PATDEV_CACHE $*" 2>&1 | cat
status=${PIPESTATUS[0]}
[ "$status" -eq 124 ] && echo "[vm] timed out"
exit "$status"
