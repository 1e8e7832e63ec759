#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The embedded demo (./foldpath demo): demo.sh --help says what it shows.

. "$(dirname "$0")/fold.sh"

usage() {
	cat <<-'EOF'
	The embedded demo (./foldpath demo): a VXLAN tenant network protected by a
	conntrack security group, on the patched OVS-DPDK, with testpmd as the VM.

	  demo.sh [--keep] [--stock]   bring it up, send traffic, report, tear down
	  demo.sh --stop               tear down a demo left running with --keep

	The uplink (dpdk0, on br-phy) receives VXLAN traffic from a remote VTEP:
	16 TCP streams to the VM's port 5001, which the security group allows, and
	4 streams to port 23, which it does not. br-int pops the tunnel, sends
	each packet through conntrack in zone 1 and lets allowed and established
	packets on to the VM's port, vf0.

	The uplink and vf0 are ports of the TEST E-SWITCH (tests/eswitch), a
	software model of an SR-IOV e-switch that stands in for a smart NIC: the
	VM is testpmd on vf0's VF. The traffic is sent three times: with folding
	off, with folding on (vf0 metered by an fp-meter QoS), and with folded
	streams offloaded to the e-switch. The demo ends with the passes per
	packet of each run, the fold hits, the meter's counters and the
	offloaded rules, and fails if any of them is not what it says.
	With --stock, only the first run, on Debian's stock OVS-DPDK.
	EOF
}

keep=0
flavor=patched
state=$FP_BUILD/demo.sandbox

while [ $# -gt 0 ]; do
	case $1 in
	--keep) keep=1 ;;
	--stock) flavor=--stock ;;
	--stop)
		[ -r "$state" ] || fp_die "no demo is running (no $state)"
		if [ ! -r "$(cat "$state")/sandbox.env" ]; then
			rm -f "$state"
			fp_die "the demo in $(cat "$state") is gone already; removed $state"
		fi
		fp_sb_attach "$(cat "$state")"
		rm -f "$state"
		FP_SB_KEEP=0 fp_sb_teardown
		exit 0
		;;
	-h|--help) usage; exit 0 ;;
	*) echo "demo: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done
if [ -r "$state" ] && [ -d "$(cat "$state")" ]; then
	fp_die "a demo is already running in $(cat "$state"); stop it with: ./foldpath demo --stop"
fi

streams=16 packets=64 learn=16
blocked_streams=4 blocked_packets=8
allowed=$((streams * packets))
blocked=$((blocked_streams * blocked_packets))
est=$((streams * (packets - learn)))
# The meter on vf0 (egress: what the VM receives): 100 Mbit/s, a 1 MB
# burst, far above what the demo sends (frames of 124 bytes, 16 back to
# back at most), so it must pass every frame green.
meter_cir=100000000 meter_cbs=1000000

fp_sb_require_env
[ $keep = 0 ] || export FP_SB_KEEP=1
FP_SB_PLUGIN=$FP_ESWITCH fp_sb_start demo $flavor
# From here on --stop finds the sandbox, even if this script is killed; a
# sandbox torn down here (a failure, or no --keep) takes the record along.
echo "$FP_SB_DIR" > "$state"
fp_sb_on_exit "rm -f '$state'"
patched=1
[ "$FP_SB_FLAVOR" = patched ] || patched=

step() {
	echo
	echo "== $* =="
}

step "Traffic: $streams allowed and $blocked_streams blocked TCP streams, VXLAN VNI 100"
"$FP_STREAMGEN" --streams $streams --packets $packets \
	--proto tcp --dport 5001 --size 128 \
	--out "$FP_SB_DIR/allowed.pcap" --expect "$FP_SB_DIR/allowed-inner.pcap" ||
	fp_die "cannot generate traffic"
"$FP_STREAMGEN" --streams $blocked_streams --packets $blocked_packets \
	--proto tcp --dport 23 --size 128 --inner-src 10.0.9.1 \
	--out "$FP_SB_DIR/blocked.pcap" || fp_die "cannot generate traffic"
# Packets are round-robin over the streams: packet 0 of each, then 1...
# learn.1: packet 0 of each stream (it commits the connection); learn.2:
# packets 1 to learn-1 (the +est megaflows are set up, the streams folded);
# est: the rest, established and, with folding on, folded.
fp_sb_pcap_slice "$FP_SB_DIR/allowed.pcap" "$FP_SB_DIR/learn.1.pcap" 0 $streams
fp_sb_pcap_slice "$FP_SB_DIR/allowed.pcap" "$FP_SB_DIR/learn.2.pcap" \
	$streams $((streams * (learn - 1)))
fp_sb_pcap_slice "$FP_SB_DIR/allowed.pcap" "$FP_SB_DIR/est.pcap" \
	$((streams * learn))
echo "$allowed packets to port 5001 ($streams streams of $packets), $blocked to port 23 ($blocked_streams streams of $blocked_packets)"

step "Tenant network: br-phy (VTEP 172.31.1.1) + br-int (VXLAN, VM on e-switch VF)"
echo "The uplink dpdk0 and the VM's port vf0 are ports of the TEST E-SWITCH"
echo "(tests/eswitch, a software model of an SR-IOV e-switch): it stands in"
echo "for a smart NIC; no hardware is used."
fp_sb_vsctl set Open_vSwitch . other_config:max-idle=120000
if [ -n "$patched" ]; then
	# hw-offload turns OVS's flow API on, at start; fold-offload, which
	# offers folded streams to the e-switch, stays off until the third
	# run.
	fp_sb_vsctl set Open_vSwitch . other_config:fold-enable=false \
		other_config:hw-offload=true other_config:fold-offload=false \
		other_config:fold-offload-min-packets=8
fi
fp_sb_tenant_network eswitch --vm-port vf0 --no-remote
fp_sb_vf_vm_start vm1 vf0 --capture "$FP_SB_DIR/vm1-received.pcap"
fp_sb_vsctl show

step "Security group (OpenFlow, OVS firewall-driver style, conntrack zone 1)"
fp_sb_security_group --allow-port 5001 --drop-invalid
fp_sb_ofctl dump-flows br-int --no-stats

vm_rx=0 # Packets the VM must have received so far.

# Sends a pcap into the uplink: in chunks, each once the uplink has
# received the one before (acked), or 4 frames a millisecond (paced: where
# the e-switch forwards streams itself, dpdk0 does not count them).
# Usage: send acked|paced PCAP
send() {
	if [ "$1" = acked ]; then
		fp_sb_inject_acked dpdk0 "$2" > /dev/null
	else
		fp_sb_inject dpdk0 "$2" > /dev/null
	fi
}

# Sends the traffic once, after a conntrack flush (the same packets meet
# conntrack afresh each time): the blocked streams, packet 0 of each
# allowed stream, then packets 1 to learn-1, then the established rest.
# Sets learn_rx and learn_ppp, what the PMD received and its passes per
# packet while learning, and est_rx, est_ppp and est_hits for the
# established packets.
# Usage: run_traffic acked|paced [HOOK...], HOOK run before the
# established packets
run_traffic() {
	local how=$1 part

	shift
	fp_sb_appctl dpctl/flush-conntrack > /dev/null
	fp_sb_pmd_stats_clear
	uplink_rx=$(( $(fp_sb_iface_stat dpdk0 rx_packets) + blocked ))
	send "$how" "$FP_SB_DIR/blocked.pcap"
	fp_wait_for 30 "dpdk0 to receive the blocked packets" \
		fp_sb_port_rx_at_least dpdk0 $uplink_rx ||
		fp_die "dpdk0 received $(fp_sb_iface_stat dpdk0 rx_packets) packets, expected $uplink_rx"
	for part in learn.1 learn.2; do
		send "$how" "$FP_SB_DIR/$part.pcap"
		vm_rx=$((vm_rx + $(fp_sb_pcap_frames "$FP_SB_DIR/$part.pcap")))
		fp_sb_wait_vm_rx vm1 $vm_rx 30
	done
	[ "$how" = paced ] || fp_wait_for 10 "the PMD to count the learning packets" \
		pmd_counted $((blocked + streams * learn))
	learn_rx=$(fp_sb_pmd_perf rx-packets)
	learn_ppp=$(fp_sb_pmd_perf passes-per-pkt)
	[ $# = 0 ] || "$@"
	fp_sb_pmd_stats_clear
	send "$how" "$FP_SB_DIR/est.pcap"
	vm_rx=$((vm_rx + est))
	fp_sb_wait_vm_rx vm1 $vm_rx 30
	[ "$how" = paced ] || fp_wait_for 10 "the PMD to count $est packets" \
		pmd_counted $est
	est_rx=$(fp_sb_pmd_perf rx-packets)
	est_ppp=$(fp_sb_pmd_perf passes-per-pkt)
	est_hits=$(fp_sb_appctl dpif-netdev/pmd-perf-show -pmd "$FP_SB_PMD_CORE" |
		awk '/- Fold hits:/ {print $4}')
	# (pmd-perf-show has no packet lines for a PMD that received nothing,
	# as in the offloaded run.)
	[ -z "$patched" ] || [ "$est_rx" = 0 ] || [ -n "$est_hits" ] ||
		fp_die "pmd-perf-show has no 'Fold hits' line: the fold checks would prove nothing"
	echo "learning ($((streams * learn + blocked)) packets: the first $learn of each allowed stream, and the blocked streams):"
	echo "  the PMD received $learn_rx packets, $learn_ppp datapath passes per packet"
	echo "established ($est packets: the other $((packets - learn)) of each allowed stream):"
	if [ "$est_rx" = 0 ]; then
		echo "  the PMD received none of them"
	else
		echo "  the PMD received $est_rx packets, $est_ppp datapath passes per packet${patched:+, ${est_hits:-0} fold hits}"
	fi
}

# The PMD counts a packet once it is done with its batch: wait until it
# has counted N (only where they all reached OVS).
pmd_counted() {
	[ "$(fp_sb_pmd_perf rx-packets)" -ge "$1" ]
}

# Usage: offload_field FIELD [PORT]
offload_field() {
	fold_offload_show "${2:-dpdk0}" | sed -n "s/.*$1: \([0-9]*\).*/\1/p" | head -n 1
}

offload_field_is() {
	[ "$(offload_field "$1")" = "$2" ]
}

# Usage: qos_field KEY: one line of qos/show vf0, the value after "KEY: "
qos_field() {
	fp_sb_appctl qos/show vf0 | sed -n "s/^$1: //p"
}

# --- Run 1: folding off (or stock OVS-DPDK). ---
if [ -n "$patched" ]; then
	step "Run 1: folding off (other_config:fold-enable=false)"
	fp_wait_for 10 "folding to be off" sh -c \
		"$FP_SB_APPCTL -t $FP_SB_DIR/ovs-vswitchd.ctl fold/show | grep -q 'folding is off'" ||
		fp_die "fold-enable=false was not applied: $(fp_sb_appctl fold/show)"
	fp_sb_vsctl -- set Port vf0 qos=@q -- --id=@q create QoS type=fp-meter \
		other-config:egress-cir=$meter_cir other-config:egress-cbs=$meter_cbs \
		> /dev/null || fp_die "cannot set the meter on vf0"
	echo "vf0 gets an fp-meter QoS: egress (what the VM receives) $meter_cir bit/s, burst $meter_cbs bytes"
else
	step "Run 1: stock OVS-DPDK"
fi
run_traffic acked
fp_check_eq "run 1: the PMD received every established packet" $est "$est_rx"
off_ppp=$est_ppp off_learn_ppp=$learn_ppp
echo
echo "Datapath flows (one line per datapath pass):"
fp_sb_appctl dpctl/dump-flows | sed 's/^/  /'
echo
echo "Conntrack, zone 1: $(fp_sb_ct_count 1) connections, for example:"
fp_sb_appctl dpctl/dump-conntrack zone=1 | head -n 3 | sed 's/^/  /'

if [ -n "$patched" ]; then
	fp_check_eq "run 1: with folding off, no packet was folded" 0 "${est_hits:-0}"

	# --- Run 2: folding on. ---
	step "Run 2: folding on (other_config:fold-enable=true)"
	fp_sb_vsctl set Open_vSwitch . other_config:fold-enable=true
	fp_wait_for 10 "folding to be on" sh -c \
		"$FP_SB_APPCTL -t $FP_SB_DIR/ovs-vswitchd.ctl fold/show | grep -q 'streams: 0 of'" ||
		fp_die "fold-enable=true was not applied: $(fp_sb_appctl fold/show)"
	run_traffic acked
	fp_check_eq "run 2: the PMD received every established packet" $est "$est_rx"
	on_ppp=$est_ppp on_learn_ppp=$learn_ppp on_est_hits=${est_hits:-0}
	fp_check "run 2: folding took fewer passes per packet ($on_ppp) than no folding ($off_ppp)" \
		awk -v a="$on_ppp" -v b="$off_ppp" 'BEGIN { exit !(a + 0 < b + 0) }'
	on_hits=$(fold_stat hits)
	on_streams=$(fold_stat streams)
	fp_check "run 2: fold/show counts fold hits ($on_hits)" test "${on_hits:-0}" -gt 0
	echo
	fp_sb_appctl fold/show | sed 's/^/  /'

	step "QoS on vf0, after runs 1 and 2"
	fp_sb_appctl qos/show vf0 | sed 's/^/  /'
	qos_green=$(qos_field egress-green | awk '{print $1}')
	qos_dropped=$(qos_field egress-dropped)
	fp_check_eq "the meter passed every packet the VM received, green" \
		$((2 * allowed)) "$qos_green"
	fp_check_eq "the meter dropped none" 0 "$qos_dropped"

	# --- Run 3: folded streams offloaded to the test e-switch. ---
	step "Run 3: folded streams offloaded to the TEST E-SWITCH (stands in for a smart NIC)"
	echo "A rule would carry vf0's streams past its software meter, so Foldpath"
	echo "offloads no stream of a metered port: the demo removes the QoS first."
	fp_sb_vsctl clear Port vf0 qos
	fp_sb_vsctl set Open_vSwitch . other_config:fold-offload=true
	# Paced: once a stream has its rule, the e-switch forwards its
	# packets to the VF without dpdk0 (or OVS) seeing them.
	off_before() {
		hw_rx_before=$(fp_sb_iface_stat dpdk0 rx_packets)
		fp_wait_for 10 "$streams rules on dpdk0" \
			offload_field_is "rules installed" $streams ||
			fp_die "expected $streams rules on dpdk0: $(fold_offload_show dpdk0)"
	}
	run3_rx0=$(fp_sb_iface_stat dpdk0 rx_packets)
	run_traffic paced off_before
	hw_rx=$(( $(fp_sb_iface_stat dpdk0 rx_packets) - hw_rx_before ))
	fp_check_eq "run 3: the e-switch forwarded every established packet: dpdk0 received none of them" \
		0 "$hw_rx"
	# The rules may come before the last learning packets: the e-switch
	# forwards those too. What dpdk0 did not receive, it forwarded.
	run3_sw=$(( $(fp_sb_iface_stat dpdk0 rx_packets) - run3_rx0 ))
	run3_hw=$((allowed + blocked - run3_sw))
	fp_wait_for 10 "the rules' counters ($run3_hw hw packets)" \
		offload_field_is "hw packets" $run3_hw ||
		fp_die "expected $run3_hw hw packets (dpdk0 received $run3_sw of $((allowed + blocked))): $(fold_offload_show dpdk0)"
	echo "ok - run 3: the rules counted the $run3_hw packets dpdk0 did not receive"
	hw_packets=$(offload_field "hw packets")
	hw_rules=$(offload_field "rules installed")
	hw_mode=$(fold_offload_show dpdk0 | sed -n 's/^ *conntrack mode: \([a-z-]*\).*/\1/p')
	echo
	fold_offload_show dpdk0 | sed 's/^/  /'
fi

step "The VM's side"
runs=1
[ -z "$patched" ] || runs=3
printf '%-44s %8s\n' "uplink dpdk0 received (OVS)" "$(fp_sb_iface_stat dpdk0 rx_packets)" \
	"representor vf0 sent to the VM (OVS)" "$(fp_sb_iface_stat vf0 tx_packets)" \
	"VM vm1 received (testpmd)" "$(fp_sb_vm_stat vm1 ipackets)"
fp_check_eq "the VM received the allowed packets of each run, and nothing else" \
	$((runs * allowed)) "$(fp_sb_vm_stat vm1 ipackets)"
if [ $keep = 0 ]; then
	fp_sb_vm_stop vm1
	echo
	echo "First packets the VM received (inner frames, decapsulated):"
	tcpdump -nn -r "$FP_SB_DIR/vm1-received.pcap" -c 3 2> /dev/null | sed 's/^/  /'
	fp_check_eq "the VM's capture holds as many frames" \
		$((runs * allowed)) "$(fp_sb_pcap_frames "$FP_SB_DIR/vm1-received.pcap")"
	for run in $(seq 1 $runs); do
		fp_sb_pcap_slice "$FP_SB_DIR/vm1-received.pcap" "$FP_SB_DIR/run$run.pcap" \
			$(((run - 1) * allowed)) $allowed
		"$FP_SB_TOOLS/fp-pcap" diff --unordered "$FP_SB_DIR/allowed-inner.pcap" \
			"$FP_SB_DIR/run$run.pcap" > /dev/null ||
			fp_die "run $run: the VM did not receive exactly the allowed inner frames"
	done
	echo "ok - in each run, the VM received exactly the inner frames of the allowed streams"
	verified="byte for byte as the remote VM sent them, and none of the $blocked blocked ones."
else
	# The VM writes its capture out when it stops.
	verified="and none of the $blocked blocked ones (counted: with --keep the VM runs on,
so its capture is not compared frame by frame)."
	cat <<-EOF

	The demo is still running (netns $FP_SB_NS, run directory $FP_SB_DIR).
	Point the OVS tools at it:

	  export OVS_RUNDIR=$FP_SB_DIR
	  $FP_SB_VSCTL show
	  $FP_SB_OFCTL -O OpenFlow13 dump-flows br-int
	  $FP_SB_APPCTL -t \$OVS_RUNDIR/ovs-vswitchd.ctl dpctl/dump-flows
	  $FP_SB_APPCTL -t \$OVS_RUNDIR/ovs-vswitchd.ctl dpif-netdev/pmd-perf-show
	  $FP_SB_APPCTL -t \$OVS_RUNDIR/ovs-vswitchd.ctl fold/show
	  $FP_SB_APPCTL -t \$OVS_RUNDIR/ovs-vswitchd.ctl fold/offload-show
	  ip netns exec $FP_SB_NS ip addr show br-phy

	Stop it with: ./foldpath demo --stop
	EOF
fi

step "Summary"
echo "Each run: $allowed packets of $streams allowed streams, $blocked of $blocked_streams blocked ones."
echo "The VM received all $allowed allowed packets in $([ $runs = 1 ] && echo "the run" || echo "each of the $runs runs"),"
echo "$verified"
if [ -z "$patched" ]; then
	echo "Stock OVS-DPDK: $off_ppp datapath passes/packet (pmd-perf-show, over the"
	echo "  $est established packets; $off_learn_ppp over the $((streams * learn + blocked)) learning packets)."
	echo "Stock has no folding, fp-meter or fold offload."
	exit 0
fi
echo "Folding off: $off_ppp datapath passes/packet. Folding on: $on_ppp passes/packet."
echo "  (pmd-perf-show, over the $est established packets of each run; over the"
echo "  $((streams * learn + blocked)) learning packets, the first $learn of each allowed stream"
echo "  and the blocked ones: $off_learn_ppp off, $on_learn_ppp on)"
echo "fold/show: $on_hits hits after run 2, $on_streams streams folded; pmd-perf-show counted"
echo "  $on_est_hits fold hits among the $est established packets."
echo "QoS: fp-meter on vf0, egress $meter_cir bit/s: $qos_green packets green, $qos_dropped dropped"
echo "  (runs 1 and 2; removed for run 3, as offload skips metered ports)."
echo "Offload: $hw_rules rules on the TEST E-SWITCH (software, standing in for a"
echo "  smart NIC), conntrack mode $hw_mode. In run 3 it forwarded $hw_packets packets"
echo "  (fold/offload-show): all $est established ones and $((hw_packets - est)) learning ones;"
echo "  OVS received $run3_sw of the $((allowed + blocked))."
