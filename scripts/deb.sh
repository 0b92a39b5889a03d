#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# deb.sh OUTDIR: build the Debian packages (make deb) from the tree as it
# is, into OUTDIR: the native source package and patdev-dkms_VERSION_all.deb
# (earlier versions' files there go). debian/changelog is written here, for
# the version of scripts/version.sh: the version is kept in one place, the
# uapi header, so the repository has no debian/changelog of its own and
# dpkg-buildpackage is run through this script. Prints the .deb's path.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
ver=$("$top/scripts/version.sh")
tree="$out/patdev-$ver"

rm -rf "$out"/patdev-[0-9]* "$out"/patdev_* "$out"/patdev-dkms_*
mkdir -p "$tree"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	# The files git knows or would add (not the ignored build products),
	# as they are in the working tree; tracked files deleted there stay out.
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ ! -e "$f" ] || printf '%s\0' "$f"; done |
		xargs -0 -r cp --parents -t "$tree")
	when=$(git -C "$top" log -1 --format=%cD 2>/dev/null) || when=
else
	# An unpacked source package or tarball: everything but what
	# .gitignore names (build products, deb/) and the output itself.
	case "$out/" in
	"$top"/*) skip=./${out#"$top"/} ;;
	*) skip=./deb ;;
	esac
	# tar does not anchor .gitignore's "/path" lines: they are passed as
	# "./path".
	mapfile -t anchored < <(sed -n 's|^/\(.*[^/]\)/*$|--exclude=./\1|p' "$top/.gitignore")
	tar -C "$top" --exclude-vcs-ignores "${anchored[@]}" --exclude="$skip" -cf - . |
		tar -C "$tree" -xf -
	when=
fi
# Reproducible: the commit's date, else SOURCE_DATE_EPOCH, else the header's.
if [ -z "$when" ]; then
	when=$(date -R -d "@${SOURCE_DATE_EPOCH:-$(stat -c %Y "$top/include/uapi/linux/patdev.h")}")
fi
maint=$(sed -n 's/^Maintainer: //p' "$tree/debian/control")
cat >"$tree/debian/changelog" <<END
patdev ($ver) unstable; urgency=medium

  * patdev $ver: the version of its uapi header (PATDEV_VERSION_MAJOR and
    PATDEV_VERSION_MINOR); what changed is in the project's git history.

 -- $maint  $when
END
(cd "$tree" && dpkg-buildpackage --build=source,all -us -uc) >"$out/build.log" 2>&1 || {
	cat "$out/build.log" >&2
	exit 1
}
echo "$out/patdev-dkms_${ver}_all.deb"
