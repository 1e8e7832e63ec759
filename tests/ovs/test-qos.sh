#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Per-port QoS (QoS type fp-meter) in the patched OVS, measured at a testpmd
# VM:
#
# - rate: an ingress meter on the source port shapes what is offered to
#   the sink's port to 10x, then 2x, the rate of the egress meter on the
#   sink's port; the egress meter's own counters say it passed its rate,
#   within 2 %, in packets/s and in bits/s, over the time it took to pass
#   3 s worth of its rate, and that it was offered what the ingress meter
#   passed (the rest dropped); the ingress meter's own measured rate is
#   within 2 % of its rate too;
# - burst: after an idle period, a burst passes CBS and the meter drops the
#   rest, counted once a marker sent after the burst is through
#   (fp_sb_marker); the VM receives exactly what passed;
# - remark: packets leave with the DSCP the configuration says, with a
#   valid IPv4 checksum;
# - a bad configuration is refused in the Interface's error column and the
#   meter in force stays; qos/reset-stats zeroes the counters.
#
# The source is a net_pcap port replaying a pcap forever: it costs the PMD,
# not the cores the VMs share.

. "$(dirname "$0")/sandbox.sh"

fp_sb_require_env $((FP_SB_SOCKET_MEM + 2 * FP_SB_VM_MEM))

# Prints, from one qos/show of every interface, the time (ns, the middle of
# the call) and, for PORT's direction DIR and then for PORT2's DIR2 if
# given, the green packets, green bytes, red packets and dropped packets.
# One call reads both meters' counters at (nearly) the same moment: two
# calls, on a loaded machine, can be tens of ms apart.
# Usage: meter_sample PORT DIR [PORT2 DIR2]
meter_sample() {
	local t0 t1 show

	t0=$(date +%s%N)
	show=$(fp_sb_appctl qos/show)
	t1=$(date +%s%N)
	awk -v p1="$1" -v d1="$2" -v p2="${3:-}" -v d2="${4:-}" \
	    -v t=$(( (t0 + t1) / 2 )) '
		$1 == "QoS:" { k = $2 == p1 ? 1 : $2 == p2 ? 2 : 0; next }
		k == 1 { d = d1 } k == 2 { d = d2 } k == 0 { next }
		$1 == d "-green:" { gp[k] = $2; gb[k] = $4 }
		$1 == d "-red:" { rp[k] = $2 }
		$1 == d "-dropped:" { dr[k] = $2 }
		END {
			printf "%s %.0f %.0f %.0f %.0f", t, gp[1], gb[1], rp[1], dr[1]
			if (p2 != "")
				printf " %.0f %.0f %.0f %.0f", gp[2], gb[2], rp[2], dr[2]
			print ""
		}' <<< "$show"
}

meter_green_at_least() {
	[ "$(meter_sample "$1" "$2" | awk '{print $2}')" -ge "$3" ]
}

# Checks the egress meter of vhu0 and the ingress meter of SRC over the
# time vhu0's meter takes to pass 3 s worth of RATE: vhu0 passed RATE
# (packets/s, or bits/s with bps) within 2 %, was offered what SRC's meter
# passed, within 2 %, and dropped the rest.
# Usage: check_rates WHAT SRC pps|bps RATE
check_rates() {
	local what=$1 src=$2 unit=$3 rate=$4 a b need

	# Settled: vhu0's buckets, full after a change, have run dry.
	need=$(qos_value vhu0 egress-dropped)
	fp_wait_for 10 "vhu0's meter to drop" eval \
		'[ "$(qos_value vhu0 egress-dropped)" -gt '"$need"' ]' ||
		fp_die "$what: vhu0's meter drops nothing"
	a=$(meter_sample vhu0 egress "$src" ingress)
	if [ "$unit" = pps ]; then
		need=$((3 * rate))
	else
		need=$((3 * rate / 8 / 508))
	fi
	fp_wait_for 30 "vhu0's meter to pass $need packets" \
		meter_green_at_least vhu0 egress \
		$(( $(awk '{print $2}' <<< "$a") + need )) ||
		fp_die "$what: vhu0's meter passed too little: $(fp_sb_appctl qos/show vhu0)"
	b=$(meter_sample vhu0 egress "$src" ingress)
	awk -v what="$what" -v unit="$unit" -v r="$rate" -v a="$a" -v b="$b" \
		'BEGIN {
		split(a, x); split(b, y)
		dt = (y[1] - x[1]) / 1e9
		passed = unit == "pps" ? (y[2] - x[2]) / dt : 8 * (y[3] - x[3]) / dt
		offered = (y[2] - x[2]) + (y[4] - x[4])
		src = y[6] - x[6]
		dropped = y[5] - x[5]
		dp = (passed - r) / r; if (dp < 0) dp = -dp
		do_ = (offered - src) / src; if (do_ < 0) do_ = -do_
		printf "%s: over %.2f s, vhu0 passed %.0f %s (%.2f %% off %s); offered %d packets, %d passed by %s'"'"'s meter (%.2f %% off), dropped %d\n",
			what, dt, passed, unit == "pps" ? "packets/s" : "bits/s",
			100 * dp, r, offered, src, "'"$src"'", 100 * do_, dropped
		exit !(dp <= 0.02 && do_ <= 0.02 && dropped == y[4] - x[4])
	}' || fp_die "$what: the meters' counters are off"
	echo "ok - $what: vhu0's meter passed its rate within 2 %, and dropped the rest of what $src's meter passed"
}

# Fails unless every value in VALUES is within 2 % of RATE.
# Usage: check_windows WHAT RATE VALUES
check_windows() {
	local what=$1 rate=$2 values=$3

	[ -n "$values" ] || fp_die "$what: no measurement"
	awk -v r="$rate" -v what="$what" '
		{ n++; d = ($1 - r) / r; if (d < 0) d = -d; if (d > max) max = d
		  list = list " " $1 }
		END {
			printf "%s: %d 1-second windows:%s (worst %.2f %% off %s)\n",
				what, n, list, 100 * max, r
			exit !(max <= 0.02)
		}' <<< "$values" || fp_die "$what: a window is more than 2 % off"
	echo "ok - $what: every 1-second window within 2 % of $rate"
}

# Prints one line of qos/show for PORT, the value after "KEY: ".
qos_value() {
	fp_sb_appctl qos/show "$1" | sed -n "s/^$2: //p"
}

qos_of() {
	fp_sb_vsctl get Port "$1" qos
}

# Replaces the other_config of PORT's QoS with the given keys.
# Usage: set_meter PORT KEY=VALUE...
set_meter() {
	local port=$1 q

	shift
	q=$(qos_of "$port")
	if [ "$q" = "[]" ]; then
		fp_sb_vsctl -- set Port "$port" qos=@q -- --id=@q create QoS \
			type=fp-meter $(printf 'other-config:%s ' "$@") > /dev/null
	else
		fp_sb_vsctl clear QoS "$q" other_config -- set QoS "$q" \
			$(printf 'other-config:%s ' "$@")
	fi || fp_die "cannot set the QoS of $port"
}

fp_sb_start qos
fp_sb_add_bridge br-int
fp_sb_vm_start sink
fp_sb_add_vhu_port br-int vhu0 sink 20

# --- packets per second ------------------------------------------------------
p64=$FP_SB_DIR/p64.pcap
"$FP_STREAMGEN" --plain --streams 64 --packets 16 --out "$p64" > /dev/null
# 10 kpps: the VM, which shares its core with OVS's main thread, drains
# its 1024-entry ring in time even when it is scheduled out for 100 ms.
set_meter vhu0 egress-unit=pps egress-cir=10000 egress-cbs=200
fp_sb_add_pcap_port br-int dpdk0 "$p64" --infinite 10
set_meter dpdk0 ingress-unit=pps ingress-cir=100000 ingress-cbs=2000
fp_sb_ofctl del-flows br-int
fp_sb_ofctl add-flow br-int "in_port=10,actions=output:20"

check_rates "pps, offered 10x" dpdk0 pps 10000
check_windows "pps, the ingress meter's own rate" 100000 \
	"$(qos_value dpdk0 ingress-rate-passed | awk '{print $1}')"
set_meter dpdk0 ingress-unit=pps ingress-cir=20000 ingress-cbs=2000
check_rates "pps, offered 2x" dpdk0 pps 10000

# --- bits per second ---------------------------------------------------------
p512=$FP_SB_DIR/p512.pcap
"$FP_STREAMGEN" --plain --streams 64 --packets 16 --size 512 --out "$p512" \
	> /dev/null
fp_sb_vsctl del-port br-int dpdk0
# 20 Mbit/s of 508-byte frames: about 4900 frames/s.
set_meter vhu0 egress-cir=20000000 egress-cbs=100000
fp_sb_add_pcap_port br-int dpdk1 "$p512" --infinite 11
set_meter dpdk1 ingress-cir=200000000 ingress-cbs=1000000
fp_sb_ofctl add-flow br-int "in_port=11,actions=output:20"
check_rates "bps, offered 10x" dpdk1 bps 20000000
set_meter dpdk1 ingress-cir=40000000 ingress-cbs=1000000
check_rates "bps, offered 2x" dpdk1 bps 20000000
fp_sb_vsctl del-port br-int dpdk1

# --- bursts: CBS after an idle period -----------------------------------------
fp_sb_add_inject_port br-int dpdk2 12
fp_sb_ofctl add-flow br-int "in_port=12,actions=output:20"
fp_sb_add_marker_ports br-int
"$FP_SB_TOOLS/fp-pcap" slice "$p64" "$FP_SB_DIR/burst64.pcap" 0 200 > /dev/null
"$FP_SB_TOOLS/fp-pcap" slice "$p512" "$FP_SB_DIR/burst512.pcap" 0 100 \
	> /dev/null
burst() {
	local pcap=$1 sent=$2 expect_min=$3 expect_max=$4 what=$5 before green
	local mk

	fp_sb_appctl qos/reset-stats vhu0 > /dev/null
	before=$(fp_sb_vm_stat sink ipackets)
	total=$(( $(fp_sb_iface_stat dpdk2 rx_packets) + sent ))
	fp_sb_inject dpdk2 "$pcap" > /dev/null
	fp_wait_for 30 "dpdk2 to receive the burst" \
		fp_sb_port_rx_at_least dpdk2 "$total" ||
		fp_die "dpdk2 did not receive the burst"
	mk=$(( $(fp_sb_iface_stat mkout tx_packets) + 1 ))
	fp_sb_marker --plain mkin "after the burst" \
		fp_sb_port_tx_at_least mkout $mk
	green=$(qos_value vhu0 egress-green | cut -d' ' -f1)
	[ "$green" -ge "$expect_min" ] && [ "$green" -le "$expect_max" ] ||
		fp_die "$what: the meter passed $green of $sent, expected $expect_min to $expect_max"
	fp_check_eq "$what: the meter dropped the rest" $((sent - green)) \
		"$(qos_value vhu0 egress-dropped)"
	fp_sb_wait_vm_rx sink $((before + green)) 10
	echo "ok - $what: $green of $sent passed, and the VM received them"
}
# 1 packet/s and a burst of 50 packets: 50 (one more if a second passes).
set_meter vhu0 egress-unit=pps egress-cir=1 egress-cbs=50
sleep 1
burst "$FP_SB_DIR/burst64.pcap" 200 50 51 "pps burst, cbs=50"
# 1000 bytes/s and a burst of 10000 bytes: 19 frames of 508 bytes.
set_meter vhu0 egress-cir=8000 egress-cbs=10000
sleep 1
burst "$FP_SB_DIR/burst512.pcap" 100 19 20 "bps burst, cbs=10000 bytes"

# --- a bad configuration is refused; the meter in force stays -----------------
q=$(qos_of vhu0)
fp_sb_vsctl set QoS "$q" other-config:egress-cbs=100
fp_wait_for 30 "vhu0's error" test "$(fp_sb_vsctl get Interface vhu0 error)" != "[]" ||
	fp_die "no Interface error for egress-cbs=100"
fp_check_eq "Interface:error says why" \
	'"could not configure QoS type fp-meter: egress-cbs: 100 bytes is smaller than one frame of the port'"'"'s MTU (1518 bytes): no packet that size would ever conform"' \
	"$(fp_sb_vsctl get Interface vhu0 error)"
fp_check "the refusal is logged" grep -q \
	"vhu0: QoS fp-meter: egress-cbs: 100 bytes is smaller than one frame" \
	"$FP_SB_DIR/ovs-vswitchd.log"
fp_check_eq "the meter in force stays" \
	"algorithm=srtcm unit=bps cir=8000 cbs=10000 ebs=0 color-mode=blind green=pass yellow=pass red=drop" \
	"$(qos_value vhu0 egress)"
set_meter vhu0 egress-unit=pps egress-cir=1000 egress-cbs=1000 \
	egress-green=remark:46
fp_wait_for 30 "vhu0's error to clear" \
	test "$(fp_sb_vsctl get Interface vhu0 error)" = "[]" ||
	fp_die "the Interface error stayed after a good configuration"
echo "ok - a good configuration clears the error"

# --- remark -------------------------------------------------------------------
fp_sb_vm_start cap --capture "$FP_SB_DIR/cap.pcap"
fp_sb_add_vhu_port br-int vhu1 cap 21
q=$(qos_of vhu0)
fp_sb_vsctl set Port vhu1 "qos=$q"
fp_sb_ofctl del-flows br-int in_port=12
fp_sb_ofctl add-flow br-int "in_port=12,actions=output:21"
"$FP_SB_TOOLS/fp-pcap" slice "$p64" "$FP_SB_DIR/remark.pcap" 0 20 > /dev/null
fp_sb_inject dpdk2 "$FP_SB_DIR/remark.pcap" > /dev/null
fp_sb_wait_vm_rx cap 20
fp_sb_vm_stop cap
python3 - "$FP_SB_DIR/cap.pcap" <<'EOF' || fp_die "remarked frames are wrong"
import struct, sys
data = open(sys.argv[1], 'rb').read()
ofs, n = 24, 0
while ofs + 16 <= len(data):
    incl = struct.unpack('<I', data[ofs + 8:ofs + 12])[0]
    frame = data[ofs + 16:ofs + 16 + incl]
    ofs += 16 + incl
    assert frame[12:14] == b'\x08\x00', 'not IPv4'
    ip = frame[14:34]
    assert ip[1] >> 2 == 46, 'DSCP %d, not 46' % (ip[1] >> 2)
    s = sum(struct.unpack('!10H', ip))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    assert s == 0xffff, 'bad IPv4 checksum'
    n += 1
assert n == 20, '%d frames' % n
print('ok - 20 frames with DSCP 46 and a valid IPv4 checksum')
EOF
fp_check_eq "the meter counted the remarks" 20 \
	"$(qos_value vhu1 egress-remarked)"

# --- qos/show and qos/reset-stats ------------------------------------------------
fp_check "qos/show without a port lists every metered port" bash -c \
	"'$FP_SB_APPCTL' -t '$FP_SB_DIR/ovs-vswitchd.ctl' qos/show | grep -c '^QoS: vhu[01] fp-meter' | grep -qx 2"
fp_sb_appctl qos/reset-stats vhu1 > /dev/null
fp_check_eq "qos/reset-stats zeroes the counters" "0 packets, 0 bytes" \
	"$(qos_value vhu1 egress-green)"
echo "PASS: qos"
