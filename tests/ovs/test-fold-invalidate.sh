#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A folded stream dies with the megaflows it was folded from: deleting the
# VM's port, or the whole bridge, deletes them, and the fold cache is empty
# soon after, counting the streams it invalidated.
#
# After the VM's port is deleted, the streams' next packets are dropped,
# and counted so (the OpenFlow pipeline's drop counter), not delivered
# elsewhere: neither to another VM (vm1, which a rule of its own gives the
# markers) nor out of the uplink; this is read once a marker (fp_sb_marker)
# sent after them has reached vm1. A port added in the deleted one's place
# (the same OpenFlow port) receives the streams again, every packet, through
# streams learned afresh.

. "$(dirname "$0")/fold.sh"

streams=8
packets=16

fold_empty() {
	[ "$(fold_stat streams)" = 0 ]
}

pipeline_drops() {
	fp_sb_appctl coverage/read-counter drop_action_of_pipeline
}

pipeline_drops_at_least() {
	[ "$(pipeline_drops)" -ge "$1" ]
}

fp_sb_require_env $((FP_SB_SOCKET_MEM + 2 * FP_SB_VM_MEM))
fold_start fold-invalidate on
fold_security_group
# vm1, on OpenFlow port 21, receives the markers, and nothing else.
fp_sb_vm_start vm1
fp_sb_add_vhu_port br-int vhu1 vm1 21
fp_sb_ofctl add-flow br-int \
	"table=0,priority=200,in_port=10,$FP_SB_MARKER_MATCH,actions=output:21" ||
	fp_die "cannot add the marker rule"
pcap=$FP_SB_DIR/traffic.pcap
"$FP_STREAMGEN" --streams $streams --packets $((3 * packets)) --proto tcp \
	--out "$pcap" > /dev/null
fp_sb_pcap_slice "$pcap" "$pcap.a" 0 $((streams * packets))
fp_sb_pcap_slice "$pcap" "$pcap.b" $((streams * packets)) $((streams * packets))
fp_sb_pcap_slice "$pcap" "$pcap.c" $((2 * streams * packets))

fold_two_phases ingress "$pcap.a" $streams
fp_check_eq "the streams are folded" $streams "$(fold_stat streams)"

# Port deletion: the streams that output to vhu0 go.
invalidations=$(fold_stat invalidations)
fp_sb_vsctl del-port br-int vhu0
fp_wait_for 10 "the fold cache to empty" fold_empty ||
	fp_die "streams survived the deletion of vhu0: $(fp_sb_appctl fold/show)"
echo "ok - deleting the VM's port invalidates its streams"
fp_check_eq "fold/show counts the $streams invalidations" $streams \
	$(( $(fold_stat invalidations) - invalidations ))

# The streams' next packets, for the deleted port: dropped, not delivered.
drops=$(pipeline_drops)
uplink_tx=$(fp_sb_iface_stat dpdk0 tx_packets)
fp_sb_vm_mark vm1
fp_sb_inject dpdk0 "$pcap.b" > /dev/null
fp_sb_marker dpdk0 "vm1, after the packets for the deleted port" \
	fp_sb_vm_marker_in vm1 60
fp_check_eq "no packet for the deleted port reached vm1" 0 \
	"$(fp_sb_vm_rx_since vm1 60)"
fp_check_eq "no packet for the deleted port left through the uplink" \
	"$uplink_tx" "$(fp_sb_iface_stat dpdk0 tx_packets)"
# The PMD adds its coverage counts to the global ones every few ms.
fp_wait_for 10 "the pipeline to count $((streams * packets)) drops" \
	pipeline_drops_at_least $((drops + streams * packets)) ||
	fp_die "the pipeline counted $(( $(pipeline_drops) - drops )) drops, expected $((streams * packets))"
echo "ok - the $((streams * packets)) packets for the deleted port were counted as dropped"

# A port in the deleted one's place gets the streams again, learned afresh.
fp_sb_vm_stop vm0
fp_sb_vm_start vm2
fp_sb_add_vhu_port br-int vhu2 vm2 20
fp_sb_appctl revalidator/wait > /dev/null
inserts=$(fold_stat inserts)
fp_sb_inject dpdk0 "$pcap.c" > /dev/null
fp_sb_wait_vm_rx vm2 $((streams * packets)) 30
echo "ok - the new port received all $((streams * packets)) packets"
fp_check_eq "the streams are folded again" $streams "$(fold_stat streams)"
fp_check "they were learned afresh ($(( $(fold_stat inserts) - inserts )) inserts)" \
	test $(( $(fold_stat inserts) - inserts )) -ge $streams

# Bridge deletion.
fp_sb_vsctl del-br br-int
fp_wait_for 10 "the fold cache to empty" fold_empty ||
	fp_die "streams survived the deletion of br-int: $(fp_sb_appctl fold/show)"
echo "ok - deleting the bridge invalidates its streams"
