#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Fuzzes for SECONDS with libFuzzer, starting from the seed corpus (kept
# read-only: new inputs go to a scratch directory). A crash leaves the
# input that caused it in the working directory and fails the test.
#
#   run-fuzz.sh FUZZER CORPUS SECONDS

set -e
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$1" -max_total_time="$3" -seed=1 -print_final_stats=1 "$work" "$2"
