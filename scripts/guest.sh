#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM (host root file system, booted by scripts/vm.sh).
#   guest.sh check        modprobe the DKMS-installed module, run the selftests,
#                         unload it, scan dmesg (twice: defaults, sg_readonly=1);
#                         the PCI BARs of the VM's devices bound to patdev;
#                         the APIC object's tests (sg_source=lapic); then
#                         stress and fuzz a fresh load; last, the APIC object
#                         once the kernel is locked down; one
#                         "PATDEV-RESULT pass|fail <name>" line per assertion
#                         for the host to count
#   guest.sh nopat        the suite on a kernel booted with nopat
#   guest.sh iommu        edu's DMA behind an IOMMU (the IOVAs, the faults)
#   guest.sh debug KO     the debug kernel's lane, KO insmod-ed
#   guest.sh demo KO      insmod KO and run the demo program
#   guest.sh bench KO REMAP_KO  insmod both and run the benchmarks (RAM objects
#                         against remap_pfn_range(); a device BAR through
#                         patdev, sysfs and vfio-pci)
cd "$(dirname "$0")/.." || exit 1

result() {
	echo "PATDEV-RESULT $1 $(uname -r): $2"
}

# Each load starts with a unique marker line written to /dev/kmsg; the
# scan reads everything after it. Counting lines instead would go blind
# once the ring buffer wraps (the debug kernel fills it fast).
mark() {
	marker="patdev-check-mark $1 $$ $(date +%s%N)"
	echo "<6>$marker" >/dev/kmsg
}

# Kernel complaints, including what the debug kernel's KASAN, lockdep,
# kmemleak and KFENCE print.
COMPLAINTS='WARNING:|BUG:|Oops|x86/PAT:|Call Trace|kernel BUG|general protection'
COMPLAINTS="$COMPLAINTS|KASAN|KFENCE|possible circular locking|possible recursive locking"
COMPLAINTS="$COMPLAINTS|inconsistent lock state|sleeping function called|suspected memory leak"
COMPLAINTS="$COMPLAINTS|page_table_check|bad p(gd|4d|ud|md) "

# The kernel's own notes on loading an unsigned out-of-tree module, at
# warning level, the first time in a boot: not the module's complaints.
LOAD_NOTES='loading out-of-tree module taints kernel|module verification failed'

# dmesg_clean [ALLOWED]: no complaint, and no warning or worse from the
# module itself (a line naming patdev at level warn or higher), since the
# last marker; ALLOWED is an extended regex of module warnings a test
# expects. Fails too if the marker is gone (the ring buffer wrapped past
# it: what followed it cannot be vouched for).
dmesg_clean() {
	# -x ("user  :warn  : [time] text"): dmesg -r of util-linux 2.38
	# prints wrong priorities for records of non-kernel facilities.
	dmesg -x | awk -v m="$marker" 'found { print } index($0, m) { found = 1 }' >/tmp/patdev-dmesg-raw
	if ! dmesg -x | grep -qF "$marker"; then
		: >/tmp/patdev-dmesg
		echo "# marker '$marker' is no longer in the ring buffer"
		return 1
	fi
	sed 's/^[a-z]* *:[a-z]* *: //' /tmp/patdev-dmesg-raw >/tmp/patdev-dmesg
	status=0
	grep -E "$COMPLAINTS" /tmp/patdev-dmesg && status=1
	grep -E '^[a-z]+ *:(emerg|alert|crit|err|warn) *:' /tmp/patdev-dmesg-raw | grep -i 'patdev' |
		grep -vE "$LOAD_NOTES${1:+|$1}" >/tmp/patdev-dmesg-module && status=1
	cat /tmp/patdev-dmesg-module
	return $status
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

# tap_complete FILE STATUS: the run reported every result its plan
# ("1..N") announced, and the binary exited 0. A binary that crashes
# after k tests has printed k results: that is a failure, not k passes.
tap_complete() {
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$1" | head -n 1)
	got=$(grep -cE '^(not )?ok [0-9]+ ' "$1")
	echo "# TAP plan ${plan:-missing}, results $got, exit status $2"
	[ -n "$plan" ] && [ "$got" -eq "$plan" ] && [ "$2" -eq 0 ]
}

# tap_results LABEL FILE STATUS: one result per TAP line of a selftest
# run, and one for the run being complete.
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
	check_run "$1" "$(basename "$3"): every planned result reported, exit status 0" \
		tap_complete "$2" "$4"
}

# run_tap LABEL BINARY: run a kselftest-harness binary and count it.
run_tap() {
	"$2" >/tmp/patdev-tap 2>&1
	tap_status=$?
	cat /tmp/patdev-tap
	tap_results "$1" /tmp/patdev-tap "$2" "$tap_status"
}

# params_took_effect NAME=VALUE...: the loaded module shows each parameter
# with that value (booleans as Y/N), so a pass with a parameter really ran
# with it.
params_took_effect() {
	# Own variable names: sh has no locals, and callers hold name/label.
	for pte_kv in "$@"; do
		pte_name=${pte_kv%%=*}
		pte_want=${pte_kv#*=}
		pte_have=$(cat "/sys/module/patdev/parameters/$pte_name" 2>/dev/null) || return 1
		case "$pte_have:$pte_want" in
		Y:1 | Y:Y | Y:y | N:0 | N:N | N:n) ;;
		*)
			[ "$pte_have" = "$pte_want" ] ||
				{ echo "# $pte_name is '$pte_have', not '$pte_want'"; return 1; }
			;;
		esac
	done
}

# must_fail LABEL NAME COMMAND...: one result, a pass when COMMAND fails.
must_fail() {
	mf_what="$1 $2"
	shift 2
	if "$@" >/dev/null 2>&1; then
		result fail "$mf_what"
	else
		result pass "$mf_what"
	fi
}

# The harness checks itself on input it knows to be bad: each must fail.
harness_selfcheck() {
	mark selfcheck-module
	echo "<4>patdev: planted warning for the harness self-check" >/dev/kmsg
	must_fail "[harness]" "dmesg scan catches a planted module warning" dmesg_clean
	mark selfcheck-warn
	echo "<4>WARNING: CPU: 0 PID: 0 at planted/by/the/harness.c:1 self-check" >/dev/kmsg
	must_fail "[harness]" "dmesg scan catches a planted WARNING" dmesg_clean
	marker="patdev-check-mark never written $$"
	must_fail "[harness]" "dmesg scan fails when its marker is lost" dmesg_clean
	printf '1..3\nok 1 a\nok 2 b\n' >/tmp/patdev-tap-partial
	must_fail "[harness]" "TAP count fails a run that stopped after 2 of 3" \
		tap_complete /tmp/patdev-tap-partial 0
	printf '1..2\nok 1 a\nok 2 b\n' >/tmp/patdev-tap-partial
	must_fail "[harness]" "TAP count fails a run whose binary crashed" \
		tap_complete /tmp/patdev-tap-partial 139
	must_fail "[harness]" "parameter check fails when the module is not loaded" \
		params_took_effect sg_readonly=1
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

# The loaded module is the one patdev-dkms's DKMS built (updates/dkms), of
# the version of the tree (the uapi header's, scripts/version.sh).
from_dkms() {
	where=$(modinfo -n patdev 2>/dev/null)
	loaded=$(cat /sys/module/patdev/version 2>/dev/null)
	echo "# module file: $where, version $loaded"
	case "$where" in
	*/updates/dkms/*) [ "$loaded" = "$(scripts/version.sh)" ] ;;
	*) return 1 ;;
	esac
}

# The claim the running kernel calls for: .mmap_prepare with vm_ops->mapped
# from 7.1 on, .mmap before.
kernel_mmap_path() {
	# shellcheck disable=SC2046 # the release's numbers, split
	set -- $(uname -r | tr '.-' '  ')
	if [ "$1" -gt 7 ] || { [ "$1" -eq 7 ] && [ "$2" -ge 1 ]; }; then
		echo .mmap_prepare
	else
		echo .mmap
	fi
}

# mmap_path WANT: the device's mmap claims through WANT (.mmap or
# .mmap_prepare), as its debugfs stats say.
mmap_path() {
	[ -r /sys/kernel/debug/patdev/stats ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
	mp_got=$(sed -n 's/^mmap //p' /sys/kernel/debug/patdev/stats 2>/dev/null)
	echo "# mmap claims through ${mp_got:-?} on $(uname -r) ($1 expected)"
	[ "$mp_got" = "$1" ]
}

# mmap_path_check LABEL: one result, the claim the running kernel calls for.
mmap_path_check() {
	check_run "$1" "mmap claims through $(kernel_mmap_path), as $(uname -r) calls for" \
		mmap_path "$(kernel_mmap_path)"
}

# suite LABEL [MODULE PARAMETERS]: load, run the selftests, unload, scan dmesg.
suite() {
	label=$1
	shift
	mark "$label"
	check_run "$label" "modprobe patdev $*" modprobe patdev "$@"
	check_run "$label" "module loaded from the package's DKMS install, its version the tree's" from_dkms
	check_run "$label" "parameters took effect: ${*:-defaults}" params_took_effect "$@"
	mmap_path_check "$label"
	run_tap "$label" ./selftests/patdev_test
	run_tap "$label" ./selftests/patdev_huge
	run_tap "$label" ./selftests/patdev_track
	check_run "$label" "modprobe -r patdev (allowed once unmapped)" modprobe -r patdev
	check_run "$label" "dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace/module warning" dmesg_clean
	sed 's/^/#   /' /tmp/patdev-dmesg
}

# kselftest_target: the selftests as a kselftest target, run the way a
# kernel developer runs one (lib.mk's run_tests: each program under the
# kselftest runner, its timeout from selftests/settings), then installed
# with run_kselftest.sh beside them. One result per program. The guest
# sees the tree read-only: what the host built is run as it is (-o all).
ksft_run_tests() {
	make -s --no-print-directory -C selftests run_tests -o all
}

ksft_installed() {
	rm -rf /tmp/patdev-kselftest
	make -s --no-print-directory -C selftests install -o all \
		INSTALL_PATH=/tmp/patdev-kselftest >/dev/null &&
		/tmp/patdev-kselftest/run_kselftest.sh -l >/tmp/patdev-ksft-list &&
		cat /tmp/patdev-ksft-list &&
		[ "$(grep -c '^patdev:patdev_' /tmp/patdev-ksft-list)" -eq 3 ]
}

kselftest_target() {
	label="[kselftest]"
	mark "$label"
	check_run "$label" "modprobe patdev" modprobe patdev
	run_tap "$label" ksft_run_tests
	check_run "$label" "make install puts run_kselftest.sh beside the collection" ksft_installed
	check_run "$label" "modprobe -r patdev" modprobe -r patdev
	check_run "$label" "dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace/module warning" dmesg_clean
	sed 's/^/#   /' /tmp/patdev-dmesg
}

# bar_suite LABEL: PCI BARs bound to patdev (the devices
# scripts/vm.sh attaches), and edu's DMA into RAM objects; unloading with
# devices still bound unbinds them.
bar_suite() {
	label=$1
	mark "$label"
	check_run "$label" "modprobe patdev" modprobe patdev
	run_tap "$label" ./selftests/patdev_bar
	run_tap "$label" ./selftests/patdev_dma
	check_run "$label" "unload with the devices bound (unbinds them)" rmmod patdev
	check_run "$label" "dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace/module warning" dmesg_clean
	sed 's/^/#   /' /tmp/patdev-dmesg
}

# The importers of patdev's dma-bufs: vivid with two capture-only
# instances on its webcam input, instance 0 on vb2-vmalloc and instance 1
# on vb2-dma-contig, and vgem. The debug kernel has them built in, with
# the same vivid parameters on its command line (scripts/check.sh).
VIVID_PARAMS="n_devs=2 node_types=0x1,0x1 allocators=0,1 num_inputs=1,1 input_types=0,0"
importers_load() {
	if [ -d /sys/module/vivid ] && [ ! -f /sys/module/vivid/initstate ]; then
		grep -q 'vivid.n_devs=2' /proc/cmdline || return 1
	else
		modprobe vivid $VIVID_PARAMS || return 1
	fi
	[ -d /sys/module/vgem ] || [ -e /sys/devices/faux/vgem ] || [ -e /sys/devices/platform/vgem ] ||
		modprobe vgem
}

importers_unload() {
	for m in vivid vgem; do
		[ -f /sys/module/$m/initstate ] && { modprobe -r $m || return 1; }
	done
	return 0
}

# export_suite LABEL: RAM objects exported as dma-bufs, imported by vivid
# and vgem.
export_suite() {
	label=$1
	mark "$label"
	check_run "$label" "importers loaded: vivid ($VIVID_PARAMS), vgem" importers_load
	check_run "$label" "modprobe patdev" modprobe patdev
	run_tap "$label" ./selftests/patdev_export
	check_run "$label" "modprobe -r patdev (every dma-buf released)" modprobe -r patdev
	check_run "$label" "importers unload" importers_unload
	check_run "$label" "dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace/module warning" dmesg_clean
	sed 's/^/#   /' /tmp/patdev-dmesg
}

# track_suite: the two named objects keep modified/referenced state.
track_suite() {
	label="[track=1]"
	mark "$label"
	check_run "$label" "modprobe patdev track=1" modprobe patdev track=1
	check_run "$label" "parameters took effect: track=1" params_took_effect track=1
	run_tap "$label" ./selftests/patdev_track
	check_run "$label" "modprobe -r patdev" modprobe -r patdev
	check_run "$label" "dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace/module warning" dmesg_clean
	sed 's/^/#   /' /tmp/patdev-dmesg
}

# lapic_suite: the FreeBSD demo's own SG object (sg_source=lapic), with
# its own tests; they would skip in x2APIC mode, so that is checked first.
lapic_suite() {
	label=${1:-"[sg_source=lapic]"}
	mark "$label"
	check_run "$label" "modprobe patdev sg_source=lapic" modprobe patdev sg_source=lapic
	check_run "$label" "parameters took effect: sg_source=lapic" params_took_effect sg_source=lapic
	check_run "$label" "xAPIC, not x2APIC: the local APIC has an MMIO page to test" \
		sh -c '! grep -qw x2apic /proc/cpuinfo'
	run_tap "$label" ./selftests/patdev_lapic
	check_run "$label" "modprobe -r patdev" modprobe -r patdev
	check_run "$label" "dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace/module warning" dmesg_clean
	sed 's/^/#   /' /tmp/patdev-dmesg
}

lock_down() {
	[ -e /sys/kernel/security/lockdown ] ||
		mount -t securityfs securityfs /sys/kernel/security || return 1
	echo integrity >/sys/kernel/security/lockdown &&
		grep -q '\[integrity\]' /sys/kernel/security/lockdown
}

# lapic_lockdown: last of a boot, since lockdown cannot be lifted. The
# module is loaded first (a locked-down kernel refuses unsigned modules),
# then the kernel is locked down to integrity: mapping the APIC page must
# now fail with EPERM, as /dev/mem does, and the rest keep working.
lapic_lockdown() {
	label="[lockdown=integrity]"
	mark "$label"
	check_run "$label" "modprobe patdev sg_source=lapic" modprobe patdev sg_source=lapic
	check_run "$label" "kernel locked down to integrity at run time" lock_down
	run_tap "$label" ./selftests/patdev_lapic
	check_run "$label" "modprobe -r patdev" modprobe -r patdev
	check_run "$label" "dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace/module warning" dmesg_clean
	sed 's/^/#   /' /tmp/patdev-dmesg
}

memfree_kb() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	awk '/^MemFree:/ { print $2 }' /proc/meminfo
}

# Free memory back within 12288 pages (48 MiB) of $1 kB: a coarse guard, as
# the fuzzer's 100k+ mmaps and the stress run's thousands of forked children
# grow kernel caches and per-CPU free lists that MemFree does not see (drops
# of 11 to 23 MiB on 6.1, once 37 MiB, and up to 19 MiB on 7.3 measured with
# nothing leaked: module object, page and claim counts as expected, kmemleak
# clean in the debug lane), and a direct-map split keeps a page-table page
# for good. It still catches the loss of a 64 MiB object. The exact checks
# are the module's own counts (patdev_stress) and the WARN at unload.
memfree_back() {
	now=$(memfree_kb)
	echo "# MemFree before load $1 kB, after unload $now kB"
	[ $(($1 - now)) -le 49152 ]
}

# stress_fuzz SECONDS: a fresh load, the stress run, the fuzzer, unload.
stress_fuzz() {
	label="[stress+fuzz]"
	free0=$(memfree_kb)
	mark "$label"
	check_run "$label" "importers loaded: vivid, vgem" importers_load
	check_run "$label" "modprobe patdev" modprobe patdev
	check_run "$label" "stress: racing first mmaps, mmap/munmap/fork/prefault/queries, dma-bufs under vgem, patterns intact, no leak" \
		./selftests/patdev_stress "$1" 4
	check_run "$label" "fuzz: every answer an errno" ./selftests/patdev_fuzz "$1"
	check_run "$label" "modprobe -r patdev" modprobe -r patdev
	check_run "$label" "importers unload" importers_unload
	check_run "$label" "free memory back within 12288 pages after unload" memfree_back "$free0"
	check_run "$label" "dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace/module warning" dmesg_clean
	sed 's/^/#   /' /tmp/patdev-dmesg
}

# debug KO: the debug kernel's lane; the module is insmod-ed from KO.
debug() {
	label="[debug]"
	mark "$label"
	check_run "$label" "insmod patdev" insmod "$1"
	mmap_path_check "$label"
	run_tap "$label" ./selftests/patdev_test
	run_tap "$label" ./selftests/patdev_huge
	run_tap "$label" ./selftests/patdev_track
	# The kernel's own page-table dump as an oracle for QUERY's cache modes.
	run_tap "$label" ./selftests/patdev_ptdump
	# Killed revokers and mode changes (the test build's mmap hold).
	run_tap "$label" ./selftests/patdev_hold
	# PCI BARs: binding, revocation by unbind, removal and reset.
	run_tap "$label" ./selftests/patdev_bar
	# edu's DMA into RAM objects, under DMA_API_DEBUG and KASAN.
	run_tap "$label" ./selftests/patdev_dma
	check_run "$label" "rmmod patdev (unbinds the bound devices)" rmmod patdev

	# The claims of .mmap, which 7.1 on no longer uses, with the test
	# build's switch back to it: their waits for held mappers.
	check_run "[debug .mmap]" "insmod patdev test_mmap_path=1" insmod "$1" test_mmap_path=1
	check_run "[debug .mmap]" "mmap claims through .mmap" mmap_path .mmap
	run_tap "[debug .mmap]" ./selftests/patdev_hold
	check_run "[debug .mmap]" "rmmod patdev" rmmod patdev
	# check_run sets label (sh has no locals): the rest is [debug] again.
	label="[debug]"

	# dma-bufs and their importers (built in), under DMA_API_DEBUG.
	check_run "$label" "importers built in: vivid ($VIVID_PARAMS), vgem" importers_load
	insmod "$1"
	run_tap "$label" ./selftests/patdev_export
	check_run "$label" "rmmod patdev after the importers (every dma-buf released)" rmmod patdev

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
		dmesg_clean
	sed 's/^/#   /' /tmp/patdev-dmesg
}

# nopat: the kernel was booted with PAT off; the whole suite runs, and its
# cache-mode tests expect what the hardware then gives (UC- for WC).
nopat() {
	check_run "[nopat]" "booted with nopat" grep -qw nopat /proc/cmdline
	suite "[nopat]"
	bar_suite "[nopat bar]"
	# WC is UC- here: the importers' kernel mappings too.
	export_suite "[nopat export]"
	# Strong UC must be strong UC in the entry (PCD and PWT) without PAT too.
	lapic_suite "[nopat sg_source=lapic]"
}

# iommu: the IOMMU lane (q35, intel-iommu, intel_iommu=on iommu.strict=1):
# the DMA addresses are IOVAs, and what is not mapped is blocked.
iommu() {
	label="[iommu]"
	mark "$label"
	check_run "$label" "booted with intel_iommu=on iommu.strict=1" \
		grep -q 'intel_iommu=on.*iommu.strict=1' /proc/cmdline
	check_run "$label" "modprobe patdev" modprobe patdev
	run_tap "$label" ./selftests/patdev_dma_iommu
	run_tap "$label" ./selftests/patdev_dma
	# The BARs through the IOMMU's machine too (its memory map differs).
	run_tap "$label" ./selftests/patdev_bar
	check_run "$label" "rmmod patdev (unbinds the bound devices)" rmmod patdev
	check_run "$label" "dmesg has no WARNING/BUG/Oops/x86-PAT/Call Trace/module warning" dmesg_clean
	sed 's/^/#   /' /tmp/patdev-dmesg
}

# Whether the edu device is behind an IOMMU: selftests/patdev_dma checks it
# is as the lane says.
export PATDEV_EXPECT_IOMMU=0

case "$1" in
iommu)
	export PATDEV_EXPECT_IOMMU=1
	harness_selfcheck
	iommu
	;;
debug)
	harness_selfcheck
	debug "$2"
	;;
check)
	harness_selfcheck
	suite "[defaults]"
	suite "[sg_readonly=1]" sg_readonly=1
	bar_suite "[bar]"
	export_suite "[export]"
	kselftest_target
	track_suite
	lapic_suite
	stress_fuzz "${PATDEV_STRESS_SECONDS:-10}"
	lapic_lockdown
	;;
nopat)
	nopat
	;;
demo)
	mark demo
	insmod "$2" || exit 1
	./tools/patdev-demo
	status=$?
	rmmod patdev
	dmesg_clean || status=1
	exit $status
	;;
bench)
	mark bench
	insmod "$2" || exit 1
	insmod "$3" || exit 1
	./tools/patdev-bench
	status=$?
	./tools/patdev-bench-bar || status=1
	importers_load && ./tools/patdev-bench-frame || status=1
	rmmod patdev_remap || status=1
	rmmod patdev || status=1
	dmesg_clean || status=1
	exit $status
	;;
*)
	echo "usage: $0 check | nopat | iommu | debug KO | demo KO | bench KO REMAP_KO" >&2
	exit 2
	;;
esac
