#!/bin/bash
# Mount a small tree with imafs, run a program and read a file through it,
# then show the measurement list and check it with evmctl against the PCR
# values the daemon extended. With no --tpm option and no /dev/tpmrm0 the
# daemon extends its software bank, whose PCRs are in the runtime directory.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$(pwd)

section() {
	printf '\n==== %s ====\n' "$*"
}

section "Dependencies and build"
scripts/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)"

# The built-in tcb policy skips tmpfs, so the tree must live on a disk file system.
base=/var/tmp
if [[ $(stat -f -c %T "$base") == tmpfs ]]; then
	base=$repo/build
fi
demo=$(mktemp -d "$base/imafs-demo.XXXXXX")
src=$demo/source
mnt=$demo/mnt
rt=$demo/runtime
mkdir -p "$src/bin" "$mnt"

daemon_pid=
cleanup() {
	if mountpoint -q "$mnt"; then
		fusermount3 -u -z "$mnt" || true
	fi
	if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
		wait "$daemon_pid" || true
	fi
	rm -rf "$demo"
}
trap cleanup EXIT

section "Demo tree in $src"
for prog in sha256sum cat true; do
	cp "$(type -P "$prog")" "$src/bin/"
done
echo "hello from imafs" >"$src/hello.txt"
ls -lR "$src"

section "Mount $mnt"
build/imafs -f --runtime-dir "$rt" "$src" "$mnt" 2>"$demo/imafs.log" &
daemon_pid=$!
for _ in $(seq 100); do
	if mountpoint -q "$mnt"; then
		break
	fi
	if ! kill -0 "$daemon_pid" 2>/dev/null; then
		echo "imafs exited before mounting:" >&2
		cat "$demo/imafs.log" >&2
		exit 1
	fi
	sleep 0.1
done
if ! mountpoint -q "$mnt"; then
	echo "$mnt was not mounted within 10 s" >&2
	exit 1
fi
echo "mounted (imafs pid $daemon_pid, TPM: $(cat "$rt/tpm"))"

section "Exec a program and read a file through the mount"
"$mnt/bin/sha256sum" "$mnt/hello.txt"
"$mnt/bin/cat" "$mnt/hello.txt"

section "ascii_runtime_measurements"
cat "$rt/ascii_runtime_measurements"

section "Runtime directory $rt"
ls -l "$rt"

section "evmctl ima_measurement against the software bank"
set +e
evmctl ima_measurement --pcrs "sha1,$rt/pcrs_sha1" --pcrs "sha256,$rt/pcrs_sha256" \
	"$rt/binary_runtime_measurements" >"$demo/evmctl.out" 2>&1
evmctl_status=$?
set -e
grep -E 'Matched|Failed' "$demo/evmctl.out" || cat "$demo/evmctl.out"
echo "evmctl exit status: $evmctl_status"

section "Unmount"
fusermount3 -u "$mnt"
daemon_status=0
wait "$daemon_pid" || daemon_status=$?
daemon_pid=
echo "imafs exit status: $daemon_status"
echo "imafs log:"
sed 's/^/  /' "$demo/imafs.log"

if [[ $evmctl_status -ne 0 || $daemon_status -ne 0 ]]; then
	exit 1
fi
