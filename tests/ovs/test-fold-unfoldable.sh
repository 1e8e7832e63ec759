#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Traffic that cannot be folded takes today's path, untouched: it is
# delivered, and fold/show counts why it was not folded.
#   - A security group that also sends established packets to the
#     controller: the datapath runs a userspace action, so the chain is
#     refused ("action(userspace)").
#   - Tenant packets with IP options: the parser refuses them ("not parsed:
#     ip-options") before any lookup.

. "$(dirname "$0")/fold.sh"

streams=8
packets=12

fp_sb_require_env
fold_start fold-unfoldable on
fold_flows <<'FLOWS'
table=0,priority=100,in_port=10,ip,ct_state=-trk,actions=ct(zone=1,table=1)
table=0,priority=0,actions=drop
table=1,priority=100,ip,ct_state=+trk+new,actions=ct(commit,zone=1),output:20
table=1,priority=100,ip,ct_state=+trk+est,actions=controller(max_len=64),output:20
table=1,priority=0,actions=drop
FLOWS

pcap=$FP_SB_DIR/traffic.pcap
"$FP_STREAMGEN" --streams $streams --packets $packets --proto tcp \
	--out "$pcap" > /dev/null
fold_two_phases ingress "$pcap" $streams
echo "ok - all $((streams * packets)) packets of the controller pipeline were delivered"
show=$(fp_sb_appctl fold/show)
echo "$show"
fp_check "nothing was folded" grep -q "^  hits: 0 " <<< "$show"
fp_check "the chains were refused for their userspace action" \
	grep -qE "action\(userspace\)=[1-9]" <<< "$show"

# IP options, through the plain security group.
fold_security_group
opts=$FP_SB_DIR/options.pcap
"$FP_STREAMGEN" --streams $streams --packets $packets --proto udp \
	--inner-src 10.0.7.1 --out "$pcap.udp" > /dev/null
"$FP_SB_TOOLS/fp-pcap" rewrite "$pcap.udp" "$opts" ip-options > /dev/null
fold_ingress "$opts"
echo "ok - all $((streams * packets)) packets with IP options were delivered"
show=$(fp_sb_appctl fold/show)
fp_check_eq "they were refused by the parser" $((streams * packets)) \
	"$(grep -o 'ip-options=[0-9]*' <<< "$show" | cut -d= -f2)"
fp_check "and still nothing was folded" grep -q "^  hits: 0 " <<< "$show"
