#!/bin/sh
# Runs inside the test VM (busybox sh, as root): every workload under
# `pintrace run` with each backend, bracketed by the kernel's own pin
# counters. Results go to /out; the host checks them (check_pins.py).
set -u
OUT=/out
# Settings from the host (run-kernel.sh adds them as /etc/pintrace/pins.conf):
# BACKENDS, the backends every case runs with, and UNSUPPORTED, backends
# this kernel cannot attach: forcing one must fail cleanly.
BACKENDS=${BACKENDS:-"fentry kprobe"}
UNSUPPORTED=${UNSUPPORTED:-}
# shellcheck source=/dev/null
[ -f /etc/pintrace/pins.conf ] && . /etc/pintrace/pins.conf

uname -r > $OUT/kernel.txt
pintrace check > $OUT/check.txt 2>&1; echo $? > $OUT/check.rc
pintrace check --dump-facts > $OUT/facts.txt 2>&1

vm() {	# fold per-CPU deltas, then print "acquired released"
	echo 1 > /proc/sys/vm/stat_refresh
	awk '/^nr_foll_pin_acquired /{a=$2} /^nr_foll_pin_released /{r=$2} END{print a, r}' /proc/vmstat
}

wait_ready() {
	i=0
	while [ ! -e "$1" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
}

# Freed skbs of a reader on another CPU wait in that CPU's defer list until
# its next network softirq (net.core.skb_defer_max): their pages really stay
# referenced until then. Free them at once so that "nothing is held after
# the receiver read and closed" is decided by the workload, not by chance.
echo 0 > /proc/sys/net/core/skb_defer_max

# backend, case name, then the command to trace
run_case() {
	b=$1; name=$2; shift 2
	mode=
	case $name in
	*-stream) mode=--stream ;;
	*-nostacks) mode=--no-stacks ;;
	*-noop) mode=--noop-programs ;;
	esac
	before=$(vm)
	# shellcheck disable=SC2086 # mode: no argument, or one
	pintrace run --backend "$b" $mode -o json -O "$OUT/$b-$name.ndjson" -- "$@" \
		> "$OUT/$b-$name.pinload" 2> "$OUT/$b-$name.stderr"
	rc=$?
	after=$(vm)
	echo "$b $name $rc $before $after" >> $OUT/cases.txt
}

# A forced backend the kernel cannot attach (fentry on arm64 6.1): pintrace
# must refuse with its "unsupported" exit code and say why, before the
# workload starts.
for b in $UNSUPPORTED; do
	before=$(vm)
	pintrace run --backend "$b" -o json -O "$OUT/unsupported-$b.ndjson" -- pinload pvr --pages 8 \
		> "$OUT/unsupported-$b.pinload" 2> "$OUT/unsupported-$b.stderr"
	rc=$?
	echo "$b $rc $before $(vm)" >> $OUT/unsupported.txt
done

for b in $BACKENDS; do
	run_case "$b" pvr pinload pvr --pages 64
	run_case "$b" pvr-write pinload pvr --pages 32 --write
	run_case "$b" uring pinload uring --pages 64
	run_case "$b" uring-fault pinload uring --pages 8 --fault
	run_case "$b" vmsplice pinload vmsplice --pages 32 --drain
	run_case "$b" odirect pinload odirect --dev /dev/ram0 --pages 32
	run_case "$b" held pinload pvr --pages 16 --hold-ms 700
	# every event through the ring buffer instead of in-kernel counting
	run_case "$b" pvr-stream pinload pvr --pages 64
	run_case "$b" held-stream pinload pvr --pages 16 --hold-ms 700
	run_case "$b" odirect-stream pinload odirect --dev /dev/ram0 --pages 32
	# no stack walks: the same counts, no stacks
	run_case "$b" pvr-nostacks pinload pvr --pages 64
	# the benchmark floor: programs on the same hooks that do nothing
	run_case "$b" pvr-noop pinload pvr --pages 64
	run_case "$b" fork pinload fork-pvr --pages 16 --children 3
	run_case "$b" vmsplice-close pinload vmsplice --pages 16 --close
	run_case "$b" vmsplice-tee pinload vmsplice --pages 16 --drain --tee
	run_case "$b" vmsplice-full pinload vmsplice --pages 32 --pipe-pages 16 --drain
	# pipes that outlive the traced command: their holds are outstanding at exit
	run_case "$b" pipe-leak sh -c 'pinload vmsplice --pages 16 --hold-ms 4000 > /dev/null & sleep 2'
	wait
	run_case "$b" tee-leak sh -c 'pinload vmsplice --pages 16 --tee --hold-ms 4000 > /dev/null & sleep 2'
	wait
	# skb frag holds: pipe pages spliced into TCP (loopback), MSG_ZEROCOPY
	# over loopback and over veth between two namespaces, and zerocopy
	# frags left waiting in the sender's queue (small receive buffer)
	run_case "$b" splice-sock pinload splice-sock --pages 64 --hold-ms 1500
	run_case "$b" zerocopy pinload zerocopy --pages 64 --hold-ms 500
	run_case "$b" zerocopy-veth pinload zerocopy --pages 64 --netns --hold-ms 500
	run_case "$b" zerocopy-queued pinload zerocopy --pages 256 --rcvbuf 65536 --hold-ms 1500
	# a send that fails on a PROT_NONE page: its frags are trimmed unhooked
	run_case "$b" zerocopy-fault pinload zerocopy --pages 64 --fault --hold-ms 1500
	# a socket that outlives the traced command keeps the spliced pages
	run_case "$b" sock-leak sh -c 'pinload splice-sock --pages 32 --hold-ms 4000 > /dev/null & sleep 2'
	wait
done

# pintrace leaks: periodic reports of holds older than --min-age
rm -f /tmp/ready
pintrace leaks --min-age 1s --interval 1s -d 5s -o json -O $OUT/leaks.ndjson --ready-file /tmp/ready \
	2> $OUT/leaks.stderr &
tracer=$!
wait_ready /tmp/ready
pinload splice-sock --pages 16 --hold-ms 3000 > $OUT/leaks.pinload &
pinload vmsplice --pages 8 --hold-ms 3000 > /dev/null &
wait $tracer
echo $? > $OUT/leaks.rc
wait


# Filters: pins of other processes running at the same time must not count.
cp /bin/pinload /bin/otherload
rm -f /tmp/ready
# the target starts once the tracer is live (attach takes seconds under TCG)
(wait_ready /tmp/ready; exec pinload pvr --pages 8 > /dev/null) &
target=$!
before=$(vm)
pintrace -p $target -d 8s -o json -O $OUT/filter-pid.ndjson --ready-file /tmp/ready \
	2> $OUT/filter-pid.stderr &
tracer=$!
wait_ready /tmp/ready
otherload pvr --pages 4 > /dev/null
wait $target
wait $tracer
echo "$? $before $(vm)" > $OUT/filter-pid.case

rm -f /tmp/ready
before=$(vm)
pintrace -n pinload -d 6s -o json -O $OUT/filter-comm.ndjson --ready-file /tmp/ready \
	2> $OUT/filter-comm.stderr &
tracer=$!
wait_ready /tmp/ready
otherload pvr --pages 4 > /dev/null
pinload pvr --pages 8 > /dev/null
wait $tracer
echo "$? $before $(vm)" > $OUT/filter-comm.case

# run-mode lifecycle: exit codes of a command that cannot start, one ended
# by --duration, and one that ignores SIGTERM (escalated to SIGKILL)
pintrace run -q -- /nonexistent/command > /dev/null 2>&1; echo "enoent $?" > $OUT/lifecycle.txt
pintrace run -q -d 1s -- sleep 100 > /dev/null 2>&1; echo "duration $?" >> $OUT/lifecycle.txt
pintrace run -q -d 1s -- sh -c 'trap "" TERM; sleep 30' > /dev/null 2>&1
echo "ignores-term $?" >> $OUT/lifecycle.txt

# Attach fallback in auto mode: attaching fentry to the unpin chokepoint is
# made to fail (as fentry attach fails on arm64 6.1); pintrace must load the
# programs again with a kprobe for that hook alone and still count exactly.
before=$(vm)
PINTRACE_FAULT_ATTACH=fentry:gup_put_folio pintrace run --backend auto -o json \
	-O $OUT/fallback.ndjson -- pinload pvr --pages 64 > $OUT/fallback.pinload 2> $OUT/fallback.stderr
rc=$?
after=$(vm)
echo "$rc $before $after" > $OUT/fallback.txt

# System-wide mode (no filter) with a text stream, for the held-long line
# and the human-readable output.
before=$(vm)
rm -f /tmp/ready
pintrace -d 6s --backend auto --ready-file /tmp/ready > $OUT/system.txt 2> $OUT/system.stderr &
tracer=$!
wait_ready /tmp/ready
pinload pvr --pages 16 --hold-ms 700 > /dev/null
wait $tracer
echo $? > $OUT/system.rc
after=$(vm)
echo "$before $after" > $OUT/system.vm
exit 0
