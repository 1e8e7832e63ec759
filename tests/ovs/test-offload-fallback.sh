#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Fold offload on ports that cannot take a rule: every established folded
# stream is offered to the offload thread once, refused for its ports (a
# pcap uplink and a vhost-user port are not ports of one e-switch), counted
# by reason with the reason's text in fold/offload-show, and stays in
# software: the VM receives every packet. With an fp-meter on the VM's
# port, the streams are refused for the meter.  Also: fold-offload without
# hw-offload is reported as off, and a bad policy value is refused and
# listed while the old value stays.

. "$(dirname "$0")/fold.sh"

streams=8
packets=24

offload_failures() {
	fold_offload_show dpdk0 | sed -n "s/^    $1: \([0-9]*\) (last: .*/\1/p"
}

offload_failures_are() {
	[ "$(offload_failures "$1")" = "$2" ]
}

fold_start offload-fallback on
fold_security_group
fp_sb_vsctl set Open_vSwitch . other_config:fold-offload=true \
	other_config:fold-offload-min-packets=4
fp_check_eq "fold-offload without hw-offload is off" \
	"fold offload: off: other_config:hw-offload is not true" \
	"$(fold_offload_show | head -n 1)"
fp_sb_vsctl set Open_vSwitch . other_config:hw-offload=true
fp_wait_for 10 "fold offload to be on" \
	eval '[ "$(fp_sb_appctl fold/offload-show | head -n 1)" = "fold offload: on" ]' ||
	fp_die "fold offload did not turn on: $(fold_offload_show)"

fp_sb_vsctl set Open_vSwitch . other_config:fold-offload-min-packets=lots
fp_check_eq "a bad policy value is listed, the old one stays" \
	"fold-offload-min-packets: 'lots' is not an integer from 1 to 1000000000; keeping 4" \
	"$(fold_offload_show | grep "fold-offload-min-packets:" | sed 's/^ *//')"
fp_check_eq "the policy line shows the value in force" 1 \
	"$(fold_offload_show | grep -c '^  policy: min-packets 4, ')"

pcap=$FP_SB_DIR/traffic.pcap
"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
	--out "$pcap" > /dev/null
fold_two_phases ingress "$pcap" $streams
echo "ok - the VM received all $((streams * packets)) packets"

fp_wait_for 10 "$streams refusals for the ports" \
	offload_failures_are port $streams ||
	fp_die "expected $streams refusals for the ports: $(fold_offload_show)"
echo "ok - each of the $streams streams was offered once and refused for its ports"
fp_check_eq "the reason names the ports" 1 \
	"$(fold_offload_show dpdk0 | grep -c 'dpdk0 and vhu0 are not ports of one e-switch')"
fp_check_eq "no rule is installed or pending" 1 \
	"$(fold_offload_show dpdk0 | grep -c 'rules installed: 0, pending: 0, created: 0')"
fp_check_eq "fold/show counts the offers" 1 \
	"$(fp_sb_appctl fold/show | grep -c "offload: 0 streams offered now, $streams in total")"
echo "ok - streams offered: $(fold_stat hits) fold hits so far"

# Refused streams are not offered again. A marker, here a new stream of
# the marker flows long enough to be folded and offered, is refused after
# them by the offload thread, which takes offers in order: once its
# refusal is counted, any refusal of the streams' new offers would be too.
fold_ingress "$FP_SB_DIR/traffic.pcap.2"
"$FP_STREAMGEN" --streams 1 --packets $packets --proto tcp \
	--dport $((0x1b00 + FP_SB_MARKERS)) --out "$FP_SB_DIR/marker.pcap" \
	> /dev/null
FP_SB_MARKERS=$((FP_SB_MARKERS + 1))
fold_two_phases ingress "$FP_SB_DIR/marker.pcap" 1
fp_wait_for 10 "the marker stream's refusal" \
	eval '[ "$(offload_failures port)" -ge '$((streams + 1))' ]' ||
	fp_die "the marker stream was not refused: $(fold_offload_show)"
fp_check_eq "refused streams are not offered again (the marker's refusal aside)" \
	$((streams + 1)) "$(offload_failures port)"
# A metered port: refused for its meter, which a rule would bypass.
fp_sb_vsctl -- set Port vhu0 qos=@q -- --id=@q create QoS type=fp-meter \
	other-config:egress-cir=1000000000 other-config:egress-cbs=1000000 \
	> /dev/null || fp_die "cannot set the meter"
fp_sb_appctl fold/flush > /dev/null
fold_ingress "$FP_SB_DIR/traffic.pcap.2"
fp_wait_for 10 "$streams refusals for the meter" \
	offload_failures_are metered $streams ||
	fp_die "expected $streams refusals for the meter: $(fold_offload_show)"
fp_check_eq "the reason names the metered port" 1 \
	"$(fold_offload_show dpdk0 | grep -c 'metered: .*vhu0 has a software meter')"
fp_check_eq "an unknown option is an error" \
	"unknown option '--bogus' (try --streams)" \
	"$(fp_sb_appctl fold/offload-show --bogus 2>&1 | head -n 1)"
echo "ok - offload-fallback"
