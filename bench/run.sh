#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Side-by-side benchmark of imafs against native access and plain FUSE
# passthroughs. Builds everything it runs, mounts every system over one
# source tree on a disk file system, runs each workload on each system in
# the order A B C ... then C B A on the next round, and prints medians and
# slowdowns. Unmounts and stops everything it started on any exit.
#
# Options are environment variables; bench/README.md lists them.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp/imafs-bench}
BENCH_FILES=${BENCH_FILES:-10000}
BENCH_LARGE_MB=${BENCH_LARGE_MB:-1024}
BENCH_ROUNDS=${BENCH_ROUNDS:-5}
BENCH_EXECS=${BENCH_EXECS:-2000}
BENCH_NEW=${BENCH_NEW:-1000}
BENCH_OPEN_THREADS=${BENCH_OPEN_THREADS:-16}
BENCH_READDIR_REPEAT=${BENCH_READDIR_REPEAT:-3}
BENCH_SYSTEMS=${BENCH_SYSTEMS:-"native ptll ptll-always mergerfs imafs imafs-cached imafs-empty"}
BENCH_WORKLOADS=${BENCH_WORKLOADS:-"read-small-cold-1t read-small-cold-2t read-small-warm-1t
	read-small-warm-2t stat-small readdir first-open seq-read-cold seq-read-warm exec
	open-threads create-small seq-write open-new"}
BENCH_SWTPM=${BENCH_SWTPM:-auto}
BENCH_OUT=${BENCH_OUT:-}
IMAFS_BIN=${IMAFS_BIN:-}
IMAFS_TREE=prebuilt
# Extra imafs builds to compare, "NAME=BINARY ...": each runs as system v-NAME (tcb policy).
BENCH_VARIANTS=${BENCH_VARIANTS:-}
declare -A VARIANT_BIN=()
PY=/usr/bin/python3

SRC=$BENCH_DIR/src
MNT=$BENCH_DIR/mnt
RUN=$BENCH_DIR/run
BIN=$BENCH_DIR/bin
DRIVER=$BIN/driver

# Daemons started by this script: "pid mountpoint" lines (mountpoint "-" for none).
STARTED=()

log() {
	printf '%s %s\n' "$(date +%T)" "$*" >&2
}

fail() {
	log "error: $*"
	exit 1
}

cleanup() {
	local entry pid mnt i
	trap - EXIT INT TERM
	for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
		entry=${STARTED[i]}
		pid=${entry%% *}
		mnt=${entry#* }
		if [[ $mnt == - ]]; then
			kill "$pid" 2>/dev/null || true
		elif mountpoint -q "$mnt"; then
			fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt" 2>/dev/null ||
				umount -l "$mnt" || true
		fi
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "process $pid ($mnt) still running 5 s after unmount, stopping it"
			kill "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
	STARTED=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

check_environment() {
	local fstype
	[[ $(id -u) -eq 0 ]] ||
		fail "run as root: imafs mounts with allow_other semantics and cold runs drop caches"
	mkdir -p "$BENCH_DIR"
	fstype=$(stat -f -c %T "$BENCH_DIR")
	case $fstype in
	tmpfs | ramfs | fuseblk | fuse)
		fail "BENCH_DIR '$BENCH_DIR' is on $fstype: give a directory on a disk file system"
		;;
	esac
	[[ -x $PY ]] || fail "$PY not found: the summary needs Debian's python3"
	# imafs and passthrough_ll hold one O_PATH descriptor per inode the kernel
	# caches, so the descriptor limit caps the files a run may touch.
	ulimit -n "$(cat /proc/sys/fs/nr_open)" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	for mnt in "$MNT"/*; do
		if mountpoint -q "$mnt" 2>/dev/null; then
			fail "'$mnt' is still mounted from an earlier run: unmount it first"
		fi
	done
}

install_missing() {
	local pkgs=()
	[[ -e /usr/share/doc/libfuse3-dev/examples/passthrough_ll.c ||
		-e /usr/share/doc/libfuse3-dev/examples/passthrough_ll.c.gz ]] ||
		pkgs+=(libfuse3-dev)
	command -v mergerfs >/dev/null || pkgs+=(mergerfs)
	command -v openssl >/dev/null || pkgs+=(openssl)
	if ((${#pkgs[@]})); then
		log "installing ${pkgs[*]}"
		apt-get install -y "${pkgs[@]}" >&2
	fi
}

build() {
	local ex=/usr/share/doc/libfuse3-dev/examples pt=$BENCH_DIR/build-ptll

	mkdir -p "$BIN"
	log "building the driver"
	make -s -C "$REPO/bench" OUT="$BIN" >&2

	if [[ -z $IMAFS_BIN ]]; then
		# Taken before the build: the tree may move on while the run goes.
		IMAFS_TREE=$(git -C "$REPO" describe --always --dirty 2>/dev/null || echo unknown)
		log "building imafs (RelWithDebInfo: -O2 -DNDEBUG with symbols for perf)"
		cmake -S "$REPO" -B "$BENCH_DIR/build-imafs" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
			>/dev/null
		cmake --build "$BENCH_DIR/build-imafs" --target imafs -j2 >/dev/null
		IMAFS_BIN=$BENCH_DIR/build-imafs/imafs
	fi
	[[ -x $IMAFS_BIN ]] || fail "imafs binary '$IMAFS_BIN' not found"

	log "building libfuse's passthrough_ll from $ex"
	rm -rf "$pt"
	mkdir -p "$pt"
	for f in passthrough_ll.c passthrough_helpers.h; do
		if [[ -e $ex/$f ]]; then
			cp "$ex/$f" "$pt/"
		else
			zcat "$ex/$f.gz" >"$pt/$f"
		fi
	done
	# shellcheck disable=SC2046
	cc -O2 -o "$BIN/passthrough_ll" "$pt/passthrough_ll.c" $(pkg-config fuse3 --cflags --libs)
}

prepare_tree() {
	log "preparing $SRC: $BENCH_FILES small files, two files of $BENCH_LARGE_MB MiB"
	mkdir -p "$SRC" "$MNT"
	rm -rf "$SRC/w" "$RUN"
	mkdir -p "$SRC/w" "$RUN"
	"$DRIVER" setup-small "$SRC/small" "$BENCH_FILES"
	"$DRIVER" setup-large "$SRC/large-a" "$BENCH_LARGE_MB"
	"$DRIVER" setup-large "$SRC/large-b" "$BENCH_LARGE_MB"
	install -m 0755 "$BIN/exit0" "$SRC/exit0"
	printf 'dont_measure fsmagic=0x9fa0\n' >"$BENCH_DIR/empty.policy"
	sync
}

SWTPM_PORT=
start_swtpm() {
	local state=$BENCH_DIR/swtpm port pid
	rm -rf "$state"
	mkdir -p "$state"
	for port in 23210 23220 23230 23240 23250; do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null &&
			! (exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null; then
			SWTPM_PORT=$port
			break
		fi
	done
	[[ -n $SWTPM_PORT ]] || fail "no free loopback port pair for swtpm"
	swtpm socket --tpm2 --tpmstate "dir=$state" \
		--server "type=tcp,port=$SWTPM_PORT,bindaddr=127.0.0.1" \
		--ctrl "type=tcp,port=$((SWTPM_PORT + 1)),bindaddr=127.0.0.1" \
		--flags not-need-init,startup-clear --log "file=$state/swtpm.log" \
		</dev/null >/dev/null 2>&1 &
	pid=$!
	STARTED+=("$pid -")
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$((SWTPM_PORT + 1))") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	fail "swtpm did not listen on 127.0.0.1:$((SWTPM_PORT + 1))"
}

# Mount SYSTEM at $MNT/SYSTEM and wait for the mount.
mount_system() {
	local sys=$1 mnt=$MNT/$1 pid
	local -a cmd

	mkdir -p "$mnt"
	case $sys in
	ptll) cmd=("$BIN/passthrough_ll" -f -o "source=$SRC" "$mnt") ;;
	ptll-always) cmd=("$BIN/passthrough_ll" -f -o "source=$SRC,cache=always" "$mnt") ;;
	mergerfs) cmd=(mergerfs -f -o cache.files=auto-full "$SRC" "$mnt") ;;
	imafs) cmd=("$IMAFS_BIN" -f --tpm none --runtime-dir "$RUN/$sys" "$SRC" "$mnt") ;;
	imafs-cached)
		cmd=("$IMAFS_BIN" -f --tpm none --cache-timeout 86400 --runtime-dir "$RUN/$sys"
			"$SRC" "$mnt")
		;;
	imafs-empty)
		cmd=("$IMAFS_BIN" -f --tpm none --policy "$BENCH_DIR/empty.policy"
			--runtime-dir "$RUN/$sys" "$SRC" "$mnt")
		;;
	imafs-swtpm)
		cmd=("$IMAFS_BIN" -f --tpm "swtpm:host=127.0.0.1,port=$SWTPM_PORT"
			--runtime-dir "$RUN/$sys" "$SRC" "$mnt")
		;;
	v-*)
		[[ -n ${VARIANT_BIN[${sys#v-}]:-} ]] || fail "no binary for variant '$sys'"
		cmd=("${VARIANT_BIN[${sys#v-}]}" -f --tpm none --runtime-dir "$RUN/$sys" "$SRC" "$mnt")
		;;
	*) fail "unknown system '$sys'" ;;
	esac

	"${cmd[@]}" </dev/null >"$BENCH_DIR/$sys.log" 2>&1 &
	pid=$!
	STARTED+=("$pid $mnt")
	echo "$pid" >"$BENCH_DIR/$sys.pid"
	for _ in $(seq 100); do
		mountpoint -q "$mnt" && return 0
		kill -0 "$pid" 2>/dev/null || fail "$sys exited before mounting: $(cat "$BENCH_DIR/$sys.log")"
		sleep 0.1
	done
	fail "$sys did not mount '$mnt' within 10 s"
}

root_of() {
	case $1 in
	native | openssl) echo "$SRC" ;;
	*) echo "$MNT/$1" ;;
	esac
}

log_count() {
	if [[ -r $RUN/$1/runtime_measurements_count ]]; then
		cat "$RUN/$1/runtime_measurements_count"
	else
		echo 0
	fi
}

# Whether SYSTEM takes part in WORKLOAD.
takes_part() {
	case $1 in
	openssl) [[ $2 == first-open ]] ;;
	imafs-swtpm) [[ $2 == open-new || $2 == read-small-warm-1t ]] ;;
	*) true ;;
	esac
}

# Run WORKLOAD on SYSTEM for ROUND; prints the driver's RESULT line plus details.
run_one() {
	local sys=$1 wl=$2 round=$3 root before after out new status
	local -a args
	root=$(root_of "$sys")
	new=$root/w/$wl-$round-$sys
	case $wl in
	read-small-*-?t)
		# read-small-cold-2t: temperature, then thread count.
		local temp=${wl#read-small-} threads=${wl##*-}
		args=(read-small "$root/small" "$BENCH_FILES" "${threads%t}" "${temp%-*}")
		;;
	stat-small) args=(stat-small "$root/small" "$BENCH_FILES") ;;
	readdir) args=(readdir "$root/small" "$BENCH_READDIR_REPEAT") ;;
	first-open) args=(first-open "$root/large-a" "$SRC/large-a") ;;
	seq-read-cold) args=(seq-read "$root/large-b" "$SRC/large-b" cold) ;;
	seq-read-warm) args=(seq-read "$root/large-b" "$SRC/large-b" warm) ;;
	exec) args=(exec "$root/exit0" "$BENCH_EXECS") ;;
	open-threads) args=(open-threads "$root/large-a" "$SRC/large-a" "$BENCH_OPEN_THREADS") ;;
	create-small) args=(create-small "$new" "$BENCH_FILES") ;;
	seq-write) args=(seq-write "$new" "$BENCH_LARGE_MB") ;;
	open-new)
		# Made natively, then opened once through the system: one measurement each.
		"$DRIVER" setup-small "$SRC/w/$wl-$round-$sys" "$BENCH_NEW" || return 1
		sync
		args=(open-new "$new" "$BENCH_NEW")
		;;
	*) fail "unknown workload '$wl'" ;;
	esac
	if [[ $sys == openssl ]]; then
		args=(command "$SRC/large-a" openssl dgst -sha256 "$SRC/large-a")
	fi

	case $wl in
	create-small | open-new)
		# These add BENCH_FILES or BENCH_NEW inodes. Evicting the cached ones first
		# keeps a daemon with a descriptor per inode below its limit.
		sync
		echo 2 >/proc/sys/vm/drop_caches
		sleep 1
		;;
	esac

	before=$(log_count "$sys")
	status=0
	out=$("$DRIVER" "${args[@]}") || status=1
	after=$(log_count "$sys")

	# Files written through the mount are removed through it, so no daemon pins them.
	case $wl in
	create-small | open-new) rm -rf "$new" "$SRC/w/$wl-$round-$sys" ;;
	seq-write) rm -f "$new" "$SRC/w/$wl-$round-$sys" ;;
	esac
	case $wl in
	create-small | seq-write) sync ;;
	esac
	((status == 0)) || return 1
	echo "$out log_delta=$((after - before))"
}

# Open every file once through each system before timing, so imafs's first
# measurement of the tree (one durable log record per file) is not part of any
# round. Cold runs later drop the kernel's caches, not imafs's measurements.
prime() {
	local sys root
	for sys in "$@"; do
		[[ $sys == openssl ]] && continue
		log "priming $sys"
		root=$(root_of "$sys")
		"$DRIVER" read-small "$root/small" "$BENCH_FILES" 1 warm >/dev/null
		"$DRIVER" seq-read "$root/large-b" "$SRC/large-b" warm >/dev/null
		"$DRIVER" exec "$root/exit0" 1 >/dev/null
	done
}

main() {
	local -a systems workloads order
	local round wl sys line i variant
	read -r -a systems <<<"$BENCH_SYSTEMS"
	# -d '': the default list spans several lines.
	read -r -d '' -a workloads <<<"$BENCH_WORKLOADS" || true

	check_environment
	install_missing
	build
	prepare_tree

	for variant in $BENCH_VARIANTS; do
		[[ $variant == *=* && -x ${variant#*=} ]] ||
			fail "invalid BENCH_VARIANTS entry '$variant': give NAME=EXECUTABLE"
		VARIANT_BIN[${variant%%=*}]=${variant#*=}
		systems+=("v-${variant%%=*}")
	done
	if [[ " ${systems[*]} " == *" imafs "* || -n $BENCH_VARIANTS ]]; then
		systems+=(openssl)
	fi
	if [[ $BENCH_SWTPM != 0 ]] && command -v swtpm >/dev/null &&
		[[ " ${workloads[*]} " == *" open-new "* ]]; then
		start_swtpm
		systems+=(imafs-swtpm)
	elif [[ $BENCH_SWTPM == 1 ]]; then
		fail "BENCH_SWTPM=1 but swtpm is not installed"
	fi
	for sys in "${systems[@]}"; do
		case $sys in
		native | openssl) ;;
		*) mount_system "$sys" ;;
		esac
	done

	prime "${systems[@]}"

	BENCH_OUT=${BENCH_OUT:-$BENCH_DIR/results-$(date +%Y%m%d-%H%M%S).tsv}
	{
		echo "# date=$(date -Is) host=$(uname -n) kernel=$(uname -r) nproc=$(nproc)"
		echo "# cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
		echo "# imafs=$IMAFS_BIN tree=$IMAFS_TREE libfuse=$(pkg-config --modversion fuse3)" \
			"mergerfs=$(mergerfs -V 2>/dev/null | sed -n '1s/.*version: //p')"
		echo "# files=$BENCH_FILES large_mb=$BENCH_LARGE_MB rounds=$BENCH_ROUNDS" \
			"execs=$BENCH_EXECS new=$BENCH_NEW open_threads=$BENCH_OPEN_THREADS" \
			"fs=$(stat -f -c %T "$BENCH_DIR") dir=$BENCH_DIR"
		printf 'round\tsystem\tworkload\tvalue\tunit\tdetails\n'
	} >"$BENCH_OUT"
	log "results go to $BENCH_OUT"

	for ((round = 1; round <= BENCH_ROUNDS; round++)); do
		order=()
		if ((round % 2)); then
			order=("${systems[@]}")
		else
			for ((i = ${#systems[@]} - 1; i >= 0; i--)); do
				order+=("${systems[i]}")
			done
		fi
		log "round $round of $BENCH_ROUNDS: ${order[*]}"
		for wl in "${workloads[@]}"; do
			for sys in "${order[@]}"; do
				takes_part "$sys" "$wl" || continue
				if ! line=$(run_one "$sys" "$wl" "$round"); then
					log "$wl on $sys failed in round $round"
					printf '%s\t%s\t%s\tFAIL\t-\t-\n' "$round" "$sys" "$wl" \
						>>"$BENCH_OUT"
					continue
				fi
				# RESULT NAME VALUE UNIT DETAILS...
				read -r _ _ value unit details <<<"$line"
				printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$sys" "$wl" "$value" \
					"$unit" "$details" >>"$BENCH_OUT"
			done
		done
	done

	for sys in "${systems[@]}"; do
		if [[ -r $BENCH_DIR/$sys.pid ]] && [[ $sys != native ]]; then
			printf '# rss %s %s kB, log entries %s\n' "$sys" \
				"$(awk '/^VmRSS/ {print $2}' "/proc/$(cat "$BENCH_DIR/$sys.pid")/status" \
					2>/dev/null || echo '?')" "$(log_count "$sys")" >>"$BENCH_OUT"
		fi
	done
	cleanup
	"$PY" "$REPO/bench/summarize.py" "$BENCH_OUT"
}

# bench/profile.sh sources this file for its functions.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	main "$@"
fi
