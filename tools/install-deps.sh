#!/usr/bin/env bash
# Install every build and test dependency from Debian's packages (run as
# root; idempotent). Debian 12 (bookworm) or newer.
set -euo pipefail
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
