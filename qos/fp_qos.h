/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_QOS_H_
#define _FP_QOS_H_

/**
 * @file
 * Per-port meters for the DPDK datapath, on librte_meter.
 *
 * A profile (struct fp_qos_profile) says how a meter colours packets and
 * what happens to each colour:
 *
 * - algorithm: srTCM (RFC 2697: CIR, CBS, EBS), trTCM (RFC 2698: CIR, PIR,
 *   CBS, PBS) or RFC 4115 (CIR, EIR, CBS, EBS);
 * - unit: bits per second, bursts in bytes (a frame counts with its
 *   Ethernet header, without FCS, preamble or gap); or packets per second,
 *   bursts in packets;
 * - colour-blind, or colour-aware with the input colour taken from the
 *   packet's DSCP (fp_qos_dscp_color());
 * - per colour: pass, drop, or remark the DSCP.
 *
 * fp_qos_profile_parse() builds a profile from "key=value" pairs, such as
 * an OVS QoS row's other_config, and says in one sentence what is wrong
 * with a bad one.
 *
 * A meter (struct fp_qos_meter) is one rate for all the threads that use
 * it: a spinlock serialises fp_qos_meter_run(), taken once per burst, so
 * that the PMD threads polling the queues of one port, or the ports of one
 * VM, share one pair of token buckets. Accuracy is that of librte_meter;
 * the cost is one uncontended lock per burst (see README.rst for the
 * figures).
 *
 * Thread-safety: a profile is plain data. fp_qos_meter_run(),
 * fp_qos_meter_stats(), fp_qos_meter_reset_stats() and
 * fp_qos_meter_reconfigure() may be called from any thread at any time;
 * fp_qos_meter_free() only once no thread uses the meter (the caller's
 * RCU).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_meter.h>
#include <rte_spinlock.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Highest rate accepted in bits/s (400 Gbit/s). */
#define FP_QOS_MAX_BPS 400000000000ULL
/** Highest rate accepted in packets/s. */
#define FP_QOS_MAX_PPS 1000000000ULL
/** Largest burst accepted, in bytes or packets. */
#define FP_QOS_MAX_BURST 1000000000ULL

/** Metering algorithm. */
enum fp_qos_algorithm {
	FP_QOS_SRTCM,   /**< RFC 2697: CIR, CBS, EBS. */
	FP_QOS_TRTCM,   /**< RFC 2698: CIR, PIR, CBS, PBS. */
	FP_QOS_RFC4115, /**< RFC 4115: CIR, EIR, CBS, EBS. */
};

/** What rates and bursts count. */
enum fp_qos_unit {
	FP_QOS_BPS, /**< Rates in bits/s, bursts in bytes. */
	FP_QOS_PPS, /**< Rates in packets/s, bursts in packets. */
};

/** What happens to a packet of a colour. */
enum fp_qos_verb {
	FP_QOS_PASS,   /**< Forward it unchanged. */
	FP_QOS_DROP,   /**< Drop it. */
	FP_QOS_REMARK, /**< Forward it with its DSCP set (IP only). */
};

/** The action for one colour. */
struct fp_qos_action {
	enum fp_qos_verb verb;
	uint8_t dscp;          /**< For FP_QOS_REMARK, 0 to 63. */
};

/** A meter's configuration. */
struct fp_qos_profile {
	enum fp_qos_algorithm algorithm;
	enum fp_qos_unit unit;
	bool color_aware;      /**< Input colour from the DSCP. */
	uint64_t cir;          /**< Committed rate. */
	uint64_t cbs;          /**< Committed burst. */
	/** PIR (trTCM) or EIR (RFC 4115); 0 for srTCM. */
	uint64_t eir;
	/** EBS (srTCM, RFC 4115) or PBS (trTCM); may be 0 for srTCM and for
	 *  RFC 4115 without EIR. */
	uint64_t ebs;
	struct fp_qos_action action[RTE_COLORS]; /**< By enum rte_color. */
};

/** Counters of a meter. */
struct fp_qos_stats {
	uint64_t packets[RTE_COLORS]; /**< Packets metered, by colour. */
	uint64_t bytes[RTE_COLORS];   /**< Their bytes. */
	uint64_t dropped;             /**< Packets dropped by an action. */
	uint64_t remarked;            /**< Packets whose DSCP was set. */
	/** Offered and forwarded rate over the last complete window of about
	 *  one second, in the profile's unit (bits/s or packets/s); 0 until a
	 *  window completes. */
	uint64_t offered_rate;
	uint64_t passed_rate;
};

/** A meter. Create with fp_qos_meter_create(). */
struct fp_qos_meter {
	rte_spinlock_t lock;
	struct fp_qos_profile profile;
	union {
		struct rte_meter_srtcm_profile srtcm;
		struct rte_meter_trtcm_profile trtcm;
		struct rte_meter_trtcm_rfc4115_profile rfc4115;
	} prof;
	union {
		struct rte_meter_srtcm srtcm;
		struct rte_meter_trtcm trtcm;
		struct rte_meter_trtcm_rfc4115 rfc4115;
	} run;
	struct fp_qos_stats stats;
	uint64_t hz;           /**< TSC cycles per second. */
	uint64_t win_start;    /**< TSC of the current window's start. */
	uint64_t win_offered;  /**< Units offered in the window. */
	uint64_t win_passed;   /**< Units forwarded in the window. */
	/** Latest time a burst was metered: threads read the TSC before
	 *  taking the lock, so a later burst may carry an earlier time,
	 *  which librte_meter must never see (it would refill the buckets). */
	uint64_t last_tsc;
};

/**
 * Build a profile from "key=value" pairs. Keys (values are decimal):
 *
 * - algorithm: srtcm (default), trtcm or rfc4115;
 * - unit: bps (default) or pps;
 * - cir (required), cbs (required); ebs (srtcm, rfc4115); pir and pbs
 *   (trtcm, required); eir (rfc4115);
 * - color-mode: blind (default) or aware;
 * - green, yellow, red: pass, drop or remark:DSCP (defaults: pass, pass,
 *   drop).
 *
 * A burst must hold one frame of 'max_frame' bytes (bps), or one packet
 * (pps).
 *
 * @param keys
 *   The keys.
 * @param values
 *   Their values.
 * @param n
 *   Number of pairs.
 * @param max_frame
 *   Largest frame the port carries, in bytes (MTU plus Ethernet and VLAN
 *   headers).
 * @param profile
 *   Receives the profile; untouched on error.
 * @param err
 *   Receives a sentence naming the key and the problem; may be NULL.
 * @param err_size
 *   Size of 'err'.
 * @return
 *   0 on success; -EINVAL if a key is unknown, missing or bad.
 */
int
fp_qos_profile_parse(const char *const *keys, const char *const *values,
		     unsigned int n, unsigned int max_frame,
		     struct fp_qos_profile *profile, char *err,
		     size_t err_size);

/**
 * Write a profile back as "key=value" pairs separated by blanks, in the
 * syntax fp_qos_profile_parse() reads.
 *
 * @return
 *   The length of the whole text, as snprintf() returns.
 */
int
fp_qos_profile_format(const struct fp_qos_profile *profile, char *buf,
		      size_t size);

/**
 * Compare two profiles.
 *
 * @return
 *   True if they configure the same meter.
 */
bool
fp_qos_profile_equal(const struct fp_qos_profile *a,
		     const struct fp_qos_profile *b);

/**
 * Name an algorithm, a unit or a colour.
 */
const char *
fp_qos_algorithm_name(enum fp_qos_algorithm algorithm);
const char *
fp_qos_unit_name(enum fp_qos_unit unit);
const char *
fp_qos_color_name(enum rte_color color);

/**
 * Create a meter with full token buckets.
 *
 * @param profile
 *   A profile from fp_qos_profile_parse().
 * @param hz
 *   TSC cycles per second (rte_get_tsc_hz()); the times given to
 *   fp_qos_meter_run() count in these cycles.
 * @param now
 *   The current TSC.
 * @return
 *   The meter, or NULL with rte_errno set: EINVAL if librte_meter refuses
 *   the profile, ENOMEM.
 */
struct fp_qos_meter *
fp_qos_meter_create(const struct fp_qos_profile *profile, uint64_t hz,
		    uint64_t now);

/**
 * Give a meter a new profile. The token buckets restart full at the new
 * sizes; the counters are kept.
 *
 * @return
 *   0, or -EINVAL if librte_meter refuses the profile (the meter is then
 *   unchanged).
 */
int
fp_qos_meter_reconfigure(struct fp_qos_meter *meter,
			 const struct fp_qos_profile *profile, uint64_t now);

/**
 * Free a meter. NULL is allowed.
 */
void
fp_qos_meter_free(struct fp_qos_meter *meter);

/**
 * Copy a meter's counters.
 */
void
fp_qos_meter_stats(struct fp_qos_meter *meter, struct fp_qos_stats *stats);

/**
 * Zero a meter's counters.
 */
void
fp_qos_meter_reset_stats(struct fp_qos_meter *meter);

/*
 * Inline implementation of run-time methods.
 */

/**
 * Find the DSCP of an Ethernet frame: IPv4 or IPv6, behind up to two VLAN
 * tags, in the first segment.
 *
 * @param m
 *   The packet.
 * @param ipv6
 *   Set to whether the IP header is IPv6.
 * @return
 *   The IP header's offset in the first segment, or -1 if the frame is not
 *   IP or too short.
 */
static inline int
fp_qos_ip_offset(const struct rte_mbuf *m, bool *ipv6)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	uint32_t ofs = 2 * RTE_ETHER_ADDR_LEN;
	uint16_t type;
	int tags = 0;

	for (;;) {
		if (ofs + 2 > len)
			return -1;
		type = (uint16_t)(p[ofs] << 8 | p[ofs + 1]);
		ofs += 2;
		if ((type == RTE_ETHER_TYPE_VLAN ||
		     type == RTE_ETHER_TYPE_QINQ) && tags < 2) {
			ofs += 2;
			tags++;
			continue;
		}
		break;
	}
	if (type == RTE_ETHER_TYPE_IPV4 && ofs + 20 <= len &&
	    (p[ofs] >> 4) == 4) {
		*ipv6 = false;
		return (int)ofs;
	}
	if (type == RTE_ETHER_TYPE_IPV6 && ofs + 40 <= len &&
	    (p[ofs] >> 4) == 6) {
		*ipv6 = true;
		return (int)ofs;
	}
	return -1;
}

/**
 * Read a packet's DSCP.
 *
 * @return
 *   0 to 63, or -1 if the packet is not IP.
 */
static inline int
fp_qos_dscp_get(const struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	bool ipv6;
	int ofs = fp_qos_ip_offset(m, &ipv6);

	if (ofs < 0)
		return -1;
	if (ipv6)
		return ((p[ofs] & 0x0f) << 2) | (p[ofs + 1] >> 6);
	return p[ofs + 1] >> 2;
}

/**
 * Set a packet's DSCP, keeping its ECN bits, and update the IPv4 header
 * checksum incrementally (RFC 1624).
 *
 * @return
 *   True if the packet is IP (and was changed if its DSCP differed).
 */
static inline bool
fp_qos_dscp_set(struct rte_mbuf *m, uint8_t dscp)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	bool ipv6;
	int ofs = fp_qos_ip_offset(m, &ipv6);

	if (ofs < 0)
		return false;
	dscp &= 0x3f;
	if (ipv6) {
		p[ofs] = (uint8_t)((p[ofs] & 0xf0) | (dscp >> 2));
		p[ofs + 1] = (uint8_t)((p[ofs + 1] & 0x3f) | (dscp << 6));
	} else {
		uint16_t old_word = (uint16_t)(p[ofs] << 8 | p[ofs + 1]);
		uint16_t new_word;
		uint32_t sum;

		p[ofs + 1] = (uint8_t)((dscp << 2) | (p[ofs + 1] & 0x03));
		new_word = (uint16_t)(p[ofs] << 8 | p[ofs + 1]);
		/* HC' = ~(~HC + ~m + m') */
		sum = (uint16_t)~(p[ofs + 10] << 8 | p[ofs + 11]);
		sum += (uint16_t)~old_word;
		sum += new_word;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (uint16_t)~sum;
		p[ofs + 10] = (uint8_t)(sum >> 8);
		p[ofs + 11] = (uint8_t)sum;
	}
	return true;
}

/**
 * The input colour of a DSCP, for colour-aware meters (RFC 2597 drop
 * precedences): AF11, AF21, AF31, AF41 and everything else are green;
 * AF12, AF22, AF32, AF42 yellow; AF13, AF23, AF33, AF43 red.
 *
 * @param dscp
 *   0 to 63, or -1 (not IP: green).
 */
static inline enum rte_color
fp_qos_dscp_color(int dscp)
{
	/* AFxy = 8x + 2y, x in 1..4, y in 1..3. */
	if (dscp >= 10 && dscp <= 38 && (dscp & 1) == 0) {
		switch ((dscp & 7) >> 1) {
		case 2:
			return RTE_COLOR_YELLOW;
		case 3:
			return RTE_COLOR_RED;
		default:
			break;
		}
	}
	return RTE_COLOR_GREEN;
}

/* Colours one packet of 'units' units. */
static inline enum rte_color
fp_qos_meter_color(struct fp_qos_meter *m, uint64_t tsc, uint32_t units,
		   enum rte_color in)
{
	switch (m->profile.algorithm) {
	case FP_QOS_TRTCM:
		if (m->profile.color_aware)
			return rte_meter_trtcm_color_aware_check(&m->run.trtcm,
				&m->prof.trtcm, tsc, units, in);
		return rte_meter_trtcm_color_blind_check(&m->run.trtcm,
			&m->prof.trtcm, tsc, units);
	case FP_QOS_RFC4115:
		if (m->profile.color_aware)
			return rte_meter_trtcm_rfc4115_color_aware_check(
				&m->run.rfc4115, &m->prof.rfc4115, tsc, units,
				in);
		return rte_meter_trtcm_rfc4115_color_blind_check(
			&m->run.rfc4115, &m->prof.rfc4115, tsc, units);
	case FP_QOS_SRTCM:
	default:
		if (m->profile.color_aware)
			return rte_meter_srtcm_color_aware_check(&m->run.srtcm,
				&m->prof.srtcm, tsc, units, in);
		return rte_meter_srtcm_color_blind_check(&m->run.srtcm,
			&m->prof.srtcm, tsc, units);
	}
}

/* Closes the rate window if it is over. */
static inline void
fp_qos_meter_window(struct fp_qos_meter *m, uint64_t tsc)
{
	uint64_t elapsed = tsc - m->win_start;
	uint64_t scale = m->profile.unit == FP_QOS_BPS ? 8 : 1;

	if (elapsed < m->hz)
		return;
	m->stats.offered_rate = (uint64_t)((double)m->win_offered * scale *
					   m->hz / elapsed);
	m->stats.passed_rate = (uint64_t)((double)m->win_passed * scale *
					  m->hz / elapsed);
	m->win_start = tsc;
	m->win_offered = 0;
	m->win_passed = 0;
}

/**
 * Meter a burst: colour each packet, count it, and apply its colour's
 * action. The packets kept are moved to the front of 'pkts', in order.
 *
 * @param m
 *   The meter.
 * @param pkts
 *   The packets.
 * @param n
 *   How many.
 * @param tsc
 *   The current TSC (rte_rdtsc()).
 * @param free_dropped
 *   Free the packets dropped; if false, they are only left out of
 *   'pkts' (the caller holds them elsewhere, as OVS does when it does not
 *   steal a batch).
 * @return
 *   The number of packets kept.
 */
static inline uint16_t
fp_qos_meter_run(struct fp_qos_meter *m, struct rte_mbuf **pkts, uint16_t n,
		 uint64_t tsc, bool free_dropped)
{
	bool pps = m->profile.unit == FP_QOS_PPS;
	bool aware = m->profile.color_aware;
	uint16_t kept = 0, i;

	rte_spinlock_lock(&m->lock);
	if (tsc < m->last_tsc)
		tsc = m->last_tsc;
	m->last_tsc = tsc;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *pkt = pkts[i];
		uint32_t len = rte_pktmbuf_pkt_len(pkt);
		uint32_t units = pps ? 1 : len;
		enum rte_color in = aware ?
			fp_qos_dscp_color(fp_qos_dscp_get(pkt)) :
			RTE_COLOR_GREEN;
		enum rte_color color = fp_qos_meter_color(m, tsc, units, in);
		const struct fp_qos_action *act = &m->profile.action[color];

		m->stats.packets[color]++;
		m->stats.bytes[color] += len;
		m->win_offered += units;
		if (act->verb == FP_QOS_DROP) {
			m->stats.dropped++;
			if (free_dropped)
				rte_pktmbuf_free(pkt);
			continue;
		}
		if (act->verb == FP_QOS_REMARK && fp_qos_dscp_set(pkt, act->dscp))
			m->stats.remarked++;
		m->win_passed += units;
		pkts[kept++] = pkt;
	}
	fp_qos_meter_window(m, tsc);
	rte_spinlock_unlock(&m->lock);
	return kept;
}

#ifdef __cplusplus
}
#endif

#endif /* _FP_QOS_H_ */
