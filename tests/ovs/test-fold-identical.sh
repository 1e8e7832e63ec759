#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Folding changes nothing a user can observe but the number of passes: the
# same traffic, replayed with folding off and on, gives byte-identical
# frames at the VM (ingress) and at the uplink (egress), equal OpenFlow and
# datapath flow counters and equal conntrack entries; and with folding on
# the traffic was really folded.
#
# Usage: test-fold-identical.sh ingress|egress

. "$(dirname "$0")/fold.sh"

dir=${1:?ingress or egress}
streams=16
packets=24

fold_scenario() {
	local mode=$1 pcap

	fold_start "fold-$dir-$mode" "$mode"
	fold_security_group
	pcap=$FP_SB_DIR/traffic.pcap
	if [ "$dir" = ingress ]; then
		"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
			--size 128 --out "$pcap" > /dev/null
	else
		# The VM talks to the remote VM: plain frames from vm0's MAC.
		"$FP_STREAMGEN" --plain --streams $streams --packets $packets \
			--proto tcp --size 128 --inner-src 10.1.0.1 \
			--inner-dst 10.0.0.1 --inner-src-mac 02:00:00:00:02:01 \
			--inner-dst-mac 02:00:00:00:01:01 --out "$pcap" > /dev/null
	fi
	fold_two_phases "$dir" "$pcap" $streams
	if [ "$mode" = on ] && [ "$FOLD_CT_MODE" = flowtable ]; then
		# A PMD publishes its coverage counters about once a second:
		# wait for what the assertion below needs, no longer.
		fp_wait_for 60 "the PMD to publish conntrack_flowtable_hit" \
			ft_published $(($(fold_stat hits) / 2))
	fi
	fold_save "$FOLD_RESULTS/$mode"
}

# Succeeds once conntrack_flowtable_hit has reached MIN.
ft_published() {
	local n

	n=$(fp_sb_appctl coverage/read-counter conntrack_flowtable_hit) &&
		[ "$n" -ge "$1" ]
}

fp_sb_require_env
fold_runs "identical-$dir" off on

hits=$(fold_stat hits "$FOLD_RESULTS/on/fold-show")
fp_check "with folding on, most packets were folded ($hits)" \
	test "$hits" -ge $((streams * packets / 2))
ft=$(cat "$FOLD_RESULTS/on/ct-flowtable-hits")
if [ "$FOLD_CT_MODE" = flowtable ]; then
	# Each direction of a stream needs one exact packet to vouch first.
	fp_check "fold-ct-mode=flowtable: conntrack's flowtable mode tracked most folded packets ($ft)" \
		test "$ft" -ge $((hits / 2))
else
	fp_check_eq "fold-ct-mode=exact: the flowtable mode tracked nothing" 0 "$ft"
fi
if [ "$dir" = ingress ]; then
	fold_same "$FOLD_RESULTS/off" "$FOLD_RESULTS/on" \
		$((streams * packets)) 0
else
	fold_same "$FOLD_RESULTS/off" "$FOLD_RESULTS/on" \
		0 $((streams * packets))
fi
