#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The Debian package, for real, on this machine: install it, select its
# ovs-vswitchd, start Open vSwitch with Debian's ovs-ctl, fold a stream,
# stop, remove and purge it, and check that Debian's daemon is back and
# starts as before. The machine is left as it was found: the alternative's
# mode and value, the package's state, no process, namespace or hugepage
# file of ours. ./foldpath test --package runs it; run it by hand under
# the OVS tests' lock (it uses the PMD core):
#
#   flock /tmp/fp-ovs-tests.lock bash tests/package/test-install.sh
#
# OVS runs in a network namespace of its own, with its run, log, database
# and configuration directories in a temporary directory (ovs-ctl honours
# OVS_RUNDIR, OVS_LOGDIR, OVS_DBDIR and OVS_SYSCONFDIR): the machine's
# /etc/openvswitch and /var/run/openvswitch are not touched, and the
# system's openvswitch-switch service is neither started nor stopped.
#
# Usage: test-install.sh [--deb FILE]
#   --deb FILE   the package to test [the newest one in <build>/deb; built
#                with packaging/build-deb --no-compile if there is none]

usage() {
	cat <<-'EOF'
	Usage: tests/package/test-install.sh [--deb FILE]

	Installs openvswitch-switch-foldpath (dpkg -i), selects its daemon
	(update-alternatives --set), starts OVS with Debian's ovs-ctl in a
	private namespace and directories, folds a VXLAN + conntrack stream,
	then stops OVS, removes and purges the package and checks that
	Debian's ovs-vswitchd is back and starts. Restores the machine's state
	(the alternative, the package) whatever happens. Needs root,
	hugepages and the build (fp-streamgen, testpmd); run it under
	/tmp/fp-ovs-tests.lock, as the OVS suite.

	  --deb FILE   the package [newest <build>/deb/openvswitch-switch-foldpath_*.deb,
	               built with packaging/build-deb --no-compile if none]
	EOF
}

deb=
while [ $# -gt 0 ]; do
	case $1 in
	--deb) deb=${2:?--deb needs a file}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

FP_TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$FP_TOP/tests/ovs/fold.sh"

PKG=openvswitch-switch-foldpath
PKG_DAEMON=/usr/lib/$PKG/ovs-vswitchd-foldpath
DEBIAN_DAEMON=/usr/lib/openvswitch-switch/ovs-vswitchd
OVS_CTL=/usr/share/openvswitch/scripts/ovs-ctl

# ---------------------------------------------------------------------------
# The machine's state.

# Prints what this test must leave as it found: the ovs-vswitchd
# alternative (mode, value, and the alternatives with their priorities),
# our package's state and version, the system OVS's daemons (ovs-ctl status
# in the default directories) and whether its service is enabled, the
# machine's OVS directories, and the DPDK runtime and hugepage files of our
# prefix.
machine_state() {
	echo "alternative: $(update-alternatives --query ovs-vswitchd |
		awk '/^(Status|Value|Alternative|Priority):/' | tr '\n' ' ')"
	echo "package: $(dpkg-query -W -f='${Status} ${Version}' $PKG 2> /dev/null ||
		echo absent)"
	echo "system OVS: $(env -u OVS_RUNDIR -u OVS_LOGDIR -u OVS_DBDIR \
		-u OVS_SYSCONFDIR $OVS_CTL status 2>&1 | tr '\n' ' ')"
	echo "service enabled: $(ls /etc/rc[S2345].d 2> /dev/null |
		grep -c '^S..openvswitch-switch$')"
	echo "/etc/openvswitch: $(ls -la --time-style=+%s /etc/openvswitch 2>&1 |
		md5sum | cut -c1-12)"
	echo "/var/run/openvswitch: $(ls -la --time-style=+%s /var/run/openvswitch 2>&1 |
		md5sum | cut -c1-12)"
	# ovs-ctl start loads openvswitch.ko, and may unload the bridge
	# module (ovs-kmod-ctl).
	echo "kernel modules: openvswitch=$(module_state openvswitch) bridge=$(module_state bridge)"
	echo "our files: $(ls -d /dev/hugepages/"$FP_SB_PREFIX"* \
		/var/run/dpdk/"$FP_SB_PREFIX"* 2> /dev/null | wc -l)"
}

module_state() {
	[ -d "/sys/module/$1" ] && echo loaded || echo absent
}

alt_query() {
	update-alternatives --query ovs-vswitchd | awk -v k="$1:" '$1 == k { print $2 }'
}

# Whether an alternative of ovs-vswitchd is the given path.
alt_has() {
	update-alternatives --query ovs-vswitchd | grep -qx "Alternative: $1"
}

# ---------------------------------------------------------------------------
# OVS through ovs-ctl, in the sandbox's namespace and directories.

# Runs Debian's ovs-ctl in the namespace, on the host core (the daemons
# inherit the affinity; the PMD thread goes to pmd-cpu-mask's core).
ctl() {
	fp_sb_netns taskset -c "$FP_SB_HOST_CORE" "$OVS_CTL" "$@"
}

# fold.sh's helpers talk to the daemon through these: ovs-appctl finds
# ovs-vswitchd's socket from its pidfile in OVS_RUNDIR.
fp_sb_appctl() {
	ovs-appctl --timeout=60 "$@"
}

vswitchd_pid() {
	cat "$FP_SB_DIR/ovs-vswitchd.pid" 2> /dev/null
}

# The monitor ovs-ctl starts (--monitor) is the daemon's parent.
monitor_pids() {
	local f pid ppid

	for f in "$FP_SB_DIR"/ovs-vswitchd.pid "$FP_SB_DIR"/ovsdb-server.pid; do
		pid=$(cat "$f" 2> /dev/null) || continue
		ppid=$(ps -o ppid= -p "$pid" 2> /dev/null | tr -d ' ')
		[ -n "$ppid" ] && [ "$ppid" != 1 ] &&
			ps -o args= -p "$ppid" | grep -q 'monitoring pid' && echo "$ppid"
	done
}

# Sets up the sandbox's state as fp_sb_start does, but nothing runs yet.
sandbox_init() {
	FP_SB_NAME=package
	FP_SB_PREFIX=fppkg-$$
	FP_SB_NS=$FP_SB_PREFIX
	FP_SB_FLAVOR=installed
	FP_SB_DIR=$(mktemp -d /tmp/fppkg.XXXXXX)
	FP_SB_LOGDIR=${FP_SB_LOGDIR:-$FP_BUILD/meson-logs/package}
	fp_sb_debian_tools /usr/sbin/ovs-vswitchd
	export OVS_RUNDIR=$FP_SB_DIR OVS_LOGDIR=$FP_SB_DIR OVS_DBDIR=$FP_SB_DIR
	export OVS_SYSCONFDIR=$FP_SB_DIR
	# ovs-ctl keeps the system ID in $OVS_SYSCONFDIR/openvswitch.
	mkdir -p "$FP_SB_DIR/openvswitch"
	ip netns add "$FP_SB_NS" || fp_die "cannot create network namespace $FP_SB_NS"
	fp_sb_netns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	fp_sb_netns ip link set lo up
}

# Starts ovsdb-server and ovs-vswitchd as Debian's units do: ovs-ctl
# --no-ovs-vswitchd start, the configuration, then ovs-ctl
# --no-ovsdb-server start. With "dpdk", DPDK is configured first (a unique
# file prefix, no PCI, the PMD on FP_SB_PMD_CORE, FP_SB_SOCKET_MEM MB).
# Usage: ovs_start dpdk|plain
ovs_start() {
	local opts=(--system-id=random --no-record-hostname)

	ctl "${opts[@]}" --no-ovs-vswitchd start ||
		fp_die "ovs-ctl could not start ovsdb-server"
	if [ "$1" = dpdk ]; then
		fp_sb_vsctl --no-wait set Open_vSwitch . \
			other_config:dpdk-init=true \
			other_config:dpdk-extra="--file-prefix=$FP_SB_PREFIX --no-pci" \
			other_config:dpdk-socket-mem="$FP_SB_SOCKET_MEM" \
			other_config:pmd-cpu-mask="$(printf '0x%x' $((1 << FP_SB_PMD_CORE)))" \
			other_config:fold-insert-after=1 \
			other_config:max-idle=120000
	fi
	ctl "${opts[@]}" --no-ovsdb-server start ||
		fp_die "ovs-ctl could not start ovs-vswitchd; see $FP_SB_DIR/ovs-vswitchd.log"
	fp_wait_for 30 "ovs-vswitchd to answer" fp_sb_appctl version ||
		fp_die "ovs-vswitchd does not answer"
	if [ "$1" = dpdk ]; then
		fp_sb_vsctl wait-until Open_vSwitch . dpdk_initialized=true ||
			fp_die "DPDK did not initialise; see $FP_SB_DIR/ovs-vswitchd.log"
	fi
}

ovs_stop() {
	ctl stop || fp_die "ovs-ctl stop failed"
	fp_check "ovs-ctl stopped both daemons" \
		test -z "$(vswitchd_pid)$(cat "$FP_SB_DIR/ovsdb-server.pid" 2> /dev/null)"
}

# ---------------------------------------------------------------------------
# Teardown: whatever happened, stop what we started, by PID, and put the
# machine back.

teardown() {
	local status=$? pid vm

	trap - EXIT INT TERM
	set +e
	if [ -n "$FP_SB_DIR" ] && [ -d "$FP_SB_DIR" ]; then
		if [ "$status" != 0 ] && [ "$status" != 77 ]; then
			echo "--- last lines of ovs-vswitchd.log ---" >&2
			tail -n 30 "$FP_SB_DIR/ovs-vswitchd.log" >&2 2> /dev/null
		fi
		if [ -n "$(vswitchd_pid)$(cat "$FP_SB_DIR/ovsdb-server.pid" 2> /dev/null)" ]; then
			pids=$(monitor_pids)
			timeout 60 "$OVS_CTL" stop > /dev/null 2>&1
			for pid in $pids $(vswitchd_pid) \
					$(cat "$FP_SB_DIR/ovsdb-server.pid" 2> /dev/null); do
				fp_sb_kill_pid "$pid"
			done
		fi
		for vm in "${FP_SB_VMS[@]}"; do
			fp_sb_kill_pid "${FP_SB_VM_PID[$vm]}"
		done
		mkdir -p "$FP_SB_LOGDIR"
		cp "$FP_SB_DIR"/*.log "$FP_SB_LOGDIR/" 2> /dev/null
		rm -rf "$FP_SB_DIR"
	fi
	[ -z "$FP_SB_NS" ] || ip netns del "$FP_SB_NS" 2> /dev/null
	rm -rf /dev/hugepages/"$FP_SB_PREFIX"* /var/run/dpdk/"$FP_SB_PREFIX"*

	# The package and the alternative, as they were; the kernel modules
	# ovs-ctl loaded or unloaded.
	restore_package
	if [ "$ovs_module_before" = absent ] &&
			[ "$(module_state openvswitch)" = loaded ]; then
		fp_log "unloading openvswitch.ko, which ovs-ctl loaded"
		rmmod openvswitch
	fi
	if [ "$bridge_module_before" = loaded ] &&
			[ "$(module_state bridge)" = absent ]; then
		fp_log "loading bridge.ko again, which ovs-ctl unloaded"
		modprobe bridge
	fi
	fp_log "machine state after the test:"
	machine_state | tee "$state_dir/after" | sed 's/^/  /'
	if ! diff -u "$state_dir/before" "$state_dir/after"; then
		echo "FAIL: the machine is not as the test found it" >&2
		[ "$status" != 0 ] || status=1
	else
		echo "ok - the machine is as the test found it"
	fi
	rm -rf "$state_dir"
	exit "$status"
}

restore_package() {
	local now

	now=$(dpkg-query -W -f='${Status}' $PKG 2> /dev/null)
	if [ "$pkg_before" = installed ] && [ "$now" != "install ok installed" ]; then
		fp_log "reinstalling $PKG, which was installed before the test"
		dpkg -i "$deb" 2>&1 | sed 's/^/  /'
	elif [ "$pkg_before" != installed ] && [ -n "$now" ]; then
		fp_log "purging $PKG, which was not installed before the test"
		dpkg --purge $PKG 2>&1 | sed 's/^/  /'
	fi
	if [ "$alt_mode_before" = auto ]; then
		[ "$(alt_query Status)" = auto ] ||
			update-alternatives --auto ovs-vswitchd > /dev/null
	elif [ "$(alt_query Value)" != "$alt_value_before" ] &&
			alt_has "$alt_value_before"; then
		update-alternatives --set ovs-vswitchd "$alt_value_before" > /dev/null
	fi
}

# ---------------------------------------------------------------------------
# Preconditions.

fp_sb_require_env
[ -x "$OVS_CTL" ] || fp_skip "$OVS_CTL is missing (openvswitch-switch)"
command -v dpkg-buildpackage > /dev/null || [ -n "$deb" ] ||
	command -v apt-get > /dev/null || fp_skip "no Debian tooling"
if [ -z "$deb" ]; then
	deb=$(ls -t "$FP_BUILD"/deb/${PKG}_*.deb 2> /dev/null | head -n 1)
	if [ -z "$deb" ]; then
		fp_log "no package in $FP_BUILD/deb: building it"
		FP_BUILD=$FP_BUILD "$FP_TOP/packaging/build-deb" --no-compile ||
			fp_die "packaging/build-deb failed"
		deb=$(ls -t "$FP_BUILD"/deb/${PKG}_*.deb | head -n 1)
	fi
fi
[ -r "$deb" ] || fp_die "$deb not readable"
deb_version=$(dpkg-deb -f "$deb" Version)
fp_log "testing $deb ($deb_version)"

FP_SB_PREFIX=fppkg-$$
FP_SB_NS=
FP_SB_DIR=
state_dir=$(mktemp -d /tmp/fppkg-state.XXXXXX)
machine_state > "$state_dir/before"
fp_log "machine state before the test:"
sed 's/^/  /' "$state_dir/before"
alt_mode_before=$(alt_query Status)
ovs_module_before=$(module_state openvswitch)
bridge_module_before=$(module_state bridge)
alt_value_before=$(alt_query Value)
pkg_before=absent
if dpkg-query -W -f='${Status}' $PKG 2> /dev/null | grep -q 'install ok installed'; then
	pkg_before=installed
	[ "$(dpkg-query -W -f='${Version}' $PKG)" = "$deb_version" ] || {
		rm -rf "$state_dir"
		fp_die "$PKG $(dpkg-query -W -f='${Version}' $PKG) is installed, not $deb_version: the test could not put it back; remove it first"
	}
fi
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# 1. Install and select.

echo "== install =="
dpkg -i "$deb" || fp_die "dpkg -i $deb failed"
fp_check "the daemon is installed" test -x "$PKG_DAEMON"
fp_check "the package registered its daemon as an alternative" alt_has "$PKG_DAEMON"
fp_check_eq "installing changed no selection: the mode is as before" \
	"$alt_mode_before" "$(alt_query Status)"
fp_check_eq "installing changed no selection: the link is as before" \
	"$alt_value_before" "$(alt_query Value)"
fp_check_eq "Debian's daemon is still the best alternative" \
	"$DEBIAN_DAEMON" "$(alt_query Best)"
update-alternatives --set ovs-vswitchd "$PKG_DAEMON" ||
	fp_die "update-alternatives --set failed"
fp_check_eq "/usr/sbin/ovs-vswitchd is the package's daemon" \
	"$PKG_DAEMON" "$(readlink -f /usr/sbin/ovs-vswitchd)"

# ---------------------------------------------------------------------------
# 2. Start through ovs-ctl and fold.

echo "== Foldpath's daemon through ovs-ctl =="
sandbox_init
ovs_start dpdk
pid=$(vswitchd_pid)
fp_check_eq "the running ovs-vswitchd is the package's" \
	"$PKG_DAEMON" "$(readlink "/proc/$pid/exe")"
reply=$(fp_sb_appctl foldpath/version) || fp_die "foldpath/version failed"
echo "$reply" | sed 's/^/  /'
fp_check "foldpath/version names the package's Foldpath version" \
	grep -q "^Foldpath ${deb_version%-*} (revision " <<< "$reply"
fp_check_eq "foldpath/version names the DPDK OVS initialised" \
	"$(fp_sb_vsctl get Open_vSwitch . dpdk_version | tr -d '"')" \
	"$(sed -n 2p <<< "$reply")"

# The tests' tenant network: uplink dpdk0 (net_pcap on a veth) -- br-phy
# (VTEP) -- VXLAN -- br-int with its conntrack security group -- vhu0 --
# testpmd vm0. Folding learns a stream at its first miss
# (fold-insert-after=1).
streams=8
packets=16
fp_sb_vm_start vm0 --capture "$FP_SB_DIR/vm0.pcap" --inject
fp_sb_tenant_network inject --vm vm0
fp_sb_security_group --egress
pcap=$FP_SB_DIR/traffic.pcap
"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
	--size 128 --out "$pcap" > /dev/null || fp_die "fp-streamgen failed"
fold_two_phases ingress "$pcap" $streams
fp_sb_appctl fold/show | sed 's/^/  /'
hits=$(fold_stat hits) || fp_die "fold/show has no hits counter"
fp_check "packets were folded ($hits hits)" test "$hits" -gt 0
fp_check_eq "vm0 received every frame" $((streams * packets)) \
	"$(fp_sb_vm_stat vm0 ipackets)"

# Leave an empty database for the stock daemon: no bridges, no DPDK.
fp_sb_vsctl del-br br-int -- del-br br-phy ||
	fp_die "cannot delete the bridges"
fp_sb_vsctl remove Open_vSwitch . other_config dpdk-init
fp_sb_vm_stop vm0
ovs_stop
# ovs-vswitchd's own files (the VM's, prefix $FP_SB_PREFIX-vm0, go at
# teardown).
[ -z "$(ls /dev/hugepages/"$FP_SB_PREFIX"map_* 2> /dev/null)" ] ||
	echo "note: hugepage files left by ovs-vswitchd: $(ls /dev/hugepages/"$FP_SB_PREFIX"map_*)"

# ---------------------------------------------------------------------------
# 3. Remove and purge.

echo "== remove =="
dpkg -r $PKG || fp_die "dpkg -r failed"
fp_check "the alternative is gone" eval '! alt_has "$PKG_DAEMON"'
fp_check_eq "Debian's daemon is the best alternative" \
	"$DEBIAN_DAEMON" "$(alt_query Best)"
fp_check_eq "/usr/sbin/ovs-vswitchd is Debian's daemon" \
	"$DEBIAN_DAEMON" "$(readlink -f /usr/sbin/ovs-vswitchd)"
if [ "$alt_mode_before" = auto ]; then
	fp_check_eq "the alternative is back in its mode" auto "$(alt_query Status)"
fi
# Without conffiles, removing leaves nothing to purge; purge what is left.
if dpkg-query -W -f='${Status}' $PKG 2> /dev/null | grep -q .; then
	dpkg --purge $PKG || fp_die "dpkg --purge failed"
fi
fp_check "dpkg knows nothing of the package" \
	eval '! dpkg-query -W -f="\${Status}" $PKG 2> /dev/null | grep -q .'
fp_check "/usr/lib/$PKG is gone" test ! -e "/usr/lib/$PKG"

# ---------------------------------------------------------------------------
# 4. Debian's daemon starts as before, in the same directories.

echo "== Debian's daemon through ovs-ctl =="
ovs_start plain
pid=$(vswitchd_pid)
fp_check_eq "the running ovs-vswitchd is Debian's" \
	"$DEBIAN_DAEMON" "$(readlink "/proc/$pid/exe")"
fp_check "ovs-vsctl show works" fp_sb_vsctl show
fp_check "ovs-appctl version names Open vSwitch 3.1.0" \
	eval 'fp_sb_appctl version | grep -q "(Open vSwitch) 3.1.0"'
out=$(fp_sb_appctl foldpath/version 2>&1) && fp_die "Debian's daemon answered foldpath/version: $out"
fp_check "foldpath/version is unknown to Debian's daemon" \
	grep -q '"foldpath/version" is not a valid command' <<< "$out"
ovs_stop
echo "== done: the package installs, folds, and removes cleanly =="
