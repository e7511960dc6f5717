#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Profile workloads of bench/run.sh on one system. Each workload runs four
# times: plain for the timing, under system-wide perf sampling, under the FUSE
# request tracepoint, and with strace counting the daemon's system calls. Uses
# its own work directory so that it never disturbs a benchmark in progress.
#
# usage: [PROFILE_SYSTEM=imafs] bench/profile.sh WORKLOAD...
set -euo pipefail

if (($# < 1)); then
	echo "usage: [PROFILE_SYSTEM=imafs] bench/profile.sh WORKLOAD..." >&2
	exit 1
fi
PROFILE_SYSTEM=${PROFILE_SYSTEM:-imafs}
BENCH_DIR=${BENCH_DIR:-/var/tmp/imafs-profile}

# shellcheck source=bench/run.sh
source "$(dirname "${BASH_SOURCE[0]}")/run.sh"

profile_main() {
	local sys=$PROFILE_SYSTEM pid wl
	command -v perf >/dev/null || fail "perf not found (Debian: linux-perf)"
	command -v strace >/dev/null || fail "strace not found"

	check_environment
	install_missing
	build
	prepare_tree
	[[ $sys == imafs-swtpm ]] && start_swtpm
	case $sys in
	native | openssl) pid= ;;
	*)
		mount_system "$sys"
		pid=$(cat "$BENCH_DIR/$sys.pid")
		;;
	esac
	prime "$sys"
	for wl in "$@"; do
		profile_workload "$sys" "$wl" "$pid"
	done
}

# Number of timed file operations in one run of WORKLOAD, to print counts per operation.
ops_of() {
	case $1 in
	read-small-*-?t | stat-small | create-small) echo "$BENCH_FILES" ;;
	readdir) echo "$BENCH_READDIR_REPEAT" ;;
	exec) echo "$BENCH_EXECS" ;;
	open-new) echo "$BENCH_NEW" ;;
	*) echo 1 ;;
	esac
}

# Run WORKLOAD once on SYSTEM while "perf record ARGS..." samples the whole machine.
perf_during() {
	local sys=$1 wl=$2 round=$3 data=$4
	shift 4
	perf record -a -o "$data" "$@" -- sleep 3600 2>"$data.log" &
	local perf_pid=$!
	sleep 1
	run_one "$sys" "$wl" "$round"
	kill -INT "$perf_pid"
	wait "$perf_pid" || true
}

# Profile WORKLOAD on SYSTEM, whose daemon is PID (empty for native).
profile_workload() {
	local sys=$1 wl=$2 pid=$3 out strace_pid conn ops
	out=$BENCH_DIR/profile-$wl-$sys
	rm -rf "$out"
	mkdir -p "$out"
	ops=$(ops_of "$wl")
	echo "=== $wl on $sys ($ops operations per run)"

	# Start from an empty dentry cache, so the daemon keeps no descriptors for
	# inodes of earlier workloads (see the descriptor limit in run.sh).
	sync
	echo 3 >/proc/sys/vm/drop_caches
	log "plain run"
	run_one "$sys" "$wl" p1 | tee "$out/plain.txt"

	log "perf run (cpu-clock samples of every CPU)"
	perf_during "$sys" "$wl" p2 "$out/perf.data" -g -e cpu-clock | tee "$out/perf-run.txt"
	# head closes the pipe early; perf's SIGPIPE is expected.
	perf report -i "$out/perf.data" --no-children --sort comm,dso --stdio -g none \
		2>/dev/null | grep -v '^#' | grep -v '^$' | head -20 >"$out/perf-comm-dso.txt" || true
	echo "--- CPU time by process and object (idle is swapper)"
	cat "$out/perf-comm-dso.txt"
	if [[ -n $pid ]]; then
		perf report -i "$out/perf.data" --no-children --pid "$pid" --sort dso,sym --stdio \
			-g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -40 \
			>"$out/perf-daemon.txt" || true
		echo "--- hottest symbols in the daemon (percent of all samples)"
		cat "$out/perf-daemon.txt"

		# FUSE requests of this mount only: the tracepoint names the connection by s_dev.
		conn=$(mountpoint -d "$MNT/$sys")
		conn=$(((${conn%%:*} << 20) | ${conn##*:}))
		perf_during "$sys" "$wl" p3 "$out/fuse.data" -e fuse:fuse_request_send \
			>"$out/fuse-run.txt"
		perf script -i "$out/fuse.data" -F trace 2>/dev/null |
			awk -v conn="$conn" -v ops="$ops" '
				$2 == conn { n[$7]++ }
				END { for (op in n) printf "%-22s %9d %9.2f\n", op, n[op], n[op] / ops }' |
			sort -k2,2nr >"$out/fuse-requests.txt"
		echo "--- FUSE requests: opcode, count, per operation"
		cat "$out/fuse-requests.txt"

		log "strace run (counts only; the timing of this run is not meaningful)"
		strace -f -c -p "$pid" -o "$out/strace.txt" &
		strace_pid=$!
		sleep 1
		run_one "$sys" "$wl" p4 >"$out/strace-run.txt"
		kill -INT "$strace_pid"
		wait "$strace_pid" || true
		echo "--- daemon system calls during one run"
		cat "$out/strace.txt"
	fi
	log "results in $out"
}

profile_main "$@"
