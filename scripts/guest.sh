#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM (host root file system, booted by scripts/vm.sh).
#   guest.sh check        modprobe the DKMS-installed module, run the selftests,
#                         unload it, scan dmesg (twice: defaults, sg_readonly=1);
#                         then stress and fuzz a fresh load; one
#                         "PATDEV-RESULT pass|fail <name>" line per assertion
#                         for the host to count
#   guest.sh demo KO      insmod KO and run the demo program
#   guest.sh bench KO     insmod KO and run the benchmark
cd "$(dirname "$0")/.." || exit 1

result() {
	echo "PATDEV-RESULT $1 $(uname -r): $2"
}

# Kernel complaints since line $1 of dmesg, including what the debug
# kernel's KASAN, lockdep, kmemleak and KFENCE print.
COMPLAINTS='WARNING:|BUG:|Oops|x86/PAT:|Call Trace|kernel BUG|general protection'
COMPLAINTS="$COMPLAINTS|KASAN|KFENCE|possible circular locking|possible recursive locking"
COMPLAINTS="$COMPLAINTS|inconsistent lock state|sleeping function called|suspected memory leak"
dmesg_clean() {
	dmesg | tail -n "+$(($1 + 1))" >/tmp/patdev-dmesg
	if grep -E "$COMPLAINTS" /tmp/patdev-dmesg; then
		return 1
	fi
	return 0
}

# check_run LABEL NAME COMMAND...: one result for a command's exit status.
check_run() {
	label=$1
	name=$2
	shift 2
	if "$@"; then
		result pass "$label $name"
	else
		result fail "$label $name"
	fi
}

# tap_results LABEL FILE: one result per TAP line of a selftest run.
tap_results() {
	# A skipped test did not check anything: it counts as a failure.
	sed -n 's/^ok [0-9]* \(.*\)$/\1/p' "$2" | while read -r name; do
		case "$name" in
		*"# SKIP"*) result fail "$1 selftest $name" ;;
		*) result pass "$1 selftest $name" ;;
		esac
	done
	sed -n 's/^not ok [0-9]* \(.*\)$/\1/p' "$2" | while read -r name; do
		result fail "$1 selftest $name"
	done
	grep -q '^ok \|^not ok ' "$2" || result fail "$1 selftests produced no results"
}

# kmemleak_clean: no leak report that names patdev (the module is loaded,
# so its symbols resolve); other boot-time reports are not ours.
kmemleak_clean() {
	k=/sys/kernel/debug/kmemleak
	[ -w "$k" ] || return 1
	sleep 6
	echo scan >"$k"
	echo scan >"$k"
	cat "$k" >/tmp/patdev-kmemleak
	! grep -q patdev /tmp/patdev-kmemleak
}

from_dkms() {
	where=$(modinfo -n patdev 2>/dev/null)
	echo "# module file: $where"
	case "$where" in
	*/updates/dkms/*) return 0 ;;
	*) return 1 ;;
	esac
}

# suite LABEL [MODULE PARAMETERS]: load, run the selftests, unload, scan dmesg.
suite() {
	label=$1
	shift
	start=$(dmesg | wc -l)
	check_run "$label" "modprobe patdev $*" modprobe patdev "$@"
	check_run "$label" "module loaded from the DKMS install" from_dkms
	./selftests/patdev_test >/tmp/patdev-tap 2>&1
	cat /tmp/patdev-tap
	tap_results "$label" /tmp/patdev-tap
	check_run "$label" "modprobe -r patdev (allowed once unmapped)" modprobe -r patdev
	check_run "$label" "dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace" dmesg_clean "$start"
	sed 's/^/#   /' /tmp/patdev-dmesg
}

memfree_kb() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	awk '/^MemFree:/ { print $2 }' /proc/meminfo
}

# Free memory back within 4096 pages (16 MiB) of $1 kB: a coarse guard, as
# the fuzzer's 100k+ mmaps grow kernel caches and per-CPU free lists that
# MemFree does not see (11 MiB measured on 6.12). The exact check is the
# module's own page count (patdev_stress) and the WARN at unload.
memfree_back() {
	now=$(memfree_kb)
	echo "# MemFree before load $1 kB, after unload $now kB"
	[ $(($1 - now)) -le 16384 ]
}

# stress_fuzz SECONDS: a fresh load, the stress run, the fuzzer, unload.
stress_fuzz() {
	label="[stress+fuzz]"
	free0=$(memfree_kb)
	start=$(dmesg | wc -l)
	check_run "$label" "modprobe patdev" modprobe patdev
	check_run "$label" "stress: racing first mmaps, mmap/munmap/fork/prefault/queries, patterns intact, no leak" \
		./selftests/patdev_stress "$1" 4
	check_run "$label" "fuzz: every answer an errno" ./selftests/patdev_fuzz "$1"
	check_run "$label" "modprobe -r patdev" modprobe -r patdev
	check_run "$label" "free memory back within 4096 pages after unload" memfree_back "$free0"
	check_run "$label" "dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace" dmesg_clean "$start"
	sed 's/^/#   /' /tmp/patdev-dmesg
}

# debug KO: the debug kernel's lane; the module is insmod-ed from KO.
debug() {
	label="[debug]"
	start=$(dmesg | wc -l)
	check_run "$label" "insmod patdev" insmod "$1"
	./selftests/patdev_test >/tmp/patdev-tap 2>&1
	cat /tmp/patdev-tap
	tap_results "$label" /tmp/patdev-tap
	check_run "$label" "rmmod patdev" rmmod patdev

	insmod "$1"
	check_run "$label" "fault injection: first mmap and prefault fail with ENOMEM, cleanly" \
		./selftests/patdev_faultinj "$1"
	check_run "$label" "rmmod patdev after fault injection (no leak at unload)" rmmod patdev

	insmod "$1"
	check_run "$label" "stress" ./selftests/patdev_stress "${PATDEV_STRESS_SECONDS:-10}" 4
	check_run "$label" "fuzz" ./selftests/patdev_fuzz "${PATDEV_STRESS_SECONDS:-10}"
	check_run "$label" "kmemleak reports nothing of patdev" kmemleak_clean
	cat /tmp/patdev-kmemleak 2>/dev/null | head -n 40 | sed 's/^/#   /'
	check_run "$label" "rmmod patdev after stress" rmmod patdev
	check_run "$label" "dmesg has no KASAN/lockdep/kmemleak/KFENCE/WARNING/BUG report" \
		dmesg_clean "$start"
	sed 's/^/#   /' /tmp/patdev-dmesg
}

case "$1" in
debug)
	debug "$2"
	;;
check)
	suite "[defaults]"
	suite "[sg_readonly=1]" sg_readonly=1
	stress_fuzz "${PATDEV_STRESS_SECONDS:-10}"
	;;
demo)
	start=$(dmesg | wc -l)
	insmod "$2" || exit 1
	./tools/patdev-demo
	status=$?
	rmmod patdev
	dmesg_clean "$start" || status=1
	exit $status
	;;
bench)
	start=$(dmesg | wc -l)
	insmod "$2" || exit 1
	./tools/patdev-bench
	status=$?
	rmmod patdev || status=1
	dmesg_clean "$start" || status=1
	exit $status
	;;
*)
	echo "usage: $0 check | demo KO | bench KO" >&2
	exit 2
	;;
esac
