#!/usr/bin/env bash
# Real-kernel tests for one Debian kernel: boot it in the VM test bed with a
# static pintrace and the workload generator, run tests/vm/guest-pins.sh, and
# check the results against the kernel's own counters (check_pins.py).
#   tests/vm/run-kernel.sh 6.1|6.12
set -euo pipefail
cd "$(dirname "$0")/../.."
k=$1
OUTPUT=${OUTPUT:-build}
# O_DIRECT takes FOLL_GET references on 6.1 and FOLL_PIN pins from 6.3 on.
case $k in
6.1) odirect=refs ;;
*) odirect=pins ;;
esac
make -s OUTPUT="$OUTPUT/static" STATIC=1 "$OUTPUT/static/pintrace" >&2
make -s "$OUTPUT/pinload" >&2
# A boot that dies before /init (seen once under TCG: an int3 oops while
# the kernel patched its own text) says nothing about pintrace: boot once
# more. A guest that reached /init and then failed is never retried.
vm() {	# --out DIR, then run.sh's other arguments
	local dir=$2
	tools/vm/run.sh "$@" && return 0
	grep -q 'pintrace-init:' "$dir/console.log" 2>/dev/null && return 1
	echo "# Debian $k: the guest died before /init; booting again" >&2
	rm -rf "$dir"
	tools/vm/run.sh "$@"
}
out="$OUTPUT/vm-$k"
rm -rf "$out"
vm --out "$out" --kernel "$k" --script tests/vm/guest-pins.sh --quiet \
	--add "$OUTPUT/static/pintrace:/bin/pintrace" --add "$OUTPUT/pinload:/bin/pinload" \
	--modules "brd veth" --modparam brd="rd_nr=1 rd_size=65536" --timeout 900 >&2 || {
	echo "not ok - Debian $k: VM run failed (see $out/console.log)"
	exit 1
}
rc=0
tests/vm/check_pins.py "$out" --odirect "$odirect" || rc=1
# ZONE_MOVABLE and migration failures: a second boot with movablecore=.
# PVH boot (no KASLR): a randomly placed kernel image can leave no movable
# memory block offlinable for the second offline case of the boot.
mout="$OUTPUT/vm-$k-movable"
rm -rf "$mout"
vm --out "$mout" --kernel "$k" --script tests/vm/guest-movable.sh --quiet \
	--add "$OUTPUT/static/pintrace:/bin/pintrace" --add "$OUTPUT/pinload:/bin/pinload" \
	--boot pvh --append "movablecore=60%" --timeout 600 >&2 || {
	echo "not ok - Debian $k movablecore: VM run failed (see $mout/console.log)"
	exit 1
}
tests/vm/check_movable.py "$mout" || rc=1
exit $rc
