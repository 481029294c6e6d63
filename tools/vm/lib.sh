# Shared helpers for the tools/vm scripts. Sourced, never executed.
# shellcheck shell=bash

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${PINTRACE_CACHE:-${HOME:?set HOME or PINTRACE_CACHE}/.cache/pintrace}

# run.sh sets DIE_RC=125 so that its own failures never look like a guest
# script's exit status.
die() {
	echo "${0##*/}: error: $*" >&2
	exit "${DIE_RC:-1}"
}

log() {
	echo "${0##*/}: $*" >&2
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			die "'$c' not found; install the packages listed in $VM_DIR/DEPS"
	done
}

# Only the two kernel lines the project tests against are supported; the
# apt suites for each are chosen in fetch-kernel.sh.
check_ver() {
	case "$1" in
	6.1 | 6.12) ;;
	*) die "unsupported kernel version '$1' (expected 6.1 or 6.12)" ;;
	esac
}

# Guest architectures: amd64 (the default everywhere) and arm64. Prints the
# canonical name; x86, x86_64 and aarch64 are accepted as aliases.
check_arch() {
	case "$1" in
	amd64 | x86 | x86_64) echo amd64 ;;
	arm64 | aarch64) echo arm64 ;;
	*) die "unsupported architecture '$1' (expected amd64 or arm64)" ;;
	esac
}

# $1: VER, $2: ARCH (default amd64). amd64 kernels keep their original
# place, $CACHE/kernels/VER; others live in $CACHE/kernels/ARCH/VER.
kernel_dir() {
	case "${2:-amd64}" in
	amd64) echo "$CACHE/kernels/$1" ;;
	*) echo "$CACHE/kernels/$2/$1" ;;
	esac
}

# A kernel is usable once its kver file exists: fetch-kernel.sh writes it
# last, after everything else is in place. Foreign-architecture kernels come
# with their own busybox (the host's cannot run in the guest).
kernel_ready() { # $1: VER, $2: ARCH (default amd64)
	local d
	d=$(kernel_dir "$1" "${2:-amd64}")
	[[ -s $d/kver && -s $d/vmlinuz && -s $d/modules/modules.dep ]] &&
		[[ ${2:-amd64} == amd64 || -s $d/busybox ]]
}

# Print the path of an uncompressed vmlinux ELF for PVH boots, unpacking it
# from the bzImage on first use. Under TCG the bzImage's own decompressor is
# slow (about 2 s for the xz-packed 6.1 image).
ensure_vmlinux() {
	local d tmp off magic
	d=$(kernel_dir "$1")
	if [[ ! -s $d/vmlinux ]]; then
		grep -q '^CONFIG_PVH=y' "$d/config" || die "kernel $1 lacks CONFIG_PVH; use --boot bzimage"
		tmp=$(mktemp "$d/.vmlinux.XXXXXX")
		# Magic numbers (NUL bytes dropped: bash strings cannot hold them).
		for magic in xz:$'\xfd7zXZ' zstd:$'\x28\xb5\x2f\xfd' gzip:$'\x1f\x8b\x08'; do
			for off in $(LC_ALL=C grep -abo "${magic#*:}" "$d/vmlinuz" | cut -d: -f1); do
				# Trailing bytes after the stream make the decompressors
				# complain; what matters is that a whole ELF came out.
				tail -c +"$((off + 1))" "$d/vmlinuz" | "${magic%%:*}" -dc >"$tmp" 2>/dev/null || true
				[[ $(head -c4 "$tmp") == $'\x7fELF' ]] && break 2
			done
		done
		[[ $(head -c4 "$tmp") == $'\x7fELF' ]] || { rm -f "$tmp"; die "cannot unpack vmlinux from $d/vmlinuz"; }
		chmod 644 "$tmp"
		mv -f "$tmp" "$d/vmlinux"
	fi
	echo "$d/vmlinux"
}

# ---- a private apt configuration --------------------------------------------
# Packages are fetched with apt's own resolver but nothing of the system's
# apt setup is read or changed: own sources, lists, cache and dpkg status
# under a directory of ours.

# The Debian mirror (and security mirror) this machine already uses: on
# restricted networks it is often the only Debian host that is reachable.
# Sets $mirror and $security; PINTRACE_DEBIAN_MIRROR/_SECURITY override.
find_mirrors() {
	mirror=${PINTRACE_DEBIAN_MIRROR:-$(find_uri debian)}
	mirror=${mirror:-http://deb.debian.org/debian}
	security=${PINTRACE_DEBIAN_SECURITY:-$(find_uri debian-security)}
	security=${security:-${mirror%/debian}/debian-security}
}

find_uri() { # $1: path suffix, e.g. debian or debian-security
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] || continue
		grep -hoE "https?://[^ ]+/$1/?( |$)" "$f" 2>/dev/null | tr -d ' ' | sed 's:/*$::'
	done | head -n1
}

# private_apt DIR ARCH "URI SUITE"...: writes DIR's sources.list (signed by
# the Debian archive keyring) and sets the apt_opts array that points
# apt-get/apt-cache at DIR alone. The dpkg status is created if missing;
# callers that want apt to fetch a complete closure empty it themselves.
private_apt() {
	local dir=$1 arch=$2 s keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	shift 2
	[[ -r $keyring ]] || die "$keyring missing (install debian-archive-keyring)"
	mkdir -p "$dir/sources.list.d" "$dir/preferences.d" "$dir/state/lists/partial" \
		"$dir/cache/archives/partial"
	: >"$dir/sources.list"
	for s in "$@"; do
		echo "deb [signed-by=$keyring] ${s% *} ${s#* } main" >>"$dir/sources.list"
	done
	: >>"$dir/status"
	apt_opts=(
		-o "Dir::Etc::sourcelist=$dir/sources.list"
		-o "Dir::Etc::sourceparts=$dir/sources.list.d"
		-o "Dir::Etc::preferences=$dir/preferences"
		-o "Dir::Etc::preferencesparts=$dir/preferences.d"
		-o "Dir::State=$dir/state"
		-o "Dir::State::status=$dir/status"
		-o "Dir::Cache=$dir/cache"
		-o "APT::Architecture=$arch"
		-o "APT::Architectures::=$arch"
		-o "Acquire::Languages=none"
		# /root is not readable by the _apt sandbox user; the private dirs are ours.
		-o "APT::Sandbox::User=$(id -un)"
	)
}
