#!/usr/bin/env bash
# bpftrace vs pintrace in the VM test bed: Debian's bpftrace 0.17 running
# tools/bench/gen-pins-bt.sh's script, and pintrace, each system-wide over
# the same pinload workload; attach times and pin/unpin counts against the
# kernel's nr_foll_pin_* (tools/bench/check-bpftrace-smoke.py).
#
#   tools/bench/bpftrace-smoke.sh [--iter N] [--pages N] [--uring N] [--repeat N]
#       [--tracers "none bpftrace-kfunc bpftrace-kfunc-stacks bpftrace-kprobe pintrace pintrace-kprobe"]
#       [--out DIR] [VER...]                      (default: 6.1 6.12)
#
# Every VM boot holds /tmp/pintrace-vm.lock (VMs never overlap on this host).
# Builds into $OUTPUT (default build-bt): a static pintrace, pinload and
# readytime. Results: DIR/<VER>/ (the guest's /out) and DIR/<VER>.json.
# --repeat N: N more attach-only rounds per tracer (attach time statistics).
# Attach times under TCG move with the host's load (2 cores shared with
# builds): DIR/<VER>/host-load.txt has the load average before and after.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUTPUT=${OUTPUT:-build-bt}
iter=200 pages=16 uring=20 repeat=3 tracers="none bpftrace-kfunc bpftrace-kfunc-stacks bpftrace-kprobe pintrace pintrace-kprobe"
out=$OUTPUT/bpftrace-smoke
vers=()
while (($#)); do
	case "$1" in
	--iter) iter=$2; shift ;;
	--pages) pages=$2; shift ;;
	--uring) uring=$2; shift ;;
	--repeat) repeat=$2; shift ;;
	--tracers) tracers=$2; shift ;;
	--out) out=$2; shift ;;
	6.1 | 6.12) vers+=("$1") ;;
	*) echo "usage: $0 [--iter N] [--pages N] [--uring N] [--repeat N] [--tracers LIST] [--out DIR] [6.1] [6.12]" >&2; exit 2 ;;
	esac
	shift
done
((${#vers[@]})) || vers=(6.1 6.12)

make -s OUTPUT="$OUTPUT/static" STATIC=1 "$OUTPUT/static/pintrace"
make -s OUTPUT="$OUTPUT" "$OUTPUT/pinload"
mkdir -p "$OUTPUT"
gcc -O2 -std=gnu11 -Wall -Wextra -Werror -static -o "$OUTPUT/readytime" tools/bench/readytime.c
cpio=$(tools/bench/bpftrace-root.sh)

rc=0
for v in "${vers[@]}"; do
	b=$OUTPUT/bench-$v
	rm -rf "${b:?}" "${out:?}/$v"
	mkdir -p "$b" "$out"
	tools/bench/gen-pins-bt.sh "$v" --backend kfunc >"$b/pins-kfunc.bt"
	tools/bench/gen-pins-bt.sh "$v" --backend kprobe >"$b/pins-kprobe.bt"
	tools/bench/gen-pins-bt.sh "$v" --backend kfunc --stacks >"$b/pins-kfunc-stacks.bt"
	printf 'ITER=%s\nPAGES=%s\nURING=%s\nREPEAT=%s\nTRACERS="%s"\n' \
		"$iter" "$pages" "$uring" "$repeat" "$tracers" >"$b/conf"
	# bpftrace's LLVM and the libraries are ~200 MB of initramfs: 1.5 GiB RAM.
	load0=$(cat /proc/loadavg)
	vm() {
		# shellcheck disable=SC2016 # expanded by that sh, not here
		flock /tmp/pintrace-vm.lock sh -c 'cat /proc/loadavg >"$0"; exec "$@"' "$b/load-start" \
			tools/vm/run.sh --kernel "$v" --quiet --mem 1536 --timeout 1800 \
			--script tools/bench/guest-bpftrace-smoke.sh --out "$out/$v" --cpio "$cpio" \
			--add "$b:/bench" --add "$OUTPUT/readytime:/bin/readytime" \
			--add "$OUTPUT/pinload:/bin/pinload" --add "$OUTPUT/static/pintrace:/bin/pintrace"
	}
	# Under TCG a guest occasionally oopses on an int3 while the kernel
	# patches its own text (seen once per ~20 attach/detach cycles, in a
	# static key of the syscall exit path): boot once more after a panic,
	# keeping the first console log.
	if ! vm; then
		if grep -q 'Kernel panic' "$out/$v/console.log" 2>/dev/null; then
			echo "# Debian $v: the guest kernel panicked; booting again (console-panic.log)" >&2
			mv "$out/$v" "$out/$v.panicked"
			vm || { echo "not ok - Debian $v: VM run failed (see $out/$v/console.log)"; rc=1; }
			mv "$out/$v.panicked/console.log" "$out/$v/console-panic.log" 2>/dev/null || true
			rm -rf "$out/$v.panicked"
		else
			echo "not ok - Debian $v: VM run failed (see $out/$v/console.log)"
			rc=1
		fi
	fi
	printf 'queued: %s\nboot:   %s\nend:    %s\n' "$load0" "$(cat "$b/load-start" 2>/dev/null)" \
		"$(cat /proc/loadavg)" >"$out/$v/host-load.txt" 2>/dev/null || true
	tools/bench/check-bpftrace-smoke.py "$out/$v" --json "$out/$v.json" || rc=1
done
exit $rc
