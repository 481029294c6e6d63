#!/usr/bin/env bash
# Download and unpack a Debian kernel package for the VM test bed.
#
#   tools/vm/fetch-kernel.sh [--arch amd64|arm64] [--refresh] 6.1|6.12
#
# Result (amd64, the default):
#   $PINTRACE_CACHE/kernels/<VER>/{vmlinuz,config,System.map,modules/,kver,package}
# arm64: the same files under $PINTRACE_CACHE/kernels/arm64/<VER>/ (vmlinuz is
# then the uncompressed Image of linux-image-*-arm64-unsigned), plus the
# guest's busybox (busybox-static:arm64 of the same suites) as busybox and
# busybox.package.
# PINTRACE_CACHE defaults to ~/.cache/pintrace. With the cache present the
# script touches no network; --refresh re-resolves the metapackage and
# replaces the kernel only if Debian published a newer one.
#
# apt runs with a private configuration under $CACHE/apt/<VER>/ (arm64:
# $CACHE/apt/arm64/<VER>/) so that the system's sources, lists and package
# state are never read or changed.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	echo "usage: ${0##*/} [--arch amd64|arm64] [--refresh] 6.1|6.12" >&2
	exit 2
}

refresh=0
ver=
arch=amd64
while (($#)); do
	case "$1" in
	--refresh) refresh=1 ;;
	--arch)
		(($# >= 2)) || usage
		arch=$(check_arch "$2")
		shift
		;;
	-h | --help) usage ;;
	-*) usage ;;
	*) [[ -z $ver ]] || usage; ver=$1 ;;
	esac
	shift
done
[[ -n $ver ]] || usage
check_ver "$ver"

kdir=$(kernel_dir "$ver" "$arch")
# What the messages call the kernel: "6.1" for amd64, "arm64 6.1" otherwise.
name=$ver
[[ $arch == amd64 ]] || name="$arch $ver"

# Debian's image packages ship no modules.dep (depmod runs at install time).
run_depmod() { # $1: modules dir, $2: kver
	local base
	need_cmd depmod
	base=$(mktemp -d)
	mkdir -p "$base/lib/modules"
	ln -s "$1" "$base/lib/modules/$2"
	depmod -b "$base" "$2" || die "depmod failed for $2"
	rm -rf "$base"
}
# Caches made before depmod was part of the fetch only need the indexes.
if ((!refresh)) && [[ -s $kdir/kver && ! -s $kdir/modules/modules.dep ]]; then
	run_depmod "$kdir/modules" "$(cat "$kdir/kver")"
fi

if ((!refresh)) && kernel_ready "$ver" "$arch"; then
	echo "kernel $name: $(cat "$kdir/package") (uname -r $(cat "$kdir/kver")), cached in $kdir"
	exit 0
fi

need_cmd apt-get apt-cache dpkg-deb flock depmod

find_mirrors

# 6.1 is bookworm's own kernel (security updates carry the newest ABI).
# 6.12 is trixie's kernel: bookworm-backports ships 6.12 too, but it lags
# behind and is not what a Debian 13 machine runs.
case "$ver" in
6.1) suites=("$mirror bookworm" "$mirror bookworm-updates" "$security bookworm-security") ;;
6.12) suites=("$mirror trixie" "$mirror trixie-updates" "$security trixie-security") ;;
esac

# amd64 keeps the original layout ($CACHE/apt/VER, $CACHE/kernels/VER).
if [[ $arch == amd64 ]]; then
	adir=$CACHE/apt/$ver
else
	adir=$CACHE/apt/$arch/$ver
fi
kparent=$(dirname "$kdir")
mkdir -p "$kparent"

# Two concurrent fetches of the same version would race on the apt dirs and
# on the final rename.
exec 9>"$kparent/.$ver.lock"
flock 9
if ((!refresh)) && kernel_ready "$ver" "$arch"; then
	echo "kernel $name: $(cat "$kdir/package") (uname -r $(cat "$kdir/kver")), cached in $kdir"
	exit 0
fi

private_apt "$adir" "$arch" "${suites[@]}"

log "updating private apt lists for $name (${suites[*]})"
apt-get "${apt_opts[@]}" -qq update >"$adir/update.log" 2>&1 ||
	die "apt-get update failed; see $adir/update.log"
if grep -qE '^(W|E):' "$adir/update.log"; then
	grep -E '^(W|E):' "$adir/update.log" >&2
fi

meta=linux-image-$arch
meta_ver=$(apt-cache "${apt_opts[@]}" policy "$meta" | awk '/Candidate:/ {print $2}')
[[ -n $meta_ver && $meta_ver != "(none)" ]] || die "$meta not found in ${suites[*]}"
# The metapackage depends on exactly one ABI-versioned image package.
dep=$(apt-cache "${apt_opts[@]}" show "$meta=$meta_ver" |
	sed -n 's/^Depends: //p' | head -n1 | tr ',' '\n' | grep -oE 'linux-image-[^ ]+' | head -n1)
[[ -n $dep ]] || die "cannot resolve the image package behind $meta $meta_ver"
# arm64's signed image is built from the -unsigned one; take the original,
# as the study of these kernels did (amd64 keeps the package it always used).
[[ $arch == amd64 ]] || dep=$dep-unsigned
pkg_ver=$(apt-cache "${apt_opts[@]}" policy "$dep" | awk '/Candidate:/ {print $2}')
[[ $pkg_ver == "$ver".* ]] || die "$dep ${pkg_ver:-(not found)} is not a $ver kernel"

if [[ -s $kdir/package && $(cat "$kdir/package") == "${dep}_$pkg_ver" ]] && kernel_ready "$ver" "$arch"; then
	echo "kernel $name: ${dep}_$pkg_ver (uname -r $(cat "$kdir/kver")), already current in $kdir"
	exit 0
fi
# Both architectures are built from one source upload, so they normally
# agree; a mismatch means one was fetched before a new upload.
if [[ $arch != amd64 && -s $(kernel_dir "$ver")/package ]]; then
	amd=$(cat "$(kernel_dir "$ver")/package")
	[[ ${amd##*_} == "$pkg_ver" ]] ||
		log "note: the cached amd64 $ver kernel is ${amd##*_}, Debian's $arch one is now $pkg_ver (fetch-kernel.sh --refresh $ver updates amd64)"
fi

stage=$(mktemp -d "$kparent/.stage-$ver.XXXXXX")
trap 'rm -rf "$stage"' EXIT
pkgs=("$dep=$pkg_ver")
if [[ $arch != amd64 ]]; then
	bb_ver=$(apt-cache "${apt_opts[@]}" policy busybox-static | awk '/Candidate:/ {print $2}')
	[[ -n $bb_ver && $bb_ver != "(none)" ]] || die "busybox-static:$arch not found in ${suites[*]}"
	pkgs+=("busybox-static=$bb_ver")
fi
log "downloading ${pkgs[*]}"
mkdir -p "$stage/debs"
(cd "$stage/debs" && apt-get "${apt_opts[@]}" -qq download "${pkgs[@]}") ||
	die "apt-get download ${pkgs[*]} failed"
deb=$(echo "$stage"/debs/linux-image-*.deb)
[[ -f $deb ]] || die "no .deb downloaded for $dep"

log "extracting $(basename "$deb")"
dpkg-deb -x "$deb" "$stage/root"
rm -f "$deb"
# trixie packages ship modules under usr/lib (merged /usr), bookworm under lib.
moddir=$stage/root/lib/modules
[[ -d $moddir ]] || moddir=$stage/root/usr/lib/modules
mapfile -t kvers < <(ls "$moddir" 2>/dev/null)
((${#kvers[@]} == 1)) || die "expected one lib/modules/<kver> in $dep, found: ${kvers[*]:-none}"
kver=${kvers[0]}

out=$stage/kernel
mkdir -p "$out"
cp "$stage/root/boot/vmlinuz-$kver" "$out/vmlinuz"
cp "$stage/root/boot/config-$kver" "$out/config"
# Debian's System.map is a placeholder pointing at the -dbg package; keep it anyway.
[[ -f $stage/root/boot/System.map-$kver ]] && cp "$stage/root/boot/System.map-$kver" "$out/System.map"
mv "$moddir/$kver" "$out/modules"
run_depmod "$out/modules" "$kver"
if [[ $arch != amd64 ]]; then
	bdeb=$(echo "$stage"/debs/busybox-static_*.deb)
	[[ -f $bdeb ]] || die "no .deb downloaded for busybox-static:$arch"
	dpkg-deb -x "$bdeb" "$stage/bb"
	bb=$stage/bb/bin/busybox
	[[ -f $bb ]] || bb=$stage/bb/usr/bin/busybox
	[[ -f $bb ]] || die "no busybox binary in $(basename "$bdeb")"
	# e_machine (ELF offset 18) 0xb7 is AArch64.
	[[ $arch != arm64 || $(od -An -tx1 -j18 -N2 "$bb" | tr -d ' ') == b700 ]] ||
		die "$(basename "$bdeb"): busybox is not an AArch64 ELF"
	cp "$bb" "$out/busybox"
	chmod 755 "$out/busybox"
	echo "busybox-static_$bb_ver" >"$out/busybox.package"
fi
echo "${dep}_$pkg_ver" >"$out/package"
echo "$kver" >"$out/kver"

# Swap in atomically so a concurrent run.sh never sees a half-written kernel.
if [[ -e $kdir ]]; then
	mv "$kdir" "$stage/old"
fi
mv "$out" "$kdir"
echo "kernel $name: ${dep}_$pkg_ver (uname -r $kver), installed in $kdir"
