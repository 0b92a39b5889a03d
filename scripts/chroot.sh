#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# chroot.sh: the Debian trixie chroot in which everything for the newest
# kernel is built. Debian's 7.x headers are configured for gcc-14 (they
# pass -fmin-function-alignment, which bookworm's gcc-12 rejects) and
# their kbuild helpers want trixie's libc, so the host cannot build for
# that kernel; a chroot can, without trixie ever entering the host's apt.
#
#   chroot.sh setup           make the chroot once (debootstrap minbase and
#                             the build tools: about 75 s, 660 MB with the
#                             headers); later calls only check
#   chroot.sh headers REL     install linux-headers-REL from trixie-backports
#   chroot.sh run [--modules REL] [--bind DIR]... [--] COMMAND...
#                             run COMMAND in the chroot with /proc mounted
#                             (objtool reads it), the host's /lib/modules/REL
#                             bind-mounted over the chroot's (so DKMS installs
#                             into the host's tree, which the VM boots with),
#                             and each DIR bind-mounted at the same path.
#
# Every mount is made in a private mount namespace (unshare) that dies with
# the command: nothing is left mounted, whether the command succeeds, fails
# or is killed, and concurrent runs do not step on each other's mounts.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

say() { printf '[chroot] %s\n' "$*" >&2; }
die() { printf '[chroot] %s\n' "$*" >&2; exit 1; }

mirror=http://deb.debian.org/debian
# Build tools for the module (W=1, sparse), DKMS, and what Debian's kernel
# headers call (bc, pahole for BTF, xz for compressed modules).
pkgs=(gcc-14 gcc make libc6-dev libelf-dev dwarves kmod dkms bc sparse xz-utils
      flex bison perl python3 file)
ready="$CHROOT/.patdev-ready"
key=$(printf '%s\n' "${pkgs[*]}" | sha256sum | cut -c1-16)

# in_ns ARGS...: run this script's run_ns in a private mount namespace.
in_ns() {
	unshare --mount --propagation private -- "$BASH" "$here/chroot.sh" __ns "$@"
}

# run_ns [--modules REL] [--bind DIR]... [--] COMMAND...: inside the namespace.
run_ns() {
	local rel='' dir
	local -a binds=()
	while [ $# -gt 0 ]; do
		case $1 in
		--modules) rel=$2; shift 2 ;;
		--bind) binds+=("$2"); shift 2 ;;
		--) shift; break ;;
		*) break ;;
		esac
	done
	[ $# -gt 0 ] || die "run: no command"
	mount -t proc proc "$CHROOT/proc"
	# debootstrap makes /dev's nodes itself; where it could not (mknod
	# refused), use the host's.
	[ -c "$CHROOT/dev/null" ] || mount --rbind /dev "$CHROOT/dev"
	if [ -n "$rel" ]; then
		[ -d "/lib/modules/$rel" ] || die "no /lib/modules/$rel on the host"
		# trixie's /lib is a symlink to usr/lib: mount on the real path.
		mkdir -p "$CHROOT/usr/lib/modules/$rel"
		mount --bind "/lib/modules/$rel" "$CHROOT/usr/lib/modules/$rel"
	fi
	for dir in "${binds[@]}"; do
		dir=$(realpath "$dir")
		mkdir -p "$CHROOT$dir"
		mount --bind "$dir" "$CHROOT$dir"
	done
	# A clean environment: the host's (PATH with the cache's vng, PYTHONPATH,
	# LD_*) means nothing in trixie.
	exec chroot "$CHROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

# apt_in ARGS...: apt-get in the chroot (its own apt: trixie and
# trixie-backports; the host's apt never sees them).
apt_in() {
	cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
	in_ns -- apt-get -q -y -o Dpkg::Use-Pty=0 "$@"
}

setup() {
	if [ -f "$ready" ] && [ "$(cat "$ready")" = "$key" ]; then
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || die "making the chroot needs root"
	command -v debootstrap >/dev/null || die "debootstrap is not installed (scripts/deps.sh installs it)"
	local log="$PATDEV_CACHE/chroot.log" t0
	mkdir -p "$PATDEV_CACHE"
	: >"$log"
	if [ ! -x "$CHROOT/usr/bin/apt-get" ]; then
		t0=$(date +%s)
		say "debootstrap --variant=minbase trixie into $CHROOT (about 90 s, once)"
		# Into a fresh temporary directory, moved in place once complete: an
		# interrupted debootstrap leaves nothing that looks usable.
		rm -rf "$CHROOT.tmp"
		debootstrap --variant=minbase trixie "$CHROOT.tmp" "$mirror" >>"$log" 2>&1 ||
			{ tail -n 30 "$log" >&2; die "debootstrap failed (log: $log)"; }
		rm -rf "$CHROOT"
		mv "$CHROOT.tmp" "$CHROOT"
		say "debootstrap took $(($(date +%s) - t0)) s"
	fi
	cat >"$CHROOT/etc/apt/sources.list.d/debian.sources" <<EOT
Types: deb
URIs: $mirror
Suites: trixie trixie-updates trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
	rm -f "$CHROOT/etc/apt/sources.list"
	# No daemon is ever started by a package installed here.
	printf '#!/bin/sh\nexit 101\n' >"$CHROOT/usr/sbin/policy-rc.d"
	chmod 755 "$CHROOT/usr/sbin/policy-rc.d"
	t0=$(date +%s)
	say "installing the build tools in the chroot: ${pkgs[*]}"
	{ apt_in update && apt_in install --no-install-recommends "${pkgs[@]}"; } >>"$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; die "apt-get in the chroot failed (log: $log)"; }
	apt_in clean >>"$log" 2>&1 || true
	say "build tools installed in $(($(date +%s) - t0)) s"
	echo "$key" >"$ready"
}

headers() {
	local rel=$1 log="$PATDEV_CACHE/chroot.log"
	[ -f "$ready" ] || die "no chroot yet: chroot.sh setup"
	if [ -f "$CHROOT/usr/src/linux-headers-$rel/Makefile" ]; then
		return 0
	fi
	say "installing linux-headers-$rel in the chroot (trixie-backports)"
	{ apt_in update &&
	  apt_in install --no-install-recommends -t trixie-backports "linux-headers-$rel"; } >>"$log" 2>&1 ||
		{ tail -n 30 "$log" >&2; die "installing linux-headers-$rel failed (log: $log)"; }
	apt_in clean >>"$log" 2>&1 || true
	[ -f "$CHROOT/usr/src/linux-headers-$rel/Makefile" ] ||
		die "linux-headers-$rel installed but $CHROOT/usr/src/linux-headers-$rel is missing"
}

cmd=${1:-}
shift || true
case $cmd in
setup) setup ;;
headers) [ $# -eq 1 ] || die "usage: $0 headers REL"; headers "$1" ;;
run)
	[ -f "$ready" ] || die "no chroot yet: chroot.sh setup"
	in_ns "$@"
	;;
__ns) run_ns "$@" ;;
*)
	echo "usage: $0 setup | headers REL | run [--modules REL] [--bind DIR]... [--] COMMAND..." >&2
	exit 2
	;;
esac
