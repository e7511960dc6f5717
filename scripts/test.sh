#!/bin/bash
# Build imafs twice (release, and ASan+UBSan) and run the unit and integration
# tests against both. Exits non-zero when any step fails; later steps still
# run so one log shows every failure.
set -uo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
failures=()

section() {
	printf '\n==== %s ====\n' "$*"
}

step() {
	local name=$1
	shift
	if ! "$@"; then
		echo "FAILED: $name"
		failures+=("$name")
		return 1
	fi
}

werror=OFF
if [[ ${CI:-} == true ]]; then
	werror=ON
fi

section "Dependencies"
scripts/install-deps.sh || exit 1

section "Release build (build/, RelWithDebInfo, IMAFS_WERROR=$werror)"
release_ok=0
step "release configure" cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DIMAFS_SANITIZE=OFF -DIMAFS_WERROR="$werror" &&
	step "release build" cmake --build build -j"$jobs" && release_ok=1

section "ASan+UBSan build (build-asan/, Debug, IMAFS_WERROR=$werror)"
asan_ok=0
step "asan configure" cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
	-DIMAFS_SANITIZE=ON -DIMAFS_WERROR="$werror" &&
	step "asan build" cmake --build build-asan -j"$jobs" && asan_ok=1

if [[ $release_ok -eq 1 ]]; then
	section "Unit tests (release)"
	step "ctest release" ctest --test-dir build --output-on-failure
fi
if [[ $asan_ok -eq 1 ]]; then
	section "Unit tests (ASan+UBSan)"
	step "ctest asan" ctest --test-dir build-asan --output-on-failure
fi

# The Debian interpreter, because that is where python3-pytest is installed.
if [[ $release_ok -eq 1 ]]; then
	section "Integration tests (release: build/imafs)"
	step "pytest release" env IMAFS_BIN="$repo/build/imafs" \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider tests </dev/null
fi
if [[ $asan_ok -eq 1 ]]; then
	section "Integration tests (ASan+UBSan: build-asan/imafs)"
	step "pytest asan" env IMAFS_BIN="$repo/build-asan/imafs" \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider tests </dev/null
fi

section "Summary"
if [[ $release_ok -eq 0 || $asan_ok -eq 0 || ${#failures[@]} -gt 0 ]]; then
	echo "failed steps: ${failures[*]}"
	exit 1
fi
echo "all steps passed"
