# SPDX-License-Identifier: Apache-2.0
#
# OVS sandbox harness: one ovs-vswitchd (the patched one, or Debian's stock
# ovs-vswitchd-dpdk) with its ovsdb-server, in a private network namespace
# and run directory, with DPDK ports and testpmd "VMs". The integration
# tests, the benchmarks and the demo all use it. Source it from bash:
#
#   . tests/ovs/sandbox.sh
#   fp_sb_require_env                    # or exit 77 (skip) with the reason
#   fp_sb_start mytest [--stock]
#   fp_sb_add_phy_bridge br-phy 172.31.1.1/24 02:00:00:00:00:01
#   fp_sb_add_bridge br-int
#   fp_sb_add_vxlan_port br-int vxlan0 172.31.1.2 100 10
#   fp_sb_vm_start vm0 --capture "$FP_SB_DIR/vm0.pcap"
#   fp_sb_add_vhu_port br-int vhu0 vm0 20
#   fp_sb_add_pcap_port br-phy dpdk0 traffic.pcap
#
# or, for the VXLAN tenant network that the tests, the demo and the
# benchmarks share, with its conntrack security group:
#
#   fp_sb_vm_start vm0 --capture "$FP_SB_DIR/vm0.pcap"
#   fp_sb_tenant_network inject --vm vm0
#   fp_sb_security_group
#
# fp_sb_start installs an EXIT trap that tears down everything the sandbox
# started, by PID, whether the script succeeds or fails: the daemons, the
# VMs, the namespace, the sockets, the DPDK runtime directories and the
# hugepage files. Scripts must not install an EXIT trap of their own; they
# can add to the teardown with fp_sb_on_exit.
#
# Only one sandbox is up at a time in a shell. Readiness is always waited
# for on a real signal (a database column, a log line, a port counter),
# polling every 0.1 s, never with a fixed sleep.
#
# Environment (all optional):
#   FP_BUILD          meson build directory [<top>/build]
#   FP_SB_PMD_CORE    CPU of the PMD thread [1]
#   FP_SB_HOST_CORE   CPU of everything else: OVS main threads, VMs [0]
#   FP_SB_SOCKET_MEM  hugepage memory for OVS, in MB [512]
#   FP_SB_VM_MEM      hugepage memory per testpmd VM, in MB [256]
#   FP_SB_LOGDIR      where logs are kept after teardown
#                     [<build>/meson-logs/sandbox/<name>]
#   FP_SB_KEEP=1      leave the sandbox running at a successful exit (the
#                     demo's --keep); a failed one is torn down anyway

FP_TOP=${FP_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
FP_BUILD=${FP_BUILD:-$FP_TOP/build}
FP_SB_PMD_CORE=${FP_SB_PMD_CORE:-1}
FP_SB_HOST_CORE=${FP_SB_HOST_CORE:-0}
FP_SB_SOCKET_MEM=${FP_SB_SOCKET_MEM:-512}
FP_SB_VM_MEM=${FP_SB_VM_MEM:-256}
FP_SB_TOOLS=$FP_TOP/tests/ovs
FP_STREAMGEN=$FP_BUILD/dpdk-app/fp-streamgen
FP_TESTPMD=${FP_TESTPMD:-dpdk-testpmd}
# The test e-switch PMD (tests/eswitch), a plugin for the EAL's -d.
FP_ESWITCH=$FP_BUILD/tests/eswitch/librte_net_fpesw.so
FP_STOCK_VSWITCHD=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk
# shellcheck source=tests/ovs/hugepages.sh
. "$FP_TOP/tests/ovs/hugepages.sh"

# Sandbox state, set by fp_sb_start.
FP_SB_NAME=
FP_SB_DIR=
FP_SB_NS=
FP_SB_PREFIX=
FP_SB_FLAVOR=
FP_SB_VDEVS=0
FP_SB_VMS=()
FP_SB_EXIT_HOOKS=()
declare -gA FP_SB_VM_PID FP_SB_VM_PREFIX FP_SB_VM_SOCK FP_SB_VM_INJECT
declare -gA FP_SB_VM_READY

fp_log() {
	echo "[$(date +%T)] $*"
}

fp_die() {
	echo "FAIL: $*" >&2
	exit 1
}

# Exits with status 77, which meson reports as a skipped test.
fp_skip() {
	echo "SKIP: $*"
	exit 77
}

# Checks what the OVS suite needs: root, free hugepages, the built binaries
# and testpmd. Skips the test, with the reason, if anything is missing.
# Optional argument: megabytes of hugepages needed [OVS + one VM].
fp_sb_require_env() {
	local need_mb=${1:-$((FP_SB_SOCKET_MEM + FP_SB_VM_MEM))} free_mb

	[ "$(id -u)" = 0 ] ||
		fp_skip "needs root (network namespaces, hugepages, DPDK)"
	free_mb=$(fp_hugepages_free_mb)
	[ "$free_mb" -ge "$need_mb" ] ||
		fp_skip "needs ${need_mb} MB of free hugepages, has $free_mb MB (see README: ./foldpath setup)"
	mountpoint -q /dev/hugepages ||
		fp_skip "hugetlbfs is not mounted on /dev/hugepages"
	[ -x "$FP_BUILD/ovs/vswitchd/ovs-vswitchd" ] ||
		fp_skip "patched OVS not built in $FP_BUILD/ovs"
	command -v "$FP_TESTPMD" > /dev/null ||
		fp_skip "$FP_TESTPMD not found (Debian package dpdk-dev)"
}

# Runs a command repeatedly until it succeeds, for at most 'timeout'
# seconds. Usage: fp_wait_for TIMEOUT DESCRIPTION COMMAND...
fp_wait_for() {
	local timeout=$1 what=$2
	local deadline=$((SECONDS + timeout))

	shift 2
	until "$@" > /dev/null 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			echo "timed out after ${timeout}s waiting for: $what" >&2
			return 1
		fi
		sleep 0.1
	done
}

# Waits until a fixed string appears in a file.
fp_wait_log() {
	local file=$1 text=$2 timeout=${3:-60}

	fp_wait_for "$timeout" "'$text' in $file" grep -qF -- "$text" "$file"
}

# ---------------------------------------------------------------------------
# OVS command wrappers, bound to the current sandbox.

fp_sb_vsctl() {
	"$FP_SB_VSCTL" --db="unix:$FP_SB_DIR/db.sock" --timeout=60 "$@"
}

fp_sb_appctl() {
	"$FP_SB_APPCTL" -t "$FP_SB_DIR/ovs-vswitchd.ctl" --timeout=60 "$@"
}

fp_sb_ofctl() {
	"$FP_SB_OFCTL" -O OpenFlow13 "$@"
}

# Runs a command inside the sandbox's network namespace.
fp_sb_netns() {
	ip netns exec "$FP_SB_NS" "$@"
}

# Adds a command to run at teardown, before the sandbox itself goes.
fp_sb_on_exit() {
	FP_SB_EXIT_HOOKS+=("$*")
}

# ---------------------------------------------------------------------------
# Life cycle.

# Points the sandbox at Debian's installed Open vSwitch programs and
# schema, with VSWITCHD as its ovs-vswitchd.
# Usage: fp_sb_debian_tools VSWITCHD
fp_sb_debian_tools() {
	FP_SB_VSWITCHD=$1
	FP_SB_OVSDB_SERVER=/usr/sbin/ovsdb-server
	FP_SB_OVSDB_TOOL=/usr/bin/ovsdb-tool
	FP_SB_VSCTL=/usr/bin/ovs-vsctl
	FP_SB_APPCTL=/usr/bin/ovs-appctl
	FP_SB_OFCTL=/usr/bin/ovs-ofctl
	FP_SB_SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
}

# Starts ovsdb-server and ovs-vswitchd with DPDK initialised, in a fresh
# namespace and run directory.
# Usage: fp_sb_start NAME [--stock]
fp_sb_start() {
	local name=$1 flavor=${2:-patched} bin

	[ -z "$FP_SB_NAME" ] || fp_die "sandbox $FP_SB_NAME is already up"
	case $flavor in
	patched|--patched)
		bin=$FP_BUILD/ovs
		FP_SB_FLAVOR=patched
		FP_SB_VSWITCHD=$bin/vswitchd/ovs-vswitchd
		FP_SB_OVSDB_SERVER=$bin/ovsdb/ovsdb-server
		FP_SB_OVSDB_TOOL=$bin/ovsdb/ovsdb-tool
		FP_SB_VSCTL=$bin/utilities/ovs-vsctl
		FP_SB_APPCTL=$bin/utilities/ovs-appctl
		FP_SB_OFCTL=$bin/utilities/ovs-ofctl
		FP_SB_SCHEMA=$bin/vswitchd/vswitch.ovsschema
		;;
	stock|--stock)
		FP_SB_FLAVOR=stock
		fp_sb_debian_tools "$FP_STOCK_VSWITCHD"
		;;
	*)
		fp_die "fp_sb_start: unknown flavor '$flavor' (patched or --stock)"
		;;
	esac
	for bin in "$FP_SB_VSWITCHD" "$FP_SB_OVSDB_SERVER" "$FP_SB_VSCTL"; do
		[ -x "$bin" ] || fp_die "$bin is missing"
	done

	FP_SB_NAME=$name
	FP_SB_PREFIX=fpsb-$name-$$
	FP_SB_NS=$FP_SB_PREFIX
	FP_SB_DIR=$(mktemp -d "/tmp/fpsb-$name.XXXXXX")
	FP_SB_LOGDIR=${FP_SB_LOGDIR:-$FP_BUILD/meson-logs/sandbox/$name}
	trap fp_sb_teardown EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	export OVS_RUNDIR=$FP_SB_DIR OVS_LOGDIR=$FP_SB_DIR OVS_DBDIR=$FP_SB_DIR
	export OVS_SYSCONFDIR=$FP_SB_DIR

	ip netns add "$FP_SB_NS" || fp_die "cannot create network namespace $FP_SB_NS"
	# No IPv6 on the bridge taps: their router solicitations and MLD
	# reports would be flooded into the VMs as stray packets.
	fp_sb_netns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	fp_sb_netns ip link set lo up

	"$FP_SB_OVSDB_TOOL" create "$FP_SB_DIR/conf.db" "$FP_SB_SCHEMA" ||
		fp_die "cannot create the OVS database"
	fp_sb_netns "$FP_SB_OVSDB_SERVER" "$FP_SB_DIR/conf.db" \
		--remote="punix:$FP_SB_DIR/db.sock" \
		--pidfile="$FP_SB_DIR/ovsdb-server.pid" \
		--log-file="$FP_SB_DIR/ovsdb-server.log" \
		--detach --no-chdir 2> "$FP_SB_DIR/ovsdb-server.stderr" ||
		fp_die "ovsdb-server did not start: $(cat "$FP_SB_DIR/ovsdb-server.stderr")"

	# EAL loads a -d plugin only from a directory path no one else can
	# write to (not /tmp): FP_SB_PLUGIN is copied to one of ours.
	local eal_extra=${FP_SB_EAL_EXTRA:-}
	if [ -n "${FP_SB_PLUGIN:-}" ]; then
		install -d -m 755 "/run/$FP_SB_PREFIX.d" &&
			install -m 755 "$FP_SB_PLUGIN" "/run/$FP_SB_PREFIX.d/" ||
			fp_die "cannot install the plugin $FP_SB_PLUGIN"
		eal_extra+="${eal_extra:+ }-d /run/$FP_SB_PREFIX.d/$(basename "$FP_SB_PLUGIN")"
	fi

	fp_sb_vsctl --no-wait init
	fp_sb_vsctl --no-wait set Open_vSwitch . \
		other_config:dpdk-init=true \
		other_config:dpdk-extra="--file-prefix=$FP_SB_PREFIX --no-pci${eal_extra:+ $eal_extra}" \
		other_config:dpdk-socket-mem="$FP_SB_SOCKET_MEM" \
		other_config:pmd-cpu-mask="$(printf '0x%x' $((1 << FP_SB_PMD_CORE)))" \
		other_config:pmd-perf-metrics=true

	fp_log "starting $FP_SB_FLAVOR ovs-vswitchd in netns $FP_SB_NS ($FP_SB_DIR)"
	fp_sb_netns taskset -c "$FP_SB_HOST_CORE" "$FP_SB_VSWITCHD" \
		"unix:$FP_SB_DIR/db.sock" \
		--pidfile="$FP_SB_DIR/ovs-vswitchd.pid" \
		--unixctl="$FP_SB_DIR/ovs-vswitchd.ctl" \
		--log-file="$FP_SB_DIR/ovs-vswitchd.log" \
		--detach --no-chdir 2> "$FP_SB_DIR/ovs-vswitchd.stderr" ||
		fp_die "ovs-vswitchd did not start: $(cat "$FP_SB_DIR/ovs-vswitchd.stderr")"
	fp_sb_save
	fp_sb_vsctl wait-until Open_vSwitch . dpdk_initialized=true ||
		fp_die "DPDK did not initialise; see $FP_SB_DIR/ovs-vswitchd.log"
	fp_log "ovs-vswitchd is up: $(fp_sb_vsctl get Open_vSwitch . dpdk_version)"
}

# Records the sandbox in $FP_SB_DIR/sandbox.env, so that another shell can
# take it over with fp_sb_attach (the demo's --keep and --stop).
fp_sb_save() {
	declare -p FP_SB_NAME FP_SB_DIR FP_SB_NS FP_SB_PREFIX FP_SB_FLAVOR \
		FP_SB_LOGDIR FP_SB_VDEVS FP_SB_VMS FP_SB_VM_PID FP_SB_VM_PREFIX \
		FP_SB_VM_SOCK FP_SB_VM_INJECT FP_SB_VM_READY FP_SB_VSWITCHD FP_SB_OVSDB_SERVER FP_SB_OVSDB_TOOL \
		FP_SB_VSCTL FP_SB_APPCTL FP_SB_OFCTL FP_SB_SCHEMA |
		sed -e 's/^declare -- /declare -g /' \
		    -e 's/^declare -\([aA]\) /declare -g\1 /' \
		> "$FP_SB_DIR/sandbox.env"
}

# Takes over a sandbox left running (FP_SB_KEEP=1) by another shell.
# Usage: fp_sb_attach DIR
fp_sb_attach() {
	[ -r "$1/sandbox.env" ] || fp_die "$1 is not a running sandbox"
	# shellcheck disable=SC1091
	. "$1/sandbox.env"
	export OVS_RUNDIR=$FP_SB_DIR OVS_LOGDIR=$FP_SB_DIR OVS_DBDIR=$FP_SB_DIR
	export OVS_SYSCONFDIR=$FP_SB_DIR
}

# Kills one process we started, by PID: SIGTERM, then SIGKILL after 10 s.
fp_sb_kill_pid() {
	local pid=$1 i

	[ -n "$pid" ] && fp_pid_alive "$pid" || return 0
	kill -TERM "$pid" 2> /dev/null
	for i in $(seq 100); do
		fp_pid_alive "$pid" || return 0
		sleep 0.1
	done
	echo "sandbox: pid $pid ignored SIGTERM; killing it" >&2
	kill -KILL "$pid" 2> /dev/null
	for i in $(seq 50); do
		fp_pid_alive "$pid" || return 0
		sleep 0.1
	done
}

# True while PID runs. A detached daemon that has exited is a zombie until
# its new parent (init) reaps it, which can take seconds on a busy machine:
# that counts as gone.
fp_pid_alive() {
	local state

	kill -0 "$1" 2> /dev/null || return 1
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2> /dev/null)
	[ -n "$state" ] && [ "$state" != Z ]
}

fp_sb_teardown() {
	local status=$? hook vm pid

	[ -n "$FP_SB_NAME" ] || return "$status"
	if [ "${FP_SB_KEEP:-0}" = 1 ] && [ "$status" = 0 ]; then
		fp_log "sandbox $FP_SB_NAME left running (FP_SB_KEEP=1)"
		return "$status"
	fi
	# A sandbox that failed is torn down even with FP_SB_KEEP=1: nothing
	# would stop it later (the demo records it only once it is up).
	[ "${FP_SB_KEEP:-0}" = 1 ] &&
		fp_log "sandbox $FP_SB_NAME failed (status $status): tearing it down although FP_SB_KEEP=1"
	trap - EXIT INT TERM
	for hook in "${FP_SB_EXIT_HOOKS[@]}"; do
		eval "$hook" || true
	done
	if [ "$status" != 0 ] && [ "$status" != 77 ]; then
		echo "--- last lines of ovs-vswitchd.log ---" >&2
		tail -n 30 "$FP_SB_DIR/ovs-vswitchd.log" >&2 2> /dev/null
	fi

	# Graceful first, so vswitchd closes its DPDK ports; then by PID.
	pid=$(cat "$FP_SB_DIR/ovs-vswitchd.pid" 2> /dev/null)
	if [ -n "$pid" ] && fp_pid_alive "$pid"; then
		timeout 20 "$FP_SB_APPCTL" -t "$FP_SB_DIR/ovs-vswitchd.ctl" \
			exit > /dev/null 2>&1
		fp_sb_kill_pid "$pid"
	fi
	for vm in "${FP_SB_VMS[@]}"; do
		fp_sb_kill_pid "${FP_SB_VM_PID[$vm]}"
	done
	fp_sb_kill_pid "$(cat "$FP_SB_DIR/ovsdb-server.pid" 2> /dev/null)"

	ip netns del "$FP_SB_NS" 2> /dev/null
	rm -rf /dev/hugepages/"$FP_SB_PREFIX"* /var/run/dpdk/"$FP_SB_PREFIX"*
	rm -rf "/run/$FP_SB_PREFIX.d"

	mkdir -p "$FP_SB_LOGDIR"
	cp "$FP_SB_DIR"/*.log "$FP_SB_LOGDIR/" 2> /dev/null
	rm -rf "$FP_SB_DIR"
	fp_log "sandbox $FP_SB_NAME torn down (logs: $FP_SB_LOGDIR)"
	FP_SB_NAME=
	return "$status"
}

# ---------------------------------------------------------------------------
# Bridges and ports.

# Usage: fp_sb_add_bridge BRIDGE [HWADDR]
fp_sb_add_bridge() {
	local br=$1 hwaddr=${2:-}

	fp_sb_vsctl add-br "$br" -- set bridge "$br" datapath_type=netdev \
		${hwaddr:+other-config:hwaddr=$hwaddr} ||
		fp_die "cannot add bridge $br"
}

# A bridge that carries the local VTEP: its tap gets the address, and OVS
# routes tunnel traffic through it.
# Usage: fp_sb_add_phy_bridge BRIDGE IP/PREFIXLEN HWADDR
fp_sb_add_phy_bridge() {
	local br=$1 cidr=$2 hwaddr=$3

	fp_sb_add_bridge "$br" "$hwaddr"
	case $cidr in
	*:*)
		# An IPv6 VTEP: IPv6 on this tap only, quietly (no router
		# solicitations, no DAD), and what ICMPv6 the tap still sends
		# (MLD reports) stays out of the uplink.
		fp_sb_netns sysctl -qw "net.ipv6.conf.$br.accept_ra=0" \
			"net.ipv6.conf.$br.router_solicitations=0" \
			"net.ipv6.conf.$br.dad_transmits=0" \
			"net.ipv6.conf.$br.addr_gen_mode=1" \
			"net.ipv6.conf.$br.disable_ipv6=0"
		fp_sb_ofctl add-flow "$br" \
			"priority=65535,in_port=LOCAL,icmp6,actions=drop"
		;;
	esac
	fp_sb_netns ip addr add "$cidr" dev "$br" ||
		fp_die "cannot put $cidr on $br"
	fp_sb_netns ip link set "$br" up
	fp_wait_for 30 "OVS route to ${cidr%/*} via $br" \
		fp_sb_has_route "${cidr%/*}" "$br" || fp_die "no OVS route on $br"
}

fp_sb_has_route() {
	fp_sb_appctl ovs/route/show | grep -q "$2.*$1\|$1.*$2"
}

# Fails the test if an interface has an error in the database.
fp_sb_check_iface() {
	local iface=$1 error

	error=$(fp_sb_vsctl get Interface "$iface" error 2> /dev/null)
	[ -z "$error" ] || [ "$error" = "[]" ] ||
		fp_die "interface $iface: $error"
	[ "$(fp_sb_vsctl get Interface "$iface" ofport)" != "-1" ] ||
		fp_die "interface $iface has no OpenFlow port"
}

# A DPDK port whose rx replays a pcap file (net_pcap). By default the file
# is replayed once; --infinite replays it forever, preloaded into mbufs.
# Usage: fp_sb_add_pcap_port BRIDGE PORT PCAP [--infinite] [OFPORT]
fp_sb_add_pcap_port() {
	local br=$1 port=$2 pcap=$3 infinite= ofport=

	shift 3
	while [ $# -gt 0 ]; do
		case $1 in
		--infinite) infinite=,infinite_rx=1 ;;
		*) ofport=$1 ;;
		esac
		shift
	done
	[ -r "$pcap" ] || fp_die "pcap $pcap not readable"
	FP_SB_VDEVS=$((FP_SB_VDEVS + 1))
	fp_sb_vsctl add-port "$br" "$port" -- set Interface "$port" type=dpdk \
		"options:dpdk-devargs=net_pcap$FP_SB_VDEVS,rx_pcap=$pcap$infinite" \
		${ofport:+ofport_request=$ofport} ||
		fp_die "cannot add pcap port $port"
	fp_sb_check_iface "$port"
}

# A DPDK port whose rx the test feeds on demand: net_pcap reads what arrives
# on one end of a veth pair in the sandbox namespace, and fp_sb_inject sends
# a pcap into the other end. Unlike a pcap replay, which starts the moment
# the port exists (before OVS can even translate its packets), this starts
# when the test says so, so every packet counts. With --capture, what OVS
# sends out of the port is written to FILE.
# Usage: fp_sb_add_inject_port BRIDGE PORT [--capture FILE] [OFPORT]
fp_sb_add_inject_port() {
	local br=$1 port=$2 capture= ofport= devargs

	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--capture) capture=$2; shift ;;
		*) ofport=$1 ;;
		esac
		shift
	done
	FP_SB_VDEVS=$((FP_SB_VDEVS + 1))
	fp_sb_netns ip link add "fpi$FP_SB_VDEVS" type veth \
		peer name "fpk$FP_SB_VDEVS" || fp_die "cannot create veth pair"
	fp_sb_netns ip link set "fpi$FP_SB_VDEVS" up
	fp_sb_netns ip link set "fpk$FP_SB_VDEVS" up
	devargs="net_pcap$FP_SB_VDEVS,rx_iface_in=fpi$FP_SB_VDEVS"
	devargs+=${capture:+,tx_pcap=$capture}
	fp_sb_vsctl add-port "$br" "$port" -- set Interface "$port" type=dpdk \
		"options:dpdk-devargs=$devargs" \
		"external_ids:fp-inject=fpk$FP_SB_VDEVS" \
		${ofport:+ofport_request=$ofport} ||
		fp_die "cannot add port $port"
	fp_sb_check_iface "$port"
}

# Sends the frames of a pcap into a port made by fp_sb_add_inject_port,
# pausing 1 ms after every BURST frames (fp-pcap inject), so at most about
# BURST thousand frames per second [FP_SB_INJECT_BURST, 4]. A net_pcap
# port loses frames when they come faster than its PMD reads them, as
# while the PMD handles upcalls: at 64 per ms (fp-pcap's own default) the
# fold tests lost frames in 6 of 9 runs; 4 per ms is
# the demo's rate. A caller that measures at a rate passes its own BURST.
# Usage: fp_sb_inject PORT PCAP [BURST]
FP_SB_INJECT_BURST=${FP_SB_INJECT_BURST:-4}
fp_sb_inject() {
	local port=$1 pcap=$2 burst=${3:-$FP_SB_INJECT_BURST} veth

	veth=$(fp_sb_vsctl get Interface "$port" external_ids:fp-inject | tr -d '"')
	[ -n "$veth" ] || fp_die "$port is not an inject port"
	fp_sb_netns "$FP_SB_TOOLS/fp-pcap" inject "$veth" "$pcap" $burst ||
		fp_die "cannot inject $pcap into $port"
}

# Sends the frames of a pcap into an inject port CHUNK frames at a time,
# each chunk once the port has received the one before [16]. A net_pcap
# port's socket ring holds a few dozen frames: a PMD that shares its core
# with a busy process (a VM's vCPU, a CPU hog) is off the core for several
# milliseconds at a time, and frames paced over that long overflow the ring.
# For tests that check delivery, not a rate; a port that misses a frame
# makes the wait time out with the port's counts. With VM, each chunk is
# acknowledged by the VM's receive count instead: for frames that a NIC
# forwards to the VM without the port counting them, every one of which
# must reach the VM.
# Usage: fp_sb_inject_acked PORT PCAP [CHUNK [VM]]
fp_sb_inject_acked() {
	local port=$1 pcap=$2 chunk=${3:-16} vm=${4:-} n i end base part

	n=$(fp_sb_pcap_frames "$pcap") || fp_die "cannot read $pcap"
	if [ -n "$vm" ]; then
		base=$(fp_sb_vm_stat "$vm" ipackets)
	else
		base=$(fp_sb_iface_stat "$port" rx_packets)
	fi || fp_die "cannot read the counters of ${vm:-$port}"
	part=$FP_SB_DIR/inject-chunk.pcap
	for ((i = 0; i < n; i += chunk)); do
		end=$((i + chunk < n ? i + chunk : n))
		fp_sb_pcap_slice "$pcap" "$part" $i $chunk
		fp_sb_inject "$port" "$part" $chunk > /dev/null
		if [ -n "$vm" ]; then
			fp_wait_for 30 "$vm to receive frames $i to $((end - 1))" \
				fp_sb_vm_rx_at_least "$vm" $((base + end)) ||
				fp_die "$vm received $(( $(fp_sb_vm_stat "$vm" ipackets) - base )) of the first $end frames of $pcap sent into $port"
			continue
		fi
		fp_wait_for 30 "$port to receive frames $i to $((end - 1))" \
			fp_sb_port_rx_at_least "$port" $((base + end)) ||
			fp_die "$port received $(( $(fp_sb_iface_stat "$port" rx_packets) - base )) of the first $end frames of $pcap (rx_missed_errors: $(fp_sb_vsctl get Interface "$port" statistics:rx_missed_errors 2> /dev/null))"
	done
	rm -f "$part"
	echo "injected $n frames into $port, $chunk at a time"
}

# A DPDK port that receives nothing and drops what it sends (net_null).
# Usage: fp_sb_add_null_port BRIDGE PORT [OFPORT]
fp_sb_add_null_port() {
	local br=$1 port=$2 ofport=${3:-}

	FP_SB_VDEVS=$((FP_SB_VDEVS + 1))
	fp_sb_vsctl add-port "$br" "$port" -- set Interface "$port" type=dpdk \
		"options:dpdk-devargs=net_null$FP_SB_VDEVS,no-rx=1" \
		${ofport:+ofport_request=$ofport} ||
		fp_die "cannot add null port $port"
	fp_sb_check_iface "$port"
}

# Usage: fp_sb_add_vxlan_port BRIDGE PORT REMOTE_IP KEY [OFPORT]
fp_sb_add_vxlan_port() {
	local br=$1 port=$2 remote=$3 key=$4 ofport=${5:-}

	fp_sb_vsctl add-port "$br" "$port" -- set Interface "$port" type=vxlan \
		"options:remote_ip=$remote" "options:key=$key" \
		${ofport:+ofport_request=$ofport} ||
		fp_die "cannot add VXLAN port $port"
	fp_sb_check_iface "$port"
	fp_wait_for 30 "VXLAN tunnel port listening" \
		fp_sb_tnl_listening || fp_die "VXLAN port $port is not listening"
}

fp_sb_tnl_listening() {
	fp_sb_appctl tnl/ports/show | grep -q vxlan_sys_
}

# ---------------------------------------------------------------------------
# testpmd as the VM.

# Starts testpmd as a VM with one virtio-user port in server mode, waiting
# for OVS (add it with fp_sb_add_vhu_port). Modes:
#   --rxonly         count and drop what arrives (default)
#   --capture FILE   write what arrives to FILE (testpmd io-forwards port 0
#                    to a tx-only net_pcap port); stop the VM to flush it
#   --macswap        send everything back with MACs swapped (PVP)
#   --inject         also send what fp_sb_vm_inject feeds it: the net_pcap
#                    port reads a veth in the sandbox namespace (testpmd
#                    then runs in the namespace); combines with --capture
#   --cpu C          run the VM's lcores ("vCPUs") on CPU C instead of
#                    FP_SB_HOST_CORE
#   --stats-period S testpmd prints its port statistics, with the rx rate
#                    it measured (Rx-pps, Rx-bps), every S seconds
# Usage: fp_sb_vm_start VM [MODE] [--inject] [--queues N] [--cpu C]
#                       [--stats-period S]
fp_sb_vm_start() {
	local vm=$1 mode=rxonly queues=1 capture= inject= sock prefix pcap=
	local cpu=$FP_SB_HOST_CORE period=86400 netns=()

	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--rxonly) mode=rxonly ;;
		--macswap) mode=macswap ;;
		--capture) mode=io; capture=$2; shift ;;
		--inject) mode=io; inject=1 ;;
		--queues) queues=$2; shift ;;
		--cpu) cpu=$2; shift ;;
		--stats-period) period=$2; shift ;;
		*) fp_die "fp_sb_vm_start: unknown option $1" ;;
		esac
		shift
	done
	sock=$FP_SB_DIR/$vm.sock
	prefix=$FP_SB_PREFIX-$vm
	if [ -n "$inject" ]; then
		FP_SB_VDEVS=$((FP_SB_VDEVS + 1))
		fp_sb_netns ip link add "fpv$FP_SB_VDEVS" type veth \
			peer name "fpw$FP_SB_VDEVS" || fp_die "cannot create veth pair"
		fp_sb_netns ip link set "fpv$FP_SB_VDEVS" up
		fp_sb_netns ip link set "fpw$FP_SB_VDEVS" up
		FP_SB_VM_INJECT[$vm]=fpw$FP_SB_VDEVS
		pcap="net_pcap_$vm,rx_iface_in=fpv$FP_SB_VDEVS,tx_pcap=${capture:-/dev/null}"
		netns=(ip netns exec "$FP_SB_NS")
	elif [ -n "$capture" ]; then
		pcap="net_pcap_$vm,tx_pcap=$capture"
	fi
	# Both testpmd lcores share one core (the host core by default: the
	# PMD core is OVS's). Its output is line-buffered: fp_sb_add_vhu_port
	# waits for a line that testpmd, writing to a file, otherwise kept in
	# its buffer until it exited on a freshly booted machine.
	"${netns[@]}" stdbuf -oL "$FP_TESTPMD" \
		--lcores="0@$cpu,1@$cpu" \
		--file-prefix="$prefix" --no-pci --single-file-segments \
		-m "$FP_SB_VM_MEM" \
		--vdev="net_virtio_user0,path=$sock,server=1,queues=$queues,queue_size=1024" \
		${pcap:+--vdev=$pcap} \
		-- --forward-mode="$mode" --rxq="$queues" --txq="$queues" \
		--nb-cores=1 --total-num-mbufs=16384 --stats-period="$period" \
		> "$FP_SB_DIR/$vm.log" 2>&1 &
	fp_sb_vm_started "$vm" "$!" "$prefix" "$sock" "packet forwarding - ports="
}

# Starts testpmd as a VM whose NIC is an SR-IOV VF of the test e-switch
# (tests/eswitch): net_af_packet on the VF's far end, a veth made by
# fp_sb_add_eswitch_port. It receives and drops (rxonly), or with
# --capture FILE writes what it receives to FILE (as fp_sb_vm_start; stop
# the VM to flush it); its counters are read with fp_sb_vm_stat as for
# other VMs.
# Usage: fp_sb_vf_vm_start VM PORT [--capture FILE]
fp_sb_vf_vm_start() {
	local vm=$1 port=$2 iface prefix mode=rxonly pcap=

	[ "${3:-}" != --capture ] || { mode=io; pcap="net_pcap_$vm,tx_pcap=$4"; }
	iface=$(fp_sb_vsctl get Interface "$port" external_ids:fp-vf | tr -d '"')
	[ -n "$iface" ] || fp_die "$port is not an e-switch representor"
	prefix=$FP_SB_PREFIX-$vm
	ip netns exec "$FP_SB_NS" "$FP_TESTPMD" \
		--lcores="0@$FP_SB_HOST_CORE,1@$FP_SB_HOST_CORE" \
		--file-prefix="$prefix" --no-pci --single-file-segments \
		-m "$FP_SB_VM_MEM" --vdev="net_af_packet0,iface=$iface" \
		${pcap:+--vdev=$pcap} \
		-- --forward-mode=$mode --nb-cores=1 --total-num-mbufs=8192 \
		--stats-period=86400 > "$FP_SB_DIR/$vm.log" 2>&1 &
	FP_SB_VM_PID[$vm]=$!
	FP_SB_VM_PREFIX[$vm]=$prefix
	FP_SB_VMS+=("$vm")
	fp_sb_save
	fp_wait_for 30 "$vm to start" fp_sb_vm_stat "$vm" ipackets ||
		fp_die "VM $vm did not start; see $FP_SB_DIR/$vm.log"
}

# Starts fp-streamgen as the far end of an e-switch uplink's wire (the
# remote VTEP): it sends the VXLAN traffic its options describe, live, as
# fast as it can, through net_af_packet on the wire's veth. It is stopped
# with the sandbox, as a VM.
# Usage: fp_sb_wire_gen_start NAME PORT [fp-streamgen options]
fp_sb_wire_gen_start() {
	local vm=$1 port=$2 veth prefix

	shift 2
	veth=$(fp_sb_vsctl get Interface "$port" external_ids:fp-inject | tr -d '"')
	[ -n "$veth" ] || fp_die "$port is not an e-switch uplink"
	prefix=$FP_SB_PREFIX-$vm
	ip netns exec "$FP_SB_NS" "$FP_STREAMGEN" \
		--lcores="0@$FP_SB_HOST_CORE" --file-prefix="$prefix" --no-pci \
		--single-file-segments -m "$FP_SB_VM_MEM" --log-level=error \
		--vdev="net_af_packet0,iface=$veth" -- --tx "$@" \
		> "$FP_SB_DIR/$vm.log" 2>&1 &
	FP_SB_VM_PID[$vm]=$!
	FP_SB_VM_PREFIX[$vm]=$prefix
	FP_SB_VMS+=("$vm")
	fp_sb_save
	fp_wait_log "$FP_SB_DIR/$vm.log" "fp-streamgen: sending" 30 ||
		fp_die "$vm did not start sending; see $FP_SB_DIR/$vm.log"
}

# Sends the frames of a pcap from the VF of an e-switch representor, as its
# VM would: into the VF's veth (fp_sb_add_eswitch_port).
# Usage: fp_sb_vf_inject PORT PCAP
fp_sb_vf_inject() {
	local port=$1 pcap=$2 veth

	veth=$(fp_sb_vsctl get Interface "$port" external_ids:fp-vf | tr -d '"')
	[ -n "$veth" ] || fp_die "$port is not an e-switch representor"
	fp_sb_netns "$FP_SB_TOOLS/fp-pcap" inject "$veth" "$pcap" > /dev/null ||
		fp_die "cannot inject $pcap from the VF of $port"
}

# A port of the test e-switch (tests/eswitch, loaded with FP_SB_EAL_EXTRA=
# "-d <librte_net_fpesw.so>"): 'uplink' is the e-switch's uplink, whose
# wire is a veth that fp_sb_inject feeds; 'rep' is the representor of VF
# number N, whose VF is a veth a VM attaches to (fp_sb_vf_vm_start).
# DEVARGS are more devargs of net_fpesw (reject=..., max_rules=...).
# Usage: fp_sb_add_eswitch_port BRIDGE PORT uplink|rep:N OFPORT [DEVARGS]
fp_sb_add_eswitch_port() {
	local br=$1 port=$2 role=$3 ofport=$4 extra=${5:-} devargs ext

	FP_SB_VDEVS=$((FP_SB_VDEVS + 1))
	fp_sb_netns ip link add "fpe$FP_SB_VDEVS" type veth \
		peer name "fpx$FP_SB_VDEVS" || fp_die "cannot create veth pair"
	# No IPv6 on the veths: the kernel's neighbour discovery would add
	# frames to the wire and the VFs.
	fp_sb_netns sysctl -qw "net.ipv6.conf.fpe$FP_SB_VDEVS.disable_ipv6=1" \
		"net.ipv6.conf.fpx$FP_SB_VDEVS.disable_ipv6=1" > /dev/null
	fp_sb_netns ip link set "fpe$FP_SB_VDEVS" up
	fp_sb_netns ip link set "fpx$FP_SB_VDEVS" up
	if [ "$role" = uplink ]; then
		devargs="net_fpesw$FP_SB_VDEVS,role=uplink"
		ext="external_ids:fp-inject=fpx$FP_SB_VDEVS"
	else
		devargs="net_fpesw$FP_SB_VDEVS,role=rep,vf=${role#rep:}"
		ext="external_ids:fp-vf=fpx$FP_SB_VDEVS"
	fi
	devargs+=",switch=sw0,iface=fpe$FP_SB_VDEVS${extra:+,$extra}"
	fp_sb_vsctl add-port "$br" "$port" -- set Interface "$port" type=dpdk \
		"options:dpdk-devargs=$devargs" "$ext" \
		ofport_request="$ofport" || fp_die "cannot add port $port"
	fp_sb_check_iface "$port"
}

# Records a VM started in the background and waits for its socket.
# Usage: fp_sb_vm_started VM PID PREFIX SOCK READY-LOG-LINE
fp_sb_vm_started() {
	local vm=$1

	FP_SB_VM_PID[$vm]=$2
	FP_SB_VM_PREFIX[$vm]=$3
	FP_SB_VM_SOCK[$vm]=$4
	FP_SB_VM_READY[$vm]=$5
	FP_SB_VMS+=("$vm")
	fp_sb_save
	fp_wait_for 30 "$vm to listen on $4" test -S "$4" ||
		fp_die "VM $vm did not start; see $FP_SB_DIR/$vm.log"
}

# Starts fp-streamgen as a VM: it sends the traffic its options describe,
# live, as fast as it can, through a virtio-user port in server mode
# (connect it with fp_sb_add_vhu_port), and prints its rate each second in
# $FP_SB_DIR/VM.log.
# Usage: fp_sb_gen_start VM [fp-streamgen options]
fp_sb_gen_start() {
	local vm=$1 sock prefix

	shift
	sock=$FP_SB_DIR/$vm.sock
	prefix=$FP_SB_PREFIX-$vm
	"$FP_STREAMGEN" --lcores="0@$FP_SB_HOST_CORE" \
		--file-prefix="$prefix" --no-pci --single-file-segments \
		-m "$FP_SB_VM_MEM" --log-level=error \
		--vdev="net_virtio_user0,path=$sock,server=1,queue_size=1024" \
		-- --tx "$@" > "$FP_SB_DIR/$vm.log" 2>&1 &
	fp_sb_vm_started "$vm" "$!" "$prefix" "$sock" "fp-streamgen: sending"
}

# Sends the frames of a pcap from a VM started with --inject, through its
# virtio port, into OVS.
# Usage: fp_sb_vm_inject VM PCAP
fp_sb_vm_inject() {
	local vm=$1 pcap=$2

	[ -n "${FP_SB_VM_INJECT[$vm]}" ] || fp_die "VM $vm was not started with --inject"
	fp_sb_netns "$FP_SB_TOOLS/fp-pcap" inject "${FP_SB_VM_INJECT[$vm]}" \
		"$pcap" || fp_die "cannot inject $pcap into VM $vm"
}

# Adds a dpdkvhostuserclient port connected to a VM from fp_sb_vm_start, and
# waits until the VM forwards and OVS has enabled the queues.
# Usage: fp_sb_add_vhu_port BRIDGE PORT VM [OFPORT]
fp_sb_add_vhu_port() {
	local br=$1 port=$2 vm=$3 ofport=${4:-} sock

	sock=${FP_SB_VM_SOCK[$vm]}
	[ -n "$sock" ] || fp_die "no VM named $vm"
	fp_sb_vsctl add-port "$br" "$port" -- set Interface "$port" \
		type=dpdkvhostuserclient "options:vhost-server-path=$sock" \
		${ofport:+ofport_request=$ofport} ||
		fp_die "cannot add vhost-user port $port"
	fp_sb_check_iface "$port"
	fp_wait_log "$FP_SB_DIR/$vm.log" "${FP_SB_VM_READY[$vm]}" 60 ||
		fp_die "VM $vm did not start forwarding; see $FP_SB_DIR/$vm.log"
	fp_wait_log "$FP_SB_DIR/ovs-vswitchd.log" \
		"of vhost device '$sock' changed to 'enabled'" 30 ||
		fp_die "OVS did not enable the queues of $port"
	fp_wait_for 30 "link up on $port" fp_sb_link_up "$port" ||
		fp_die "$port link is down"
}

fp_sb_link_up() {
	[ "$(fp_sb_vsctl get Interface "$1" link_state)" = up ]
}

# Stops a VM gracefully (testpmd closes its ports and flushes its capture).
fp_sb_vm_stop() {
	fp_sb_kill_pid "${FP_SB_VM_PID[$1]}"
}

# Prints one ethdev counter of a VM's virtio port, from DPDK telemetry:
# ipackets, ibytes, opackets, obytes, imissed, ierrors, oerrors, rx_nombuf.
# Usage: fp_sb_vm_stat VM COUNTER
fp_sb_vm_stat() {
	"$FP_SB_TOOLS/fp-telemetry" "${FP_SB_VM_PREFIX[$1]}" /ethdev/stats,0 "$2"
}

# Waits until a VM has received exactly N packets, and fails if it gets
# stuck below N or goes beyond.
# Usage: fp_sb_wait_vm_rx VM N [TIMEOUT]
fp_sb_wait_vm_rx() {
	local vm=$1 want=$2 timeout=${3:-60} got=

	fp_wait_for "$timeout" "$vm to receive $want packets" \
		fp_sb_vm_rx_at_least "$vm" "$want"
	got=$(fp_sb_vm_stat "$vm" ipackets)
	[ "$got" = "$want" ] ||
		fp_die "$vm received $got packets, expected $want"
}

fp_sb_vm_rx_at_least() {
	[ "$(fp_sb_vm_stat "$1" ipackets)" -ge "$2" ]
}

# ---------------------------------------------------------------------------
# Pcap files (tests/ovs/fp-pcap).

# Prints the number of frames in a pcap file.
# Usage: fp_sb_pcap_frames PCAP
fp_sb_pcap_frames() {
	"$FP_SB_TOOLS/fp-pcap" count "$1"
}

# Writes COUNT frames of a pcap file (all the rest without COUNT), from
# frame START on (the first is 0), to OUT.
# Usage: fp_sb_pcap_slice PCAP OUT START [COUNT]
fp_sb_pcap_slice() {
	"$FP_SB_TOOLS/fp-pcap" slice "$1" "$2" "$3" ${4:+"$4"} > /dev/null ||
		fp_die "cannot slice $1"
}

# ---------------------------------------------------------------------------
# The VXLAN tenant network and its security group.

# The tenant network's VTEPs, set by fp_sb_tenant_network: the local one on
# br-phy's tap and the remote one, behind the uplink.
FP_SB_VTEP=172.31.1.1
FP_SB_REMOTE=172.31.1.2
FP_SB_VTEP_MAC=02:00:00:00:00:01
FP_SB_REMOTE_MAC=02:00:00:00:00:02

# Builds the VXLAN tenant network of the tests, the demo and the benchmarks
# in the running sandbox:
#
#   uplink dpdk0 (ofport 1) -- br-phy (local VTEP) -- tnl_pop/tnl_push --
#   br-int: vxlan0 (ofport 10, VNI 100) ... the VM's port (ofport 20)
#
# UPLINK_KIND says what dpdk0 is:
#   inject   an inject port (fp_sb_add_inject_port): traffic arrives when
#            the caller sends it with fp_sb_inject dpdk0
#   eswitch  the uplink of the test e-switch (start the sandbox with
#            FP_SB_PLUGIN=$FP_ESWITCH); the VM's port is then vf0, the
#            representor of VF 0
#   none     no uplink: the caller adds it (a pcap replay starts the moment
#            its port exists, so it comes after the flows)
# Options:
#   --vm VM          the VM behind the VM's port: with inject or none, a VM
#                    already started (fp_sb_vm_start, fp_sb_gen_start) that
#                    gets a vhost-user port; with eswitch, one this starts
#                    on vf0's VF (fp_sb_vf_vm_start). Without --vm, no VM's
#                    port is added with inject or none.
#   --vm-port PORT   the VM's port's name [vhu0; vf0 with eswitch]
#   --capture FILE   inject: what OVS sends out of dpdk0 is written to FILE
#   --devargs ARGS   eswitch: more devargs of the uplink (reject=...)
#   --ipv6-underlay  VTEPs fd00:31::1/64 and fd00:31::2, not 172.31.1.1/24
#                    and 172.31.1.2
#   --no-remote      no neighbour or FDB entry for the remote VTEP (the
#                    network then carries ingress traffic only)
# Unless --no-remote, the remote VTEP's MAC goes into OVS's tunnel neighbour
# table and, when there is an uplink, br-phy's FDB sends it to dpdk0, so
# that egress traffic is encapsulated and switched without ARP or flooding
# (fp_sb_tenant_fdb points it at another port). Returns once every port is
# up, with FP_SB_VTEP and FP_SB_REMOTE set.
# Usage: fp_sb_tenant_network inject|eswitch|none [OPTIONS]
fp_sb_tenant_network() {
	local kind=$1 vm= vm_port= capture= devargs= remote=1 cidr

	shift
	FP_SB_VTEP=172.31.1.1
	FP_SB_REMOTE=172.31.1.2
	cidr=$FP_SB_VTEP/24
	while [ $# -gt 0 ]; do
		case $1 in
		--vm) vm=$2; shift ;;
		--vm-port) vm_port=$2; shift ;;
		--capture) capture=$2; shift ;;
		--devargs) devargs=$2; shift ;;
		--ipv6-underlay)
			FP_SB_VTEP=fd00:31::1
			FP_SB_REMOTE=fd00:31::2
			cidr=$FP_SB_VTEP/64
			;;
		--no-remote) remote= ;;
		*) fp_die "fp_sb_tenant_network: unknown option $1" ;;
		esac
		shift
	done
	fp_sb_add_phy_bridge br-phy "$cidr" "$FP_SB_VTEP_MAC"
	fp_sb_add_bridge br-int
	fp_sb_add_vxlan_port br-int vxlan0 "$FP_SB_REMOTE" 100 10
	case $kind in
	inject|none)
		[ -z "$vm" ] || fp_sb_add_vhu_port br-int "${vm_port:-vhu0}" "$vm" 20
		[ "$kind" = none ] ||
			fp_sb_add_inject_port br-phy dpdk0 ${capture:+--capture "$capture"} 1
		;;
	eswitch)
		fp_sb_add_eswitch_port br-phy dpdk0 uplink 1 "$devargs"
		fp_sb_add_eswitch_port br-int "${vm_port:-vf0}" rep:0 20
		[ -z "$vm" ] || fp_sb_vf_vm_start "$vm" "${vm_port:-vf0}"
		;;
	*)
		fp_die "fp_sb_tenant_network: unknown uplink kind '$kind' (inject, eswitch or none)"
		;;
	esac
	[ -n "$remote" ] || return 0
	fp_sb_appctl tnl/neigh/set br-phy "$FP_SB_REMOTE" "$FP_SB_REMOTE_MAC" \
		> /dev/null || fp_die "cannot set the remote VTEP's MAC"
	[ "$kind" = none ] || fp_sb_tenant_fdb dpdk0
}

# br-phy's FDB sends the remote VTEP's MAC to PORT, a port of br-phy: where
# the tenant network's egress traffic leaves.
# Usage: fp_sb_tenant_fdb PORT
fp_sb_tenant_fdb() {
	fp_sb_appctl fdb/add br-phy "$1" 0 "$FP_SB_REMOTE_MAC" > /dev/null ||
		fp_die "cannot add the remote VTEP to br-phy's FDB"
}

# Replaces the flows of a bridge with those on stdin (ovs-ofctl add-flows).
# Usage: fp_sb_set_flows BRIDGE
fp_sb_set_flows() {
	fp_sb_ofctl del-flows "$1"
	fp_sb_ofctl add-flows "$1" - || fp_die "cannot add flows to $1"
}

# Installs a security group on br-int of the tenant network, in the style
# of OVS's (Neutron's) firewall driver, in place of br-int's flows. IP
# packets from the tunnel (vxlan0, ofport 10) go through conntrack in zone
# 1 to table 1; there new connections are committed, and they and
# established ones go on to the VM (ofport 20); anything else is dropped.
# Options:
#   --egress        also packets from the VM, through zone 1 to table 2,
#                   out to the tunnel
#   --ipv6          IPv6 too, alongside IPv4 (otherwise only IPv4 is let
#                   through); the +est rules then match either family
#   --allow-port P  only TCP opens connections: from the tunnel, only to
#                   port P; from the VM (--egress), to any port
#   --drop-invalid  +inv packets are dropped by a rule of their own, which
#                   counts them (without it the priority-0 rule drops them)
#   --est-first     the +est rule outranks the others: priorities 100
#                   (+est), 90 (+new), 80 (+inv); otherwise 100 for +new and
#                   +est alike, 90 for +inv
#   --nat-dst IP    destination NAT: new connections from the tunnel are
#                   committed with nat(dst=IP), and ct(nat) undoes it
#   --two-zones     from the tunnel, zone 1 (table 1) and then zone 2
#                   (table 2), each committing new connections; the rules
#                   match their ct_zone. Not with --egress.
#   --mark          table 0's ct() commits every packet's connection and
#                   sets its ct_mark to 0x2a/0xff and its ct_label to
#                   0x1234/0xffff (so every packet's ct() writes both).
#                   Not with --nat-dst.
# The same options give the same rules, in the same order.
# Usage: fp_sb_security_group [OPTIONS]
fp_sb_security_group() {
	local egress= port= inv= nat= zones=1 est_first= fams=(ip) in fam
	local mark=

	while [ $# -gt 0 ]; do
		case $1 in
		--egress) egress=1 ;;
		--ipv6) fams+=(ipv6) ;;
		--allow-port) port=$2; shift ;;
		--drop-invalid) inv=1 ;;
		--est-first) est_first=1 ;;
		--nat-dst) nat=$2; shift ;;
		--two-zones) zones=2 ;;
		--mark) mark="commit,exec(set_field:0x2a/0xff->ct_mark,set_field:0x1234/0xffff->ct_label)," ;;
		*) fp_die "fp_sb_security_group: unknown option $1" ;;
		esac
		shift
	done
	[ -z "$egress" ] || [ $zones = 1 ] ||
		fp_die "fp_sb_security_group: --two-zones and --egress both use table 2"
	[ -z "$mark" ] || [ -z "$nat" ] ||
		fp_die "fp_sb_security_group: --mark is not for --nat-dst"
	{
		for in in 10 ${egress:+20}; do
			for fam in "${fams[@]}"; do
				echo "table=0,priority=100,in_port=$in,$fam,ct_state=-trk,actions=ct(${mark}zone=1${nat:+,nat},table=$((in == 10 ? 1 : 2)))"
			done
		done
		echo "table=0,priority=0,actions=drop"
		if [ $zones = 2 ]; then
			fp_sb_sg_table 1 1 ingress "ct(zone=2,table=2)"
			fp_sb_sg_table 2 2 ingress output:20
		else
			fp_sb_sg_table 1 1 ingress output:20
			[ -z "$egress" ] || fp_sb_sg_table 2 1 egress output:10
		fi
	} | fp_sb_set_flows br-int
}

# Prints the rules of one table of fp_sb_security_group, with its options
# (its local variables): TABLE, the conntrack ZONE the packets come from,
# their direction, and the ACTION that passes a packet on.
# Usage: fp_sb_sg_table TABLE ZONE ingress|egress ACTION
fp_sb_sg_table() {
	local table=$1 zone=$2 dir=$3 next=$4 p_new=100 p_inv=90 zmatch= est=
	local commit="ct(commit,zone=$2)" fam match new=()

	[ -z "$est_first" ] || { p_new=90; p_inv=80; }
	[ $zones = 1 ] || zmatch=,ct_zone=$zone
	[ -z "$nat" ] || [ "$dir" = egress ] ||
		commit="ct(commit,zone=$zone,nat(dst=$nat))"
	# One +est rule for all the families tracked.
	[ ${#fams[@]} -gt 1 ] || est=ip,
	for fam in "${fams[@]}"; do
		match=$fam
		if [ -n "$port" ]; then
			match=$([ "$fam" = ip ] && echo tcp || echo tcp6)
			[ "$dir" = egress ] || match+=",tp_dst=$port"
		fi
		new+=("table=$table,priority=$p_new,$match,ct_state=+trk+new$zmatch,actions=$commit,$next")
	done
	[ -n "$est_first" ] || printf '%s\n' "${new[@]}"
	echo "table=$table,priority=100,${est}ct_state=+trk+est$zmatch,actions=$next"
	[ -z "$est_first" ] || printf '%s\n' "${new[@]}"
	[ -z "$inv" ] ||
		echo "table=$table,priority=$p_inv,ct_state=+trk+inv,actions=drop"
	echo "table=$table,priority=0,actions=drop"
}

# ---------------------------------------------------------------------------
# Counters.

# Succeeds once a port has received N packets.
# Usage: fp_sb_port_rx_at_least PORT N
fp_sb_port_rx_at_least() {
	[ "$(fp_sb_iface_stat "$1" rx_packets)" -ge "$2" ]
}

# True once PORT has taken at least COUNT frames: received, or missed by
# its driver with the count that says so (a net_pcap uplink misses frames
# that come faster than a busy PMD reads them, and counts them in
# rx_missed_errors, which the Interface's statistics column shows, every
# stats-update-interval).
# Usage: fp_sb_port_accounted_at_least PORT COUNT
fp_sb_port_accounted_at_least() {
	local missed

	missed=$(fp_sb_vsctl get Interface "$1" statistics:rx_missed_errors \
		2> /dev/null | tr -d '"') || missed=0
	[ $(( $(fp_sb_iface_stat "$1" rx_packets) + ${missed:-0} )) -ge "$2" ]
}


# Prints a counter of an OVS interface, read live from the netdev:
# rx_packets, rx_bytes, rx_dropped, tx_packets, tx_bytes, tx_dropped.
# Usage: fp_sb_iface_stat PORT COUNTER
fp_sb_iface_stat() {
	local port=$1 counter=$2 br

	br=$(fp_sb_vsctl port-to-br "$port") || return 1
	fp_sb_ofctl dump-ports "$br" "$port" | awk -v c="$counter" '
		/rx pkts=/ { dir = "rx" }
		/tx pkts=/ { dir = "tx" }
		{
			gsub(/[,:]/, " ")
			for (i = 1; i <= NF; i++) {
				split($i, kv, "=")
				name = kv[1] == "pkts" ? "packets" : kv[1] == "drop" ? "dropped" : kv[1]
				if (kv[2] != "" && dir "_" name == c) print kv[2]
			}
		}'
}

fp_sb_pmd_stats_clear() {
	fp_sb_appctl dpif-netdev/pmd-stats-clear > /dev/null
}

# Prints one figure from dpif-netdev/pmd-perf-show for the sandbox's PMD:
# rx-packets, kpps, cycles-per-pkt, passes, passes-per-pkt, emc-hits,
# smc-hits, megaflow-hits, upcalls.
# Usage: fp_sb_pmd_perf FIGURE
fp_sb_pmd_perf() {
	fp_sb_appctl dpif-netdev/pmd-perf-show -pmd "$FP_SB_PMD_CORE" |
	awk -v f="$1" '
		/Rx packets:/ {
			gsub(/[(),]/, " ")
			if (f == "rx-packets") print $3
			if (f == "kpps") print $4
			if (f == "cycles-per-pkt") print $6
		}
		/Datapath passes:/ {
			gsub(/[()]/, " ")
			if (f == "passes") print $3
			if (f == "passes-per-pkt") print $4
		}
		/- EMC hits:/ && f == "emc-hits" { print $4 }
		/- SMC hits:/ && f == "smc-hits" { print $4 }
		/- Megaflow hits:/ && f == "megaflow-hits" { print $4 }
		/- Upcalls:/ && f == "upcalls" { print $3 }'
}

# Prints the number of conntrack entries, optionally in one zone.
# Usage: fp_sb_ct_count [ZONE]
fp_sb_ct_count() {
	fp_sb_appctl dpctl/dump-conntrack ${1:+zone=$1} | grep -c .
}

# ---------------------------------------------------------------------------
# Markers: a check that something did NOT happen (no packet delivered, no
# counter moved) is only meaningful once the traffic that could have made
# it happen has gone all the way through. A marker is one frame of a flow
# that the rules let through, sent after the traffic under test; once it
# has arrived where it goes, whatever came before it has too (frames of one
# port are taken in order by the one PMD, and reach one VM's queue in
# order), and the counter can be read.
#
# Marker frames are TCP from 10.0.0.1 to 10.1.0.1 (the inner addresses of
# the tests' streams), with a destination port no test uses: marker n of
# the sandbox goes to port 6912 + n, so that each marker is a new
# connection to conntrack. $FP_SB_MARKER_MATCH matches them all in a rule.
# A marker is FP_SB_MARKER_BYTES bytes long as a VM receives it (the inner
# frame), a size the tests' own frames (60 bytes) do not have.

FP_SB_MARKER_MATCH=tcp,tp_dst=0x1b00/0xff00
FP_SB_MARKER_BYTES=124
FP_SB_MARKERS=0
declare -gA FP_SB_VM_MARK

# Sends a marker into an inject port PORT, after the traffic under test,
# and waits (30 s at most) until CHECK, a command, succeeds: the marker has
# arrived. The marker is VXLAN from the remote VTEP to the local one, as
# the tenant network's uplink receives it, or the plain inner frame with
# --plain. CHECK must be true only once the marker has arrived, whatever
# the traffic under test did: a port only markers go to
# (fp_sb_port_tx_at_least, with fp_sb_add_marker_ports), or a VM with
# fp_sb_vm_marker_in. Markers sent into another port than the traffic
# under test come after it only if that traffic has been received (wait
# for its port's rx_packets first): the PMD then finished its batch before
# it polls the marker's port. Fails the test if the marker does not
# arrive.
# Usage: fp_sb_marker [--plain] PORT DESCRIPTION CHECK...
fp_sb_marker() {
	local plain= port what pcap

	[ "$1" != --plain ] || { plain=--plain; shift; }
	port=$1 what=$2
	shift 2
	[ "$FP_SB_MARKERS" -lt 256 ] || fp_die "fp_sb_marker: 256 markers sent already"
	pcap=$FP_SB_DIR/marker-$FP_SB_MARKERS.pcap
	"$FP_STREAMGEN" $plain --streams 1 --packets 1 --proto tcp \
		--size $((FP_SB_MARKER_BYTES + 4)) \
		--dport $((0x1b00 + FP_SB_MARKERS)) --out "$pcap" > /dev/null ||
		fp_die "cannot write the marker"
	FP_SB_MARKERS=$((FP_SB_MARKERS + 1))
	fp_sb_inject "$port" "$pcap" > /dev/null
	fp_wait_for 30 "the marker ($what)" "$@" ||
		fp_die "the marker sent into $port did not arrive ($what)"
}

# Adds a marker path to BRIDGE: an inject port mkin (OpenFlow port 90)
# whose frames a rule sends to a null port mkout (port 91), which only
# markers reach: for tests whose traffic under test would hide or stop a
# marker on its own path (a meter without tokens left drops it). Add it
# after the bridge's flows are set: the rule is one of them.
# Usage: fp_sb_add_marker_ports BRIDGE
fp_sb_add_marker_ports() {
	fp_sb_add_inject_port "$1" mkin 90
	fp_sb_add_null_port "$1" mkout 91
	fp_sb_ofctl add-flow "$1" "priority=65000,in_port=90,actions=output:91" ||
		fp_die "cannot add the marker rule to $1"
}

# Succeeds once PORT has sent N packets.
# Usage: fp_sb_port_tx_at_least PORT N
fp_sb_port_tx_at_least() {
	[ "$(fp_sb_iface_stat "$1" tx_packets)" -ge "$2" ]
}

# Notes what VM has received so far, before the traffic under test (take
# it while nothing flows to the VM): fp_sb_vm_marker_in and
# fp_sb_vm_rx_since count from here.
# Usage: fp_sb_vm_mark VM
fp_sb_vm_mark() {
	FP_SB_VM_MARK[$1]="$("$FP_SB_TOOLS/fp-telemetry" \
		"${FP_SB_VM_PREFIX[$1]}" /ethdev/stats,0 ipackets ibytes) $FP_SB_MARKERS"
}

# Prints, for VM since fp_sb_vm_mark, the markers it received and the
# other frames it received, all FRAME_BYTES bytes long, from its packet and
# byte counts (read together), since a marker is longer than those frames;
# prints "- -" if the counts do not add up (read while the VM's driver was
# between the two).
# Usage: fp_sb_vm_since VM FRAME_BYTES
fp_sb_vm_since() {
	local p0 b0 p b dp db extra

	read -r p0 b0 _ <<< "${FP_SB_VM_MARK[$1]}"
	read -r p b <<< "$("$FP_SB_TOOLS/fp-telemetry" \
		"${FP_SB_VM_PREFIX[$1]}" /ethdev/stats,0 ipackets ibytes)"
	dp=$((p - p0))
	db=$((b - b0))
	extra=$((db - dp * $2))
	if [ $((extra % (FP_SB_MARKER_BYTES - $2))) != 0 ] || [ $extra -lt 0 ]; then
		echo "- -"
		return
	fi
	echo "$((extra / (FP_SB_MARKER_BYTES - $2))) $((dp - extra / (FP_SB_MARKER_BYTES - $2)))"
}

# Succeeds once VM has received every marker sent since fp_sb_vm_mark
# (the traffic under test being FRAME_BYTES bytes a frame).
# Usage: fp_sb_vm_marker_in VM FRAME_BYTES
fp_sb_vm_marker_in() {
	local m0 k

	m0=${FP_SB_VM_MARK[$1]##* }
	read -r k _ <<< "$(fp_sb_vm_since "$1" "$2")"
	[ "$k" != - ] && [ "$k" -ge $((FP_SB_MARKERS - m0)) ]
}

# Prints how many frames other than markers VM received since
# fp_sb_vm_mark (frames of FRAME_BYTES bytes).
# Usage: fp_sb_vm_rx_since VM FRAME_BYTES
fp_sb_vm_rx_since() {
	local rest

	read -r _ rest <<< "$(fp_sb_vm_since "$1" "$2")"
	[ "$rest" != - ] || fp_die "the counters of $1 do not add up: ${FP_SB_VM_MARK[$1]}, now $("$FP_SB_TOOLS/fp-telemetry" "${FP_SB_VM_PREFIX[$1]}" /ethdev/stats,0 ipackets ibytes)"
	echo "$rest"
}

# ---------------------------------------------------------------------------
# Checks.

# Runs a command; fails the test with a description if it fails.
# Usage: fp_check DESCRIPTION COMMAND...
fp_check() {
	local what=$1

	shift
	if "$@"; then
		echo "ok - $what"
	else
		fp_die "$what"
	fi
}

# Usage: fp_check_eq DESCRIPTION EXPECTED ACTUAL
fp_check_eq() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1 ($3)"
	else
		fp_die "$1: expected '$2', got '$3'"
	fi
}
