# SPDX-License-Identifier: Apache-2.0
#
# The offload scale benchmark (tests/bench/run --offload-scale): what
# offloading N folded streams to the TEST E-SWITCH PMD (tests/eswitch, a
# software model of an SR-IOV e-switch, not a NIC) costs, at N = 1,000,
# 10,000 and 100,000, in each conntrack offload mode: hw-conntrack (the
# e-switch's default: the NIC tracks each TCP connection's windows through
# an indirect CONNTRACK action) and tcp-flags (devarg reject=conntrack).
#
# Each (mode, N) runs in its own sandbox: the vxlan-ct-esw network (the
# tenant network on the e-switch, with the security group of the
# benchmarks), ingress only: fp-streamgen on the uplink's wire sends one
# 64-byte TCP packet of each of the N streams in turn, at --rate, for the
# whole run. The VF has no VM (the kernel drops what the e-switch sends
# it), so that no busy-polling testpmd competes for the host core with
# the e-switch's thread. The e-switch takes max_rules=2N, OVS
# fold-offload-max-per-port=2N, fold-offload-rate=--offload-rate,
# fold-offload-min-packets=2 and fold-offload-age=3600 (no rule ages in a
# run). Folding is on, hw-offload=true, fold-offload=false. Then:
#
#   1. wait until fold/show holds 99 % of the N streams (progress every
#      5 s), and read ovs-vswitchd's memory (M0);
#   2. the poller (offload_scale.py poll) sets fold-offload=true and polls
#      fold/offload-show on ovs-vswitchd's control socket every 10 ms or
#      so, each poll timestamped with ovs-vswitchd's RssAnon
#      (install.tsv), until "rules installed" reaches N, or has not grown
#      for --stall seconds, or --timeout passes. Rules per second: N (or
#      the peak) over the time from the switch to the poll that saw it;
#      memory per offloaded stream: (RssAnon at that poll - M0) / rules.
#      All of ovs-vswitchd's anonymous memory: the e-switch model is a
#      plugin of ovs-vswitchd, and its rule tables are malloc()ed there
#      too; their share is estimated from its structures' sizes (gdb);
#   3. steady state, with the rules still installed: pmd-stats-clear, then
#      for --window seconds perf record -e cpu-clock with DWARF call
#      graphs on the PMD thread alone, then pmd-perf-show (its cycles/it
#      histogram gives the worst iteration) and fold/show (its "offload
#      upkeep" line, in builds that have it).
#
# Everything each run read is kept in logs/offload-scale-MODE-N (see
# offload_scale.py for what is computed from it), and one JSON line per
# run goes to offload-scale.jsonl.

# Prints the counters of the uplink dpdk0 in fold/offload-show: "installed
# pending created removed aged failures hw_packets" (zeros before any
# stream was offered).
bench_os_counts() {
	fp_sb_appctl fold/offload-show dpdk0 2> /dev/null | awk '
		/^  rules installed:/ {
			gsub(/,/, "")
			i = $3; p = $5; c = $7; r = $9; a = $11
		}
		/^  hw packets:/ { gsub(/,/, ""); hw = $3 }
		/^    [a-z-]+: [0-9]+ \(last:/ { f += $2 }
		END { print i + 0, p + 0, c + 0, r + 0, a + 0, f + 0, hw + 0 }'
}

# Prints the thread id of the thread of ovs-vswitchd (PID) whose name
# matches the extended regular expression RE, or nothing.
# Usage: bench_os_tid PID RE
bench_os_tid() {
	local t

	for t in /proc/"$1"/task/*; do
		if grep -qE "$2" "$t/comm" 2> /dev/null; then
			basename "$t"
			return
		fi
	done
}

# Prints "PID TID NAME NS" for each thread of the processes PID...: the
# time it has run on a CPU, in nanoseconds (schedstat), and its name.
bench_os_threads() {
	local p t name

	for p in "$@"; do
		for t in /proc/"$p"/task/*; do
			name=$(tr ' ' _ < "$t/comm" 2> /dev/null) || continue
			echo "$p ${t##*/} $name $(cut -d' ' -f1 "$t/schedstat" 2> /dev/null)"
		done
	done
}

# Prints where the generator's frames went: the uplink's statistics (its
# rx_missed_errors are the frames the e-switch's socket dropped), the
# veths of the sandbox, and the kernel's per-CPU backlog counters.
bench_os_wire() {
	echo "dpdk0: $(fp_sb_vsctl get Interface dpdk0 statistics)"
	fp_sb_netns ip -s -o link
	echo "softnet_stat:"
	cat /proc/net/softnet_stat
}

# Prints the PMDs' TSC rate in Hz, from ovs-vswitchd's log ("DPDK provided
# TSC frequency", or "Estimated" where DPDK gives none).
bench_os_tsc_hz() {
	sed -n 's/.* TSC frequency: \([0-9]*\) KHz.*/\1/p' \
		"$FP_SB_DIR/ovs-vswitchd.log" | tail -n 1 |
		awk '{ printf "%.0f\n", $1 * 1000 }'
}

# Prints the seconds since T0, a value of $EPOCHREALTIME.
bench_os_since() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }'
}

# Records "KEY VALUE..." in the run's meta file.
bench_os_meta() {
	echo "$*" >> "$BENCH_OS_DIR/meta.txt"
}

# Runs one sandbox: offload mode MODE (hw-conntrack or tcp-flags), STREAMS
# streams; appends one JSON line to FILE.
# Usage: bench_os_run MODE STREAMS FILE
bench_os_run() {
	local mode=$1 streams=$2 file=$3
	local devargs pid cap want started deadline next folded t0
	local installed created removed failures peak outcome poller
	local tid line perf_rc=0 csw0 csw1 gen t1 t2

	BENCH_OS_DIR=$FP_SB_LOGDIR
	mkdir -p "$BENCH_OS_DIR"
	: > "$BENCH_OS_DIR/meta.txt"
	bench_os_meta mode "$mode"
	bench_os_meta streams "$streams"
	devargs="max_rules=$((streams * 2))"
	[ "$mode" = tcp-flags ] && devargs+=",reject=conntrack"
	cap=$BENCH_OS_CAPACITY
	[ -n "$cap" ] || cap=$(( streams > 65536 ? streams * 2 : 131072 ))

	FP_SB_PLUGIN=$FP_ESWITCH fp_sb_start "oscale-$mode-$streams" > /dev/null
	pid=$(cat "$FP_SB_DIR/ovs-vswitchd.pid")
	# Rules never age (fold-offload-age is at most an hour), and neither
	# do the megaflows all the streams share while the e-switch
	# forwards few packets of each (max-idle, 10 min).
	fp_sb_vsctl set Open_vSwitch . \
		other_config:fold-enable=true \
		other_config:fold-max-streams="$cap" \
		other_config:max-idle=600000 \
		other_config:hw-offload=true \
		other_config:fold-offload=false \
		other_config:fold-offload-min-packets="$BENCH_OS_MIN_PACKETS" \
		other_config:fold-offload-max-per-port=$((streams * 2)) \
		other_config:fold-offload-rate="$BENCH_OS_OFFLOAD_RATE" \
		other_config:fold-offload-age=3600
	fp_sb_tenant_network eswitch --devargs "$devargs"
	bench_firewall
	bench_os_meta capacity "$cap"
	bench_os_meta devargs "$devargs"
	bench_os_meta gen_rate "${BENCH_OS_RATE:-0}"
	bench_os_meta offload_rate "$BENCH_OS_OFFLOAD_RATE"
	bench_os_meta min_packets "$BENCH_OS_MIN_PACKETS"
	fp_sb_wire_gen_start gen0 dpdk0 --streams "$streams" --packets 1 \
		--size 64 --proto tcp ${BENCH_OS_RATE:+--rate "$BENCH_OS_RATE"}
	gen=${FP_SB_VM_PID[gen0]}
	# The generator polls without a pause, on the host core, which the
	# e-switch's thread (the "hardware") and OVS's other threads share:
	# they must get the core whenever they need it. ovs-vswitchd is a
	# session of its own (--detach), so with the scheduler's autogroups
	# (sched_autogroup_enabled) its threads get the core in proportion
	# to the sessions' weights, not the threads' niceness: its session
	# gets nice -10 (90 % of a busy core against this session), and the
	# generator nice 19 within this session (against the poller and
	# perf).
	[ -w "/proc/$pid/autogroup" ] &&
		echo -10 > "/proc/$pid/autogroup"
	renice -n 19 -p "$gen" > /dev/null

	# 1. The streams folded.
	want=$((streams * 99 / 100))
	started=$SECONDS
	deadline=$((SECONDS + BENCH_OS_TIMEOUT))
	next=$SECONDS
	while :; do
		read -r folded _ <<< "$(bench_fold_counts)"
		[ "$folded" -ge "$want" ] && break
		if [ $SECONDS -ge "$next" ]; then
			line=$(tail -n 1 "$FP_SB_DIR/gen0.log")
			echo "offload-scale: $mode, $streams streams:" \
				"$((SECONDS - started)) s, $folded folded" \
				"(${line#fp-streamgen: })" >&3
			next=$((SECONDS + 5))
		fi
		if [ $SECONDS -ge "$deadline" ]; then
			echo "offload-scale: gave up after ${BENCH_OS_TIMEOUT}s:" \
				"$folded of $want streams folded" >&3
			return 1
		fi
		sleep 0.5
	done
	bench_os_meta fold_seconds $((SECONDS - started))
	bench_os_meta folded "$folded"
	bench_os_meta mem_folded "$(bench_mem_kb "$pid")" \
		"$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
	bench_os_meta tsc_hz "$(bench_os_tsc_hz)"
	fp_sb_appctl fold/show > "$BENCH_OS_DIR/fold-show-folded.txt" 2>&1
	echo "offload-scale: $mode, $streams streams: $folded folded in" \
		"$((SECONDS - started)) s; fold-offload=true" >&3

	# 2. The rules installed: the poller switches fold-offload on and
	# polls until the rules are all there, or stop growing.
	bench_os_threads "$pid" "$gen" > "$BENCH_OS_DIR/threads-install-start.txt"
	t0=$EPOCHREALTIME
	python3 "$here/offload_scale.py" poll "$FP_SB_DIR/ovs-vswitchd.ctl" \
		"$pid" "$BENCH_OS_DIR/install.tsv" "$streams" "$BENCH_OS_STALL" \
		"$BENCH_OS_TIMEOUT" -- "$FP_SB_VSCTL" \
		--db="unix:$FP_SB_DIR/db.sock" --timeout=60 set Open_vSwitch . \
		other_config:fold-offload=true > "$BENCH_OS_DIR/poll.txt" 2>&1 &
	poller=$!
	tail -n +1 --pid="$poller" -f "$BENCH_OS_DIR/poll.txt" |
		grep --line-buffered -v '^result: ' |
		sed -u "s/^/offload-scale: $mode, $streams streams: /" >&3
	wait "$poller" || fp_die "the poller failed: $(tail -n 3 "$BENCH_OS_DIR/poll.txt")"
	bench_os_threads "$pid" "$gen" > "$BENCH_OS_DIR/threads-install-end.txt"
	bench_os_meta install_wall "$(bench_os_since "$t0")"
	read -r _ outcome installed peak <<< "$(grep '^result: ' "$BENCH_OS_DIR/poll.txt")"
	bench_os_meta install_outcome "$outcome"
	# Read at once, while the rules are what the last poll saw.
	bench_os_meta mem_installed "$(bench_mem_kb "$pid")" \
		"$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")"
	bench_os_meta installed_at_mem "$(bench_os_counts)"
	fp_sb_appctl fold/offload-show > "$BENCH_OS_DIR/offload-show-installed.txt" 2>&1
	read -r installed _ created removed _ failures _ <<< "$(bench_os_counts)"
	echo "offload-scale: $mode, $streams streams: $outcome:" \
		"$installed rules installed (peak $peak, created $created," \
		"removed $removed, failures $failures)" >&3

	# 3. The steady state.
	tid=$(bench_os_tid "$pid" '^pmd-')
	[ -n "$tid" ] || fp_die "no PMD thread in ovs-vswitchd $pid"
	bench_os_meta window "$BENCH_OS_WINDOW"
	t2=$EPOCHREALTIME
	bench_os_meta window_start "$(bench_os_counts)"
	bench_os_wire > "$BENCH_OS_DIR/wire-start.txt"
	bench_os_threads "$pid" "$gen" > "$BENCH_OS_DIR/threads-window-start.txt"
	t0=$EPOCHREALTIME
	csw0=$(awk '/^nonvoluntary_ctxt_switches:/ {print $2}' "/proc/$pid/task/$tid/status")
	bench_os_meta pmd_cpu_stat_start "$(grep "^cpu$FP_SB_PMD_CORE " /proc/stat)"
	# fold/show's upkeep counter, if any, right around the window.
	t1=$EPOCHREALTIME
	fp_sb_appctl fold/show > "$BENCH_OS_DIR/fold-show-start.txt" 2>&1
	fp_sb_pmd_stats_clear
	# perf runs on the host core, off the PMD's. Call graphs (DWARF: the
	# build has no frame pointers) tell the upkeep's calls of shared
	# helpers (fold_path_valid, memcmp) from the fold cache sweep's.
	taskset -c "$FP_SB_HOST_CORE" perf record -q -e cpu-clock \
		-F "$BENCH_OS_PERF_FREQ" --call-graph dwarf,8192 -t "$tid" \
		-o "$BENCH_OS_DIR/perf.data" -- sleep "$BENCH_OS_WINDOW" \
		> "$BENCH_OS_DIR/perf-record.txt" 2>&1 || perf_rc=$?
	fp_sb_appctl dpif-netdev/pmd-perf-show -pmd "$FP_SB_PMD_CORE" \
		> "$BENCH_OS_DIR/pmd-perf-show.txt" 2>&1
	fp_sb_appctl fold/show > "$BENCH_OS_DIR/fold-show-end.txt" 2>&1
	bench_os_meta counter_wall "$(bench_os_since "$t1")"
	csw1=$(awk '/^nonvoluntary_ctxt_switches:/ {print $2}' "/proc/$pid/task/$tid/status")
	bench_os_meta pmd_cpu_stat_end "$(grep "^cpu$FP_SB_PMD_CORE " /proc/stat)"
	bench_os_threads "$pid" "$gen" > "$BENCH_OS_DIR/threads-window-end.txt"
	bench_os_meta window_wall "$(bench_os_since "$t0")"
	bench_os_meta pmd_preemptions $((csw1 - csw0))
	bench_os_wire > "$BENCH_OS_DIR/wire-end.txt"
	bench_os_meta window_end "$(bench_os_counts)"
	bench_os_meta counts_wall "$(bench_os_since "$t2")"
	fp_sb_appctl fold/offload-show > "$BENCH_OS_DIR/offload-show-end.txt" 2>&1
	fp_sb_appctl dpif-netdev/pmd-stats-show > "$BENCH_OS_DIR/pmd-stats-show.txt" 2>&1
	fp_sb_appctl memory/show > "$BENCH_OS_DIR/memory-show.txt" 2>&1
	tail -n 3 "$FP_SB_DIR/gen0.log" > "$BENCH_OS_DIR/gen0-tail.txt"
	bench_os_meta perf_rc "$perf_rc"
	# The report needs the binaries' symbols: while the sandbox (and its
	# copy of the e-switch plugin) is up.
	if [ "$perf_rc" = 0 ]; then
		perf report -i "$BENCH_OS_DIR/perf.data" --stdio --no-children \
			-n --sort symbol --percent-limit 0 -g none \
			> "$BENCH_OS_DIR/perf-report.txt" 2> "$BENCH_OS_DIR/perf-report.err"
		perf report -i "$BENCH_OS_DIR/perf.data" --stdio --children \
			-n --sort symbol --percent-limit 0 -g none \
			> "$BENCH_OS_DIR/perf-report-children.txt" \
			2>> "$BENCH_OS_DIR/perf-report.err"
		# A few MB per second of samples: the reports are what counts.
		rm -f "$BENCH_OS_DIR/perf.data"
	fi
	python3 "$here/offload_scale.py" row "$BENCH_OS_DIR" \
		"$BENCH_OS_SIZES" >> "$file" || return 1
	echo "offload-scale: $mode, $streams streams: measured" >&3
}

# Prints the sizes, in bytes, of what the e-switch model allocates per rule
# and of ovs-vswitchd's record of an offloaded stream (from the binaries'
# debug information, with gdb), as "NAME=SIZE ...", or nothing without gdb.
bench_os_model_sizes() {
	local t

	command -v gdb > /dev/null || return 0
	for t in rte_flow rte_flow_action rte_flow_action_ethdev \
		rte_flow_action_age rte_flow_action_handle; do
		echo -n "$t=$(timeout 60 gdb -batch -ex "p sizeof(struct $t)" \
			"$FP_ESWITCH" 2> /dev/null | sed -n 's/^\$1 = //p') "
	done
	for t in fold_offload fold_offload_conn; do
		echo -n "$t=$(timeout 120 gdb -batch -ex "p sizeof(struct $t)" \
			"$FP_BUILD/ovs/vswitchd/ovs-vswitchd" 2> /dev/null |
			sed -n 's/^\$1 = //p') "
	done
	echo
}

# Runs each mode of MODES at each number of streams of LIST and writes
# offload-scale.jsonl, offload-scale.json, offload-scale.md and a plot in
# OUT.
# Usage: bench_offload_scale MODES LIST OUT
bench_offload_scale() {
	local modes=$1 list=$2 out=$3 mode streams rc=0

	: > "$out/offload-scale.jsonl"
	BENCH_OS_SIZES=$(bench_os_model_sizes)
	for streams in ${list//,/ }; do
		for mode in ${modes//,/ }; do
			echo "offload-scale: $mode, $streams streams"
			(
				# Everything this run starts stays off the PMD's
				# core (the sandbox pins ovs-vswitchd's other
				# threads and the generator to the host core).
				taskset -pc "$FP_SB_HOST_CORE" "$BASHPID" > /dev/null
				FP_SB_LOGDIR=$out/logs/offload-scale-$mode-$streams
				fp_hugepages_reserve $((FP_SB_SOCKET_MEM + FP_SB_VM_MEM)) ||
					echo "bench: only $(fp_hugepages_free_mb) MB of hugepages are free"
				bench_os_run "$mode" "$streams" \
					"$out/offload-scale.jsonl"
			) 3>&1 >> "$out/logs.txt" 2>&1 || {
				echo "bench: that run failed; see $out/logs.txt" >&2
				tail -n 5 "$out/logs.txt" >&2
				rc=1
			}
		done
	done
	python3 "$here/offload_scale.py" report "$out" "$top" || return 1
	return $rc
}
