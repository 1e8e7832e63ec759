#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# The patched daemon started by the harness answers foldpath/version with
# the Foldpath library it links and the DPDK it initialised.

. "$(dirname "$0")/sandbox.sh"

fp_sb_require_env "$FP_SB_SOCKET_MEM"
fp_sb_start foldpath-version

reply=$(fp_sb_appctl foldpath/version) || fp_die "foldpath/version failed"
echo "$reply"

version=$(meson introspect --projectinfo "$FP_BUILD" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
fp_check "line 1 is the Foldpath version of this build" \
	grep -qE "^Foldpath $version \(revision [^)]+\)$" <<< "$(sed -n 1p <<< "$reply")"

# The DPDK the daemon initialised, as OVS itself records it.
dpdk=$(fp_sb_vsctl get Open_vSwitch . dpdk_version | tr -d '"')
fp_check_eq "line 2 is the DPDK version OVS initialised" "$dpdk" \
	"$(sed -n 2p <<< "$reply")"
fp_check_eq "line 3 is the OVS version" "Open vSwitch 3.1.0" \
	"$(sed -n 3p <<< "$reply")"
fp_check "the version is logged at startup" \
	grep -q "foldpath|INFO|Foldpath $version " "$FP_SB_DIR/ovs-vswitchd.log"
