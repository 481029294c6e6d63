#!/usr/bin/env bash
# Show pintrace working: on this machine if its kernel can be traced, and in
# any case on a real Debian kernel booted in the VM test bed.
#   tools/demo.sh [6.1|6.12]
set -euo pipefail
cd "$(dirname "$0")/.."
k=${1:-6.12}
OUTPUT=${OUTPUT:-build}
echo "== this machine: pintrace check"
if "$OUTPUT/pintrace" check; then
	echo "This kernel can be traced: try 'sudo $OUTPUT/pintrace' (Ctrl-C to stop)."
fi
echo
echo "== Debian $k in a VM (QEMU, software emulation: about a minute)"
make -s OUTPUT="$OUTPUT/static" STATIC=1 "$OUTPUT/static/pintrace" >/dev/null
make -s "$OUTPUT/pinload" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
tools/vm/run.sh --kernel "$k" --script tools/demo-guest.sh --out "$out" --quiet \
	--add "$OUTPUT/static/pintrace:/bin/pintrace" --add "$OUTPUT/pinload:/bin/pinload"
cat "$out/demo.txt"
