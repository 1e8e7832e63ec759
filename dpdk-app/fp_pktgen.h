/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_PKTGEN_H_
#define _FP_PKTGEN_H_

/**
 * @file
 * Test traffic: deterministic streams of VXLAN-encapsulated (or plain)
 * frames.
 *
 * A stream is one inner 5-tuple. Stream s differs from stream 0 in its inner
 * source port (1024 + s % 64512) and, past 64,512 streams, its inner source
 * address; its outer UDP source port is a hash of s, as a VTEP derives it
 * from the inner flow, and its VNI is the base VNI plus s % vnis. Packet n
 * of stream s is a function of (configuration, s, n) only: the same
 * configuration always yields the same bytes.
 *
 * Directions: "forward" frames go from the remote VM (behind the remote
 * VTEP) to the local VM; "reverse" frames are the local VM's answers, plain
 * (as the VM sends them, before encapsulation).
 *
 * TCP: without a handshake, every forward segment is a mid-stream ACK with
 * payload. With one, forward packet 0 is a SYN, the last is a FIN|ACK and
 * the others ACKs with payload; reverse packet 0 is the SYN|ACK, the last a
 * FIN|ACK and the others bare ACKs. Sequence and acknowledgement numbers
 * follow the bytes sent, so a stateful firewall accepts them when each
 * reverse packet n is sent after forward packet n.
 */

#include <stdbool.h>
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
/** frame_size value that selects the simple IMIX (7:4:1 of 64/570/1518). */
#define FP_PKTGEN_IMIX 0
/** Most bytes VXLAN over IPv6 adds in front of an inner frame. */
#define FP_PKTGEN_OVERHEAD_MAX 70
/** Largest frame fp_pktgen_build() writes. */
#define FP_PKTGEN_BUF_MAX (FP_PKTGEN_FRAME_MAX + FP_PKTGEN_OVERHEAD_MAX)
/** Most streams a configuration may describe. */
#define FP_PKTGEN_STREAMS_MAX 1000000u

/** Inner transport protocol. */
enum fp_pktgen_proto {
	FP_PKTGEN_UDP,
	FP_PKTGEN_TCP,
};

/** An IPv4 or IPv6 address. */
struct fp_pktgen_addr {
	bool ipv6;
	uint8_t bytes[16]; /**< IPv4 in the first 4 bytes. */
};

/** What to generate. Ports are in network byte order. */
struct fp_pktgen_conf {
	bool encap;                          /**< VXLAN, or plain frames. */
	struct rte_ether_addr outer_src_mac; /**< Remote VTEP's MAC. */
	struct rte_ether_addr outer_dst_mac; /**< Local VTEP (br-phy) MAC. */
	struct fp_pktgen_addr outer_src;     /**< Remote VTEP. */
	struct fp_pktgen_addr outer_dst;     /**< Local VTEP. */
	rte_be16_t vxlan_port;               /**< Outer UDP destination. */
	uint32_t vni;                        /**< First VNI, host order. */
	uint32_t vnis;                       /**< Number of VNIs, >= 1. */
	struct rte_ether_addr inner_src_mac; /**< Remote VM. */
	struct rte_ether_addr inner_dst_mac; /**< Local VM. */
	struct fp_pktgen_addr inner_src;     /**< Remote VM; see the file. */
	struct fp_pktgen_addr inner_dst;     /**< Local VM. */
	int vlan;                            /**< Inner 802.1Q VID, or -1. */
	rte_be16_t inner_dst_port;
	enum fp_pktgen_proto proto;
	bool tcp_handshake;                  /**< SYN first, FIN last. */
	uint16_t frame_size;  /**< Inner frame on the wire, or FP_PKTGEN_IMIX. */
	uint32_t streams;     /**< Number of distinct streams, >= 1. */
	uint32_t packets;     /**< Packets per stream, >= 1. */
	uint32_t sport_entropy; /**< Outer UDP source ports per stream, >= 1:
				 *   packet n uses the (n % sport_entropy)th. */
	uint32_t seed;        /**< Varies sequence numbers, payloads and
			       *   outer source ports; 0 by default. */
};

/**
 * Fill a configuration with the defaults the OVS sandbox expects: VXLAN
 * from remote VTEP 172.31.1.2 to local VTEP 172.31.1.1 (MAC
 * 02:00:00:00:00:01), VNI 100, inner 10.0.0.1 -> 10.1.0.1 UDP port 5001,
 * 64-byte frames, one stream of one packet.
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
 * Get the size on the wire (with FCS) of a packet's inner frame.
 *
 * @param conf
 *   A valid configuration.
 * @param stream
 *   Stream index.
 * @param seq
 *   Packet number within the stream.
 * @return
 *   The size, 64 to 1518.
 */
uint16_t
fp_pktgen_frame_size(const struct fp_pktgen_conf *conf, uint32_t stream,
		     uint32_t seq);

/**
 * Build one frame.
 *
 * All checksums are valid; an IPv4 outer UDP checksum is zero, as RFC 7348
 * recommends, and an IPv6 one is computed, as IPv6 requires.
 *
 * @param conf
 *   A configuration that fp_pktgen_conf_check() accepts.
 * @param stream
 *   Stream index, below conf->streams.
 * @param seq
 *   Packet number within the stream, below conf->packets.
 * @param reverse
 *   false for the forward frame (encapsulated if conf->encap), true for the
 *   local VM's plain reverse frame.
 * @param buf
 *   Destination buffer.
 * @param size
 *   Size of buf; FP_PKTGEN_BUF_MAX is always enough.
 * @param inner_offset
 *   If not NULL, receives the offset of the inner Ethernet header in buf
 *   (0 for plain frames).
 * @return
 *   The frame length (without FCS), or -EINVAL for a bad stream or packet
 *   index, or -ENOSPC if buf is too small.
 */
int
fp_pktgen_build(const struct fp_pktgen_conf *conf, uint32_t stream,
		uint32_t seq, bool reverse, uint8_t *buf, size_t size,
		size_t *inner_offset);

#ifdef __cplusplus
}
#endif

#endif /* _FP_PKTGEN_H_ */
