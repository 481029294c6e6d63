#!/bin/sh
# Runs inside the bench VM (busybox sh, as root; see tools/bench/run.sh).
# For each GUP loop of gupbench: operations per second with no tracing,
# under the no-op floor (same hooks, empty programs), under pintrace in its
# default mode (-q: short-term pins and calls counted in the kernel, summary
# only), the same without stack walks (--no-stacks), and in stream mode (--stream: every event as NDJSON to a file), and
# under the equivalent bpftrace script when bpftrace is in
# the guest. Then attach times. Results: /out/*.
set -u
OUT=/out
SECS=${BENCH_SECONDS:-3}
ROUNDS=${BENCH_ROUNDS:-2}
OPS=${BENCH_OPS:-"pvr vmsplice uring odirect"}
BACKEND=${BENCH_BACKEND:-auto}

uname -r > $OUT/kernel.txt
pintrace check > $OUT/check.txt 2>&1

args_of() {	# extra gupbench arguments of one operation
	[ "$1" = odirect ] && echo "--dev /dev/ram0"
}

# mode, op, round: one gupbench run; its JSON line goes to /out/ops.txt
one() {
	mode=$1 op=$2 r=$3
	a=$(args_of "$op")
	# progress on the console, where a stuck run can be seen from the host
	echo "bench: $op $mode round $r"

	f=$OUT/run-$op-$mode-$r
	case $mode in
	base)
		gupbench "$op" --seconds "$SECS" $a > "$f.json" 2> "$f.err" ;;
	floor)
		pintrace run -b "$BACKEND" -q --noop-programs -O "$f.sum" -- \
			gupbench "$op" --seconds "$SECS" $a > "$f.json" 2> "$f.err" ;;
	quiet)
		pintrace run -b "$BACKEND" -q -o json -O "$f.sum" -- \
			gupbench "$op" --seconds "$SECS" $a > "$f.json" 2> "$f.err" ;;
	nostacks)
		pintrace run -b "$BACKEND" -q --no-stacks -o json -O "$f.sum" -- \
			gupbench "$op" --seconds "$SECS" $a > "$f.json" 2> "$f.err" ;;
	stream)
		pintrace run -b "$BACKEND" --stream -o json -O /tmp/stream.ndjson -- \
			gupbench "$op" --seconds "$SECS" $a > "$f.json" 2> "$f.err"
		# the summary is the last record; the stream itself stays here
		tail -n 1 /tmp/stream.ndjson > "$f.sum"
		wc -l < /tmp/stream.ndjson > "$f.records"
		rm -f /tmp/stream.ndjson ;;
	bpftrace)
		rm -f /tmp/bt.out
		env BPFTRACE_MAP_KEYS_MAX=65536 bpftrace "$BT" > /tmp/bt.out 2>&1 &
		bt=$!
		gupbench waitfor /tmp/bt.out "pins.bt: ready" --seconds 300 --pid $bt > /dev/null
		gupbench "$op" --seconds "$SECS" $a > "$f.json" 2> "$f.err"
		kill -INT $bt
		wait $bt
		cp /tmp/bt.out "$f.bt" ;;
	esac
	echo "$? $mode $op $r $(cat "$f.json")" >> $OUT/ops.txt
}

MODES="base floor quiet nostacks stream"
BT=/bench/pins.bt
if command -v bpftrace > /dev/null 2>&1 && [ -e $BT ]; then
	MODES="$MODES bpftrace"
fi
echo "$MODES" > $OUT/modes.txt
# Rounds interleave the modes so that a slow phase of the emulator hits
# every mode alike.
r=1
while [ $r -le "$ROUNDS" ]; do
	for op in $OPS; do
		for m in $MODES; do
			one "$m" "$op" "$r"
		done
	done
	r=$((r + 1))
done

# Attach time: from starting the tracer until it is live.
attach() {	# name, rounds
	i=1
	while [ $i -le "$2" ]; do
		rm -f /tmp/ready /tmp/bt.out
		case $1 in
		pintrace)
			pintrace -b "$BACKEND" -q -O /dev/null --ready-file /tmp/ready &
			p=$!
			gupbench waitfor /tmp/ready --seconds 300 --pid $p > /tmp/w.json &
			w=$! ;;
		bpftrace)
			env BPFTRACE_MAP_KEYS_MAX=65536 bpftrace "$BT" > /tmp/bt.out 2>&1 &
			p=$!
			gupbench waitfor /tmp/bt.out "pins.bt: ready" --seconds 300 --pid $p \
				> /tmp/w.json &
			w=$! ;;
		esac
		wait $w
		kill -INT $p
		wait $p
		echo "$1 $i $(cat /tmp/w.json)" >> $OUT/attach.txt
		i=$((i + 1))
	done
}
attach pintrace 3
case $MODES in *bpftrace*) attach bpftrace 3 ;; esac

# Peak RSS: every summary has pintrace's own (getrusage), see report.py.
# (busybox time -v would not do: it reports ru_maxrss four times too big.)

# A recorded event stream for the user-space pipeline benchmark (on the host).
if pintrace --help 2>&1 | grep -q -- --record; then
	pintrace run -b "$BACKEND" -q -O /dev/null --record $OUT/pvr.ptrec -- \
		gupbench pvr --seconds 1 > /dev/null 2>&1
fi
echo done > $OUT/done
