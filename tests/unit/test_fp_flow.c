/* SPDX-License-Identifier: Apache-2.0 */

/*
 * fp_flow: the rte_flow rule of each folded stream shape (IPv4/IPv6 inner
 * and outer, TCP/UDP, VLAN, NAT rewrites, egress encapsulation, meter,
 * PORT_ID, hardware conntrack), the streams it refuses, rule copies, the
 * testpmd text, and probing a real port (net_null, which has no rte_flow
 * support, so every shape is rejected and remembered).
 */

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_flow.h>

#include "fp_flow.h"
#include "../fp_test_eal.h"

static const uint8_t vm_mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x10 };
static const uint8_t gw_mac[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t vtep_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t remote_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static void
layer_ipv4(struct fp_pkt_layer *l, const uint8_t *src_mac,
	   const uint8_t *dst_mac, uint32_t src, uint32_t dst, uint8_t proto,
	   uint16_t sport, uint16_t dport)
{
	memcpy(l->dl_src, src_mac, 6);
	memcpy(l->dl_dst, dst_mac, 6);
	l->dl_type = RTE_BE16(0x0800);
	src = rte_cpu_to_be_32(src);
	dst = rte_cpu_to_be_32(dst);
	memcpy(l->src, &src, 4);
	memcpy(l->dst, &dst, 4);
	l->nw_proto = proto;
	l->nw_ttl = 64;
	l->tp_src = rte_cpu_to_be_16(sport);
	l->tp_dst = rte_cpu_to_be_16(dport);
	if (proto == IPPROTO_TCP)
		l->tcp_flags = RTE_BE16(0x010);
}

static void
layer_ipv6(struct fp_pkt_layer *l, uint8_t proto, uint16_t sport,
	   uint16_t dport)
{
	memcpy(l->dl_src, remote_mac, 6);
	memcpy(l->dl_dst, vm_mac, 6);
	l->dl_type = RTE_BE16(0x86dd);
	memset(l->src, 0, 16);
	memset(l->dst, 0, 16);
	l->src[0] = 0xfd;
	l->src[15] = 1;
	l->dst[0] = 0xfd;
	l->dst[15] = 2;
	l->nw_proto = proto;
	l->tp_src = rte_cpu_to_be_16(sport);
	l->tp_dst = rte_cpu_to_be_16(dport);
}

/* A VXLAN stream from the remote VTEP (VNI 100) to a VM: TCP 5000->80. */
static void
ingress_stream(struct fp_flow_stream *s)
{
	memset(s, 0, sizeof(*s));
	s->dir = FP_FLOW_INGRESS;
	s->key.in_port = 1;
	s->key.shape = FP_PKT_SHAPE_VXLAN;
	s->key.vxlan_flags = RTE_BE32(0x08000000);
	s->key.vxlan_vni = rte_cpu_to_be_32(100 << 8);
	layer_ipv4(&s->key.layer[0], remote_mac, vtep_mac, 0xac1f0102,
		   0xac1f0101, IPPROTO_UDP, 49152, 4789);
	layer_ipv4(&s->key.layer[1], gw_mac, vm_mac, 0x0a000001, 0x0a000002,
		   IPPROTO_TCP, 5000, 80);
	s->out_port = 3;
	s->count = true;
	s->age_timeout = 10;
}

static void
expect_items(const struct fp_flow_rule *r, const enum rte_flow_item_type *t,
	     unsigned int n)
{
	unsigned int i;

	assert_int_equal(r->n_items, n);
	for (i = 0; i < n; i++)
		assert_int_equal(r->items[i].type, t[i]);
	assert_int_equal(r->items[n].type, RTE_FLOW_ITEM_TYPE_END);
}

static void
expect_actions(const struct fp_flow_rule *r,
	       const enum rte_flow_action_type *t, unsigned int n)
{
	unsigned int i;

	assert_int_equal(r->n_actions, n);
	for (i = 0; i < n; i++)
		assert_int_equal(r->actions[i].type, t[i]);
	assert_int_equal(r->actions[n].type, RTE_FLOW_ACTION_TYPE_END);
}

static void
test_ingress_ipv4_tcp(void **state)
{
	static const enum rte_flow_item_type items[] = {
		RTE_FLOW_ITEM_TYPE_ETH, RTE_FLOW_ITEM_TYPE_IPV4,
		RTE_FLOW_ITEM_TYPE_UDP, RTE_FLOW_ITEM_TYPE_VXLAN,
		RTE_FLOW_ITEM_TYPE_ETH, RTE_FLOW_ITEM_TYPE_IPV4,
		RTE_FLOW_ITEM_TYPE_TCP,
	};
	static const enum rte_flow_action_type actions[] = {
		RTE_FLOW_ACTION_TYPE_VXLAN_DECAP,
		RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT,
		RTE_FLOW_ACTION_TYPE_COUNT, RTE_FLOW_ACTION_TYPE_AGE,
	};
	const struct rte_flow_item_eth *eth, *eth_m;
	const struct rte_flow_item_ipv4 *ip, *ip_m;
	const struct rte_flow_item_udp *udp, *udp_m;
	const struct rte_flow_item_vxlan *vx;
	const struct rte_flow_item_tcp *tcp, *tcp_m;
	struct fp_flow_stream s;
	struct fp_flow_rule r;
	char err[128];

	(void)state;
	ingress_stream(&s);
	assert_int_equal(fp_flow_translate(&s, &r, err, sizeof(err)), 0);
	assert_int_equal(r.attr.transfer, 1);
	assert_int_equal(r.attr.ingress, 0);
	expect_items(&r, items, RTE_DIM(items));
	expect_actions(&r, actions, RTE_DIM(actions));

	/* Outer Ethernet: destination and type, not the source. */
	eth = r.items[0].spec;
	eth_m = r.items[0].mask;
	assert_memory_equal(eth->hdr.dst_addr.addr_bytes, vtep_mac, 6);
	assert_int_equal(eth_m->hdr.dst_addr.addr_bytes[5], 0xff);
	assert_int_equal(eth_m->hdr.src_addr.addr_bytes[0], 0);
	assert_int_equal(eth_m->hdr.ether_type, RTE_BE16(0xffff));
	ip = r.items[1].spec;
	ip_m = r.items[1].mask;
	assert_int_equal(ip->hdr.src_addr, RTE_BE32(0xac1f0102));
	assert_int_equal(ip->hdr.dst_addr, RTE_BE32(0xac1f0101));
	assert_int_equal(ip_m->hdr.src_addr, RTE_BE32(0xffffffff));
	/* Outer UDP: the destination port only. */
	udp = r.items[2].spec;
	udp_m = r.items[2].mask;
	assert_int_equal(udp->hdr.dst_port, RTE_BE16(4789));
	assert_int_equal(udp_m->hdr.dst_port, RTE_BE16(0xffff));
	assert_int_equal(udp_m->hdr.src_port, 0);
	vx = r.items[3].spec;
	assert_int_equal(vx->vni[0], 0);
	assert_int_equal(vx->vni[1], 0);
	assert_int_equal(vx->vni[2], 100);
	/* Inner Ethernet: both addresses. */
	eth = r.items[4].spec;
	eth_m = r.items[4].mask;
	assert_memory_equal(eth->hdr.src_addr.addr_bytes, gw_mac, 6);
	assert_int_equal(eth_m->hdr.src_addr.addr_bytes[0], 0xff);
	/* TCP: ports exact, SYN|FIN|RST must be clear. */
	tcp = r.items[6].spec;
	tcp_m = r.items[6].mask;
	assert_int_equal(tcp->hdr.src_port, RTE_BE16(5000));
	assert_int_equal(tcp->hdr.dst_port, RTE_BE16(80));
	assert_int_equal(tcp_m->hdr.src_port, RTE_BE16(0xffff));
	assert_int_equal(tcp->hdr.tcp_flags, 0);
	assert_int_equal(tcp_m->hdr.tcp_flags, 0x07);

	assert_int_equal(((const struct rte_flow_action_ethdev *)
			  r.actions[1].conf)->port_id, 3);
	assert_int_equal(((const struct rte_flow_action_age *)
			  r.actions[3].conf)->timeout, 10);
	assert_string_equal(r.shape, "ingress eth/ipv4/udp/vxlan/eth/ipv4/"
			    "tcp(flags) -> vxlan_decap/represented_port/"
			    "count/age");
}

static void
test_ingress_ipv6_inner_and_outer(void **state)
{
	static const enum rte_flow_item_type items[] = {
		RTE_FLOW_ITEM_TYPE_ETH, RTE_FLOW_ITEM_TYPE_IPV6,
		RTE_FLOW_ITEM_TYPE_UDP, RTE_FLOW_ITEM_TYPE_VXLAN,
		RTE_FLOW_ITEM_TYPE_ETH, RTE_FLOW_ITEM_TYPE_IPV6,
		RTE_FLOW_ITEM_TYPE_UDP,
	};
	const struct rte_flow_item_ipv6 *ip;
	const struct rte_flow_item_udp *udp;
	struct fp_flow_stream s;
	struct fp_flow_rule r;

	(void)state;
	ingress_stream(&s);
	layer_ipv6(&s.key.layer[0], IPPROTO_UDP, 40000, 4789);
	layer_ipv6(&s.key.layer[1], IPPROTO_UDP, 53, 5353);
	assert_int_equal(fp_flow_translate(&s, &r, NULL, 0), 0);
	expect_items(&r, items, RTE_DIM(items));
	ip = r.items[5].spec;
	assert_int_equal(ip->hdr.src_addr[0], 0xfd);
	assert_int_equal(ip->hdr.dst_addr[15], 2);
	assert_int_equal(ip->hdr.proto, IPPROTO_UDP);
	udp = r.items[6].spec;
	assert_int_equal(udp->hdr.src_port, RTE_BE16(53));
	assert_int_equal(udp->hdr.dst_port, RTE_BE16(5353));
	/* UDP has no flags to mask. */
	assert_string_equal(r.shape, "ingress eth/ipv6/udp/vxlan/eth/ipv6/udp"
			    " -> vxlan_decap/represented_port/count/age");
}

static void
test_ingress_inner_vlan(void **state)
{
	const struct rte_flow_item_vlan *v, *vm;
	const struct rte_flow_item_eth *eth;
	struct fp_flow_stream s;
	struct fp_flow_rule r;

	(void)state;
	ingress_stream(&s);
	s.key.layer[1].vlan_kind = FP_PKT_VLAN_8021Q;
	s.key.layer[1].vlan_tci = RTE_BE16(0x2064);
	s.rewrite = FP_FLOW_POP_VLAN;
	assert_int_equal(fp_flow_translate(&s, &r, NULL, 0), 0);
	assert_int_equal(r.items[4].type, RTE_FLOW_ITEM_TYPE_ETH);
	eth = r.items[4].spec;
	assert_int_equal(eth->hdr.ether_type, RTE_BE16(0x8100));
	assert_int_equal(r.items[5].type, RTE_FLOW_ITEM_TYPE_VLAN);
	v = r.items[5].spec;
	vm = r.items[5].mask;
	assert_int_equal(v->hdr.vlan_tci, RTE_BE16(0x2064));
	assert_int_equal(v->hdr.eth_proto, RTE_BE16(0x0800));
	assert_int_equal(vm->hdr.vlan_tci, RTE_BE16(0xefff));
	assert_int_equal(r.items[6].type, RTE_FLOW_ITEM_TYPE_IPV4);
	assert_int_equal(r.actions[1].type, RTE_FLOW_ACTION_TYPE_OF_POP_VLAN);
}

static void
test_nat_rewrites(void **state)
{
	static const enum rte_flow_action_type actions[] = {
		RTE_FLOW_ACTION_TYPE_VXLAN_DECAP,
		RTE_FLOW_ACTION_TYPE_SET_MAC_DST,
		RTE_FLOW_ACTION_TYPE_SET_IPV4_DST,
		RTE_FLOW_ACTION_TYPE_SET_TP_DST,
		RTE_FLOW_ACTION_TYPE_SET_TTL,
		RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT,
		RTE_FLOW_ACTION_TYPE_COUNT, RTE_FLOW_ACTION_TYPE_AGE,
	};
	const uint8_t new_mac[6] = { 0x52, 0x54, 0, 0, 0, 0x99 };
	uint32_t new_ip = RTE_BE32(0xc0a80a05);
	struct fp_flow_stream s;
	struct fp_flow_rule r;

	(void)state;
	ingress_stream(&s);
	s.rewrite = FP_FLOW_SET_DL_DST | FP_FLOW_SET_NW_DST |
		    FP_FLOW_SET_TP_DST | FP_FLOW_SET_TTL;
	memcpy(s.set_dl_dst, new_mac, 6);
	memcpy(s.set_nw_dst, &new_ip, 4);
	s.set_tp_dst = RTE_BE16(8080);
	s.set_ttl = 63;
	assert_int_equal(fp_flow_translate(&s, &r, NULL, 0), 0);
	expect_actions(&r, actions, RTE_DIM(actions));
	assert_memory_equal(((const struct rte_flow_action_set_mac *)
			     r.actions[1].conf)->mac_addr, new_mac, 6);
	assert_int_equal(((const struct rte_flow_action_set_ipv4 *)
			  r.actions[2].conf)->ipv4_addr, new_ip);
	assert_int_equal(((const struct rte_flow_action_set_tp *)
			  r.actions[3].conf)->port, RTE_BE16(8080));
	assert_int_equal(((const struct rte_flow_action_set_ttl *)
			  r.actions[4].conf)->ttl_value, 63);
}

/* Ethernet/IPv4/UDP/VXLAN, as the software path pushes it. */
static void
egress_stream(struct fp_flow_stream *s)
{
	uint8_t *e;

	memset(s, 0, sizeof(*s));
	s->dir = FP_FLOW_EGRESS;
	s->key.shape = FP_PKT_SHAPE_PLAIN;
	layer_ipv4(&s->key.layer[0], vm_mac, gw_mac, 0x0a000002, 0x0a000001,
		   IPPROTO_TCP, 80, 5000);
	e = s->encap;
	memcpy(e, remote_mac, 6);
	memcpy(e + 6, vtep_mac, 6);
	e[12] = 0x08;
	e[14] = 0x45;
	e[14 + 8] = 64;
	e[14 + 9] = IPPROTO_UDP;
	e[34 + 2] = 0x12;
	e[34 + 3] = 0xb5;
	e[42] = 0x08;
	e[49] = 100;
	s->encap_len = 50;
	s->out_port = 0;
	s->count = true;
}

static void
test_egress_raw_encap(void **state)
{
	static const enum rte_flow_item_type items[] = {
		RTE_FLOW_ITEM_TYPE_ETH, RTE_FLOW_ITEM_TYPE_IPV4,
		RTE_FLOW_ITEM_TYPE_TCP,
	};
	static const enum rte_flow_action_type actions[] = {
		RTE_FLOW_ACTION_TYPE_RAW_ENCAP,
		RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT,
		RTE_FLOW_ACTION_TYPE_COUNT,
	};
	const struct rte_flow_action_raw_encap *enc;
	struct fp_flow_stream s;
	struct fp_flow_rule r;

	(void)state;
	egress_stream(&s);
	assert_int_equal(fp_flow_translate(&s, &r, NULL, 0), 0);
	expect_items(&r, items, RTE_DIM(items));
	expect_actions(&r, actions, RTE_DIM(actions));
	enc = r.actions[0].conf;
	assert_int_equal(enc->size, 50);
	assert_null(enc->preserve);
	assert_memory_equal(enc->data, s.encap, 50);
	assert_string_equal(r.shape, "egress eth/ipv4/tcp(flags) -> raw_encap/"
			    "represented_port/count");
}

/* An outer header as OVS's tnl_push builds it: Ethernet, an 802.1Q tag if
 * 'vlan', IPv6 if 'ipv6' else IPv4 with 'ip_opt_words' words of options,
 * UDP 49153 to 4789, VXLAN VNI 100. Returns its length. */
static size_t
outer_header(uint8_t *e, bool vlan, bool ipv6, unsigned int ip_opt_words)
{
	size_t l3 = vlan ? 18 : 14, l4;

	memset(e, 0, FP_FLOW_MAX_ENCAP);
	memcpy(e, remote_mac, 6);
	memcpy(e + 6, vtep_mac, 6);
	if (vlan) {
		e[12] = 0x81;
		e[15] = 10;
	}
	e[l3 - 2] = ipv6 ? 0x86 : 0x08;
	e[l3 - 1] = ipv6 ? 0xdd : 0x00;
	if (ipv6) {
		e[l3] = 0x60;
		e[l3 + 6] = IPPROTO_UDP;
		e[l3 + 7] = 64;
		l4 = l3 + 40;
	} else {
		e[l3] = 0x45 + ip_opt_words;
		e[l3 + 8] = 64;
		e[l3 + 9] = IPPROTO_UDP;
		l4 = l3 + 20 + 4 * ip_opt_words;
	}
	e[l4 + 0] = 0xc0;
	e[l4 + 1] = 0x01;
	e[l4 + 2] = 0x12;
	e[l4 + 3] = 0xb5;
	e[l4 + 8] = 0x08;
	e[l4 + 14] = 100;
	return l4 + 16;
}

static void
test_encap_parse_finds_udp_in_each_outer_shape(void **state)
{
	uint8_t e[FP_FLOW_MAX_ENCAP];
	char err[96] = "";
	size_t len;

	(void)state;
	len = outer_header(e, false, false, 0);
	assert_int_equal(len, 50);
	assert_int_equal(fp_flow_encap_parse(e, len, err, sizeof(err)), 34);
	len = outer_header(e, true, false, 0);
	assert_int_equal(fp_flow_encap_parse(e, len, err, sizeof(err)), 38);
	len = outer_header(e, false, true, 0);
	assert_int_equal(fp_flow_encap_parse(e, len, err, sizeof(err)), 54);
	len = outer_header(e, true, true, 0);
	assert_int_equal(fp_flow_encap_parse(e, len, err, sizeof(err)), 58);
	assert_string_equal(err, "");
}

static void
test_encap_parse_accepts_ipv4_options(void **state)
{
	uint8_t e[FP_FLOW_MAX_ENCAP];
	size_t len;

	(void)state;
	len = outer_header(e, false, false, 2);
	assert_int_equal(len, 58);
	assert_int_equal(fp_flow_encap_parse(e, len, NULL, 0), 42);
}

static void
test_encap_parse_refuses_header_that_is_not_ip(void **state)
{
	uint8_t e[FP_FLOW_MAX_ENCAP];
	char err[96];
	size_t len;

	(void)state;
	len = outer_header(e, false, false, 0);
	e[12] = 0x88;
	e[13] = 0x47;	/* MPLS */
	assert_int_equal(fp_flow_encap_parse(e, len, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "an outer header that is not IPv4 or IPv6");

	/* 802.1ad outer tag: only 802.1Q is parsed. */
	len = outer_header(e, true, false, 0);
	e[12] = 0x88;
	e[13] = 0xa8;
	assert_int_equal(fp_flow_encap_parse(e, len, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "an outer header that is not IPv4 or IPv6");
}

static void
test_encap_parse_refuses_ipv6_extension_header(void **state)
{
	uint8_t e[FP_FLOW_MAX_ENCAP];
	char err[96];
	size_t len;

	(void)state;
	/* A hop-by-hop header of 8 bytes between IPv6 and UDP. */
	len = outer_header(e, false, true, 0);
	memmove(e + 62, e + 54, 16);
	memset(e + 54, 0, 8);
	e[54] = IPPROTO_UDP;
	e[20] = 0;
	assert_int_equal(fp_flow_encap_parse(e, len + 8, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "an outer header with IP options or "
			    "extension headers");
}

static void
test_encap_parse_refuses_bytes_after_vxlan(void **state)
{
	uint8_t e[FP_FLOW_MAX_ENCAP];
	char err[96];
	size_t len;

	(void)state;
	len = outer_header(e, false, false, 0);
	assert_int_equal(fp_flow_encap_parse(e, len + 4, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "an outer header with IP options or "
			    "extension headers");
}

static void
test_encap_parse_refuses_ip_protocol_other_than_udp(void **state)
{
	uint8_t e[FP_FLOW_MAX_ENCAP];
	char err[96];
	size_t len;

	(void)state;
	len = outer_header(e, false, false, 0);
	e[23] = IPPROTO_TCP;
	assert_int_equal(fp_flow_encap_parse(e, len, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "an outer header whose IP protocol is not "
			    "UDP");
	len = outer_header(e, false, true, 0);
	e[20] = 47;	/* GRE */
	assert_int_equal(fp_flow_encap_parse(e, len, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "an outer header whose IP protocol is not "
			    "UDP");
}

static void
test_encap_parse_refuses_too_short_or_too_long(void **state)
{
	uint8_t e[FP_FLOW_MAX_ENCAP + 1];
	char err[96];

	(void)state;
	outer_header(e, false, false, 0);
	assert_int_equal(fp_flow_encap_parse(e, FP_FLOW_MIN_ENCAP - 1, err,
					     sizeof(err)), -EINVAL);
	assert_string_equal(err, "an outer header shorter than "
			    "Ethernet/IPv4/UDP/VXLAN");
	assert_int_equal(fp_flow_encap_parse(e, FP_FLOW_MAX_ENCAP + 1, err,
					     sizeof(err)), -EINVAL);
	assert_string_equal(err, "an outer header longer than a rule takes");
}

static void
test_encap_set_writes_stream_udp_source_port(void **state)
{
	uint8_t e[FP_FLOW_MAX_ENCAP];
	struct fp_flow_stream s;
	struct fp_flow_rule r;
	size_t len;

	(void)state;
	egress_stream(&s);
	len = outer_header(e, true, true, 0);
	assert_int_equal(fp_flow_encap_set(&s, e, len, RTE_BE16(0xd431),
					   NULL, 0), 0);
	assert_int_equal(s.encap_len, len);
	assert_int_equal(s.encap[58], 0xd4);
	assert_int_equal(s.encap[59], 0x31);
	e[58] = 0xd4;
	e[59] = 0x31;
	assert_memory_equal(s.encap, e, len);
	assert_int_equal(fp_flow_translate(&s, &r, NULL, 0), 0);
}

static void
test_encap_set_leaves_stream_unchanged_on_refusal(void **state)
{
	uint8_t e[FP_FLOW_MAX_ENCAP];
	struct fp_flow_stream s, before;
	char err[96];
	size_t len;

	(void)state;
	egress_stream(&s);
	before = s;
	len = outer_header(e, false, false, 0);
	e[23] = IPPROTO_TCP;
	assert_int_equal(fp_flow_encap_set(&s, e, len, RTE_BE16(1), err,
					   sizeof(err)), -EINVAL);
	assert_string_equal(err, "an outer header whose IP protocol is not "
			    "UDP");
	assert_memory_equal(&s, &before, sizeof(s));
}

/* Starts 's' as ingress_stream() and 'h' as its inner layer before any
 * action; returns that layer. */
static const struct fp_pkt_layer *
rewrite_start(struct fp_flow_stream *s, struct fp_flow_hdr *h)
{
	ingress_stream(s);
	fp_flow_hdr_from_layer(h, &s->key.layer[1]);
	return &s->key.layer[1];
}

static void
test_rewrite_diff_of_untouched_header_is_empty(void **state)
{
	struct fp_flow_stream s, before;
	struct fp_flow_hdr h;
	struct fp_pkt_layer *l;

	(void)state;
	ingress_stream(&s);
	l = &s.key.layer[1];
	l->vlan_kind = FP_PKT_VLAN_8021Q;
	l->vlan_tci = RTE_BE16(0x2064);
	before = s;
	fp_flow_hdr_from_layer(&h, l);
	assert_int_equal(fp_flow_rewrite_diff(l, &h, &s), 0);
	assert_memory_equal(&s, &before, sizeof(s));

	layer_ipv6(l, IPPROTO_TCP, 5000, 80);
	before = s;
	fp_flow_hdr_from_layer(&h, l);
	assert_int_equal(fp_flow_rewrite_diff(l, &h, &s), 0);
	assert_memory_equal(&s, &before, sizeof(s));
}

static void
test_rewrite_diff_nat_sets_addresses_and_ports(void **state)
{
	static const uint8_t snat[4] = { 192, 0, 2, 7 };
	struct fp_flow_stream s;
	struct fp_flow_hdr h;
	const struct fp_pkt_layer *l;
	uint32_t bits;

	(void)state;
	l = rewrite_start(&s, &h);
	memcpy(h.nw_src, snat, 4);
	h.tp_src = RTE_BE16(40000);
	bits = fp_flow_rewrite_diff(l, &h, &s);
	assert_int_equal(bits, FP_FLOW_SET_NW_SRC | FP_FLOW_SET_TP_SRC);
	assert_int_equal(s.rewrite, bits);
	assert_memory_equal(s.set_nw_src, snat, 4);
	assert_int_equal(s.set_tp_src, RTE_BE16(40000));
	assert_true(bits & FP_FLOW_SET_TUPLE);
}

static void
test_rewrite_diff_compares_ipv4_on_four_bytes(void **state)
{
	struct fp_flow_stream s;
	struct fp_flow_hdr h;
	const struct fp_pkt_layer *l;

	(void)state;
	l = rewrite_start(&s, &h);
	/* What a 16-byte copy of a NAT tuple may leave past an IPv4
	 * address is not a rewrite. */
	memset(h.nw_dst + 4, 0xee, 12);
	assert_int_equal(fp_flow_rewrite_diff(l, &h, &s), 0);

	layer_ipv6(&s.key.layer[1], IPPROTO_TCP, 5000, 80);
	fp_flow_hdr_from_layer(&h, l);
	h.nw_dst[15] = 9;
	assert_int_equal(fp_flow_rewrite_diff(l, &h, &s),
			 FP_FLOW_SET_NW_DST);
	assert_int_equal(s.set_nw_dst[15], 9);
}

static void
test_rewrite_diff_routing_sets_macs_and_ttl_not_tuple(void **state)
{
	struct fp_flow_stream s;
	struct fp_flow_hdr h;
	const struct fp_pkt_layer *l;
	uint32_t bits;

	(void)state;
	l = rewrite_start(&s, &h);
	memcpy(h.dl_src, vtep_mac, 6);
	memcpy(h.dl_dst, remote_mac, 6);
	h.ttl = 63;
	bits = fp_flow_rewrite_diff(l, &h, &s);
	assert_int_equal(bits, FP_FLOW_SET_DL_SRC | FP_FLOW_SET_DL_DST |
			 FP_FLOW_SET_TTL);
	assert_memory_equal(s.set_dl_src, vtep_mac, 6);
	assert_memory_equal(s.set_dl_dst, remote_mac, 6);
	assert_int_equal(s.set_ttl, 63);
	assert_false(bits & FP_FLOW_SET_TUPLE);
}

static void
test_rewrite_diff_vlan_pop_push_and_retag(void **state)
{
	struct fp_flow_stream s;
	struct fp_flow_hdr h;
	struct fp_pkt_layer *l;

	(void)state;
	ingress_stream(&s);
	l = &s.key.layer[1];
	/* Untagged, then tagged: push. */
	fp_flow_hdr_from_layer(&h, l);
	h.vlan = true;
	h.vlan_tci = RTE_BE16(0x000a);
	assert_int_equal(fp_flow_rewrite_diff(l, &h, &s), FP_FLOW_PUSH_VLAN);
	assert_int_equal(s.push_vlan_tci, RTE_BE16(0x000a));

	/* Tagged, then untagged: pop. */
	ingress_stream(&s);
	l->vlan_kind = FP_PKT_VLAN_8021Q;
	l->vlan_tci = RTE_BE16(0x000a);
	fp_flow_hdr_from_layer(&h, l);
	assert_true(h.vlan);
	h.vlan = false;
	assert_int_equal(fp_flow_rewrite_diff(l, &h, &s), FP_FLOW_POP_VLAN);

	/* Tagged, then another tag: pop and push. */
	ingress_stream(&s);
	l->vlan_kind = FP_PKT_VLAN_8021Q;
	l->vlan_tci = RTE_BE16(0x000a);
	fp_flow_hdr_from_layer(&h, l);
	h.vlan_tci = RTE_BE16(0x000b);
	assert_int_equal(fp_flow_rewrite_diff(l, &h, &s),
			 FP_FLOW_POP_VLAN | FP_FLOW_PUSH_VLAN);
	assert_int_equal(s.push_vlan_tci, RTE_BE16(0x000b));
}

static void
test_rewrite_diff_adds_to_stream_rewrites(void **state)
{
	struct fp_flow_stream s;
	struct fp_flow_hdr h;
	const struct fp_pkt_layer *l;

	(void)state;
	l = rewrite_start(&s, &h);
	s.rewrite = FP_FLOW_SET_TTL;
	s.set_ttl = 10;
	h.tp_dst = RTE_BE16(8080);
	assert_int_equal(fp_flow_rewrite_diff(l, &h, &s), FP_FLOW_SET_TP_DST);
	assert_int_equal(s.rewrite, FP_FLOW_SET_TTL | FP_FLOW_SET_TP_DST);
	assert_int_equal(s.set_ttl, 10);
}

static void
test_meter_and_port_id(void **state)
{
	static const enum rte_flow_action_type actions[] = {
		RTE_FLOW_ACTION_TYPE_VXLAN_DECAP, RTE_FLOW_ACTION_TYPE_METER,
		RTE_FLOW_ACTION_TYPE_PORT_ID, RTE_FLOW_ACTION_TYPE_COUNT,
		RTE_FLOW_ACTION_TYPE_AGE,
	};
	struct fp_flow_stream s;
	struct fp_flow_rule r;

	(void)state;
	ingress_stream(&s);
	s.has_meter = true;
	s.meter_id = 7;
	s.use_port_id = true;
	assert_int_equal(fp_flow_translate(&s, &r, NULL, 0), 0);
	expect_actions(&r, actions, RTE_DIM(actions));
	assert_int_equal(((const struct rte_flow_action_meter *)
			  r.actions[1].conf)->mtr_id, 7);
	assert_int_equal(((const struct rte_flow_action_port_id *)
			  r.actions[2].conf)->id, 3);
}

static void
test_hw_conntrack_mode(void **state)
{
	const struct rte_flow_item_tcp *tcp_m;
	const struct rte_flow_item_conntrack *ct;
	struct fp_flow_stream s;
	struct fp_flow_rule r;
	int handle;

	(void)state;
	ingress_stream(&s);
	s.ct_mode = FP_FLOW_CT_HW;
	s.ct_handle = (struct rte_flow_action_handle *)&handle;
	assert_int_equal(fp_flow_translate(&s, &r, NULL, 0), 0);
	assert_int_equal(r.items[6].type, RTE_FLOW_ITEM_TYPE_TCP);
	tcp_m = r.items[6].mask;
	assert_int_equal(tcp_m->hdr.tcp_flags, 0);
	assert_int_equal(r.items[7].type, RTE_FLOW_ITEM_TYPE_CONNTRACK);
	ct = r.items[7].spec;
	assert_int_equal(ct->flags, RTE_FLOW_CONNTRACK_PKT_STATE_VALID);
	/* Changed (SYN, FIN, RST) or invalid packets must miss. */
	ct = r.items[7].mask;
	assert_true(ct->flags & RTE_FLOW_CONNTRACK_PKT_STATE_CHANGED);
	assert_true(ct->flags & RTE_FLOW_CONNTRACK_PKT_STATE_INVALID);
	assert_int_equal(r.actions[1].type, RTE_FLOW_ACTION_TYPE_INDIRECT);
	assert_ptr_equal(r.actions[1].conf, &handle);
	/* Only TCP connections are tracked by the NIC. */
	s.key.layer[1].nw_proto = IPPROTO_UDP;
	assert_int_equal(fp_flow_translate(&s, &r, NULL, 0), -ENOTSUP);
}

static void
test_refusals_say_why(void **state)
{
	struct fp_flow_stream s;
	struct fp_flow_rule r;
	char err[160];

	(void)state;
	ingress_stream(&s);
	s.key.layer[1].nw_proto = IPPROTO_ICMP;
	assert_int_equal(fp_flow_translate(&s, &r, err, sizeof(err)),
			 -ENOTSUP);
	assert_non_null(strstr(err, "ICMP is not offloaded"));

	ingress_stream(&s);
	s.key.shape = FP_PKT_SHAPE_PLAIN;
	assert_int_equal(fp_flow_translate(&s, &r, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "needs a VXLAN stream"));

	ingress_stream(&s);
	s.ct_mode = FP_FLOW_CT_HW;
	assert_int_equal(fp_flow_translate(&s, &r, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "CONNTRACK handle"));

	egress_stream(&s);
	s.encap[23] = IPPROTO_TCP;
	assert_int_equal(fp_flow_translate(&s, &r, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "the encapsulation (50 bytes) is not "
			    "Ethernet/IPv4|IPv6/UDP/VXLAN: an outer header "
			    "whose IP protocol is not UDP");

	ingress_stream(&s);
	s.key.layer[1].vlan_kind = FP_PKT_VLAN_8021Q;
	s.rewrite = FP_FLOW_PUSH_VLAN;
	assert_int_equal(fp_flow_translate(&s, &r, err, sizeof(err)),
			 -ENOTSUP);
	assert_non_null(strstr(err, "two tags"));
}

static void
test_shapes_ignore_values(void **state)
{
	struct fp_flow_stream a, b;
	struct fp_flow_rule ra, rb;

	(void)state;
	ingress_stream(&a);
	ingress_stream(&b);
	b.key.layer[1].tp_src = RTE_BE16(6000);
	b.key.vxlan_vni = rte_cpu_to_be_32(200 << 8);
	assert_int_equal(fp_flow_translate(&a, &ra, NULL, 0), 0);
	assert_int_equal(fp_flow_translate(&b, &rb, NULL, 0), 0);
	assert_string_equal(ra.shape, rb.shape);

	layer_ipv6(&b.key.layer[1], IPPROTO_TCP, 1, 2);
	assert_int_equal(fp_flow_translate(&b, &rb, NULL, 0), 0);
	assert_string_not_equal(ra.shape, rb.shape);

	ingress_stream(&b);
	b.count = false;
	assert_int_equal(fp_flow_translate(&b, &rb, NULL, 0), 0);
	assert_string_not_equal(ra.shape, rb.shape);
}

static void
test_copy_points_into_the_copy(void **state)
{
	struct fp_flow_stream s;
	struct fp_flow_rule *r = malloc(sizeof(*r));
	struct fp_flow_rule copy;
	const struct rte_flow_item_tcp *tcp;
	unsigned int i;

	(void)state;
	assert_non_null(r);
	egress_stream(&s);
	assert_int_equal(fp_flow_translate(&s, r, NULL, 0), 0);
	fp_flow_rule_copy(&copy, r);
	memset(r, 0xa5, sizeof(*r));
	free(r);
	for (i = 0; i < copy.n_items; i++) {
		const char *p = copy.items[i].spec;

		assert_true(p >= (const char *)&copy.st &&
			    p < (const char *)&copy.st + sizeof(copy.st));
	}
	tcp = copy.items[2].spec;
	assert_int_equal(tcp->hdr.dst_port, RTE_BE16(5000));
	assert_ptr_equal(((const struct rte_flow_action_raw_encap *)
			  copy.actions[0].conf)->data, copy.st.encap_data);
	assert_int_equal(copy.st.encap_data[49], 100);
}

static void
test_format_is_testpmd_syntax(void **state)
{
	struct fp_flow_stream s;
	struct fp_flow_rule r;
	char buf[1024];
	int n;

	(void)state;
	ingress_stream(&s);
	assert_int_equal(fp_flow_translate(&s, &r, NULL, 0), 0);
	n = fp_flow_rule_format(&r, 0, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf,
		"flow create 0 transfer pattern"
		" eth dst is 02:00:00:00:00:01 type is 0x0800 /"
		" ipv4 src is 172.31.1.2 dst is 172.31.1.1 proto is 17 /"
		" udp dst is 4789 / vxlan vni is 100 /"
		" eth dst is 52:54:00:00:00:10 src is 52:54:00:00:00:01"
		" type is 0x0800 /"
		" ipv4 src is 10.0.0.1 dst is 10.0.0.2 proto is 6 /"
		" tcp src is 5000 dst is 80 flags spec 0x00 flags mask 0x07 /"
		" end actions vxlan_decap / represented_port ethdev_port_id 3"
		" / count / age timeout 10 / end");
}

static void
test_format_names_every_egress_item_and_action(void **state)
{
	static const uint8_t new_ip6[16] = { 0xfd, [15] = 0x99 };
	struct fp_flow_stream s;
	struct fp_flow_rule r;
	char buf[2048];
	int handle, n;

	(void)state;
	egress_stream(&s);
	layer_ipv6(&s.key.layer[0], IPPROTO_TCP, 80, 5000);
	s.key.layer[0].vlan_kind = FP_PKT_VLAN_8021Q;
	s.key.layer[0].vlan_tci = RTE_BE16(0x200a);
	s.ct_mode = FP_FLOW_CT_HW;
	s.ct_handle = (struct rte_flow_action_handle *)&handle;
	s.rewrite = FP_FLOW_POP_VLAN | FP_FLOW_SET_DL_SRC |
		    FP_FLOW_SET_DL_DST | FP_FLOW_SET_NW_SRC |
		    FP_FLOW_SET_NW_DST | FP_FLOW_SET_TP_SRC |
		    FP_FLOW_SET_TP_DST | FP_FLOW_SET_TTL | FP_FLOW_PUSH_VLAN;
	memcpy(s.set_dl_src, gw_mac, 6);
	memcpy(s.set_dl_dst, remote_mac, 6);
	memcpy(s.set_nw_src, new_ip6, 16);
	memcpy(s.set_nw_dst, new_ip6, 16);
	s.set_tp_src = RTE_BE16(81);
	s.set_tp_dst = RTE_BE16(5001);
	s.set_ttl = 9;
	s.push_vlan_tci = RTE_BE16(0x600b);
	s.has_meter = true;
	s.meter_id = 4;
	s.use_port_id = true;
	s.out_port = 2;
	s.age_timeout = 30;
	assert_int_equal(fp_flow_translate(&s, &r, NULL, 0), 0);
	n = fp_flow_rule_format(&r, 5, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf,
		"flow create 5 transfer pattern"
		" eth dst is 52:54:00:00:00:10 src is 02:00:00:00:00:02"
		" type is 0x8100 /"
		" vlan tci spec 0x200a tci mask 0xefff inner_type is 0x86dd /"
		" ipv6 src is fd00:0:0:0:0:0:0:1 dst is fd00:0:0:0:0:0:0:2"
		" proto is 6 /"
		" tcp src is 80 dst is 5000 /"
		" conntrack is 0x1 /"
		" end actions indirect / of_pop_vlan /"
		" set_mac_src mac_addr is 52:54:00:00:00:01 /"
		" set_mac_dst mac_addr is 02:00:00:00:00:02 /"
		" set_ipv6_src ipv6_addr is fd00:0:0:0:0:0:0:99 /"
		" set_ipv6_dst ipv6_addr is fd00:0:0:0:0:0:0:99 /"
		" set_tp_src port 81 / set_tp_dst port 5001 /"
		" set_ttl ttl_value 9 /"
		" of_push_vlan ethertype 0x8100 /"
		" of_set_vlan_vid vlan_vid 11 / of_set_vlan_pcp vlan_pcp 3 /"
		" raw_encap size 50 / meter mtr_id 4 / port_id id 2 / count /"
		" age timeout 30 / end");
}

static void
test_format_names_ipv4_rewrites_and_inner_udp(void **state)
{
	uint32_t new_src = RTE_BE32(0xc0a80a05);
	uint32_t new_dst = RTE_BE32(0x0a0a0a0a);
	struct fp_flow_stream s;
	struct fp_flow_rule r;
	char buf[2048];

	(void)state;
	ingress_stream(&s);
	s.key.layer[1].nw_proto = IPPROTO_UDP;
	s.rewrite = FP_FLOW_SET_NW_SRC | FP_FLOW_SET_NW_DST;
	memcpy(s.set_nw_src, &new_src, 4);
	memcpy(s.set_nw_dst, &new_dst, 4);
	assert_int_equal(fp_flow_translate(&s, &r, NULL, 0), 0);
	fp_flow_rule_format(&r, 1, buf, sizeof(buf));
	assert_string_equal(buf,
		"flow create 1 transfer pattern"
		" eth dst is 02:00:00:00:00:01 type is 0x0800 /"
		" ipv4 src is 172.31.1.2 dst is 172.31.1.1 proto is 17 /"
		" udp dst is 4789 / vxlan vni is 100 /"
		" eth dst is 52:54:00:00:00:10 src is 52:54:00:00:00:01"
		" type is 0x0800 /"
		" ipv4 src is 10.0.0.1 dst is 10.0.0.2 proto is 17 /"
		" udp src is 5000 dst is 80 /"
		" end actions vxlan_decap /"
		" set_ipv4_src ipv4_addr is 192.168.10.5 /"
		" set_ipv4_dst ipv4_addr is 10.10.10.10 /"
		" represented_port ethdev_port_id 3 / count / age timeout 10 /"
		" end");
}

static void
test_probe_remembers_rejection(void **state)
{
	struct fp_flow_probe *p = fp_flow_probe_create();
	struct fp_flow_stream s;
	struct fp_flow_rule r;
	char err1[256], err2[256], list[2048], why[256];
	uint16_t port;
	const char *nl;

	(void)state;
	assert_non_null(p);
	assert_int_equal(rte_eth_dev_get_port_by_name("net_null0", &port), 0);
	ingress_stream(&s);
	assert_int_equal(fp_flow_translate(&s, &r, NULL, 0), 0);

	/* net_null has no rte_flow: the shape is rejected, with a reason. */
	assert_true(fp_flow_probe_check(p, port, &r, err1, sizeof(err1)) < 0);
	assert_true(strlen(err1) > 0);
	assert_true(fp_flow_probe_check(p, port, &r, err2, sizeof(err2)) < 0);
	assert_string_equal(err1, err2);
	fp_flow_probe_format(p, port, "  ", list, sizeof(list));
	assert_non_null(strstr(list, r.shape));
	assert_non_null(strstr(list, "rejected: "));
	nl = strchr(list, '\n');
	assert_non_null(nl);
	assert_string_equal(nl + 1, "");

	assert_int_equal(fp_flow_probe_ct(p, port, why, sizeof(why)),
			 FP_FLOW_CT_FLAGS);
	assert_true(strlen(why) > 0);
	assert_string_equal(fp_flow_ct_mode_name(FP_FLOW_CT_FLAGS),
			    "tcp-flags");

	fp_flow_probe_forget(p, port);
	fp_flow_probe_format(p, port, "  ", list, sizeof(list));
	assert_string_equal(list, "");
	fp_flow_probe_free(p);
}

int
main(void)
{
	char prefix[64];
	int ret;
	char *argv[] = {
		"test_fp_flow", "--no-huge", "--no-pci", "-m", "64",
		"--no-shconf", "--log-level=error", "-l", "0",
		"--vdev=net_null0", prefix,
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ingress_ipv4_tcp),
		cmocka_unit_test(test_ingress_ipv6_inner_and_outer),
		cmocka_unit_test(test_ingress_inner_vlan),
		cmocka_unit_test(test_nat_rewrites),
		cmocka_unit_test(test_egress_raw_encap),
		cmocka_unit_test(
			test_encap_parse_finds_udp_in_each_outer_shape),
		cmocka_unit_test(test_encap_parse_accepts_ipv4_options),
		cmocka_unit_test(
			test_encap_parse_refuses_header_that_is_not_ip),
		cmocka_unit_test(
			test_encap_parse_refuses_ipv6_extension_header),
		cmocka_unit_test(test_encap_parse_refuses_bytes_after_vxlan),
		cmocka_unit_test(
			test_encap_parse_refuses_ip_protocol_other_than_udp),
		cmocka_unit_test(
			test_encap_parse_refuses_too_short_or_too_long),
		cmocka_unit_test(test_encap_set_writes_stream_udp_source_port),
		cmocka_unit_test(
			test_encap_set_leaves_stream_unchanged_on_refusal),
		cmocka_unit_test(
			test_rewrite_diff_of_untouched_header_is_empty),
		cmocka_unit_test(
			test_rewrite_diff_nat_sets_addresses_and_ports),
		cmocka_unit_test(test_rewrite_diff_compares_ipv4_on_four_bytes),
		cmocka_unit_test(
			test_rewrite_diff_routing_sets_macs_and_ttl_not_tuple),
		cmocka_unit_test(test_rewrite_diff_vlan_pop_push_and_retag),
		cmocka_unit_test(test_rewrite_diff_adds_to_stream_rewrites),
		cmocka_unit_test(test_meter_and_port_id),
		cmocka_unit_test(test_hw_conntrack_mode),
		cmocka_unit_test(test_refusals_say_why),
		cmocka_unit_test(test_shapes_ignore_values),
		cmocka_unit_test(test_copy_points_into_the_copy),
		cmocka_unit_test(test_format_is_testpmd_syntax),
		cmocka_unit_test(
			test_format_names_every_egress_item_and_action),
		cmocka_unit_test(test_format_names_ipv4_rewrites_and_inner_udp),
		cmocka_unit_test(test_probe_remembers_rejection),
	};

	snprintf(prefix, sizeof(prefix), "--file-prefix=fpflow-test-%d",
		 (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0) {
		fprintf(stderr, "test_fp_flow: cannot start the EAL\n");
		return 1;
	}
	ret = cmocka_run_group_tests_name("fp_flow", tests, NULL, NULL);
	fp_test_eal_finish();
	return ret;
}
