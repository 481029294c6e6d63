#!/bin/sh
# /init of the test-bed initramfs (busybox sh, PID 1). Installed by run.sh.
#
# Contract with run.sh: the guest script runs with an empty /out; afterwards
# /out plus the files in /pintrace-meta are packed as a gzipped tar and
# written to $PT_FRAME_TTY (run.conf; /dev/ttyS1 on amd64) as one frame:
#   PINTRACE-FRAME-V1 rc=<n> timedout=<0|1> size=<bytes> sha256=<hex> format=tar.gz\n
#   <size bytes of archive>
#   \nPINTRACE-FRAME-END sha256=<hex>\n
# The console (ttyS0, arm64: ttyAMA0) is only for humans: under TCG it
# drops bytes.

export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=dumb OUT=/out
# arm64 images carry only /bin/sh (initramfs.sh cannot run the guest's
# busybox to list its applets): link the rest now. Existing files win.
[ -e /bin/mount ] || /bin/busybox --install -s /bin
mount -t devtmpfs devtmpfs /dev
# The archive carries no device nodes (it is built unprivileged), so stdio
# only exists once devtmpfs is up.
exec </dev/console >/dev/console 2>&1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ip link set lo up
hostname pintrace-vm

META=/pintrace-meta
mkdir -p $META /out
boot_s=$(cut -d' ' -f1 /proc/uptime)
echo "$boot_s" >$META/boot_uptime
echo "pintrace-init: $(uname -r) reached /init at ${boot_s}s"

. /etc/pintrace/run.conf

send_frame() { # $1: rc, $2: timedout
	dmesg >$META/dmesg.log 2>&1
	# The UART moves only ~0.3 MB/s under TCG; gzip costs ~0.15 s/MB here and
	# shrinks logs and BTF about 3x.
	cd / && tar -czf /tmp/.frame.tgz out pintrace-meta
	size=$(wc -c </tmp/.frame.tgz)
	sum=$(sha256sum /tmp/.frame.tgz | cut -d' ' -f1)
	# One fd for stty and the write: raw mode must hold for this open, and
	# the final close blocks until the UART has drained.
	exec 3<>"${PT_FRAME_TTY:-/dev/ttyS1}"
	stty raw -echo -ixon -ixoff -opost clocal -crtscts <&3
	{
		printf 'PINTRACE-FRAME-V1 rc=%s timedout=%s size=%s sha256=%s format=tar.gz\n' \
			"$1" "$2" "$size" "$sum"
		cat /tmp/.frame.tgz
		printf '\nPINTRACE-FRAME-END sha256=%s\n' "$sum"
	} >&3
	exec 3>&-
	echo "pintrace-init: sent $size bytes, script rc=$1"
}

finish() {
	send_frame "$@"
	poweroff -f
	sleep 5 # poweroff -f does not return; never fall off the end of PID 1
}

# Modules are pre-decompressed and listed in dependency order by run.sh;
# "soft" ones are optional helpers (e.g. a crypto provider) and may fail.
if [ -s /etc/pintrace/modules ]; then
	while read -r name path kind; do
		params=
		[ -f "/etc/pintrace/modparam.$name" ] && params=$(cat "/etc/pintrace/modparam.$name")
		# shellcheck disable=SC2086 # params are a space-separated list by design
		insmod "$path" $params && continue
		if [ "$kind" = soft ]; then
			echo "pintrace-init: optional module $name failed to load, continuing"
			continue
		fi
		echo "insmod $path $params failed" | tee $META/init-error
		finish 125 0
	done </etc/pintrace/modules
fi

chmod 755 /guest/script.sh
if [ "$(head -c2 /guest/script.sh)" = '#!' ]; then
	set -- /guest/script.sh
else
	set -- sh /guest/script.sh
fi

# Stop the script early enough that /out still has time to come back.
now=$(cut -d. -f1 /proc/uptime)
limit=$((PT_TIMEOUT - PT_RESERVE - now))
[ "$limit" -gt 5 ] || limit=5

echo "pintrace-init: running guest script (limit ${limit}s)"
# setsid gives the script its own process group, so the watchdog can kill
# everything it started; tee keeps a lossless copy of its output.
cd /
setsid sh -c 'set -o pipefail; "$@" </dev/null 2>&1 | tee /pintrace-meta/guest.log' sh "$@" &
pid=$!
(
	sleep "$limit"
	touch $META/timedout
	echo "pintrace-init: guest script exceeded ${limit}s, killing it"
	kill -KILL "-$pid"
) &
wd=$!
wait $pid
rc=$?
kill $wd 2>/dev/null
timedout=0
[ -e $META/timedout ] && timedout=1
finish "$rc" "$timedout"
