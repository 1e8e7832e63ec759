/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_vect.h>
#include <rte_vxlan.h>

#include "fp_pkt.h"

#define FP_PKT_IPV4_HLEN 20
#define FP_PKT_ICMP_HLEN 8
#define FP_PKT_VXLAN_FLAGS RTE_BE32(0x08000000) /* Only the I bit. */

_Static_assert(sizeof(struct fp_pkt_layer) == 64, "layer is one cache line");
_Static_assert(sizeof(struct fp_stream_key) == 144, "key layout");
_Static_assert(FP_STREAM_KEY_LEN_PLAIN % 16 == 0 &&
	       FP_STREAM_KEY_LEN_VXLAN % 16 == 0,
	       "fp_stream_key_equal() compares 16 bytes at a time");
_Static_assert(sizeof(struct fp_stream_ckey) == 64, "compact key layout");

static const char *const fp_pkt_verdict_names[FP_PKT_VERDICT_MAX] = {
	[FP_PKT_OK] = "ok",
	[FP_PKT_TRUNCATED] = "truncated",
	[FP_PKT_ETHERTYPE] = "ethertype",
	[FP_PKT_VLAN_STACK] = "vlan-stack",
	[FP_PKT_IP_VERSION] = "ip-version",
	[FP_PKT_IP_OPTIONS] = "ip-options",
	[FP_PKT_IP_LENGTH] = "ip-length",
	[FP_PKT_FRAGMENT] = "fragment",
	[FP_PKT_IPV6_EXT] = "ipv6-ext-header",
	[FP_PKT_L4_PROTO] = "l4-proto",
	[FP_PKT_L4_LENGTH] = "l4-length",
	[FP_PKT_ICMPV6_ND] = "icmpv6-nd",
	[FP_PKT_VXLAN] = "vxlan",
};

const char *
fp_pkt_verdict_name(enum fp_pkt_verdict verdict)
{
	if ((unsigned int)verdict >= FP_PKT_VERDICT_MAX)
		return "unknown";
	return fp_pkt_verdict_names[verdict];
}

/* Where a layer's L4 header is and how long it is, for the caller. */
struct fp_pkt_l4 {
	uint32_t ofs;
	uint32_t len;
};

static bool
fp_pkt_is_ipv6_ext(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_ESP:
	case IPPROTO_AH:
	case IPPROTO_DSTOPTS:
	case 135: /* Mobility. */
	case 139: /* HIP. */
	case 140: /* Shim6. */
	case 253: /* Experimental. */
	case 254:
		return true;
	default:
		return false;
	}
}

/* Parses the L4 header of a layer. 'l4' is its start and 'len' the length
 * the IP header gives it. */
static enum fp_pkt_verdict
fp_pkt_parse_l4(const uint8_t *l4, uint32_t len, bool ipv6,
		struct fp_pkt_layer *l)
{
	switch (l->nw_proto) {
	case IPPROTO_TCP: {
		const struct rte_tcp_hdr *tcp = (const void *)l4;
		uint32_t doff;
		uint16_t flags;

		if (len < sizeof(*tcp))
			return FP_PKT_L4_LENGTH;
		doff = (tcp->data_off >> 4) * 4;
		if (doff < sizeof(*tcp) || doff > len)
			return FP_PKT_L4_LENGTH;
		l->tp_src = tcp->src_port;
		l->tp_dst = tcp->dst_port;
		/* The 12 bits Open vSwitch calls tcp_flags, as a class. */
		flags = ((tcp->data_off & 0x0f) << 8) | tcp->tcp_flags;
		if (!(flags & FP_PKT_TCP_EXACT_FLAGS))
			flags &= RTE_TCP_ACK_FLAG;
		l->tcp_flags = rte_cpu_to_be_16(flags);
		return FP_PKT_OK;
	}
	case IPPROTO_UDP: {
		const struct rte_udp_hdr *udp = (const void *)l4;

		if (len < sizeof(*udp) ||
		    rte_be_to_cpu_16(udp->dgram_len) != len)
			return FP_PKT_L4_LENGTH;
		l->tp_src = udp->src_port;
		l->tp_dst = udp->dst_port;
		if (udp->dgram_cksum != 0)
			l->flags |= FP_PKT_F_UDP_CSUM;
		return FP_PKT_OK;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((l->nw_proto == IPPROTO_ICMPV6) != ipv6)
			return FP_PKT_L4_PROTO;
		if (len < FP_PKT_ICMP_HLEN)
			return FP_PKT_L4_LENGTH;
		/* Neighbour discovery carries fields a flow can match. */
		if (ipv6 && (l4[0] == 135 || l4[0] == 136))
			return FP_PKT_ICMPV6_ND;
		l->tp_src = rte_cpu_to_be_16(l4[0]);
		l->tp_dst = rte_cpu_to_be_16(l4[1]);
		return FP_PKT_OK;
	default:
		return FP_PKT_L4_PROTO;
	}
}

/* Parses one plain layer of 'len' bytes at 'p'. On success fills 'l', the
 * offsets of its IP and L4 headers and its Ethernet padding, and where its
 * L4 header is. */
static enum fp_pkt_verdict
fp_pkt_parse_layer(const uint8_t *p, uint32_t len, struct fp_pkt_layer *l,
		   uint16_t *l3_ofs, uint16_t *l4_ofs, uint16_t *l2_pad,
		   struct fp_pkt_l4 *l4)
{
	const struct rte_ether_hdr *eth = (const void *)p;
	uint32_t off = sizeof(*eth);
	uint32_t ip_end;
	rte_be16_t type;

	if (len < sizeof(*eth))
		return FP_PKT_TRUNCATED;
	memcpy(l->dl_dst, &eth->dst_addr, RTE_ETHER_ADDR_LEN);
	memcpy(l->dl_src, &eth->src_addr, RTE_ETHER_ADDR_LEN);
	type = eth->ether_type;
	if (type == RTE_BE16(RTE_ETHER_TYPE_VLAN) ||
	    type == RTE_BE16(RTE_ETHER_TYPE_QINQ)) {
		const struct rte_vlan_hdr *vlan = (const void *)(p + off);

		if (len < off + sizeof(*vlan))
			return FP_PKT_TRUNCATED;
		l->vlan_kind = type == RTE_BE16(RTE_ETHER_TYPE_VLAN) ?
			FP_PKT_VLAN_8021Q : FP_PKT_VLAN_8021AD;
		l->vlan_tci = vlan->vlan_tci;
		type = vlan->eth_proto;
		off += sizeof(*vlan);
		if (type == RTE_BE16(RTE_ETHER_TYPE_VLAN) ||
		    type == RTE_BE16(RTE_ETHER_TYPE_QINQ))
			return FP_PKT_VLAN_STACK;
	}
	l->dl_type = type;
	*l3_ofs = off;

	if (type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *ip = (const void *)(p + off);
		uint16_t frag;
		uint32_t tot;

		if (len < off + FP_PKT_IPV4_HLEN)
			return FP_PKT_TRUNCATED;
		if ((ip->version_ihl >> 4) != 4)
			return FP_PKT_IP_VERSION;
		if ((ip->version_ihl & 0x0f) < 5)
			return FP_PKT_IP_LENGTH;
		if ((ip->version_ihl & 0x0f) > 5)
			return FP_PKT_IP_OPTIONS;
		tot = rte_be_to_cpu_16(ip->total_length);
		if (tot < FP_PKT_IPV4_HLEN || off + tot > len)
			return FP_PKT_IP_LENGTH;
		frag = rte_be_to_cpu_16(ip->fragment_offset);
		if (frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
			return FP_PKT_FRAGMENT;
		if (frag & RTE_IPV4_HDR_DF_FLAG)
			l->flags |= FP_PKT_F_IPV4_DF;
		memcpy(l->src, &ip->src_addr, 4);
		memcpy(l->dst, &ip->dst_addr, 4);
		l->nw_proto = ip->next_proto_id;
		l->nw_tos = ip->type_of_service;
		l->nw_ttl = ip->time_to_live;
		l4->ofs = off + FP_PKT_IPV4_HLEN;
		ip_end = off + tot;
	} else if (type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		const struct rte_ipv6_hdr *ip6 = (const void *)(p + off);
		uint32_t vtc_flow;
		uint32_t plen;

		if (len < off + sizeof(*ip6))
			return FP_PKT_TRUNCATED;
		vtc_flow = rte_be_to_cpu_32(ip6->vtc_flow);
		if ((vtc_flow >> 28) != 6)
			return FP_PKT_IP_VERSION;
		plen = rte_be_to_cpu_16(ip6->payload_len);
		if (plen == 0 || off + sizeof(*ip6) + plen > len)
			return FP_PKT_IP_LENGTH;
		if (fp_pkt_is_ipv6_ext(ip6->proto))
			return FP_PKT_IPV6_EXT;
		memcpy(l->src, ip6->src_addr, 16);
		memcpy(l->dst, ip6->dst_addr, 16);
		l->ipv6_label = rte_cpu_to_be_32(vtc_flow & 0xfffff);
		l->nw_proto = ip6->proto;
		l->nw_tos = (vtc_flow >> 20) & 0xff;
		l->nw_ttl = ip6->hop_limits;
		l4->ofs = off + sizeof(*ip6);
		ip_end = l4->ofs + plen;
	} else {
		return FP_PKT_ETHERTYPE;
	}

	*l4_ofs = l4->ofs;
	*l2_pad = len - ip_end;
	l4->len = ip_end - l4->ofs;
	return fp_pkt_parse_l4(p + l4->ofs, l4->len,
			       type == RTE_BE16(RTE_ETHER_TYPE_IPV6), l);
}

/*
 * Zeroes a key. For 144 bytes, and without AVX, compilers turn memset()
 * into "rep stos", whose start-up alone cost more than the rest of a
 * two-layer parse (perf, 1,000 VXLAN streams: 80% of fp_pkt_parse()'s
 * samples); nine 16-byte stores cost a few cycles.
 */
static inline void
fp_stream_key_zero(struct fp_stream_key *key)
{
#if defined(RTE_ARCH_X86)
	__m128i *p = (__m128i *)(void *)key;
	const __m128i z = _mm_setzero_si128();

	RTE_BUILD_BUG_ON(sizeof(*key) != 9 * sizeof(__m128i));
	_mm_storeu_si128(p + 0, z);
	_mm_storeu_si128(p + 1, z);
	_mm_storeu_si128(p + 2, z);
	_mm_storeu_si128(p + 3, z);
	_mm_storeu_si128(p + 4, z);
	_mm_storeu_si128(p + 5, z);
	_mm_storeu_si128(p + 6, z);
	_mm_storeu_si128(p + 7, z);
	_mm_storeu_si128(p + 8, z);
#else
	memset(key, 0, sizeof(*key));
#endif
}

enum fp_pkt_verdict
fp_pkt_parse(const void *frame, uint32_t len, uint32_t in_port,
	     rte_be16_t vxlan_port, struct fp_stream_key *key,
	     struct fp_pkt_offsets *ofs)
{
	const uint8_t *p = frame;
	struct fp_pkt_offsets tmp;
	struct fp_pkt_layer *outer = &key->layer[0];
	const struct rte_vxlan_hdr *vxlan;
	enum fp_pkt_verdict v;
	struct fp_pkt_l4 l4;
	uint32_t inner;

	if (ofs == NULL)
		ofs = &tmp;
	fp_stream_key_zero(key);
	memset(ofs, 0, sizeof(*ofs));
	key->in_port = in_port;
	key->shape = FP_PKT_SHAPE_PLAIN;

	v = fp_pkt_parse_layer(p, len, outer, &ofs->l3, &ofs->l4,
			       &ofs->l2_pad, &l4);
	if (v != FP_PKT_OK || outer->nw_proto != IPPROTO_UDP ||
	    outer->tp_dst != vxlan_port)
		return v;

	/* VXLAN: header, then a whole inner frame in the UDP payload. */
	inner = l4.ofs + sizeof(struct rte_udp_hdr) + sizeof(*vxlan);
	if (l4.len < sizeof(struct rte_udp_hdr) + sizeof(*vxlan) +
		     sizeof(struct rte_ether_hdr))
		return FP_PKT_VXLAN;
	vxlan = (const void *)(p + l4.ofs + sizeof(struct rte_udp_hdr));
	if (vxlan->vx_flags != FP_PKT_VXLAN_FLAGS ||
	    (vxlan->vx_vni & RTE_BE32(0xff)) != 0)
		return FP_PKT_VXLAN;
	key->shape = FP_PKT_SHAPE_VXLAN;
	key->vxlan_flags = vxlan->vx_flags;
	key->vxlan_vni = vxlan->vx_vni;
	ofs->inner = inner;
	return fp_pkt_parse_layer(p + inner, l4.ofs + l4.len - inner,
				  &key->layer[1], &ofs->inner_l3,
				  &ofs->inner_l4, &ofs->inner_l2_pad, &l4);
}

uint32_t
fp_stream_key_hash(const struct fp_stream_key *key)
{
	return rte_hash_crc(key, fp_stream_key_len(key), 0);
}

uint32_t
fp_stream_key_flow_id(const struct fp_stream_key *key)
{
	const struct fp_pkt_layer *l =
		&key->layer[key->shape == FP_PKT_SHAPE_VXLAN ? 1 : 0];
	uint32_t id;

	/* Addresses, ports and protocol: tp_src/tp_dst are adjacent. */
	id = rte_hash_crc(l->src, sizeof(l->src) + sizeof(l->dst), key->in_port);
	id = rte_hash_crc_4byte(((uint32_t)l->tp_src << 16) | l->tp_dst, id);
	return rte_hash_crc_4byte(l->nw_proto, id);
}

static int
fp_pkt_layer_format(const struct fp_pkt_layer *l, char *buf, size_t size)
{
	char src[INET6_ADDRSTRLEN];
	char dst[INET6_ADDRSTRLEN];
	int af = l->dl_type == RTE_BE16(RTE_ETHER_TYPE_IPV6) ?
		AF_INET6 : AF_INET;
	char flags[16] = "";
	char vlan[16] = "";
	const char *proto;

	inet_ntop(af, l->src, src, sizeof(src));
	inet_ntop(af, l->dst, dst, sizeof(dst));
	switch (l->nw_proto) {
	case IPPROTO_TCP:
		proto = "tcp";
		snprintf(flags, sizeof(flags), " flags=%#05x",
			 rte_be_to_cpu_16(l->tcp_flags));
		break;
	case IPPROTO_UDP:
		proto = "udp";
		break;
	case IPPROTO_ICMP:
		proto = "icmp";
		break;
	default:
		proto = "icmp6";
		break;
	}
	if (l->vlan_kind != FP_PKT_VLAN_NONE)
		snprintf(vlan, sizeof(vlan), "vlan=%u ",
			 rte_be_to_cpu_16(l->vlan_tci) & 0xfff);
	return snprintf(buf, size, "%s%s>%s %s %u>%u%s", vlan, src, dst,
			proto, rte_be_to_cpu_16(l->tp_src),
			rte_be_to_cpu_16(l->tp_dst), flags);
}

int
fp_stream_key_format(const struct fp_stream_key *key, char *buf, size_t size)
{
	char outer[128];
	char inner[128];

	fp_pkt_layer_format(&key->layer[0], outer, sizeof(outer));
	if (key->shape != FP_PKT_SHAPE_VXLAN)
		return snprintf(buf, size, "in_port=%u %s", key->in_port,
				outer);
	fp_pkt_layer_format(&key->layer[1], inner, sizeof(inner));
	return snprintf(buf, size, "in_port=%u %s vni=%u | %s", key->in_port,
			outer, rte_be_to_cpu_32(key->vxlan_vni) >> 8, inner);
}

/* Tells whether layer 'l' of a parsed key is IPv4, and so fits the packed
 * layer of a compact key. */
static inline bool
fp_ckey_layer_fits(const struct fp_pkt_layer *l)
{
	return l->dl_type == RTE_BE16(RTE_ETHER_TYPE_IPV4);
}

static inline uint64_t
fp_ckey_rotl(uint64_t x, unsigned int r)
{
	return (x << r) | (x >> (64 - r));
}

/* Murmur3's 64-bit finaliser: every input bit reaches every output bit. */
static inline uint64_t
fp_ckey_fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/*
 * Fills 'ck' with the digest of 'key': two 64-bit lanes over its 8-byte
 * words, one mixing with additions and one with XORs, both with
 * multiplications and rotations. Not CRCs: the CRC32-C of one key under
 * any seed is its CRC under seed 0 XOR a constant of the seed and length,
 * so CRCs under four seeds are 32 bits, not 128, and keys that differ by
 * a multiple of the CRC polynomial (e.g. in an IPv6 address) share all
 * four. Each round is a bijection of its lane for a given word, so keys
 * that differ in one word never share a lane. Any two keys that share
 * both lanes are told apart by the full key, which the user keeps.
 */
static inline void
fp_ckey_digest(const struct fp_stream_key *key, struct fp_stream_ckey *ck)
{
	const uint8_t *p = (const uint8_t *)key;
	uint32_t n = fp_stream_key_len(key) / sizeof(uint64_t);
	uint64_t a = 0x9e3779b97f4a7c15ULL;
	uint64_t b = 0xc2b2ae3d27d4eb4fULL;
	uint64_t d[2];
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint64_t w;

		memcpy(&w, p + i * sizeof(w), sizeof(w));
		a = fp_ckey_rotl(a + w * 0xc2b2ae3d27d4eb4fULL, 31) *
			0x9e3779b185ebca87ULL;
		b = fp_ckey_rotl((b ^ w) * 0x165667b19e3779f9ULL, 27) +
			0x85ebca77c2b2ae63ULL;
	}
	d[0] = fp_ckey_fmix(a);
	d[1] = fp_ckey_fmix(b);
	memset(ck, 0, sizeof(*ck));
	ck->in_port = key->in_port;
	ck->kind = FP_CKEY_DIGEST;
	/* The 16 bytes from dl_dst on (dl_dst, dl_src, src). */
	memcpy(ck->dl_dst, d, sizeof(d));
}

bool
fp_stream_key_pack(const struct fp_stream_key *key, rte_be16_t vxlan_port,
		   struct fp_stream_ckey *ck)
{
	const struct fp_pkt_layer *o = &key->layer[0];
	const struct fp_pkt_layer *l;

	if (key->shape == FP_PKT_SHAPE_VXLAN) {
		l = &key->layer[1];
		if (!fp_ckey_layer_fits(o) || !fp_ckey_layer_fits(l) ||
		    o->vlan_kind != FP_PKT_VLAN_NONE ||
		    o->nw_proto != IPPROTO_UDP || o->tp_dst != vxlan_port ||
		    key->vxlan_flags != FP_PKT_VXLAN_FLAGS) {
			fp_ckey_digest(key, ck);
			return false;
		}
	} else {
		l = &key->layer[0];
		if (!fp_ckey_layer_fits(l)) {
			fp_ckey_digest(key, ck);
			return false;
		}
	}
	memset(ck, 0, sizeof(*ck));
	ck->in_port = key->in_port;
	memcpy(ck->dl_dst, l->dl_dst, RTE_ETHER_ADDR_LEN);
	memcpy(ck->dl_src, l->dl_src, RTE_ETHER_ADDR_LEN);
	memcpy(&ck->src, l->src, 4);
	memcpy(&ck->dst, l->dst, 4);
	ck->tp_src = l->tp_src;
	ck->tp_dst = l->tp_dst;
	ck->tcp_flags = l->tcp_flags;
	ck->vlan_tci = l->vlan_tci;
	ck->nw_proto = l->nw_proto;
	ck->nw_tos = l->nw_tos;
	ck->nw_ttl = l->nw_ttl;
	ck->flags = l->flags | (l->vlan_kind << 4);
	if (key->shape != FP_PKT_SHAPE_VXLAN) {
		ck->kind = FP_CKEY_PLAIN4;
		return true;
	}
	ck->kind = FP_CKEY_VXLAN4 | (o->flags << 4);
	memcpy(ck->vni, &key->vxlan_vni, 3);
	memcpy(ck->o_dl_dst, o->dl_dst, RTE_ETHER_ADDR_LEN);
	memcpy(ck->o_dl_src, o->dl_src, RTE_ETHER_ADDR_LEN);
	memcpy(&ck->o_src, o->src, 4);
	memcpy(&ck->o_dst, o->dst, 4);
	ck->o_tp_src = o->tp_src;
	ck->o_tos = o->nw_tos;
	ck->o_ttl = o->nw_ttl;
	return true;
}

bool
fp_stream_ckey_unpack(const struct fp_stream_ckey *ck, rte_be16_t vxlan_port,
		      struct fp_stream_key *key)
{
	uint8_t kind = ck->kind & FP_CKEY_KIND_MASK;
	struct fp_pkt_layer *l;

	if (kind != FP_CKEY_PLAIN4 && kind != FP_CKEY_VXLAN4)
		return false;
	fp_stream_key_zero(key);
	key->in_port = ck->in_port;
	if (kind == FP_CKEY_VXLAN4) {
		struct fp_pkt_layer *o = &key->layer[0];

		key->shape = FP_PKT_SHAPE_VXLAN;
		key->vxlan_flags = FP_PKT_VXLAN_FLAGS;
		memcpy(&key->vxlan_vni, ck->vni, 3);
		memcpy(o->dl_dst, ck->o_dl_dst, RTE_ETHER_ADDR_LEN);
		memcpy(o->dl_src, ck->o_dl_src, RTE_ETHER_ADDR_LEN);
		o->dl_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		memcpy(o->src, &ck->o_src, 4);
		memcpy(o->dst, &ck->o_dst, 4);
		o->tp_src = ck->o_tp_src;
		o->tp_dst = vxlan_port;
		o->nw_proto = IPPROTO_UDP;
		o->nw_tos = ck->o_tos;
		o->nw_ttl = ck->o_ttl;
		o->flags = ck->kind >> 4;
		l = &key->layer[1];
	} else {
		key->shape = FP_PKT_SHAPE_PLAIN;
		l = &key->layer[0];
	}
	memcpy(l->dl_dst, ck->dl_dst, RTE_ETHER_ADDR_LEN);
	memcpy(l->dl_src, ck->dl_src, RTE_ETHER_ADDR_LEN);
	l->dl_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	l->vlan_tci = ck->vlan_tci;
	memcpy(l->src, &ck->src, 4);
	memcpy(l->dst, &ck->dst, 4);
	l->tp_src = ck->tp_src;
	l->tp_dst = ck->tp_dst;
	l->tcp_flags = ck->tcp_flags;
	l->nw_proto = ck->nw_proto;
	l->nw_tos = ck->nw_tos;
	l->nw_ttl = ck->nw_ttl;
	l->flags = ck->flags & 0x0f;
	l->vlan_kind = ck->flags >> 4;
	return true;
}

uint32_t
fp_stream_ckey_hash(const struct fp_stream_ckey *ck)
{
	const uint8_t *p = (const uint8_t *)ck;
	uint32_t a = 0, b = 0x9e3779b9u;
	unsigned int i;

	/* Two chains of four CRC steps, the halves in parallel: half the
	 * latency of one chain of eight. (memcpy() loads: the key was just
	 * written field by field.) */
	for (i = 0; i < 4; i++) {
		uint64_t x, y;

		memcpy(&x, p + 8 * i, sizeof(x));
		memcpy(&y, p + 32 + 8 * i, sizeof(y));
		a = rte_hash_crc_8byte(x, a);
		b = rte_hash_crc_8byte(y, b);
	}
	return a ^ ((b << 13) | (b >> 19));
}

uint32_t
fp_stream_ckey_flow_id(const struct fp_stream_ckey *ck,
		       const struct fp_stream_key *key)
{
	uint8_t addrs[32] = { 0 };
	uint32_t id;

	if (fp_stream_ckey_is_digest(ck))
		return fp_stream_key_flow_id(key);
	/* As fp_stream_key_flow_id() does with the unpacked layer. */
	memcpy(addrs, &ck->src, 4);
	memcpy(addrs + 16, &ck->dst, 4);
	id = rte_hash_crc(addrs, sizeof(addrs), ck->in_port);
	id = rte_hash_crc_4byte(((uint32_t)ck->tp_src << 16) | ck->tp_dst, id);
	return rte_hash_crc_4byte(ck->nw_proto, id);
}

/* Zeroes a compact key: four 16-byte stores. */
static inline void
fp_ckey_zero(struct fp_stream_ckey *ck)
{
#if defined(RTE_ARCH_X86)
	__m128i *p = (__m128i *)(void *)ck;
	const __m128i z = _mm_setzero_si128();

	_mm_storeu_si128(p + 0, z);
	_mm_storeu_si128(p + 1, z);
	_mm_storeu_si128(p + 2, z);
	_mm_storeu_si128(p + 3, z);
#else
	memset(ck, 0, sizeof(*ck));
#endif
}

/* Bytes before the L4 header of an untagged IPv4 layer without options. */
#define FP_PKT_FAST_L4 (sizeof(struct rte_ether_hdr) + FP_PKT_IPV4_HLEN)

/* Checks, as fp_pkt_parse_layer() does, an untagged IPv4 layer without
 * options of 'len' bytes at 'p'. Returns the length its IP header gives
 * its L4 part, or -1 if the layer has another shape or fails a check. */
static inline int32_t
fp_pkt_fast_ip(const uint8_t *p, uint32_t len)
{
	const struct rte_ether_hdr *eth = (const void *)p;
	const struct rte_ipv4_hdr *ip = (const void *)(eth + 1);
	uint32_t tot;

	if (len < FP_PKT_FAST_L4 ||
	    eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    ip->version_ihl != 0x45)
		return -1;
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < FP_PKT_IPV4_HLEN || sizeof(*eth) + tot > len)
		return -1;
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG |
					   RTE_IPV4_HDR_OFFSET_MASK))
		return -1;
	return tot - FP_PKT_IPV4_HLEN;
}

/* Writes the layer fields of 'ck' from a layer at 'p' that
 * fp_pkt_fast_ip() accepted with 'l4len' bytes of L4, checking its L4
 * header as fp_pkt_parse_l4() does. Returns false if the L4 header is of
 * another protocol or fails a check. */
static inline bool
fp_pkt_fast_layer(const uint8_t *p, uint32_t l4len, struct fp_stream_ckey *ck)
{
	const struct rte_ipv4_hdr *ip =
		(const void *)(p + sizeof(struct rte_ether_hdr));
	const uint8_t *l4 = p + FP_PKT_FAST_L4;
	uint8_t flags = 0;

	switch (ip->next_proto_id) {
	case IPPROTO_TCP: {
		const struct rte_tcp_hdr *tcp = (const void *)l4;
		uint32_t doff;
		uint16_t tf;

		if (l4len < sizeof(*tcp))
			return false;
		doff = (tcp->data_off >> 4) * 4;
		if (doff < sizeof(*tcp) || doff > l4len)
			return false;
		ck->tp_src = tcp->src_port;
		ck->tp_dst = tcp->dst_port;
		tf = ((tcp->data_off & 0x0f) << 8) | tcp->tcp_flags;
		if (!(tf & FP_PKT_TCP_EXACT_FLAGS))
			tf &= RTE_TCP_ACK_FLAG;
		ck->tcp_flags = rte_cpu_to_be_16(tf);
		break;
	}
	case IPPROTO_UDP: {
		const struct rte_udp_hdr *udp = (const void *)l4;

		if (l4len < sizeof(*udp) ||
		    rte_be_to_cpu_16(udp->dgram_len) != l4len)
			return false;
		ck->tp_src = udp->src_port;
		ck->tp_dst = udp->dst_port;
		ck->tcp_flags = 0;
		if (udp->dgram_cksum != 0)
			flags |= FP_PKT_F_UDP_CSUM;
		break;
	}
	case IPPROTO_ICMP:
		if (l4len < FP_PKT_ICMP_HLEN)
			return false;
		ck->tp_src = rte_cpu_to_be_16(l4[0]);
		ck->tp_dst = rte_cpu_to_be_16(l4[1]);
		ck->tcp_flags = 0;
		break;
	default:
		return false;
	}
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_DF_FLAG))
		flags |= FP_PKT_F_IPV4_DF;
	/* Destination then source MAC, as in the frame. */
	memcpy(ck->dl_dst, p, 2 * RTE_ETHER_ADDR_LEN);
	ck->src = ip->src_addr;
	ck->dst = ip->dst_addr;
	ck->nw_proto = ip->next_proto_id;
	ck->nw_tos = ip->type_of_service;
	ck->nw_ttl = ip->time_to_live;
	ck->flags = flags;
	return true;
}

/*
 * Parses a frame of the shape most streams have straight into its packed
 * compact key: an untagged IPv4 frame without options carrying TCP, UDP or
 * ICMP, or such a frame in IPv4 VXLAN. Gives the key, offsets and verdict
 * that fp_pkt_parse() and fp_stream_key_pack() would, without the full
 * key. Returns FP_PKT_OK, or FP_PKT_VERDICT_MAX for a frame of another
 * shape or one that fails a check: fp_pkt_parse() then says why.
 */
static inline enum fp_pkt_verdict
fp_pkt_parse_fast(const uint8_t *p, uint32_t len, uint32_t in_port,
		  rte_be16_t vxlan_port, struct fp_stream_ckey *ck,
		  struct fp_pkt_offsets *ofs)
{
	const struct rte_vxlan_hdr *vx;
	uint32_t ip_end, inner, inner_len;
	int32_t l4len;

	l4len = fp_pkt_fast_ip(p, len);
	if (l4len < 0)
		return FP_PKT_VERDICT_MAX;
	fp_ckey_zero(ck);
	if (!fp_pkt_fast_layer(p, l4len, ck))
		return FP_PKT_VERDICT_MAX;
	ck->in_port = in_port;
	ip_end = FP_PKT_FAST_L4 + l4len;
	memset(ofs, 0, sizeof(*ofs));
	ofs->l3 = sizeof(struct rte_ether_hdr);
	ofs->l4 = FP_PKT_FAST_L4;
	ofs->l2_pad = len - ip_end;
	if (ck->nw_proto != IPPROTO_UDP || ck->tp_dst != vxlan_port) {
		ck->kind = FP_CKEY_PLAIN4;
		return FP_PKT_OK;
	}

	/* VXLAN: the outer layer moves to the o_ fields. */
	inner = FP_PKT_FAST_L4 + sizeof(struct rte_udp_hdr) + sizeof(*vx);
	if ((uint32_t)l4len < sizeof(struct rte_udp_hdr) + sizeof(*vx) +
			      sizeof(struct rte_ether_hdr))
		return FP_PKT_VERDICT_MAX;
	vx = (const void *)(p + FP_PKT_FAST_L4 + sizeof(struct rte_udp_hdr));
	if (vx->vx_flags != FP_PKT_VXLAN_FLAGS ||
	    (vx->vx_vni & RTE_BE32(0xff)) != 0)
		return FP_PKT_VERDICT_MAX;
	ck->kind = FP_CKEY_VXLAN4 | (ck->flags << 4);
	memcpy(ck->vni, &vx->vx_vni, 3);
	memcpy(ck->o_dl_dst, ck->dl_dst, 2 * RTE_ETHER_ADDR_LEN);
	ck->o_src = ck->src;
	ck->o_dst = ck->dst;
	ck->o_tp_src = ck->tp_src;
	ck->o_tos = ck->nw_tos;
	ck->o_ttl = ck->nw_ttl;
	inner_len = ip_end - inner;
	l4len = fp_pkt_fast_ip(p + inner, inner_len);
	if (l4len < 0 || !fp_pkt_fast_layer(p + inner, l4len, ck))
		return FP_PKT_VERDICT_MAX;
	ofs->inner = inner;
	ofs->inner_l3 = sizeof(struct rte_ether_hdr);
	ofs->inner_l4 = FP_PKT_FAST_L4;
	ofs->inner_l2_pad = inner_len - (FP_PKT_FAST_L4 + l4len);
	return FP_PKT_OK;
}

/* Parses one frame of a burst into a compact key: the fast parser for the
 * common shapes, else the full parser and a pack. */
static inline enum fp_pkt_verdict
fp_pkt_parse_one(const void *frame, uint32_t len, uint32_t in_port,
		 rte_be16_t vxlan_port, struct fp_stream_ckey *ckey,
		 struct fp_stream_key *key, struct fp_pkt_offsets *ofs)
{
	enum fp_pkt_verdict v;

	v = fp_pkt_parse_fast(frame, len, in_port, vxlan_port, ckey, ofs);
	if (v != FP_PKT_OK) {
		v = fp_pkt_parse(frame, len, in_port, vxlan_port, key, ofs);
		if (v == FP_PKT_OK)
			fp_stream_key_pack(key, vxlan_port, ckey);
	}
	return v;
}

unsigned int
fp_pkt_parse_burst(const void *const *frames, const uint32_t *lens,
		   unsigned int n, uint32_t in_port, rte_be16_t vxlan_port,
		   struct fp_stream_ckey *ckeys, struct fp_stream_key *keys,
		   struct fp_pkt_offsets *ofs, uint32_t *hashes,
		   uint8_t *verdicts)
{
	unsigned int parsed = 0;
	unsigned int i = 0;
	unsigned int j;

	/* Four frames at a time, with the next four's headers on the way. */
	for (; i + 4 <= n; i += 4) {
		for (j = i + 4; j < i + 8 && j < n; j++)
			rte_prefetch0(frames[j]);
		for (j = i; j < i + 4; j++)
			verdicts[j] = fp_pkt_parse_one(frames[j], lens[j],
						       in_port, vxlan_port,
						       &ckeys[j], &keys[j],
						       &ofs[j]);
	}
	for (; i < n; i++)
		verdicts[i] = fp_pkt_parse_one(frames[i], lens[i], in_port,
					       vxlan_port, &ckeys[i], &keys[i],
					       &ofs[i]);
	/* Hashed in a second loop: a key is written field by field, and
	 * reading it back in 8-byte words at once would wait for those
	 * stores to reach the cache (a failed store-to-load forward). */
	for (i = 0; i < n; i++) {
		if (verdicts[i] == FP_PKT_OK) {
			hashes[i] = fp_stream_ckey_hash(&ckeys[i]);
			parsed++;
		}
	}
	return parsed;
}
