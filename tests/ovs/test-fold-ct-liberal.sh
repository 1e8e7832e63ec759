#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# What other_config:fold-ct-mode=flowtable gives up, and what exact mode
# keeps: conntrack's sequence and window checks on established streams.
#
# In flowtable mode, once conntrack's exact path has judged a packet of a
# folded, established stream valid, it vouches for that direction: later
# packets of that direction without SYN, FIN or RST skip conntrack's
# per-packet checks (key extraction, checksums, TCP window and sequence
# checks) and are +trk+est (+rpl), as with Linux's nf_flowtable, and the
# TCP connection becomes "liberal" for good (the exact path no longer
# checks its sequence numbers either). With fold-ct-mode=exact (the
# default) conntrack stays exact: an out-of-window segment is +inv,
# folding or not.
#
# TCP connections are set up and carried folded, both directions, over the
# VXLAN tenant network. Then the remote VM sends, on half of them, a copy of
# a data segment moved far back in the sequence space (out of window), on
# the other half a copy with a bad TCP checksum, and more segments follow. A rule of the post-ct table from the tunnel counts and
# drops +inv packets. (Only forward segments carry data: the local VM's
# answers are pure ACKs, whose sequence numbers conntrack does not check.)
#
# Three runs: folding off, folding on with fold-ct-mode=exact, folding on
# with fold-ct-mode=flowtable. With folding off and with exact mode,
# conntrack's sequence check failed every out-of-window segment, its
# checksum check every bad one, the +inv rule dropped them and the VM got
# none; the two runs give the same frames, flow counters and conntrack
# entries (exact mode is what conntrack does without folding), and in exact
# mode conntrack tracked the folded packets through the connection their
# stream holds, without a lookup (conntrack_held_hit). With flowtable mode,
# no sequence or checksum check failed and the +inv rule counted nothing:
# the invalid segments were +est and reached the VM, conntrack tracked
# packets through its flowtable, and no folded packet failed its guard. All three runs end with the same
# conntrack entries: the liberal mode changes the verdict on out-of-window
# segments, not the connections' states.

. "$(dirname "$0")/fold.sh"

streams=8
packets=8      # SYN, 6 data segments, FIN; the FIN is never sent.
data_k=4       # The data segment the out-of-window copies are made of.
back=1073741824
n_seq=$((streams / 2))    # Streams whose invalid segment is out of window.
# Where the inner Ethernet type is in the first frame of a pcap of VXLAN
# frames over IPv4: the pcap header (24 bytes), the frame's (16), outer
# Ethernet, IPv4, UDP, VXLAN (50) and the inner MAC addresses (12).
mark_type=$((24 + 16 + 50 + 12))

# Run off: folding off; exact and flowtable: folding on, with that
# fold-ct-mode.
fold_scenario() {
	local run=$1 mode fwd rev exp inv mark dir n_inv drops c

	case $run in
	off) mode=off; FOLD_CT_MODE=exact ;;
	exact) mode=on; FOLD_CT_MODE=exact ;;
	flowtable) mode=on; FOLD_CT_MODE=flowtable ;;
	*) fp_die "unknown run $run" ;;
	esac
	# The out-of-window segments that reach the VM.
	n_inv=$([ "$run" = flowtable ] && echo $streams || echo 0)

	fold_start "fold-ct-liberal-$run" "$mode"
	fold_security_group
	fp_sb_ofctl add-flows br-int - <<-EOF || fp_die "cannot add the +inv rules"
	table=1,priority=80,ct_state=+trk+inv,actions=drop
	EOF
	dir=$FOLD_RESULTS/$run
	mkdir -p "$dir"
	fp_sb_appctl fold/show | head -1 > "$dir/fold-config"
	fwd=$FP_SB_DIR/fwd.pcap
	rev=$FP_SB_DIR/rev.pcap
	exp=$FP_SB_DIR/exp.pcap
	inv=$FP_SB_DIR/inv.pcap
	mark=$FP_SB_DIR/mark.pcap
	"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
		--tcp-handshake --out "$fwd" --expect "$exp" --reverse "$rev" \
		> /dev/null
	invalid_segments "$fwd" "$inv"
	# What the VM must receive: the forward frames, and, in flowtable
	# mode, the out-of-window segments after data segment data_k.
	fp_sb_pcap_slice "$exp" "$dir/vm-before.pcap" 0 $(((data_k + 1) * streams))
	fp_sb_pcap_slice "$exp" "$dir/vm-after.pcap" \
		$(((data_k + 1) * streams)) $(((packets - 2 - data_k) * streams))
	invalid_segments "$exp" "$dir/vm-invalid.pcap"

	fold_tcp_exchange "$fwd" "$rev" $streams $((packets - 2)) $data_k \
		fold_ingress "$inv" "$n_inv"
	# The PMD adds its coverage counts to the totals that
	# coverage/read-counter reads about once a second. A last frame, from
	# the tunnel and not IP (the inner Ethernet type made 0x88b5), is
	# dropped by table 0: once drop_action_of_pipeline counts it, the
	# counts of all the packets before it are in the totals. The +inv
	# rule drops with the same action.
	fp_sb_pcap_slice "$fwd" "$mark" 0 1
	[ "$(od -An -tx1 -j $mark_type -N2 "$mark" | tr -d ' ')" = 0800 ] ||
		fp_die "the marker's inner Ethernet type is not at byte $mark_type"
	printf '\x88\xb5' |
		dd of="$mark" bs=1 seek=$mark_type conv=notrunc status=none
	fold_ingress "$mark" 0
	# The +inv rule's drops and the marker.
	drops=$((n_inv ? 1 : streams + 1))
	fp_wait_for 30 "the PMD's coverage counts to reach the totals" \
		fold_coverage_at_least drop_action_of_pipeline $drops ||
		fp_die "drop_action_of_pipeline is $(coverage drop_action_of_pipeline), expected $drops"
	for c in drop_action_of_pipeline conntrack_tcp_seq_chk_failed \
		conntrack_l4csum_err conntrack_flowtable_vouch \
		conntrack_flowtable_hit conntrack_held_hit; do
		coverage $c > "$dir/$c" ||
			fp_die "cannot read the coverage counter $c"
	done
	fold_save "$dir"
}

# Writes to OUT the invalid copies of data segment data_k of the streams
# in IN: moved back out of the window for the first half of the streams,
# with a bad TCP checksum for the others.
# Usage: invalid_segments IN OUT
invalid_segments() {
	local in=$1 out=$2 at=$((data_k * streams))

	fp_sb_pcap_slice "$in" "$out.seq" $at $n_seq
	fp_sb_pcap_slice "$in" "$out.csum" $((at + n_seq)) $((streams - n_seq))
	"$FP_SB_TOOLS/fp-pcap" rewrite "$out.seq" "$out.seq.bad" \
		tcp-seq-back:$back > /dev/null &&
	"$FP_SB_TOOLS/fp-pcap" rewrite "$out.csum" "$out.csum.bad" \
		tcp-csum-bad > /dev/null &&
	"$FP_SB_TOOLS/fp-pcap" cat "$out" "$out.seq.bad" "$out.csum.bad" \
		> /dev/null || fp_die "cannot write the invalid segments of $in"
}

# Prints a coverage counter of the running sandbox.
coverage() {
	fp_sb_appctl coverage/read-counter "$1"
}

# Prints the n_packets of the rule of br-int in table TABLE of run DIR whose
# match is MATCH.
# Usage: rule_packets DIR TABLE MATCH
rule_packets() {
	awk -v t=" table=$2," -v m=" $3 actions=" '
		index($0, t) && index($0, m) {
			sub(/.*n_packets=/, "")
			sub(/,.*/, "")
			print
		}' "$1/of-br-int"
}

# The frames vm0 received in run DIR, in three parts: before the
# out-of-window segments, those (COUNT of them), and after.
# Usage: vm_received DIR COUNT
vm_received() {
	local dir=$1 n=$2 before after

	before=$(fp_sb_pcap_frames "$dir/vm-before.pcap")
	after=$(fp_sb_pcap_frames "$dir/vm-after.pcap")
	[ "$(fp_sb_pcap_frames "$dir/vm0.pcap")" = $((before + n + after)) ] ||
		return 1
	fp_sb_pcap_slice "$dir/vm0.pcap" "$dir/got-before.pcap" 0 "$before"
	fp_sb_pcap_slice "$dir/vm0.pcap" "$dir/got-invalid.pcap" "$before" "$n"
	fp_sb_pcap_slice "$dir/vm0.pcap" "$dir/got-after.pcap" $((before + n))
	"$FP_SB_TOOLS/fp-pcap" diff --per-flow "$dir/vm-before.pcap" \
		"$dir/got-before.pcap" &&
	"$FP_SB_TOOLS/fp-pcap" diff --per-flow "$dir/vm-after.pcap" \
		"$dir/got-after.pcap" || return 1
	if [ "$n" = 0 ]; then
		[ "$(fp_sb_pcap_frames "$dir/got-invalid.pcap")" = 0 ]
	else
		"$FP_SB_TOOLS/fp-pcap" diff --per-flow "$dir/vm-invalid.pcap" \
			"$dir/got-invalid.pcap"
	fi
}

fp_sb_require_env
fold_runs ct-liberal off exact flowtable

R=$FOLD_RESULTS
for run in off exact flowtable; do
	echo "$run: $(cat "$R/$run/fold-config")"
done
fp_check_eq "exact: fold-ct-mode is exact" 1 \
	"$(grep -c 'fold-enable=true .*fold-ct-mode=exact' "$R/exact/fold-config")"
fp_check_eq "flowtable: fold-ct-mode is flowtable" 1 \
	"$(grep -c 'fold-enable=true .*fold-ct-mode=flowtable' "$R/flowtable/fold-config")"

# Exact mode with folding is what conntrack does without folding.
fold_same "$R/off" "$R/exact" $(((packets - 1) * streams)) \
	$(((packets - 1) * streams))

for run in off exact; do
	fp_check_eq "$run: the +inv rule dropped the $streams invalid segments" \
		$streams "$(rule_packets "$R/$run" 1 "priority=80,ct_state=+inv+trk")"
	fp_check "$run: the VM received every segment but the invalid ones" \
		vm_received "$R/$run" 0
	fp_check_eq "$run: conntrack's sequence check failed the $n_seq out-of-window segments" \
		$n_seq "$(cat "$R/$run/conntrack_tcp_seq_chk_failed")"
	fp_check_eq "$run: conntrack's checksum check failed the $((streams - n_seq)) bad segments, once each" \
		$((streams - n_seq)) "$(cat "$R/$run/conntrack_l4csum_err")"
	fp_check_eq "$run: the pipeline dropped them and the marker" \
		$((streams + 1)) "$(cat "$R/$run/drop_action_of_pipeline")"
	fp_check_eq "$run: conntrack vouched for no stream" \
		0 "$(cat "$R/$run/conntrack_flowtable_vouch")"
	fp_check_eq "$run: conntrack tracked no packet through its flowtable" \
		0 "$(cat "$R/$run/conntrack_flowtable_hit")"
done
guard=$(fold_stat "guard failures" "$R/exact/fold-show")
fp_check_eq "exact: the invalid segments took the folded path and failed their guard" \
	$streams "$guard"
held=$(cat "$R/exact/conntrack_held_hit")
hits=$(fold_stat hits "$R/exact/fold-show")
fp_check "exact: conntrack tracked most folded packets through their stream's connection, without a lookup ($held of $hits)" \
	test "$held" -ge $((hits / 2))
for run in off flowtable; do
	fp_check_eq "$run: conntrack tracked no packet through a held connection without a lookup" \
		0 "$(cat "$R/$run/conntrack_held_hit")"
done

ft=$R/flowtable
fp_check_eq "flowtable: the +inv rule counted no packet" \
	0 "$(rule_packets "$ft" 1 "priority=80,ct_state=+inv+trk")"
fp_check_eq "flowtable: the +est rule passed the out-of-window segments too" \
	$(($(rule_packets "$R/exact" 1 "priority=100,ct_state=+est+trk") + streams)) \
	"$(rule_packets "$ft" 1 "priority=100,ct_state=+est+trk")"
fp_check "flowtable: the VM received every segment, the invalid ones after data segment $data_k" \
	vm_received "$ft" $streams
fp_check "flowtable: the uplink sent the same frames as with folding off" \
	"$FP_SB_TOOLS/fp-pcap" diff --per-flow "$R/off/uplink.pcap" "$ft/uplink.pcap"
fp_check_eq "flowtable: conntrack's sequence check failed no segment" \
	0 "$(cat "$ft/conntrack_tcp_seq_chk_failed")"
fp_check_eq "flowtable: conntrack's checksum check failed no segment" \
	0 "$(cat "$ft/conntrack_l4csum_err")"
fp_check_eq "flowtable: the pipeline dropped only the marker" \
	1 "$(cat "$ft/drop_action_of_pipeline")"
vouch=$(cat "$ft/conntrack_flowtable_vouch")
hits=$(cat "$ft/conntrack_flowtable_hit")
echo "flowtable: conntrack_flowtable_vouch $vouch, conntrack_flowtable_hit $hits"
fp_check "flowtable: conntrack vouched for streams ($vouch)" [ "$vouch" -gt 0 ]
fp_check "flowtable: conntrack tracked packets through its flowtable ($hits)" \
	[ "$hits" -gt 0 ]
fp_check_eq "flowtable: no folded packet failed its guard" \
	0 "$(fold_stat "guard failures" "$ft/fold-show")"
echo "fold hits: exact $(fold_stat hits "$R/exact/fold-show"), flowtable $(fold_stat hits "$ft/fold-show")"

fp_check "the three runs end with the same conntrack entries ($(wc -l < "$R/off/conntrack") lines)" \
	diff -u "$R/off/conntrack" "$ft/conntrack"
