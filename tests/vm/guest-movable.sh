#!/bin/sh
# Runs inside the test VM booted with movablecore=60% (busybox sh, as root):
# long-term pins of ZONE_MOVABLE memory, migration failures caused by a
# pipe holding the pages, and memory offline blocked by that pipe, under
# `pintrace run` with each backend. The kernel's counters (pgmigrate_*,
# the syscall results pinload reports) are the ground truth; the host
# checks pintrace's records against them (check_movable.py).
set -u
OUT=/out
BACKENDS=${BACKENDS:-"fentry kprobe"}

uname -r > $OUT/kernel.txt
cat /proc/zoneinfo > $OUT/zoneinfo.txt
cat /proc/cmdline > $OUT/cmdline.txt

mig() {	# "success fail" of /proc/vmstat pgmigrate_*
	awk '/^pgmigrate_success /{s=$2} /^pgmigrate_fail /{f=$2} END{print s, f}' /proc/vmstat
}

# backend, case name, then the command to trace
run_case() {
	b=$1; name=$2; shift 2
	before=$(mig)
	pintrace run --backend "$b" --min-hold 300ms -o json -O "$OUT/$b-$name.ndjson" -- "$@" \
		> "$OUT/$b-$name.pinload" 2> "$OUT/$b-$name.stderr"
	rc=$?
	after=$(mig)
	echo "$b $name $rc $before $after" >> $OUT/cases.txt
}

for b in $BACKENDS; do
	# control: a movable buffer registered as io_uring fixed buffers is migrated first
	run_case "$b" uring-movable pinload uring --pages 256 --keep-ms 200
	# the seed's case (d): the same buffer, first vmspliced into a pipe nobody reads
	run_case "$b" uring-pipe pinload uring --pages 256 --pipe --hold-ms 200
	# offlining the block fails while the pipe holds pages in it, then succeeds
	run_case "$b" offline pinload offline --pages 64 --hold-ms 200 --offline-ms 2000
	# a reference held past --min-hold on movable memory is flagged; a quick one is not
	run_case "$b" held-movable pinload vmsplice --pages 16 --hold-ms 1000 --drain
	run_case "$b" quick-movable pinload vmsplice --pages 16 --drain
	# a short-term pin held past --min-hold on movable memory
	run_case "$b" held-pin pinload pvr --pages 16 --hold-ms 1000
	# text output of case (d), for a human
	pintrace run --backend "$b" -- pinload uring --pages 256 --pipe > $OUT/$b-uring-pipe.txt 2>&1
done

# Calibration by GUP, the path for kernels that export no vmemmap_base
PINTRACE_CALIBRATE=gup pintrace run --backend fentry --min-hold 300ms -o json \
	-O $OUT/calib-gup.ndjson -- pinload vmsplice --pages 16 --hold-ms 1000 --drain \
	> $OUT/calib-gup.pinload 2> $OUT/calib-gup.stderr
echo $? > $OUT/calib-gup.rc

# The CI gate (--fail-on): exit 3 exactly when the workload misbehaves.
gate() {	# name, conditions, then the command
	name=$1; conds=$2; shift 2
	pintrace run --fail-on "$conds" -o json -O "$OUT/gate-$name.ndjson" -- "$@" \
		> "$OUT/gate-$name.pinload" 2> "$OUT/gate-$name.stderr"
	echo "$name $?" >> $OUT/gate.txt
}
gate good all pinload uring --pages 64 --keep-ms 100
gate quick held-long,leak,migrate-fail pinload pvr --pages 16
gate migrate-fail migrate-fail pinload uring --pages 256 --pipe
gate held-long held-long pinload pvr --pages 16 --hold-ms 1000
gate leak leak sh -c 'pinload vmsplice --pages 16 --hold-ms 3000 > /dev/null & sleep 1'
wait
