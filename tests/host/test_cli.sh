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
