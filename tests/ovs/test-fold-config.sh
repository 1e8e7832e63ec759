#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The fold keys and commands, as an operator uses them:
#   - fold/show reports the configuration and per-PMD counters;
#   - a bad value of fold-enable, fold-max-streams or fold-insert-after is
#     rejected with one WARN naming the key and the reason, shows up in
#     fold/show, and the old value stays in force;
#   - fold/dump shows each stream's chain of megaflows (ufids that
#     dpctl/dump-flows knows) and fold/flush empties the caches;
#   - fold-max-streams resizes the caches, and fold-enable=false stops
#     folding live (three passes per packet again), true resumes it;
#   - bad arguments get an error.

. "$(dirname "$0")/fold.sh"

streams=8
packets=16

fp_sb_require_env
fold_start fold-config on
fold_security_group

show() {
	fp_sb_appctl fold/show
}

fp_check "fold/show gives the defaults" grep -q \
	"^fold-enable=true fold-max-streams=131072 fold-insert-after=2 fold-ct-mode=exact$" \
	<<< "$(show)"

# Bad values.
log=$FP_SB_DIR/ovs-vswitchd.log
fp_sb_vsctl set Open_vSwitch . other_config:fold-max-streams=lots \
	other_config:fold-enable=maybe other_config:fold-insert-after=0 \
	other_config:fold-ct-mode=fast
fp_wait_log "$log" "other_config:fold-max-streams: 'lots' is not an integer from 1024 to 16777216; keeping 131072." 10 ||
	fp_die "no WARN for fold-max-streams"
fp_wait_log "$log" "other_config:fold-enable: 'maybe' is not true or false; keeping true." 10 ||
	fp_die "no WARN for fold-enable"
fp_wait_log "$log" "other_config:fold-insert-after: '0' is not an integer from 1 to 100; keeping 2." 10 ||
	fp_die "no WARN for fold-insert-after"
fp_wait_log "$log" "other_config:fold-ct-mode: 'fast' is not exact or flowtable; keeping exact." 10 ||
	fp_die "no WARN for fold-ct-mode"
echo "ok - each bad value is logged as a WARN naming the key"
out=$(show)
fp_check "the old values stay in force" grep -q \
	"^fold-enable=true fold-max-streams=131072 fold-insert-after=2 fold-ct-mode=exact$" <<< "$out"
fp_check "fold/show reports the errors" grep -q \
	"^fold-max-streams: 'lots' is not an integer" <<< "$out"
# Another reconfiguration does not repeat the warnings.
fp_sb_vsctl set Open_vSwitch . other_config:stats-update-interval=6000
fp_check_eq "one WARN per bad value" 1 \
	"$(grep -c "fold-max-streams: 'lots'" "$log")"
fp_sb_vsctl remove Open_vSwitch . other_config fold-max-streams \
	-- remove Open_vSwitch . other_config fold-enable \
	-- remove Open_vSwitch . other_config fold-insert-after \
	-- set Open_vSwitch . other_config:fold-ct-mode=flowtable
fp_check "the errors are gone once fixed" sh -c \
	"! $FP_SB_APPCTL -t $FP_SB_DIR/ovs-vswitchd.ctl fold/show | grep -q errors"
fp_check "fold-ct-mode=flowtable is in force" grep -q \
	"^fold-enable=true .* fold-ct-mode=flowtable$" <<< "$(show)"
fp_sb_vsctl remove Open_vSwitch . other_config fold-ct-mode
fp_check "and exact again once removed" grep -q \
	" fold-ct-mode=exact$" <<< "$(show)"

# Streams, dump and flush.
pcap=$FP_SB_DIR/traffic.pcap
"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
	--out "$pcap" > /dev/null
fold_two_phases ingress "$pcap" $streams
fp_check_eq "fold/show counts the streams" $streams "$(fold_stat streams)"
dump=$(fp_sb_appctl fold/dump)
echo "$dump" | head -6
fp_check_eq "fold/dump shows every stream" $streams \
	"$(grep -c '^  stream ' <<< "$dump")"
fp_check_eq "each with its three passes" $((3 * streams)) \
	"$(grep -c '^    pass [123]: ufid:' <<< "$dump")"
ufids=$(grep -o 'ufid:[0-9a-f-]*' <<< "$dump" | sort -u)
flows=$(fp_sb_appctl dpctl/dump-flows -m)
for u in $ufids; do
	grep -q "$u" <<< "$flows" || fp_die "$u is not a datapath flow"
done
echo "ok - its ufids are the datapath's megaflows ($(wc -w <<< "$ufids"))"
fp_check_eq "fold/dump -n limits the streams shown" 2 \
	"$(fp_sb_appctl fold/dump -n 2 | grep -c '^  stream ')"
fp_check "fold/flush says what it flushed" grep -q "flushed $streams streams" \
	<<< "$(fp_sb_appctl fold/flush)"
fp_check_eq "and the cache is empty" 0 "$(fold_stat streams)"

# Resizing.
fp_sb_vsctl set Open_vSwitch . other_config:fold-max-streams=2048
fp_wait_for 10 "the PMD to resize" sh -c \
	"$FP_SB_APPCTL -t $FP_SB_DIR/ovs-vswitchd.ctl fold/show | grep -q 'of 2048'" ||
	fp_die "fold-max-streams was not applied"
echo "ok - fold-max-streams resizes the cache"

# Off and on again, live.
more=$FP_SB_DIR/more.pcap
"$FP_STREAMGEN" --streams $streams --packets $((3 * packets)) --proto tcp \
	--out "$more" > /dev/null
fp_sb_pcap_slice "$more" "$more.1" $((streams * packets)) $((streams * packets))
fp_sb_pcap_slice "$more" "$more.2" $((2 * streams * packets))
fp_sb_vsctl set Open_vSwitch . other_config:fold-enable=false
fp_wait_for 10 "folding to stop" sh -c \
	"$FP_SB_APPCTL -t $FP_SB_DIR/ovs-vswitchd.ctl fold/show | grep -q 'folding is off'" ||
	fp_die "fold-enable=false was not applied"
fp_sb_pmd_stats_clear
fold_ingress "$more.1"
fp_check_eq "with fold-enable=false nothing is folded" 0 \
	"$(fp_sb_appctl dpif-netdev/pmd-perf-show | awk '/- Fold hits:/ {print $4}')"
fp_check_eq "and packets take three passes again" 3.00 \
	"$(fp_sb_pmd_perf passes-per-pkt)"
fp_sb_vsctl set Open_vSwitch . other_config:fold-enable=true
fp_wait_for 10 "folding to resume" sh -c \
	"$FP_SB_APPCTL -t $FP_SB_DIR/ovs-vswitchd.ctl fold/show | grep -q 'streams: 0 of'" ||
	fp_die "fold-enable=true was not applied"
fp_sb_pmd_stats_clear
fold_ingress "$more.2"
fp_check "with fold-enable=true folding resumes" test \
	"$(fp_sb_appctl dpif-netdev/pmd-perf-show | awk '/- Fold hits:/ {print $4}')" -gt 0

# Bad arguments.
for args in "fold/show -pmd 99" "fold/dump -n many" "fold/show nosuchdp" \
	    "fold/flush -pmd x"; do
	if out=$(fp_sb_appctl $args 2>&1); then
		fp_die "'$args' did not fail: $out"
	fi
	echo "ok - '$args' fails: $out"
done
