#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Once its streams are folded, traffic takes one datapath pass per packet:
# pmd-perf-show and pmd-stats-show report 1.00 passes per packet and count
# every packet as a fold hit, in both directions; the streams of one
# direction share one path.

. "$(dirname "$0")/fold.sh"

streams=16
packets=40

fp_sb_require_env
fold_start fold-passes on
fold_security_group

ingress=$FP_SB_DIR/ingress.pcap
egress=$FP_SB_DIR/egress.pcap
"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
	--out "$ingress" > /dev/null
"$FP_STREAMGEN" --plain --streams $streams --packets $packets --proto tcp \
	--inner-src 10.1.0.1 --inner-dst 10.0.0.1 \
	--inner-src-mac 02:00:00:00:02:01 --inner-dst-mac 02:00:00:00:01:01 \
	--out "$egress" > /dev/null

for dir in ingress egress; do
	pcap=$FP_SB_DIR/$dir.pcap
	# Learn: the first 8 packets of each stream.
	"$FP_SB_TOOLS/fp-pcap" slice "$pcap" "$pcap.learn" 0 $((streams * 8)) > /dev/null
	"$FP_SB_TOOLS/fp-pcap" slice "$pcap" "$pcap.folded" $((streams * 8)) > /dev/null
	fold_two_phases "$dir" "$pcap.learn" $streams

	fp_sb_pmd_stats_clear
	"fold_$dir" "$pcap.folded"
	n=$((streams * (packets - 8)))

	fp_check_eq "$dir: pmd-perf-show counts every packet" $n \
		"$(fp_sb_pmd_perf rx-packets)"
	fp_check_eq "$dir: one datapath pass per packet (pmd-perf-show)" \
		1.00 "$(fp_sb_pmd_perf passes-per-pkt)"
	stats=$(fp_sb_appctl dpif-netdev/pmd-stats-show -pmd $FP_SB_PMD_CORE)
	fp_check_eq "$dir: one datapath pass per packet (pmd-stats-show)" \
		1.00 "$(awk '/avg. datapath passes per packet/ {print $NF}' <<< "$stats")"
	fp_check_eq "$dir: every packet was a fold hit" $n \
		"$(awk '/fold hits:/ {print $NF}' <<< "$stats")"
	fp_check_eq "$dir: pmd-perf-show shows the fold hits" $n \
		"$(fp_sb_appctl dpif-netdev/pmd-perf-show | awk '/- Fold hits:/ {print $4}')"
done

# Streams through the same megaflows share one path, so their hits run as
# one batch: one path per direction.
fp_check_eq "both directions' streams are held" $((2 * streams)) \
	"$(fold_stat streams)"
fp_check_eq "the streams of a direction share one path" 2 \
	"$(fp_sb_appctl fold/show |
	   sed -n 's/.* bytes of \([0-9]*\) shared paths$/\1/p' |
	   awk '{ sum += $1 } END { print sum + 0 }')"
