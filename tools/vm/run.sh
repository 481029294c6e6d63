#!/usr/bin/env bash
# Boot a Debian kernel under QEMU (TCG) with a busybox initramfs, run a guest
# script as root, and bring its /out back through a checksummed channel.
# See tools/vm/README.md for options and the frame format.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DIE_RC=125

usage() {
	cat >&2 <<'EOF'
usage: tools/vm/run.sh [--arch amd64|arm64] --kernel 6.1|6.12 --script GUEST.sh --out DIR
         [--add HOST_PATH[:GUEST_PATH]]... [--modules "brd veth ..."]...
         [--modparam NAME="p1=v1 p2=v2"]... [--append "kernel args"]
         [--mem MiB] [--smp N] [--timeout SECONDS] [--cpu MODEL]
         [--boot bzimage|pvh|image] [--cpio NEWC_ARCHIVE]... [--quiet]
Exit status: the guest script's, or 125 when anything else failed.
EOF
	exit 125
}

ver='' script='' outdir='' append='' mem=1024 smp=2 timeout=300 quiet=0
arch=amd64 cpu='' boot=''
adds=() modules=() modparams=() cpios=()
while (($#)); do
	case "$1" in
	--arch | --kernel | --script | --out | --add | --modules | --modparam | --append | --mem | --smp | --timeout | --cpu | --boot | --cpio)
		(($# >= 2)) || die "$1 needs an argument"
		case "$1" in
		--arch) arch=$(check_arch "$2") ;;
		--kernel) ver=$2 ;;
		--script) script=$2 ;;
		--out) outdir=$2 ;;
		--add) adds+=("$2") ;;
		--cpio) cpios+=("$2") ;;
		--modules) read -ra m <<<"$2" && modules+=("${m[@]}") ;;
		--modparam) modparams+=("$2") ;;
		--append) append+=" $2" ;;
		--mem) mem=$2 ;;
		--smp) smp=$2 ;;
		--timeout) timeout=$2 ;;
		--cpu) cpu=$2 ;;
		--boot) boot=$2 ;;
		esac
		shift 2
		;;
	--quiet) quiet=1 && shift ;;
	-h | --help) usage ;;
	*) echo "unknown argument: $1" >&2 && usage ;;
	esac
done
[[ -n $ver && -n $script && -n $outdir ]] || usage
check_ver "$ver"
[[ -f $script ]] || die "guest script '$script' not found"
for n in "$mem" "$smp" "$timeout"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive integer"
done
# The environment defaults are per architecture: a CPU model or boot mode
# meant for one cannot start the other.
if [[ $arch == amd64 ]]; then
	arch_args=()
	cpu=${cpu:-${PINTRACE_QEMU_CPU:-max}} boot=${boot:-${PINTRACE_VM_BOOT:-bzimage}}
	[[ $boot == bzimage || $boot == pvh ]] || die "--boot must be bzimage or pvh"
	qemu_bin="qemu-system-x86_64"
else
	arch_args=(--arch "$arch")
	# cortex-a57 (or max,pauth-impdef=on) boots in half the time of plain
	# max, whose pointer authentication TCG emulates with the slow QARMA.
	cpu=${cpu:-${PINTRACE_QEMU_CPU_ARM64:-cortex-a57}} boot=${boot:-image}
	[[ $boot == image ]] || die "--boot must be image for $arch (the kernel's Image is booted directly)"
	qemu_bin="qemu-system-aarch64"
fi
need_cmd "$qemu_bin" cpio sha256sum tar timeout

# fetch-kernel.sh is a no-op when the kernel is cached.
kernel_ready "$ver" "$arch" || "$VM_DIR/fetch-kernel.sh" ${arch_args[@]+"${arch_args[@]}"} "$ver" >&2 || exit 125
kdir=$(kernel_dir "$ver" "$arch")
# bzimage is how real machines boot (KASLR included); pvh starts the
# uncompressed ELF directly, skipping the slow emulated decompressor, but
# the kernel then runs unrandomised at its link address. arm64's vmlinuz
# is already an uncompressed Image.
image=$kdir/vmlinuz
[[ $boot != pvh ]] || image=$(ensure_vmlinux "$ver")
base=$("$VM_DIR/initramfs.sh" ${arch_args[@]+"${arch_args[@]}"} "$ver" ${modules[@]+"${modules[@]}"}) || exit 125

work=$(mktemp -d "${TMPDIR:-/tmp}/pintrace-vm.XXXXXX")
qpid=
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	[[ -z $qpid ]] || kill "$qpid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Per-run layer: the script, --add files and settings. It is unpacked over
# the cached base, so it may also replace files there.
r=$work/run
mkdir -p "$r/guest" "$r/etc/pintrace"
cp "$script" "$r/guest/script.sh"
for a in ${adds[@]+"${adds[@]}"}; do
	if [[ $a == *:/* ]]; then
		src=${a%%:/*} dst=/${a#*:/}
	else
		src=$a dst=/bin/$(basename "$a")
	fi
	[[ -e $src ]] || die "--add: '$src' does not exist"
	mkdir -p "$r$(dirname "$dst")"
	cp -a "$src" "$r$dst"
done
for p in ${modparams[@]+"${modparams[@]}"}; do
	[[ $p == ?*=* ]] || die "--modparam expects NAME=\"params\", got '$p'"
	name=${p%%=*}
	echo "${p#*=}" >"$r/etc/pintrace/modparam.${name//-/_}"
done
# Hold back time at the end so a slow script still gets its /out home:
# the channel moves only 0.3-0.5 MB/s (after gzip) under TCG.
reserve=$((timeout >= 120 ? 30 : timeout / 4))
# The result port: the second 16550 on amd64; on arm64 the only 8250 port,
# a pci-serial (the console is the PL011, ttyAMA0).
frame_tty=/dev/ttyS1
[[ $arch == amd64 ]] || frame_tty=/dev/ttyS0
printf 'PT_TIMEOUT=%s\nPT_RESERVE=%s\nPT_FRAME_TTY=%s\n' "$timeout" "$reserve" "$frame_tty" >"$r/etc/pintrace/run.conf"
(cd "$r" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$work/run.cpio"
# --cpio: prebuilt uncompressed overlays (e.g. tools/bench/bpftrace-root.sh),
# unpacked after the base and before the per-run layer.
for c in ${cpios[@]+"${cpios[@]}"}; do
	[[ -s $c ]] || die "--cpio: '$c' does not exist or is empty"
done
cat "$base" ${cpios[@]+"${cpios[@]}"} "$work/run.cpio" >"$work/initrd.cpio"

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
console=$outdir/console.log
result=$work/result.bin
: >"$result"

if [[ $arch == amd64 ]]; then
	# 'max' under TCG enables LA57; no5lvl keeps the guest on 4-level paging,
	# which is what real machines run and is cheaper to emulate.
	cmdline="console=ttyS0 panic=-1 quiet no5lvl${append}"
	qemu=(qemu-system-x86_64 -machine "pc,accel=tcg" -cpu "$cpu" -smp "$smp" -m "$mem"
		-nodefaults -no-user-config -display none -monitor none -no-reboot
		-kernel "$image" -initrd "$work/initrd.cpio" -append "$cmdline"
		-chardev "file,id=con,path=$console" -serial chardev:con
		-chardev "file,id=res,path=$result" -serial chardev:res)
else
	# QEMU's virt machine has a single PL011 (the console); a second -serial
	# adds nothing. The result port is a 16550 on PCI, which the kernel's
	# built-in 8250_pci driver makes ttyS0.
	cmdline="console=ttyAMA0 panic=-1 quiet${append}"
	qemu=(qemu-system-aarch64 -machine "virt,accel=tcg" -cpu "$cpu" -smp "$smp" -m "$mem"
		-nodefaults -no-user-config -display none -monitor none -no-reboot
		-kernel "$image" -initrd "$work/initrd.cpio" -append "$cmdline"
		-chardev "file,id=con,path=$console" -serial chardev:con
		-chardev "file,id=res,path=$result" -device "pci-serial,chardev=res")
fi

((quiet)) || log "booting $(cat "$kdir/kver") ($boot cpu=$cpu smp=$smp mem=${mem}M timeout=${timeout}s)"
start=$(date +%s.%N)
set +e
timeout -k 5 "$timeout" "${qemu[@]}" </dev/null >"$work/qemu.log" 2>&1 &
qpid=$!
wait "$qpid"
qrc=$?
qpid=
set -e
wall=$(echo "$start $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}')

fail() {
	if ((qrc == 124 || qrc == 137)); then
		echo "run.sh: VM FAILURE: timed out after ${timeout}s (wall ${wall}s): $*" >&2
	else
		echo "run.sh: VM FAILURE: $*" >&2
	fi
	if [[ -s $console ]]; then
		grep -m3 -E 'Kernel panic|BUG:|Oops|WARNING:' "$console" | sed 's/^/run.sh: console: /' >&2 || true
		echo "run.sh: last console lines ($console):" >&2
		tail -n 15 "$console" | sed 's/^/    /' >&2
	fi
	exit 125
}

# A host-side timeout is only reported if the frame is also incomplete.
if ((qrc != 0 && qrc != 124 && qrc != 137)) && [[ ! -s $result ]]; then
	fail "qemu exited with $qrc: $(head -c 2000 "$work/qemu.log")"
fi

# Parse the frame. Anything before the header (there should be nothing) is
# skipped; everything else must match exactly.
# No "tail | head" pipelines below: with pipefail, the early-closing reader
# turns SIGPIPE into a failure on large frames.
hdr=$(LC_ALL=C grep -abm1 '^PINTRACE-FRAME-V1 ' "$result" || true)
if [[ -z $hdr ]]; then
	grep -q 'pintrace-init:' "$console" 2>/dev/null || fail "guest never reached /init (boot failure?)"
	grep -q 'Kernel panic' "$console" 2>/dev/null && fail "guest kernel panicked"
	fail "no result frame from the guest (qemu rc=$qrc)"
fi
hdr_off=${hdr%%:*} header=${hdr#*:}
re='^PINTRACE-FRAME-V1 rc=([0-9]+) timedout=([01]) size=([0-9]+) sha256=([0-9a-f]{64}) format=tar\.gz$'
[[ $header =~ $re ]] || fail "malformed frame header: ${header:0:200}"
rc=${BASH_REMATCH[1]} timedout=${BASH_REMATCH[2]} size=${BASH_REMATCH[3]} sum=${BASH_REMATCH[4]}
body_off=$((hdr_off + ${#header} + 1))
slice() { # $1: offset, $2: length
	dd if="$result" bs=64K iflag=skip_bytes,count_bytes skip="$1" count="$2" status=none
}
slice "$body_off" "$size" >"$work/frame.tgz"
got_size=$(wc -c <"$work/frame.tgz")
((got_size == size)) || fail "frame truncated: got $got_size of $size bytes"
got_sum=$(sha256sum "$work/frame.tgz" | cut -d' ' -f1)
[[ $got_sum == "$sum" ]] || fail "frame checksum mismatch (expected $sum, got $got_sum)"
trailer=$(slice "$((body_off + size))" 200 | tr -d '\0')
[[ $trailer == $'\n'"PINTRACE-FRAME-END sha256=$sum" ]] || fail "frame trailer missing or corrupt"

mkdir -p "$work/x"
# The guest's clock may run a few ms ahead of the host's; tar's warnings
# about future time stamps are noise.
tar --warning=no-timestamp -xzf "$work/frame.tgz" -C "$work/x" || fail "cannot unpack the result archive"
# Copy rather than move so an existing DIR is merged into, not replaced.
cp -a "$work/x/out/." "$outdir/"
for f in guest.log dmesg.log; do
	[[ ! -e $work/x/pintrace-meta/$f ]] || cp "$work/x/pintrace-meta/$f" "$outdir/$f"
done
init_at=$(cat "$work/x/pintrace-meta/boot_uptime" 2>/dev/null || echo '?')

if ((!quiet)) && [[ -f $outdir/guest.log ]]; then
	cat "$outdir/guest.log"
fi
((quiet)) || log "kernel ${arch_args[1]:+${arch_args[1]} }$ver: /init at ${init_at}s guest uptime, VM wall ${wall}s, result ${size} bytes, rc=$rc"

if [[ -e $work/x/pintrace-meta/init-error ]]; then
	fail "guest setup failed: $(cat "$work/x/pintrace-meta/init-error")"
fi
((timedout == 0)) || fail "guest script killed after exceeding its time limit (partial /out saved in $outdir)"
exit "$rc"
