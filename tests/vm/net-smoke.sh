#!/bin/sh
# Runs inside the test VM (busybox sh, as root), without pintrace: the socket
# workloads of pinload (splice-sock, zerocopy) over loopback and over veth
# between two network namespaces. Needs the veth module:
#
#   tools/vm/run.sh --kernel 6.1|6.12 --script tests/vm/net-smoke.sh --out DIR \
#       --add build/pinload:/bin/pinload --modules "veth" --timeout 300
#
# While each workload runs (its receiver does not read during --hold-ms),
# the TCP sockets of its network namespace are sampled every 0.5 s from
# /proc/PID/net/tcp (tx_queue:rx_queue: bytes held in skbs) with
# /proc/PID/net/sockstat. Per case NAME, /out gets NAME.json (pinload's
# result line), NAME.stderr, NAME.samples; /out/cases.txt: "NAME rc" and
# the peaks of the samples.
# Exit status: 1 if any case failed.
set -u
OUT=/out
fails=0

uname -r > $OUT/kernel.txt
{
	grep -w veth /proc/modules || echo "veth: not loaded"
	for k in net/core/optmem_max net/core/rmem_max net/core/wmem_max \
		net/ipv4/tcp_rmem net/ipv4/tcp_wmem net/ipv4/tcp_mem; do
		echo "$k: $(cat /proc/sys/$k)"
	done
	grep -E 'MemTotal|MemFree' /proc/meminfo
} > $OUT/env.txt

# One sample of the sockets of process $1 (and of its receiver child, which
# has its own network namespace under --netns).
sample() {
	echo "== t=$(cut -d' ' -f1 /proc/uptime) pid $1"
	for p in "$1" $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
		echo "-- pid $p net/tcp"
		cat "/proc/$p/net/tcp" 2>/dev/null
		echo "-- pid $p net/sockstat"
		cat "/proc/$p/net/sockstat" 2>/dev/null
	done
}

# Largest tx_queue and rx_queue (bytes) of an established socket, and TCP
# memory (pages, sockstat), over the samples in file $1.
peaks() {
	mt=0; mr=0; mm=0
	for q in $(awk '$4 == "01" { print $5 }' "$1"); do
		t=$((0x${q%:*})); r=$((0x${q#*:}))
		[ $t -gt $mt ] && mt=$t
		[ $r -gt $mr ] && mr=$r
	done
	for m in $(awk '$1 == "TCP:" { print $11 }' "$1"); do
		[ "$m" -gt "$mm" ] && mm=$m
	done
	echo "max_tx_queue=$mt max_rx_queue=$mr max_tcp_mem_pages=$mm"
}

# case name, expected exit status, then the command (pinload ...)
run_case() {
	name=$1; want=$2; shift 2
	"$@" > "$OUT/$name.json" 2> "$OUT/$name.stderr" &
	pid=$!
	: > "$OUT/$name.samples"
	while kill -0 $pid 2>/dev/null; do
		sample $pid >> "$OUT/$name.samples"
		sleep 0.5
	done
	wait $pid
	rc=$?
	echo "$name $rc $(peaks "$OUT/$name.samples")" >> $OUT/cases.txt
	echo "$name rc=$rc $(peaks "$OUT/$name.samples"): $(cat "$OUT/$name.json")"
	[ $rc -eq "$want" ] || fails=$((fails + 1))
}

# Does splice into TCP complete while nobody reads? Do the skbs hold our own
# pages (--rewrite: pages_rewritten)? Does zerocopy get copied (zc_copied)?
P=pinload
run_case splice-lo 0 $P splice-sock --pages 256 --hold-ms 2000
run_case splice-lo-rewrite 0 $P splice-sock --pages 256 --hold-ms 1000 --rewrite
run_case splice-veth 0 $P splice-sock --pages 256 --hold-ms 2000 --netns
run_case splice-veth-rewrite 0 $P splice-sock --pages 256 --hold-ms 1000 --netns --rewrite
run_case zc-lo 0 $P zerocopy --pages 256 --hold-ms 2000
run_case zc-lo-rewrite 0 $P zerocopy --pages 256 --hold-ms 1000 --rewrite
run_case zc-veth 0 $P zerocopy --pages 256 --hold-ms 2000 --netns
run_case zc-veth-rewrite 0 $P zerocopy --pages 256 --hold-ms 1000 --netns --rewrite
# A small receive buffer closes the window: the rest waits in the sender's
# queue, where zerocopy frags are not copied yet.
run_case splice-lo-sndq 0 $P splice-sock --pages 256 --hold-ms 1000 --rcvbuf 65536 --rewrite
run_case zc-lo-sndq 0 $P zerocopy --pages 256 --hold-ms 1000 --rcvbuf 65536 --rewrite
run_case zc-veth-sndq 0 $P zerocopy --pages 256 --hold-ms 1000 --rcvbuf 65536 --netns --rewrite
# Bigger: 16 MiB
run_case splice-lo-4096 0 $P splice-sock --pages 4096 --hold-ms 500
run_case zc-veth-4096 0 $P zerocopy --pages 4096 --hold-ms 500 --netns
# Short count: in a user namespace SO_SNDBUFFORCE fails, the send buffer
# stays at 2 * wmem_max and the closed window stalls the splice.
run_case splice-short 1 unshare -r $P splice-sock --pages 256 --rcvbuf 65536
grep -q '"failed_at":"splice-short"' $OUT/splice-short.json || fails=$((fails + 1))

# Nothing may be left behind: no veth in our namespace, no pinload.
{ ip link; ps; } > $OUT/after.txt 2>&1
if grep -q pinl $OUT/after.txt; then
	echo "leftover veth" >&2
	fails=$((fails + 1))
fi
echo "failed cases: $fails"
[ $fails -eq 0 ]
