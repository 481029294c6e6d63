#!/bin/sh
# Guest side of tools/bench/bpftrace-smoke.sh (busybox sh, as root, in the
# VM test bed). For each tracer: start it system-wide under readytime (which
# measures exec -> ready on CLOCK_MONOTONIC), run the same pinload workload,
# bracket it with the kernel's nr_foll_pin_acquired/_released, stop the
# tracer with SIGINT and keep its output. Needs in the guest:
#   /bin/bpftrace (tools/bench/bpftrace-root.sh), /bin/pintrace (static),
#   /bin/pinload, /bin/readytime, /bench/pins-<variant>.bt for each
#   bpftrace-<variant> tracer (kfunc, kprobe, kfunc-stacks),
#   /bench/conf (optional: ITER, PAGES, URING, TRACERS, MAPKEYS, REPEAT).
# Results in /out: cases.txt (one line per tracer: name rc acquired_before
# released_before acquired_after released_after workload_ms stop_ms),
# <tracer>.ready (readytime's result), <tracer>.log (the tracer's output:
# bpftrace's maps at exit), pintrace.ndjson (its events and summary),
# attach.txt (REPEAT more start/ready/stop rounds per tracer without the
# workload: name round ready_ns stop_ms).
set -u
OUT=/out
ITER=200 PAGES=16 URING=20 MAPKEYS=65536 REPEAT=0
TRACERS="none bpftrace-kfunc bpftrace-kfunc-stacks bpftrace-kprobe pintrace pintrace-kprobe"
# shellcheck source=/dev/null # written by bpftrace-smoke.sh
[ -f /bench/conf ] && . /bench/conf

uname -r >$OUT/kernel.txt
cat /proc/meminfo >$OUT/meminfo.txt
bpftrace --version >$OUT/bpftrace-version.txt 2>&1
pintrace check >$OUT/pintrace-check.txt 2>&1

now_ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }

vm() { # fold the per-CPU deltas, then print "acquired released"
	echo 1 >/proc/sys/vm/stat_refresh
	awk '/^nr_foll_pin_acquired /{a=$2} /^nr_foll_pin_released /{r=$2} END{print a, r}' /proc/vmstat
}

# The same work for every tracer: short-term pins (process_vm_readv, 6.1:
# try_grab_page via pin_user_pages_remote; 6.12: try_grab_folio), FOLL_GET
# references (vmsplice: counted, not matched) and long-term pins (io_uring
# fixed buffers: pin_user_pages(_fast), unpin_user_page(s)/unpin_user_folio).
workload() {
	i=0
	while [ $i -lt "$ITER" ]; do
		pinload pvr --pages "$PAGES" >/dev/null || echo "pvr failed (iteration $i)" >&2
		pinload vmsplice --pages "$PAGES" --drain >/dev/null || echo "vmsplice failed ($i)" >&2
		i=$((i + 1))
	done
	i=0
	while [ $i -lt "$URING" ]; do
		pinload uring --pages 64 >/dev/null || echo "uring failed ($i)" >&2
		i=$((i + 1))
	done
}

wait_file() { # $1: file, $2: pid that must stay alive
	while [ ! -e "$1" ]; do
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
}

run_tracer() { # name, ready option (-s STRING | -f FILE), then the command
	name=$1 how=$2 what=$3
	shift 3
	echo "== $name"
	h=
	if [ "$name" != none ]; then
		rm -f "/tmp/$name.ready"
		readytime "$how" "$what" -l "$OUT/$name.log" -r "/tmp/$name.ready" -t 500 -- "$@" &
		h=$!
		if ! wait_file "/tmp/$name.ready" "$h"; then
			wait $h
			echo "$name: readytime exited with $? before a result" | tee -a $OUT/errors.txt
			return
		fi
		cp "/tmp/$name.ready" "$OUT/$name.ready"
		echo "$name: $(cat "$OUT/$name.ready")"
		if grep -q 'ready_ns=-1' "/tmp/$name.ready"; then
			wait $h
			echo "$name: never ready (rc $?)" | tee -a $OUT/errors.txt
			return
		fi
	fi
	before=$(vm)
	w0=$(now_ms)
	workload
	w1=$(now_ms)
	after=$(vm)
	rc=0
	if [ -n "$h" ]; then
		kill -INT $h
		wait $h
		rc=$?
	fi
	s1=$(now_ms)
	echo "$name $rc $before $after $((w1 - w0)) $((s1 - w1))" | tee -a $OUT/cases.txt
}

# Attach time only: start, wait until ready, stop at once.
attach_round() { # name, round, ready option, then the command
	name=$1 round=$2 how=$3 what=$4
	shift 4
	# no stale result from the previous round for wait_file to find
	rm -f /tmp/attach.ready
	readytime "$how" "$what" -l /tmp/attach.log -r /tmp/attach.ready -t 500 -- "$@" &
	h=$!
	if ! wait_file /tmp/attach.ready $h || grep -q 'ready_ns=-1' /tmp/attach.ready; then
		wait $h
		echo "$name: attach round $round failed" | tee -a $OUT/errors.txt
		return
	fi
	s0=$(now_ms)
	kill -INT $h
	wait $h
	echo "$name $round $(sed -n 's/^ready_ns=\([0-9-]*\).*/\1/p' /tmp/attach.ready) $(($(now_ms) - s0))" |
		tee -a $OUT/attach.txt
}

tracer() { # runner (run_tracer|attach_round), its argument, tracer name
	f=$1 a=$2 t=$3
	# $a is unquoted on purpose: empty for run_tracer, the round otherwise
	# shellcheck disable=SC2086
	case "$t" in
	none) [ "$f" = run_tracer ] && run_tracer none - - ;;
	bpftrace-*) # /bench/pins-kfunc.bt, pins-kprobe.bt, pins-kfunc-stacks.bt
		$f "$t" $a -s 'pins.bt: ready' \
			env BPFTRACE_MAP_KEYS_MAX=$MAPKEYS bpftrace "/bench/pins-${t#bpftrace-}.bt" ;;
	pintrace)
		$f "$t" $a -f /tmp/pintrace.ready \
			pintrace --ready-file /tmp/pintrace.ready -o json -O /tmp/pt.ndjson ;;
	pintrace-kprobe)
		$f "$t" $a -f /tmp/pintrace.ready \
			pintrace --backend kprobe --ready-file /tmp/pintrace.ready -o json -O /tmp/pt.ndjson ;;
	*) echo "unknown tracer $t" | tee -a $OUT/errors.txt ;;
	esac
	if [ "$f" = run_tracer ]; then
		[ ! -e /tmp/pt.ndjson ] || mv /tmp/pt.ndjson "$OUT/$t.ndjson"
	else
		rm -f /tmp/pt.ndjson
	fi
}

for t in $TRACERS; do
	tracer run_tracer "" "$t"
done
r=1
while [ $r -le "$REPEAT" ]; do
	for t in $TRACERS; do
		tracer attach_round $r "$t"
	done
	r=$((r + 1))
done
[ ! -s $OUT/errors.txt ]
