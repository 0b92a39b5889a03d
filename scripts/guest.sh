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

# Kernel complaints since line $1 of dmesg; the boot-time PAT table line is not one.
dmesg_clean() {
	dmesg | tail -n "+$(($1 + 1))" >/tmp/patdev-dmesg
	if grep -E 'WARNING:|BUG:|Oops|x86/PAT:|Call Trace|kernel BUG|general protection' /tmp/patdev-dmesg; then
		return 1
	fi
	return 0
}

# suite LABEL [MODULE PARAMETERS]: load, run the selftests, unload, scan dmesg.
suite() {
	label=$1
	shift
	start=$(dmesg | wc -l)
	if modprobe patdev "$@"; then
		result pass "$label modprobe patdev $*"
	else
		result fail "$label modprobe patdev $*"
	fi
	where=$(modinfo -n patdev 2>/dev/null)
	echo "# module file: $where"
	case "$where" in
	*/updates/dkms/*) result pass "$label module loaded from the DKMS install" ;;
	*) result fail "$label module loaded from the DKMS install (got '$where')" ;;
	esac

	echo "# running selftests/patdev_test"
	./selftests/patdev_test >/tmp/patdev-tap 2>&1
	echo "# patdev_test exit status $?"
	cat /tmp/patdev-tap
	# A skipped test did not check anything: it counts as a failure.
	sed -n 's/^ok [0-9]* \(.*\)$/\1/p' /tmp/patdev-tap | while read -r name; do
		case "$name" in
		*"# SKIP"*) result fail "$label selftest $name" ;;
		*) result pass "$label selftest $name" ;;
		esac
	done
	sed -n 's/^not ok [0-9]* \(.*\)$/\1/p' /tmp/patdev-tap | while read -r name; do
		result fail "$label selftest $name"
	done
	grep -q '^ok \|^not ok ' /tmp/patdev-tap || result fail "$label selftests produced no results"

	if modprobe -r patdev; then
		result pass "$label modprobe -r patdev (allowed once unmapped)"
	else
		result fail "$label modprobe -r patdev (allowed once unmapped)"
	fi
	if dmesg_clean "$start"; then
		result pass "$label dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace"
	else
		result fail "$label dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace"
	fi
	echo "# dmesg since module load:"
	sed 's/^/#   /' /tmp/patdev-dmesg
}

memfree_kb() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	awk '/^MemFree:/ { print $2 }' /proc/meminfo
}

# stress_fuzz SECONDS: a fresh load, the stress run, the fuzzer, unload;
# then free memory must be back (within 256 pages: other tasks move it too).
stress_fuzz() {
	label="[stress+fuzz]"
	free0=$(memfree_kb)
	start=$(dmesg | wc -l)
	if modprobe patdev; then
		result pass "$label modprobe patdev"
	else
		result fail "$label modprobe patdev"
	fi
	if ./selftests/patdev_stress "$1" 4; then
		result pass "$label stress: racing first mmaps, mmap/munmap/fork/prefault/queries, patterns intact, no leak"
	else
		result fail "$label stress: racing first mmaps, mmap/munmap/fork/prefault/queries, patterns intact, no leak"
	fi
	if ./selftests/patdev_fuzz "$1"; then
		result pass "$label fuzz: every answer an errno"
	else
		result fail "$label fuzz: every answer an errno"
	fi
	if modprobe -r patdev; then
		result pass "$label modprobe -r patdev"
	else
		result fail "$label modprobe -r patdev"
	fi
	free1=$(memfree_kb)
	echo "# MemFree before load ${free0} kB, after unload ${free1} kB"
	if [ $((free0 - free1)) -le 1024 ]; then
		result pass "$label free memory back within 256 pages after unload"
	else
		result fail "$label free memory back within 256 pages after unload ($((free0 - free1)) kB short)"
	fi
	if dmesg_clean "$start"; then
		result pass "$label dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace"
	else
		result fail "$label dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace"
	fi
	sed 's/^/#   /' /tmp/patdev-dmesg
}

case "$1" in
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
