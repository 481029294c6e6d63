#!/usr/bin/env bash
# Download Debian's arm64 kernel image package and unpack its Image and
# config: the input of `tools/gen-vmlinux.sh --arch arm64` (an arm64 Image
# is uncompressed and holds the kernel's BTF). Same package choice and the
# same private apt configuration as fetch-kernel.sh, for the arm64 archive.
#
#   tools/vm/fetch-arm64.sh [--refresh] 6.1|6.12
#
# Result: $PINTRACE_CACHE/kernels-arm64/<VER>/{vmlinuz,config,kver,package}
# (no modules: nothing here boots it). With the cache present the script
# touches no network; --refresh re-resolves the metapackage.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: ${0##*/} [--refresh] 6.1|6.12" >&2
	exit 2
}

refresh=0
ver=
while (($#)); do
	case "$1" in
	--refresh) refresh=1 ;;
	-*) usage ;;
	*) [[ -z $ver ]] || usage; ver=$1 ;;
	esac
	shift
done
[[ -n $ver ]] || usage
check_ver "$ver"

kdir=$CACHE/kernels-arm64/$ver
ready() { [[ -s $kdir/kver && -s $kdir/vmlinuz && -s $kdir/config ]]; }

if ((!refresh)) && ready; then
	echo "arm64 kernel $ver: $(cat "$kdir/package") (uname -r $(cat "$kdir/kver")), cached in $kdir"
	exit 0
fi

need_cmd apt-get apt-cache dpkg-deb flock tar
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $keyring ]] || die "$keyring missing (install debian-archive-keyring)"

# The mirror the machine already uses, as in fetch-kernel.sh.
find_uri() { # $1: path suffix, e.g. debian or debian-security
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] || continue
		grep -hoE "https?://[^ ]+/$1/?( |$)" "$f" 2>/dev/null | tr -d ' ' | sed 's:/*$::'
	done | head -n1
}
mirror=${PINTRACE_DEBIAN_MIRROR:-$(find_uri debian)}
mirror=${mirror:-http://deb.debian.org/debian}
security=${PINTRACE_DEBIAN_SECURITY:-$(find_uri debian-security)}
security=${security:-${mirror%/debian}/debian-security}

case "$ver" in
6.1) suites=("$mirror bookworm" "$mirror bookworm-updates" "$security bookworm-security") ;;
6.12) suites=("$mirror trixie" "$mirror trixie-updates" "$security trixie-security") ;;
esac

adir=$CACHE/apt/arm64-$ver
mkdir -p "$adir/sources.list.d" "$adir/preferences.d" "$adir/state/lists/partial" \
	"$adir/cache/archives/partial" "$CACHE/kernels-arm64"

exec 9>"$CACHE/kernels-arm64/.$ver.lock"
flock 9
if ((!refresh)) && ready; then
	echo "arm64 kernel $ver: $(cat "$kdir/package") (uname -r $(cat "$kdir/kver")), cached in $kdir"
	exit 0
fi

: >"$adir/sources.list"
for s in "${suites[@]}"; do
	echo "deb [signed-by=$keyring] ${s% *} ${s#* } main" >>"$adir/sources.list"
done
: >>"$adir/status"
apt_opts=(
	-o "Dir::Etc::sourcelist=$adir/sources.list"
	-o "Dir::Etc::sourceparts=$adir/sources.list.d"
	-o "Dir::Etc::preferences=$adir/preferences"
	-o "Dir::Etc::preferencesparts=$adir/preferences.d"
	-o "Dir::State=$adir/state"
	-o "Dir::State::status=$adir/status"
	-o "Dir::Cache=$adir/cache"
	-o "APT::Architecture=arm64"
	-o "APT::Architectures::=arm64"
	-o "Acquire::Languages=none"
	-o "APT::Sandbox::User=$(id -un)"
)

log "updating private apt lists for arm64 $ver (${suites[*]})"
apt-get "${apt_opts[@]}" -qq update >"$adir/update.log" 2>&1 ||
	die "apt-get update failed; see $adir/update.log"
if grep -qE '^(W|E):' "$adir/update.log"; then
	grep -E '^(W|E):' "$adir/update.log" >&2
fi

meta_ver=$(apt-cache "${apt_opts[@]}" policy linux-image-arm64 | awk '/Candidate:/ {print $2}')
[[ -n $meta_ver && $meta_ver != "(none)" ]] || die "linux-image-arm64 not found in ${suites[*]}"
dep=$(apt-cache "${apt_opts[@]}" show "linux-image-arm64=$meta_ver" |
	sed -n 's/^Depends: //p' | head -n1 | tr ',' '\n' | grep -oE 'linux-image-[^ ]+' | head -n1)
[[ -n $dep ]] || die "cannot resolve the image package behind linux-image-arm64 $meta_ver"
# The metapackage names the signed image; the -unsigned one has the same
# kernel without the EFI signature.
dep=${dep%-unsigned}-unsigned
pkg_ver=$(apt-cache "${apt_opts[@]}" policy "$dep" | awk '/Candidate:/ {print $2}')
[[ $pkg_ver == "$ver".* ]] || die "$dep ${pkg_ver:-(none)} is not a $ver kernel"

stage=$(mktemp -d "$CACHE/kernels-arm64/.stage-$ver.XXXXXX")
trap 'rm -rf "$stage"' EXIT
log "downloading $dep $pkg_ver"
(cd "$stage" && apt-get "${apt_opts[@]}" -qq download "$dep=$pkg_ver") ||
	die "apt-get download $dep=$pkg_ver failed"
deb=$(echo "$stage"/*.deb)
[[ -f $deb ]] || die "no .deb downloaded for $dep"

# Only /boot is needed; the modules stay in the archive.
mkdir -p "$stage/root"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$stage/root" --wildcards './boot/*'
rm -f "$deb"
mapfile -t images < <(cd "$stage/root/boot" && ls vmlinuz-* 2>/dev/null)
((${#images[@]} == 1)) || die "expected one boot/vmlinuz-<kver> in $dep, found: ${images[*]:-none}"
kver=${images[0]#vmlinuz-}

out=$stage/kernel
mkdir -p "$out"
cp "$stage/root/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$stage/root/boot/config-$kver" "$out/config"
echo "${dep}_$pkg_ver" >"$out/package"
echo "$kver" >"$out/kver"
if [[ -e $kdir ]]; then
	mv "$kdir" "$stage/old"
fi
mv "$out" "$kdir"
echo "arm64 kernel $ver: ${dep}_$pkg_ver (uname -r $kver), installed in $kdir"
