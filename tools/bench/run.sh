#!/usr/bin/env bash
# make bench: pintrace's cost against the no-op floor and bpftrace, in one
# VM run per Debian kernel, plus the user-space pipeline on this host.
#   tools/bench/run.sh [--kernels "6.1 6.12"] [--seconds S] [--rounds N]
# Results: build/bench/results.json and tools/bench/results.md (a table
# with the ratios and the targets; commit it with the change it measures).
set -euo pipefail
cd "$(dirname "$0")/../.."
OUTPUT=${OUTPUT:-build}
KERNELS="6.1 6.12"
SECS=3
ROUNDS=3
while (($#)); do
	case $1 in
	--kernels) KERNELS=$2; shift ;;
	--seconds) SECS=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	*) echo "usage: tools/bench/run.sh [--kernels LIST] [--seconds S] [--rounds N]" >&2
	   exit 2 ;;
	esac
	shift
done
B=$OUTPUT/bench
mkdir -p "$B"
make -s OUTPUT="$OUTPUT/static" STATIC=1 "$OUTPUT/static/pintrace"
gcc -O2 -std=gnu11 -Wall -Wextra -Werror -static -o "$B/gupbench" tools/bench/gupbench.c

# bpftrace and its libraries, from Debian's packages (never installed on
# this host), as an initramfs overlay; without it the bpftrace column stays
# empty and says why.
bt_cpio=
if ! bt_cpio=$(tools/bench/bpftrace-root.sh --print cpio 2> "$B/bpftrace-root.err"); then
	bt_cpio=
	echo "bench: bpftrace unavailable (see $B/bpftrace-root.err); its column stays empty" >&2
fi

for k in $KERNELS; do
	tools/vm/fetch-kernel.sh "$k" > /dev/null
	d=$B/vm-$k
	rm -rf "$d"
	{
		echo '#!/bin/sh'
		echo "export BENCH_SECONDS=$SECS BENCH_ROUNDS=$ROUNDS"
		sed 1d tools/bench/guest-bench.sh
	} > "$B/guest-$k.sh"
	bt_args=()
	if [[ -n $bt_cpio ]]; then
		# the same pin/unpin matching on the same functions as pintrace's plan
		tools/bench/gen-pins-bt.sh "$k" > "$B/pins-$k.bt"
		bt_args=(--cpio "$bt_cpio" --add "$B/pins-$k.bt:/bench/pins.bt")
	fi
	echo "bench: Debian $k ($ROUNDS rounds of ${SECS}s per loop and mode)" >&2
	# Debian 6.12 under TCG sometimes dies of an "Oops: int3" while the
	# kernel patches its text (attach/detach): a fault of the emulation, not
	# of a measurement, so the boot is run once more (its log kept aside).
	for try in 1 2; do
		tools/vm/run.sh --kernel "$k" --script "$B/guest-$k.sh" --out "$d" --quiet \
			--add "$OUTPUT/static/pintrace:/bin/pintrace" --add "$B/gupbench:/bin/gupbench" \
			${bt_args[@]+"${bt_args[@]}"} \
			--modules brd --modparam brd="rd_nr=1 rd_size=16384" --mem 2048 --timeout 1800 &&
			break
		if ((try == 2)) || ! grep -q 'Kernel panic' "$d/console.log" 2> /dev/null; then
			exit 1
		fi
		echo "bench: Debian $k: the guest kernel panicked; booting again" >&2
		mv "$d/console.log" "$B/console-$k-panic.log"
		rm -rf "$d"
	done
done

pipe_args=()
if make -n bench-pipeline > /dev/null 2>&1; then
	rec=$(ls "$B"/vm-*/pvr.ptrec 2> /dev/null | head -n 1 || true)
	make -s bench-pipeline ${rec:+PIPELINE_STREAM="$rec"} > "$B/pipeline.txt" || true
	pipe_args=(--pipeline "$B/pipeline.txt")
fi
tools/bench/report.py --out-json "$B/results.json" --out-md tools/bench/results.md \
	${pipe_args[@]+"${pipe_args[@]}"} $(for k in $KERNELS; do echo "$B/vm-$k"; done)
