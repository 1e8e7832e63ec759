#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Folded streams follow their conntrack entries: real conntrack runs on
# every folded packet, and the guard sends a packet whose conntrack state
# is not the one learnt back to the normal pipeline. Each case runs with
# folding off and on and must give the same frames, counters and conntrack
# entries.
#
#   flush  dpctl/flush-conntrack under folded streams: the next packet of
#          each stream is +new, not +est, so each chain must go: the
#          guard fires, or the chain saw that the connection it holds
#          ended (fold/show's "connections ended")
#   fin    full TCP connections closed with FIN, then a late segment: the
#          connections must end up closed (TIME_WAIT) in conntrack
#   rst    the same, closed with RST
#
# Usage: test-fold-ct.sh flush|fin|rst

. "$(dirname "$0")/fold.sh"

case=${1:?flush, fin or rst}
streams=8
packets=6

fold_scenario() {
	local mode=$1 fwd rev k

	fold_start "fold-ct-$case-$mode" "$mode"
	fold_security_group
	fwd=$FP_SB_DIR/fwd.pcap
	rev=$FP_SB_DIR/rev.pcap

	if [ "$case" = flush ]; then
		"$FP_STREAMGEN" --streams $streams --packets $((2 * packets)) \
			--proto tcp --out "$fwd" > /dev/null
		fp_sb_pcap_slice "$fwd" "$fwd.a" 0 $((streams * packets))
		fp_sb_pcap_slice "$fwd" "$fwd.b" $((streams * packets)) \
			$((streams * packets))
		fold_two_phases ingress "$fwd.a" $streams
		fp_sb_appctl dpctl/flush-conntrack > /dev/null
		fp_check_eq "$mode: the conntrack table is empty" 0 "$(fp_sb_ct_count)"
		fold_two_phases ingress "$fwd.b" $streams
		fold_save "$FOLD_RESULTS/$mode"
		return
	fi

	# Whole connections: forward packet k from the remote VM, then the
	# local VM's answer k, for every k.
	"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
		--tcp-handshake --out "$fwd" > /dev/null
	"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
		--tcp-handshake --out /dev/null --reverse "$rev" > /dev/null
	for k in $(seq 0 $((packets - 1))); do
		fp_sb_pcap_slice "$fwd" "$fwd.$k" $((k * streams)) $streams
		fp_sb_pcap_slice "$rev" "$rev.$k" $((k * streams)) $streams
		if [ "$case" = rst ] && [ $k = $((packets - 1)) ]; then
			# The remote VM resets instead of closing; nobody answers.
			"$FP_SB_TOOLS/fp-pcap" rewrite "$fwd.$k" "$fwd.$k.rst" tcp-rst \
				> /dev/null
			fold_ingress "$fwd.$k.rst"
			break
		fi
		fold_ingress "$fwd.$k"
		fold_egress "$rev.$k"
	done
	# A late segment after the close: a copy of data packet 2.
	FOLD_VM_RX=$(fp_sb_vm_stat vm0 ipackets)
	fp_sb_inject dpdk0 "$fwd.2" > /dev/null
	fp_wait_for 30 "the uplink to take the late segments" \
		fp_sb_port_rx_at_least dpdk0 $(( (packets + 1) * streams )) ||
		fp_die "the late segments did not arrive"
	fp_sb_appctl revalidator/wait > /dev/null
	fold_save "$FOLD_RESULTS/$mode"
}

fp_sb_require_env
fold_runs "ct-$case" off on

# What the VM and the uplink receive: flush, both halves of the forward
# traffic; fin, every forward packet and its answer, and the late segments;
# rst, the same but for the last answer, which the reset replaces.
case $case in
flush) fold_same "$FOLD_RESULTS/off" "$FOLD_RESULTS/on" \
	$((2 * streams * packets)) 0 ;;
fin) fold_same "$FOLD_RESULTS/off" "$FOLD_RESULTS/on" \
	$(((packets + 1) * streams)) $((packets * streams)) ;;
rst) fold_same "$FOLD_RESULTS/off" "$FOLD_RESULTS/on" \
	$(((packets + 1) * streams)) $(((packets - 1) * streams)) ;;
esac
hits=$(fold_stat hits "$FOLD_RESULTS/on/fold-show")
guard=$(fold_stat "guard failures" "$FOLD_RESULTS/on/fold-show")
fp_check "$case: with folding on, packets were folded ($hits)" \
	test "$hits" -gt 0
ended=$(fold_stat "connections ended" "$FOLD_RESULTS/on/fold-show")
echo "$case: guard failures with folding on: $guard," \
	"chains whose connection ended: $ended"
case $case in
flush)
	fp_check "flush: the chains of the flushed streams went ($guard guard failures, $ended connections ended)" \
		test $((guard + ended)) -ge "$streams"
	;;
fin|rst)
	fp_check_eq "$case: every connection is closed, with folding on" \
		$streams "$(grep -c 'state=TIME_WAIT' "$FOLD_RESULTS/on/conntrack")"
	;;
esac
