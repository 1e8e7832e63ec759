# SPDX-License-Identifier: Apache-2.0
#
# The benchmark pipelines, built on the sandbox harness (tests/ovs/sandbox.sh).
# Each bench_pipeline_NAME function builds its pipeline in a running sandbox
# and starts its traffic; the traffic keeps flowing until the sandbox goes.
#
#   l2         dpdk0 -> vhu0: one pass, the practical floor.
#   vxlan      dpdk0 (VXLAN) -> br-phy -> tnl_pop -> br-int -> vhu0.
#   vxlan-ct   as vxlan, with a Neutron-like firewall in br-int: conntrack
#              zone 1, allow established, commit new TCP to port 5001,
#              drop invalid and the rest.
#   egress-ct  the VM sends (fp-streamgen live, plain frames) -> vhu0 -> ct
#              -> vxlan0 -> tnl_push -> dpdk1 (net_null).
#   pvp-ct     vxlan-ct into a testpmd macswap VM, and back out through
#              egress ct and tnl_push to dpdk1.
#   vxlan-ct-esw  vxlan-ct on the TEST E-SWITCH PMD (tests/eswitch, a
#              software model of an SR-IOV NIC, not hardware): dpdk0 is its
#              uplink, vf0 the representor of the VM's VF, the VM testpmd
#              on the VF, and fp-streamgen sends into the uplink's wire.
#              For the "offload" datapath: how much of the traffic still
#              costs the OVS PMD.
#
# Variables the runner sets: BENCH_STREAMS, BENCH_SIZE (inner frame size),
# BENCH_WORK (a directory for pcaps), BENCH_UPLINK (empty: a pcap replay
# vdev; otherwise the devargs of a real uplink port).
#
# The tunnel pipelines are the sandbox's tenant network
# (fp_sb_tenant_network) and security group (fp_sb_security_group).

# Writes the uplink's pcap: one packet of each stream (the replay loops),
# or BENCH_TRAIN packets of each back to back.
# Usage: bench_pcap FILE [fp-streamgen options]
bench_pcap() {
	local file=$1 train=${BENCH_TRAIN:-1}

	shift
	"$FP_STREAMGEN" --streams "$BENCH_STREAMS" --packets "$train" \
		--train "$train" \
		--size "$BENCH_SIZE" --proto tcp --out "$file" "$@" > /dev/null ||
		fp_die "cannot generate the traffic"
}

# Adds the uplink port to BRIDGE, replaying PCAP forever (or the real
# uplink device given to the runner).
bench_uplink() {
	local br=$1 pcap=$2

	if [ -n "$BENCH_UPLINK" ]; then
		fp_sb_vsctl add-port "$br" dpdk0 -- set Interface dpdk0 \
			type=dpdk "options:dpdk-devargs=$BENCH_UPLINK" \
			ofport_request=1 || fp_die "cannot add the uplink"
		fp_sb_check_iface dpdk0
	else
		fp_sb_add_pcap_port "$br" dpdk0 "$pcap" --infinite 1
	fi
}

# Egress leaves through a net_null port on br-phy, where br-phy's FDB
# sends the remote VTEP's MAC.
bench_egress_sink() {
	fp_sb_add_null_port br-phy dpdk1 2
	fp_sb_tenant_fdb dpdk1
}

# The Neutron-like firewall: ingress in table 1, egress in table 2; the
# +est rules, which most packets take, outrank the others.
bench_firewall() {
	fp_sb_security_group --egress --allow-port 5001 --drop-invalid \
		--est-first
}

bench_pipeline_l2() {
	bench_pcap "$BENCH_WORK/uplink.pcap" --plain
	fp_sb_vm_start vm0 --rxonly
	fp_sb_add_bridge br0
	fp_sb_add_vhu_port br0 vhu0 vm0 20
	fp_sb_ofctl del-flows br0
	fp_sb_ofctl add-flow br0 "in_port=1,actions=output:20"
	bench_uplink br0 "$BENCH_WORK/uplink.pcap"
}

bench_pipeline_vxlan() {
	bench_pcap "$BENCH_WORK/uplink.pcap"
	fp_sb_vm_start vm0 --rxonly
	fp_sb_tenant_network none --vm vm0
	fp_sb_ofctl del-flows br-int
	fp_sb_ofctl add-flow br-int "in_port=10,actions=output:20"
	bench_uplink br-phy "$BENCH_WORK/uplink.pcap"
}

bench_pipeline_vxlan_ct() {
	bench_pcap "$BENCH_WORK/uplink.pcap"
	fp_sb_vm_start vm0 --rxonly
	fp_sb_tenant_network none --vm vm0
	bench_firewall
	bench_uplink br-phy "$BENCH_WORK/uplink.pcap"
}

bench_pipeline_egress_ct() {
	fp_sb_tenant_network none
	bench_egress_sink
	bench_firewall
	# The VM is fp-streamgen, sending its plain frames as fast as it can.
	fp_sb_gen_start vm0 --plain --streams "$BENCH_STREAMS" --packets 1 \
		--size "$BENCH_SIZE" --proto tcp --inner-src 10.1.0.1 \
		--inner-dst 10.0.0.1 --inner-src-mac 02:00:00:00:02:01 \
		--inner-dst-mac 02:00:00:00:01:01
	fp_sb_add_vhu_port br-int vhu0 vm0 20
}

bench_pipeline_pvp_ct() {
	bench_pcap "$BENCH_WORK/uplink.pcap"
	fp_sb_vm_start vm0 --macswap
	fp_sb_tenant_network none --vm vm0
	bench_egress_sink
	bench_firewall
	bench_uplink br-phy "$BENCH_WORK/uplink.pcap"
}

bench_pipeline_vxlan_ct_esw() {
	[ -n "$BENCH_UPLINK" ] &&
		fp_die "vxlan-ct-esw runs on the test e-switch, not --uplink"
	fp_sb_tenant_network eswitch --vm vm0
	bench_firewall
	fp_sb_wire_gen_start gen0 dpdk0 --streams "$BENCH_STREAMS" \
		--packets 1 --size "$BENCH_SIZE" --proto tcp
}

# Prints how many packets the pipeline has delivered so far: received by
# the VM, or, for the pipelines that end at the uplink, sent out of it.
bench_delivered() {
	case $BENCH_PIPELINE in
	egress-ct|pvp-ct)
		fp_sb_iface_stat dpdk1 tx_packets
		;;
	*)
		fp_sb_vm_stat vm0 ipackets
		;;
	esac
}
