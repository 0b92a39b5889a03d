#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Every check, on Debian 6.1 and 6.12: W=1 + sparse build, checkpatch,
# DKMS install, then a VM boot that loads the DKMS module, runs the
# selftests, unloads it and scans dmesg. Ends with "N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/lib.sh"

passed=0
failed=0
declare -a failures=()

result() {
	if [ "$1" = pass ]; then
		passed=$((passed + 1))
		echo "PASS: $2"
	else
		failed=$((failed + 1))
		failures+=("$2")
		echo "FAIL: $2"
	fi
}

step() { printf '\n==> %s\n' "$*"; }

# vm_lane KERNEL LOG PREFIX GUEST-ARGS...: boot KERNEL, run guest.sh with
# GUEST-ARGS, count each PATDEV-RESULT line it prints (they name the
# running kernel) as a result, PREFIX before its name.
vm_lane() {
	local kernel=$1 log=$2 prefix=$3 status verdict name
	shift 3
	"$here/vm.sh" "$kernel" ./scripts/guest.sh "$@" | tee "$log"
	status=${PIPESTATUS[0]}
	while read -r verdict name; do
		result "$verdict" "$prefix$name"
	done < <(sed -n 's/^.*PATDEV-RESULT \(pass\|fail\) \(.*\)$/\1 \2/p' "$log" | tr -d '\r')
	if [ "$status" -eq 0 ] && grep -q 'PATDEV-RESULT' "$log"; then
		result pass "${prefix}VM of $(basename "$kernel") ran to completion"
	else
		result fail "${prefix}VM of $(basename "$kernel") ran to completion (status $status)"
	fi
}

summary() {
	echo
	for f in "${failures[@]}"; do
		echo "failed: $f"
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

step "installing or checking dependencies (first run: several minutes of apt downloads)"
if ! "$here/deps.sh"; then
	result fail "dependencies installed"
	summary
fi

cd "$top" || exit 1
mkdir -p "$PATDEV_CACHE/build"

step "checkpatch --strict on all sources"
mapfile -t sources < <(ls src/*.[ch] include/*.h include/uapi/linux/*.h selftests/*.c tools/*.[ch])
cp_out=$(perl "$KSRC/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f "${sources[@]}" 2>&1)
echo "$cp_out" | grep -v ': total: 0 errors, 0 warnings' || true
if echo "$cp_out" | grep -qE ': (ERROR|WARNING):'; then
	result fail "checkpatch --strict: no errors or warnings"
else
	result pass "checkpatch --strict: no errors or warnings (${#sources[@]} files)"
fi

step "building selftests and the demo for the guest"
if make -s -C selftests && make -s -C tools; then
	result pass "selftests and tools build"
else
	result fail "selftests and tools build"
fi

for series in 6.1 6.12; do
	if ! kver=$(kver_of "$series"); then
		result fail "kernel $series: image and headers installed"
		continue
	fi

	step "$kver: module build with W=1 and sparse (C=2)"
	bdir="$PATDEV_CACHE/build/$kver"
	"$here/stage.sh" "$bdir"
	log="$bdir/build.log"
	if make -C "/lib/modules/$kver/build" M="$bdir" W=1 C=2 modules >"$log" 2>&1 &&
	   ! grep -qiE 'warning|error' "$log"; then
		result pass "$kver: W=1 C=2 build without warnings"
	else
		cat "$log"
		result fail "$kver: W=1 C=2 build without warnings"
	fi

	step "$kver: dkms add/build/install"
	dsrc="$PATDEV_CACHE/dkms-src/patdev-0.1"
	"$here/stage.sh" "$dsrc"
	dkms remove patdev/0.1 --all >/dev/null 2>&1
	rm -rf /usr/src/patdev-0.1
	dlog="$PATDEV_CACHE/dkms-$kver.log"
	if dkms add "$dsrc" >"$dlog" 2>&1 &&
	   dkms build patdev/0.1 -k "$kver" >>"$dlog" 2>&1 &&
	   dkms install patdev/0.1 -k "$kver" --force >>"$dlog" 2>&1; then
		result pass "$kver: dkms add/build/install"
	else
		cat "$dlog"
		find /var/lib/dkms/patdev -name make.log -exec cat {} + 2>/dev/null
		result fail "$kver: dkms add/build/install"
		continue
	fi

	step "$kver: VM boot, modprobe, selftests, modprobe -r, dmesg scan"
	vm_lane "$kver" "$PATDEV_CACHE/vm-$kver.log" "" check
done

step "debug lane: Debian 6.1 source with KASAN, lockdep, DEBUG_VM, kmemleak, KFENCE, fault injection"
dlog="$PATDEV_CACHE/debug-lane.log"
t0=$(date +%s)
if [ "${PATDEV_DEBUG_LANE:-1}" = 0 ]; then
	# For quick local iterations only: a skipped lane is not a pass.
	result fail "debug lane skipped (PATDEV_DEBUG_LANE=0)"
elif tree=$("$here/debug-kernel.sh" | tail -n 1) && [ -n "$tree" ]; then
	result pass "debug kernel built or cached ($(($(date +%s) - t0)) s)"
	ddir="$PATDEV_CACHE/build/debug"
	"$here/stage.sh" "$ddir"
	if make -C "$tree" M="$ddir" W=1 modules >"$ddir/build.log" 2>&1 &&
	   ! grep -qiE 'warning|error' "$ddir/build.log"; then
		result pass "debug kernel: W=1 module build without warnings"
		# The debug kernel's console goes to the log too: its reports matter.
		PATDEV_VM_MEMORY=3G PATDEV_VM_VERBOSE=1 PATDEV_VM_TIMEOUT=1800 \
			vm_lane "$tree" "$dlog" "debug: " debug "$ddir/patdev.ko"
	else
		cat "$ddir/build.log"
		result fail "debug kernel: W=1 module build without warnings"
	fi
else
	result fail "debug kernel built or cached"
fi

summary
