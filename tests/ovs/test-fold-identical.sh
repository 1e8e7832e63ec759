#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Folding changes nothing a user can observe but the number of passes: the
# same traffic, replayed with folding off and on, gives byte-identical
# frames at the VM (ingress) and at the uplink (egress), equal OpenFlow and
# datapath flow counters and equal conntrack entries; and with folding on
# the traffic was really folded.
#
# With FOLD_TRAIN=N (ingress), each stream's packets come N back to back,
# as a burst of one connection does, instead of round-robin over the
# streams: then, in fold-ct-mode=exact, consecutive folded packets of one
# connection share one section of its lock (conntrack_held_shared), and
# must still give the same results. With FOLD_SG_MARK=1, every packet's
# ct() also sets the connection's mark and label (fp_sb_security_group
# --mark), which the short path does in that same section.
#
# Usage: test-fold-identical.sh ingress|egress

. "$(dirname "$0")/fold.sh"

dir=${1:?ingress or egress}
streams=16
train=${FOLD_TRAIN:-1}
[ "$train" = 1 ] || [ "$dir" = ingress ] ||
	fp_die "FOLD_TRAIN is for the ingress direction"
# A stream is learnt from its second batch with a miss: with trains, its
# first two trains take the normal pipeline, so it sends twice as many,
# after one lone packet (see below).
packets=$((train > 1 ? 48 : 24))
frames=$((streams * (packets + (train > 1))))

fold_scenario() {
	local mode=$1 pcap

	fold_start "fold-$dir-$mode" "$mode"
	fold_security_group ${FOLD_SG_MARK:+--mark}
	pcap=$FP_SB_DIR/traffic.pcap
	if [ "$dir" = ingress ]; then
		"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
			--size 128 --train "$train" --out "$pcap" > /dev/null
	else
		# The VM talks to the remote VM: plain frames from vm0's MAC.
		"$FP_STREAMGEN" --plain --streams $streams --packets $packets \
			--proto tcp --size 128 --inner-src 10.1.0.1 \
			--inner-dst 10.0.0.1 --inner-src-mac 02:00:00:00:02:01 \
			--inner-dst-mac 02:00:00:00:01:01 --out "$pcap" > /dev/null
	fi
	if [ "$train" -gt 1 ]; then
		# One lone packet per stream first commits its connection
		# (ct(commit) in table 1). Otherwise how many packets of a
		# stream's first train see it +new, which is every one that
		# reaches the uncommitted ct() of table 0 in the same batch as
		# the first, would depend on how the replay's bursts split the
		# train, in either run.
		"$FP_STREAMGEN" --streams $streams --packets 1 --proto tcp \
			--size 128 --out "$pcap.first" > /dev/null
		fold_ingress "$pcap.first"
		fold_ingress "$pcap"
	else
		fold_two_phases "$dir" "$pcap" $streams
	fi
	if [ "$mode" = on ] && [ "$FOLD_CT_MODE" = flowtable ]; then
		# A PMD publishes its coverage counters about once a second:
		# wait for what the assertion below needs, no longer.
		fp_wait_for 60 "the PMD to publish conntrack_flowtable_hit" \
			fold_coverage_at_least conntrack_flowtable_hit \
			$(($(fold_stat hits) / 2))
	fi
	if [ "$mode" = on ] && [ "$train" -gt 1 ] &&
	   [ "$FOLD_CT_MODE" != flowtable ]; then
		# As above: wait for what the assertion below needs.
		fp_wait_for 60 "the PMD to publish conntrack_held_shared" \
			fold_coverage_at_least conntrack_held_shared \
			$(($(fold_stat hits) / 4))
	fi
	fp_sb_appctl coverage/read-counter conntrack_held_shared \
		> "$FOLD_RESULTS/$mode-held-shared"
	fold_save "$FOLD_RESULTS/$mode"
}

fp_sb_require_env
fold_runs "identical-$dir" off on

hits=$(fold_stat hits "$FOLD_RESULTS/on/fold-show")
fp_check "with folding on, most packets were folded ($hits)" \
	test "$hits" -ge $((frames / 2))
ft=$(cat "$FOLD_RESULTS/on/ct-flowtable-hits")
if [ "$FOLD_CT_MODE" = flowtable ]; then
	# Each direction of a stream needs one exact packet to vouch first.
	fp_check "fold-ct-mode=flowtable: conntrack's flowtable mode tracked most folded packets ($ft)" \
		test "$ft" -ge $((hits / 2))
else
	fp_check_eq "fold-ct-mode=exact: the flowtable mode tracked nothing" 0 "$ft"
fi
shared=$(cat "$FOLD_RESULTS/on-held-shared")
fp_check_eq "with folding off, no packet went through a held connection" \
	0 "$(cat "$FOLD_RESULTS/off-held-shared")"
if [ "$FOLD_CT_MODE" = flowtable ]; then
	fp_check_eq "fold-ct-mode=flowtable: the exact short path, and so its shared lock sections, took no packet" \
		0 "$shared"
elif [ "$train" -gt 1 ]; then
	# Of each train, all but the first packet can follow the one before
	# in its connection's lock section, when they share a batch.
	fp_check "trains of $train: consecutive folded packets of one connection shared a lock section ($shared of $hits)" \
		test "$shared" -ge $((hits / 4))
fi
if [ "$dir" = ingress ]; then
	fold_same "$FOLD_RESULTS/off" "$FOLD_RESULTS/on" "$frames" 0
else
	fold_same "$FOLD_RESULTS/off" "$FOLD_RESULTS/on" 0 "$frames"
fi
