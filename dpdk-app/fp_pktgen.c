/* SPDX-License-Identifier: Apache-2.0 */

#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include "fp_pktgen.h"

#define FP_ETHER_FCS_LEN 4
#define FP_PKTGEN_SPORT_BASE 1024u
#define FP_PKTGEN_SPORTS (65536u - FP_PKTGEN_SPORT_BASE)

void
fp_pktgen_conf_default(struct fp_pktgen_conf *conf)
{
	static const struct rte_ether_addr remote_vtep_mac = {
		.addr_bytes = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 } };
	static const struct rte_ether_addr local_vtep_mac = {
		.addr_bytes = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 } };
	static const struct rte_ether_addr inner_src_mac = {
		.addr_bytes = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 } };
	static const struct rte_ether_addr inner_dst_mac = {
		.addr_bytes = { 0x02, 0x00, 0x00, 0x00, 0x02, 0x01 } };

	memset(conf, 0, sizeof(*conf));
	conf->outer_src_mac = remote_vtep_mac;
	conf->outer_dst_mac = local_vtep_mac;
	conf->outer_src_ip = RTE_BE32(RTE_IPV4(172, 31, 1, 2));
	conf->outer_dst_ip = RTE_BE32(RTE_IPV4(172, 31, 1, 1));
	conf->vxlan_port = RTE_BE16(4789);
	conf->vni = 100;
	conf->inner_src_mac = inner_src_mac;
	conf->inner_dst_mac = inner_dst_mac;
	conf->inner_src_ip = RTE_BE32(RTE_IPV4(10, 0, 0, 1));
	conf->inner_dst_ip = RTE_BE32(RTE_IPV4(10, 1, 0, 1));
	conf->inner_dst_port = RTE_BE16(5001);
	conf->proto = FP_PKTGEN_UDP;
	conf->frame_size = FP_PKTGEN_FRAME_MIN;
	conf->streams = 1;
}

const char *
fp_pktgen_conf_check(const struct fp_pktgen_conf *conf)
{
	if (conf->streams == 0 || conf->streams > FP_PKTGEN_STREAMS_MAX)
		return "the number of streams must be between 1 and 1000000";
	if (conf->frame_size < FP_PKTGEN_FRAME_MIN ||
	    conf->frame_size > FP_PKTGEN_FRAME_MAX)
		return "the inner frame size must be between 64 and 1518 bytes";
	if (conf->vni > 0xffffff)
		return "the VNI must fit in 24 bits";
	if (conf->proto != FP_PKTGEN_UDP && conf->proto != FP_PKTGEN_TCP)
		return "unknown inner protocol";
	return NULL;
}

/* Spreads consecutive stream indexes over the outer UDP source port range,
 * the way a VTEP hashes inner flows (murmur3's 32-bit finaliser). */
static uint32_t
fp_pktgen_mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

static void
fp_pktgen_ipv4(struct rte_ipv4_hdr *ip, rte_be32_t src, rte_be32_t dst,
	       uint8_t proto, uint16_t total_length, uint16_t id)
{
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(total_length);
	ip->packet_id = rte_cpu_to_be_16(id);
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/* Writes the inner frame of packet 'seq' of 'stream' at 'frame'; its length
 * is conf->frame_size minus the FCS. */
static void
fp_pktgen_inner(const struct fp_pktgen_conf *conf, uint32_t stream,
		uint32_t seq, uint8_t *frame)
{
	uint16_t len = conf->frame_size - FP_ETHER_FCS_LEN;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	uint8_t *l4 = (uint8_t *)(ip + 1);
	uint16_t l4_len = len - sizeof(*eth) - sizeof(*ip);
	uint16_t sport = FP_PKTGEN_SPORT_BASE + stream % FP_PKTGEN_SPORTS;
	rte_be32_t src = rte_cpu_to_be_32(rte_be_to_cpu_32(conf->inner_src_ip) +
					  stream / FP_PKTGEN_SPORTS);
	uint8_t *payload;
	uint16_t i;

	eth->dst_addr = conf->inner_dst_mac;
	eth->src_addr = conf->inner_src_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);

	if (conf->proto == FP_PKTGEN_TCP) {
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)l4;

		memset(tcp, 0, sizeof(*tcp));
		tcp->src_port = rte_cpu_to_be_16(sport);
		tcp->dst_port = conf->inner_dst_port;
		tcp->sent_seq = rte_cpu_to_be_32(1 + seq * 1000u);
		tcp->recv_ack = RTE_BE32(1);
		tcp->data_off = (sizeof(*tcp) / 4) << 4;
		tcp->tcp_flags = RTE_TCP_ACK_FLAG;
		tcp->rx_win = RTE_BE16(65535);
		payload = (uint8_t *)(tcp + 1);
	} else {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)l4;

		udp->src_port = rte_cpu_to_be_16(sport);
		udp->dst_port = conf->inner_dst_port;
		udp->dgram_len = rte_cpu_to_be_16(l4_len);
		udp->dgram_cksum = 0;
		payload = (uint8_t *)(udp + 1);
	}
	for (i = 0; payload + i < frame + len; i++)
		payload[i] = (uint8_t)(stream * 31u + seq * 7u + i);

	fp_pktgen_ipv4(ip, src, conf->inner_dst_ip,
		       conf->proto == FP_PKTGEN_TCP ? IPPROTO_TCP : IPPROTO_UDP,
		       len - sizeof(*eth), (uint16_t)seq);
	if (conf->proto == FP_PKTGEN_TCP) {
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)l4;

		tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
	} else {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)l4;

		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	}
}

int
fp_pktgen_build(const struct fp_pktgen_conf *conf, uint32_t stream,
		uint32_t seq, uint8_t *buf, size_t size, size_t *inner_offset)
{
	uint16_t inner_len = conf->frame_size - FP_ETHER_FCS_LEN;
	uint16_t total = inner_len + FP_PKTGEN_VXLAN4_OVERHEAD;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	struct rte_vxlan_hdr *vxlan = (struct rte_vxlan_hdr *)(udp + 1);

	if (stream >= conf->streams)
		return -EINVAL;
	if (size < total)
		return -ENOSPC;

	eth->dst_addr = conf->outer_dst_mac;
	eth->src_addr = conf->outer_src_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);

	udp->src_port = rte_cpu_to_be_16(49152 +
					 fp_pktgen_mix(stream + 1) % 16384);
	udp->dst_port = conf->vxlan_port;
	udp->dgram_len = rte_cpu_to_be_16(total - sizeof(*eth) - sizeof(*ip));
	udp->dgram_cksum = 0;

	vxlan->vx_flags = RTE_BE32(0x08000000); /* I flag: VNI is valid. */
	vxlan->vx_vni = rte_cpu_to_be_32(conf->vni << 8);

	fp_pktgen_ipv4(ip, conf->outer_src_ip, conf->outer_dst_ip,
		       IPPROTO_UDP, total - sizeof(*eth), (uint16_t)seq);
	fp_pktgen_inner(conf, stream, seq, (uint8_t *)(vxlan + 1));

	if (inner_offset != NULL)
		*inner_offset = FP_PKTGEN_VXLAN4_OVERHEAD;
	return total;
}
