/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_FLOW_H_
#define _FP_FLOW_H_

/**
 * @file
 * Translation of a folded stream into one rte_flow rule, and capability
 * probing of rule shapes.
 *
 * A folded stream is an exact-match key (struct fp_stream_key) plus what
 * the folded chain does to the packet: decapsulate VXLAN (ingress) or push
 * an outer header (egress), rewrite some fields, and send it to one port.
 * The translator builds the pattern and action arrays of the rule that
 * does the same in an SR-IOV e-switch; it knows nothing of Open vSwitch.
 *
 * Conntrack stays in software: the rule must let every TCP packet with
 * SYN, FIN or RST miss (FP_FLOW_CT_FLAGS masks those flags in the TCP item)
 * unless the NIC tracks the connection itself (FP_FLOW_CT_HW).
 *
 * Thread-safety
 * =============
 *
 * Translation keeps no state: fp_flow_translate(), fp_flow_rule_copy(),
 * fp_flow_rule_format(), fp_flow_encap_parse(), fp_flow_encap_set(),
 * fp_flow_hdr_from_layer() and fp_flow_rewrite_diff() may run in any
 * thread at once. A struct fp_flow_stream or fp_flow_rule belongs to its
 * caller.
 *
 * The probe cache (struct fp_flow_probe) is shared: in Open vSwitch, the
 * offload thread probes rule shapes and forgets removed ports, while the
 * main thread formats the cache for fold/offload-show. Every function on it
 * takes its mutex, so any thread may call any of them, except
 * fp_flow_probe_free(), which the last user calls once no thread uses the
 * cache. The mutex is not held across the PMD's rte_flow_validate():
 * two threads that probe the same port and shape at once may both
 * validate it, and the last verdict is kept.
 *
 * The connection-handle calls (fp_flow_ct_*()) and the probes call
 * rte_flow, which serialises calls on a port whose PMD does not declare
 * RTE_ETH_DEV_FLOW_OPS_THREAD_SAFE. Who may update a handle, and when, is
 * the caller's protocol.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_flow.h>

#include "fp_pkt.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Which way a stream crosses the e-switch. */
enum fp_flow_dir {
	/** Uplink to a VF: match the VXLAN packet, decapsulate. */
	FP_FLOW_INGRESS = 0,
	/** VF representor to uplink: match the inner packet, encapsulate. */
	FP_FLOW_EGRESS = 1,
};

/** How the rule keeps software conntrack exact. */
enum fp_flow_ct_mode {
	/** TCP item with SYN|FIN|RST masked, spec 0: those packets miss. */
	FP_FLOW_CT_FLAGS = 0,
	/** CONNTRACK item (state valid) plus an indirect CONNTRACK action. */
	FP_FLOW_CT_HW = 1,
};

/* Rewrites of the (inner) packet, FP_FLOW_SET_* bits of 'rewrite'. */
#define FP_FLOW_SET_DL_SRC   0x0001 /**< SET_MAC_SRC. */
#define FP_FLOW_SET_DL_DST   0x0002 /**< SET_MAC_DST. */
#define FP_FLOW_SET_NW_SRC   0x0004 /**< SET_IPV4_SRC or SET_IPV6_SRC. */
#define FP_FLOW_SET_NW_DST   0x0008 /**< SET_IPV4_DST or SET_IPV6_DST. */
#define FP_FLOW_SET_TP_SRC   0x0010 /**< SET_TP_SRC. */
#define FP_FLOW_SET_TP_DST   0x0020 /**< SET_TP_DST. */
#define FP_FLOW_POP_VLAN     0x0040 /**< OF_POP_VLAN. */
#define FP_FLOW_PUSH_VLAN    0x0080 /**< OF_PUSH_VLAN + OF_SET_VLAN_VID/PCP. */
#define FP_FLOW_SET_TTL      0x0100 /**< SET_TTL (IPv4 TTL, IPv6 hops). */
/** The rewrites that change a stream's addresses or ports: with any of
 *  them, the rule's packets leave with another 5-tuple than the key's. */
#define FP_FLOW_SET_TUPLE (FP_FLOW_SET_NW_SRC | FP_FLOW_SET_NW_DST | \
			   FP_FLOW_SET_TP_SRC | FP_FLOW_SET_TP_DST)

/** Longest outer header an egress rule pushes (IPv6 + VLAN + VXLAN). */
#define FP_FLOW_MAX_ENCAP 128
/** Shortest outer header: Ethernet, IPv4 without options, UDP, VXLAN. */
#define FP_FLOW_MIN_ENCAP (14 + 20 + 8 + 8)

/** A folded stream, as the translator sees it. */
struct fp_flow_stream {
	enum fp_flow_dir dir;
	/**
	 * The fold key. Ingress: shape FP_PKT_SHAPE_VXLAN, layer[0] outer,
	 * layer[1] inner. Egress: shape FP_PKT_SHAPE_PLAIN, layer[0].
	 */
	struct fp_stream_key key;

	uint32_t rewrite;          /**< FP_FLOW_SET_* bits. */
	uint8_t set_dl_src[6];
	uint8_t set_dl_dst[6];
	uint8_t set_nw_src[16];    /**< IPv4 in the first 4 bytes. */
	uint8_t set_nw_dst[16];
	rte_be16_t set_tp_src;
	rte_be16_t set_tp_dst;
	rte_be16_t push_vlan_tci;  /**< With FP_FLOW_PUSH_VLAN (TPID 0x8100). */
	uint8_t set_ttl;

	/** Egress: the exact outer header the software path pushes. */
	uint8_t encap[FP_FLOW_MAX_ENCAP];
	uint16_t encap_len;

	/** Destination: REPRESENTED_PORT (a VF or the uplink). */
	uint16_t out_port;
	/** Use PORT_ID instead of REPRESENTED_PORT (older PMDs). */
	bool use_port_id;

	bool count;                /**< Add COUNT. */
	uint32_t age_timeout;      /**< Seconds for AGE, 0 for no AGE. */
	void *age_context;         /**< AGE context (reported by the PMD). */
	bool has_meter;            /**< Add METER with 'meter_id'. */
	uint32_t meter_id;

	enum fp_flow_ct_mode ct_mode;
	/** FP_FLOW_CT_HW: indirect CONNTRACK action of the connection. */
	struct rte_flow_action_handle *ct_handle;

	uint32_t priority;         /**< Rule priority (attr.priority). */
};

/**
 * The fields of a (inner) packet that a rule can rewrite, as a chain of
 * actions leaves them. Start from the stream's key with
 * fp_flow_hdr_from_layer(), apply the chain's sets, pushes and pops, and
 * turn the result into rewrites with fp_flow_rewrite_diff().
 */
struct fp_flow_hdr {
	uint8_t dl_src[6];
	uint8_t dl_dst[6];
	uint8_t nw_src[16];        /**< IPv4 in the first 4 bytes. */
	uint8_t nw_dst[16];
	rte_be16_t tp_src;
	rte_be16_t tp_dst;
	uint8_t ttl;               /**< IPv4 TTL or IPv6 hop limit. */
	bool vlan;                 /**< Has an 802.1Q tag. */
	rte_be16_t vlan_tci;       /**< The tag's TCI, if 'vlan'. */
};

#define FP_FLOW_MAX_ITEMS   12
#define FP_FLOW_MAX_ACTIONS 20

/** A translated rule: arrays ready for rte_flow_validate/create. */
struct fp_flow_rule {
	struct rte_flow_attr attr;
	struct rte_flow_item items[FP_FLOW_MAX_ITEMS];     /**< END-terminated. */
	struct rte_flow_action actions[FP_FLOW_MAX_ACTIONS]; /**< END-terminated. */
	unsigned int n_items;      /**< Not counting END. */
	unsigned int n_actions;    /**< Not counting END. */
	/** Shape of the rule: item and action names, without values. */
	char shape[160];

	/* Storage the arrays point into. */
	struct {
		struct rte_flow_item_eth eth[2], eth_mask[2];
		struct rte_flow_item_vlan vlan[2], vlan_mask[2];
		struct rte_flow_item_ipv4 ipv4[2], ipv4_mask[2];
		struct rte_flow_item_ipv6 ipv6[2], ipv6_mask[2];
		struct rte_flow_item_udp udp[2], udp_mask[2];
		struct rte_flow_item_tcp tcp, tcp_mask;
		struct rte_flow_item_vxlan vxlan, vxlan_mask;
		struct rte_flow_item_conntrack ct, ct_mask;
		struct rte_flow_action_set_mac mac_src, mac_dst;
		struct rte_flow_action_set_ipv4 ipv4_src, ipv4_dst;
		struct rte_flow_action_set_ipv6 ipv6_src, ipv6_dst;
		struct rte_flow_action_set_tp tp_src, tp_dst;
		struct rte_flow_action_set_ttl ttl;
		struct rte_flow_action_of_push_vlan push_vlan;
		struct rte_flow_action_of_set_vlan_vid vid;
		struct rte_flow_action_of_set_vlan_pcp pcp;
		struct rte_flow_action_raw_encap encap;
		uint8_t encap_data[FP_FLOW_MAX_ENCAP];
		struct rte_flow_action_ethdev port;
		struct rte_flow_action_port_id port_id;
		struct rte_flow_action_count count;
		struct rte_flow_action_age age;
		struct rte_flow_action_meter meter;
	} st;
};

/**
 * Translate a folded stream into one rule.
 *
 * The rule is a transfer rule. Ingress: pattern ETH / IPV4|IPV6 / UDP(dst)
 * / VXLAN(vni) / ETH [/ VLAN] / IPV4|IPV6 / TCP|UDP, exact on addresses,
 * ports and the VNI; actions VXLAN_DECAP, the rewrites, then the port,
 * COUNT, AGE and METER as asked. Egress: pattern ETH [/ VLAN] / IPV4|IPV6
 * / TCP|UDP; actions the rewrites, RAW_ENCAP, the port and COUNT.
 *
 * The rule points into its own storage: copy it with fp_flow_rule_copy(),
 * never with memcpy().
 *
 * @param s
 *   The stream.
 * @param r
 *   Filled in.
 * @param err
 *   Receives why a stream cannot be a rule ("ICMP is not offloaded", ...).
 * @param errlen
 *   Size of 'err'.
 * @return
 *   0, or -EINVAL for a malformed stream, -ENOTSUP for a stream a rule
 *   cannot express.
 */
int
fp_flow_translate(const struct fp_flow_stream *s, struct fp_flow_rule *r,
		  char *err, size_t errlen);

/**
 * Parse the outer header an egress rule would push: Ethernet, an optional
 * 802.1Q tag, IPv4 (options allowed) or IPv6 (no extension headers), UDP
 * and VXLAN, nothing before or after. The UDP ports and the VXLAN header
 * are not checked: any VXLAN port works, since the rule pushes the bytes
 * as they are.
 *
 * @param hdr
 *   The header, as the software path pushes it.
 * @param len
 *   Its length in bytes.
 * @param err
 *   On refusal, why ("an outer header that is not IPv4 or IPv6", ...);
 *   may be NULL.
 * @param errlen
 *   Size of 'err'.
 * @return
 *   The offset of the UDP header in 'hdr', or -EINVAL if the header is
 *   longer than FP_FLOW_MAX_ENCAP, shorter than FP_FLOW_MIN_ENCAP, not
 *   IPv4 or IPv6, has bytes between the IP header and UDP/VXLAN or after
 *   them (IP options whose length does not add up, IPv6 extension
 *   headers), or an IP protocol other than UDP.
 */
int
fp_flow_encap_parse(const uint8_t *hdr, size_t len, char *err, size_t errlen);

/**
 * Set a stream's encapsulation: check 'hdr' with fp_flow_encap_parse(),
 * copy it into 's->encap' and 's->encap_len', and write 'udp_src' as the
 * UDP source port of the copy (the one software gives the stream).
 *
 * @param s
 *   The stream; left unchanged on refusal.
 * @param hdr
 *   The outer header.
 * @param len
 *   Its length in bytes.
 * @param udp_src
 *   UDP source port, network order.
 * @param err
 *   On refusal, why, as fp_flow_encap_parse() says it; may be NULL.
 * @param errlen
 *   Size of 'err'.
 * @return
 *   0, or -EINVAL as fp_flow_encap_parse().
 */
int
fp_flow_encap_set(struct fp_flow_stream *s, const uint8_t *hdr, size_t len,
		  rte_be16_t udp_src, char *err, size_t errlen);

/**
 * Fill a header state with the fields of a stream's layer, before any
 * action: 'vlan' is set for any tag, 802.1ad included.
 *
 * @param h
 *   Filled in.
 * @param l
 *   The layer the rule matches and rewrites (the inner one for ingress).
 */
void
fp_flow_hdr_from_layer(struct fp_flow_hdr *h, const struct fp_pkt_layer *l);

/**
 * Turn what a chain of actions does to a packet into a stream's rewrites:
 * compare the layer the packet arrives with to the header state the
 * actions leave. Addresses are compared on 4 bytes for IPv4 and 16 for
 * IPv6. A tag that goes or changes pops; a tag that comes or changes
 * pushes 'after->vlan_tci' (both for a changed tag).
 *
 * @param before
 *   The layer as the key has it.
 * @param after
 *   The header state after the actions.
 * @param s
 *   The stream: the FP_FLOW_SET_* bits found are ORed into 's->rewrite'
 *   and their values set (set_dl_src, ..., push_vlan_tci); nothing else
 *   is touched.
 * @return
 *   The FP_FLOW_SET_* bits found.
 */
uint32_t
fp_flow_rewrite_diff(const struct fp_pkt_layer *before,
		     const struct fp_flow_hdr *after,
		     struct fp_flow_stream *s);

/** Copy a rule, fixing its pointers to its own storage. */
void
fp_flow_rule_copy(struct fp_flow_rule *dst, const struct fp_flow_rule *src);

/**
 * Format a rule as testpmd "flow create" syntax, for logs and display.
 *
 * @return
 *   The length of the whole text, as snprintf().
 */
int
fp_flow_rule_format(const struct fp_flow_rule *r, uint16_t port_id,
		    char *buf, size_t size);

/** Verdicts a probe remembers per port and shape. */
enum fp_flow_probe_verdict {
	FP_FLOW_PROBE_UNKNOWN = 0,
	FP_FLOW_PROBE_OK,
	FP_FLOW_PROBE_REJECTED,
};

/** Remembered rte_flow_validate() results, per port and rule shape. */
struct fp_flow_probe;

/** Create an empty probe cache. NULL on no memory. */
struct fp_flow_probe *
fp_flow_probe_create(void);

/** Free a probe cache. NULL is allowed. */
void
fp_flow_probe_free(struct fp_flow_probe *p);

/**
 * Check that 'port_id' takes rules of the shape of 'r'. The first call per
 * port and shape runs rte_flow_validate() with 'r'; later calls return the
 * remembered verdict without calling the PMD.
 *
 * @param err
 *   On rejection, the PMD's error text (rte_flow_error message, type and
 *   errno), remembered with the verdict.
 * @return
 *   0 if accepted, else the negative errno of the rejection.
 */
int
fp_flow_probe_check(struct fp_flow_probe *p, uint16_t port_id,
		    const struct fp_flow_rule *r, char *err, size_t errlen);

/**
 * Probe whether 'port_id' supports the CONNTRACK item and action, once per
 * port. The probe rule matches ETH / IPV4 / TCP / CONNTRACK and has an
 * indirect CONNTRACK action created and destroyed for the probe.
 *
 * @return
 *   FP_FLOW_CT_HW if supported, else FP_FLOW_CT_FLAGS; 'why' receives the
 *   reason when not supported.
 */
enum fp_flow_ct_mode
fp_flow_probe_ct(struct fp_flow_probe *p, uint16_t port_id, char *why,
		 size_t whylen);

/** Forget everything remembered about 'port_id' (port removed). */
void
fp_flow_probe_forget(struct fp_flow_probe *p, uint16_t port_id);

/**
 * Format the probe cache: one line per port and shape, with the verdict
 * and the error text. Lines start with 'indent'.
 *
 * @return
 *   Length of the whole text, as snprintf().
 */
int
fp_flow_probe_format(const struct fp_flow_probe *p, int port_id,
		     const char *indent, char *buf, size_t size);

/**
 * Create an indirect CONNTRACK action (a connection's handle) on 'port_id',
 * for transfer rules, from 'profile'.
 *
 * @return
 *   The handle, or NULL with the PMD's error text in 'err'.
 */
struct rte_flow_action_handle *
fp_flow_ct_create(uint16_t port_id,
		  const struct rte_flow_action_conntrack *profile, char *err,
		  size_t errlen);

/**
 * Read a connection handle's context (windows, direction, state).
 *
 * @return
 *   0, or a negative errno.
 */
int
fp_flow_ct_query(uint16_t port_id, struct rte_flow_action_handle *h,
		 struct rte_flow_action_conntrack *profile);

/**
 * Update a connection handle: with 'direction_only', only its direction
 * (is_original_dir, taken by the rules created next), else its whole
 * context but the direction.
 *
 * @return
 *   0, or a negative errno with the PMD's error text in 'err'.
 */
int
fp_flow_ct_update(uint16_t port_id, struct rte_flow_action_handle *h,
		  const struct rte_flow_action_conntrack *profile,
		  bool direction_only, char *err, size_t errlen);

/**
 * Destroy a connection handle.
 *
 * @return
 *   0, or a negative errno with the PMD's error text in 'err'.
 */
int
fp_flow_ct_destroy(uint16_t port_id, struct rte_flow_action_handle *h,
		   char *err, size_t errlen);

/** Name of a ct mode: "tcp-flags" or "hw-conntrack". */
const char *
fp_flow_ct_mode_name(enum fp_flow_ct_mode mode);

#ifdef __cplusplus
}
#endif

#endif /* _FP_FLOW_H_ */
