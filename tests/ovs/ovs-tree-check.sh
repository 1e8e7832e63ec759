#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Checks on the patched OVS tree in <build>/ovs (suite ovs-tree; no root).
# Run without arguments for its usage.

set -uo pipefail

usage() {
	cat <<-'EOF'
	Checks on the patched OVS tree in <build>/ovs (suite ovs-tree; no root).

	  ovs-tree-check.sh checkpatch         every patch of the series passes
	                                       OVS's utilities/checkpatch.py
	  ovs-tree-check.sh autotest KEYWORD...
	                                       OVS's own autotest groups matching
	                                       any KEYWORD pass, with the patches
	EOF
}

build=${FP_BUILD:?FP_BUILD must name the meson build directory}
ovs=$build/ovs
gitdir=$build/ovs.git

[ -f "$ovs/Makefile" ] || { echo "SKIP: OVS is not built in $ovs"; exit 77; }

case ${1:-} in
checkpatch)
	n=$(git --git-dir="$gitdir" rev-list --count foldpath-base..HEAD)
	echo "checking $n commits"
	if [ "$n" -lt 2 ]; then
		echo "FAIL: $n commits after foldpath-base in $gitdir; expected the overlay and the series"
		exit 1
	fi
	# checkpatch runs git itself; point it at the tree's separate git dir.
	cd "$ovs" && GIT_DIR=$gitdir GIT_WORK_TREE=$ovs \
		python3 utilities/checkpatch.py "-$n"
	;;
autotest)
	shift
	[ $# -gt 0 ] || { echo "autotest: name at least one keyword" >&2; exit 2; }
	flags="-j$(nproc)"
	for k in "$@"; do
		flags+=" -k $k"
	done
	if make -C "$ovs" check TESTSUITEFLAGS="$flags" > "$ovs/foldpath-check.log" 2>&1; then
		grep -E '^[0-9]+: ' "$ovs/foldpath-check.log"
		grep -E 'tests? (were|was) successful|skipped' "$ovs/foldpath-check.log"
		ran=$(grep -cE '^[0-9]+: .* ok$' "$ovs/foldpath-check.log" || true)
		if [ "$ran" -eq 0 ]; then
			echo "FAIL: no autotest group matching '$*' passed; a check that runs nothing checks nothing"
			exit 1
		fi
		echo "$ran groups passed"
		exit 0
	fi
	grep -E '^[0-9]+: |FAILED|ERROR' "$ovs/foldpath-check.log" | tail -n 40
	echo "OVS autotest failed; see $ovs/tests/testsuite.log and $ovs/tests/testsuite.dir/"
	exit 1
	;;
*)
	usage >&2
	exit 2
	;;
esac
