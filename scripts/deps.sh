#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what building and testing patdev needs, from Debian's archive only.
# Idempotent: when everything is present it only checks and returns.
#
#  - host tools: qemu, busybox-static, dkms, kmod, sparse, linux-source-6.1;
#    debhelper, dh-dkms and lintian for the Debian package (make deb)
#  - Debian 6.1 kernel image + headers (bookworm) and 6.12 (bookworm-backports)
#  - virtme-ng, unpacked from trixie's .deb into a private cache: trixie is
#    never added to the system's apt sources (it would upgrade libc).
#  - the newest Debian kernel (trixie-backports' linux-image-amd64), fetched
#    with the same private apt configuration: image and modules unpacked
#    into /lib/modules/REL, headers in a trixie chroot (scripts/chroot.sh)
#    that builds for it; and its linux-source for the debug kernel.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

say() { printf '[deps] %s\n' "$*"; }

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "[deps] installing packages needs root (run as root or with sudo)" >&2
		exit 1
	fi
}

apt_install() {
	need_root
	say "apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
		>"$PATDEV_CACHE/apt.log" 2>&1 || { tail -n 30 "$PATDEV_CACHE/apt.log" >&2; exit 1; }
}

apt_updated=
apt_update() {
	[ -n "$apt_updated" ] && return 0
	need_root
	say "apt-get update"
	apt-get update -q >"$PATDEV_CACHE/apt.log" 2>&1 || { tail -n 30 "$PATDEV_CACHE/apt.log" >&2; exit 1; }
	apt_updated=1
}

missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
	done
}

mkdir -p "$PATDEV_CACHE"

# 1. host tools
host_pkgs=(qemu-system-x86 busybox-static dkms kmod sparse linux-source-6.1 xz-utils rsync
	   python3 python3-argcomplete python3-requests gcc make bc flex bison libelf-dev
	   iproute2 procps debootstrap file util-linux debhelper dh-dkms lintian)
mapfile -t miss < <(missing_pkgs "${host_pkgs[@]}")
if [ "${#miss[@]}" -gt 0 ]; then
	apt_update
	apt_install "${miss[@]}"
fi

# 2. bookworm-backports for the 6.12 kernel (Debian's own archive, default pin 100:
#    nothing is upgraded from it unless asked for by name)
bpo=/etc/apt/sources.list.d/patdev-bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	need_root
	say "adding the bookworm-backports suite ($bpo)"
	cat >"$bpo" <<EOT
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	apt_updated=
fi

# 3. kernels: newest Debian 6.1 and newest 6.12 backport, image + headers
for series in 6.1 6.12; do
	if kver_of "$series" >/dev/null 2>&1; then
		continue
	fi
	apt_update
	if [ "$series" = 6.1 ]; then
		abi=$(apt-cache depends linux-image-amd64/bookworm 2>/dev/null |
		      sed -n 's/.*Depends: \(linux-image-6\.1\.[^ ]*-amd64\)$/\1/p' | head -n 1)
		[ -n "$abi" ] || abi=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' |
				       awk '{print $1}' | sort -V | tail -n 1)
		rel=${abi#linux-image-}
		apt_install "linux-image-$rel" "linux-headers-$rel"
	else
		abi=$(apt-cache depends linux-image-amd64/bookworm-backports 2>/dev/null |
		      sed -n 's/.*Depends: \(linux-image-6\.12\.[^ ]*-amd64\)$/\1/p' | head -n 1)
		[ -n "$abi" ] || { echo "[deps] no 6.12 kernel in bookworm-backports" >&2; exit 1; }
		rel=${abi#linux-image-}
		apt_install -t bookworm-backports "linux-image-$rel" "linux-headers-$rel"
	fi
	kver_of "$series" >/dev/null
	say "kernel $series: $(kver_of "$series")"
done

# Private apt configurations, each with sources, lists and downloads of its
# own under the cache ($PATDEV_CACHE/apt-NAME): "trixie" (trixie and
# trixie-backports) and, only if needed, "sid". They are only ever used to
# download .debs, never to install on the host, so they need neither root's
# locks nor the system's sources, which never see these suites.
declare -A private_updated=()
# private_opts NAME: apt options of configuration NAME, into popts.
private_opts() {
	local dir="$PATDEV_CACHE/apt-$1"
	popts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$dir/sources"
	       -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
	       -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
}
# private_apt_update NAME SUITE...: (re)write NAME's sources, update it once a run.
private_apt_update() {
	local name=$1 dir="$PATDEV_CACHE/apt-$1" suite
	shift
	[ -n "${private_updated[$name]:-}" ] && return 0
	mkdir -p "$dir/sources" "$dir/lists/partial" "$dir/cache/archives/partial"
	rm -f "$dir"/sources/*.sources
	for suite in "$@"; do
		cat >"$dir/sources/$suite.sources" <<EOT
Types: deb
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	done
	say "apt-get update (private: $*)"
	private_opts "$name"
	apt-get "${popts[@]}" update -q >"$PATDEV_CACHE/apt-$name.log" 2>&1 ||
		{ tail -n 20 "$PATDEV_CACHE/apt-$name.log" >&2; exit 1; }
	private_updated[$name]=1
}
trixie_update() { private_apt_update trixie trixie trixie-backports; }
# private_download NAME DIR PACKAGE...: download the .debs of PACKAGEs into DIR.
private_download() {
	local name=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	private_opts "$name"
	(cd "$dir" && apt-get "${popts[@]}" download "$@" >>"$PATDEV_CACHE/apt-$name.log" 2>&1) ||
		{ tail -n 20 "$PATDEV_CACHE/apt-$name.log" >&2; exit 1; }
}
# private_depends NAME PACKAGE: the Depends lines of PACKAGE in NAME.
private_depends() {
	private_opts "$1"
	apt-cache "${popts[@]}" depends "$2" 2>/dev/null
}
apt_dir="$PATDEV_CACHE/apt-trixie"

# 4. virtme-ng from trixie, unpacked into the cache
if [ ! -x "$VNG" ]; then
	say "fetching virtme-ng from trixie into $PATDEV_CACHE/virtme-ng (private apt configuration)"
	trixie_update
	rm -f "$apt_dir"/deb/*.deb
	private_download trixie "$apt_dir/deb" virtme-ng
	rm -rf "$PATDEV_CACHE/virtme-ng"
	dpkg -x "$apt_dir"/deb/virtme-ng_*.deb "$PATDEV_CACHE/virtme-ng"
	[ -x "$VNG" ] || { echo "[deps] virtme-ng unpacked but $VNG is missing" >&2; exit 1; }
fi

# 4b. Under the debug kernel (KASAN + lockdep on TCG) udev needs minutes to
#     settle: virtme-init's "udevadm settle" gives up after 120 s and then,
#     without the virtio-serial port links, powers the VM off. Give it time.
init="$VNG_ROOT/usr/lib/python3/dist-packages/virtme/guest/virtme-init"
if ! grep -q 'patdev: wait for the script ports' "$init"; then
	say "patching virtme-init: longer udev settle, wait for the script ports"
	sed -i -e 's/^\( *\)udevadm settle$/\1udevadm settle --timeout=900/' \
	       -e '/if \[\[ ! -e "\/dev\/virtio-ports\/virtme.stdin" ||/i\
    # patdev: wait for the script ports, udev may still be creating them\
    for _ in $(seq 600); do [[ -e /dev/virtio-ports/virtme.dev_stderr ]] \&\& break; sleep 1; done' "$init"
	grep -q 'patdev: wait for the script ports' "$init" &&
		grep -q 'udevadm settle --timeout=900' "$init" ||
		{ echo "[deps] could not patch $init" >&2; exit 1; }
fi

# 5. checkpatch.pl and the kselftest harness, lib.mk and runner from linux-source-6.1
if [ ! -f "$KSRC/scripts/checkpatch.pl" ] || [ ! -f "$KSRC/tools/testing/selftests/kselftest_harness.h" ] ||
   [ ! -f "$KSRC/tools/testing/selftests/lib.mk" ]; then
	say "extracting checkpatch.pl and the kselftest framework from linux-source-6.1"
	tarball=$(ls /usr/src/linux-source-6.1.tar.* | head -n 1)
	rm -rf "$KSRC"
	mkdir -p "$KSRC"
	tar -xf "$tarball" -C "$KSRC" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch' \
		'*/tools/testing/selftests/kselftest_harness.h' '*/tools/testing/selftests/kselftest.h' \
		'*/tools/testing/selftests/lib.mk' '*/tools/testing/selftests/run_kselftest.sh' \
		'*/tools/testing/selftests/kselftest/runner.sh' '*/tools/testing/selftests/kselftest/prefix.pl'
fi

# 6. The newest Debian kernel: whatever trixie-backports' linux-image-amd64
#    depends on today, resolved here once and recorded in $NEWEST_RECORD.
#    Its packages are not installed with dpkg (they would pull trixie's
#    libc-dependent tools into the host): image, modules and base files are
#    unpacked into /lib/modules/REL, where virtme-ng boots them from and the
#    VM's modprobe finds them; headers go into the chroot, where they work.
if ! newest=$(kver_of newest 2>/dev/null); then
	need_root
	trixie_update
	newest=$(private_depends trixie linux-image-amd64/trixie-backports |
		 sed -n 's/^ *Depends: linux-image-\([^ ]*-amd64\)$/\1/p' | head -n 1)
	[ -n "$newest" ] || { echo "[deps] linux-image-amd64 of trixie-backports names no kernel" >&2; exit 1; }
	say "newest Debian kernel: $newest (trixie-backports)"
	# Since 7.x, linux-image-REL is only a dependency package over base,
	# binary (the image) and modules packages: take whichever it names.
	mapfile -t kpkgs < <(private_depends trixie "linux-image-$newest" |
			     sed -n "s/^ *Depends: \(linux-\(base\|binary\|modules\)-$newest\)\$/\1/p" | sort -u)
	# Image and modules may be there from a run that failed later on.
	if [ ! -f "/lib/modules/$newest/vmlinuz" ] || [ ! -f "/lib/modules/$newest/modules.dep" ]; then
		kdir="$apt_dir/newest"
		rm -rf "$kdir"
		t0=$(date +%s)
		private_download trixie "$kdir/deb" "linux-image-$newest" "${kpkgs[@]}"
		for deb in "$kdir"/deb/*.deb; do
			dpkg -x "$deb" "$kdir/root"
		done
		say "downloaded and unpacked linux-image-$newest ${kpkgs[*]} in $(($(date +%s) - t0)) s"
		mods="$kdir/root/usr/lib/modules/$newest"
		# Older packages kept the image in /boot: move it next to the modules.
		if [ -f "$kdir/root/boot/vmlinuz-$newest" ]; then
			mv "$kdir/root/boot/vmlinuz-$newest" "$mods/vmlinuz"
		fi
		[ -f "$mods/vmlinuz" ] && [ -d "$mods/kernel" ] ||
			{ echo "[deps] $newest: no vmlinuz or modules in its packages" >&2; exit 1; }
		# A leftover of an interrupted install goes.
		rm -rf "/lib/modules/$newest"
		mv "$mods" "/lib/modules/$newest"
		rm -rf "$kdir"
		depmod -a "$newest"
	fi
	# The headers live in the chroot: this link is meant for builds in it,
	# which see the host's /lib/modules/REL (chroot.sh run --modules REL).
	ln -sfn "/usr/src/linux-headers-$newest" "/lib/modules/$newest/build"
	"$here/chroot.sh" setup
	"$here/chroot.sh" headers "$newest"
	echo "$newest" >"$NEWEST_RECORD"
	kver_of newest >/dev/null
fi

# 7. The debug kernel's source: linux-source-X.Y of the newest kernel, from
#    trixie-backports, unpacked (not installed) into $NEWEST_SRC.
#    $NEWEST_SRC/.for names the kernel it was fetched for: a newer newest
#    kernel brings its own source.
series=$(echo "$newest" | cut -d. -f1,2)
src_for=$(cat "$NEWEST_SRC/.for" 2>/dev/null || true)
if ! ls "$NEWEST_SRC/usr/src/linux-source-$series.tar."* >/dev/null 2>&1 ||
   { [ -n "$src_for" ] && [ "$src_for" != "$newest" ]; }; then
	trixie_update
	say "fetching linux-source-$series (trixie-backports) for the debug kernel"
	t0=$(date +%s)
	rm -rf "$NEWEST_SRC" "$NEWEST_SRC.tmp" "$apt_dir/source"
	private_download trixie "$apt_dir/source" "linux-source-$series"
	dpkg -x "$apt_dir"/source/linux-source-"$series"_*.deb "$NEWEST_SRC.tmp"
	rm -rf "$apt_dir/source"
	mv "$NEWEST_SRC.tmp" "$NEWEST_SRC"
	ls "$NEWEST_SRC/usr/src/linux-source-$series.tar."* >/dev/null ||
		{ echo "[deps] linux-source-$series holds no tarball" >&2; exit 1; }
	say "linux-source-$series fetched in $(($(date +%s) - t0)) s"
fi
[ "$src_for" = "$newest" ] || echo "$newest" >"$NEWEST_SRC/.for"

# 8. sparse for the newest kernel. Its Makefile (7.3's does, 6.12's not) runs
#    scripts/checker-valid.sh and quietly turns C=1/C=2 off when sparse cannot
#    parse __typeof_unqual__ (which the headers use under __CHECKER__):
#    Debian's headers package lacks that script, so sparse never runs, and
#    trixie's sparse 0.6.4 would fail the check anyway. The script comes from
#    the same release's source; a sparse that passes it, if trixie's does
#    not, from sid: only its sparse binary (it needs nothing but libc) is
#    unpacked into the chroot's /usr/local/bin, sid enters no apt sources.
tarball=$(ls "$NEWEST_SRC/usr/src/linux-source-$series.tar."* | head -n 1)
for common in "$CHROOT/usr/src/linux-headers-${newest%-amd64}"-common*; do
	if grep -qs 'scripts/checker-valid.sh' "$common/Makefile" &&
	   [ ! -f "$common/scripts/checker-valid.sh" ]; then
		say "adding scripts/checker-valid.sh of linux-source-$series to $(basename "$common")"
		tar -xf "$tarball" -O "linux-source-$series/scripts/checker-valid.sh" >"$common/scripts/checker-valid.sh.tmp"
		chmod 755 "$common/scripts/checker-valid.sh.tmp"
		mv "$common/scripts/checker-valid.sh.tmp" "$common/scripts/checker-valid.sh"
	fi
	if [ -f "$common/scripts/checker-valid.sh" ]; then
		checker_valid="${common#"$CHROOT"}/scripts/checker-valid.sh"
	fi
done
sparse_ok() {
	[ -z "${checker_valid:-}" ] ||
		[ "$("$here/chroot.sh" run -- sh "$checker_valid" sparse 2>/dev/null)" = 1 ]
}
if ! sparse_ok; then
	say "the chroot's sparse cannot check $newest: fetching sparse from sid"
	private_apt_update sid sid
	rm -rf "$PATDEV_CACHE/apt-sid/deb"
	private_download sid "$PATDEV_CACHE/apt-sid/deb" sparse
	dpkg -x "$PATDEV_CACHE"/apt-sid/deb/sparse_*.deb "$PATDEV_CACHE/apt-sid/deb/root"
	install -m 755 "$PATDEV_CACHE/apt-sid/deb/root/usr/bin/sparse" "$CHROOT/usr/local/bin/sparse"
	# Nothing else is wanted from sid: its lists go too.
	rm -rf "$PATDEV_CACHE/apt-sid"
	# Not fatal here: the newest lane's build then fails, and says why.
	sparse_ok || say "WARNING: no sparse that can check $newest: its C=2 build will fail"
fi
say "ok: kernels $(kver_of 6.1), $(kver_of 6.12) and $newest, vng at $VNG"
