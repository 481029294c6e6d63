#!/usr/bin/env bash
# Boot a test-bed kernel and copy its /sys/kernel/btf/vmlinux to OUTFILE,
# through run.sh's checksummed channel.
#
#   tools/vm/get-btf.sh [--arch amd64|arm64] 6.1|6.12 OUTFILE
#
# Feed OUTFILE to `bpftool btf dump file OUTFILE format c` to get vmlinux.h.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

arch=amd64
if [[ ${1:-} == --arch && $# -ge 2 ]]; then
	arch=$(check_arch "$2")
	shift 2
fi
(($# == 2)) || die "usage: ${0##*/} [--arch amd64|arm64] 6.1|6.12 OUTFILE"
ver=$1 outfile=$2
check_ver "$ver"

work=$(mktemp -d "${TMPDIR:-/tmp}/pintrace-btf.XXXXXX")
trap 'rm -rf "$work"' EXIT
cat >"$work/guest.sh" <<'EOF'
#!/bin/sh
set -e
cp /sys/kernel/btf/vmlinux /out/vmlinux.btf
uname -r >/out/kver
EOF
rc=0
"$VM_DIR/run.sh" --quiet --arch "$arch" --kernel "$ver" --script "$work/guest.sh" --out "$work/out" --timeout 180 || rc=$?
((rc == 0)) || die "guest failed (rc=$rc)"

btf=$work/out/vmlinux.btf
# BTF header magic 0xeB9F, little-endian on x86 and arm64.
[[ -s $btf && $(od -An -tx1 -N2 "$btf" | tr -d ' ') == 9feb ]] || die "guest returned no valid BTF"
mkdir -p "$(dirname "$outfile")"
cp "$btf" "$outfile.tmp.$$"
chmod 644 "$outfile.tmp.$$"
mv -f "$outfile.tmp.$$" "$outfile"
echo "BTF of $(cat "$work/out/kver") ($(wc -c <"$outfile") bytes) written to $outfile"
