#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The harness tears down everything it started when a test fails, and when
# a test is interrupted: daemons and VMs (by PID), the namespace, the run
# directory with its sockets, DPDK runtime directories and hugepage files.

. "$(dirname "$0")/sandbox.sh"

fp_sb_require_env

state=$(mktemp)
trap 'rm -f "$state"' EXIT

# A test that brings up OVS and a VM, records what it started, then fails
# (mode "fail") or waits to be killed (mode "hang").
child() {
	. "$FP_TOOLS_DIR/sandbox.sh"
	fp_sb_start "teardown-$1"
	fp_sb_vm_start vm0
	fp_sb_add_bridge br-int
	fp_sb_add_vhu_port br-int vhu0 vm0
	{
		echo "ns=$FP_SB_NS"
		echo "dir=$FP_SB_DIR"
		echo "prefix=$FP_SB_PREFIX"
		echo "pids='$(cat "$FP_SB_DIR/ovs-vswitchd.pid") $(cat "$FP_SB_DIR/ovsdb-server.pid") ${FP_SB_VM_PID[vm0]}'"
		echo "up=1"
	} > "$STATE"
	if [ "$1" = fail ]; then
		fp_die "failing on purpose"
	fi
	# Waiting in the shell, not in a child, lets the trap run at once.
	sleep 600 &
	fp_sb_on_exit "kill $!"
	wait $!
}
export -f child
export FP_TOOLS_DIR=$FP_SB_TOOLS

pid_gone() {
	! fp_pid_alive "$1"
}

check_gone() {
	local what=$1 pid

	# shellcheck disable=SC1090
	. "$state"
	[ "$up" = 1 ] || fp_die "$what: the sandbox never came up"
	# Gone means not running: an exited daemon may stay a zombie until
	# init reaps it (fp_pid_alive).
	for pid in $pids; do
		fp_check "$what: pid $pid is gone" pid_gone "$pid"
	done
	fp_check "$what: namespace $ns is gone" \
		sh -c "! ip netns list | grep -qw '$ns'"
	fp_check "$what: run directory is gone" test ! -e "$dir"
	fp_check "$what: no hugepage files" \
		sh -c "! ls /dev/hugepages/ | grep -q '^$prefix'"
	fp_check "$what: no DPDK runtime directories" \
		sh -c "! ls /var/run/dpdk/ 2> /dev/null | grep -q '^$prefix'"
}

: > "$state"
STATE=$state bash -c 'child fail' > /dev/null 2>&1
fp_check_eq "a failing test still fails" 1 $?
check_gone "after a failure"

: > "$state"
STATE=$state bash -c 'child hang' > /dev/null 2>&1 &
runner=$!
fp_wait_for 120 "the sandbox to come up" grep -q up=1 "$state" ||
	fp_die "the sandbox did not come up"
kill -TERM $runner
wait $runner
fp_check_eq "an interrupted test exits 143" 143 $?
check_gone "after SIGTERM"
