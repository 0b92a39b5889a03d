# SPDX-License-Identifier: GPL-2.0
# Shared settings for the scripts: sourced, not run.
# shellcheck shell=bash disable=SC2034 # the variables are for the sourcing scripts

PATDEV_CACHE=${PATDEV_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/patdev}
VNG_ROOT="$PATDEV_CACHE/virtme-ng"
VNG="$VNG_ROOT/usr/bin/vng"
KSRC="$PATDEV_CACHE/linux-6.1"
# The Debian trixie chroot that builds for the newest kernel (scripts/chroot.sh).
CHROOT="$PATDEV_CACHE/trixie-root"
# What scripts/deps.sh resolved the newest Debian kernel to: its release,
# and the linux-source .deb unpacked for the debug kernel.
NEWEST_RECORD="$PATDEV_CACHE/newest-kernel"
NEWEST_SRC="$PATDEV_CACHE/linux-source-newest"

# kver_of SERIES: the kernel release of a lane whose image and headers are
# all present.
#   6.1, 6.12  newest installed Debian kernel of that series (bookworm,
#              bookworm-backports), image and headers installed with apt;
#   newest     the newest Debian kernel (trixie-backports' linux-image-amd64)
#              as resolved and recorded by deps.sh: image and modules under
#              /lib/modules/REL, headers in the chroot.
kver_of() {
	local series=$1 pat rel best=
	case $series in
	6.1) pat='6.1.0-*-amd64' ;;
	6.12) pat='6.12.*-amd64' ;;
	newest)
		rel=$(cat "$NEWEST_RECORD" 2>/dev/null) && [ -n "$rel" ] ||
			{ echo "kernel newest: not resolved yet (scripts/deps.sh)" >&2; return 1; }
		if [ -f "$(kimg_of "$rel")" ] && [ -f "/lib/modules/$rel/modules.dep" ] &&
		   [ -L "/lib/modules/$rel/build" ] && [ -f "$CHROOT/usr/src/linux-headers-$rel/Makefile" ]; then
			echo "$rel"
			return 0
		fi
		echo "kernel newest ($rel): image, modules or chroot headers missing" >&2
		return 1
		;;
	*) echo "unknown kernel series $series" >&2; return 2 ;;
	esac
	for rel in /lib/modules/$pat; do
		rel=${rel#/lib/modules/}
		case $rel in *-cloud-amd64 | *-rt-amd64) continue ;; esac
		[ -f "/boot/vmlinuz-$rel" ] && [ -d "/usr/src/linux-headers-$rel" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$rel" | sed '/^$/d' | sort -V | tail -n 1)
	done
	[ -n "$best" ] || { echo "kernel $series: image or headers not installed" >&2; return 1; }
	echo "$best"
}

# kimg_of REL: the kernel image of release REL. apt-installed kernels have
# /boot/vmlinuz-REL; the newest kernel's stays where its package puts it,
# /lib/modules/REL/vmlinuz, out of /boot so that the host's boot loader
# never picks up a kernel that has no initramfs.
kimg_of() {
	if [ -f "/boot/vmlinuz-$1" ]; then
		echo "/boot/vmlinuz-$1"
	else
		echo "/lib/modules/$1/vmlinuz"
	fi
}

# in_chroot_kernel KVER: whether builds for KVER go through the chroot.
in_chroot_kernel() {
	[ ! -d "/usr/src/linux-headers-$1" ] && [ -d "$CHROOT/usr/src/linux-headers-$1" ]
}
