#!/bin/sh
# Runs inside the arm64 test VM booted with 3 GiB, cma=64M hugetlb_cma=1G
# (busybox sh, as root): the CMA scenarios of the arm64 CMA study
# (/work/shared/reference/arm64-cma.md §6 A, §6 C, §7) under `pintrace run`
# with each backend:
#   cma-uring    anon pages in hugetlb_cma registered as io_uring buffers:
#                migrated out first (reason longterm_pin)
#   cma-hugepin  a 32 MiB hugetlb page in hugetlb_cma registered: -ENOMEM
#   cma-hold     one page per 32 MiB window held by a pipe of a child;
#                gigantic page requests fail (busy retries), then succeed
#                once the pipes are drained
# Ground truth is the kernel's: the CMA area from its boot log, /proc/vmstat
# deltas, the cma:* and migrate:* tracepoints through tracefs, and the
# syscall results pinload saw. The host checks pintrace against them
# (check_cma.py).
set -u
OUT=/out
BACKENDS=${BACKENDS:-"fentry kprobe"}
# shellcheck source=/dev/null
[ -f /etc/pintrace/pins.conf ] && . /etc/pintrace/pins.conf

uname -r > $OUT/kernel.txt
cat /proc/cmdline > $OUT/cmdline.txt
cat /proc/meminfo > $OUT/meminfo.txt
dmesg > $OUT/dmesg.txt
pintrace check > $OUT/check.txt 2>&1; echo $? > $OUT/check.rc

# The hugetlb_cma area, from the kernel's own boot log: the 1024 MiB one.
# 6.1: "cma: Reserved 1024 MiB at 0x00000000bf800000"; 6.12 adds " on node -1".
addr=$(sed -n 's/.*cma: Reserved 1024 MiB at \(0x[0-9a-fA-F]*\).*/\1/p' $OUT/dmesg.txt | head -n 1)
if [ -z "$addr" ]; then
	echo "no 'cma: Reserved 1024 MiB at' line in dmesg (hugetlb_cma=1G, --mem 3072?)" > $OUT/error.txt
	exit 1
fi
PFNS=$(printf '0x%x:%d' $((addr / 4096)) $((1024 * 256)))
echo "$addr $PFNS" > $OUT/area.txt

# The kernel's own account of CMA allocations and migrations.
T=/sys/kernel/tracing
[ -e $T/trace ] || mount -t tracefs tracefs $T
echo 8192 > $T/buffer_size_kb
for e in cma/cma_alloc_busy_retry cma/cma_alloc_finish migrate/mm_migrate_pages; do
	echo 1 > $T/events/$e/enable || echo "cannot enable $e" >> $OUT/error.txt
done

vmstat() {	# the counters the checks need, per-CPU deltas folded first
	echo 1 > /proc/sys/vm/stat_refresh
	grep -E '^(pgmigrate_success|pgmigrate_fail|cma_alloc_success|cma_alloc_fail|nr_foll_pin_acquired|nr_foll_pin_released|nr_free_cma) ' /proc/vmstat
}

# backend, case name, then the command to trace
run_case() {
	b=$1; name=$2; shift 2
	echo > $T/trace
	vmstat > "$OUT/$b-$name.vmstat0"
	t0=$(cut -d' ' -f1 /proc/uptime)
	pintrace run --backend "$b" --min-hold 300ms -o json -O "$OUT/$b-$name.ndjson" -- "$@" \
		> "$OUT/$b-$name.pinload" 2> "$OUT/$b-$name.stderr"
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	vmstat > "$OUT/$b-$name.vmstat1"
	cat $T/trace > "$OUT/$b-$name.trace"
	echo "$b $name $rc $t0 $t1" >> $OUT/cases.txt
}

first=
for b in $BACKENDS; do
	run_case "$b" cma-uring pinload cma-uring --pfns "$PFNS" --pages 256
	run_case "$b" cma-hugepin pinload cma-hugepin --pfns "$PFNS"
	run_case "$b" cma-hold pinload cma-hold --pfns "$PFNS"
	# text output of cma-hold, for a human (once)
	if [ -z "$first" ]; then
		first=$b
		pintrace run --backend "$b" --min-hold 300ms -- pinload cma-hold --pfns "$PFNS" \
			> "$OUT/$b-cma-hold.txt" 2>&1
		echo "$b $?" > $OUT/text.txt
	fi
done
for e in cma/cma_alloc_busy_retry cma/cma_alloc_finish migrate/mm_migrate_pages; do
	echo 0 > $T/events/$e/enable
done
cat /proc/meminfo > $OUT/meminfo-end.txt
