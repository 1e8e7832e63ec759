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
#define FP_PKTGEN_IMIX_CYCLE 12

/* Simple IMIX: 7 x 64, 4 x 570, 1 x 1518 in every 12 packets. */
static const uint16_t fp_pktgen_imix[FP_PKTGEN_IMIX_CYCLE] = {
	64, 64, 64, 64, 64, 64, 64, 570, 570, 570, 570, 1518,
};

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
	conf->encap = true;
	conf->outer_src_mac = remote_vtep_mac;
	conf->outer_dst_mac = local_vtep_mac;
	memcpy(conf->outer_src.bytes, "\xac\x1f\x01\x02", 4);
	memcpy(conf->outer_dst.bytes, "\xac\x1f\x01\x01", 4);
	conf->vxlan_port = RTE_BE16(4789);
	conf->vni = 100;
	conf->vnis = 1;
	conf->inner_src_mac = inner_src_mac;
	conf->inner_dst_mac = inner_dst_mac;
	memcpy(conf->inner_src.bytes, "\x0a\x00\x00\x01", 4);
	memcpy(conf->inner_dst.bytes, "\x0a\x01\x00\x01", 4);
	conf->vlan = -1;
	conf->inner_dst_port = RTE_BE16(5001);
	conf->proto = FP_PKTGEN_UDP;
	conf->frame_size = FP_PKTGEN_FRAME_MIN;
	conf->streams = 1;
	conf->packets = 1;
	conf->sport_entropy = 1;
}

/* Bytes of inner L2, L3 and L4 headers. */
static uint16_t
fp_pktgen_inner_hlen(const struct fp_pktgen_conf *conf)
{
	return sizeof(struct rte_ether_hdr) +
		(conf->vlan >= 0 ? sizeof(struct rte_vlan_hdr) : 0) +
		(conf->inner_src.ipv6 ? sizeof(struct rte_ipv6_hdr) :
					sizeof(struct rte_ipv4_hdr)) +
		(conf->proto == FP_PKTGEN_TCP ? sizeof(struct rte_tcp_hdr) :
						sizeof(struct rte_udp_hdr));
}

const char *
fp_pktgen_conf_check(const struct fp_pktgen_conf *conf)
{
	uint16_t smallest = conf->frame_size == FP_PKTGEN_IMIX ?
		FP_PKTGEN_FRAME_MIN : conf->frame_size;

	if (conf->streams == 0 || conf->streams > FP_PKTGEN_STREAMS_MAX)
		return "the number of streams must be between 1 and 1000000";
	if (conf->packets == 0)
		return "the number of packets per stream must be at least 1";
	if (conf->sport_entropy == 0 || conf->sport_entropy > 16384)
		return "the source port entropy must be between 1 and 16384";
	if (conf->frame_size != FP_PKTGEN_IMIX &&
	    (conf->frame_size < FP_PKTGEN_FRAME_MIN ||
	     conf->frame_size > FP_PKTGEN_FRAME_MAX))
		return "the inner frame size must be between 64 and 1518 bytes";
	if (smallest - FP_ETHER_FCS_LEN < fp_pktgen_inner_hlen(conf))
		return "the inner frame size is too small for these headers "
		       "(IPv6 and a VLAN tag need more than 64 bytes)";
	if (conf->vni > 0xffffff || conf->vnis == 0 ||
	    conf->vni + conf->vnis - 1 > 0xffffff)
		return "the VNIs must fit in 24 bits";
	if (conf->vlan > 4095)
		return "the VLAN ID must be between 0 and 4095";
	if (conf->outer_src.ipv6 != conf->outer_dst.ipv6)
		return "the outer addresses must both be IPv4 or both IPv6";
	if (conf->inner_src.ipv6 != conf->inner_dst.ipv6)
		return "the inner addresses must both be IPv4 or both IPv6";
	if (conf->proto != FP_PKTGEN_UDP && conf->proto != FP_PKTGEN_TCP)
		return "unknown inner protocol";
	return NULL;
}

uint16_t
fp_pktgen_frame_size(const struct fp_pktgen_conf *conf, uint32_t stream,
		     uint32_t seq)
{
	if (conf->frame_size != FP_PKTGEN_IMIX)
		return conf->frame_size;
	return fp_pktgen_imix[(stream * 7u + seq) % FP_PKTGEN_IMIX_CYCLE];
}

/* murmur3's 32-bit finaliser: spreads consecutive indexes. */
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

/* TCP roles of forward packet 'seq'. */
static bool
fp_pktgen_is_syn(const struct fp_pktgen_conf *conf, uint32_t seq)
{
	return conf->tcp_handshake && seq == 0;
}

static bool
fp_pktgen_is_fin(const struct fp_pktgen_conf *conf, uint32_t seq)
{
	return conf->tcp_handshake && conf->packets >= 3 &&
		seq == conf->packets - 1;
}

/* Payload bytes forward packet 'seq' carries. */
static uint32_t
fp_pktgen_payload(const struct fp_pktgen_conf *conf, uint32_t stream,
		  uint32_t seq)
{
	if (conf->proto == FP_PKTGEN_TCP &&
	    (fp_pktgen_is_syn(conf, seq) || fp_pktgen_is_fin(conf, seq)))
		return 0;
	return fp_pktgen_frame_size(conf, stream, seq) - FP_ETHER_FCS_LEN -
		fp_pktgen_inner_hlen(conf);
}

/* Forward payload bytes of packets [0, end) of a stream: whole IMIX cycles
 * at once, so that it costs O(1) per packet. */
static uint64_t
fp_pktgen_bytes_before(const struct fp_pktgen_conf *conf, uint32_t stream,
		       uint32_t end)
{
	uint32_t cycle = conf->frame_size == FP_PKTGEN_IMIX ?
		FP_PKTGEN_IMIX_CYCLE : 1;
	uint64_t per_cycle = 0;
	uint64_t bytes;
	uint32_t j;

	for (j = 0; j < cycle; j++)
		per_cycle += fp_pktgen_frame_size(conf, stream, j) -
			FP_ETHER_FCS_LEN - fp_pktgen_inner_hlen(conf);
	bytes = per_cycle * (end / cycle);
	for (j = end - end % cycle; j < end; j++)
		bytes += fp_pktgen_frame_size(conf, stream, j) -
			FP_ETHER_FCS_LEN - fp_pktgen_inner_hlen(conf);
	/* The SYN and the FIN carry nothing. */
	if (fp_pktgen_is_syn(conf, 0) && end > 0)
		bytes -= fp_pktgen_frame_size(conf, stream, 0) -
			FP_ETHER_FCS_LEN - fp_pktgen_inner_hlen(conf);
	if (fp_pktgen_is_fin(conf, conf->packets - 1) &&
	    end > conf->packets - 1)
		bytes -= fp_pktgen_frame_size(conf, stream,
					      conf->packets - 1) -
			FP_ETHER_FCS_LEN - fp_pktgen_inner_hlen(conf);
	return bytes;
}

/* Fills in a TCP header for packet 'seq' of 'stream' in either direction. */
static void
fp_pktgen_tcp(const struct fp_pktgen_conf *conf, uint32_t stream,
	      uint32_t seq, bool reverse, struct rte_tcp_hdr *tcp)
{
	uint32_t isn_fwd = fp_pktgen_mix(stream * 2 + 1 + conf->seed);
	uint32_t isn_rev = fp_pktgen_mix(stream * 2 + 2 + conf->seed);
	uint32_t syn = conf->tcp_handshake ? 1 : 0;
	uint32_t sent;
	uint32_t acked;
	uint8_t flags;

	if (!reverse) {
		sent = isn_fwd + syn + fp_pktgen_bytes_before(conf, stream,
							      seq);
		acked = isn_rev + syn;
		if (fp_pktgen_is_syn(conf, seq)) {
			sent = isn_fwd;
			acked = 0;
			flags = RTE_TCP_SYN_FLAG;
		} else if (fp_pktgen_is_fin(conf, seq)) {
			flags = RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG;
		} else {
			flags = RTE_TCP_ACK_FLAG;
		}
	} else {
		sent = isn_rev + syn;
		acked = isn_fwd + syn + fp_pktgen_bytes_before(conf, stream,
							       seq + 1);
		if (fp_pktgen_is_syn(conf, seq)) {
			sent = isn_rev;
			acked = isn_fwd + 1;
			flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG;
		} else if (fp_pktgen_is_fin(conf, seq)) {
			acked += 1; /* The forward FIN. */
			flags = RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG;
		} else {
			flags = RTE_TCP_ACK_FLAG;
		}
	}
	tcp->sent_seq = rte_cpu_to_be_32(sent);
	tcp->recv_ack = rte_cpu_to_be_32(acked);
	tcp->data_off = (sizeof(*tcp) / 4) << 4;
	tcp->tcp_flags = flags;
	tcp->rx_win = RTE_BE16(65535);
	tcp->cksum = 0;
	tcp->tcp_urp = 0;
}

/* Address 'base' plus 'add' in its last 32 bits. */
static void
fp_pktgen_addr_add(const struct fp_pktgen_addr *base, uint32_t add,
		   uint8_t *out)
{
	size_t last = base->ipv6 ? 12 : 0;
	uint32_t word;

	memcpy(out, base->bytes, base->ipv6 ? 16 : 4);
	memcpy(&word, out + last, 4);
	word = rte_cpu_to_be_32(rte_be_to_cpu_32(word) + add);
	memcpy(out + last, &word, 4);
}

/* Writes the inner frame of packet 'seq' of 'stream' at 'frame' and
 * returns its length (without FCS). */
static uint16_t
fp_pktgen_inner(const struct fp_pktgen_conf *conf, uint32_t stream,
		uint32_t seq, bool reverse, uint8_t *frame)
{
	uint16_t len = fp_pktgen_frame_size(conf, stream, seq) -
		FP_ETHER_FCS_LEN;
	uint8_t *p = frame;
	uint8_t src[16];
	uint8_t dst[16];
	rte_be16_t sport = rte_cpu_to_be_16(FP_PKTGEN_SPORT_BASE +
					    stream % FP_PKTGEN_SPORTS);
	rte_be16_t dport = conf->inner_dst_port;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	uint32_t payload = reverse && conf->proto == FP_PKTGEN_TCP ? 0 :
		fp_pktgen_payload(conf, stream, seq);
	uint16_t l4_len;
	void *l3;
	void *l4;
	uint32_t i;

	fp_pktgen_addr_add(&conf->inner_src, stream / FP_PKTGEN_SPORTS, src);
	memcpy(dst, conf->inner_dst.bytes, 16);
	eth->dst_addr = reverse ? conf->inner_src_mac : conf->inner_dst_mac;
	eth->src_addr = reverse ? conf->inner_dst_mac : conf->inner_src_mac;
	p += sizeof(*eth);
	if (conf->vlan >= 0) {
		struct rte_vlan_hdr *vlan = (struct rte_vlan_hdr *)p;

		eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
		vlan->vlan_tci = rte_cpu_to_be_16(conf->vlan);
		vlan->eth_proto = conf->inner_src.ipv6 ?
			RTE_BE16(RTE_ETHER_TYPE_IPV6) :
			RTE_BE16(RTE_ETHER_TYPE_IPV4);
		p += sizeof(*vlan);
	} else {
		eth->ether_type = conf->inner_src.ipv6 ?
			RTE_BE16(RTE_ETHER_TYPE_IPV6) :
			RTE_BE16(RTE_ETHER_TYPE_IPV4);
	}

	l3 = p;
	p += conf->inner_src.ipv6 ? sizeof(struct rte_ipv6_hdr) :
				    sizeof(struct rte_ipv4_hdr);
	l4 = p;
	if (conf->proto == FP_PKTGEN_TCP) {
		fp_pktgen_tcp(conf, stream, seq, reverse, l4);
		((struct rte_tcp_hdr *)l4)->src_port = reverse ? dport : sport;
		((struct rte_tcp_hdr *)l4)->dst_port = reverse ? sport : dport;
		l4_len = sizeof(struct rte_tcp_hdr) + payload;
		p += sizeof(struct rte_tcp_hdr);
	} else {
		struct rte_udp_hdr *udp = l4;

		udp->src_port = reverse ? dport : sport;
		udp->dst_port = reverse ? sport : dport;
		l4_len = sizeof(*udp) + payload;
		udp->dgram_len = rte_cpu_to_be_16(l4_len);
		udp->dgram_cksum = 0;
		p += sizeof(*udp);
	}
	for (i = 0; i < payload; i++)
		p[i] = (uint8_t)(stream * 31u + seq * 7u + i + conf->seed);
	/* A frame shorter than the minimum is padded after the datagram. */
	memset(p + payload, 0, frame + len - (p + payload));

	if (conf->inner_src.ipv6) {
		struct rte_ipv6_hdr *ip6 = l3;

		memset(ip6, 0, sizeof(*ip6));
		ip6->vtc_flow = RTE_BE32(6u << 28);
		ip6->payload_len = rte_cpu_to_be_16(l4_len);
		ip6->proto = conf->proto == FP_PKTGEN_TCP ?
			IPPROTO_TCP : IPPROTO_UDP;
		ip6->hop_limits = 64;
		memcpy(ip6->src_addr, reverse ? dst : src, 16);
		memcpy(ip6->dst_addr, reverse ? src : dst, 16);
		if (conf->proto == FP_PKTGEN_TCP)
			((struct rte_tcp_hdr *)l4)->cksum =
				rte_ipv6_udptcp_cksum(ip6, l4);
		else
			((struct rte_udp_hdr *)l4)->dgram_cksum =
				rte_ipv6_udptcp_cksum(ip6, l4);
	} else {
		struct rte_ipv4_hdr *ip = l3;

		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + l4_len);
		ip->packet_id = rte_cpu_to_be_16((uint16_t)seq);
		ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = 64;
		ip->next_proto_id = conf->proto == FP_PKTGEN_TCP ?
			IPPROTO_TCP : IPPROTO_UDP;
		memcpy(&ip->src_addr, reverse ? dst : src, 4);
		memcpy(&ip->dst_addr, reverse ? src : dst, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		if (conf->proto == FP_PKTGEN_TCP)
			((struct rte_tcp_hdr *)l4)->cksum =
				rte_ipv4_udptcp_cksum(ip, l4);
		else
			((struct rte_udp_hdr *)l4)->dgram_cksum =
				rte_ipv4_udptcp_cksum(ip, l4);
	}
	return len;
}

int
fp_pktgen_build(const struct fp_pktgen_conf *conf, uint32_t stream,
		uint32_t seq, bool reverse, uint8_t *buf, size_t size,
		size_t *inner_offset)
{
	uint16_t inner_len = fp_pktgen_frame_size(conf, stream, seq) -
		FP_ETHER_FCS_LEN;
	bool v6 = conf->outer_src.ipv6;
	uint16_t l3_len = v6 ? sizeof(struct rte_ipv6_hdr) :
			       sizeof(struct rte_ipv4_hdr);
	uint16_t hlen = sizeof(struct rte_ether_hdr) + l3_len +
		sizeof(struct rte_udp_hdr) + sizeof(struct rte_vxlan_hdr);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct rte_udp_hdr *udp;
	struct rte_vxlan_hdr *vxlan;
	uint16_t udp_len;
	uint32_t vni;

	if (stream >= conf->streams || seq >= conf->packets)
		return -EINVAL;
	if (!conf->encap || reverse) {
		if (size < inner_len)
			return -ENOSPC;
		if (inner_offset != NULL)
			*inner_offset = 0;
		return fp_pktgen_inner(conf, stream, seq, reverse, buf);
	}
	if (size < (size_t)hlen + inner_len)
		return -ENOSPC;

	eth->dst_addr = conf->outer_dst_mac;
	eth->src_addr = conf->outer_src_mac;
	eth->ether_type = v6 ? RTE_BE16(RTE_ETHER_TYPE_IPV6) :
			       RTE_BE16(RTE_ETHER_TYPE_IPV4);
	udp = (struct rte_udp_hdr *)(buf + sizeof(*eth) + l3_len);
	vxlan = (struct rte_vxlan_hdr *)(udp + 1);
	fp_pktgen_inner(conf, stream, seq, false, (uint8_t *)(vxlan + 1));

	udp_len = sizeof(*udp) + sizeof(*vxlan) + inner_len;
	udp->src_port = rte_cpu_to_be_16(49152 +
		(fp_pktgen_mix(stream + 1 + conf->seed) +
		 seq % conf->sport_entropy) % 16384);
	udp->dst_port = conf->vxlan_port;
	udp->dgram_len = rte_cpu_to_be_16(udp_len);
	udp->dgram_cksum = 0;
	vni = conf->vni + stream % conf->vnis;
	vxlan->vx_flags = RTE_BE32(0x08000000); /* I flag: VNI is valid. */
	vxlan->vx_vni = rte_cpu_to_be_32(vni << 8);

	if (v6) {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);

		memset(ip6, 0, sizeof(*ip6));
		ip6->vtc_flow = RTE_BE32(6u << 28);
		ip6->payload_len = rte_cpu_to_be_16(udp_len);
		ip6->proto = IPPROTO_UDP;
		ip6->hop_limits = 64;
		memcpy(ip6->src_addr, conf->outer_src.bytes, 16);
		memcpy(ip6->dst_addr, conf->outer_dst.bytes, 16);
		udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip6, udp);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + udp_len);
		ip->packet_id = rte_cpu_to_be_16((uint16_t)seq);
		ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		memcpy(&ip->src_addr, conf->outer_src.bytes, 4);
		memcpy(&ip->dst_addr, conf->outer_dst.bytes, 4);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}

	if (inner_offset != NULL)
		*inner_offset = hlen;
	return hlen + inner_len;
}
