/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_PKTGEN_H_
#define _FP_PKTGEN_H_

/**
 * @file
 * VXLAN test traffic: deterministic streams of encapsulated frames.
 *
 * A stream is one inner 5-tuple. Stream s differs from stream 0 in its inner
 * source port and, past 64,512 streams, its inner source address; its outer
 * UDP source port is a hash of s, as a VTEP derives it from the inner flow.
 * Packet n of stream s carries a payload derived from (s, n), so the same
 * configuration always yields the same bytes.
 */

#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Smallest inner frame size (on the wire, with FCS). */
#define FP_PKTGEN_FRAME_MIN 64
/** Largest inner frame size (on the wire, with FCS). */
#define FP_PKTGEN_FRAME_MAX 1518
/** Bytes VXLAN over IPv4 adds in front of the inner frame. */
#define FP_PKTGEN_VXLAN4_OVERHEAD 50
/** Largest encapsulated frame fp_pktgen_build() writes. */
#define FP_PKTGEN_BUF_MAX (FP_PKTGEN_FRAME_MAX + FP_PKTGEN_VXLAN4_OVERHEAD)
/** Most streams a configuration may describe. */
#define FP_PKTGEN_STREAMS_MAX 1000000u

/** Inner transport protocol. */
enum fp_pktgen_proto {
	FP_PKTGEN_UDP,
	FP_PKTGEN_TCP, /**< Mid-stream segments: ACK set, no handshake. */
};

/** What to generate. Addresses and ports are in network byte order. */
struct fp_pktgen_conf {
	struct rte_ether_addr outer_src_mac; /**< Remote VTEP's MAC. */
	struct rte_ether_addr outer_dst_mac; /**< Local VTEP (br-phy) MAC. */
	rte_be32_t outer_src_ip;             /**< Remote VTEP. */
	rte_be32_t outer_dst_ip;             /**< Local VTEP. */
	rte_be16_t vxlan_port;               /**< Outer UDP destination. */
	uint32_t vni;                        /**< 24-bit VNI, host order. */
	struct rte_ether_addr inner_src_mac;
	struct rte_ether_addr inner_dst_mac;
	rte_be32_t inner_src_ip;             /**< Base; see the file comment. */
	rte_be32_t inner_dst_ip;
	rte_be16_t inner_dst_port;
	enum fp_pktgen_proto proto;
	uint16_t frame_size;  /**< Inner frame on the wire, FCS included. */
	uint32_t streams;     /**< Number of distinct streams, >= 1. */
};

/**
 * Fill a configuration with the defaults the OVS sandbox expects: remote
 * VTEP 172.31.1.2 to local VTEP 172.31.1.1 (MAC 02:00:00:00:00:01), VNI 100,
 * inner 10.0.0.1 -> 10.1.0.1 UDP port 5001, 64-byte frames, one stream.
 *
 * @param conf
 *   Configuration to fill.
 */
void
fp_pktgen_conf_default(struct fp_pktgen_conf *conf);

/**
 * Check a configuration.
 *
 * @param conf
 *   Configuration to check.
 * @return
 *   NULL if it is valid, otherwise a static message saying what is wrong.
 */
const char *
fp_pktgen_conf_check(const struct fp_pktgen_conf *conf);

/**
 * Build one VXLAN-encapsulated frame.
 *
 * All checksums are valid (the outer UDP checksum is zero, as RFC 7348
 * recommends for IPv4).
 *
 * @param conf
 *   A configuration that fp_pktgen_conf_check() accepts.
 * @param stream
 *   Stream index, below conf->streams.
 * @param seq
 *   Packet number within the stream.
 * @param buf
 *   Destination buffer.
 * @param size
 *   Size of buf; FP_PKTGEN_BUF_MAX is always enough.
 * @param inner_offset
 *   If not NULL, receives the offset of the inner Ethernet header in buf.
 * @return
 *   The frame length (without FCS), or -EINVAL for a bad stream index or
 *   -ENOSPC if buf is too small.
 */
int
fp_pktgen_build(const struct fp_pktgen_conf *conf, uint32_t stream,
		uint32_t seq, uint8_t *buf, size_t size, size_t *inner_offset);

#ifdef __cplusplus
}
#endif

#endif /* _FP_PKTGEN_H_ */
