#!/usr/bin/env bash
# Install every build and test dependency from Debian's packages (run as
# root; idempotent). Debian 12 (bookworm) or newer.
#   tools/install-deps.sh [--no-arm64]
set -euo pipefail
usage() {
	echo "usage: tools/install-deps.sh [--no-arm64]" >&2
	exit 2
}
arm64=1
case "${1:-}" in
--no-arm64) arm64=0 ;;
'') ;;
*) usage ;;
esac
(($# <= 1)) || usage
if [[ $(id -u) != 0 ]]; then
	echo "tools/install-deps.sh: run as root (it calls apt-get)" >&2
	exit 1
fi
pkgs=(
	# build: BPF side and user space
	make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev libzstd-dev
	libjson-c-dev
	# tests: unit tests, host tests, result checks
	libcmocka-dev python3 python3-jsonschema util-linux
)
# the VM test bed (tools/vm/DEPS lists its needs, one package per line)
while read -r p; do
	[[ -n $p && $p != \#* ]] && pkgs+=("$p")
done < "$(dirname "$0")/vm/DEPS"
# The arm64 cross build (`make ARCH=arm64 STATIC=1`) on an amd64 host: the
# aarch64 gcc, plus the libraries the static binary links as arm64 packages
# through dpkg multiarch (in /usr/lib/aarch64-linux-gnu, where the cross gcc
# and the Makefile's pkg-config look). Only these packages are arm64; apt's
# sources and suites stay as they are. qemu-user-static runs the cross-built
# binary on this host.
# Side effect: a "Multi-Arch: same" library must have one version on every
# architecture, so installing its arm64 half can upgrade the amd64 half to
# the newest version in the configured suites (on bookworm: e2fsprogs libs,
# krb5, libssl3).
if ((arm64)) && [[ $(dpkg --print-architecture) == amd64 ]]; then
	if ! dpkg --print-foreign-architectures | grep -x arm64 >/dev/null; then
		echo "adding dpkg architecture arm64 (for the cross-build libraries)"
		dpkg --add-architecture arm64
	fi
	pkgs+=(
		gcc-aarch64-linux-gnu qemu-user-static
		libc6-dev:arm64 libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64
		libzstd-dev:arm64 libjson-c-dev:arm64
	)
fi
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "installing: ${missing[*]}"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "dependencies: all ${#pkgs[@]} packages installed"
