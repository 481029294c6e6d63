#!/usr/bin/env bash
# Regenerate vmlinux/<arch>/vmlinux_<ver>.h from a Debian kernel's BTF, the
# only way these headers change. The BTF is, unless a file is given with
# --btf:
#   x86    /sys/kernel/btf/vmlinux of the kernel booted in the VM test bed;
#   arm64  the .BTF blob inside Debian's arm64 Image (tools/vm/fetch-kernel.sh --arch arm64),
#          the same bytes the kernel serves as /sys/kernel/btf/vmlinux.
# vmlinux.h links to the OLDEST supported kernel, so that every field a
# newer kernel added has to go through a CO-RE flavor or existence check.
#   tools/gen-vmlinux.sh [--arch x86|arm64] [--btf FILE] VER     (VER: 6.1, 6.12)
set -euo pipefail
cd "$(dirname "$0")/.."
usage() {
	echo "usage: tools/gen-vmlinux.sh [--arch x86|arm64] [--btf FILE] VER" >&2
	exit 2
}
arch=x86
btf=
while [[ ${1:-} == --* ]]; do
	(($# >= 2)) || usage
	case "$1" in
	--arch) arch=$2 ;;
	--btf) btf=$2 ;;
	*) usage ;;
	esac
	shift 2
done
ver=${1:-}
[[ -n $ver && $# == 1 ]] || usage
[[ $arch == x86 || $arch == arm64 ]] || usage
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# An arm64 Image is the kernel's loaded sections laid out flat, .BTF among
# them. Its header (magic 0xeB9F, version 1, flags 0, hdr_len 24, then
# type_off, type_len, str_off, str_len; little-endian, read with od in this
# host's byte order) gives the blob's length; bpftool parsing the whole
# blob and finding task_struct in it is the check.
btf_from_image() { # $1: Image, $2: output
	local off type_off type_len str_off str_len end
	while IFS=: read -r off _; do
		read -r type_off type_len str_off str_len < <(od -An -tu4 -j $((off + 8)) -N16 "$1")
		end=$((type_off + type_len > str_off + str_len ? type_off + type_len : str_off + str_len))
		dd if="$1" of="$2" bs=1M iflag=skip_bytes,count_bytes skip="$off" count=$((24 + end)) status=none
		bpftool btf dump file "$2" 2>/dev/null | grep "^\[[0-9]*\] STRUCT 'task_struct' " >/dev/null && return 0
	done < <(LC_ALL=C grep -obUaP '\x9f\xeb\x01\x00\x18\x00\x00\x00' "$1")
	echo "tools/gen-vmlinux.sh: no vmlinux BTF found in $1" >&2
	return 1
}

if [[ -z $btf ]]; then
	if [[ $arch == x86 ]]; then
		tools/vm/get-btf.sh "$ver" "$tmp/vmlinux.btf"
	else
		tools/vm/fetch-kernel.sh --arch arm64 "$ver" >&2
		kdir=$(. tools/vm/lib.sh && kernel_dir "$ver" arm64)
		btf_from_image "$kdir/vmlinuz" "$tmp/vmlinux.btf"
		echo "BTF of $(cat "$kdir/kver") ($(wc -c <"$tmp/vmlinux.btf") bytes) taken from $(cat "$kdir/package")"
	fi
	btf=$tmp/vmlinux.btf
fi
mkdir -p "vmlinux/$arch"
bpftool btf dump file "$btf" format c > "$tmp/vmlinux.h"
mv "$tmp/vmlinux.h" "vmlinux/$arch/vmlinux_$ver.h"
echo "wrote vmlinux/$arch/vmlinux_$ver.h ($(wc -l < "vmlinux/$arch/vmlinux_$ver.h") lines)"
# A new arch's vmlinux.h: the oldest kernel's header. An existing link stays.
if [[ ! -e vmlinux/$arch/vmlinux.h ]]; then
	oldest=$(cd "vmlinux/$arch" && printf '%s\n' vmlinux_*.h | sort -V | head -n1)
	ln -s "$oldest" "vmlinux/$arch/vmlinux.h"
	echo "linked vmlinux/$arch/vmlinux.h -> $oldest"
fi
