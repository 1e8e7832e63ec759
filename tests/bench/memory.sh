# SPDX-License-Identifier: Apache-2.0
#
# The memory benchmark (tests/bench/run --memory): what one folded stream
# costs ovs-vswitchd, at N streams of the vxlan-ct pipeline (VXLAN ->
# tnl_pop -> ct(zone=1) firewall -> vhu0).
#
# For each N, two sandboxes, folding off and on, with the same traffic:
# fp-streamgen, live, as the uplink (a vhost-user port on br-phy), sending
# one packet of each of N TCP streams in turn, for ever. A pcap replay
# cannot hold 1,000,000 frames: it preloads them into OVS's mbuf pool,
# which has at most 262,144. In each sandbox:
#
#   M0  ovs-vswitchd's memory with the pipeline built and no traffic (the
#       uplink not yet added), folding configured;
#   M1  the same once N streams are established: conntrack holds N
#       connections and, with folding on, the fold cache holds N streams
#       that hit.
#
# Memory is the anonymous memory of the process: RssAnon of
# /proc/PID/status and Anonymous of /proc/PID/smaps_rollup (hugetlbfs
# pages, DPDK's mbufs and the vhost rings, are in neither). The EMC is off
# (emc-insert-inv-prob=0) in both sandboxes, so that its fixed 8,192 entries
# per PMD, which unfolded traffic would write, do not land in the delta.
#
#   conntrack share  (M1 - M0) with folding off: the connections, plus the
#                    few megaflows and the uplink port;
#   fold state       M1(on) - M1(off): the fold cache and the chains;
#   total            (M1 - M0) with folding on.
#
# Each divided by N. fold/show's own accounting (memory held, table) and
# conntrack's count times sizeof(struct conn_tcp) (from the binary's debug
# information, when gdb is there) are reported next to them.

# Prints the anonymous memory of PID in kB: "RssAnon Anonymous AnonHuge".
bench_mem_kb() {
	local pid=$1

	awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" | tr '\n' ' '
	awk '/^Anonymous:/ {a = $2} /^AnonHugePages:/ {h = $2}
		END {print a, h}' "/proc/$pid/smaps_rollup"
}

# Prints "streams hits" from fold/show ("0 0" with folding off).
bench_fold_counts() {
	fp_sb_appctl fold/show | awk '
		/^  streams: [0-9]/ { s += $2 }
		/^  hits: / { h += $2 }
		END { print s + 0, h + 0 }'
}

# Succeeds once the PMD's fold cache is empty and holds CAPACITY streams.
bench_fold_cache_is() {
	fp_sb_appctl fold/show | grep -q "^  streams: 0 of $1\$"
}

bench_ct_conns() {
	fp_sb_appctl dpctl/ct-get-nconns 2> /dev/null | tr -dc '0-9'
}

# Prints sizeof a type of ovs-vswitchd, from its debug information, or
# nothing.
bench_sizeof() {
	command -v gdb > /dev/null || return 0
	timeout 60 gdb -batch -ex "p sizeof($1)" "$FP_SB_VSWITCHD" 2> /dev/null |
		sed -n 's/^\$1 = //p'
}

# Runs one sandbox: folding DP (off or on) at STREAMS streams, fold
# capacity CAPACITY; appends one JSON line to FILE.
# Usage: bench_memory_run DP STREAMS CAPACITY FILE TIMEOUT
bench_memory_run() {
	local dp=$1 streams=$2 capacity=$3 file=$4 timeout=$5
	local pid m0 m1 want conns=0 folded=0 hits=0 started deadline next
	local line rate megaflows fold_mem

	fp_sb_start memory-$dp > /dev/null
	fp_sb_vsctl set Open_vSwitch . \
		other_config:fold-enable=$([ "$dp" = on ] && echo true || echo false) \
		other_config:fold-max-streams="$capacity" \
		other_config:emc-insert-inv-prob=0
	fp_sb_vm_start vm0 --rxonly
	fp_sb_tenant_network none --vm vm0
	bench_firewall
	# Room for every connection (the default limit is 3,000,000), once
	# the datapath exists.
	fp_sb_appctl dpctl/ct-set-maxconns $((streams * 2 + 100000)) > /dev/null ||
		fp_die "cannot set conntrack's limit"
	# Paced (--rate), every stream comes back every streams/rate seconds;
	# at full speed the uplink's ring overflows and drops whole bursts, so
	# that some streams go unseen for longer than the fold cache's idle
	# time (10 s) or conntrack's timeout.
	fp_sb_gen_start gen0 --streams "$streams" --packets 1 --size 64 \
		--proto tcp ${BENCH_MEM_RATE:+--rate "$BENCH_MEM_RATE"}
	pid=$(cat "$FP_SB_DIR/ovs-vswitchd.pid")
	# The PMD picks up the configuration (and creates its cache) at its
	# next periodic call: wait for fold/show to show it.
	if [ "$dp" = on ]; then
		fp_wait_for 30 "the fold cache of $capacity streams" \
			bench_fold_cache_is "$capacity" ||
			fp_die "the PMD did not create its fold cache"
	fi
	m0=$(bench_mem_kb "$pid")

	fp_sb_add_vhu_port br-phy dpdk0 gen0 1
	want=$((streams * 99 / 100))
	started=$SECONDS
	deadline=$((SECONDS + timeout))
	next=$SECONDS
	while :; do
		conns=$(bench_ct_conns)
		read -r folded hits <<< "$(bench_fold_counts)"
		if [ "${conns:-0}" -ge "$want" ] &&
			{ [ "$dp" = off ] || [ "$folded" -ge "$want" ]; }; then
			break
		fi
		if [ $SECONDS -ge "$next" ]; then
			rate=$(tail -n 1 "$FP_SB_DIR/gen0.log")
			echo "memory: $streams streams, folding $dp:" \
				"$((SECONDS - started)) s, ${conns:-0} connections," \
				"$folded folded, RssAnon $(bench_mem_kb "$pid" |
				cut -d' ' -f1) kB (${rate#fp-streamgen: })" >&3
			next=$((SECONDS + 10))
		fi
		if [ $SECONDS -ge "$deadline" ]; then
			echo "memory: gave up after ${timeout}s: ${conns:-0}" \
				"connections, $folded folded of $want wanted" >&3
			return 1
		fi
		sleep 1
	done
	m1=$(bench_mem_kb "$pid")
	# The figures are taken; these only describe the state.
	read -r folded hits <<< "$(bench_fold_counts)"
	conns=$(bench_ct_conns)
	megaflows=$(fp_sb_appctl dpctl/dump-flows | grep -c 'actions:')
	fold_mem=$(fp_sb_appctl fold/show | grep -E '^  (memory|table)' |
		sed 's/^  //' | tr '\n' '|')
	echo "memory: $streams streams, folding $dp: done in" \
		"$((SECONDS - started)) s: $conns connections, $folded folded," \
		"$hits fold hits" >&3
	if [ "$dp" = on ] && [ "$hits" -eq 0 ]; then
		echo "memory: the folded streams have no hits" >&3
		return 1
	fi
	mkdir -p "$FP_SB_LOGDIR"
	fp_sb_appctl fold/show > "$FP_SB_LOGDIR/fold-show.txt" 2>&1
	fp_sb_appctl memory/show > "$FP_SB_LOGDIR/memory-show.txt" 2>&1
	python3 - "$fold_mem" <<-EOF >> "$file"
	import json, sys
	m0 = "$m0".split()
	m1 = "$m1".split()
	print(json.dumps({
	    "datapath": "$dp", "streams": $streams, "capacity": $capacity,
	    "seconds": $((SECONDS - started)),
	    "conns": $conns, "folded": $folded, "fold_hits": $hits,
	    "megaflows": $megaflows,
	    "rss_anon_kb": [int(m0[0]), int(m1[0])],
	    "anonymous_kb": [int(m0[1]), int(m1[1])],
	    "anon_huge_kb": [int(m0[2]), int(m1[2])],
	    "fold_show": [l for l in sys.argv[1].split("|") if l],
	    "sizeof_conn_tcp": int("$(bench_sizeof 'struct conn_tcp')" or 0),
	    "sizeof_fold_chain": int("$(bench_sizeof 'struct fold_chain')" or 0),
	    "sizeof_fold_guard": int("$(bench_sizeof 'struct fold_guard')" or 0),
	}))
	EOF
}

# Runs folding off then on at each number of streams of the list, and
# writes memory.jsonl and memory.md in OUT.
# Usage: bench_memory STREAMS-LIST CAPACITY OUT TIMEOUT
bench_memory() {
	local list=$1 capacity=$2 out=$3 timeout=$4 streams cap dp

	: > "$out/memory.jsonl"
	for streams in ${list//,/ }; do
		cap=$capacity
		[ -n "$cap" ] ||
			cap=$(( streams > 131072 ? streams * 2 : 131072 ))
		for dp in off on; do
			echo "memory: $streams streams, folding $dp, fold capacity $cap"
			(
				FP_SB_LOGDIR=$out/logs/memory-$streams-$dp
				fp_hugepages_reserve $((FP_SB_SOCKET_MEM + 2 * FP_SB_VM_MEM)) ||
					echo "bench: only $(fp_hugepages_free_mb) MB of hugepages are free"
				bench_memory_run "$dp" "$streams" "$cap" \
					"$out/memory.jsonl" "$timeout"
			) 3>&1 >> "$out/logs.txt" 2>&1 || {
				echo "bench: that run failed; see $out/logs.txt" >&2
				tail -n 5 "$out/logs.txt" >&2
				return 1
			}
		done
	done
	python3 "$here/memory_report.py" "$out" "$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2-)"
}
