#!/usr/bin/env bash
# The whole test suite: unit tests (cmocka), host tests (CLI and the
# untraceable-kernel path on this machine), and real-kernel tests in VMs
# (Debian 6.1 and 6.12, amd64 and arm64, fentry and kprobe backends; arm64
# 6.1 has no fentry: auto and kprobe). Closes with one "N passed, N failed"
# line; exits non-zero if anything failed.
#   tests/run.sh [--no-vm] [--kernels "6.1 6.12"] [--arches "amd64 arm64"]
# arm64 guests run a cross-built static pintrace (tests/vm/run-kernel.sh
# builds it with make ARCH=arm64 STATIC=1).
set -uo pipefail
cd "$(dirname "$0")/.."
OUTPUT=${OUTPUT:-build}
KERNELS=${PINTRACE_TEST_KERNELS:-"6.1 6.12"}
ARCHES=${PINTRACE_TEST_ARCHES:-"amd64 arm64"}
vm=1
while (($#)); do
	case "$1" in
	--no-vm) vm=0 ;;
	--kernels) KERNELS=$2; shift ;;
	--arches) ARCHES=$2; shift ;;
	*) echo "usage: tests/run.sh [--no-vm] [--kernels LIST] [--arches LIST]" >&2; exit 2 ;;
	esac
	shift
done

pass=0 fail=0 skip=0
# Count TAP-style "ok"/"not ok" lines of a tier's output (and echo them).
# A "# SKIP" directive is neither (cmocka writes skipped tests as
# "not ok N # SKIP"); skips are counted and shown on their own line.
tally() {
	local out=$1 p f s
	p=$(grep -E '^ok ' "$out" | grep -cvE '# SKIP' || true)
	f=$(grep -E '^not ok ' "$out" | grep -cvE '# SKIP' || true)
	s=$(grep -E '^(not )?ok .*# SKIP' "$out" | grep -c . || true)
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}
# A tier that died without reporting a failure still fails the suite.
tier() {
	local name=$1 out rc t0=$SECONDS
	shift
	out=$(mktemp)
	echo "== $name"
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	echo "# $name: $((SECONDS - t0)) s"
	tally "$out"
	if ((rc != 0)) && ! grep -E '^not ok ' "$out" | grep -qv '# SKIP'; then
		echo "not ok - $name exited with status $rc"
		fail=$((fail + 1))
	fi
	rm -f "$out"
}

unit() {
	local t rc=0
	for t in "$OUTPUT"/tests/test_*; do
		[[ -x $t ]] || continue
		CMOCKA_MESSAGE_OUTPUT=TAP "$t" | sed -e "s/^\(\(not \)\?ok [0-9]*\) - /\1 - $(basename "$t"): /" \
			-e "s/^\(\(not \)\?ok\) [0-9]* /\1 /" || rc=1
	done
	return $rc
}

tier "unit tests" unit
tier "host tests" tests/host/test_cli.sh "$OUTPUT/pintrace"
if ((vm)); then
	for a in $ARCHES; do
		for k in $KERNELS; do
			if [[ $a == amd64 ]]; then
				tier "VM tests, Debian $k" tests/vm/run-kernel.sh "$k"
			elif [[ $a == arm64 ]] &&
				! { command -v aarch64-linux-gnu-gcc && command -v qemu-system-aarch64; } >/dev/null; then
				echo "ok - VM tests, Debian $a $k # SKIP no aarch64-linux-gnu-gcc or" \
					"qemu-system-aarch64 (make deps installs them)"
				skip=$((skip + 1))
			else
				tier "VM tests, Debian $a $k" tests/vm/run-kernel.sh --arch "$a" "$k"
			fi
		done
	done
fi
((skip == 0)) || echo "$skip skipped (see the # SKIP lines above for why)"
echo "$pass passed, $fail failed"
((fail == 0))
