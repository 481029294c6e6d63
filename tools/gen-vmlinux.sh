#!/usr/bin/env bash
# Regenerate vmlinux/<arch>/vmlinux_<ver>.h from a Debian kernel's BTF, the
# only way these headers change. The BTF comes from /sys/kernel/btf/vmlinux
# of the kernel booted in the VM test bed (or from a file given with --btf).
# vmlinux.h links to the OLDEST supported kernel, so that every field a
# newer kernel added has to go through a CO-RE flavor or existence check.
#   tools/gen-vmlinux.sh [--btf FILE] VER     (VER: 6.1, 6.12)
set -euo pipefail
cd "$(dirname "$0")/.."
btf=
if [[ ${1:-} == --btf ]]; then
	btf=$2
	shift 2
fi
ver=${1:?usage: tools/gen-vmlinux.sh [--btf FILE] VER}
arch=x86
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [[ -z $btf ]]; then
	tools/vm/get-btf.sh "$ver" "$tmp/vmlinux.btf"
	btf=$tmp/vmlinux.btf
fi
mkdir -p "vmlinux/$arch"
bpftool btf dump file "$btf" format c > "$tmp/vmlinux.h"
mv "$tmp/vmlinux.h" "vmlinux/$arch/vmlinux_$ver.h"
echo "wrote vmlinux/$arch/vmlinux_$ver.h ($(wc -l < "vmlinux/$arch/vmlinux_$ver.h") lines)"
