#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Regression test of the imafs-log command against the vector logs: every
# binary list must dump to its stored ASCII list, replay to its stored PCR
# values and verify against them, and a copy with one changed byte must fail
# verify.
#
# usage: test-imafs-log.sh IMAFS-LOG VECTOR-LOGS-DIR
# Prints "skip: ..." and exits 0 when the vector directory does not exist.

set -u
tool=$1
logs=$2
if [ ! -f "$logs/embrave/binary_runtime_measurements" ]; then
	echo "skip: no vector logs in $logs"
	exit 0
fi
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
fails=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# Run the tool; a sanitizer report on stderr counts as a failure.
run() {
	"$tool" "$@" 2>"$work/stderr"
	rc=$?
	if grep -q 'Sanitizer\|runtime error' "$work/stderr"; then
		fail "sanitizer report from: $*"
		cat "$work/stderr"
	fi
	return $rc
}

# check_list DIR SUFFIX PCRS_SHA1 PCRS_SHA256
check_list() {
	list=$logs/$1/binary_runtime_measurements$2
	ascii=$logs/$1/ascii_runtime_measurements$2
	[ -f "$list" ] || return 0

	run dump "$list" >"$work/dump" || fail "dump $list exits $rc: $(cat "$work/stderr")"
	cmp -s "$work/dump" "$ascii" || fail "dump $list differs from $ascii"

	for bank in sha1 sha256; do
		[ $bank = sha1 ] && pcrs=$3 || pcrs=$4
		run replay --bank $bank --pcr 10 "$list" >"$work/pcr10" || fail "replay $list"
		grep '^PCR-10:' "$pcrs" | cmp -s - "$work/pcr10" ||
			fail "replay $list: $bank PCR-10 is $(cat "$work/pcr10")"
	done

	run verify --pcrs "sha1,$3" --pcrs "sha256,$4" "$list" >"$work/verify" ||
		fail "verify $list exits $rc: $(cat "$work/stderr")"
	n=$(grep -c '^verified: PCR-10 sha[12]5*6* matches after record' "$work/verify")
	[ "$n" = 2 ] || fail "verify $list prints: $(cat "$work/verify")"
}

for d in ima-ng-violation ima-sig ima ima-ngv2; do
	for s in "" _sha256 _sha384 _sha512; do
		check_list generated/$d "$s" "$logs/generated/$d/pcrs_sha1.txt" \
			"$logs/generated/$d/pcrs_sha256.txt"
	done
done
check_list embrave "" "$logs/derived/embrave-pcrs_sha1.txt" "$logs/derived/embrave-pcrs_sha256.txt"

# replay output is itself a valid --pcrs file, both banks in one.
emb=$logs/embrave/binary_runtime_measurements
run replay "$emb" >"$work/both" || fail "replay $emb"
run verify --pcrs "$work/both" "$emb" >/dev/null || fail "verify against replay output"
run replay -o "$work/out" "$emb" || fail "replay -o"
cmp -s "$work/out_sha256" "$logs/derived/embrave-pcrs_sha256.txt" ||
	grep -q "$(grep PCR-10 "$work/out_sha256")" "$logs/derived/embrave-pcrs_sha256.txt" ||
	fail "replay -o PREFIX_sha256 has the wrong PCR-10"

# A quote taken after record 2 of 4 still verifies and reports that position.
v=$logs/generated/ima-ng-violation
printf 'PCR-10: f9eba1dbcf3ebda238b87587f39a14f879caaeba\n' >"$work/q"
run verify --pcrs "$work/q" "$v/binary_runtime_measurements" >"$work/verify" ||
	fail "verify of a list longer than the quote"
grep -q 'matches after record 2 of 4' "$work/verify" || fail "quote position: $(cat "$work/verify")"

# Forgeries: one changed byte in a record's template data, digest, PCR index
# or length word must fail verify (exit 1).
for offset in 60 8 0 25 100000 125000; do
	python3 - "$emb" "$work/binary_runtime_measurements" "$offset" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
data[int(sys.argv[3])] ^= 0x01
open(sys.argv[2], 'wb').write(data)
EOF
	run verify --pcrs "sha1,$logs/derived/embrave-pcrs_sha1.txt" \
		--pcrs "sha256,$logs/derived/embrave-pcrs_sha256.txt" \
		"$work/binary_runtime_measurements" >"$work/verify"
	[ $rc = 1 ] || fail "verify of a list with byte $offset changed exits $rc"
	! grep -q '^verified' "$work/verify" || fail "byte $offset changed, still 'verified'"
done

# A PCR value that the list never reaches fails.
sed 's/^PCR-10: 0/PCR-10: 1/' "$logs/derived/embrave-pcrs_sha256.txt" >"$work/wrong"
run verify --pcrs "sha256,$work/wrong" "$emb" >/dev/null
[ $rc = 1 ] || fail "verify against a wrong PCR-10 exits $rc"

# Usage errors exit 2.
for args in "" "frob x" "dump" "dump a b" "replay --pcrs x $emb" "verify $emb" \
	"dump --bank md9 $emb" "replay --pcr 64 $emb"; do
	# shellcheck disable=SC2086
	run $args >/dev/null
	[ $rc = 2 ] || fail "'imafs-log $args' exits $rc, not 2"
done

if [ $fails -ne 0 ]; then
	echo "$fails failures"
	exit 1
fi
echo "imafs-log: all checks passed"
