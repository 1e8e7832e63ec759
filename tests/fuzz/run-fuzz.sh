#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Fuzzes for SECONDS with libFuzzer, starting from the seed corpus (kept
# read-only: new inputs go to a scratch directory). A crash leaves the
# input that caused it in the working directory and fails the test, and so
# does a run of fewer than MIN_EXECS inputs: a fuzzer that barely ran
# checked nothing. An empty FUZZER means clang was missing at configure
# time, which fails too.
#
#   run-fuzz.sh FUZZER CORPUS SECONDS MIN_EXECS

set -e
if [ -z "$1" ]; then
	echo "FAIL: the fuzzer was not built: clang is missing (./foldpath setup installs it)"
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$1" -max_total_time="$3" -seed=1 -print_final_stats=1 "$work" "$2" \
	2> "$work.log" || { cat "$work.log"; rm -f "$work.log"; exit 1; }
cat "$work.log"
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log")
rm -f "$work.log"
if [ -z "$execs" ] || [ "$execs" -lt "$4" ]; then
	echo "FAIL: ${execs:-no} inputs executed in $3 s, fewer than $4"
	exit 1
fi
echo "ok - $execs inputs executed in $3 s (at least $4)"
