# SPDX-License-Identifier: GPL-2.0
# Shared settings for the scripts: sourced, not run.

PATDEV_CACHE=${PATDEV_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/patdev}
VNG_ROOT="$PATDEV_CACHE/virtme-ng"
VNG="$VNG_ROOT/usr/bin/vng"
KSRC="$PATDEV_CACHE/linux-6.1"

# kver_of SERIES: newest installed Debian kernel release of that series
# ("6.1" or "6.12") whose image and headers are both present.
kver_of() {
	local series=$1 pat rel best=
	case $series in
	6.1) pat='6.1.0-*-amd64' ;;
	6.12) pat='6.12.*-amd64' ;;
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
