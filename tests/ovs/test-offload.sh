#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Folded streams offloaded to an e-switch, end to end, with the TEST
# E-SWITCH PMD (tests/eswitch: a software model, not a NIC). The uplink and
# the VM's VF representor are ports of one e-switch; the VM is testpmd on
# the VF. A VXLAN + conntrack tenant network (fold.sh's security group):
#
#   - after fold-offload-min-packets hits, each established stream has a
#     rule; its next packets reach the VM without reaching OVS (the
#     uplink's rx counter stays still while the VM receives them all);
#   - the rules' counters reach the megaflows and OpenFlow counters: the
#     +est rule counts every packet, software and hardware;
#   - software conntrack reads the NIC's windows when a packet needs them:
#     a packet a window behind them is invalid, and an RST at the
#     sequence number where they end is taken; a FIN misses the rule and
#     reaches software conntrack, which accepts it although the hardware
#     moved the sequence numbers on;
#   - an OpenFlow deny removes the rules, and delivery stops (the delay
#     from the deny to the last rule gone is printed);
#   - each "the VM received none" is read once a marker (fp_sb_marker)
#     sent after the packets has reached the VM;
#   - the NIC's packets refresh the connections' conntrack timeouts;
#   - a NIC that rejects the rule shape leaves the streams in software,
#     delivered, with the NIC's reason in fold/offload-show;
#   - a full rule table fails creation, with the reason, and rules that
#     see no packet for fold-offload-age seconds age out;
#   - egress: a VM's established streams get a rule on its representor
#     that pushes the outer header; the frames on the wire are those
#     software sent, outer header and UDP source port included, and OVS
#     sees none of them;
#   - a meter put on the VM's port removes the rules to it, whose streams
#     are then metered in software;
#   - a conntrack flush removes the rules of its connections, and removing
#     the VM's port removes the rules that deliver to it and the port's
#     records.

. "$(dirname "$0")/fold.sh"

# The e-switch forwards offloaded frames: dpdk0 never counts them, so
# fold_ingress waits for vm0 to count each chunk instead (see
# fold_ingress).
FOLD_INGRESS_ACK=vm

streams=8
packets=120
learn=16
min_packets=8

# Usage: offload_field FIELD [PORT]
offload_field() {
	fold_offload_show "${2:-dpdk0}" | sed -n "s/.*$1: \([0-9]*\).*/\1/p" | head -n 1
}

# Usage: offload_field_is FIELD VALUE [PORT]
offload_field_is() {
	[ "$(offload_field "$1" "${3:-dpdk0}")" = "$2" ]
}

# Builds the network on the test e-switch. DEVARGS go to the uplink.
# Usage: offload_start NAME [DEVARGS]
offload_start() {
	FP_SB_PLUGIN=$FP_ESWITCH fp_sb_start "$1"
	fp_sb_vsctl set Open_vSwitch . other_config:max-idle=120000 \
		other_config:hw-offload=true other_config:fold-offload=true \
		other_config:fold-offload-min-packets=$min_packets \
		other_config:fold-ct-mode="$FOLD_CT_MODE"
	fp_sb_tenant_network eswitch --vm vm0 --devargs "${2:-}"
	fold_security_group
	FOLD_VM_RX=0
}

# Packets the +est rule of a table counted: 1 from the tunnel, 2 from the VM.
# Usage: est_packets [TABLE]
est_packets() {
	fp_sb_ofctl dump-flows br-int "table=${1:-1},ct_state=+trk+est" |
		sed -n 's/.*n_packets=\([0-9]*\),.*/\1/p'
}

# Usage: est_packets_are N [TABLE]
est_packets_are() {
	fp_sb_appctl revalidator/wait > /dev/null
	[ "$(est_packets "${2:-1}")" = "$1" ]
}

# The least time to live (s) of the connections, from dpctl/dump-conntrack.
ct_timeout_min() {
	fp_sb_appctl dpctl/dump-conntrack -s |
		sed -n 's/.*timeout=\([0-9]*\).*/\1/p' | sort -n | head -n 1
}

nic_packets_are() {
	[ "$(fp_sb_appctl fold/show | sed -n 's/.*, \([0-9]*\) packets forwarded by the NIC/\1/p' | awk '{s += $1} END {print s + 0}')" = "$1" ]
}

# The wire: the veth the uplink's outside is attached to.
wire_iface() {
	fp_sb_vsctl get Interface dpdk0 external_ids:fp-inject | tr -d '"'
}

# Frames that reached the wire, from OVS (dpdk0) or from the NIC: once a
# stream has its rule, the rest of its learning packets may take it.
wire_rx() {
	fp_sb_netns cat "/sys/class/net/$wire/statistics/rx_packets"
}
wire_rx_is() {
	[ "$(wire_rx)" -ge "$1" ]
}

# Sends PCAPs from the VM's VF in turn, each once the wire has received
# the frames before it.
# Usage: vf_learn PCAP...
vf_learn() {
	local p sent=0 wire0

	wire0=$(wire_rx)
	for p in "$@"; do
		sent=$((sent + $("$FP_SB_TOOLS/fp-pcap" count "$p")))
		fp_sb_vf_inject vf0 "$p"
		fp_wait_for 10 "the wire to receive $sent frames" \
			wire_rx_is $((wire0 + sent)) ||
			fp_die "the wire received $(( $(wire_rx) - wire0 )) frames, expected $sent"
	done
}

# --- Part 1: offload, counters, FIN, deny. ---
offload_start offload
# Rules that see no packet for a minute age out (part 3 tests aging).
fp_sb_vsctl set Open_vSwitch . other_config:fold-offload-age=60
pcap=$FP_SB_DIR/traffic.pcap
"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
	--out "$pcap" --reverse "$FP_SB_DIR/answers.pcap" > /dev/null
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/learn.pcap" 0 $((streams * learn))
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/hw.pcap" \
	$((streams * learn)) $((streams * 80))
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/late.pcap" \
	$((streams * (learn + 80))) $((streams * 8))
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/again.pcap" \
	$((streams * (learn + 88))) $((streams * 12))

# Learning: packet 0 of each stream (+new), 3 more each (the +est
# megaflows' upcalls), then the fold hits that earn a rule.
fp_sb_pcap_slice "$FP_SB_DIR/learn.pcap" "$FP_SB_DIR/learn.1" 0 $streams
fp_sb_pcap_slice "$FP_SB_DIR/learn.pcap" "$FP_SB_DIR/learn.2" \
	$streams $((streams * 3))
fp_sb_pcap_slice "$FP_SB_DIR/learn.pcap" "$FP_SB_DIR/learn.3" $((streams * 4))
for part in 1 2 3; do
	fold_ingress "$FP_SB_DIR/learn.$part"
done
fp_wait_for 10 "$streams rules" offload_field_is "rules installed" $streams ||
	fp_die "expected $streams rules: $(fold_offload_show)"
echo "ok - $streams rules installed after $min_packets fold hits each"
fold_offload_show dpdk0 | sed 's/^/  | /'

# The connections are "opening" (mid-stream ACKs): a 30 s timeout that
# only packets refresh. Let it run down a little first.
sleep 3
ttl_before=$(ct_timeout_min)
rx_before=$(fp_sb_iface_stat dpdk0 rx_packets)
fold_ingress "$FP_SB_DIR/hw.pcap"
fp_check_eq "the uplink's rx did not move: OVS saw none of the packets" \
	"$rx_before" "$(fp_sb_iface_stat dpdk0 rx_packets)"
echo "ok - the VM received all $((streams * 80)) packets forwarded by the NIC"
# Every frame took OVS or the NIC; the last learning frames may have taken
# the NIC already.
hw=$((streams * (learn + 80) - $(fp_sb_iface_stat dpdk0 rx_packets)))
fp_check "the NIC forwarded at least the $((streams * 80)) packets after the rules" \
	test $hw -ge $((streams * 80))
fp_wait_for 10 "hw packets in fold/offload-show" \
	offload_field_is "hw packets" $hw ||
	fp_die "hw packets (expected $hw): $(fold_offload_show dpdk0)"
fp_wait_for 10 "the PMD to account the NIC's packets" \
	nic_packets_are $hw ||
	fp_die "the PMD accounted: $(fp_sb_appctl fold/show | grep offload)"
ttl_after=$(ct_timeout_min)
fp_check "the NIC's packets refreshed the connections' timeouts (least: ${ttl_before}s before, ${ttl_after}s after)" \
	test "${ttl_after:-0}" -gt $((ttl_before + 1))
total_est=$((streams * (learn + 80 - 1)))
fp_wait_for 10 "the +est rule to count $total_est packets" \
	est_packets_are $total_est ||
	fp_die "the +est rule counts $(est_packets) packets, expected $total_est"
echo "ok - the +est OpenFlow rule counts all $total_est packets (software and hardware)"

# hw-conntrack: each rule uses its connection's CONNTRACK handle, and the
# NIC checks the TCP windows as software conntrack would.
fp_check_eq "the NIC tracks the $streams connections (hw-conntrack)" 1 \
	"$(fold_offload_show dpdk0 | grep -c "conntrack mode: hw-conntrack (TCP rules tracked by the NIC: $streams, TCP streams left in tcp-flags mode: 0)")"
nic_seqlo() {
	fold_offload_show --streams dpdk0 |
		sed -n 's/.*NIC windows: original seqlo \([0-9]*\) .*/\1/p' |
		sort -n
}
"$FP_SB_TOOLS/fp-pcap" tcp-ends "$FP_SB_DIR/learn.pcap" > "$FP_SB_DIR/ends-sw"
"$FP_SB_TOOLS/fp-pcap" tcp-ends "$FP_SB_DIR/hw.pcap" > "$FP_SB_DIR/ends-hw"
cut -d' ' -f2 "$FP_SB_DIR/ends-hw" | sort -n > "$FP_SB_DIR/ends"
fp_check "the NIC's windows end where each stream's last packet did" \
	eval '[ "$(nic_seqlo)" = "$(cat "$FP_SB_DIR/ends")" ]'
fold_offload_show --streams dpdk0 | sed -n '/NIC windows/{p;q}' | sed 's/^/  | /'
# A packet of each stream moved back by more than a window (65535 + 1500)
# from where the NIC's windows end, but by less than a window from where
# software's ended before the offload: 67035 plus half the bytes the NIC
# forwarded. The NIC lets it miss; software conntrack, which takes the
# NIC's windows first, finds it invalid and the security group drops it,
# as without offload. (Judged by software's own windows, it would pass.)
advance=$(LC_ALL=C join <(LC_ALL=C sort "$FP_SB_DIR/ends-sw") \
	<(LC_ALL=C sort "$FP_SB_DIR/ends-hw") |
	awk '{d = ($3 - $2 + 4294967296) % 4294967296; if (min == "" || d < min) min = d} END {print min + 0}')
fp_check "the NIC moved each stream's window by at least 100 bytes ($advance)" \
	test "$advance" -ge 100
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/last.pcap" \
	$((streams * (learn + 79))) $streams
"$FP_SB_TOOLS/fp-pcap" rewrite "$FP_SB_DIR/last.pcap" "$FP_SB_DIR/stale.pcap" \
	tcp-seq-back:$((67035 + advance / 2)) > /dev/null
# A marker, a new connection, goes to the VM through software after them.
fold_inject_missed "$FP_SB_DIR/stale.pcap" $streams "stale packets"
if [ "$FOLD_CT_MODE" = flowtable ]; then
	# The documented relaxation: each connection vouched for its folded
	# direction before the offload, and so became liberal; software no
	# longer checks its sequence numbers (fold.rst, "Conntrack modes").
	fp_check_eq "fold-ct-mode=flowtable: the connections are liberal, so the stale packets are +est and reach the VM" \
		$streams "$(fp_sb_vm_rx_since vm0 60)"
else
	fp_check_eq "conntrack found the stale packets invalid: the VM received none" \
		0 "$(fp_sb_vm_rx_since vm0 60)"
fi
fp_check "the NIC's windows did not move, and the rules stayed" \
	eval '[ "$(nic_seqlo)" = "$(cat "$FP_SB_DIR/ends")" ]'

# The VM answers: its streams are the reply direction of the same
# connections. Their rules, on vf0, use the same handles, turned to the
# reply direction; the ingress rules keep the original direction they were
# created with.
wire=$(wire_iface)
ans=$FP_SB_DIR/answers.pcap
fp_sb_pcap_slice "$ans" "$FP_SB_DIR/ans.1" 0 $streams
fp_sb_pcap_slice "$ans" "$FP_SB_DIR/ans.2" $streams $((streams * 3))
fp_sb_pcap_slice "$ans" "$FP_SB_DIR/ans.3" $((streams * 4)) \
	$((streams * (learn - 4)))
fp_sb_pcap_slice "$ans" "$FP_SB_DIR/ans.hw" $((streams * learn)) \
	$((streams * 80))
vf_learn "$FP_SB_DIR/ans.1" "$FP_SB_DIR/ans.2" "$FP_SB_DIR/ans.3"
fp_wait_for 10 "$streams rules on vf0" \
	offload_field_is "rules installed" $streams vf0 ||
	fp_die "expected $streams rules on vf0: $(fold_offload_show vf0)"
fp_check_eq "the VM's rules use their connections' handles, in the reply direction" \
	$streams "$(fold_offload_show --streams vf0 | grep -c 'hw-conntrack, reply direction')"
rx_before=$(fp_sb_iface_stat vf0 rx_packets)
vf_learn "$FP_SB_DIR/ans.hw"
fp_check_eq "the NIC forwarded the VM's answers: OVS received none (vf0 rx)" \
	"$rx_before" "$(fp_sb_iface_stat vf0 rx_packets)"
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/more.pcap" \
	$((streams * (learn + 80 + 20))) $((streams * 3))
# The VM's testpmd counts the frames sent from its VF too (AF_PACKET).
FOLD_VM_RX=$(fp_sb_vm_stat vm0 ipackets)
rx_before=$(fp_sb_iface_stat dpdk0 rx_packets)
fold_ingress "$FP_SB_DIR/more.pcap"
fp_check_eq "the ingress rules still forward in the original direction (dpdk0 rx did not move)" \
	"$rx_before" "$(fp_sb_iface_stat dpdk0 rx_packets)"
fold_offload_show --streams dpdk0 | sed -n '/^  stream/{N;N;p;q}' | sed 's/^/  | /'

# The hardware's windows moved on, and software must accept: an RST of
# half the streams, at the sequence number where the NIC's windows end (the
# streams' next packet, made an RST). SYN, FIN and RST miss the rules, and
# conntrack takes an RST only at the exact sequence number. Software's own
# windows may end where it last read the NIC's (it reads them only when it
# may need them, offload.rst): it must read them to accept the RSTs.
half=$((streams / 2))
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/rst.1" $((streams * (learn + 103))) $half
"$FP_SB_TOOLS/fp-pcap" rewrite "$FP_SB_DIR/rst.1" "$FP_SB_DIR/rst.pcap" \
	tcp-rst > /dev/null || fp_die "cannot make the RSTs"
fold_inject_missed "$FP_SB_DIR/rst.pcap" $half RSTs
fp_check_eq "conntrack took the RSTs at the NIC's sequence numbers: the VM received all $half" \
	$half "$(fp_sb_vm_rx_since vm0 60)"
fp_check_eq "the $half reset connections are TIME_WAIT" $half \
	"$(fp_sb_appctl dpctl/dump-conntrack | grep -c 'state=TIME_WAIT')"
FOLD_VM_RX=$(fp_sb_vm_stat vm0 ipackets)

# A FIN of each other stream: SYN/FIN/RST miss the rule, conntrack sees
# them.
"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
	--tcp-handshake --out "$FP_SB_DIR/hs.pcap" > /dev/null
fp_sb_pcap_slice "$FP_SB_DIR/hs.pcap" "$FP_SB_DIR/fin.pcap" \
	$((streams * (packets - 1) + half)) $((streams - half))
closing='state=(FIN_WAIT|CLOSING|CLOSE_WAIT|LAST_ACK|TIME_WAIT)'
fp_check_eq "no connection but the $half reset ones is closing before the FINs" \
	$half "$(fp_sb_appctl dpctl/dump-conntrack | grep -cE "$closing")"
rx_before=$(fp_sb_iface_stat dpdk0 rx_packets)
fold_ingress "$FP_SB_DIR/fin.pcap"
fp_check_eq "the FINs missed the rules and reached OVS" \
	$((rx_before + streams - half)) "$(fp_sb_iface_stat dpdk0 rx_packets)"
fp_check_eq "software conntrack took every FIN: all $streams connections are closing" \
	"$streams" "$(fp_sb_appctl dpctl/dump-conntrack | grep -cE "$closing")"
fp_sb_appctl dpctl/dump-conntrack | head -n 2 | sed 's/^/  | /'

# fold-offload=false takes the rules away; =true brings them back.
fp_sb_vsctl set Open_vSwitch . other_config:fold-offload=false
fp_wait_for 10 "the rules to go" offload_field_is "rules installed" 0 ||
	fp_die "rules are still installed: $(fold_offload_show dpdk0)"
fp_check_eq "fold-offload=false removed the $streams rules" "$streams" \
	"$(offload_field removed)"
fp_sb_vsctl set Open_vSwitch . other_config:fold-offload=true
fold_ingress "$FP_SB_DIR/again.pcap"
fp_wait_for 10 "$streams rules again" \
	offload_field_is "rules installed" $streams ||
	fp_die "expected $streams rules again: $(fold_offload_show dpdk0)"
echo "ok - fold-offload=true offered the streams again at their next packets"
rx_before=$(fp_sb_iface_stat dpdk0 rx_packets)

# Deny: the rules go, and nothing more is delivered (but markers).
fold_flows <<-FLOWS
	table=0,priority=100,in_port=10,ip,ct_state=-trk,actions=ct(zone=1,table=1)
	table=0,priority=0,actions=drop
	table=1,priority=50,$FP_SB_MARKER_MATCH,actions=output:20
	table=1,priority=0,actions=drop
	FLOWS
# Polled as fast as ovs-appctl answers (a few ms), to measure the delay.
t0=$(date +%s%N)
until offload_field_is "rules installed" 0; do
	[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 10000 ] ||
		fp_die "rules are still installed after the deny: $(fold_offload_show dpdk0)"
done
t1=$(date +%s%N)
echo "ok - the deny removed every rule within $(( (t1 - t0) / 1000000 )) ms of ovs-ofctl returning"
fp_sb_vm_mark vm0
fp_sb_inject dpdk0 "$FP_SB_DIR/late.pcap" > /dev/null
fp_wait_for 10 "OVS to receive the late packets" \
	fp_sb_port_rx_at_least dpdk0 $((rx_before + streams * 8)) ||
	fp_die "the late packets did not reach OVS"
fp_sb_marker dpdk0 "after the late packets" fp_sb_vm_marker_in vm0 60
fp_check_eq "after the deny the VM receives nothing more" 0 \
	"$(fp_sb_vm_rx_since vm0 60)"
fp_sb_teardown
trap - EXIT

# --- Part 2: a NIC that rejects the rule shape. ---
offload_start offload-rejected reject=vxlan_decap
pcap=$FP_SB_DIR/traffic.pcap
"$FP_STREAMGEN" --streams $streams --packets 40 --proto tcp \
	--out "$pcap" > /dev/null
fold_two_phases ingress "$pcap" $streams
echo "ok - the VM received all $((streams * 40)) packets in software"
fp_wait_for 10 "$streams validate failures" \
	eval '[ "$(fold_offload_show dpdk0 | sed -n "s/^    validate: \([0-9]*\) .*/\1/p")" = '$streams' ]' ||
	fp_die "expected $streams validate failures: $(fold_offload_show dpdk0)"
fp_check_eq "the NIC's reason is shown" 1 \
	"$(fold_offload_show dpdk0 | grep -c 'validate: .*action vxlan_decap is not supported by this e-switch')"
fp_check_eq "the probe ran once per shape (hw-conntrack, then tcp-flags): two lines, rejected" 2 \
	"$(fold_offload_show dpdk0 | grep -c 'port [0-9]* ingress .*: rejected: ')"
fp_check_eq "no rule was created" 1 \
	"$(fold_offload_show dpdk0 | grep -c 'rules installed: 0, pending: 0, created: 0')"
fold_offload_show dpdk0 | sed 's/^/  | /'
fp_sb_teardown
trap - EXIT

# --- Part 3: a full rule table, then rules that age out, on an e-switch
# without connection tracking. ---
offload_start offload-full max_rules=4,reject=conntrack
fp_sb_vsctl set Open_vSwitch . other_config:fold-offload-age=2
pcap=$FP_SB_DIR/traffic.pcap
"$FP_STREAMGEN" --streams $streams --packets 40 --proto tcp \
	--out "$pcap" > /dev/null
fold_two_phases ingress "$pcap" $streams
echo "ok - the VM received all $((streams * 40)) packets"
fp_wait_for 10 "4 rules" offload_field_is "rules installed" 4 ||
	fp_die "expected 4 rules: $(fold_offload_show dpdk0)"
fp_check "the streams beyond the table's 4 rules failed creation, with the NIC's reason" \
	test "$(fold_offload_show dpdk0 | sed -n 's/^    create: \([0-9]*\) (last: fpesw: flow table full.*/\1/p')" -ge 4
fold_offload_show dpdk0 | grep 'create:' | sed 's/^/  | /'
fp_check_eq "without hw-conntrack, the port is in tcp-flags mode, with the NIC's reason" 1 \
	"$(fold_offload_show dpdk0 | grep -c 'conntrack mode: tcp-flags (no hw-conntrack: .*conntrack is not supported by this e-switch')"
fp_wait_for 15 "the idle rules to age out" \
	offload_field_is "rules installed" 0 ||
	fp_die "rules did not age out: $(fold_offload_show dpdk0)"
fp_check_eq "the NIC reported the 4 rules aged (AGE action, 2 s)" 4 \
	"$(fold_offload_show dpdk0 | sed -n 's/.*, aged: \([0-9]*\)$/\1/p')"
fp_sb_teardown
trap - EXIT

# --- Part 4: egress, then a conntrack flush and the VM's port removed. ---
offload_start offload-egress
wire=$(wire_iface)
pcap=$FP_SB_DIR/egress.pcap
"$FP_STREAMGEN" --plain --streams $streams --packets $packets --proto tcp \
	--inner-src 10.1.0.1 --inner-dst 10.0.0.1 \
	--inner-src-mac 02:00:00:00:02:01 --inner-dst-mac 02:00:00:00:01:01 \
	--out "$pcap" > /dev/null
# Learning: packet 0 of each stream (+new), 3 more each (the +est
# megaflows' upcalls), then enough fold hits for a rule.
elearn=24
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/learn.1.pcap" 0 $streams
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/learn.2.pcap" $streams $((streams * 3))
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/learn.3.pcap" \
	$((streams * 4)) $((streams * (elearn - 4)))
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/hw.pcap" \
	$((streams * elearn)) $((streams * 80))
n_wire=$((streams * (elearn + 80)))
# Everything that reaches the wire, software's frames then the NIC's.
fp_sb_netns "$FP_SB_TOOLS/fp-pcap" capture "$wire" "$FP_SB_DIR/wire.pcap" \
	$n_wire 60 > "$FP_SB_DIR/wire.count" &
capture_pid=$!
fp_wait_for 10 "the wire capture" test -e "$FP_SB_DIR/wire.pcap.ready" ||
	fp_die "the capture on $wire did not start"

vf_learn "$FP_SB_DIR/learn.1.pcap" "$FP_SB_DIR/learn.2.pcap" \
	"$FP_SB_DIR/learn.3.pcap"
fp_wait_for 10 "$streams egress rules" \
	offload_field_is "rules installed" $streams vf0 ||
	fp_die "expected $streams rules on vf0: $(fold_offload_show vf0)"
fp_check_eq "the rules are egress rules that push the outer header" \
	$streams "$(fold_offload_show --streams vf0 | grep -c 'egress (raw_encap) to dpdk0')"
echo "ok - $streams egress rules on the VM's representor"

tx_before=$(fp_sb_iface_stat dpdk0 tx_packets)
rx_before=$(fp_sb_iface_stat vf0 rx_packets)
fp_sb_vf_inject vf0 "$FP_SB_DIR/hw.pcap"
wait $capture_pid
fp_check_eq "the wire received every frame, software's and the NIC's" \
	$n_wire "$(cat "$FP_SB_DIR/wire.count")"
fp_check_eq "OVS received none of the NIC's frames (vf0 rx)" "$rx_before" \
	"$(fp_sb_iface_stat vf0 rx_packets)"
fp_check_eq "OVS sent none of them (dpdk0 tx)" "$tx_before" \
	"$(fp_sb_iface_stat dpdk0 tx_packets)"
fp_sb_pcap_slice "$FP_SB_DIR/wire.pcap" "$FP_SB_DIR/wire-sw.pcap" \
	0 $((streams * elearn))
fp_sb_pcap_slice "$FP_SB_DIR/wire.pcap" "$FP_SB_DIR/wire-hw.pcap" \
	$((streams * elearn))
"$FP_SB_TOOLS/fp-pcap" outer "$FP_SB_DIR/wire-sw.pcap" > "$FP_SB_DIR/outer-sw"
"$FP_SB_TOOLS/fp-pcap" outer "$FP_SB_DIR/wire-hw.pcap" > "$FP_SB_DIR/outer-hw"
fp_check_eq "software pushed one outer header per stream, all valid" \
	"$streams" "$(grep -vc '^BAD' "$FP_SB_DIR/outer-sw")"
fp_check "the NIC pushed exactly software's outer headers (UDP source port included)" \
	cmp -s "$FP_SB_DIR/outer-sw" "$FP_SB_DIR/outer-hw"
sed 's/^/  | /' "$FP_SB_DIR/outer-hw" | head -n 2
hw=$((n_wire - $(fp_sb_iface_stat dpdk0 tx_packets)))
fp_wait_for 10 "hw packets on vf0" \
	offload_field_is "hw packets" $hw vf0 ||
	fp_die "hw packets (expected $hw): $(fold_offload_show vf0)"
echo "ok - the NIC counted the $hw frames OVS did not send"
total_est=$((streams * (elearn + 80 - 1)))
fp_wait_for 10 "the +est rule of table 2 to count $total_est packets" \
	est_packets_are $total_est 2 ||
	fp_die "the +est rule counts $(est_packets 2) packets, expected $total_est"
echo "ok - the +est OpenFlow rule counts all $total_est egress packets (software and hardware)"

# A conntrack flush: the connections go, and with them the rules.
fp_sb_appctl dpctl/flush-conntrack > /dev/null
fp_wait_for 10 "the rules to go after the conntrack flush" \
	offload_field_is "rules installed" 0 vf0 ||
	fp_die "rules are still installed after the flush: $(fold_offload_show vf0)"
fp_check_eq "the flush removed the $streams rules" $streams \
	"$(offload_field removed vf0)"
echo "ok - dpctl/flush-conntrack removed the $streams egress rules"

# Ingress streams to the VM, in hardware. Packets the NIC forwarded just
# before fold-offload=false still reach the counters: the rules' last
# counts are read when they are destroyed.
pcap=$FP_SB_DIR/traffic.pcap
"$FP_STREAMGEN" --streams $streams --packets 72 --proto tcp \
	--out "$pcap" > /dev/null
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/in-learn.pcap" 0 $((streams * 40))
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/in-more.pcap" \
	$((streams * 40)) $((streams * 8))
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/in-again.pcap" \
	$((streams * 48)) $((streams * 12))
fp_sb_pcap_slice "$pcap" "$FP_SB_DIR/in-metered.pcap" \
	$((streams * 60)) $((streams * 12))
# The VM's testpmd counts the frames sent from its VF too (AF_PACKET).
FOLD_VM_RX=$(fp_sb_vm_stat vm0 ipackets)
fold_two_phases ingress "$FP_SB_DIR/in-learn.pcap" $streams
fp_wait_for 10 "$streams ingress rules" \
	offload_field_is "rules installed" $streams ||
	fp_die "expected $streams rules on dpdk0: $(fold_offload_show dpdk0)"
rx_before=$(fp_sb_iface_stat dpdk0 rx_packets)
fold_ingress "$FP_SB_DIR/in-more.pcap"
fp_sb_vsctl set Open_vSwitch . other_config:fold-offload=false
fp_check_eq "the NIC forwarded the last packets (dpdk0 rx did not move)" \
	"$rx_before" "$(fp_sb_iface_stat dpdk0 rx_packets)"
fp_wait_for 10 "the ingress rules to go" \
	offload_field_is "rules installed" 0 ||
	fp_die "rules are still installed: $(fold_offload_show dpdk0)"
total_est=$((streams * (48 - 1)))
fp_wait_for 10 "the +est rule of table 1 to count $total_est packets" \
	est_packets_are $total_est 1 ||
	fp_die "the +est rule counts $(est_packets 1) packets, expected $total_est"
echo "ok - the +est rule counts all $total_est packets, the NIC's last ones included"
fp_sb_vsctl set Open_vSwitch . other_config:fold-offload=true
fold_ingress "$FP_SB_DIR/in-again.pcap"
fp_wait_for 10 "$streams ingress rules again" \
	offload_field_is "rules installed" $streams ||
	fp_die "expected $streams rules on dpdk0: $(fold_offload_show dpdk0)"

# The VM's port gets a meter: the installed rules would carry its streams
# past it, so they go, and the streams are metered in software.
fp_sb_vsctl -- set Port vf0 qos=@q -- --id=@q create QoS type=fp-meter \
	other-config:egress-cir=1000000000 other-config:egress-cbs=1000000 \
	> /dev/null || fp_die "cannot set the meter on vf0"
fp_wait_for 10 "the rules to the metered port to go" \
	offload_field_is "rules installed" 0 ||
	fp_die "rules to the metered port remain: $(fold_offload_show dpdk0)"
fp_check_eq "each removed rule is counted under metered" "$streams" \
	"$(fold_offload_show dpdk0 | sed -n 's/^    metered: \([0-9]*\) (last: vf0 has a software meter .*rule removed)$/\1/p')"
rx_before=$(fp_sb_iface_stat dpdk0 rx_packets)
fold_ingress "$FP_SB_DIR/in-metered.pcap"
fp_check_eq "OVS received the streams again (dpdk0 rx)" \
	$((rx_before + streams * 12)) "$(fp_sb_iface_stat dpdk0 rx_packets)"
fp_check_eq "vf0's meter passed every frame sent to it" $((streams * 12)) \
	"$(fp_sb_appctl qos/show vf0 | sed -n 's/^egress-green: \([0-9]*\) packets.*/\1/p')"
fp_check_eq "no rule came back for the metered port" 0 \
	"$(offload_field "rules installed")"
echo "ok - a meter on the VM's port removed its $streams rules; the streams were metered in software"
fp_sb_vsctl clear Port vf0 qos > /dev/null

# The VM's port goes.
fp_sb_vsctl del-port br-int vf0
fp_wait_for 10 "the rules to the removed port to go" \
	offload_field_is "rules installed" 0 ||
	fp_die "rules to the removed port remain: $(fold_offload_show dpdk0)"
fp_wait_for 10 "vf0's records to be forgotten" \
	eval '! fold_offload_show | grep -q "^port vf0 "' ||
	fp_die "vf0's records remain: $(fold_offload_show)"
fp_check "OVS is alive, and has logged no error" \
	eval '! grep -E "\|(ERR|EMER)\|" "$FP_SB_DIR/ovs-vswitchd.log"'
echo "ok - removing the VM's port removed the $streams rules to it and its records"
echo "ok - offload"
