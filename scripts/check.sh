#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Every check, on Debian 6.1, 6.12 and the newest Debian kernel (trixie-
# backports): W=1 + sparse build, checkpatch, DKMS install, then a VM boot
# that loads the DKMS module, runs the selftests, unloads it and scans
# dmesg; a second boot of 6.12 with nopat, a third behind an IOMMU; then
# the debug lane. Ends with a
# timing table and, last, "N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/lib.sh"

# One check at a time on a machine: the lanes share the host's DKMS tree
# (each lane removes and reinstalls patdev) and the cache's build trees.
mkdir -p "$PATDEV_CACHE"
exec 8>"$PATDEV_CACHE/check.lock"
if ! flock -n 8; then
	echo "[check] another make check is running on this machine: waiting for it"
	flock 8
fi

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

# Seconds per lane, for the table at the end: timed NAME START.
declare -a timing_names=() timing_secs=()
timed() {
	timing_names+=("$1")
	timing_secs+=($(($(date +%s) - $2)))
}
t_all=$(date +%s)

# vm_lane KERNEL LOG PREFIX GUEST-ARGS...: boot KERNEL, run guest.sh with
# GUEST-ARGS, count each PATDEV-RESULT line it prints (they name the
# running kernel) as a result, PREFIX before its name.
vm_lane() {
	local kernel=$1 log=$2 prefix=$3 status verdict name
	shift 3
	"$here/vm.sh" "$kernel" ./scripts/guest.sh "$@" | tee "$log"
	status=${PIPESTATUS[0]}
	# Every guest.sh mode prints a result before it loads the module, so a
	# failed run without any is a boot that never reached the guest
	# command (seen twice in about 30 boots: virtme-ng's 255, nothing
	# printed). Boot once more, with the console shown this time; a
	# second such failure stays a failure.
	if [ "$status" -ne 0 ] && ! grep -q 'PATDEV-RESULT' "$log"; then
		echo "[vm] the guest never ran the command (status $status); booting once more, console shown"
		mv "$log" "$log.first"
		PATDEV_VM_VERBOSE=1 "$here/vm.sh" "$kernel" ./scripts/guest.sh "$@" | tee "$log"
		status=${PIPESTATUS[0]}
	fi
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
	local i
	timed total "$t_all"
	echo
	printf '%-40s %8s\n' lane seconds
	for i in "${!timing_names[@]}"; do
		printf '%-40s %8s\n' "${timing_names[$i]}" "${timing_secs[$i]}"
	done
	echo
	for f in "${failures[@]}"; do
		echo "failed: $f"
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

# checkpatch findings that are accepted, each for the reason on its comment:
# FILE:TYPE or FILE:PATTERN:TYPE. FILE is a shell pattern on the path as
# given to checkpatch, TYPE checkpatch's type (--show-types), PATTERN an
# extended regular expression that the flagged source line must match.
# For example, with its reason on the line above it:
#	# a message kept whole so that it can be grepped for (coding-style.rst)
#	'selftests/patdev_fuzz.c:LONG_LINE_STRING'
# None is needed today.
checkpatch_exceptions=(
)

# checkpatch_excused FILE LINE TYPE: whether an exception above covers it.
checkpatch_excused() {
	local file=$1 line=$2 type=$3 e efile etype epat src
	for e in "${checkpatch_exceptions[@]}"; do
		efile=${e%%:*}
		etype=${e##*:}
		# shellcheck disable=SC2053 # efile is a pattern on purpose
		if [[ $file != $efile ]] || [ "$type" != "$etype" ]; then
			continue
		fi
		epat=${e#"$efile":}
		epat=${epat%:"$etype"}
		[ "$epat" = "$etype" ] && return 0
		src=$(sed -n "${line}p" "$file" 2>/dev/null)
		[[ $src =~ $epat ]] && return 0
	done
	return 1
}

# checkpatch_files FILE...: checkpatch --strict over the files. Fails when
# checkpatch fails for any reason but findings listed in
# checkpatch_exceptions, and on any ERROR, WARNING or CHECK that no
# exception covers; prints the findings.
checkpatch_files() {
	local out status line n=0 bad=0
	out=$(perl "$KSRC/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f "$@" 2>&1)
	status=$?
	while IFS= read -r line; do
		if [[ $line =~ ^([^:]+):([0-9]+):\ (ERROR|WARNING|CHECK):([A-Z0-9_]+): ]]; then
			n=$((n + 1))
			if checkpatch_excused "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "${BASH_REMATCH[4]}"; then
				echo "excused: $line"
			else
				echo "$line"
				bad=$((bad + 1))
			fi
		elif [[ $line =~ (ERROR|WARNING|CHECK) ]] && [[ ! $line =~ ^total:\ [0-9]+\ errors ]]; then
			# A finding in a format the pattern above does not know.
			echo "$line"
			bad=$((bad + 1))
		elif [ -n "$line" ] && [[ ! $line =~ ^total:\ [0-9]+\ errors ]]; then
			echo "$line"
		fi
	done <<<"$out"
	# Exit status 1 is checkpatch's "found something"; anything else is a
	# crash, and a 1 without a finding line is unexplained: both fail.
	[ "$status" -eq 0 ] || { [ "$status" -eq 1 ] && [ "$n" -gt 0 ]; } || bad=$((bad + 1))
	[ "$bad" -eq 0 ]
}

# checkpatch_selfcheck: the wrapper must fail on a file whose only fault is
# a CHECK (the weakest finding; without --strict checkpatch passes it).
checkpatch_selfcheck() {
	local tmp out status
	tmp=$(mktemp -d)
	printf '%s\n' '// SPDX-License-Identifier: GPL-2.0' '' \
		'static int patdev_broken(int a)' '{' '	return a+1;' '}' >"$tmp/patdev_broken.c"
	out=$(checkpatch_files "$tmp/patdev_broken.c")
	status=$?
	rm -rf "$tmp"
	echo "$out"
	[ "$status" -ne 0 ] && grep -q 'CHECK:SPACING' <<<"$out"
}

# build_module KVER DIR: W=1 C=2 build of the staged tree DIR for KVER, into
# DIR/build.log. The newest kernel's headers need gcc-14 and trixie's
# libc: its builds run in the chroot, which sees the cache at the same path.
build_module() {
	local kver=$1 dir=$2
	if in_chroot_kernel "$kver"; then
		"$here/chroot.sh" run --modules "$kver" --bind "$dir" -- \
			make -C "/lib/modules/$kver/build" M="$dir" W=1 C=2 modules
	else
		make -C "/lib/modules/$kver/build" M="$dir" W=1 C=2 modules
	fi >"$dir/build.log" 2>&1 || return 1
	# Warnings fail; and so does a build that did not run sparse (a kernel
	# Makefile turns C=2 off, with only a note, when sparse is too old).
	! grep -qiE 'warning|error|not available or not up to date' "$dir/build.log" &&
		grep -q '^  CHECK ' "$dir/build.log"
}

# The Debian package (make deb) is how the module reaches every lane: apt
# installs patdev-dkms, whose postinst has DKMS build and install the module
# for each kernel with headers, as on a user's machine.
pkg_ver=$("$here/version.sh")
deb_dir="$PATDEV_CACHE/deb"
deb="$deb_dir/patdev-dkms_${pkg_ver}_all.deb"

# dkms_clean [chroot KVER]: no patdev package or DKMS entry left from an earlier
# run (one that "dkms remove --all" does not clear included: added, built
# for no kernel; and the 0.1 tree of the hand-run DKMS steps before the
# package), so that apt's install is a first one and builds for every kernel.
dkms_clean() {
	local cmd='
		dpkg --purge patdev-dkms >/dev/null 2>&1 || true
		for v in $(ls /var/lib/dkms/patdev 2>/dev/null); do
			dkms remove "patdev/$v" --all >/dev/null 2>&1 || true
		done
		rm -rf /usr/src/patdev-* /var/lib/dkms/patdev'
	if [ "${1:-}" = chroot ]; then
		"$here/chroot.sh" run --modules "$2" -- sh -c "$cmd"
	else
		sh -c "$cmd"
	fi
}

# apt_install_deb LOG [chroot KVER]: apt install ./patdev-dkms_*.deb on the
# host (DKMS builds for 6.1 and 6.12, whose headers are there), or in the
# chroot for the newest kernel (whose /lib/modules/KVER is the host's, so the
# module lands where the VM looks, and the host's depmod indexes it). The
# postinst builds for the running kernel and the newest in /boot unless
# autoinstall_all_kernels is set: the lanes need every kernel with headers.
apt_install_deb() {
	local log=$1
	local -a apt=(env DEBIAN_FRONTEND=noninteractive autoinstall_all_kernels=1
		      apt-get -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300 install -y "$deb")
	if [ "${2:-}" = chroot ]; then
		{
			dkms_clean chroot "$3" &&
			"$here/chroot.sh" run --modules "$3" --bind "$deb_dir" -- "${apt[@]}" &&
			depmod -a "$3"
		} >"$log" 2>&1
	else
		{ dkms_clean && "${apt[@]}"; } >"$log" 2>&1
	fi || {
		cat "$log"
		find /var/lib/dkms/patdev "$CHROOT"/var/lib/dkms/patdev \
			-name make.log -exec cat {} + 2>/dev/null
		return 1
	}
}

# dkms_installed KVER LOG: DKMS says the package's module is installed for
# KVER, and it is in updates/dkms, where the VM's modprobe finds it.
dkms_installed() {
	local kver=$1 log=$2 status
	if in_chroot_kernel "$kver"; then
		status=$("$here/chroot.sh" run --modules "$kver" -- \
			 dkms status -m patdev -v "$pkg_ver" -k "$kver" 2>>"$log")
	else
		status=$(dkms status -m patdev -v "$pkg_ver" -k "$kver" 2>>"$log")
	fi
	echo "$status" >>"$log"
	grep -qxF "patdev/$pkg_ver, $kver, x86_64: installed" <<<"$status" &&
		ls "/lib/modules/$kver/updates/dkms/patdev.ko"* >/dev/null 2>&1 || {
		echo "patdev $pkg_ver is not installed for $kver in /lib/modules/$kver/updates/dkms" >>"$log"
		cat "$log"
		return 1
	}
}

step "installing or checking dependencies (first run: several minutes of apt downloads)"
t0=$(date +%s)
if ! "$here/deps.sh"; then
	timed deps "$t0"
	result fail "dependencies installed"
	summary
fi
timed deps "$t0"

cd "$top" || exit 1
mkdir -p "$PATDEV_CACHE/build"

# The debug kernel's build (about half an hour of both cores, once; then
# cached) starts now, in the background and niced, so that it uses what the
# lanes below leave idle; the debug lane waits for it. The VMs keep their
# priority, so their timeouts hold.
# It runs as a job of its own (set -m: its own process group), which an
# interrupted check ends whole, compiler processes included.
debug_pid=
stop_debug_build() {
	[ -n "$debug_pid" ] && kill -- -"$debug_pid" 2>/dev/null
	return 0
}
trap stop_debug_build EXIT
trap 'exit 130' INT TERM
if [ "${PATDEV_DEBUG_LANE:-1}" != 0 ]; then
	rm -f "$PATDEV_CACHE/debug-kernel.path" "$PATDEV_CACHE/debug-kernel.secs"
	set -m
	(
		t=$(date +%s)
		nice -n 15 "$here/debug-kernel.sh" >"$PATDEV_CACHE/debug-kernel.path" \
			2>"$PATDEV_CACHE/debug-kernel.out" 8>&-
		rc=$?
		echo $(($(date +%s) - t)) >"$PATDEV_CACHE/debug-kernel.secs"
		exit $rc
	) &
	debug_pid=$!
	set +m
fi

step "checkpatch --strict on all sources"
t0=$(date +%s)
mapfile -t sources < <(ls src/*.[ch] src/*/*.[ch] include/*.h include/uapi/linux/*.h \
	selftests/*.[ch] tools/*.[ch] tools/*/*.[ch] 2>/dev/null | grep -v '\.mod\.c$')
if checkpatch_files "${sources[@]}"; then
	result pass "checkpatch --strict: no errors, warnings or checks (${#sources[@]} files)"
else
	result fail "checkpatch --strict: no errors, warnings or checks"
fi
if checkpatch_selfcheck; then
	result pass "checkpatch wrapper fails on a broken file"
else
	result fail "checkpatch wrapper fails on a broken file"
fi
timed checkpatch "$t0"

step "building selftests and the demo for the guest"
t0=$(date +%s)
if make -s -C selftests && make -s -C tools; then
	result pass "selftests and tools build"
else
	result fail "selftests and tools build"
fi
timed "selftests and tools build" "$t0"

step "Debian package: make deb ($deb_dir), lintian, apt install on the host"
t0=$(date +%s)
deb_ok=
if "$here/deb.sh" "$deb_dir" >/dev/null; then
	result pass "make deb: patdev-dkms $pkg_ver"
	# Each lane gives its own verdict on what the install built for it.
	deb_ok=1
	# Every tag fails, pedantic ones included; an override needs its reason
	# in debian/.
	if (cd "$deb_dir" && lintian --fail-on error,warning,info,pedantic --pedantic \
		--display-info "patdev_${pkg_ver}_all.changes") >"$deb_dir/lintian.log" 2>&1; then
		result pass "lintian: no tag on the source and binary packages"
	else
		cat "$deb_dir/lintian.log"
		result fail "lintian: no tag on the source and binary packages"
	fi
	if apt_install_deb "$PATDEV_CACHE/apt-host.log"; then
		result pass "apt install ./patdev-dkms_${pkg_ver}_all.deb on the host"
	else
		result fail "apt install ./patdev-dkms_${pkg_ver}_all.deb on the host"
	fi
else
	result fail "make deb: patdev-dkms $pkg_ver"
fi
timed "package: deb, lintian, apt" "$t0"

for series in 6.1 6.12 newest; do
	if ! kver=$(kver_of "$series"); then
		result fail "kernel $series: image and headers installed"
		[ "$series" = 6.12 ] && result fail "nopat: no 6.12 kernel to boot"
		continue
	fi
	name=$series
	[ "$series" = newest ] && name=$(echo "$kver" | cut -d. -f1,2)

	step "$kver: module build with W=1 and sparse (C=2)"
	t0=$(date +%s)
	bdir="$PATDEV_CACHE/build/$kver"
	"$here/stage.sh" "$bdir"
	if build_module "$kver" "$bdir"; then
		result pass "$kver: W=1 C=2 build without warnings"
	else
		cat "$bdir/build.log"
		result fail "$kver: W=1 C=2 build without warnings (sparse run)"
	fi
	timed "$name build (W=1 C=2)" "$t0"

	step "$kver: the package's DKMS module"
	t0=$(date +%s)
	dlog="$PATDEV_CACHE/dkms-$kver.log"
	: >"$dlog"
	if [ -n "$deb_ok" ] && in_chroot_kernel "$kver"; then
		apt_install_deb "$dlog" chroot "$kver" &&
			result pass "$kver: apt install ./patdev-dkms_${pkg_ver}_all.deb in the chroot" ||
			result fail "$kver: apt install ./patdev-dkms_${pkg_ver}_all.deb in the chroot"
	fi
	if [ -n "$deb_ok" ] && dkms_installed "$kver" "$dlog"; then
		result pass "$kver: DKMS built and installed patdev $pkg_ver from the package"
		timed "$name dkms" "$t0"
	else
		result fail "$kver: DKMS built and installed patdev $pkg_ver from the package"
		timed "$name dkms" "$t0"
		[ "$series" = 6.12 ] && result fail "nopat: 6.12 has no DKMS module to load"
		[ "$series" = 6.12 ] && result fail "iommu: 6.12 has no DKMS module to load"
		continue
	fi

	step "$kver: VM boot, modprobe, selftests, modprobe -r, dmesg scan"
	t0=$(date +%s)
	vm_lane "$kver" "$PATDEV_CACHE/vm-$kver.log" "" check
	timed "$name VM" "$t0"

	if [ "$series" = 6.12 ]; then
		# One more boot of the same kernel and DKMS module, with PAT off.
		step "$kver with nopat: VM boot, guest.sh nopat"
		t0=$(date +%s)
		PATDEV_VM_APPEND=nopat \
			vm_lane "$kver" "$PATDEV_CACHE/vm-$kver-nopat.log" "nopat: " nopat
		timed "nopat VM (6.12)" "$t0"
		# And behind an IOMMU: strict, so that an unmap reaches it at once.
		step "$kver with intel-iommu: VM boot, guest.sh iommu"
		t0=$(date +%s)
		PATDEV_VM_IOMMU=1 PATDEV_VM_APPEND="intel_iommu=on iommu.strict=1" \
			vm_lane "$kver" "$PATDEV_CACHE/vm-$kver-iommu.log" "iommu: " iommu
		timed "IOMMU VM (6.12)" "$t0"
	fi
done

step "debug lane: newest Debian source with KASAN, lockdep, DEBUG_VM, kmemleak, KFENCE, page-table checks, fault injection"
dlog="$PATDEV_CACHE/debug-lane.log"
t0=$(date +%s)
if [ -z "$debug_pid" ]; then
	# For quick local iterations only: a skipped lane is not a pass.
	result fail "debug lane skipped (PATDEV_DEBUG_LANE=0)"
else
	wait "$debug_pid"
	dstatus=$?
	debug_pid=
	cat "$PATDEV_CACHE/debug-kernel.out"
	timing_names+=("debug kernel build (in the background)")
	timing_secs+=("$(cat "$PATDEV_CACHE/debug-kernel.secs" 2>/dev/null || echo '?')")
	timed "debug kernel build: waited for it" "$t0"
	tree=$(tail -n 1 "$PATDEV_CACHE/debug-kernel.path" 2>/dev/null)
	if [ "$dstatus" -eq 0 ] && [ -n "$tree" ]; then
		result pass "debug kernel built or cached"
		t0=$(date +%s)
		ddir="$PATDEV_CACHE/build/debug"
		"$here/stage.sh" "$ddir"
		# The debug kernel is built with the host's gcc (debug-kernel.sh),
		# and so is its module.
		if make -C "$tree" M="$ddir" W=1 PATDEV_TEST_HOOKS=y modules >"$ddir/build.log" 2>&1 &&
		   ! grep -qiE 'warning|error' "$ddir/build.log"; then
			result pass "debug kernel: W=1 module build without warnings"
			# The debug kernel's console goes to the log too: its reports matter.
			# vivid is built in: its instances come from the command
			# line (guest.sh's VIVID_PARAMS).
			PATDEV_VM_MEMORY=3G PATDEV_VM_VERBOSE=1 PATDEV_VM_TIMEOUT=1800 \
			PATDEV_VM_APPEND="vivid.n_devs=2 vivid.node_types=0x1,0x1 vivid.allocators=0,1 vivid.num_inputs=1,1 vivid.input_types=0,0" \
				vm_lane "$tree" "$dlog" "debug: " debug "$ddir/patdev.ko"
		else
			cat "$ddir/build.log"
			result fail "debug kernel: W=1 module build without warnings"
		fi
		timed "debug lane (module build + VM)" "$t0"
	else
		result fail "debug kernel built or cached"
	fi
fi

summary
