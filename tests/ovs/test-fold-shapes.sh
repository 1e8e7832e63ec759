#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Other pipelines fold too, with the same results as without folding:
#   ipv6-underlay  VXLAN over IPv6
#   inner-ipv6     IPv6 tenant traffic
#   inner-vlan     802.1Q-tagged tenant frames
#   two-zones      conntrack in zone 1, then in zone 2 (four passes)
#   nat            destination NAT of a virtual IP to the VM
#   tcp-flag-class data segments with and without PSH: one fold entry per
#                  stream (the key keeps TCP flags as a class), and the
#                  megaflows' TCP flags are each packet's own
#   ip-fragment    one segment of each folded stream arrives as two IPv4
#                  fragments: the parser leaves them to the normal pipeline,
#                  whose ct() reassembles them, and the streams stay folded
#                  around them (a ct() of a folded batch does not look for
#                  fragments: it never gets one)
#
# Usage: test-fold-shapes.sh SHAPE

. "$(dirname "$0")/fold.sh"

shape=${1:?shape}
streams=8
packets=24
gen=(--streams $streams --packets $packets --proto tcp --size 128)
start=()

case $shape in
ipv6-underlay)
	start=(--ipv6-underlay)
	gen+=(--outer-src fd00:31::2 --outer-dst fd00:31::1)
	;;
inner-ipv6)
	gen+=(--inner-src fd00:10::1 --inner-dst fd00:11::1)
	;;
inner-vlan)
	gen+=(--vlan 42)
	;;
two-zones|nat|tcp-flag-class)
	;;
ip-fragment)
	# Conntrack reassembles fragments of at least 1,200 bytes (but the
	# last), so the frames are large: 1,200 bytes of segment, then the
	# rest.
	gen=(--streams $streams --packets $packets --proto tcp --size 1400)
	;;
*)
	fp_die "unknown shape $shape"
	;;
esac

flows() {
	case $shape in
	two-zones)
		fp_sb_security_group --two-zones
		;;
	nat)
		# Traffic to the virtual IP 10.1.0.1 reaches the VM at 10.1.0.99.
		fp_sb_security_group --nat-dst 10.1.0.99
		;;
	*)
		fold_security_group
		;;
	esac
}

fold_scenario() {
	local mode=$1 pcap

	fold_start "fold-$shape-$mode" "$mode" "${start[@]}"
	flows
	pcap=$FP_SB_DIR/traffic.pcap
	"$FP_STREAMGEN" "${gen[@]}" --out "$pcap" > /dev/null
	if [ "$shape" = tcp-flag-class ]; then
		# The first packets, half of the rest (ACK), then the other
		# half with PSH|ACK.
		fp_sb_pcap_slice "$pcap" "$pcap.1" 0 $streams
		fp_sb_pcap_slice "$pcap" "$pcap.2" $streams \
			$((streams * (packets / 2 - 1)))
		fp_sb_pcap_slice "$pcap" "$pcap.ack" $((streams * packets / 2))
		"$FP_SB_TOOLS/fp-pcap" rewrite "$pcap.ack" "$pcap.3" tcp-psh \
			> /dev/null || fp_die "cannot add PSH"
		fold_ingress "$pcap.1"
		fold_ingress "$pcap.2"
		if [ "$mode" = on ]; then
			echo "$(fold_stat inserts) $(fold_stat hits)" > "$FP_SB_DIR/ack"
		fi
		fold_ingress "$pcap.3"
		mkdir -p "$FOLD_RESULTS/$mode"
		[ "$mode" = off ] || cp "$FP_SB_DIR/ack" "$FOLD_RESULTS/$mode/"
	elif [ "$shape" = ip-fragment ]; then
		# The first packets, half of the rest, one segment per stream
		# as fragments, then the rest.
		fp_sb_pcap_slice "$pcap" "$pcap.1" 0 $streams
		fp_sb_pcap_slice "$pcap" "$pcap.2" $streams \
			$((streams * (packets / 2 - 1)))
		fp_sb_pcap_slice "$pcap" "$pcap.seg" $((streams * packets / 2)) \
			$streams
		"$FP_SB_TOOLS/fp-pcap" rewrite "$pcap.seg" "$pcap.3" \
			ip-fragment:1200 > /dev/null || fp_die "cannot fragment"
		fp_sb_pcap_slice "$pcap" "$pcap.4" \
			$((streams * (packets / 2 + 1)))
		fold_ingress "$pcap.1"
		fold_ingress "$pcap.2"
		fold_ingress "$pcap.3"
		fold_ingress "$pcap.4"
	else
		fold_two_phases ingress "$pcap" $streams
	fi
	fold_save "$FOLD_RESULTS/$mode"
}

fp_sb_require_env
fold_runs "shape-$shape" off on

hits=$(fold_stat hits "$FOLD_RESULTS/on/fold-show")
fp_check "$shape: with folding on, most packets were folded ($hits)" \
	test "$hits" -ge $((streams * packets / 2))
vm_frames=$((streams * packets))
[ "$shape" != ip-fragment ] || vm_frames=$((vm_frames + streams))
fold_same "$FOLD_RESULTS/off" "$FOLD_RESULTS/on" $vm_frames 0
case $shape in
two-zones)
	fp_check "conntrack holds both zones" grep -q "zone=2" \
		"$FOLD_RESULTS/on/conntrack"
	;;
nat)
	fp_check "conntrack translated the destination" \
		grep -q "reply=(src=10.1.0.99" "$FOLD_RESULTS/on/conntrack"
	;;
ip-fragment)
	fp_check_eq "the parser left the $((2 * streams)) fragments to the normal pipeline" \
		"fragment=$((2 * streams))" \
		"$(grep -o "fragment=[0-9]*" "$FOLD_RESULTS/on/fold-show")"
	# An unreassembled fragment would be +inv, and dropped.
	for mode in off on; do
		fp_check "$mode: conntrack found the first fragments established" \
			grep -qE "ct_state\(-new\+est\+trk\).*frag=first" \
			"$FOLD_RESULTS/$mode/dp-flows"
	done
	;;
tcp-flag-class)
	read -r ins ack_hits < "$FOLD_RESULTS/on/ack"
	fp_check_eq "the PSH|ACK segments took the ACK segments' entries (no insert)" \
		"$ins" "$(fold_stat inserts "$FOLD_RESULTS/on/fold-show")"
	fp_check_eq "every PSH|ACK segment was folded" \
		$((streams * packets / 2)) \
		$(($(fold_stat hits "$FOLD_RESULTS/on/fold-show") - ack_hits))
	fp_check "the post-ct megaflow counted PSH (flags:P.), as without folding" \
		grep -q "ct_state(-new+est+trk).* flags:P\\., actions" \
		"$FOLD_RESULTS/on/dp-flows"
	;;
esac
