#!/usr/bin/env bash
# Host tests of the command line and of the "cannot trace this kernel" path.
# They run on any machine; cases that depend on what the running kernel
# allows say so and check the branch that applies.
set -uo pipefail
PT=${1:-build/pintrace}
FIX=$(dirname "$0")/../fixtures
n=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; }
expect() {	# expect CODE DESC -- CMD...: exit status and output kept in $out
	local code=$1 desc=$2
	shift 3
	out=$("$@" 2>&1)
	local rc=$?
	if ((rc == code)); then ok "$desc"; else nok "$desc (exit $rc, wanted $code): $out"; fi
}
contains() {	# contains DESC PATTERN: in the last $out
	if grep -qE -- "$2" <<<"$out"; then ok "$1"; else nok "$1: no /$2/ in: $out"; fi
}

expect 0 "--help exits 0" -- "$PT" --help
contains "--help documents exit codes" "Exit codes"
contains "--help documents the --fail-on exit code" "3 a --fail-on condition hit"
contains "--help documents --no-bpf-stats" "--no-bpf-stats +leave the kernel's BPF run-time stats off"
expect 2 "--no-bpf-stats takes no argument" -- "$PT" --no-bpf-stats=1
expect 0 "--version exits 0" -- "$PT" --version
expect 2 "unknown option is a usage error" -- "$PT" --bogus
contains "unknown option is named" "bogus"
expect 2 "bad --backend is a usage error" -- "$PT" --backend magic
expect 2 "bad --duration is a usage error" -- "$PT" -d 5parsecs
expect 2 "bad --pid is a usage error" -- "$PT" -p -3
expect 2 "too long --comm is a usage error" -- "$PT" -n 0123456789abcdefXYZ
expect 2 "ringbuf size must be a power of two" -- "$PT" --ringbuf-size 5000
expect 2 "run without a command is a usage error" -- "$PT" run
expect 2 "unknown subcommand is a usage error" -- "$PT" frobnicate
contains "unknown subcommand: lists leaks among the commands" "trace, run, leaks, check"
expect 0 "--help exits 0 (leaks)" -- "$PT" leaks --help
contains "--help documents pintrace leaks" "pintrace leaks \[--min-age DUR\] \[--interval DUR\]"
expect 2 "leaks: bad --min-age is a usage error" -- "$PT" leaks --min-age soon
contains "leaks: bad --min-age is named" "invalid --min-age 'soon'"
expect 2 "leaks: bad --interval is a usage error" -- "$PT" leaks --interval 10parsecs
contains "leaks: bad --interval is named" "invalid --interval '10parsecs'"
expect 2 "leaks: a stray argument is a usage error" -- "$PT" leaks stray
expect 2 "leaks: --facts is a usage error" -- "$PT" leaks --facts /dev/null
expect 2 "--facts outside check is a usage error" -- "$PT" --facts /dev/null
expect 2 "run: unknown --fail-on condition is a usage error" -- "$PT" run --fail-on leak,oops -- true
contains "run: the unknown --fail-on condition is named, the valid ones listed" "condition 'oops' \(longterm-movable, longterm-cma, migrate-fail, leak, held-long, lost, all\)"
expect 2 "run: negative --max-lost is a usage error" -- "$PT" run --max-lost -1 -- true
expect 2 "check: --fail-on is a usage error" -- "$PT" check --fail-on leak
expect 2 "unreadable facts file is a usage error" -- "$PT" check --facts /nonexistent

# Planning from recorded facts of real kernels (no root needed).
for k in 6.1 6.12; do
	expect 0 "check: Debian $k facts are traceable" -- "$PT" check --facts "$FIX/facts-$k.txt"
	contains "check: Debian $k plan attaches gup_put_folio" "^gup_put_folio +gup_put_folio +fentry>kprobe"
	if [[ $k == 6.1 ]]; then
		contains "check: 6.1 plan attaches try_grab_page" "^try_grab_page +try_grab_page +fentry>kprobe"
		contains "check: 6.1 plan: 7-argument API is kprobe-only" "^pin_user_pages_remote +pin_user_pages_remote +kprobe +fentry: 7 arguments"
	else
		contains "check: 6.12 plan attaches the folio grab" "^try_grab_folio +try_grab_folio +fentry>kprobe"
		contains "check: 6.12 plan attaches the fast grab" "^try_grab_folio_fast +try_grab_folio_fast +fentry>kprobe"
	fi
done
expect 4 "check: a locked-down kernel without kprobes is unsupported (exit 4)" -- \
	"$PT" check --facts "$FIX/facts-6.18-locked.txt"
contains "unsupported: names the fentry refusal" "refuses fentry programs"
contains "unsupported: names the missing kprobes" "CONFIG_KPROBES is not set"
contains "unsupported: says what would help" "What would help"

# Non-root users get a clear message, not a libbpf error.
if command -v setpriv >/dev/null && [[ $(id -u) == 0 ]]; then
	expect 1 "non-root: exit 1" -- setpriv --reuid=65534 --regid=65534 --clear-groups "$PT" -d 1s
	contains "non-root: says root is needed" "needs root"
	expect 1 "non-root: leaks exits 1" -- setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$PT" leaks --interval 0 -d 1s
	contains "non-root: leaks says root is needed" "needs root"
else
	echo "ok - non-root case skipped: needs root and setpriv # SKIP"
fi

# This machine's kernel: if it cannot attach, pintrace must say exactly why.
if [[ $(id -u) == 0 ]]; then
	facts=$("$PT" check --dump-facts 2>&1)
	if grep -q '^fentry 0' <<<"$facts" && grep -q '^kprobe 0' <<<"$facts"; then
		expect 4 "this kernel cannot attach: exit 4" -- "$PT" -d 1s
		contains "this kernel: names the fentry problem" "fentry/fexit: .+"
		contains "this kernel: names the kprobe problem" "kprobes: .+"
		expect 4 "this kernel: check says unsupported too" -- "$PT" check
		expect 4 "this kernel: leaks cannot attach either: exit 4" -- \
			"$PT" leaks --min-age 1s --interval 0 -d 1s
		contains "this kernel: leaks names the fentry problem" "fentry/fexit: .+"
		contains "this kernel: leaks names the kprobe problem" "kprobes: .+"
		expect 4 "this kernel: leaks -o json exits 4 too" -- "$PT" leaks -o json -d 1s
		expect 4 "this kernel: --no-bpf-stats takes the same path (exit 4)" -- \
			"$PT" --no-bpf-stats -o json -d 1s
		expect 4 "this kernel: run mode refuses before starting the command" -- \
			"$PT" run -- touch /tmp/pintrace-should-not-exist.$$
		if [[ -e /tmp/pintrace-should-not-exist.$$ ]]; then
			nok "run mode must not start the command on an untraceable kernel"
			rm -f /tmp/pintrace-should-not-exist.$$
		else
			ok "run mode did not start the command"
		fi
	else
		echo "ok - this kernel can attach: untraceable-host cases skipped # SKIP"
	fi
fi

# The NDJSON schema (include/pintrace-ndjson.schema.json): it matches the
# code, accepts every record pintrace writes (rendered here by replaying a
# recording of every kind of event; recorded in the VMs), and rejects what it
# does not describe. Without python3-jsonschema these fail, not skip.
SD=$(dirname "$0")/../schema
SCHEMA=$(dirname "$0")/../../include/pintrace-ndjson.schema.json
python3 "$SD/check_schema.py" || true	# its own ok/not ok lines
st=$(mktemp -d)
expect 0 "schema: recorded VM output (6.1, 6.12; fentry, kprobe) is valid" -- \
	python3 "$SD/validate.py" "$SCHEMA" "$FIX"/ndjson/*.ndjson
if python3 "$SD/mkrec.py" "$st/all.rec"; then
	expect 0 "schema: pintrace replay -o json of every kind of event exits 0" -- \
		"$PT" replay "$st/all.rec" -o json -O "$st/replay.ndjson"
	expect 0 "schema: pintrace's own records (replay) are valid" -- \
		python3 "$SD/validate.py" "$SCHEMA" "$st/replay.ndjson"
	for t in pin ref unpin call pipe_hold pipe_release held_long skb_hold skb_release \
		zerocopy_done migrate_fail pin_fail pin_fail_errno range summary; do
		grep -q "\"type\":\"$t\"" "$st/replay.ndjson" || nok "schema: the replay has no $t record"
	done
	expect 3 "schema: replay -q --fail-on all exits 3 (a verdict in the summary)" -- \
		"$PT" replay "$st/all.rec" -o json -q --fail-on all -O "$st/quiet.ndjson"
	expect 0 "schema: its records (-q, verdict) are valid" -- \
		python3 "$SD/validate.py" "$SCHEMA" "$st/quiet.ndjson"
else
	nok "schema: tests/schema/mkrec.py wrote a recording"
fi
if [[ -f $FIX/diff/base.ndjson && -f $FIX/diff/regressed.ndjson ]]; then
	"$PT" diff -o json "$FIX/diff/base.ndjson" "$FIX/diff/regressed.ndjson" > "$st/diff.ndjson"
	expect 0 "schema: pintrace diff -o json output is valid" -- \
		python3 "$SD/validate.py" "$SCHEMA" "$st/diff.ndjson"
fi
# what this machine's pintrace writes live: nothing where it cannot attach
"$PT" -o json -d 1s > "$st/live.ndjson" 2>/dev/null
if [[ -s $st/live.ndjson ]]; then
	expect 0 "schema: this host's live -o json output is valid" -- \
		python3 "$SD/validate.py" "$SCHEMA" "$st/live.ndjson"
else
	ok "schema: this host's pintrace -o json wrote no partial records (it cannot trace here)"
fi
# the validator fails: a wrong type, an undocumented field, an empty file
rec=$(grep -m1 '"type":"unpin"' "$FIX/ndjson/vm-records.ndjson")
{ head -1 "$FIX/ndjson/vm-records.ndjson"; sed 's/"tid":\([0-9]*\)/"tid":"\1"/' <<<"$rec"; } \
	> "$st/bad-type.ndjson"
sed 's/^{/{"undocumented":1,/' <<<"$rec" > "$st/extra.ndjson"
: > "$st/empty.ndjson"
expect 1 "schema: a field of the wrong type is rejected" -- \
	python3 "$SD/validate.py" "$SCHEMA" "$st/bad-type.ndjson"
contains "schema: ... named by file:line, record type and path" \
	"bad-type.ndjson:2: type=unpin: \\\$\\.tid: '[0-9]+' is not of type 'integer'"
expect 1 "schema: an undocumented field is rejected" -- \
	python3 "$SD/validate.py" "$SCHEMA" "$st/extra.ndjson"
contains "schema: ... and named" "extra.ndjson:1: type=unpin: \\\$: Additional properties .*'undocumented'"
expect 1 "schema: an empty file is rejected" -- python3 "$SD/validate.py" --tap "$SCHEMA" "$st/empty.ndjson"
contains "schema: ... as a TAP failure" "^not ok - schema: .*empty.ndjson: no records"
rm -rf "$st"

# pintrace replay: a committed recording through the live pipeline, no root
# needed. Made by `build/gen-stream -n 400 -s 371 -g 20M` (tools/bench/), whose
# totals are the numbers below; regenerate both if struct pt_event changes.
REC=$FIX/replay-small.ptrec
rt=$(mktemp -d)
expect 0 "replay: the fixture recording replays" -- "$PT" replay "$REC" -q
contains "replay: pins, unpins by class, none pre-existing, outstanding" \
	"^Pins taken: 229 refs; unpinned: 228 \(short 227, held-long 1, longterm 0\); pre-existing unpins: 0; outstanding: 1$"
contains "replay: FOLL_GET references" "^References taken \(FOLL_GET\): 78 "
contains "replay: pipe holds taken, tee'd, released, outstanding" \
	"^Pipe holds \(vmsplice references\): taken 61, tee'd 2, released 51, outstanding 12$"
contains "replay: calls and failures per API" "^  pin_user_pages_fast +[0-9]+ +0 +0 +[0-9]+ +[0-9]+ +2 +0$"
contains "replay: the held-long pin is reported even with -q" "HELD .* held 3[0-9.]+ms \(> --min-hold\)"
contains "replay: nothing lost" "^Loss: .* bad records 0$"
if grep -qE "^[0-9.]+ +[^ ]+ +[0-9]+ +[0-9]+ +(PIN|UNPIN|REF|CALL) " <<<"$out"; then
	nok "replay: -q prints no event stream"
else
	ok "replay: -q prints no event stream"
fi
expect 0 "replay: options may follow the file (-o json)" -- \
	"$PT" replay "$REC" -o json -O "$rt/replay.ndjson"
out=$(grep -c '"type":"unpin"' "$rt/replay.ndjson")
if [[ $out == 119 ]]; then ok "replay: one unpin record per UNPIN event"; else nok "replay: $out unpin records, wanted 119"; fi
out=$(grep '"type":"summary"' "$rt/replay.ndjson")
contains "replay: JSON summary agrees" '"pins":\{"acquired_refs":229,"released_refs":228,"short":227,"held_long":1,"longterm":0,"preexisting":0,"outstanding_refs":1'
contains "replay: JSON summary has the calls" '"calls":30,"call_failures":2'
expect 3 "replay: --fail-on held-long applies to a recording (exit 3)" -- \
	"$PT" replay "$REC" -q --fail-on held-long
# damaged recordings: a clear error with the offset, exit 1, never a crash
head -c 20000 "$REC" > "$rt/cut.ptrec"
expect 1 "replay: a truncated recording is an error (exit 1)" -- "$PT" replay "$rt/cut.ptrec" -q
contains "replay: ... naming the torn record's offset" "truncated record at offset 19960: 40 of its 132 bytes"
contains "replay: ... and still summarising what came before" "^Pins taken: "
{ printf 'PTREK'; tail -c +6 "$REC"; } > "$rt/magic.ptrec"
expect 1 "replay: a file that is no recording is refused (exit 1)" -- "$PT" replay "$rt/magic.ptrec"
contains "replay: ... saying so at offset 0" "bad magic at offset 0"
{ head -c 8 "$REC"; printf '\x09\x00'; tail -c +11 "$REC"; } > "$rt/newer.ptrec"
expect 1 "replay: a newer format version is refused (exit 1)" -- "$PT" replay "$rt/newer.ptrec"
contains "replay: ... naming the version" "format version 9 at offset 8"
expect 1 "replay: a missing file is an error (exit 1)" -- "$PT" replay "$rt/none.ptrec"
expect 2 "replay: no file is a usage error" -- "$PT" replay
expect 2 "replay: --record makes no sense there" -- "$PT" replay "$REC" --record "$rt/x"
expect 2 "replay: -p belongs to tracing" -- "$PT" replay "$REC" -p 1
expect 2 "check: --record is a usage error" -- "$PT" check --record "$rt/x"
if command -v setpriv >/dev/null && [[ $(id -u) == 0 ]]; then
	expect 0 "replay: works without root (from stdin)" -- bash -c \
		'setpriv --reuid=65534 --regid=65534 --clear-groups "$0" replay - -q < "$1"' "$PT" "$REC"
	contains "replay: ... with the same summary" "^Pins taken: 229 refs"
else
	echo "ok - replay without root skipped: needs root and setpriv # SKIP"
fi
rm -rf "$rt"

# pintrace diff: two runs' summaries (tests/fixtures/diff/, written by the
# real summary code), no root and no kernel needed.
DF=$FIX/diff
expect 0 "diff: --help exits 0" -- "$PT" diff --help
contains "diff: --help documents the limits and their defaults" "hold-p99 +99th percentile.*\[2x\]"
expect 0 "diff: a run against itself has no regression (exit 0)" -- \
	"$PT" diff "$DF/base.ndjson" "$DF/base.ndjson"
contains "diff: ... and says so" "^no regression$"
expect 0 "diff: the summary object alone is a run too" -- \
	"$PT" diff "$DF/base.ndjson" "$DF/base-summary.json"
expect 0 "diff: a rebuilt kernel within the limits passes" -- \
	"$PT" diff "$DF/base.ndjson" "$DF/rebuilt.ndjson"
contains "diff: ... its stacks matched by function names" "^ +4096 +4300 +\+5\.0% +\+20% +ok$"
expect 3 "diff: a regressed run exits 3" -- "$PT" diff "$DF/base.ndjson" "$DF/regressed.ndjson"
contains "diff: ... naming the new stack by its callers" \
	"^stack pins pin_user_pages: vaddr_get_pfns \[vfio_iommu_type1\] <- vfio_pin_pages_remote"
contains "diff: ... the new long-term pins" "^long-term pins +256 +896 .*REGRESSION"
contains "diff: ... the longer holds" "^hold p99 longterm .* 16\.0x .*REGRESSION"
contains "diff: ... the pins left at exit" "^left at exit +0 +8 .*REGRESSION"
contains "diff: ... and counting them" "^11 regressions$"
expect 3 "diff: -o json exits 3 too" -- "$PT" diff -o json "$DF/base.ndjson" "$DF/regressed.ndjson"
contains "diff: ... one JSON object of type diff" '^\{"type":"diff","regressions":11,"items":\['
contains "diff: ... with the new stack's frames" '"key":"new-stacks",.*"stack":"try_grab_folio <- '
expect 0 "diff: --threshold (repeatable) loosens the limits" -- "$PT" diff \
	-t pins=15%,longterm=off,api=off,stack=100% --threshold new-apis=1,new-stacks=1 \
	-t hold-p99=off,leaks=8,new-leaks=1 "$DF/base.ndjson" "$DF/regressed.ndjson"
expect 2 "diff: an unknown --threshold key is a usage error" -- \
	"$PT" diff -t pinz=1 "$DF/base.ndjson" "$DF/base.ndjson"
contains "diff: ... naming it" "unknown --threshold key 'pinz'"
expect 2 "diff: a percentage for new-stacks is a usage error" -- "$PT" diff -t new-stacks=10% a b
expect 2 "diff: a bad --min-count is a usage error" -- "$PT" diff --min-count x a b
expect 2 "diff: one file is a usage error" -- "$PT" diff "$DF/base.ndjson"
for bad in "not-json.ndjson:line 2: truncated JSON record" \
	   'no-summary.ndjson:no "summary" record' \
	   "wrong-type.json:pins\.acquired_refs: expected a count, got string" \
	   "future-schema.ndjson:schema_version 99"; do
	f=${bad%%:*} msg=${bad#*:}
	expect 1 "diff: $f is refused (exit 1)" -- "$PT" diff "$DF/base.ndjson" "$DF/$f"
	contains "diff: ... naming the file and the problem" "$f: .*$msg"
done
expect 1 "diff: a missing file is an error (exit 1)" -- "$PT" diff "$DF/none.ndjson" "$DF/base.ndjson"
contains "diff: ... saying why" "none\.ndjson: cannot open: No such file"
if command -v setpriv >/dev/null && [[ $(id -u) == 0 ]]; then
	expect 3 "diff: works without root" -- setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$PT" diff "$DF/base.ndjson" "$DF/regressed.ndjson"
else
	echo "ok - diff without root skipped: needs root and setpriv # SKIP"
fi
# The fuzz harness (make fuzz, where clang has libFuzzer) replays its seed
# corpus: each input once, under ASan/UBSan.
FUZZ=$(dirname "$PT")/fuzz/fuzz_diff
if [[ -x $FUZZ ]]; then
	expect 0 "diff: the fuzz harness replays its corpus without a finding" -- \
		"$FUZZ" "$(dirname "$0")"/../fuzz/corpus/diff/*
else
	echo "ok - diff: fuzz corpus replay skipped: no $FUZZ (make fuzz: clang with libFuzzer) # SKIP"
fi
