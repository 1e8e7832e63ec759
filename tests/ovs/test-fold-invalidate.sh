#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A folded stream dies with the megaflows it was folded from: deleting the
# VM's port, or the whole bridge, deletes them, and the fold cache is empty
# soon after, counting the streams it invalidated. No packet reaches the
# VM through a dead chain.

. "$(dirname "$0")/fold.sh"

streams=8
packets=16

fold_empty() {
	[ "$(fold_stat streams)" = 0 ]
}

fp_sb_require_env
fold_start fold-invalidate on
fold_security_group
pcap=$FP_SB_DIR/traffic.pcap
"$FP_STREAMGEN" --streams $streams --packets $((2 * packets)) --proto tcp \
	--out "$pcap" > /dev/null
fp_sb_pcap_slice "$pcap" "$pcap.a" 0 $((streams * packets))
fp_sb_pcap_slice "$pcap" "$pcap.b" $((streams * packets))

fold_two_phases ingress "$pcap.a" $streams
fp_check_eq "the streams are folded" $streams "$(fold_stat streams)"

# Port deletion.
vm_rx=$(fp_sb_vm_stat vm0 ipackets)
fp_sb_vsctl del-port br-int vhu0
fp_wait_for 10 "the fold cache to empty" fold_empty ||
	fp_die "streams survived the deletion of vhu0: $(fp_sb_appctl fold/show)"
echo "ok - deleting the VM's port invalidates its streams"
fp_sb_inject dpdk0 "$pcap.b" > /dev/null
fp_wait_for 30 "the uplink to take the traffic" fp_sb_port_rx_at_least \
	dpdk0 $((2 * streams * packets)) || fp_die "the traffic did not arrive"
fp_check_eq "no packet reached the VM after that" "$vm_rx" \
	"$(fp_sb_vm_stat vm0 ipackets)"
fp_check "fold/show counts the invalidations" grep -qE \
	"invalidations: [1-9]" <<< "$(fp_sb_appctl fold/show)"

# Bridge deletion: fold the streams again behind a new port, then delete
# br-int.
fp_sb_vm_stop vm0
fp_sb_vm_start vm1 --capture "$FP_SB_DIR/vm1.pcap"
fp_sb_add_vhu_port br-int vhu1 vm1 20
fold_security_group
fp_sb_pcap_slice "$pcap" "$pcap.c" 0
fp_sb_inject dpdk0 "$pcap.c" > /dev/null
fp_sb_wait_vm_rx vm1 $((2 * streams * packets)) 30
fp_check "the streams are folded again" test "$(fold_stat streams)" -gt 0
fp_sb_vsctl del-br br-int
fp_wait_for 10 "the fold cache to empty" fold_empty ||
	fp_die "streams survived the deletion of br-int: $(fp_sb_appctl fold/show)"
echo "ok - deleting the bridge invalidates its streams"
