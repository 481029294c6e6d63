#!/usr/bin/env bash
# Debian bookworm's bpftrace (0.17) for the VM test bed, never installed on
# the host.
#
#   tools/bench/bpftrace-root.sh [--refresh] [--print cpio|adds|root]
#
# Downloads bpftrace and its whole dependency closure as .debs through a
# private apt configuration (like tools/vm/fetch-kernel.sh: own sources,
# lists, cache and an empty dpkg status under $CACHE/apt/bpftrace/; the
# system's apt setup is never read for packages nor changed), unpacks them
# with dpkg-deb -x into $CACHE/bpftrace/debroot, then copies
# /usr/bin/bpftrace and exactly the shared objects it needs - resolved from
# the ELF NEEDED/RUNPATH entries against the unpacked tree, the way ld.so
# does, not from a hand-written list - into $CACHE/bpftrace/root and packs
# that into a newc cpio ($CACHE/bpftrace/bpftrace-<key>.cpio).
#
# --print cpio (default): the cpio's path, for tools/vm/run.sh --cpio.
# --print adds: run.sh "--add SRC:DST" arguments instead, one per line.
# --print root: the staged tree.
#
# In the guest: /bin/bpftrace (also /usr/bin/bpftrace, the base image links
# usr/bin to bin), the loader at /lib64/ld-linux-x86-64.so.2, libraries in
# /lib/x86_64-linux-gnu and /usr/lib/x86_64-linux-gnu, which glibc searches
# without an ld.so.cache. Nothing replaces a directory or link of the base
# image. With the cache complete the script touches no network.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/vm/lib.sh
. "$BENCH_DIR/../vm/lib.sh"

usage() {
	echo "usage: ${0##*/} [--refresh] [--print cpio|adds|root]" >&2
	exit 2
}
refresh=0 print=cpio
while (($#)); do
	case "$1" in
	--refresh) refresh=1 ;;
	--print) (($# >= 2)) || usage; print=$2; shift ;;
	*) usage ;;
	esac
	shift
done
[[ $print == cpio || $print == adds || $print == root ]] || usage

bdir=$CACHE/bpftrace
adir=$CACHE/apt/bpftrace
mkdir -p "$bdir"
exec 9>"$bdir/.lock"
flock 9

emit() {
	case "$print" in
	cpio) echo "$bdir/$(cat "$bdir/cpio")" ;;
	root) echo "$bdir/root" ;;
	adds)
		# Files only (directories of the base image must stay as they are).
		(cd "$bdir/root" && find . \( -type f -o -type l \) | LC_ALL=C sort) |
			while read -r f; do echo "--add $bdir/root/${f#./}:/${f#./}"; done
		;;
	esac
}
if ((!refresh)) && [[ -s $bdir/cpio && -s $bdir/$(cat "$bdir/cpio" 2>/dev/null) ]]; then
	emit
	exit 0
fi

need_cmd apt-get apt-cache dpkg-deb readelf cpio sha256sum

# ---- 1. the .debs, through a private apt configuration ----------------------
find_mirrors
private_apt "$adir" amd64 "$mirror bookworm" "$mirror bookworm-updates" "$security bookworm-security"
# An empty dpkg status: apt then downloads the complete closure, libc6
# included, because it believes nothing is installed.
: >"$adir/status"
apt_opts+=(
	-o "APT::Install-Recommends=false"
	-o "APT::Install-Suggests=false"
	-o "Debug::NoLocking=true"
)
if ((refresh)) || ! compgen -G "$adir/state/lists/*_Packages*" >/dev/null; then
	log "updating private apt lists (bookworm, $mirror)"
	apt-get "${apt_opts[@]}" -qq update >"$adir/update.log" 2>&1 ||
		die "apt-get update failed; see $adir/update.log"
fi
bt_ver=$(apt-cache "${apt_opts[@]}" policy bpftrace | awk '/Candidate:/ {print $2}')
[[ -n $bt_ver && $bt_ver != "(none)" ]] || die "bpftrace not found in bookworm"
log "downloading bpftrace $bt_ver and its dependencies"
apt-get "${apt_opts[@]}" -qq -y --download-only install "bpftrace=$bt_ver" >"$adir/download.log" 2>&1 ||
	die "apt-get --download-only install bpftrace failed; see $adir/download.log"

# ---- 2. unpack every downloaded .deb ----------------------------------------
# The list of .debs apt chose (not whatever else sits in its cache).
# "Inst libc6 (2.36-9+deb12u14 Debian:12.13/stable, ... [amd64])" -> the
# archive's file name (an epoch's ':' is '%3a' there).
mapfile -t debs < <(apt-get "${apt_opts[@]}" -qq -s install "bpftrace=$bt_ver" 2>/dev/null |
	awk '$1 == "Inst" && match($0, /\[[a-z0-9]+\]/) {a = substr($0, RSTART + 1, RLENGTH - 2)
		v = $3; sub(/^\(/, "", v); gsub(/:/, "%3a", v); print $2 "_" v "_" a ".deb"}')
((${#debs[@]})) || die "apt chose no packages for bpftrace (already 'installed'?)"
key=$(printf '%s\n' "${debs[@]}" "$(sha256sum "${BASH_SOURCE[0]}")" | sha256sum | cut -c1-16)
rm -rf "$bdir/debroot.tmp"
mkdir -p "$bdir/debroot.tmp"
for d in "${debs[@]}"; do
	f=$adir/cache/archives/$d
	[[ -f $f ]] || die "$d was not downloaded"
	dpkg-deb -x "$f" "$bdir/debroot.tmp"
done
printf '%s\n' "${debs[@]}" >"$bdir/debroot.tmp/.debs"
rm -rf "$bdir/debroot"
mv "$bdir/debroot.tmp" "$bdir/debroot"
dr=$bdir/debroot

# ---- 3. the ELF closure of bpftrace, resolved against the unpacked tree ----
# A path inside the tree, following symlinks (absolute ones are relative to
# the tree, not the host).
tree_resolve() { # $1: absolute guest path; prints the tree path of the file
	local p=$1 n=0 t
	while [[ -L $dr$p ]] && ((n++ < 40)); do
		t=$(readlink "$dr$p")
		if [[ $t == /* ]]; then p=$t; else p=$(dirname "$p")/$t; fi
		p=$(realpath -m -s "$p")
	done
	[[ -f $dr$p ]] && echo "$p"
}
syslibdirs=(/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib /usr/lib)
find_lib() { # $1: soname, $2: requesting object (guest path), $3: its runpath
	local d
	local -a dirs=()
	IFS=: read -ra dirs <<<"${3//\$ORIGIN/$(dirname "$2")}"
	for d in ${dirs[@]+"${dirs[@]}"} "${syslibdirs[@]}"; do
		[[ -n $d ]] || continue
		if [[ -e $dr$d/$1 ]] && tree_resolve "$d/$1" >/dev/null; then
			echo "$d/$1"
			return 0
		fi
	done
	return 1
}
rm -rf "$bdir/root.tmp"
r=$bdir/root.tmp
mkdir -p "$r"
declare -A seen=()
queue=(/usr/bin/bpftrace)
interp=
closure=()
while ((${#queue[@]})); do
	obj=${queue[0]}
	queue=("${queue[@]:1}")
	[[ -z ${seen[$obj]:-} ]] || continue
	seen[$obj]=1
	real=$(tree_resolve "$obj") || die "$obj: not in the unpacked packages"
	closure+=("$obj")
	dyn=$(readelf -dW "$dr$real")
	if [[ $obj == /usr/bin/bpftrace ]]; then
		interp=$(readelf -lW "$dr$real" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
		[[ -n $interp ]] || die "bpftrace has no PT_INTERP"
		queue+=("$interp")
	fi
	rp=$(sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p; s/.*(RPATH).*\[\(.*\)\]/\1/p' <<<"$dyn" | head -n1)
	while read -r so; do
		lib=$(find_lib "$so" "$obj" "$rp") || die "$obj needs $so: not found in the unpacked packages"
		queue+=("$lib")
	done < <(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$dyn")
done
# Guest layout: bpftrace in /bin (usr/bin is a link to it in the base image),
# everything else at the path the loader looks it up by, as a real file.
for obj in "${closure[@]}"; do
	real=$(tree_resolve "$obj")
	dst=$obj
	[[ $obj != /usr/bin/bpftrace ]] || dst=/bin/bpftrace
	mkdir -p "$r$(dirname "$dst")"
	cp "$dr$real" "$r$dst"
done
printf '%s\n' "${closure[@]}" >"$bdir/closure.txt"
# bpftrace's own data (none needed at run time besides the binary; its man
# pages and tools stay out).
cp "$dr/usr/share/doc/bpftrace/copyright" "$r/bin/.bpftrace.copyright" 2>/dev/null || true
rm -rf "$bdir/root"
mv "$r" "$bdir/root"

# ---- 4. the overlay cpio ----------------------------------------------------
# Directory entries only for directories the base image lacks: the kernel's
# unpacker replaces an existing entry of another type (usr/bin is a symlink).
tmp=$(mktemp "$bdir/.cpio.XXXXXX")
(cd "$bdir/root" && find . -mindepth 1 ! -path ./bin | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$tmp"
chmod 644 "$tmp"
rm -f "$bdir"/bpftrace-*.cpio
mv -f "$tmp" "$bdir/bpftrace-$key.cpio"
echo "bpftrace-$key.cpio" >"$bdir/cpio"
echo "$bt_ver" >"$bdir/version"
log "bpftrace $bt_ver: $(wc -l <"$bdir/closure.txt") objects, $(du -sh "$bdir/root" | cut -f1) in $bdir/root," \
	"cpio $(stat -c %s "$bdir/bpftrace-$key.cpio") bytes"
emit
