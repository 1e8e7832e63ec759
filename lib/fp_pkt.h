/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_PKT_H_
#define _FP_PKT_H_

/**
 * @file
 * Stream key: one fast parse of a raw frame into every header field that a
 * datapath pass could match.
 *
 * A frame is either "plain" (Ethernet, an optional 802.1Q/802.1ad tag,
 * IPv4 or IPv6, TCP, UDP, ICMP or ICMPv6) or "VXLAN": a plain IPv4 or IPv6
 * UDP frame to the VXLAN port whose payload is a valid VXLAN header and a
 * plain inner frame. The key holds, for each layer, the fields that Open
 * vSwitch's flow extraction reads (addresses, VLAN, protocol, TOS, TTL,
 * IPv6 flow label, ports or ICMP type and code, TCP flags), plus what the
 * tunnel metadata of a decapsulated frame derives from (outer DF bit and
 * UDP checksum presence, VXLAN flags and VNI). Every other byte of the key
 * is zero, so two frames of one stream have byte-identical keys.
 *
 * TCP flags are keyed as a class: the 12 bits Open vSwitch calls tcp_flags
 * if SYN, FIN or RST is set (FP_PKT_TCP_EXACT_FLAGS), and otherwise only
 * ACK. So the data segments of a connection, with or without PSH, URG,
 * ECE or CWR, have one key; a user of the key that depends on those
 * flags must check them in the frame.
 *
 * Anything the parser does not fully understand is refused with a reason
 * and must take the datapath's normal path: IP options, fragments, IPv6
 * extension headers, two VLAN tags, other EtherTypes or IP protocols, IPv6
 * neighbour discovery, malformed VXLAN, and truncated frames or
 * inconsistent lengths. It never reads past 'len'. The fold relies on the
 * refusal of fragments, in either layer: conntrack does not look for
 * fragments in a folded batch.
 *
 * Thread-safety: the parser keeps no state; any thread may call any
 * function at once, on frames and keys it owns.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#if defined(RTE_ARCH_X86)
#include <rte_vect.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Frame kinds. */
enum fp_pkt_shape {
	FP_PKT_SHAPE_PLAIN = 1, /**< One Ethernet/IP/L4 layer. */
	FP_PKT_SHAPE_VXLAN = 2, /**< Outer layer, VXLAN, inner layer. */
};

/** Why a frame was refused (0 means it was parsed). */
enum fp_pkt_verdict {
	FP_PKT_OK = 0,
	FP_PKT_TRUNCATED,       /**< A header runs past the frame. */
	FP_PKT_ETHERTYPE,       /**< Not IPv4 or IPv6. */
	FP_PKT_VLAN_STACK,      /**< More than one VLAN tag. */
	FP_PKT_IP_VERSION,      /**< Version field disagrees with EtherType. */
	FP_PKT_IP_OPTIONS,      /**< IPv4 header longer than 20 bytes. */
	FP_PKT_IP_LENGTH,       /**< IP length beyond the frame, or too short. */
	FP_PKT_FRAGMENT,        /**< IPv4 fragment. */
	FP_PKT_IPV6_EXT,        /**< IPv6 extension header. */
	FP_PKT_L4_PROTO,        /**< Not TCP, UDP, ICMP or ICMPv6. */
	FP_PKT_L4_LENGTH,       /**< Bad TCP data offset or UDP length. */
	FP_PKT_ICMPV6_ND,       /**< IPv6 neighbour solicitation/advert. */
	FP_PKT_VXLAN,           /**< Bad VXLAN header or UDP length. */
	FP_PKT_VERDICT_MAX,
};

/** TCP flags (host order) that a key keeps all the flags with. */
#define FP_PKT_TCP_EXACT_FLAGS 0x007 /**< FIN, SYN, RST. */

/** Layer flags. */
#define FP_PKT_F_IPV4_DF  0x01 /**< IPv4 Don't Fragment bit set. */
#define FP_PKT_F_UDP_CSUM 0x02 /**< UDP checksum field non-zero. */

/** VLAN tag kinds. */
#define FP_PKT_VLAN_NONE  0
#define FP_PKT_VLAN_8021Q 1 /**< TPID 0x8100. */
#define FP_PKT_VLAN_8021AD 2 /**< TPID 0x88a8. */

/**
 * One Ethernet/IP/L4 layer, as a datapath pass sees it. Multi-byte fields
 * are in network byte order, as in the frame. 64 bytes.
 */
struct fp_pkt_layer {
	uint8_t dl_dst[6];
	uint8_t dl_src[6];
	rte_be16_t dl_type;    /**< EtherType after the VLAN tag. */
	rte_be16_t vlan_tci;   /**< Raw TCI, 0 without a tag. */
	uint8_t src[16];       /**< IPv4 in the first 4 bytes, or IPv6. */
	uint8_t dst[16];
	rte_be32_t ipv6_label; /**< 20-bit flow label, 0 for IPv4. */
	rte_be16_t tp_src;     /**< Port, or ICMP type. */
	rte_be16_t tp_dst;     /**< Port, or ICMP code. */
	rte_be16_t tcp_flags;  /**< TCP flag class, 0 for non-TCP. */
	uint8_t nw_proto;
	uint8_t nw_tos;        /**< IPv4 TOS or IPv6 traffic class. */
	uint8_t nw_ttl;        /**< IPv4 TTL or IPv6 hop limit. */
	uint8_t flags;         /**< FP_PKT_F_*. */
	uint8_t vlan_kind;     /**< FP_PKT_VLAN_*. */
	uint8_t reserved;
};

/**
 * The stream key: exact match on everything a pass could match. 144
 * bytes, of which a plain frame uses the first FP_STREAM_KEY_LEN_PLAIN.
 */
struct fp_stream_key {
	uint32_t in_port;        /**< Datapath port the frame arrived on. */
	uint8_t shape;           /**< enum fp_pkt_shape. */
	uint8_t reserved[3];
	rte_be32_t vxlan_flags;  /**< VXLAN word 0, 0 for plain frames. */
	rte_be32_t vxlan_vni;    /**< VXLAN word 1 (VNI << 8). */
	struct fp_pkt_layer layer[2]; /**< [0] outermost, [1] VXLAN inner. */
} __rte_aligned(8);

/** Bytes of the key a plain frame uses. */
#define FP_STREAM_KEY_LEN_PLAIN (offsetof(struct fp_stream_key, layer[1]))
/** Bytes of the key a VXLAN frame uses. */
#define FP_STREAM_KEY_LEN_VXLAN (sizeof(struct fp_stream_key))

/** Kinds of compact key (the low nibble of fp_stream_ckey.kind). */
#define FP_CKEY_PLAIN4 1 /**< Plain IPv4 frame, packed. */
#define FP_CKEY_VXLAN4 2 /**< IPv4 VXLAN with an IPv4 inner frame, packed. */
#define FP_CKEY_DIGEST 3 /**< Any other frame: a digest of its full key. */
#define FP_CKEY_KIND_MASK 0x0f

/**
 * The compact stream key: 64 bytes, what a fold cache stores.
 *
 * The common shapes, a plain IPv4 frame and IPv4 VXLAN carrying an IPv4
 * frame without an outer VLAN tag, are packed losslessly: every field
 * of their fp_stream_key is here or implied (EtherType, IP protocol and
 * destination port of the outer layer, VXLAN flags), so two frames have
 * equal compact keys exactly when their full keys are equal, and
 * fp_stream_ckey_unpack() gives the full key back.
 *
 * Every other frame (IPv6 in either layer, an outer VLAN tag) gets a
 * digest: its port, kind FP_CKEY_DIGEST and 128 bits of hashes of its
 * full key. Unequal full keys may share a digest, so a user must keep
 * the full key of a digest entry and compare it on every hit.
 *
 * Multi-byte fields are in network byte order. The layer fields are the
 * inner layer of VXLAN, the only layer of a plain frame.
 */
struct fp_stream_ckey {
	uint32_t in_port;
	/** FP_CKEY_*, and in the high nibble the outer layer's flags
	 *  (FP_PKT_F_*) of VXLAN. */
	uint8_t kind;
	uint8_t vni[3];          /**< VXLAN VNI; 0 for plain frames. */
	uint8_t dl_dst[6];
	uint8_t dl_src[6];
	rte_be32_t src;
	rte_be32_t dst;
	rte_be16_t tp_src;
	rte_be16_t tp_dst;
	rte_be16_t tcp_flags;
	rte_be16_t vlan_tci;
	uint8_t nw_proto;
	uint8_t nw_tos;
	uint8_t nw_ttl;
	uint8_t flags;           /**< FP_PKT_F_*, and vlan_kind << 4. */
	/* The outer layer of VXLAN; zero for plain frames. */
	uint8_t o_dl_dst[6];
	uint8_t o_dl_src[6];
	rte_be32_t o_src;
	rte_be32_t o_dst;
	rte_be16_t o_tp_src;
	uint8_t o_tos;
	uint8_t o_ttl;
} __rte_aligned(8);

/**
 * Where the layers are, as Open vSwitch records them in a packet: offsets
 * from the start of the frame (inner ones from the start of the inner
 * frame) and the Ethernet padding after the IP datagram.
 */
struct fp_pkt_offsets {
	uint16_t l3;        /**< Outermost IP header. */
	uint16_t l4;        /**< Outermost L4 header. */
	uint16_t l2_pad;    /**< Bytes after the outermost IP datagram. */
	uint16_t inner;     /**< Inner Ethernet header (VXLAN), else 0. */
	uint16_t inner_l3;  /**< Inner IP header, from 'inner'. */
	uint16_t inner_l4;  /**< Inner L4 header, from 'inner'. */
	uint16_t inner_l2_pad;
	uint16_t reserved;
};

/**
 * Parse one frame into a stream key.
 *
 * @param frame
 *   Frame, starting at the Ethernet header.
 * @param len
 *   Frame length in bytes.
 * @param in_port
 *   Datapath port number, copied into the key.
 * @param vxlan_port
 *   UDP destination port (network order) that marks VXLAN, e.g. 4789.
 * @param key
 *   Key to fill. All of it is written, unused bytes with zeroes.
 * @param ofs
 *   If not NULL, receives the layer offsets.
 * @return
 *   FP_PKT_OK, or the reason the frame is not foldable.
 */
enum fp_pkt_verdict
fp_pkt_parse(const void *frame, uint32_t len, uint32_t in_port,
	     rte_be16_t vxlan_port, struct fp_stream_key *key,
	     struct fp_pkt_offsets *ofs);

/**
 * Parse a burst of frames into compact keys, and hash those that parse.
 *
 * @param frames
 *   Frames, starting at their Ethernet headers.
 * @param lens
 *   Their lengths.
 * @param n
 *   Number of frames.
 * @param in_port
 *   Datapath port they arrived on.
 * @param vxlan_port
 *   UDP destination port (network order) that marks VXLAN.
 * @param ckeys
 *   n compact keys to fill: for a frame that parses, what
 *   fp_stream_key_pack() makes of the key fp_pkt_parse() gives.
 * @param keys
 *   n full keys. keys[i] is filled when ckeys[i] is a digest; otherwise it
 *   may be left as it was: fp_stream_ckey_unpack() gives it.
 * @param ofs
 *   n offset records to fill.
 * @param hashes
 *   n hashes to fill (fp_stream_ckey_hash() of each parsed ckey).
 * @param verdicts
 *   n verdicts to fill.
 * @return
 *   The number of frames that parsed (verdict FP_PKT_OK).
 */
unsigned int
fp_pkt_parse_burst(const void *const *frames, const uint32_t *lens,
		   unsigned int n, uint32_t in_port, rte_be16_t vxlan_port,
		   struct fp_stream_ckey *ckeys, struct fp_stream_key *keys,
		   struct fp_pkt_offsets *ofs, uint32_t *hashes,
		   uint8_t *verdicts);

/**
 * Make the compact key of a full key.
 *
 * @param key
 *   A key filled by fp_pkt_parse().
 * @param vxlan_port
 *   The UDP port given to fp_pkt_parse().
 * @param ckey
 *   Filled, every byte: packed if the key's shape allows, else a digest.
 * @return
 *   true if packed, false for a digest.
 */
bool
fp_stream_key_pack(const struct fp_stream_key *key, rte_be16_t vxlan_port,
		   struct fp_stream_ckey *ckey);

/**
 * Get the full key back from a packed compact key.
 *
 * @param ckey
 *   A compact key of kind FP_CKEY_PLAIN4 or FP_CKEY_VXLAN4.
 * @param vxlan_port
 *   The UDP port it was packed with.
 * @param key
 *   Filled, every byte, as fp_pkt_parse() would have.
 * @return
 *   true, or false (key untouched) if ckey is a digest.
 */
bool
fp_stream_ckey_unpack(const struct fp_stream_ckey *ckey,
		      rte_be16_t vxlan_port, struct fp_stream_key *key);

/**
 * Hash a compact key (two CRC32-C chains, over its first and last 32
 * bytes, combined).
 *
 * @param ckey
 *   A compact key.
 * @return
 *   The hash.
 */
uint32_t
fp_stream_ckey_hash(const struct fp_stream_ckey *ckey);

/**
 * fp_stream_key_flow_id() of the full key behind a compact key.
 *
 * @param ckey
 *   A compact key.
 * @param key
 *   Its full key; read only if ckey is a digest.
 * @return
 *   fp_stream_key_flow_id() of the full key.
 */
uint32_t
fp_stream_ckey_flow_id(const struct fp_stream_ckey *ckey,
		       const struct fp_stream_key *key);

/**
 * Hash a key (CRC32-C over the bytes its shape uses).
 *
 * @param key
 *   A key filled by fp_pkt_parse().
 * @return
 *   The hash.
 */
uint32_t
fp_stream_key_hash(const struct fp_stream_key *key);

/**
 * Hash the stream a key belongs to, ignoring the TCP flags: frames of one
 * connection that differ only in flags have the same value.
 *
 * @param key
 *   A key filled by fp_pkt_parse().
 * @return
 *   A 32-bit stream identifier; unequal streams may collide.
 */
uint32_t
fp_stream_key_flow_id(const struct fp_stream_key *key);

/**
 * Get the verdict's name, for logs and statistics.
 *
 * @param verdict
 *   A verdict.
 * @return
 *   A static string such as "ip-options".
 */
const char *
fp_pkt_verdict_name(enum fp_pkt_verdict verdict);

/**
 * Format a key for humans, e.g.
 * "in_port=1 10.0.0.2>10.0.0.1 udp 50000>4789 vni=100 | 10.1.0.1>10.2.0.1
 *  tcp 1024>5001 flags=0x010".
 *
 * @param key
 *   A key filled by fp_pkt_parse().
 * @param buf
 *   Destination.
 * @param size
 *   Size of buf.
 * @return
 *   The length of the full string, as snprintf() returns.
 */
int
fp_stream_key_format(const struct fp_stream_key *key, char *buf, size_t size);

/* Inline implementation of run-time methods. */

/**
 * Get the number of key bytes a key's shape uses.
 *
 * @param key
 *   A key filled by fp_pkt_parse().
 * @return
 *   FP_STREAM_KEY_LEN_PLAIN or FP_STREAM_KEY_LEN_VXLAN.
 */
static inline uint32_t
fp_stream_key_len(const struct fp_stream_key *key)
{
	return key->shape == FP_PKT_SHAPE_VXLAN ?
		FP_STREAM_KEY_LEN_VXLAN : FP_STREAM_KEY_LEN_PLAIN;
}

/**
 * Compare two keys.
 *
 * @return
 *   true if they are byte for byte equal over the length they use.
 */
static inline bool
fp_stream_key_equal(const struct fp_stream_key *a,
		    const struct fp_stream_key *b)
{
	uint32_t len = fp_stream_key_len(a);

	if (a->shape != b->shape)
		return false;
#if defined(RTE_ARCH_X86)
	{
		/* Both key lengths are multiples of 16 bytes. */
		const __m128i_u *x = (const void *)a;
		const __m128i_u *y = (const void *)b;
		__m128i diff = _mm_setzero_si128();
		uint32_t i;

		for (i = 0; i < len / 16; i++)
			diff = _mm_or_si128(diff,
					    _mm_xor_si128(_mm_loadu_si128(&x[i]),
							  _mm_loadu_si128(&y[i])));
		/* SSE2 only: Open vSwitch builds this without SSE4.1. */
		return _mm_movemask_epi8(_mm_cmpeq_epi8(diff,
				_mm_setzero_si128())) == 0xffff;
	}
#else
	{
		const uint64_t *x = (const uint64_t *)a;
		const uint64_t *y = (const uint64_t *)b;
		uint64_t diff = 0;
		uint32_t i;

		for (i = 0; i < len / sizeof(uint64_t); i++)
			diff |= x[i] ^ y[i];
		return diff == 0;
	}
#endif
}

/**
 * Tell whether a compact key is a digest (see struct fp_stream_ckey).
 */
static inline bool
fp_stream_ckey_is_digest(const struct fp_stream_ckey *ckey)
{
	return (ckey->kind & FP_CKEY_KIND_MASK) == FP_CKEY_DIGEST;
}

/**
 * Compare two compact keys.
 *
 * @return
 *   true if their 64 bytes are equal.
 */
static inline bool
fp_stream_ckey_equal(const struct fp_stream_ckey *a,
		     const struct fp_stream_ckey *b)
{
#if defined(RTE_ARCH_X86)
	const __m128i_u *x = (const void *)a;
	const __m128i_u *y = (const void *)b;
	__m128i diff;

	diff = _mm_or_si128(_mm_xor_si128(_mm_loadu_si128(&x[0]),
					  _mm_loadu_si128(&y[0])),
			    _mm_xor_si128(_mm_loadu_si128(&x[1]),
					  _mm_loadu_si128(&y[1])));
	diff = _mm_or_si128(diff, _mm_xor_si128(_mm_loadu_si128(&x[2]),
						_mm_loadu_si128(&y[2])));
	diff = _mm_or_si128(diff, _mm_xor_si128(_mm_loadu_si128(&x[3]),
						_mm_loadu_si128(&y[3])));
	/* SSE2 only: Open vSwitch builds this without SSE4.1. */
	return _mm_movemask_epi8(_mm_cmpeq_epi8(diff,
			_mm_setzero_si128())) == 0xffff;
#else
	return memcmp(a, b, sizeof(*a)) == 0;
#endif
}

#ifdef __cplusplus
}
#endif

#endif /* _FP_PKT_H_ */
