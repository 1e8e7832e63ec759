# SPDX-License-Identifier: Apache-2.0
#
# Shared by the fold tests: a VXLAN tenant network with a conntrack
# security group, run once with folding off and once on (or on stock
# OVS-DPDK), and what to compare between the runs. Source it from bash after
# nothing else; it sources sandbox.sh.
#
# The network is sandbox.sh's tenant network (fp_sb_tenant_network):
#
#   dpdk0 (inject port, uplink capture) -- br-phy (VTEP) -- tnl_pop/push --
#   br-int: vxlan0 (ofport 10) <-> ct <-> vhu0 (ofport 20) -- testpmd vm0
#
# vm0 captures what it receives and sends what fold_egress feeds it; dpdk0
# receives what fold_ingress feeds it and captures what OVS sends out.
#
# Counters only compare across runs if packets meet conntrack in the same
# state, whatever the batching: so traffic goes in two phases, the first
# packet of every stream, which commits its connection, then the rest.

. "$(dirname "${BASH_SOURCE[0]}")/sandbox.sh"

FOLD_VM_RX=0      # Packets vm0 must have received so far.
FOLD_UPLINK_TX=0  # Packets dpdk0 must have sent so far.

# other_config:fold-ct-mode of the runs with folding (the environment's
# FOLD_CT_MODE: meson runs some tests a second time with flowtable).
FOLD_CT_MODE=${FOLD_CT_MODE:-exact}
case $FOLD_CT_MODE in
exact|flowtable) ;;
*) echo "FOLD_CT_MODE must be exact or flowtable, not '$FOLD_CT_MODE'" >&2; exit 2 ;;
esac

# Starts a sandbox and builds the network.
# Usage: fold_start NAME on|off|stock [--ipv6-underlay]
fold_start() {
	local name=$1 mode=$2

	shift 2
	FOLD_VM_RX=0
	FOLD_UPLINK_TX=0
	if [ "$mode" = stock ]; then
		fp_sb_start "$name" --stock
	else
		fp_sb_start "$name"
		fp_sb_vsctl set Open_vSwitch . \
			other_config:fold-enable=$([ "$mode" = on ] && echo true || echo false) \
			other_config:fold-ct-mode="$FOLD_CT_MODE"
	fi
	# Runs compare their megaflows at the end: none may idle out (10 s by
	# default) before that on a slow or busy machine, such as the +new
	# megaflow that only the first packets of each connection hit.
	fp_sb_vsctl set Open_vSwitch . other_config:max-idle=120000
	fp_sb_vm_start vm0 --capture "$FP_SB_DIR/vm0.pcap" --inject
	fp_sb_tenant_network inject --vm vm0 \
		--capture "$FP_SB_DIR/uplink.pcap" "$@"
}

# Carries TCP connections both ways: fp-streamgen --tcp-handshake's FWD
# (from the remote VM, over the tunnel) and its REVerse (the local VM's
# answers), one packet of every stream at a time: forward packet k, then
# answer k, for k from 0 to LAST. After exchange AT, runs HOOK.
# Usage: fold_tcp_exchange FWD REV STREAMS LAST AT HOOK...
fold_tcp_exchange() {
	local fwd=$1 rev=$2 streams=$3 last=$4 at=$5 k

	shift 5
	for k in $(seq 0 "$last"); do
		fp_sb_pcap_slice "$fwd" "$fwd.$k" $((k * streams)) "$streams"
		fp_sb_pcap_slice "$rev" "$rev.$k" $((k * streams)) "$streams"
		fold_ingress "$fwd.$k"
		fold_egress "$rev.$k"
		[ "$k" != "$at" ] || "$@"
	done
}

# Replaces the flows of br-int with those on stdin (ovs-ofctl add-flows).
fold_flows() {
	fp_sb_set_flows br-int
}

# Installs the security group: from the tunnel (table 1) and from the VM
# (table 2), IPv4 and IPv6, conntrack in zone 1, allow established, commit
# new, drop the rest. The tests that change it take its +est rule of table
# 1 to be "table=1,priority=100,ct_state=+trk+est".
fold_security_group() {
	fp_sb_security_group --egress --ipv6 "$@"
}

# Sends a pcap into the uplink and waits until vm0 has received 'expect'
# more packets (default: all of them).
# Usage: fold_ingress PCAP [EXPECT]
fold_ingress() {
	local pcap=$1 n

	n=${2:-$(fp_sb_pcap_frames "$pcap")}
	# Acknowledged chunks: paced frames overflowed the uplink's socket
	# ring when a CPU hog kept the PMD off its core (vm0 got 368 of 384).
	# Where a NIC forwards streams (FOLD_INGRESS_ACK=vm), the frames it
	# forwards never reach dpdk0's counters: vm0's count acknowledges
	# each chunk instead, if vm0 must receive every frame (under a hog,
	# paced frames lost 356 of 768 there).
	if [ "${FOLD_INGRESS_ACK:-port}" = port ]; then
		fp_sb_inject_acked dpdk0 "$pcap" > /dev/null
	elif [ "$n" = "$(fp_sb_pcap_frames "$pcap")" ]; then
		fp_sb_inject_acked dpdk0 "$pcap" 16 vm0 > /dev/null
	else
		fp_sb_inject dpdk0 "$pcap" > /dev/null
	fi
	FOLD_VM_RX=$((FOLD_VM_RX + n))
	fp_sb_wait_vm_rx vm0 "$FOLD_VM_RX" 30
}

# Sends PCAP, COUNT frames that must all miss a NIC's rules and reach OVS
# (they wait at most 10 s for dpdk0 to count them), into the uplink, then a
# marker after them: "fp_sb_vm_rx_since vm0 60" then counts those of them
# the VM received. WHAT names them in messages.
# Usage: fold_inject_missed PCAP COUNT WHAT
fold_inject_missed() {
	local rx_before

	rx_before=$(fp_sb_iface_stat dpdk0 rx_packets)
	fp_sb_vm_mark vm0
	fp_sb_inject dpdk0 "$1" > /dev/null
	fp_wait_for 10 "OVS to receive the $3" \
		fp_sb_port_rx_at_least dpdk0 $((rx_before + $2)) ||
		fp_die "the $3 did not reach OVS: the NIC forwarded them"
	fp_sb_marker dpdk0 "after the $3" fp_sb_vm_marker_in vm0 60
}

# Sends a pcap from vm0 and waits until the uplink has sent 'expect' more
# packets (default: all of them).
# Usage: fold_egress PCAP [EXPECT]
fold_egress() {
	local pcap=$1 n

	n=${2:-$(fp_sb_pcap_frames "$pcap")}
	fp_sb_vm_inject vm0 "$pcap" > /dev/null
	FOLD_UPLINK_TX=$((FOLD_UPLINK_TX + n))
	fp_wait_for 30 "dpdk0 to send $FOLD_UPLINK_TX packets" \
		fold_uplink_sent "$FOLD_UPLINK_TX" ||
		fp_die "dpdk0 sent $(fp_sb_iface_stat dpdk0 tx_packets) packets, expected $FOLD_UPLINK_TX"
}

fold_uplink_sent() {
	[ "$(fp_sb_iface_stat dpdk0 tx_packets)" -ge "$1" ]
}

# Sends a pcap in two phases: the first 'streams' frames (packet 0 of each
# stream, in fp-streamgen's order), then the rest.
# Usage: fold_two_phases ingress|egress PCAP STREAMS
fold_two_phases() {
	local dir=$1 pcap=$2 streams=$3

	fp_sb_pcap_slice "$pcap" "$pcap.1" 0 "$streams"
	fp_sb_pcap_slice "$pcap" "$pcap.2" "$streams"
	"fold_$dir" "$pcap.1"
	"fold_$dir" "$pcap.2"
}

# Prints a counter of fold/show, summed over PMDs: hits, misses, inserts,
# "guard failures", invalidations, streams. It asks the running sandbox, or
# reads FILE, a fold/show that fold_save kept. Prints nothing, and fails,
# if fold/show has no such counter.
# Usage: fold_stat COUNTER [FILE]
fold_stat() {
	if [ -n "${2:-}" ]; then
		cat "$2"
	else
		fp_sb_appctl fold/show
	fi | awk -v k="$1" '
		index($0, "  " k ":") == 1 {
			split($0, f, ": ")
			split(f[2], v, " ")
			sum += v[1]
			n++
		}
		END { if (n) print sum; else exit 1 }'
}

# Succeeds once coverage counter COUNTER of the running sandbox has reached
# MIN. A PMD publishes its counters about once a second: wait on this for
# what an assertion needs.
# Usage: fold_coverage_at_least COUNTER MIN
fold_coverage_at_least() {
	local n

	n=$(fp_sb_appctl coverage/read-counter "$1") && [ "$n" -ge "$2" ]
}

# fold/offload-show, with its arguments ([--streams] [PORT]).
fold_offload_show() {
	fp_sb_appctl fold/offload-show "$@"
}

# Saves what a run did into DIR: the frames vm0 and the uplink received,
# the OpenFlow and datapath flow counters, the conntrack entries, and
# fold/show and pmd-stats-show. Stops vm0 and removes dpdk0 to flush their
# captures.
fold_save() {
	local dir=$1

	mkdir -p "$dir"
	# OpenFlow counters follow the datapath's once a revalidation round
	# has pushed them; a round that starts after the traffic has stopped
	# is finished when the second wait returns.
	fp_sb_appctl revalidator/wait > /dev/null
	fp_sb_appctl revalidator/wait > /dev/null
	for br in br-phy br-int; do
		fp_sb_ofctl dump-flows "$br" | grep -v '_reply' |
			sed -E 's/ *(duration|idle_age|hard_age)=[^,]*,//g' |
			sort > "$dir/of-$br"
	done
	fp_sb_appctl dpctl/dump-flows | grep -v '^flow-dump' |
		sed -E 's/, used:[^,]*//; s/ufid:[^,]*, //' | sort > "$dir/dp-flows"
	fp_sb_appctl dpctl/dump-conntrack | sort > "$dir/conntrack"
	fp_sb_appctl fold/show > "$dir/fold-show" 2>&1 || true
	fp_sb_appctl dpif-netdev/pmd-stats-show > "$dir/pmd-stats"
	# Packets that conntrack's flowtable mode tracked (stock has none).
	fp_sb_appctl coverage/read-counter conntrack_flowtable_hit \
		> "$dir/ct-flowtable-hits" 2> /dev/null || echo 0 > "$dir/ct-flowtable-hits"
	fp_sb_vm_stop vm0
	fp_sb_vsctl del-port br-phy dpdk0
	cp "$FP_SB_DIR/vm0.pcap" "$FP_SB_DIR/uplink.pcap" "$dir/"
}

# Fails unless two runs saved by fold_save, folding off (RUN_OFF) and on
# (RUN_ON), did the same: VM_FRAMES frames to the VM and UPLINK_FRAMES to
# the uplink in each (0 asserts that nothing arrived there), the same frames
# (in order within each flow), the same flow counters and the same
# conntrack entries; and that nothing was folded with folding off.
# Usage: fold_same RUN_OFF RUN_ON VM_FRAMES UPLINK_FRAMES
fold_same() {
	local a=$1 b=$2 vm_frames=$3 uplink_frames=$4 f run

	fp_check_eq "with folding off, no packet was folded" 0 \
		"$(fold_stat hits "$a/fold-show")"
	for run in "$a" "$b"; do
		fp_check_eq "${run##*/}: the VM received $vm_frames frames" \
			"$vm_frames" "$(fp_sb_pcap_frames "$run/vm0.pcap")"
		fp_check_eq "${run##*/}: the uplink sent $uplink_frames frames" \
			"$uplink_frames" "$(fp_sb_pcap_frames "$run/uplink.pcap")"
	done
	fp_check "the VM received the same frames in both runs" \
		"$FP_SB_TOOLS/fp-pcap" diff --per-flow "$a/vm0.pcap" "$b/vm0.pcap"
	fp_check "the uplink sent the same frames in both runs" \
		"$FP_SB_TOOLS/fp-pcap" diff --per-flow "$a/uplink.pcap" \
		"$b/uplink.pcap"
	for f in of-br-int of-br-phy dp-flows conntrack; do
		if ! diff -u "$a/$f" "$b/$f"; then
			fp_die "$f differ between the runs"
		fi
		echo "ok - $f are equal ($(wc -l < "$a/$f") lines)"
	done
}

# Runs 'fold_scenario' (a function the test defines, taking the run's
# mode) once per mode, each in its own sandbox and subshell. A scenario
# saves its run into $FOLD_RESULTS/MODE, which is kept for inspection in
# <build>/meson-logs/fold-results/NAME.
# Usage: fold_runs NAME MODE...
fold_runs() {
	local mode

	FOLD_RESULTS=$FP_BUILD/meson-logs/fold-results/$1
	shift
	rm -rf "$FOLD_RESULTS"
	mkdir -p "$FOLD_RESULTS"
	for mode in "$@"; do
		echo "== run with folding $mode =="
		( fold_scenario "$mode" ) || fp_die "the run with folding $mode failed"
	done
}
