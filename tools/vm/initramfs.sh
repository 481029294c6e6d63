#!/usr/bin/env bash
# Build (or reuse) the base initramfs for one kernel and module set.
#
#   tools/vm/initramfs.sh [--arch amd64|arm64] VER [MODULE...]
#
# Prints the path of an uncompressed newc cpio under $CACHE/initramfs/ that
# holds busybox with its applet links, /init (guest-init.sh) and the
# requested modules plus their dependencies, decompressed, as
# /lib/modules/<kver>/<name>.ko, with /etc/pintrace/modules listing them in
# load order. run.sh appends a second, per-run cpio (script, --add files,
# settings); the kernel unpacks concatenated archives in order.
#
# Dependencies come from modules.dep, modules.softdep ("pre:" entries only)
# and modules.alias, which fetch-kernel.sh generates with depmod.
#
# amd64 images use the host's busybox with all applet links. arm64 images
# use the busybox that fetch-kernel.sh cached next to the kernel; the host
# cannot run it to list its applets, so the image holds only /bin/sh and
# /init creates the other links at boot (busybox --install).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	die "usage: ${0##*/} [--arch amd64|arm64] VER [MODULE...]"
}
arch=amd64
if [[ ${1:-} == --arch ]]; then
	(($# >= 2)) || usage
	arch=$(check_arch "$2")
	shift 2
fi
(($# >= 1)) || usage
ver=$1
shift
check_ver "$ver"
fetch_hint="tools/vm/fetch-kernel.sh $ver"
[[ $arch == amd64 ]] || fetch_hint="tools/vm/fetch-kernel.sh --arch $arch $ver"
kernel_ready "$ver" "$arch" || die "kernel $arch $ver is not fetched; run $fetch_hint"
need_cmd cpio sha256sum xz
kdir=$(kernel_dir "$ver" "$arch")
kver=$(cat "$kdir/kver")

if [[ $arch == amd64 ]]; then
	busybox=${PINTRACE_BUSYBOX:-$(command -v busybox || true)}
	[[ -x $busybox ]] || die "busybox not found (install busybox-static)"
	# A dynamically linked busybox would need a libc in the initramfs.
	if ldd "$busybox" 2>&1 | grep -q '=>'; then
		die "$busybox is dynamically linked; install busybox-static"
	fi
else
	# Debian's busybox-static for the guest architecture.
	busybox=$kdir/busybox
fi

norm() { echo "${1//-/_}"; }

# The module closure is a function of the kernel package and the names asked
# for, so the cache key needs no unpacking and a hit costs nothing.
key=$({
	echo "v1 $kver $(cat "$kdir/package")"
	sha256sum "$busybox" "$VM_DIR/guest-init.sh" "${BASH_SOURCE[0]}" | cut -d' ' -f1
	for m in "$@"; do norm "$m"; done | LC_ALL=C sort -u
} | sha256sum | cut -c1-16)
out=$CACHE/initramfs/$ver-$key.cpio
[[ $arch == amd64 ]] || out=$CACHE/initramfs/$arch-$ver-$key.cpio
if [[ -s $out ]]; then
	echo "$out"
	exit 0
fi

declare -A index=() deps=() done_=()
order=()
if (($#)); then
	# modules.dep lines: "kernel/path/name.ko.xz: kernel/dep1.ko.xz ...".
	while IFS= read -r line; do
		f=${line%%:*} b=${f##*/}
		b=$(norm "${b%%.ko*}")
		index[$b]=$f deps[$b]=${line#*:}
	done <"$kdir/modules/modules.dep"
fi

is_builtin() {
	sed 's/-/_/g' "$kdir/modules/modules.builtin" | grep -qE "/$1\.ko$"
}

softdeps() { # $1: module name; prints its "pre:" soft dependencies
	awk -v m="$1" '$1 == "softdep" && (gsub(/-/, "_", $2) || 1) && $2 == m' "$kdir/modules/modules.softdep" |
		sed -n 's/.* pre: *//p' | sed 's/ *post:.*//'
}

# Soft dependencies often name an alias ("crc32c"). Prefer the portable
# *_generic provider: e.g. crc32c_intel refuses CPUs without SSE4.2.
alias_target() {
	awk -v a="$1" '$1 == "alias" && $2 == a {print $3}' "$kdir/modules/modules.alias" |
		sed 's/-/_/g' | awk '/_generic$/ {g = $0} NR == 1 {f = $0} END {print (g != "" ? g : f)}'
}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/root/lib/modules/$kver" "$stage/root/etc/pintrace"

unpack_module() { # $1: name, $2: path relative to modules/
	local src=$kdir/modules/$2 dst=$stage/root/lib/modules/$kver/$1.ko
	case "$src" in
	*.ko) cp "$src" "$dst" ;;
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) need_cmd zstd && zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*) die "unknown module compression: $src" ;;
	esac
}

resolve() { # $1: module or alias, $2: "soft" if optional; appends after deps
	local name kind=${2:-hard} d t
	name=$(norm "$1")
	[[ -z ${done_[$name]:-} ]] || return 0
	if [[ -z ${index[$name]:-} ]]; then
		t=$(alias_target "$1")
		if [[ -n $t && -n ${index[$t]:-} ]]; then
			resolve "$t" "$kind"
		elif is_builtin "$name"; then
			log "module $name is built into $kver"
		elif [[ $kind == soft ]]; then
			log "soft dependency $name not available in $kver, skipped"
		else
			die "module '$1' not found in $kver"
		fi
		done_[$name]=1
		return 0
	fi
	done_[$name]=1
	for d in $(softdeps "$name"); do
		resolve "$d" soft
	done
	# The recursion orders everything; modules.dep's own order is not needed.
	for d in ${deps[$name]}; do
		d=${d##*/}
		resolve "${d%%.ko*}" "$kind"
	done
	unpack_module "$name" "${index[$name]}"
	order+=("$name $kind")
}

for m in "$@"; do
	resolve "$m"
done
for m in ${order[@]+"${order[@]}"}; do
	echo "${m% *} /lib/modules/$kver/${m% *}.ko ${m#* }"
done >"$stage/root/etc/pintrace/modules"

r=$stage/root
mkdir -p "$r"/{bin,dev,proc,sys,tmp,run,root,out,guest,mnt} "$r/usr" "$r/lib"
ln -s bin "$r/sbin"
ln -s ../bin "$r/usr/bin"
ln -s ../bin "$r/usr/sbin"
cp "$busybox" "$r/bin/busybox"
if [[ $arch == amd64 ]]; then
	for a in $("$busybox" --list); do
		[[ $a == busybox || -e $r/bin/$a ]] || ln -s busybox "$r/bin/$a"
	done
else
	ln -s busybox "$r/bin/sh"
fi
cp "$VM_DIR/guest-init.sh" "$r/init"
chmod 755 "$r/init"

mkdir -p "$CACHE/initramfs"
tmp=$(mktemp "$CACHE/initramfs/.tmp.XXXXXX")
(cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$tmp"
chmod 644 "$tmp"
# rename() is atomic, so concurrent builders of the same key are harmless.
mv -f "$tmp" "$out"
echo "$out"
