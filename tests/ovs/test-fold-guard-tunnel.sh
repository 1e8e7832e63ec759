#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A decapsulated folded packet whose guard fails resumes the pipeline with
# its tunnel metadata. The folded path strips the VXLAN headers and leaves
# the packet's tunnel metadata empty; the guard fills it, from the stream's
# key, for a packet it sends back to the pipeline.
#
# TCP connections are set up and carried folded, both directions, over the
# VXLAN tenant network. Then the remote VM sends, on each, a copy of a data
# segment moved far back in the sequence space: the same fold key as the
# stream's (the same TCP flags), so it takes the folded path, where
# conntrack finds it outside the window (+inv), the guard fails and the
# packet is recirculated into the post-ct table. That table delivers +inv
# packets to the VM only if the tunnel fields match (VNI and both VTEPs),
# and drops the others. More segments follow, to show that the invalid
# ones left the streams folded.
#
# The runs with folding off and on must give the same frames (the invalid
# segments reach the VM in both), the same OpenFlow and datapath flow
# counters and conntrack entries; with folding on, every invalid segment
# must have failed its guard on the folded path.
#
# What shows the tunnel metadata is the post-ct megaflow, not the delivery:
# OpenFlow resumes a recirculated packet with the tunnel metadata frozen
# with its recirculation id (ofproto/trace of the +inv pass without a
# tunnel still matches the tun_id rule and outputs to the VM), but the
# datapath builds the megaflow's key from the packet's own metadata. A
# packet recirculated with empty or wrong tunnel metadata installs a
# megaflow whose key lacks the tunnel or has other values, and the
# megaflows of the runs differ; the test also checks that the +inv
# megaflow of the run with folding on matches the VNI and both VTEPs.

. "$(dirname "$0")/fold.sh"

streams=8
packets=8      # SYN, 6 data segments, FIN; the FIN is never sent.
data_k=4       # The data segment the invalid copies are made of.
back=1073741824

# Sends the invalid segments INV and, with folding on, keeps in DIR the
# fold hits so far.
# Usage: send_invalid INV MODE DIR
send_invalid() {
	fold_ingress "$1"
	[ "$2" != on ] || fold_stat hits > "$3/hits-after-invalid"
}

fold_scenario() {
	local mode=$1 fwd rev exp inv dir

	fold_start "fold-guard-tunnel-$mode" "$mode"
	fold_security_group
	fp_sb_ofctl add-flows br-int - <<-EOF || fp_die "cannot add the +inv rules"
	table=1,priority=90,ct_state=+trk+inv,tun_id=100,tun_src=$FP_SB_REMOTE,tun_dst=$FP_SB_VTEP,actions=output:20
	table=1,priority=80,ct_state=+trk+inv,actions=drop
	EOF
	dir=$FOLD_RESULTS/$mode
	mkdir -p "$dir"
	fwd=$FP_SB_DIR/fwd.pcap
	rev=$FP_SB_DIR/rev.pcap
	exp=$FP_SB_DIR/exp.pcap
	inv=$FP_SB_DIR/inv.pcap
	"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
		--tcp-handshake --out "$fwd" --expect "$exp" --reverse "$rev" \
		> /dev/null
	fp_sb_pcap_slice "$fwd" "$inv.vxlan" $((data_k * streams)) $streams
	"$FP_SB_TOOLS/fp-pcap" rewrite "$inv.vxlan" "$inv" tcp-seq-back:$back \
		> /dev/null || fp_die "cannot rewrite the invalid segments"
	# The invalid segments as the VM receives them.
	fp_sb_pcap_slice "$exp" "$exp.inv" $((data_k * streams)) $streams
	"$FP_SB_TOOLS/fp-pcap" rewrite "$exp.inv" "$dir/invalid-expected.pcap" \
		tcp-seq-back:$back > /dev/null ||
		fp_die "cannot rewrite the expected invalid segments"

	fold_tcp_exchange "$fwd" "$rev" $streams $((packets - 2)) $data_k \
		send_invalid "$inv" "$mode" "$dir"
	fold_save "$dir"
}

# The frames vm0 received in run DIR while the invalid segments were sent:
# data_k + 1 phases of 'streams' frames came before them.
invalid_delivered() {
	local dir=$1

	fp_sb_pcap_slice "$dir/vm0.pcap" "$dir/invalid-delivered.pcap" \
		$(((data_k + 1) * streams)) $streams
	"$FP_SB_TOOLS/fp-pcap" diff --per-flow "$dir/invalid-expected.pcap" \
		"$dir/invalid-delivered.pcap"
}

# Prints the n_packets of the rule of br-int in run DIR whose match is
# MATCH.
rule_packets() {
	awk -v m="$2" '
		index($0, " " m " actions=") {
			sub(/.*n_packets=/, "")
			sub(/,.*/, "")
			print
		}' "$1/of-br-int"
}

fp_sb_require_env
fold_runs guard-tunnel off on

on=$FOLD_RESULTS/on
fold_same "$FOLD_RESULTS/off" "$on" $(((packets - 1) * streams + streams)) \
	$(((packets - 1) * streams))
for run in off on; do
	fp_check "$run: the VM received the $streams invalid segments, as sent" \
		invalid_delivered "$FOLD_RESULTS/$run"
done
fp_check_eq "the +inv rule that matches the tunnel delivered every invalid segment" \
	$streams "$(rule_packets "$on" "priority=90,ct_state=+inv+trk,tun_id=0x64,tun_src=$FP_SB_REMOTE,tun_dst=$FP_SB_VTEP")"
fp_check_eq "the +inv rule that does not match the tunnel dropped none" \
	0 "$(rule_packets "$on" "priority=80,ct_state=+inv+trk")"
# The megaflow's counters leave out the packet whose upcall installed it.
fp_check_eq "the post-ct +inv megaflow matches the tunnel and carried the invalid segments" \
	1 "$(grep -c "^tunnel(tun_id=0x64,src=$FP_SB_REMOTE,dst=$FP_SB_VTEP,flags(-df-csum+key)),ct_state([-+a-z]*+inv+trk),recirc_id(0x[0-9a-f]*),.* packets:$((streams - 1)), .*actions:[0-9]*$" "$on/dp-flows")"
hits=$(fold_stat hits "$on/fold-show")
guard=$(fold_stat "guard failures" "$on/fold-show")
echo "guard failures with folding on: $guard; hits: $hits"
fp_check_eq "with folding on, every invalid segment took the folded path and failed its guard" \
	$streams "$guard"
# After the invalid segments, data segments data_k + 1 to packets - 2 and
# their answers: all folded.
after=$((hits - $(cat "$on/hits-after-invalid")))
fp_check_eq "the streams stayed folded after the invalid segments (hits after them)" \
	$((2 * (packets - 2 - data_k) * streams)) "$after"
