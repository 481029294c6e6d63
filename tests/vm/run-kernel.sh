#!/usr/bin/env bash
# Real-kernel tests for one Debian kernel: boot it in the VM test bed with a
# static pintrace and the workload generator, run tests/vm/guest-pins.sh, and
# check the results against the kernel's own counters (check_pins.py).
# A second boot per kernel: amd64 ZONE_MOVABLE (guest-movable.sh), arm64 CMA
# (guest-cma.sh).
#   tests/vm/run-kernel.sh [--arch amd64|arm64] 6.1|6.12
# arm64 guests get a cross-built static pintrace and pinload
# (make ARCH=arm64 STATIC=1, in $OUTPUT_ARM64, default build-arm64/static).
set -euo pipefail
cd "$(dirname "$0")/../.."
arch=amd64
if [[ ${1:-} == --arch ]]; then
	arch=$2
	shift 2
fi
k=$1
OUTPUT=${OUTPUT:-build}
# O_DIRECT takes FOLL_GET references on 6.1 and FOLL_PIN pins from 6.3 on.
case $k in
6.1) odirect=refs ;;
*) odirect=pins ;;
esac
# Backends every case runs with, and those the kernel cannot attach (a
# forced run must fail cleanly). Debian's arm64 6.1 has no BPF trampolines
# (fentry attach: -524), so auto must plan kprobes there.
backends="fentry kprobe" unsupported=''
case $arch in
amd64)
	make -s OUTPUT="$OUTPUT/static" STATIC=1 "$OUTPUT/static/pintrace" >&2
	make -s "$OUTPUT/pinload" >&2
	pintrace=$OUTPUT/static/pintrace pinload=$OUTPUT/pinload
	out="$OUTPUT/vm-$k" name="Debian $k"
	;;
arm64)
	[[ $k != 6.1 ]] || backends="auto kprobe" unsupported=fentry
	a=${OUTPUT_ARM64:-build-arm64/static}
	# A cross build of its own: nothing of a surrounding make's command
	# line or environment (CC=..., OUTPUT=...) may leak into it.
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u CC make -s -j2 ARCH=arm64 STATIC=1 OUTPUT="$a" \
		"$a/pintrace" "$a/pinload" >&2
	pintrace=$a/pintrace pinload=$a/pinload
	out="$OUTPUT/vm-arm64-$k" name="Debian arm64 $k"
	;;
*)
	echo "run-kernel.sh: unknown --arch '$arch' (amd64 or arm64)" >&2
	exit 2
	;;
esac
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT
printf 'BACKENDS="%s"\nUNSUPPORTED="%s"\n' "$backends" "$unsupported" >"$conf"
# A boot that dies before /init (seen once under TCG: an int3 oops while
# the kernel patched its own text) says nothing about pintrace: boot once
# more. A guest that reached /init and then failed is never retried.
vm() {	# --out DIR, then run.sh's other arguments
	local dir=$2
	tools/vm/run.sh --arch "$arch" "$@" && return 0
	grep -q 'pintrace-init:' "$dir/console.log" 2>/dev/null && return 1
	echo "# $name: the guest died before /init; booting again" >&2
	rm -rf "$dir"
	tools/vm/run.sh --arch "$arch" "$@"
}
rm -rf "$out"
vm --out "$out" --kernel "$k" --script tests/vm/guest-pins.sh --quiet \
	--add "$pintrace:/bin/pintrace" --add "$pinload:/bin/pinload" --add "$conf:/etc/pintrace/pins.conf" \
	--modules "brd veth" --modparam brd="rd_nr=1 rd_size=65536" --timeout 900 >&2 || {
	echo "not ok - $name: VM run failed (see $out/console.log)"
	exit 1
}
rc=0
tests/vm/check_pins.py "$out" --odirect "$odirect" --backends "$backends" \
	--unsupported "$unsupported" || rc=1
# arm64: CMA (Debian's amd64 kernels have no CONFIG_CMA). A second boot
# with a 1 GiB hugetlb_cma area in 3 GiB of RAM (6.12 aligns the area to
# 1 GiB: 2 GiB is too little): long-term pins migrating pages out of CMA,
# a CMA hugetlb page that cannot be pinned, and gigantic page allocations
# failing on windows held by pipes (tests/vm/guest-cma.sh, check_cma.py;
# the scenarios of the arm64 CMA study). About 2-3.5 min per kernel.
if [[ $arch == arm64 ]]; then
	cout="$OUTPUT/vm-arm64-$k-cma"
	rm -rf "$cout"
	vm --out "$cout" --kernel "$k" --script tests/vm/guest-cma.sh --quiet \
		--add "$pintrace:/bin/pintrace" --add "$pinload:/bin/pinload" --add "$conf:/etc/pintrace/pins.conf" \
		--mem 3072 --append "cma=64M hugetlb_cma=1G" --timeout 600 >&2 || {
		echo "not ok - $name CMA: VM run failed (see $cout/console.log)"
		exit 1
	}
	tests/vm/check_cma.py "$cout" --backends "$backends" || rc=1
	exit $rc
fi
# ZONE_MOVABLE and migration failures: a second boot with movablecore=.
# PVH boot (no KASLR): a randomly placed kernel image can leave no movable
# memory block offlinable for the second offline case of the boot.
# amd64 only: --boot pvh is x86's; arm64's CMA boot is above.
mout="$OUTPUT/vm-$k-movable"
rm -rf "$mout"
vm --out "$mout" --kernel "$k" --script tests/vm/guest-movable.sh --quiet \
	--add "$pintrace:/bin/pintrace" --add "$pinload:/bin/pinload" \
	--boot pvh --append "movablecore=60%" --timeout 600 >&2 || {
	echo "not ok - $name movablecore: VM run failed (see $mout/console.log)"
	exit 1
}
tests/vm/check_movable.py "$mout" || rc=1
exit $rc
