#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# A folded stream is metered exactly like an unfolded one. The VXLAN +
# conntrack tenant network of fold.sh runs once with folding off and once
# on; established streams then meet, in each run, an egress meter on the
# VM's port and then an ingress meter on the uplink. Each has a burst of
# exactly B frames (60-byte frames at the VM, 110 bytes with their VXLAN
# headers at the uplink) and a rate of 8 bits/s, so that no token comes
# back during the test: a burst of 160 frames delivers exactly B, in both
# runs, and the meter counts them green and the rest dropped, read once a
# marker sent after the burst is through (fp_sb_marker). In the run with
# folding on, the metered packets were fold hits.

. "$(dirname "$0")/fold.sh"

streams=8
packets=48
learn=8

# Sends PCAP into the uplink and sets GOT to the packets the meter of PORT
# in direction DIR let through. Once the uplink has received the burst, a
# marker through the marker ports (fp_sb_add_marker_ports) comes after it:
# when it is out, the PMD has metered the whole burst, and the meter's
# counters are final. Fails unless the meter counted every packet of the
# burst, passed or dropped, and the VM then receives exactly what passed.
# Usage: send_burst PCAP PORT DIR
send_burst() {
	local pcap=$1 port=$2 dir=$3 before n mk

	before=$(fp_sb_vm_stat vm0 ipackets)
	n=$(fp_sb_pcap_frames "$pcap")
	# In chunks the uplink acknowledges: its ring overflows when a CPU
	# hog keeps the PMD off the core. The meter gives back 1 byte/s, so
	# the seconds this takes return no frame's worth of tokens.
	fp_sb_inject_acked dpdk0 "$pcap" > /dev/null
	mk=$(( $(fp_sb_iface_stat mkout tx_packets) + 1 ))
	fp_sb_marker --plain mkin "after the burst" \
		fp_sb_port_tx_at_least mkout $mk
	GOT=$(qos_green "$port" "$dir")
	fp_check_eq "$mode, $dir: the meter metered the whole burst" "$n" \
		$((GOT + $(qos_dropped "$port" "$dir")))
	fp_sb_wait_vm_rx vm0 $((before + GOT)) 10
	echo "ok - $mode, $dir: the VM received the $GOT packets the meter passed"
}

qos_dropped() {
	fp_sb_appctl qos/show "$1" | sed -n "s/^$2-dropped: \([0-9]*\)$/\1/p"
}

qos_green() {
	fp_sb_appctl qos/show "$1" | sed -n "s/^$2-green: \([0-9]*\) packets.*/\1/p"
}

fold_scenario() {
	local mode=$1 pcap q got hits_before hits dir port key

	fold_start "qos-fold-$mode" "$mode"
	fold_security_group
	pcap=$FP_SB_DIR/traffic.pcap
	"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
		--out "$pcap" > /dev/null
	"$FP_SB_TOOLS/fp-pcap" slice "$pcap" "$pcap.learn" 0 \
		$((streams * learn)) > /dev/null
	"$FP_SB_TOOLS/fp-pcap" slice "$pcap" "$pcap.a" $((streams * learn)) \
		$((streams * 20)) > /dev/null
	"$FP_SB_TOOLS/fp-pcap" slice "$pcap" "$pcap.b" $((streams * 28)) \
		$((streams * 20)) > /dev/null
	fold_two_phases ingress "$pcap.learn" $streams
	fp_sb_add_marker_ports br-int

	for dir in egress ingress; do
		if [ $dir = egress ]; then
			port=vhu0 burst=40 bytes=$((40 * 60)) slice=$pcap.a
		else
			port=dpdk0 burst=25 bytes=$((25 * 110)) slice=$pcap.b
			fp_sb_vsctl clear Port vhu0 qos
		fi
		fp_sb_vsctl -- set Port $port qos=@q -- --id=@q create QoS \
			type=fp-meter other-config:$dir-cir=8 \
			other-config:$dir-cbs=$bytes \
			> /dev/null || fp_die "cannot set the $dir meter"
		hits_before=$(fold_stat hits)
		send_burst "$slice" $port $dir
		got=$GOT
		fp_check_eq "$mode, $dir: a burst delivers exactly cbs" \
			"$burst" "$got"
		echo "$got" > "$FOLD_RESULTS/$mode-$dir"
		hits=$(( $(fold_stat hits) - hits_before ))
		if [ "$mode" = on ]; then
			# Egress: every delivered packet was folded. Ingress:
			# the meter drops before the fold cache; what passes
			# is folded.
			[ "$hits" -ge "$got" ] ||
				fp_die "$mode, $dir: $hits fold hits for $got packets"
		else
			fp_check_eq "$mode, $dir: nothing folded" 0 "$hits"
		fi
		echo "ok - $mode, $dir: $got of $((streams * 20)) delivered, $hits fold hits"
	done
}

fp_sb_require_env
fold_runs qos-fold off on
for dir in egress ingress; do
	fp_check_eq "$dir: folded and unfolded deliver the same" \
		"$(cat "$FOLD_RESULTS/off-$dir")" "$(cat "$FOLD_RESULTS/on-$dir")"
done
echo "PASS: qos-fold"
