#!/usr/bin/env bash
# make bench-pipeline: the user-space pipeline alone. `pintrace replay` feeds
# a recorded stream through the same code as live tracing (pin table,
# summary, holds, output), pinned to one core; no BPF, no root.
#   tools/bench/pipeline.sh [--stream FILE] [--events N] [--rounds N] [--cpu N]
# Without --stream, a deterministic synthetic stream of N events (10M) from
# tools/bench/gen-stream.c is made once and kept in $OUTPUT/bench/, and the
# replayed summary is checked against the generator's totals.
# Prints key=value lines; rates are the best of --rounds (3) runs:
#   summary_eps   events/s, summary only (-q): matching and aggregation
#   json_eps      events/s, NDJSON for every event, to /dev/null
#   text_eps      events/s, the text stream, to /dev/null
#   *_cpu_eps     the same per second of CPU time (less noisy on a busy host)
#   *_rss_kib     peak RSS of that replay
set -euo pipefail
cd "$(dirname "$0")/../.."
OUTPUT=${OUTPUT:-build}
PT=$OUTPUT/pintrace
GEN=$OUTPUT/gen-stream
B=$OUTPUT/bench
STREAM=
EVENTS=10M
ROUNDS=3
CPU=$(($(nproc) - 1))
usage() {
	echo "usage: tools/bench/pipeline.sh [--stream FILE] [--events N] [--rounds N] [--cpu N]" >&2
	exit 2
}
while (($#)); do
	case $1 in
	--stream) STREAM=$2; shift ;;
	--events) EVENTS=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--cpu) CPU=$2; shift ;;
	*) usage ;;
	esac
	shift
done
[[ -x $PT ]] || { echo "pipeline.sh: no $PT (make OUTPUT=$OUTPUT)" >&2; exit 1; }
mkdir -p "$B"

expect=
if [[ -z $STREAM ]]; then
	[[ -x $GEN ]] || { echo "pipeline.sh: no $GEN (make OUTPUT=$OUTPUT $GEN)" >&2; exit 1; }
	STREAM=$B/synthetic-$EVENTS.ptrec
	expect=$STREAM.expect
	# regenerated when the generator (or the record format it links) changed
	if [[ ! -s $STREAM || ! -s $expect || $GEN -nt $expect ]]; then
		echo "pipeline.sh: generating $EVENTS synthetic events into $STREAM" >&2
		"$GEN" -n "$EVENTS" "$STREAM" > "$expect.tmp"
		mv "$expect.tmp" "$expect"
	fi
fi
[[ -r $STREAM ]] || { echo "pipeline.sh: cannot read $STREAM" >&2; exit 1; }
echo "stream=$STREAM"
echo "stream_bytes=$(stat -c %s "$STREAM")"
echo "cpu=$CPU"

# One replay on one core; its -v line gives records, wall and CPU time, RSS.
# "pintrace: replayed N records in W s (cpu C s): R records/s, peak RSS K KiB"
run() {
	local err=$B/pipeline-replay.err
	taskset -c "$CPU" "$PT" replay "$STREAM" -v "$@" 2> "$err" || {
		echo "pipeline.sh: replay failed:" >&2
		cat "$err" >&2
		return 1
	}
	sed -n 's/^pintrace: replayed \([0-9]*\) records in \([0-9.]*\) s (cpu \([0-9.]*\) s).*peak RSS \([0-9]*\) KiB$/\1 \2 \3 \4/p' "$err"
}

# Best of ROUNDS: the fastest run is the one the rest of the host disturbed least.
measure() {
	local mode=$1 best=0 bestcpu=0 rss=0 n=0 w c k i
	shift
	for ((i = 0; i < ROUNDS; i++)); do
		read -r n w c k < <(run "$@")
		best=$(awk -v n="$n" -v w="$w" -v b="$best" 'BEGIN { r = w > 0 ? n / w : 0; print (r > b ? r : b) }')
		bestcpu=$(awk -v n="$n" -v c="$c" -v b="$bestcpu" 'BEGIN { r = c > 0 ? n / c : 0; print (r > b ? r : b) }')
		((k > rss)) && rss=$k
	done
	events=$n
	printf '%s_eps=%.0f\n%s_cpu_eps=%.0f\n%s_rss_kib=%s\n' "$mode" "$best" "$mode" "$bestcpu" "$mode" "$rss"
}

measure summary -q -O /dev/null
measure json -o json -O /dev/null
measure text -o text -O /dev/null
echo "stream_events=$events"

# The synthetic stream's totals are known: the replayed summary must agree.
if [[ -n $expect ]]; then
	taskset -c "$CPU" "$PT" replay "$STREAM" -q -o json -O "$B/pipeline-summary.json"
	python3 - "$expect" "$B/pipeline-summary.json" <<'EOF'
import json, sys
exp = dict(l.strip().split("=", 1) for l in open(sys.argv[1]) if "=" in l)
exp = {k: int(v) for k, v in exp.items()}
s = [json.loads(l) for l in open(sys.argv[2])]
s = next(r for r in s if r.get("type") == "summary")
got = {
    "pin_refs": s["pins"]["acquired_refs"],
    "unpin_refs": s["pins"]["released_refs"],
    "outstanding_pin_refs": s["pins"]["outstanding_refs"],
    "get_refs": s["get_refs"],
    "calls": s["calls"],
    "call_failures": s["call_failures"],
    "pipe_taken": s["pipe_holds"]["taken"],
    "pipe_teed": s["pipe_holds"]["teed"],
    "pipe_released": s["pipe_holds"]["released"],
    "outstanding_pipe_refs": s["pipe_holds"]["outstanding_refs"],
}
bad = [f"{k} {got[k]}!={exp[k]}" for k in got if got[k] != exp[k]]
bad += [f"preexisting {s['pins']['preexisting']}"] if s["pins"]["preexisting"] else []
bad += [f"lost {s['loss']['total']}"] if s["loss"]["total"] else []
print("check=" + ("ok" if not bad else "FAILED:" + ",".join(bad)))
sys.exit(1 if bad else 0)
EOF
fi

# The pin table alone (tests/unit/bench_pintable.c), for comparison.
if [[ -x $OUTPUT/bench_pintable ]]; then
	taskset -c "$CPU" "$OUTPUT/bench_pintable" |
		sed -n 's/.* \([0-9.]*\) M ops\/s$/pintable_mops=\1/p'
fi
