#!/usr/bin/env bash
# Build (or reuse) the base initramfs for one kernel and module set.
#
#   tools/vm/initramfs.sh VER [MODULE...]
#
# Prints the path of an uncompressed newc cpio under $CACHE/initramfs/ that
# holds busybox with its applet links, /init (guest-init.sh) and the
# requested modules plus their dependencies, decompressed, as
# /lib/modules/<kver>/<name>.ko, with /etc/pintrace/modules listing them in
# load order. run.sh appends a second, per-run cpio (script, --add files,
# settings); the kernel unpacks concatenated archives in order.
#
# Debian's image packages ship no modules.dep (depmod runs at install time),
# so dependencies come from each module's own .modinfo "depends=" and
# "softdep=pre:" entries, which is what depmod reads as well.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# >= 1)) || die "usage: ${0##*/} VER [MODULE...]"
ver=$1
shift
check_ver "$ver"
kernel_ready "$ver" || die "kernel $ver is not fetched; run tools/vm/fetch-kernel.sh $ver"
need_cmd cpio sha256sum xz
kdir=$(kernel_dir "$ver")
kver=$(cat "$kdir/kver")

busybox=${PINTRACE_BUSYBOX:-$(command -v busybox || true)}
[[ -x $busybox ]] || die "busybox not found (install busybox-static)"
# A dynamically linked busybox would need a libc in the initramfs.
if ldd "$busybox" 2>&1 | grep -q '=>'; then
	die "$busybox is dynamically linked; install busybox-static"
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
if [[ -s $out ]]; then
	echo "$out"
	exit 0
fi

declare -A index=() done_=()
order=()
if (($#)); then
	while IFS= read -r f; do
		b=${f##*/}
		index[$(norm "${b%%.ko*}")]=$f
	done < <(cd "$kdir/modules" && find kernel -name '*.ko*')
fi

is_builtin() {
	grep -qE "/$1\.ko$" <(sed 's/-/_/g' "$kdir/modules/modules.builtin")
}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/root/lib/modules/$kver" "$stage/root/etc/pintrace"

unpack_module() { # $1: name, $2: path relative to modules/; prints .ko path
	local src=$kdir/modules/$2 dst=$stage/root/lib/modules/$kver/$1.ko
	case "$src" in
	*.ko) cp "$src" "$dst" ;;
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) need_cmd zstd && zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*) die "unknown module compression: $src" ;;
	esac
	echo "$dst"
}

modinfo_field() { # $1: .ko file, $2: field
	tr '\0' '\n' <"$1" | sed -n "s/^$2=//p" | head -n1
}

resolve() { # $1: module name; appends it after its dependencies
	local name ko d soft
	name=$(norm "$1")
	[[ -z ${done_[$name]:-} ]] || return 0
	done_[$name]=1
	if [[ -z ${index[$name]:-} ]]; then
		is_builtin "$name" && { log "module $name is built into $kver"; return 0; }
		die "module '$1' not found in $kver"
	fi
	ko=$(unpack_module "$name" "${index[$name]}")
	for d in $(modinfo_field "$ko" depends | tr ',' ' '); do
		resolve "$d"
	done
	# Soft dependencies may name modules this kernel does not have.
	soft=$(modinfo_field "$ko" softdep | sed -n 's/^pre: *//p' | sed 's/ *post:.*//')
	for d in $soft; do
		[[ -z ${index[$(norm "$d")]:-} ]] || resolve "$d"
	done
	order+=("$name")
}

for m in "$@"; do
	resolve "$m"
done
for m in "${order[@]}"; do
	echo "$m /lib/modules/$kver/$m.ko"
done >"$stage/root/etc/pintrace/modules"
# Keep only modules that made it into the load list.
(cd "$stage/root/lib/modules/$kver" && for f in *.ko; do
	[[ -e $f ]] || continue
	grep -q "^${f%.ko} " "$stage/root/etc/pintrace/modules" || rm -f "$f"
done)

r=$stage/root
mkdir -p "$r"/{bin,dev,proc,sys,tmp,run,root,out,guest,mnt} "$r/usr" "$r/lib"
ln -s bin "$r/sbin"
ln -s ../bin "$r/usr/bin"
ln -s ../bin "$r/usr/sbin"
cp "$busybox" "$r/bin/busybox"
for a in $("$busybox" --list); do
	[[ $a == busybox || -e $r/bin/$a ]] || ln -s busybox "$r/bin/$a"
done
cp "$VM_DIR/guest-init.sh" "$r/init"
chmod 755 "$r/init"

mkdir -p "$CACHE/initramfs"
tmp=$(mktemp "$CACHE/initramfs/.tmp.XXXXXX")
(cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$tmp"
chmod 644 "$tmp"
# rename() is atomic, so concurrent builders of the same key are harmless.
mv -f "$tmp" "$out"
echo "$out"
