#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what building and testing patdev needs, from Debian's archive only.
# Idempotent: when everything is present it only checks and returns.
#
#  - host tools: qemu, busybox-static, dkms, kmod, sparse, linux-source-6.1
#  - Debian 6.1 kernel image + headers (bookworm) and 6.12 (bookworm-backports)
#  - virtme-ng, unpacked from trixie's .deb into a private cache: trixie is
#    never added to the system's apt sources (it would upgrade libc).
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
host_pkgs=(qemu-system-x86 busybox-static dkms kmod sparse linux-source-6.1 xz-utils
	   python3 python3-argcomplete python3-requests gcc make bc flex bison libelf-dev
	   iproute2 procps)
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

# 4. virtme-ng from trixie, unpacked into the cache
if [ ! -x "$VNG" ]; then
	say "fetching virtme-ng from trixie into $PATDEV_CACHE/virtme-ng (private apt configuration)"
	apt_dir="$PATDEV_CACHE/apt-trixie"
	mkdir -p "$apt_dir/sources" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/deb"
	cat >"$apt_dir/sources/trixie.sources" <<EOT
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	aptopts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt_dir/sources"
		 -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
		 -o Debug::NoLocking=1)
	apt-get "${aptopts[@]}" update -q >"$PATDEV_CACHE/apt-trixie.log" 2>&1 ||
		{ tail -n 20 "$PATDEV_CACHE/apt-trixie.log" >&2; exit 1; }
	(cd "$apt_dir/deb" && rm -f ./*.deb &&
	 apt-get "${aptopts[@]}" download virtme-ng >>"$PATDEV_CACHE/apt-trixie.log" 2>&1) ||
		{ tail -n 20 "$PATDEV_CACHE/apt-trixie.log" >&2; exit 1; }
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

# 5. checkpatch.pl and the kselftest harness from linux-source-6.1
if [ ! -f "$KSRC/scripts/checkpatch.pl" ] || [ ! -f "$KSRC/tools/testing/selftests/kselftest_harness.h" ]; then
	say "extracting checkpatch.pl and kselftest headers from linux-source-6.1"
	tarball=$(ls /usr/src/linux-source-6.1.tar.* | head -n 1)
	rm -rf "$KSRC"
	mkdir -p "$KSRC"
	tar -xf "$tarball" -C "$KSRC" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch' \
		'*/tools/testing/selftests/kselftest_harness.h' '*/tools/testing/selftests/kselftest.h'
fi
say "ok: kernels $(kver_of 6.1) and $(kver_of 6.12), vng at $VNG"
