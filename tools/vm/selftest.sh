#!/usr/bin/env bash
# Prove the VM test bed works on both kernels:
#  - a ~5 MiB random file comes back bit-exact (checked against the guest's
#    own sha256), so the result channel is lossless;
#  - --modules brd with --modparam reaches insmod (/dev/ram0 is 64 MiB);
#  - a static binary added with --add runs; /sys/kernel/btf/vmlinux exists;
#  - the guest script's exit status comes back (the script exits 7);
#  - two VMs run side by side; the in-guest time limit yields 125.
#
#   tools/vm/selftest.sh [6.1|6.12]...     (default: both)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

vers=("$@")
((${#vers[@]})) || vers=(6.1 6.12)
for v in "${vers[@]}"; do check_ver "$v"; done
need_cmd gcc sha256sum

work=$(mktemp -d "${TMPDIR:-/tmp}/pintrace-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0 passes=0
pass() {
	echo "PASS $*"
	passes=$((passes + 1))
}
failc() {
	echo "FAIL $*"
	failures=$((failures + 1))
}

cat >"$work/hello.c" <<'EOF'
#include <stdio.h>
#include <sys/utsname.h>
int main(void)
{
	struct utsname u;
	uname(&u);
	printf("static-ok %s\n", u.release);
	return 0;
}
EOF
gcc -static -O2 -o "$work/pt-hello" "$work/hello.c" || die "gcc -static failed (install libc6-dev)"

cat >"$work/main.sh" <<'EOF'
#!/bin/sh
set -e
head -c 5242880 /dev/urandom >/out/random.bin
sha256sum /out/random.bin | cut -d' ' -f1 >/out/random.sha256
uname -r >/out/uname
/bin/pt-hello >/out/static.txt
/opt/pt/pt-hello2 >>/out/static.txt
[ -b /dev/ram0 ] && blockdev --getsize64 /dev/ram0 >/out/ram0.size
grep -w brd /proc/modules | cut -d' ' -f1 >/out/brd.loaded
wc -c </sys/kernel/btf/vmlinux >/out/btf.size
exit 7
EOF

# shellcheck disable=SC2015 # pass never fails, so A && pass || failc is safe
check_main() { # $1: ver, $2: out dir, $3: run.sh exit status
	local v=$1 o=$2 rc=$3 kver
	kver=$(cat "$(kernel_dir "$v")/kver")
	if ((rc == 7)); then pass "$v: guest exit status 7 propagated"; else failc "$v: run.sh returned $rc, expected 7"; fi
	if [[ -f $o/random.bin && $(wc -c <"$o/random.bin") -eq 5242880 &&
		$(sha256sum "$o/random.bin" | cut -d' ' -f1) == "$(cat "$o/random.sha256" 2>/dev/null)" ]]; then
		pass "$v: 5 MiB random file intact (sha256 $(cut -c1-16 "$o/random.sha256")...)"
	else
		failc "$v: random file missing or corrupt"
	fi
	[[ $(cat "$o/uname" 2>/dev/null) == "$kver" ]] && pass "$v: uname -r = $kver" ||
		failc "$v: uname -r '$(cat "$o/uname" 2>/dev/null)' != $kver"
	[[ $(cat "$o/static.txt" 2>/dev/null) == "static-ok $kver"$'\n'"static-ok $kver" ]] &&
		pass "$v: static binary from --add runs (default and explicit guest path)" ||
		failc "$v: static binary output: $(cat "$o/static.txt" 2>/dev/null)"
	[[ $(cat "$o/ram0.size" 2>/dev/null) == 67108864 && $(cat "$o/brd.loaded" 2>/dev/null) == brd ]] &&
		pass "$v: brd loaded with rd_nr=1 rd_size=65536, /dev/ram0 is 64 MiB" ||
		failc "$v: /dev/ram0 missing or wrong size ($(cat "$o/ram0.size" 2>/dev/null))"
	[[ $(cat "$o/btf.size" 2>/dev/null) -gt 1000000 ]] && pass "$v: /sys/kernel/btf/vmlinux ($(cat "$o/btf.size") bytes)" ||
		failc "$v: /sys/kernel/btf/vmlinux missing"
}

run_main() { # $1: ver, $2: out dir; prints run.sh's stderr to $2.err
	local rc=0
	"$VM_DIR/run.sh" --kernel "$1" --script "$work/main.sh" --out "$2" \
		--add "$work/pt-hello" --add "$work/pt-hello:/opt/pt/pt-hello2" \
		--modules brd --modparam brd="rd_nr=1 rd_size=65536" --timeout 240 \
		>"$2.stdout" 2>"$2.err" || rc=$?
	return "$rc"
}

declare -A timing=()
for v in "${vers[@]}"; do
	"$VM_DIR/fetch-kernel.sh" "$v"
	for boot in bzimage pvh; do
		echo "== kernel $v, boot $boot"
		rc=0
		PINTRACE_VM_BOOT=$boot run_main "$v" "$work/$v-$boot" || rc=$?
		check_main "$v" "$work/$v-$boot" "$rc"
		t=$(grep -o '/init at .*' "$work/$v-$boot.err" || echo "no timing (see below)")
		timing[$v-$boot]=$t
		((failures == 0)) || sed 's/^/    /' "$work/$v-$boot.err"
	done
	# Boot time without the 5 MiB transfer.
	echo true >"$work/triv.sh"
	for boot in bzimage pvh; do
		"$VM_DIR/run.sh" --boot "$boot" --kernel "$v" --script "$work/triv.sh" \
			--out "$work/$v-triv-$boot" 2>"$work/$v-triv-$boot.err" >/dev/null ||
			failc "$v: trivial boot ($boot) failed"
		timing[$v-triv-$boot]=$(grep -o '/init at .*' "$work/$v-triv-$boot.err" || echo '?')
	done
done

echo "== concurrency: ${vers[*]} side by side"
pids=()
for v in "${vers[@]}"; do
	run_main "$v" "$work/$v-par" &
	pids+=($!)
done
for i in "${!vers[@]}"; do
	rc=0
	wait "${pids[$i]}" || rc=$?
	check_main "${vers[$i]}" "$work/${vers[$i]}-par" "$rc"
done

echo "== in-guest time limit (kernel ${vers[0]})"
printf '#!/bin/sh\necho partial >/out/partial\nsleep 600\n' >"$work/slow.sh"
rc=0
"$VM_DIR/run.sh" --quiet --kernel "${vers[0]}" --script "$work/slow.sh" --out "$work/slow" \
	--timeout 30 2>"$work/slow.err" || rc=$?
if ((rc == 125)) && grep -q 'exceeding its time limit' "$work/slow.err" && [[ -f $work/slow/partial ]]; then
	pass "timeout: exit 125, partial /out returned"
else
	failc "timeout: rc=$rc, expected 125 with partial /out"
	sed 's/^/    /' "$work/slow.err"
fi

echo "== boot times (guest uptime at /init, whole VM wall time)"
for k in $(printf '%s\n' "${!timing[@]}" | sort); do
	printf '  %-18s %s\n' "$k" "${timing[$k]}"
done
echo "$passes passed, $failures failed"
((failures == 0)) || {
	echo "selftest: $failures check(s) failed" >&2
	exit 1
}
echo "selftest: all checks passed"
