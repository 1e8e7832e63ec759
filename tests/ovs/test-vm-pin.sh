#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# vm-pin in the patched OVS: two testpmd "VMs" whose lcores run on different
# cores, each on a dpdkvhostuserclient port, and two PMDs (cores 0 and 1).
#
# - vm-pin/show identifies each VM: the socket's peer pid, its lcores and
#   their pCPUs, its memory node;
# - isolate mode puts each VM's queue on the PMD that is not on its own
#   vCPU core, and pmd-rxq-show agrees; traffic still reaches both VMs;
# - the operator's pmd-rxq-affinity wins; a declared VM (vm-cpus, a libvirt
#   XML) replaces discovery; a bad declaration or mode is refused with a log
#   line and changes nothing;
# - a VM that restarts on another core, with two queues, is re-pinned (from
#   the vhost-user events alone); a VM that goes away leaves its port to
#   OVS's scheduling, and isolate then keeps other queues off the VM's PMD;
# - numa mode does not mind VMs sharing a PMD; mode off gives the queues
#   back to OVS;
# - moving a VM's vCPUs (taskset) is caught by the periodic recheck.
#
# This machine has one NUMA node: the multi-node placements are covered by
# the unit tests (tests/unit/test_fp_pin.c) on a fake 2-node topology.

. "$(dirname "$0")/sandbox.sh"

fp_sb_require_env $((FP_SB_SOCKET_MEM + 2 * FP_SB_VM_MEM))
[ "$(nproc --all)" -ge 2 ] || fp_skip "needs 2 CPUs"

# Prints the core of the PMD that polls PORT's rx queue Q, from
# pmd-rxq-show.
rxq_core() {
	fp_sb_appctl dpif-netdev/pmd-rxq-show | awk -v p="$1" -v q="$2" '
		/^pmd thread/ { core = $NF; sub(":", "", core) }
		$1 == "port:" && $2 == p && $4 == q { print core }'
}

rxq_on() {
	[ "$(rxq_core "$1" "$2")" = "$3" ]
}

show() {
	fp_sb_appctl vm-pin/show
}

show_has() {
	show | grep -qF -- "$1"
}

# Fails unless vm-pin/show holds every given line fragment.
check_show() {
	local what=$1 out frag

	shift
	out=$(show)
	for frag in "$@"; do
		grep -qF -- "$frag" <<< "$out" ||
			fp_die "$what: vm-pin/show lacks '$frag':"$'\n'"$out"
	done
	echo "ok - $what"
}

wait_rxq() {
	fp_wait_for 30 "$1 rxq $2 on core $3" rxq_on "$1" "$2" "$3" ||
		fp_die "$1 rxq $2 is on core '$(rxq_core "$1" "$2")', not $3:"$'\n'"$(fp_sb_appctl dpif-netdev/pmd-rxq-show)"$'\n'"$(show)"
	echo "ok - $1 rx queue $2 is polled by the PMD on core $3"
}

delivered() {
	fp_sb_vm_rx_at_least vma "$1" && fp_sb_vm_rx_at_least vmb "$2"
}

# Sends the test traffic into dpdk0 and checks that both VMs get it all.
check_delivery() {
	local a b

	a=$(fp_sb_vm_stat vma ipackets)
	b=$(fp_sb_vm_stat vmb ipackets)
	# vma's vCPU spins on core 0 with a PMD: chunks the ring can hold.
	fp_sb_inject_acked dpdk0 "$pcap"
	if ! fp_wait_for 30 "both VMs to receive $n_pkts packets" \
		delivered $((a + n_pkts)) $((b + n_pkts)); then
		fp_sb_ofctl dump-ports br-int >&2
		fp_sb_appctl dpif-netdev/pmd-stats-show >&2
		fp_die "$1: vma received $(($(fp_sb_vm_stat vma ipackets) - a)), vmb $(($(fp_sb_vm_stat vmb ipackets) - b)) of the $n_pkts packets"
	fi
	fp_sb_wait_vm_rx vma $((a + n_pkts))
	fp_sb_wait_vm_rx vmb $((b + n_pkts))
	echo "ok - $1: both VMs received the $n_pkts packets"
}

fp_sb_start vm-pin
# No periodic recheck until the last step: everything before it must be
# noticed from the events (configuration, VMs connecting and leaving).
fp_sb_vsctl set Open_vSwitch . other_config:pmd-cpu-mask=0x3 \
	other_config:vm-pin-interval=0
fp_sb_add_bridge br-int
fp_sb_add_inject_port br-int dpdk0 10
fp_sb_vm_start vma --cpu 0
fp_sb_vm_start vmb --cpu 1
fp_sb_add_vhu_port br-int vhu-a vma 20
fp_sb_add_vhu_port br-int vhu-b vmb 21
fp_sb_ofctl del-flows br-int
fp_sb_ofctl add-flow br-int "in_port=10,actions=output:20,output:21"

pcap=$FP_SB_DIR/plain.pcap
"$FP_STREAMGEN" --plain --streams 4 --packets 25 --out "$pcap" > /dev/null ||
	fp_die "cannot write $pcap"
n_pkts=100

check_show "vm-pin is off by default" "vm-pin mode: off"

# --- isolate: each VM's queue on the PMD off its own vCPU core ---------------
fp_sb_vsctl set Open_vSwitch . other_config:vm-pin=isolate
wait_rxq vhu-a 0 1
wait_rxq vhu-b 0 0
check_show "vm-pin/show identifies VM a" \
	"vm-pin mode: isolate" "PMD cores: 0-1" \
	"VM dpdk-testpmd --file-prefix=${FP_SB_VM_PREFIX[vma]}, pid ${FP_SB_VM_PID[vma]}" \
	"found as: peer of socket ${FP_SB_VM_SOCK[vma]} (OVS is the vhost-user client)" \
	"ports: vhu-a" "vCPUs: 2, on pCPUs 0" "memory on NUMA node: 0" \
	"PMD cores: 1" "vhu-a rxq 0: core 1, polled by core 1"
check_show "vm-pin/show identifies VM b" \
	"VM dpdk-testpmd --file-prefix=${FP_SB_VM_PREFIX[vmb]}, pid ${FP_SB_VM_PID[vmb]}" \
	"ports: vhu-b" "vCPUs: 2, on pCPUs 1" \
	"vhu-b rxq 0: core 0, polled by core 0"
# Kept with the sandbox's logs, for Documentation/topics/vm-pinning.rst.
show > "$FP_SB_DIR/vm-pin-show-isolate.log"
check_show "the PMDs on the VMs' vCPU cores are reported" \
	"pmd-on-vcpu: VM dpdk-testpmd --file-prefix=${FP_SB_VM_PREFIX[vma]}: PMD core 0 is one of its vCPU cores; using core 1 instead"
fp_check "the placement is logged" grep -q \
	"vm-pin: port 'vhu-a' rx queue 0 goes to the PMD on core 1" \
	"$FP_SB_DIR/ovs-vswitchd.log"
check_delivery "isolate"

# --- bad values are refused and change nothing ------------------------------
fp_sb_vsctl set Open_vSwitch . other_config:vm-pin=bogus
fp_wait_log "$FP_SB_DIR/ovs-vswitchd.log" \
	"other_config:vm-pin: " 30 || fp_die "no log line for vm-pin=bogus"
check_show "an unknown mode keeps the current one" "vm-pin mode: isolate" \
	"configuration errors:" \
	"other_config:vm-pin: vm-pin mode 'bogus' is not one of off, numa, isolate, sibling; keeping 'isolate'"
fp_sb_vsctl set Open_vSwitch . other_config:vm-pin=isolate
fp_sb_vsctl set Interface vhu-b other_config:vm-cpus=zz
fp_wait_log "$FP_SB_DIR/ovs-vswitchd.log" \
	"vhu-b: other_config:vm-cpus: 'zz' is not a CPU list" 30 ||
	fp_die "no log line for vm-cpus=zz"
check_show "a bad vm-cpus keeps the discovered VM" \
	"pid ${FP_SB_VM_PID[vmb]}" "vhu-b rxq 0: core 0" \
	"vhu-b: other_config:vm-cpus: 'zz' is not a CPU list"
fp_sb_vsctl remove Interface vhu-b other_config vm-cpus
fp_wait_for 30 "the configuration errors to clear" \
	bash -c "! '$FP_SB_APPCTL' -t '$FP_SB_DIR/ovs-vswitchd.ctl' vm-pin/show | grep -q 'configuration errors'" ||
	fp_die "vm-pin/show still lists configuration errors"
echo "ok - fixed values clear the configuration errors"

# --- the operator's pmd-rxq-affinity wins ----------------------------------
fp_sb_vsctl set Interface vhu-a other_config:pmd-rxq-affinity=0:0
wait_rxq vhu-a 0 0
check_show "pmd-rxq-affinity wins over vm-pin" \
	"vhu-a rxq 0: core 0 (pmd-rxq-affinity), polled by core 0" \
	"affinity-on-vcpu:"
fp_sb_vsctl remove Interface vhu-a other_config pmd-rxq-affinity
wait_rxq vhu-a 0 1

# --- declared VMs -----------------------------------------------------------
# Declared on core 0, like VM a: both want the PMD on core 1.
fp_sb_vsctl set Interface vhu-b other_config:vm-cpus=0 \
	other_config:vm-name=declared-b
wait_rxq vhu-b 0 1
wait_rxq vhu-a 0 1
check_show "a vm-cpus declaration replaces discovery" \
	"VM declared-b" "found as: declared: vm-cpus 0" "vCPUs: on pCPUs 0" \
	"shared-pmd:"
xml=$FP_SB_DIR/guest-b.xml
cat > "$xml" <<'EOF'
<domain type='kvm'>
  <name>guest-b</name>
  <vcpu placement='static'>2</vcpu>
  <cputune>
    <vcpupin vcpu='0' cpuset='1'/>
    <vcpupin vcpu='1' cpuset='1'/>
    <emulatorpin cpuset='0'/>
  </cputune>
  <numatune>
    <memory mode='strict' nodeset='0'/>
  </numatune>
</domain>
EOF
fp_sb_vsctl remove Interface vhu-b other_config vm-cpus -- \
	remove Interface vhu-b other_config vm-name -- \
	set Interface vhu-b "other_config:vm-libvirt-xml=$xml"
wait_rxq vhu-b 0 0
wait_rxq vhu-a 0 1
check_show "a libvirt XML declaration is read" \
	"VM guest-b" "found as: declared: vm-libvirt-xml $xml" \
	"vCPUs: 2, on pCPUs 1" "emulator threads on pCPUs: 0"
printf '<domain><name>broken' > "$xml"
fp_sb_appctl vm-pin/rebalance > /dev/null
check_show "a malformed libvirt XML falls back to discovery" \
	"pid ${FP_SB_VM_PID[vmb]}" "vhu-b rxq 0: core 0" \
	"declarations not used:" "vhu-b: libvirt XML $xml"
fp_check "the malformed XML is logged" grep -q "libvirt XML $xml" \
	"$FP_SB_DIR/ovs-vswitchd.log"
fp_sb_vsctl remove Interface vhu-b other_config vm-libvirt-xml
check_delivery "after the declarations"

# --- a VM restarts on another core, with two queues ------------------------
old_pid=${FP_SB_VM_PID[vma]}
fp_sb_vm_stop vma
rm -f "${FP_SB_VM_SOCK[vma]}"
fp_wait_for 30 "vhu-a to lose its VM" show_has "vhu-a: no VM connected" ||
	fp_die "vm-pin/show did not notice VM a leaving:"$'\n'"$(show)"
echo "ok - a VM that leaves is shown without a VM"
fp_sb_vm_start vma --cpu 1 --queues 2
fp_wait_log "$FP_SB_DIR/vma.log" "${FP_SB_VM_READY[vma]}" 60 ||
	fp_die "VM a did not restart"
fp_wait_for 60 "VM a's new pid in vm-pin/show" \
	show_has "pid ${FP_SB_VM_PID[vma]}" ||
	fp_die "vm-pin did not find the restarted VM:"$'\n'"$(show)"
[ "${FP_SB_VM_PID[vma]}" != "$old_pid" ] || fp_die "VM a kept its pid"
wait_rxq vhu-a 0 0
wait_rxq vhu-a 1 0
wait_rxq vhu-b 0 0
check_show "the restarted VM is re-pinned" \
	"vCPUs: 2, on pCPUs 1" "vhu-a rxq 0: core 0, polled by core 0" \
	"vhu-a rxq 1: core 0, polled by core 0"
# Both VMs now sit on core 1: isolate cannot give each its own PMD.
check_show "two VMs sharing the only free PMD is reported" "shared-pmd:"
check_delivery "after the restart"

# --- numa: the same PMDs, and sharing is not a conflict ---------------------
fp_sb_vsctl set Open_vSwitch . other_config:vm-pin=numa
fp_wait_for 30 "numa mode" show_has "vm-pin mode: numa" ||
	fp_die "vm-pin did not switch to numa"
check_show "numa mode places both VMs off their vCPU core" \
	"vhu-a rxq 1: core 0, polled by core 0" \
	"vhu-b rxq 0: core 0, polled by core 0"
fp_check "numa mode does not report shared PMDs" \
	bash -c "! '$FP_SB_APPCTL' -t '$FP_SB_DIR/ovs-vswitchd.ctl' vm-pin/show | grep -q shared-pmd"

# --- mode off: OVS's own scheduling ----------------------------------------
fp_sb_vsctl set Open_vSwitch . other_config:vm-pin=off
fp_wait_for 30 "vm-pin off" show_has "vm-pin mode: off" ||
	fp_die "vm-pin did not turn off"
fp_check "vm-pin gives the queues back to OVS" \
	grep -q "vm-pin: port 'vhu-a' rx queue 0 goes back to OVS's own scheduling" \
	"$FP_SB_DIR/ovs-vswitchd.log"
check_delivery "vm-pin off"

# --- isolate with a free PMD: other queues keep off the VM's PMD ------------
fp_sb_vsctl set Open_vSwitch . other_config:vm-pin=isolate
fp_sb_vm_stop vmb
fp_wait_for 30 "vhu-b to lose its VM" show_has "vhu-b: no VM connected" ||
	fp_die "vm-pin/show did not notice VM b leaving:"$'\n'"$(show)"
wait_rxq vhu-a 0 0
wait_rxq vhu-a 1 0
wait_rxq dpdk0 0 1
wait_rxq vhu-b 0 1
fp_check "the VM's PMD is isolated" bash -c \
	"'$FP_SB_APPCTL' -t '$FP_SB_DIR/ovs-vswitchd.ctl' dpif-netdev/pmd-rxq-show | grep -A1 'core_id 0:' | grep -q 'isolated : true'"
a=$(fp_sb_vm_stat vma ipackets)
fp_sb_inject_acked dpdk0 "$pcap"
fp_sb_wait_vm_rx vma $((a + n_pkts))
echo "ok - VM a still receives everything"

# --- the VM's vCPUs move: the periodic recheck re-pins ----------------------
fp_sb_vsctl set Open_vSwitch . other_config:vm-pin-interval=200
taskset -a -p -c 0 "${FP_SB_VM_PID[vma]}" > /dev/null ||
	fp_die "cannot move VM a to CPU 0"
wait_rxq vhu-a 0 1
wait_rxq vhu-a 1 1
wait_rxq dpdk0 0 0
check_show "the moved vCPUs are seen" "vCPUs: 2, on pCPUs 0" \
	"recheck every 200 ms"
a=$(fp_sb_vm_stat vma ipackets)
fp_sb_inject_acked dpdk0 "$pcap"
fp_sb_wait_vm_rx vma $((a + n_pkts))
echo "ok - VM a receives everything after the move"

fp_check "ovs-vswitchd is still running" \
	kill -0 "$(cat "$FP_SB_DIR/ovs-vswitchd.pid")"
echo "PASS: vm-pin"
