#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A TCP connection is "liberal" (conntrack does not check its sequence
# numbers) only while the NIC forwards its packets without tracking its
# windows, and strict again once its last rule is gone. With the TEST
# E-SWITCH PMD (tests/eswitch: a software model, not a NIC) without
# CONNTRACK (reject=conntrack), so in tcp-flags mode:
#
#   - while the streams' rules are installed, fold/offload-show counts
#     their connections as liberal;
#   - the NIC forwards segments of each stream moved 1 GiB forward in the
#     sequence space (a tcp-flags rule does not look at sequence numbers):
#     hardware moved the sequence numbers on without software;
#   - fold-offload=false removes the rules, and no connection is liberal
#     any more;
#   - the streams' next segments, as far forward, reach the VM through
#     software: conntrack learnt each connection's windows afresh from them
#     (as Linux conntrack does when it takes a connection back from its
#     flowtable), where its old windows would find them invalid;
#   - then a segment from 1 GiB back is invalid: the +inv rule drops it
#     and the VM receives none (a connection still liberal would let it
#     through);
#   - the segments after it reach the VM.

. "$(dirname "$0")/fold.sh"

FOLD_INGRESS_ACK=vm

streams=8
packets=40
learn=16
min_packets=8
gib=1073741824
# fp-pcap's tcp-seq-back moves a sequence number back modulo 2^32: this
# moves it 1 GiB forward.
forward=$((4294967296 - gib))

# Usage: offload_field FIELD
offload_field() {
	fold_offload_show dpdk0 | sed -n "s/.*$1: \([0-9]*\).*/\1/p" | head -n 1
}

# Usage: offload_field_is FIELD VALUE
offload_field_is() {
	[ "$(offload_field "$1")" = "$2" ]
}

# The n_packets of the +inv rule of table 1.
inv_packets() {
	fp_sb_appctl revalidator/wait > /dev/null
	fp_sb_ofctl dump-flows br-int "table=1,ct_state=+trk+inv" |
		sed -n 's/.*n_packets=\([0-9]*\),.*/\1/p'
}

FP_SB_PLUGIN=$FP_ESWITCH fp_sb_start offload-liberal
fp_sb_vsctl set Open_vSwitch . other_config:max-idle=120000 \
	other_config:hw-offload=true other_config:fold-offload=true \
	other_config:fold-offload-min-packets=$min_packets \
	other_config:fold-offload-age=120 other_config:fold-ct-mode=exact
fp_sb_tenant_network eswitch --vm vm0 --devargs reject=conntrack
fold_security_group
fp_sb_ofctl add-flows br-int - <<-EOF || fp_die "cannot add the +inv rule"
table=1,priority=80,ct_state=+trk+inv,actions=drop
EOF
FOLD_VM_RX=0

pcap=$FP_SB_DIR/traffic.pcap
"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
	--out "$pcap" > /dev/null
slice() {
	fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/$1" $(($2 * streams)) \
		$(($3 * streams))
}
# Learning: packet 0 of each stream (+new), 3 more each (the +est
# megaflows' upcalls), then the fold hits that earn a rule.
slice learn.1 0 1
slice learn.2 1 3
slice learn.3 4 $((learn - 4))
slice hw.0 $learn 16
slice next.0 $((learn + 16)) 4
slice stale.pcap $((learn + 20)) 1
slice after.0 $((learn + 21)) 3
for part in hw next after; do
	"$FP_SB_TOOLS/fp-pcap" rewrite "$FP_SB_DIR/$part.0" \
		"$FP_SB_DIR/$part.pcap" tcp-seq-back:$forward > /dev/null ||
		fp_die "cannot move the $part segments forward"
done

for part in 1 2 3; do
	fold_ingress "$FP_SB_DIR/learn.$part"
done
fp_wait_for 10 "$streams rules" offload_field_is "rules installed" $streams ||
	fp_die "expected $streams rules: $(fold_offload_show dpdk0)"
fp_check_eq "the port is in tcp-flags mode (the e-switch has no CONNTRACK)" 1 \
	"$(fold_offload_show dpdk0 | grep -c 'conntrack mode: tcp-flags')"
fp_check_eq "the $streams connections are liberal while their rules are installed" \
	$streams "$(offload_field 'liberal connections')"

rx_before=$(fp_sb_iface_stat dpdk0 rx_packets)
fold_ingress "$FP_SB_DIR/hw.pcap"
fp_check_eq "the NIC forwarded the segments moved 1 GiB forward: OVS saw none" \
	"$rx_before" "$(fp_sb_iface_stat dpdk0 rx_packets)"
upkeep=$(fp_sb_appctl fold/show | sed -n 's/^ *offload upkeep: //p')
fp_check "the PMD measured its offload upkeep ($upkeep)" \
	eval '[ "$(echo "$upkeep" | sed -n "s/.* in \([0-9]*\) calls.*/\1/p")" -gt 0 ]'

fp_sb_vsctl set Open_vSwitch . other_config:fold-offload=false
fp_wait_for 10 "the rules to go" offload_field_is "rules installed" 0 ||
	fp_die "rules are still installed: $(fold_offload_show dpdk0)"
fp_check_eq "with their rules gone, no connection is liberal" 0 \
	"$(offload_field 'liberal connections')"
fold_offload_show dpdk0 | sed -n '1,3p' | sed 's/^/  | /'

inv_before=$(inv_packets)
rx_before=$(fp_sb_iface_stat dpdk0 rx_packets)
fold_ingress "$FP_SB_DIR/next.pcap"
fp_check_eq "the next segments took software (dpdk0 rx)" \
	$((rx_before + streams * 4)) "$(fp_sb_iface_stat dpdk0 rx_packets)"
echo "ok - conntrack learnt the windows afresh: the VM received all $((streams * 4)) next segments"

fold_inject_missed "$FP_SB_DIR/stale.pcap" $streams "stale segments"
fp_check_eq "the segments from 1 GiB back are invalid: the VM received none" \
	0 "$(fp_sb_vm_rx_since vm0 60)"
fp_check_eq "the +inv rule dropped them" $((inv_before + streams)) \
	"$(inv_packets)"

FOLD_VM_RX=$(fp_sb_vm_stat vm0 ipackets)
fold_ingress "$FP_SB_DIR/after.pcap"
echo "ok - the VM received the $((streams * 3)) segments after them"
fp_sb_appctl dpctl/dump-conntrack | head -n 2 | sed 's/^/  | /'
fp_sb_teardown
trap - EXIT
