/* SPDX-License-Identifier: Apache-2.0 */

/* rte_flow_action_handle_*() are experimental in DPDK 22.11. */
#define ALLOW_EXPERIMENTAL_API 1

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_flow.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_vxlan.h>

#include "fp_flow.h"
#include "fp_text.h"

/* The packet states a hw-conntrack rule's CONNTRACK item looks at. */
#define FP_FLOW_CT_STATE_MASK (RTE_FLOW_CONNTRACK_PKT_STATE_VALID | \
	RTE_FLOW_CONNTRACK_PKT_STATE_CHANGED | \
	RTE_FLOW_CONNTRACK_PKT_STATE_INVALID | \
	RTE_FLOW_CONNTRACK_PKT_STATE_DISABLED | \
	RTE_FLOW_CONNTRACK_PKT_STATE_BAD)
#define FP_FLOW_TCP_CT_FLAGS (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG | \
			      RTE_TCP_RST_FLAG)
#define FP_FLOW_VXLAN_PORT 4789

/* Builder of a rule: appends items and actions, and their names to the
 * shape. */
struct fp_flow_build {
	struct fp_flow_rule *r;
	size_t shape_len;
	int err;
	char *errbuf;
	size_t errlen;
};

static void
fp_flow_fail(struct fp_flow_build *b, int err, const char *fmt, const char *arg)
{
	if (b->err == 0) {
		b->err = err;
		if (b->errbuf != NULL && b->errlen > 0)
			snprintf(b->errbuf, b->errlen, fmt, arg);
	}
}

static void
fp_flow_item(struct fp_flow_build *b, enum rte_flow_item_type type,
	     const char *name, const void *spec, const void *mask)
{
	struct fp_flow_rule *r = b->r;

	if (r->n_items >= FP_FLOW_MAX_ITEMS - 1) {
		fp_flow_fail(b, -EINVAL, "too many pattern items%s", "");
		return;
	}
	r->items[r->n_items].type = type;
	r->items[r->n_items].spec = spec;
	r->items[r->n_items].mask = mask;
	r->items[r->n_items].last = NULL;
	r->n_items++;
	fp_text_append(r->shape, sizeof(r->shape), &b->shape_len, "%s%s",
		       r->n_items > 1 ? "/" : "", name);
}

static void
fp_flow_action(struct fp_flow_build *b, enum rte_flow_action_type type,
	       const char *name, const void *conf)
{
	struct fp_flow_rule *r = b->r;

	if (r->n_actions >= FP_FLOW_MAX_ACTIONS - 1) {
		fp_flow_fail(b, -EINVAL, "too many actions%s", "");
		return;
	}
	r->actions[r->n_actions].type = type;
	r->actions[r->n_actions].conf = conf;
	r->n_actions++;
	fp_text_append(r->shape, sizeof(r->shape), &b->shape_len, "%s%s",
		       r->n_actions > 1 ? "/" : " -> ", name);
}

static bool
fp_flow_layer_ipv6(const struct fp_pkt_layer *l)
{
	return l->dl_type == RTE_BE16(RTE_ETHER_TYPE_IPV6);
}

/* Items of one Ethernet/[VLAN]/IP layer; 'outer' matches less. */
static void
fp_flow_layer_items(struct fp_flow_build *b, const struct fp_pkt_layer *l,
		    int i, bool outer)
{
	struct fp_flow_rule *r = b->r;

	memcpy(r->st.eth[i].hdr.dst_addr.addr_bytes, l->dl_dst, 6);
	memcpy(r->st.eth[i].hdr.src_addr.addr_bytes, l->dl_src, 6);
	memset(r->st.eth_mask[i].hdr.dst_addr.addr_bytes, 0xff, 6);
	if (!outer)
		memset(r->st.eth_mask[i].hdr.src_addr.addr_bytes, 0xff, 6);
	if (l->vlan_kind != 0) {
		r->st.eth[i].hdr.ether_type = RTE_BE16(RTE_ETHER_TYPE_VLAN);
		r->st.eth_mask[i].hdr.ether_type = RTE_BE16(0xffff);
		fp_flow_item(b, RTE_FLOW_ITEM_TYPE_ETH, "eth", &r->st.eth[i],
			     &r->st.eth_mask[i]);
		r->st.vlan[i].hdr.vlan_tci = l->vlan_tci;
		r->st.vlan[i].hdr.eth_proto = l->dl_type;
		r->st.vlan_mask[i].hdr.vlan_tci = RTE_BE16(outer ? 0x0fff :
							   0xefff);
		r->st.vlan_mask[i].hdr.eth_proto = RTE_BE16(0xffff);
		fp_flow_item(b, RTE_FLOW_ITEM_TYPE_VLAN, "vlan",
			     &r->st.vlan[i], &r->st.vlan_mask[i]);
	} else {
		r->st.eth[i].hdr.ether_type = l->dl_type;
		r->st.eth_mask[i].hdr.ether_type = RTE_BE16(0xffff);
		fp_flow_item(b, RTE_FLOW_ITEM_TYPE_ETH, "eth", &r->st.eth[i],
			     &r->st.eth_mask[i]);
	}
	if (fp_flow_layer_ipv6(l)) {
		memcpy(r->st.ipv6[i].hdr.src_addr, l->src, 16);
		memcpy(r->st.ipv6[i].hdr.dst_addr, l->dst, 16);
		r->st.ipv6[i].hdr.proto = l->nw_proto;
		memset(r->st.ipv6_mask[i].hdr.src_addr, 0xff, 16);
		memset(r->st.ipv6_mask[i].hdr.dst_addr, 0xff, 16);
		r->st.ipv6_mask[i].hdr.proto = 0xff;
		fp_flow_item(b, RTE_FLOW_ITEM_TYPE_IPV6, "ipv6",
			     &r->st.ipv6[i], &r->st.ipv6_mask[i]);
	} else if (l->dl_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		memcpy(&r->st.ipv4[i].hdr.src_addr, l->src, 4);
		memcpy(&r->st.ipv4[i].hdr.dst_addr, l->dst, 4);
		r->st.ipv4[i].hdr.next_proto_id = l->nw_proto;
		r->st.ipv4_mask[i].hdr.src_addr = RTE_BE32(0xffffffff);
		r->st.ipv4_mask[i].hdr.dst_addr = RTE_BE32(0xffffffff);
		r->st.ipv4_mask[i].hdr.next_proto_id = 0xff;
		fp_flow_item(b, RTE_FLOW_ITEM_TYPE_IPV4, "ipv4",
			     &r->st.ipv4[i], &r->st.ipv4_mask[i]);
	} else {
		fp_flow_fail(b, -ENOTSUP, "not IPv4 or IPv6%s", "");
	}
}

/* The stream's own L4 item (inner for ingress). */
static void
fp_flow_l4_items(struct fp_flow_build *b, const struct fp_flow_stream *s,
		 const struct fp_pkt_layer *l)
{
	struct fp_flow_rule *r = b->r;

	if (l->nw_proto == IPPROTO_TCP) {
		r->st.tcp.hdr.src_port = l->tp_src;
		r->st.tcp.hdr.dst_port = l->tp_dst;
		r->st.tcp_mask.hdr.src_port = RTE_BE16(0xffff);
		r->st.tcp_mask.hdr.dst_port = RTE_BE16(0xffff);
		if (s->ct_mode == FP_FLOW_CT_FLAGS) {
			/* SYN, FIN and RST miss: software conntrack sees
			 * every state change. */
			r->st.tcp.hdr.tcp_flags = 0;
			r->st.tcp_mask.hdr.tcp_flags = FP_FLOW_TCP_CT_FLAGS;
			fp_flow_item(b, RTE_FLOW_ITEM_TYPE_TCP, "tcp(flags)",
				     &r->st.tcp, &r->st.tcp_mask);
		} else {
			fp_flow_item(b, RTE_FLOW_ITEM_TYPE_TCP, "tcp",
				     &r->st.tcp, &r->st.tcp_mask);
		}
	} else if (l->nw_proto == IPPROTO_UDP) {
		r->st.udp[1].hdr.src_port = l->tp_src;
		r->st.udp[1].hdr.dst_port = l->tp_dst;
		r->st.udp_mask[1].hdr.src_port = RTE_BE16(0xffff);
		r->st.udp_mask[1].hdr.dst_port = RTE_BE16(0xffff);
		fp_flow_item(b, RTE_FLOW_ITEM_TYPE_UDP, "udp", &r->st.udp[1],
			     &r->st.udp_mask[1]);
	} else if (l->nw_proto == IPPROTO_ICMP ||
		   l->nw_proto == IPPROTO_ICMPV6) {
		fp_flow_fail(b, -ENOTSUP, "ICMP is not offloaded: conntrack "
			     "tracks each echo in software%s", "");
	} else {
		fp_flow_fail(b, -ENOTSUP, "IP protocol %s is not offloaded",
			     l->nw_proto == IPPROTO_SCTP ? "SCTP" : "other");
	}
	if (s->ct_mode == FP_FLOW_CT_HW) {
		if (s->ct_handle == NULL) {
			fp_flow_fail(b, -EINVAL, "hw-conntrack mode needs a "
				     "CONNTRACK handle%s", "");
			return;
		}
		if (l->nw_proto != IPPROTO_TCP) {
			fp_flow_fail(b, -ENOTSUP, "hw-conntrack mode is for "
				     "TCP streams%s", "");
			return;
		}
		/* Valid and unchanged: a packet that changes the state
		 * (SYN, FIN, RST), or that the NIC finds outside the
		 * windows, misses and software conntrack judges it. */
		r->st.ct.flags = RTE_FLOW_CONNTRACK_PKT_STATE_VALID;
		r->st.ct_mask.flags = FP_FLOW_CT_STATE_MASK;
		fp_flow_item(b, RTE_FLOW_ITEM_TYPE_CONNTRACK, "conntrack",
			     &r->st.ct, &r->st.ct_mask);
	}
}

/* Rewrite actions, in a fixed order. */
static void
fp_flow_rewrites(struct fp_flow_build *b, const struct fp_flow_stream *s,
		 const struct fp_pkt_layer *l)
{
	struct fp_flow_rule *r = b->r;
	bool ipv6 = fp_flow_layer_ipv6(l);

	if (s->rewrite & FP_FLOW_POP_VLAN) {
		if (l->vlan_kind == 0)
			fp_flow_fail(b, -EINVAL, "pop_vlan of an untagged "
				     "packet%s", "");
		fp_flow_action(b, RTE_FLOW_ACTION_TYPE_OF_POP_VLAN,
			       "of_pop_vlan", NULL);
	}
	if (s->rewrite & FP_FLOW_SET_DL_SRC) {
		memcpy(r->st.mac_src.mac_addr, s->set_dl_src, 6);
		fp_flow_action(b, RTE_FLOW_ACTION_TYPE_SET_MAC_SRC,
			       "set_mac_src", &r->st.mac_src);
	}
	if (s->rewrite & FP_FLOW_SET_DL_DST) {
		memcpy(r->st.mac_dst.mac_addr, s->set_dl_dst, 6);
		fp_flow_action(b, RTE_FLOW_ACTION_TYPE_SET_MAC_DST,
			       "set_mac_dst", &r->st.mac_dst);
	}
	if (s->rewrite & FP_FLOW_SET_NW_SRC) {
		if (ipv6) {
			memcpy(r->st.ipv6_src.ipv6_addr, s->set_nw_src, 16);
			fp_flow_action(b, RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC,
				       "set_ipv6_src", &r->st.ipv6_src);
		} else {
			memcpy(&r->st.ipv4_src.ipv4_addr, s->set_nw_src, 4);
			fp_flow_action(b, RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC,
				       "set_ipv4_src", &r->st.ipv4_src);
		}
	}
	if (s->rewrite & FP_FLOW_SET_NW_DST) {
		if (ipv6) {
			memcpy(r->st.ipv6_dst.ipv6_addr, s->set_nw_dst, 16);
			fp_flow_action(b, RTE_FLOW_ACTION_TYPE_SET_IPV6_DST,
				       "set_ipv6_dst", &r->st.ipv6_dst);
		} else {
			memcpy(&r->st.ipv4_dst.ipv4_addr, s->set_nw_dst, 4);
			fp_flow_action(b, RTE_FLOW_ACTION_TYPE_SET_IPV4_DST,
				       "set_ipv4_dst", &r->st.ipv4_dst);
		}
	}
	if (s->rewrite & FP_FLOW_SET_TP_SRC) {
		r->st.tp_src.port = s->set_tp_src;
		fp_flow_action(b, RTE_FLOW_ACTION_TYPE_SET_TP_SRC,
			       "set_tp_src", &r->st.tp_src);
	}
	if (s->rewrite & FP_FLOW_SET_TP_DST) {
		r->st.tp_dst.port = s->set_tp_dst;
		fp_flow_action(b, RTE_FLOW_ACTION_TYPE_SET_TP_DST,
			       "set_tp_dst", &r->st.tp_dst);
	}
	if (s->rewrite & FP_FLOW_SET_TTL) {
		r->st.ttl.ttl_value = s->set_ttl;
		fp_flow_action(b, RTE_FLOW_ACTION_TYPE_SET_TTL, "set_ttl",
			       &r->st.ttl);
	}
	if (s->rewrite & FP_FLOW_PUSH_VLAN) {
		if (l->vlan_kind != 0 && !(s->rewrite & FP_FLOW_POP_VLAN))
			fp_flow_fail(b, -ENOTSUP, "push_vlan on a tagged "
				     "packet: two tags are not offloaded%s",
				     "");
		r->st.push_vlan.ethertype = RTE_BE16(RTE_ETHER_TYPE_VLAN);
		r->st.vid.vlan_vid = s->push_vlan_tci & RTE_BE16(0x0fff);
		r->st.pcp.vlan_pcp = rte_be_to_cpu_16(s->push_vlan_tci) >> 13;
		fp_flow_action(b, RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN,
			       "of_push_vlan", &r->st.push_vlan);
		fp_flow_action(b, RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID,
			       "of_set_vlan_vid", &r->st.vid);
		fp_flow_action(b, RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP,
			       "of_set_vlan_pcp", &r->st.pcp);
	}
}

/* Sets 'err' to 'why' and returns -EINVAL. */
static int
fp_flow_encap_refuse(char *err, size_t errlen, const char *why)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", why);
	return -EINVAL;
}

int
fp_flow_encap_parse(const uint8_t *hdr, size_t len, char *err, size_t errlen)
{
	size_t l3 = RTE_ETHER_HDR_LEN, l4;
	uint16_t type;
	uint8_t proto;

	if (len > FP_FLOW_MAX_ENCAP)
		return fp_flow_encap_refuse(err, errlen, "an outer header "
					    "longer than a rule takes");
	if (len < FP_FLOW_MIN_ENCAP)
		return fp_flow_encap_refuse(err, errlen, "an outer header "
					    "shorter than Ethernet/IPv4/UDP/"
					    "VXLAN");
	type = (uint16_t)(hdr[12] << 8 | hdr[13]);
	if (type == RTE_ETHER_TYPE_VLAN) {
		type = (uint16_t)(hdr[16] << 8 | hdr[17]);
		l3 += RTE_VLAN_HLEN;
	}
	if (type == RTE_ETHER_TYPE_IPV4) {
		proto = hdr[l3 + 9];
		l4 = l3 + (hdr[l3] & 0xf) * 4;
	} else if (type == RTE_ETHER_TYPE_IPV6) {
		proto = hdr[l3 + 6];
		l4 = l3 + sizeof(struct rte_ipv6_hdr);
	} else {
		return fp_flow_encap_refuse(err, errlen, "an outer header "
					    "that is not IPv4 or IPv6");
	}
	if (l4 + sizeof(struct rte_udp_hdr) + sizeof(struct rte_vxlan_hdr) !=
	    len)
		return fp_flow_encap_refuse(err, errlen, "an outer header "
					    "with IP options or extension "
					    "headers");
	if (proto != IPPROTO_UDP)
		return fp_flow_encap_refuse(err, errlen, "an outer header "
					    "whose IP protocol is not UDP");
	return (int)l4;
}

int
fp_flow_encap_set(struct fp_flow_stream *s, const uint8_t *hdr, size_t len,
		  rte_be16_t udp_src, char *err, size_t errlen)
{
	int udp_ofs = fp_flow_encap_parse(hdr, len, err, errlen);

	if (udp_ofs < 0)
		return udp_ofs;
	memcpy(s->encap, hdr, len);
	s->encap_len = (uint16_t)len;
	memcpy(s->encap + udp_ofs, &udp_src, sizeof(udp_src));
	return 0;
}

/* Checks that 'encap' is Ethernet [VLAN] / IPv4|IPv6 / UDP / VXLAN. */
static int
fp_flow_check_encap(const uint8_t *e, uint16_t len, char *err, size_t errlen)
{
	char why[96];

	if (fp_flow_encap_parse(e, len, why, sizeof(why)) >= 0)
		return 0;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "the encapsulation (%u bytes) is not "
			 "Ethernet/IPv4|IPv6/UDP/VXLAN: %s", len, why);
	return -EINVAL;
}

int
fp_flow_translate(const struct fp_flow_stream *s, struct fp_flow_rule *r,
		  char *err, size_t errlen)
{
	struct fp_flow_build b = {
		.r = r, .errbuf = err, .errlen = errlen,
	};
	const struct fp_pkt_layer *l;

	memset(r, 0, sizeof(*r));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	r->attr.transfer = 1;
	r->attr.priority = s->priority;

	if (s->dir == FP_FLOW_INGRESS) {
		if (s->key.shape != FP_PKT_SHAPE_VXLAN) {
			fp_flow_fail(&b, -EINVAL, "an ingress rule needs a "
				     "VXLAN stream%s", "");
			return b.err;
		}
		fp_text_append(r->shape, sizeof(r->shape), &b.shape_len,
			       "ingress ");
		l = &s->key.layer[1];
		fp_flow_layer_items(&b, &s->key.layer[0], 0, true);
		if (s->key.layer[0].nw_proto != IPPROTO_UDP)
			fp_flow_fail(&b, -EINVAL, "outer protocol is not "
				     "UDP%s", "");
		r->st.udp[0].hdr.dst_port = s->key.layer[0].tp_dst;
		r->st.udp_mask[0].hdr.dst_port = RTE_BE16(0xffff);
		fp_flow_item(&b, RTE_FLOW_ITEM_TYPE_UDP, "udp", &r->st.udp[0],
			     &r->st.udp_mask[0]);
		memcpy(r->st.vxlan.vni, (const uint8_t *)&s->key.vxlan_vni,
		       3);
		memset(r->st.vxlan_mask.vni, 0xff, 3);
		fp_flow_item(&b, RTE_FLOW_ITEM_TYPE_VXLAN, "vxlan",
			     &r->st.vxlan, &r->st.vxlan_mask);
		fp_flow_layer_items(&b, l, 1, false);
	} else if (s->dir == FP_FLOW_EGRESS) {
		if (s->key.shape != FP_PKT_SHAPE_PLAIN) {
			fp_flow_fail(&b, -EINVAL, "an egress rule needs a "
				     "plain stream%s", "");
			return b.err;
		}
		if (s->encap_len > FP_FLOW_MAX_ENCAP) {
			fp_flow_fail(&b, -EINVAL, "the encapsulation is too "
				     "long%s", "");
			return b.err;
		}
		if (fp_flow_check_encap(s->encap, s->encap_len, err, errlen))
			return -EINVAL;
		fp_text_append(r->shape, sizeof(r->shape), &b.shape_len,
			       "egress ");
		l = &s->key.layer[0];
		fp_flow_layer_items(&b, l, 1, false);
	} else {
		fp_flow_fail(&b, -EINVAL, "unknown direction%s", "");
		return b.err;
	}
	fp_flow_l4_items(&b, s, l);
	if (b.err != 0)
		return b.err;
	r->items[r->n_items].type = RTE_FLOW_ITEM_TYPE_END;

	if (s->dir == FP_FLOW_INGRESS)
		fp_flow_action(&b, RTE_FLOW_ACTION_TYPE_VXLAN_DECAP,
			       "vxlan_decap", NULL);
	if (s->ct_mode == FP_FLOW_CT_HW)
		fp_flow_action(&b, RTE_FLOW_ACTION_TYPE_INDIRECT, "indirect",
			       s->ct_handle);
	fp_flow_rewrites(&b, s, l);
	if (s->dir == FP_FLOW_EGRESS) {
		memcpy(r->st.encap_data, s->encap, s->encap_len);
		r->st.encap.data = r->st.encap_data;
		r->st.encap.preserve = NULL;
		r->st.encap.size = s->encap_len;
		fp_flow_action(&b, RTE_FLOW_ACTION_TYPE_RAW_ENCAP, "raw_encap",
			       &r->st.encap);
	}
	if (s->has_meter) {
		r->st.meter.mtr_id = s->meter_id;
		fp_flow_action(&b, RTE_FLOW_ACTION_TYPE_METER, "meter",
			       &r->st.meter);
	}
	if (s->use_port_id) {
		r->st.port_id.id = s->out_port;
		fp_flow_action(&b, RTE_FLOW_ACTION_TYPE_PORT_ID, "port_id",
			       &r->st.port_id);
	} else {
		r->st.port.port_id = s->out_port;
		fp_flow_action(&b, RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT,
			       "represented_port", &r->st.port);
	}
	if (s->count)
		fp_flow_action(&b, RTE_FLOW_ACTION_TYPE_COUNT, "count",
			       &r->st.count);
	if (s->age_timeout > 0) {
		r->st.age.timeout = s->age_timeout;
		r->st.age.context = s->age_context;
		fp_flow_action(&b, RTE_FLOW_ACTION_TYPE_AGE, "age",
			       &r->st.age);
	}
	if (b.err != 0)
		return b.err;
	r->actions[r->n_actions].type = RTE_FLOW_ACTION_TYPE_END;
	return 0;
}

void
fp_flow_hdr_from_layer(struct fp_flow_hdr *h, const struct fp_pkt_layer *l)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->dl_src, l->dl_src, sizeof(h->dl_src));
	memcpy(h->dl_dst, l->dl_dst, sizeof(h->dl_dst));
	memcpy(h->nw_src, l->src, sizeof(h->nw_src));
	memcpy(h->nw_dst, l->dst, sizeof(h->nw_dst));
	h->tp_src = l->tp_src;
	h->tp_dst = l->tp_dst;
	h->ttl = l->nw_ttl;
	h->vlan = l->vlan_kind != FP_PKT_VLAN_NONE;
	h->vlan_tci = l->vlan_tci;
}

uint32_t
fp_flow_rewrite_diff(const struct fp_pkt_layer *before,
		     const struct fp_flow_hdr *after,
		     struct fp_flow_stream *s)
{
	size_t nw_len = fp_flow_layer_ipv6(before) ? 16 : 4;
	bool tagged = before->vlan_kind != FP_PKT_VLAN_NONE;
	uint32_t bits = 0;

	if (memcmp(after->dl_src, before->dl_src, 6) != 0) {
		bits |= FP_FLOW_SET_DL_SRC;
		memcpy(s->set_dl_src, after->dl_src, 6);
	}
	if (memcmp(after->dl_dst, before->dl_dst, 6) != 0) {
		bits |= FP_FLOW_SET_DL_DST;
		memcpy(s->set_dl_dst, after->dl_dst, 6);
	}
	if (memcmp(after->nw_src, before->src, nw_len) != 0) {
		bits |= FP_FLOW_SET_NW_SRC;
		memcpy(s->set_nw_src, after->nw_src, 16);
	}
	if (memcmp(after->nw_dst, before->dst, nw_len) != 0) {
		bits |= FP_FLOW_SET_NW_DST;
		memcpy(s->set_nw_dst, after->nw_dst, 16);
	}
	if (after->tp_src != before->tp_src) {
		bits |= FP_FLOW_SET_TP_SRC;
		s->set_tp_src = after->tp_src;
	}
	if (after->tp_dst != before->tp_dst) {
		bits |= FP_FLOW_SET_TP_DST;
		s->set_tp_dst = after->tp_dst;
	}
	if (after->ttl != before->nw_ttl) {
		bits |= FP_FLOW_SET_TTL;
		s->set_ttl = after->ttl;
	}
	if (tagged && (!after->vlan || after->vlan_tci != before->vlan_tci))
		bits |= FP_FLOW_POP_VLAN;
	if (after->vlan && (!tagged || after->vlan_tci != before->vlan_tci)) {
		bits |= FP_FLOW_PUSH_VLAN;
		s->push_vlan_tci = after->vlan_tci;
	}
	s->rewrite |= bits;
	return bits;
}

/* Re-points 'p' from inside 'src' to the same place inside 'dst'. */
static const void *
fp_flow_repoint(const void *p, const struct fp_flow_rule *src,
		struct fp_flow_rule *dst)
{
	const char *c = p;
	const char *lo = (const char *)&src->st;

	if (c >= lo && c < lo + sizeof(src->st))
		return (const char *)&dst->st + (c - lo);
	return p;
}

void
fp_flow_rule_copy(struct fp_flow_rule *dst, const struct fp_flow_rule *src)
{
	unsigned int i;

	memcpy(dst, src, sizeof(*dst));
	for (i = 0; i < FP_FLOW_MAX_ITEMS; i++) {
		dst->items[i].spec = fp_flow_repoint(src->items[i].spec, src,
						     dst);
		dst->items[i].mask = fp_flow_repoint(src->items[i].mask, src,
						     dst);
		dst->items[i].last = fp_flow_repoint(src->items[i].last, src,
						     dst);
	}
	for (i = 0; i < FP_FLOW_MAX_ACTIONS; i++)
		dst->actions[i].conf = fp_flow_repoint(src->actions[i].conf,
						       src, dst);
	dst->st.encap.data = dst->st.encap_data;
}

static void
fp_flow_fmt_mac(char *buf, size_t size, size_t *len, const char *what,
		const uint8_t *m)
{
	fp_text_append(buf, size, len, " %s is %02x:%02x:%02x:%02x:%02x:%02x",
		       what, m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void
fp_flow_fmt_ip6(char *buf, size_t size, size_t *len, const char *what,
		const uint8_t *a)
{
	int i;

	fp_text_append(buf, size, len, " %s is ", what);
	for (i = 0; i < 16; i += 2)
		fp_text_append(buf, size, len, "%s%x", i ? ":" : "",
			       a[i] << 8 | a[i + 1]);
}

static void
fp_flow_fmt_ip4(char *buf, size_t size, size_t *len, const char *what,
		rte_be32_t a)
{
	uint32_t h = rte_be_to_cpu_32(a);

	fp_text_append(buf, size, len, " %s is %u.%u.%u.%u", what, h >> 24,
		       (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
}

/* Appends the testpmd text of pattern item 'it', without its
 * separator. */
static void
fp_flow_format_item(const struct rte_flow_item *it, char *buf, size_t size,
		    size_t *len)
{
	switch (it->type) {
	case RTE_FLOW_ITEM_TYPE_ETH: {
		const struct rte_flow_item_eth *e = it->spec;
		const struct rte_flow_item_eth *m = it->mask;

		fp_text_append(buf, size, len, " eth");
		if (m->hdr.dst_addr.addr_bytes[0])
			fp_flow_fmt_mac(buf, size, len, "dst",
					e->hdr.dst_addr.addr_bytes);
		if (m->hdr.src_addr.addr_bytes[0])
			fp_flow_fmt_mac(buf, size, len, "src",
					e->hdr.src_addr.addr_bytes);
		fp_text_append(buf, size, len, " type is 0x%04x",
			       rte_be_to_cpu_16(e->hdr.ether_type));
		break;
	}
	case RTE_FLOW_ITEM_TYPE_VLAN: {
		const struct rte_flow_item_vlan *v = it->spec;
		const struct rte_flow_item_vlan *m = it->mask;

		fp_text_append(buf, size, len,
			       " vlan tci spec 0x%04x tci mask 0x%04x"
			       " inner_type is 0x%04x",
			       rte_be_to_cpu_16(v->hdr.vlan_tci),
			       rte_be_to_cpu_16(m->hdr.vlan_tci),
			       rte_be_to_cpu_16(v->hdr.eth_proto));
		break;
	}
	case RTE_FLOW_ITEM_TYPE_IPV4: {
		const struct rte_flow_item_ipv4 *p = it->spec;

		fp_text_append(buf, size, len, " ipv4");
		fp_flow_fmt_ip4(buf, size, len, "src",
				p->hdr.src_addr);
		fp_flow_fmt_ip4(buf, size, len, "dst",
				p->hdr.dst_addr);
		fp_text_append(buf, size, len, " proto is %u",
			       p->hdr.next_proto_id);
		break;
	}
	case RTE_FLOW_ITEM_TYPE_IPV6: {
		const struct rte_flow_item_ipv6 *p = it->spec;

		fp_text_append(buf, size, len, " ipv6");
		fp_flow_fmt_ip6(buf, size, len, "src",
				p->hdr.src_addr);
		fp_flow_fmt_ip6(buf, size, len, "dst",
				p->hdr.dst_addr);
		fp_text_append(buf, size, len, " proto is %u",
			       p->hdr.proto);
		break;
	}
	case RTE_FLOW_ITEM_TYPE_UDP: {
		const struct rte_flow_item_udp *u = it->spec;
		const struct rte_flow_item_udp *m = it->mask;

		fp_text_append(buf, size, len, " udp");
		if (m->hdr.src_port)
			fp_text_append(buf, size, len, " src is %u",
				rte_be_to_cpu_16(u->hdr.src_port));
		fp_text_append(buf, size, len, " dst is %u",
			       rte_be_to_cpu_16(u->hdr.dst_port));
		break;
	}
	case RTE_FLOW_ITEM_TYPE_TCP: {
		const struct rte_flow_item_tcp *t = it->spec;
		const struct rte_flow_item_tcp *m = it->mask;

		fp_text_append(buf, size, len,
			       " tcp src is %u dst is %u",
			       rte_be_to_cpu_16(t->hdr.src_port),
			       rte_be_to_cpu_16(t->hdr.dst_port));
		if (m->hdr.tcp_flags)
			fp_text_append(buf, size, len,
				       " flags spec 0x%02x flags mask "
				       "0x%02x", t->hdr.tcp_flags,
				       m->hdr.tcp_flags);
		break;
	}
	case RTE_FLOW_ITEM_TYPE_VXLAN: {
		const struct rte_flow_item_vxlan *v = it->spec;

		fp_text_append(buf, size, len, " vxlan vni is %u",
			       v->vni[0] << 16 | v->vni[1] << 8 |
			       v->vni[2]);
		break;
	}
	case RTE_FLOW_ITEM_TYPE_CONNTRACK:
		fp_text_append(buf, size, len,
			       " conntrack is 0x%x",
			       ((const struct rte_flow_item_conntrack *)
				it->spec)->flags);
		break;
	default:
		fp_text_append(buf, size, len, " item%d", it->type);
		break;
	}
}

/* Appends the testpmd text of 'a' if it rewrites the packet (a set or
 * a VLAN action). Returns false for other actions. */
static bool
fp_flow_format_rewrite(const struct rte_flow_action *a, char *buf,
		       size_t size, size_t *len)
{
	switch (a->type) {
	case RTE_FLOW_ACTION_TYPE_SET_MAC_SRC:
	case RTE_FLOW_ACTION_TYPE_SET_MAC_DST:
		fp_flow_fmt_mac(buf, size, len,
			a->type == RTE_FLOW_ACTION_TYPE_SET_MAC_SRC ?
			"set_mac_src mac_addr" : "set_mac_dst mac_addr",
			((const struct rte_flow_action_set_mac *)
			 a->conf)->mac_addr);
		return true;
	case RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC:
	case RTE_FLOW_ACTION_TYPE_SET_IPV4_DST:
		fp_flow_fmt_ip4(buf, size, len,
			a->type == RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC ?
			"set_ipv4_src ipv4_addr" :
			"set_ipv4_dst ipv4_addr",
			((const struct rte_flow_action_set_ipv4 *)
			 a->conf)->ipv4_addr);
		return true;
	case RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC:
	case RTE_FLOW_ACTION_TYPE_SET_IPV6_DST:
		fp_flow_fmt_ip6(buf, size, len,
			a->type == RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC ?
			"set_ipv6_src ipv6_addr" :
			"set_ipv6_dst ipv6_addr",
			((const struct rte_flow_action_set_ipv6 *)
			 a->conf)->ipv6_addr);
		return true;
	case RTE_FLOW_ACTION_TYPE_SET_TP_SRC:
	case RTE_FLOW_ACTION_TYPE_SET_TP_DST:
		fp_text_append(buf, size, len, " %s port %u",
			a->type == RTE_FLOW_ACTION_TYPE_SET_TP_SRC ?
			"set_tp_src" : "set_tp_dst",
			rte_be_to_cpu_16(((const struct
				rte_flow_action_set_tp *)a->conf)->port));
		return true;
	case RTE_FLOW_ACTION_TYPE_SET_TTL:
		fp_text_append(buf, size, len, " set_ttl ttl_value %u",
			       ((const struct rte_flow_action_set_ttl *)
				a->conf)->ttl_value);
		return true;
	case RTE_FLOW_ACTION_TYPE_OF_POP_VLAN:
		fp_text_append(buf, size, len, " of_pop_vlan");
		return true;
	case RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN:
		fp_text_append(buf, size, len,
			       " of_push_vlan ethertype 0x8100");
		return true;
	case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID:
		fp_text_append(buf, size, len,
			       " of_set_vlan_vid vlan_vid %u",
			       rte_be_to_cpu_16(((const struct
				rte_flow_action_of_set_vlan_vid *)
				a->conf)->vlan_vid));
		return true;
	case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP:
		fp_text_append(buf, size, len,
			       " of_set_vlan_pcp vlan_pcp %u",
			       ((const struct
				 rte_flow_action_of_set_vlan_pcp *)
				a->conf)->vlan_pcp);
		return true;
	default:
		return false;
	}
}

/* Appends the testpmd text of action 'a', without its separator. */
static void
fp_flow_format_action(const struct rte_flow_action *a, char *buf,
		      size_t size, size_t *len)
{
	switch (a->type) {
	case RTE_FLOW_ACTION_TYPE_VXLAN_DECAP:
		fp_text_append(buf, size, len, " vxlan_decap");
		break;
	case RTE_FLOW_ACTION_TYPE_RAW_ENCAP:
		fp_text_append(buf, size, len, " raw_encap size %zu",
			       ((const struct rte_flow_action_raw_encap *)
				a->conf)->size);
		break;
	case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT:
		fp_text_append(buf, size, len,
			       " represented_port ethdev_port_id %u",
			       ((const struct rte_flow_action_ethdev *)
				a->conf)->port_id);
		break;
	case RTE_FLOW_ACTION_TYPE_PORT_ID:
		fp_text_append(buf, size, len, " port_id id %u",
			       ((const struct rte_flow_action_port_id *)
				a->conf)->id);
		break;
	case RTE_FLOW_ACTION_TYPE_COUNT:
		fp_text_append(buf, size, len, " count");
		break;
	case RTE_FLOW_ACTION_TYPE_AGE:
		fp_text_append(buf, size, len, " age timeout %u",
			       ((const struct rte_flow_action_age *)
				a->conf)->timeout);
		break;
	case RTE_FLOW_ACTION_TYPE_METER:
		fp_text_append(buf, size, len, " meter mtr_id %u",
			       ((const struct rte_flow_action_meter *)
				a->conf)->mtr_id);
		break;
	case RTE_FLOW_ACTION_TYPE_INDIRECT:
		fp_text_append(buf, size, len, " indirect");
		break;
	default:
		if (!fp_flow_format_rewrite(a, buf, size, len))
			fp_text_append(buf, size, len, " action%d", a->type);
		break;
	}
}

int
fp_flow_rule_format(const struct fp_flow_rule *r, uint16_t port_id,
		    char *buf, size_t size)
{
	size_t len = 0;
	unsigned int i;

	if (size > 0)
		buf[0] = '\0';
	fp_text_append(buf, size, &len, "flow create %u%s%s pattern", port_id,
		       r->attr.transfer ? " transfer" : "",
		       r->attr.ingress ? " ingress" : "");
	for (i = 0; i < r->n_items; i++) {
		fp_flow_format_item(&r->items[i], buf, size, &len);
		fp_text_append(buf, size, &len, " /");
	}
	fp_text_append(buf, size, &len, " end actions");
	for (i = 0; i < r->n_actions; i++) {
		fp_flow_format_action(&r->actions[i], buf, size, &len);
		fp_text_append(buf, size, &len, " /");
	}
	fp_text_append(buf, size, &len, " end");
	return (int)len;
}

/* Probing. */

#define FP_FLOW_PROBE_MAX 256
#define FP_FLOW_PROBE_CT_SHAPE "conntrack"

struct fp_flow_probe_entry {
	uint16_t port_id;
	enum fp_flow_probe_verdict verdict;
	int err;
	char shape[160];
	char text[256];
};

struct fp_flow_probe {
	pthread_mutex_t lock;
	unsigned int n;
	struct fp_flow_probe_entry e[FP_FLOW_PROBE_MAX];
};

struct fp_flow_probe *
fp_flow_probe_create(void)
{
	struct fp_flow_probe *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void
fp_flow_probe_free(struct fp_flow_probe *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static const char *
fp_flow_error_type_name(enum rte_flow_error_type type)
{
	switch (type) {
	case RTE_FLOW_ERROR_TYPE_ATTR:
	case RTE_FLOW_ERROR_TYPE_ATTR_GROUP:
	case RTE_FLOW_ERROR_TYPE_ATTR_PRIORITY:
	case RTE_FLOW_ERROR_TYPE_ATTR_INGRESS:
	case RTE_FLOW_ERROR_TYPE_ATTR_EGRESS:
	case RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER:
		return "attribute";
	case RTE_FLOW_ERROR_TYPE_ITEM_NUM:
	case RTE_FLOW_ERROR_TYPE_ITEM:
	case RTE_FLOW_ERROR_TYPE_ITEM_SPEC:
	case RTE_FLOW_ERROR_TYPE_ITEM_LAST:
	case RTE_FLOW_ERROR_TYPE_ITEM_MASK:
		return "item";
	case RTE_FLOW_ERROR_TYPE_ACTION_NUM:
	case RTE_FLOW_ERROR_TYPE_ACTION:
	case RTE_FLOW_ERROR_TYPE_ACTION_CONF:
		return "action";
	default:
		return "rule";
	}
}

/* Finds the entry of (port, shape); NULL if none. Called locked. */
static struct fp_flow_probe_entry *
fp_flow_probe_find(struct fp_flow_probe *p, uint16_t port_id,
		   const char *shape)
{
	unsigned int i;

	for (i = 0; i < p->n; i++)
		if (p->e[i].port_id == port_id &&
		    strcmp(p->e[i].shape, shape) == 0)
			return &p->e[i];
	return NULL;
}

static void
fp_flow_probe_remember(struct fp_flow_probe *p, uint16_t port_id,
		       const char *shape, int err, const char *text)
{
	struct fp_flow_probe_entry *e;

	pthread_mutex_lock(&p->lock);
	e = fp_flow_probe_find(p, port_id, shape);
	if (e == NULL && p->n < FP_FLOW_PROBE_MAX)
		e = &p->e[p->n++];
	if (e != NULL) {
		e->port_id = port_id;
		e->verdict = err ? FP_FLOW_PROBE_REJECTED : FP_FLOW_PROBE_OK;
		e->err = err;
		snprintf(e->shape, sizeof(e->shape), "%s", shape);
		snprintf(e->text, sizeof(e->text), "%s", text);
	}
	pthread_mutex_unlock(&p->lock);
}

static void
fp_flow_error_text(const struct rte_flow_error *error, int ret, char *buf,
		   size_t size)
{
	snprintf(buf, size, "%s: %s (%s)", fp_flow_error_type_name(error->type),
		 error->message != NULL ? error->message : "no message",
		 rte_strerror(-ret));
}

int
fp_flow_probe_check(struct fp_flow_probe *p, uint16_t port_id,
		    const struct fp_flow_rule *r, char *err, size_t errlen)
{
	struct fp_flow_probe_entry *e;
	struct rte_flow_error error;
	char text[256];
	int ret;

	pthread_mutex_lock(&p->lock);
	e = fp_flow_probe_find(p, port_id, r->shape);
	if (e != NULL) {
		ret = e->err;
		if (ret != 0 && err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", e->text);
		pthread_mutex_unlock(&p->lock);
		return ret;
	}
	pthread_mutex_unlock(&p->lock);

	memset(&error, 0, sizeof(error));
	ret = rte_flow_validate(port_id, &r->attr, r->items, r->actions,
				&error);
	text[0] = '\0';
	if (ret != 0) {
		if (ret > 0)
			ret = -ret;
		fp_flow_error_text(&error, ret, text, sizeof(text));
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s", text);
	}
	fp_flow_probe_remember(p, port_id, r->shape, ret, text);
	return ret;
}

enum fp_flow_ct_mode
fp_flow_probe_ct(struct fp_flow_probe *p, uint16_t port_id, char *why,
		 size_t whylen)
{
	struct rte_flow_indir_action_conf conf = { .transfer = 1 };
	struct rte_flow_action_conntrack ct = {
		.enable = 1,
		.live_connection = 1,
		.state = RTE_FLOW_CONNTRACK_STATE_ESTABLISHED,
		.last_direction = 0,
		.last_index = RTE_FLOW_CONNTRACK_FLAG_ACK,
	};
	struct rte_flow_action ct_action = {
		.type = RTE_FLOW_ACTION_TYPE_CONNTRACK, .conf = &ct,
	};
	struct fp_flow_stream s;
	struct fp_flow_rule r;
	struct rte_flow_action_handle *h;
	struct fp_flow_probe_entry *e;
	struct rte_flow_error error;
	char text[256];
	int ret;

	pthread_mutex_lock(&p->lock);
	e = fp_flow_probe_find(p, port_id, FP_FLOW_PROBE_CT_SHAPE);
	if (e != NULL) {
		ret = e->err;
		if (why != NULL && whylen > 0)
			snprintf(why, whylen, "%s", ret ? e->text : "");
		pthread_mutex_unlock(&p->lock);
		return ret ? FP_FLOW_CT_FLAGS : FP_FLOW_CT_HW;
	}
	pthread_mutex_unlock(&p->lock);

	memset(&error, 0, sizeof(error));
	h = rte_flow_action_handle_create(port_id, &conf, &ct_action, &error);
	if (h == NULL) {
		ret = rte_errno ? -rte_errno : -ENOTSUP;
		fp_flow_error_text(&error, ret, text, sizeof(text));
	} else {
		memset(&s, 0, sizeof(s));
		s.dir = FP_FLOW_EGRESS;
		s.key.shape = FP_PKT_SHAPE_PLAIN;
		s.key.layer[0].dl_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
		s.key.layer[0].nw_proto = IPPROTO_TCP;
		s.ct_mode = FP_FLOW_CT_HW;
		s.ct_handle = h;
		s.out_port = port_id;
		s.encap_len = FP_FLOW_MIN_ENCAP;
		s.encap[12] = 0x08;
		s.encap[14] = 0x45;
		s.encap[14 + 9] = IPPROTO_UDP;
		ret = fp_flow_translate(&s, &r, text, sizeof(text));
		if (ret == 0) {
			ret = rte_flow_validate(port_id, &r.attr, r.items,
						r.actions, &error);
			if (ret != 0) {
				if (ret > 0)
					ret = -ret;
				fp_flow_error_text(&error, ret, text,
						   sizeof(text));
			}
		}
		rte_flow_action_handle_destroy(port_id, h, &error);
	}
	fp_flow_probe_remember(p, port_id, FP_FLOW_PROBE_CT_SHAPE, ret,
			       ret ? text : "");
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", ret ? text : "");
	return ret ? FP_FLOW_CT_FLAGS : FP_FLOW_CT_HW;
}

void
fp_flow_probe_forget(struct fp_flow_probe *p, uint16_t port_id)
{
	unsigned int i = 0;

	pthread_mutex_lock(&p->lock);
	while (i < p->n) {
		if (p->e[i].port_id == port_id)
			p->e[i] = p->e[--p->n];
		else
			i++;
	}
	pthread_mutex_unlock(&p->lock);
}

int
fp_flow_probe_format(const struct fp_flow_probe *p, int port_id,
		     const char *indent, char *buf, size_t size)
{
	struct fp_flow_probe *q = (struct fp_flow_probe *)(uintptr_t)p;
	size_t len = 0;
	unsigned int i;

	if (size > 0)
		buf[0] = '\0';
	pthread_mutex_lock(&q->lock);
	for (i = 0; i < q->n; i++) {
		const struct fp_flow_probe_entry *e = &q->e[i];

		if (port_id >= 0 && e->port_id != port_id)
			continue;
		if (strcmp(e->shape, FP_FLOW_PROBE_CT_SHAPE) == 0)
			fp_text_append(buf, size, &len, "%sport %u conntrack:"
				       " %s%s%s%s\n", indent, e->port_id,
				       e->err ? "tcp-flags" : "hw-conntrack",
				       e->err ? " (" : "", e->text,
				       e->err ? ")" : "");
		else
			fp_text_append(buf, size, &len, "%sport %u %s: %s%s\n",
				       indent, e->port_id, e->shape,
				       e->err ? "rejected: " : "ok", e->text);
	}
	pthread_mutex_unlock(&q->lock);
	return (int)len;
}

/* 0, or the negative errno of a failed call and its error text. */
static int
fp_flow_ct_result(int ret, const struct rte_flow_error *error, char *err,
		  size_t errlen)
{
	if (ret == 0)
		return 0;
	if (ret > 0)
		ret = -ret;
	if (err != NULL && errlen > 0)
		fp_flow_error_text(error, ret, err, errlen);
	return ret;
}

struct rte_flow_action_handle *
fp_flow_ct_create(uint16_t port_id,
		  const struct rte_flow_action_conntrack *profile, char *err,
		  size_t errlen)
{
	struct rte_flow_indir_action_conf conf = { .transfer = 1 };
	struct rte_flow_action action = {
		.type = RTE_FLOW_ACTION_TYPE_CONNTRACK, .conf = profile,
	};
	struct rte_flow_action_handle *h;
	struct rte_flow_error error;

	memset(&error, 0, sizeof(error));
	h = rte_flow_action_handle_create(port_id, &conf, &action, &error);
	if (h == NULL && err != NULL && errlen > 0)
		fp_flow_error_text(&error, rte_errno ? -rte_errno : -EIO, err,
				   errlen);
	return h;
}

int
fp_flow_ct_query(uint16_t port_id, struct rte_flow_action_handle *h,
		 struct rte_flow_action_conntrack *profile)
{
	struct rte_flow_error error;
	int ret;

	memset(&error, 0, sizeof(error));
	ret = rte_flow_action_handle_query(port_id, h, profile, &error);
	return fp_flow_ct_result(ret, &error, NULL, 0);
}

int
fp_flow_ct_update(uint16_t port_id, struct rte_flow_action_handle *h,
		  const struct rte_flow_action_conntrack *profile,
		  bool direction_only, char *err, size_t errlen)
{
	struct rte_flow_modify_conntrack m;
	struct rte_flow_error error;
	int ret;

	memset(&m, 0, sizeof(m));
	memset(&error, 0, sizeof(error));
	m.new_ct = *profile;
	if (direction_only)
		m.direction = 1;
	else
		m.state = 1;
	ret = rte_flow_action_handle_update(port_id, h, &m, &error);
	return fp_flow_ct_result(ret, &error, err, errlen);
}

int
fp_flow_ct_destroy(uint16_t port_id, struct rte_flow_action_handle *h,
		   char *err, size_t errlen)
{
	struct rte_flow_error error;
	int ret;

	memset(&error, 0, sizeof(error));
	ret = rte_flow_action_handle_destroy(port_id, h, &error);
	return fp_flow_ct_result(ret, &error, err, errlen);
}

const char *
fp_flow_ct_mode_name(enum fp_flow_ct_mode mode)
{
	return mode == FP_FLOW_CT_HW ? "hw-conntrack" : "tcp-flags";
}
