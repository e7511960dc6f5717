#!/bin/bash
# Install the Debian packages that building and testing imafs need.
# Idempotent: when every package is already installed, apt is not run at all.
set -euo pipefail

packages=(
	# build
	cmake make gcc libc6-dev pkg-config libfuse3-dev fuse3 libssl-dev libattr1-dev
	libtss2-dev libxxhash-dev
	# tests and demo
	python3 python3-pytest swtpm swtpm-tools tpm2-tools ima-evm-utils attr util-linux
	coreutils libc-bin
)

missing=()
for pkg in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$pkg")
	fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "install-deps: all ${#packages[@]} packages already installed"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: missing packages and not root; run this script as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update </dev/null
apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
