/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The rule tables of the test e-switch (tests/eswitch/fp_eswitch_lookup.c):
 * a lookup must give the rules whose headers match a frame in exactly the
 * order a walk of the port's list gives them, and the list must keep the
 * order the e-switch always had (by priority, then by creation). Checked
 * against a model of that order, over random rules of several shapes
 * (with 'any' items, prefixes, all-zero masks, duplicates, priorities),
 * random frames, churn, the fallback to the list walk, the rules by
 * address, and 100,000 rules of one shape. No EAL: the tables use only
 * malloc and a CRC.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "fp_eswitch.h"

/* Frames. */

/* What varies between test frames: each field takes a few values, so
 * that random rules and frames meet. */
struct frame_spec {
	bool vxlan;                     /* VXLAN over IPv4/UDP, or plain. */
	bool vlan;                      /* A VLAN tag on the (inner) frame. */
	uint8_t outer_src;              /* Last byte of 10.0.0.x. */
	uint32_t vni;
	uint32_t src;                   /* Inner IPv4 source. */
	uint8_t dst;                    /* Last byte of 192.168.1.x. */
	uint8_t proto;                  /* IPPROTO_TCP or IPPROTO_UDP. */
	uint16_t sport;
	uint16_t dport;
	uint8_t flags;                  /* TCP flags. */
};

/* The frame the tests start from: an ACK of a TCP stream in VXLAN. */
static const struct frame_spec base_frame = {
	.vxlan = true, .outer_src = 1, .vni = 100, .src = 0xc0a80001,
	.dst = 1, .proto = IPPROTO_TCP, .sport = 5000, .dport = 80,
	.flags = 0x10,
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Writes Ethernet, IPv4 (20 bytes) and UDP or TCP headers; returns the
 * length written. */
static size_t
put_packet(uint8_t *p, bool vlan, uint32_t src, uint32_t dst, uint8_t proto,
	   uint16_t sport, uint16_t dport, uint8_t flags, size_t payload)
{
	size_t l4 = proto == IPPROTO_TCP ? 20 : 8, n = 0;

	memcpy(p, "\x52\x54\x00\x00\x00\x10\x52\x54\x00\x00\x00\x01", 12);
	n = 12;
	if (vlan) {
		put16(p + n, 0x8100);
		put16(p + n + 2, 100);
		n += 4;
	}
	put16(p + n, 0x0800);
	n += 2;
	memset(p + n, 0, 20);
	p[n] = 0x45;
	put16(p + n + 2, (uint16_t)(20 + l4 + payload));
	p[n + 8] = 64;
	p[n + 9] = proto;
	put32(p + n + 12, src);
	put32(p + n + 16, dst);
	n += 20;
	memset(p + n, 0, l4);
	put16(p + n, sport);
	put16(p + n + 2, dport);
	if (proto == IPPROTO_TCP) {
		p[n + 12] = 0x50;
		p[n + 13] = flags;
	} else {
		put16(p + n + 4, (uint16_t)(8 + payload));
	}
	return n + l4;
}

static uint16_t
make_frame(uint8_t *f, const struct frame_spec *s)
{
	size_t n = 0, in;

	if (s->vxlan) {
		n = put_packet(f, false, 0x0a000000 | s->outer_src,
			       0x0a0000fe, IPPROTO_UDP, 49152, 4789, 0,
			       8 + 14 + 20 + 20);
		memset(f + n, 0, 8);
		f[n] = 0x08;
		put32(f + n + 4, s->vni << 8);
		n += 8;
	}
	in = put_packet(f + n, s->vlan, s->src, 0xc0a80100 | s->dst,
			s->proto, s->sport, s->dport, s->flags, 0);
	return (uint16_t)(n + in);
}

static void
random_spec(struct frame_spec *s)
{
	static const uint8_t flags[] = { 0x02, 0x10, 0x12, 0x18, 0x11, 0x04 };

	memset(s, 0, sizeof(*s));
	s->vxlan = rand() % 4 != 0;
	s->vlan = rand() % 8 == 0;
	s->outer_src = (uint8_t)(1 + rand() % 2);
	s->vni = 100 + (uint32_t)(rand() % 3);
	s->src = 0xc0a80000 | (uint32_t)(rand() % 4) << 8 |
		 (uint32_t)(rand() % 4);
	s->dst = (uint8_t)(1 + rand() % 2);
	s->proto = rand() % 5 == 0 ? IPPROTO_UDP : IPPROTO_TCP;
	s->sport = (uint16_t)(5000 + rand() % 6);
	s->dport = rand() % 2 ? 80 : 443;
	s->flags = flags[rand() % (int)sizeof(flags)];
}

/* Rules. */

/* How a rule's items are made from a frame's headers. */
enum shape_kind {
	SHAPE_VXLAN_TCP,        /* Outer and inner, 5-tuple, as Foldpath. */
	SHAPE_VXLAN_TCP_FLAGS,  /* The same and TCP flags. */
	SHAPE_VXLAN_ONLY,       /* Up to the VNI. */
	SHAPE_PLAIN_TCP,        /* Eth / IPv4 / TCP, no tunnel. */
	SHAPE_ANY_ETH,          /* An Ethernet header: every frame. */
	SHAPE_ZERO_MASK_ETH,    /* A spec with a mask of zeros. */
	SHAPE_VXLAN_PREFIX,     /* Inner source /24, any inner L4. */
	SHAPE_KINDS,
};

/* The port under test, and the model of its list: 'order' holds the live
 * rules in the order the e-switch has always kept them (inserted before
 * the first rule of a higher priority). */
static struct fpesw_port port;
static struct rte_flow **order;
static unsigned int n_order, cap_order;

static void
port_init(void)
{
	memset(&port, 0, sizeof(port));
	TAILQ_INIT(&port.rules);
	LIST_INIT(&port.shapes);
	n_order = 0;
}

/* Sets item 'i' of 'flow' to the header 'i' of frame 'f' (headers 'h'),
 * under 'mask' ('len' bytes, the rest 0), or to any header of its type. */
static void
set_item(struct rte_flow *flow, unsigned int i, const uint8_t *f,
	 const struct fpesw_hdrs *h, bool any, const uint8_t *mask,
	 size_t len)
{
	struct fpesw_item *it = &flow->items[i];
	const void *dm;
	size_t hl = fpesw_item_hdr(h->type[i], &dm), b;

	it->type = h->type[i];
	it->any = any;
	if (any)
		return;
	memcpy(it->spec, f + h->ofs[i], hl);
	/* Bytes outside the mask must not count: scramble them. */
	for (b = 0; b < hl; b++)
		if (b >= len || mask[b] != 0xff)
			it->spec[b] ^= (uint8_t)(rand() & ~(b < len ?
							   mask[b] : 0));
	memset(it->mask, 0, sizeof(it->mask));
	memcpy(it->mask, mask, len);
}

static const uint8_t ipv4_addrs[20] = {
	[12] = 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};
static const uint8_t ipv4_src24[16] = { [12] = 0xff, 0xff, 0xff, 0 };
static const uint8_t udp_dst[4] = { 0, 0, 0xff, 0xff };
static const uint8_t l4_ports[4] = { 0xff, 0xff, 0xff, 0xff };
static const uint8_t tcp_ports_flags[14] = {
	0xff, 0xff, 0xff, 0xff, [13] = 0x17,
};
static const uint8_t vxlan_vni[8] = { [4] = 0xff, 0xff, 0xff };
static const uint8_t eth_type[14] = { [12] = 0xff, 0xff };
static const uint8_t zeros[14];

/* Makes a rule of shape 'kind' matching frame 'f', or NULL if the frame
 * has not the headers of the shape. */
static struct rte_flow *
make_rule(enum shape_kind kind, const uint8_t *f, uint16_t len,
	  uint32_t priority)
{
	struct rte_flow *flow = calloc(1, sizeof(*flow));
	struct fpesw_hdrs h;
	unsigned int n;

	assert_non_null(flow);
	fpesw_parse(f, len, &h);
	flow->priority = priority;
	switch (kind) {
	case SHAPE_VXLAN_TCP:
	case SHAPE_VXLAN_TCP_FLAGS:
	case SHAPE_VXLAN_PREFIX:
		if (h.n != 7 || h.type[3] != RTE_FLOW_ITEM_TYPE_VXLAN ||
		    h.type[6] != RTE_FLOW_ITEM_TYPE_TCP)
			goto no;
		set_item(flow, 0, f, &h, true, NULL, 0);
		set_item(flow, 1, f, &h, false, ipv4_addrs, 20);
		set_item(flow, 2, f, &h, false, udp_dst, 4);
		set_item(flow, 3, f, &h, false, vxlan_vni, 8);
		set_item(flow, 4, f, &h, false, eth_type, 14);
		if (kind == SHAPE_VXLAN_PREFIX) {
			set_item(flow, 5, f, &h, false, ipv4_src24, 16);
			set_item(flow, 6, f, &h, true, NULL, 0);
		} else {
			set_item(flow, 5, f, &h, false, ipv4_addrs, 20);
			if (kind == SHAPE_VXLAN_TCP)
				set_item(flow, 6, f, &h, false, l4_ports, 4);
			else
				set_item(flow, 6, f, &h, false,
					 tcp_ports_flags, 14);
		}
		n = 7;
		break;
	case SHAPE_VXLAN_ONLY:
		if (h.n < 4 || h.type[3] != RTE_FLOW_ITEM_TYPE_VXLAN)
			goto no;
		set_item(flow, 0, f, &h, true, NULL, 0);
		set_item(flow, 1, f, &h, false, ipv4_addrs, 20);
		set_item(flow, 2, f, &h, true, NULL, 0);
		set_item(flow, 3, f, &h, false, vxlan_vni, 8);
		n = 4;
		break;
	case SHAPE_PLAIN_TCP:
		if (h.n != 3 || h.type[2] != RTE_FLOW_ITEM_TYPE_TCP)
			goto no;
		set_item(flow, 0, f, &h, false, eth_type, 14);
		set_item(flow, 1, f, &h, false, ipv4_addrs, 20);
		set_item(flow, 2, f, &h, false, l4_ports, 4);
		n = 3;
		break;
	case SHAPE_ANY_ETH:
		set_item(flow, 0, f, &h, true, NULL, 0);
		n = 1;
		break;
	case SHAPE_ZERO_MASK_ETH:
		set_item(flow, 0, f, &h, false, zeros, 14);
		n = 1;
		break;
	default:
		goto no;
	}
	flow->n_items = n;
	return flow;
no:
	free(flow);
	return NULL;
}

/* Links 'flow' into the port and into the model, where the e-switch
 * always put it: before the first rule of a higher priority. */
static void
add(struct rte_flow *flow)
{
	unsigned int i;

	assert_int_equal(fpesw_rule_link(&port, flow), 0);
	if (n_order == cap_order) {
		cap_order = cap_order ? cap_order * 2 : 1024;
		order = realloc(order, cap_order * sizeof(*order));
		assert_non_null(order);
	}
	/* The first of a higher priority, sought from the end (the model's
	 * order is by priority). */
	for (i = n_order; i > 0; i--)
		if (order[i - 1]->priority <= flow->priority)
			break;
	memmove(&order[i + 1], &order[i], (n_order - i) * sizeof(*order));
	order[i] = flow;
	n_order++;
}

/* Unlinks rule 'i' of the model from the port and frees it. */
static void
del(unsigned int i)
{
	struct rte_flow *flow = order[i];

	assert_true(fpesw_rule_find(&port, flow));
	fpesw_rule_unlink(&port, flow);
	assert_false(fpesw_rule_find(&port, flow));
	memmove(&order[i], &order[i + 1], (n_order - i - 1) * sizeof(*order));
	n_order--;
	free(flow);
}

static void
del_all(void)
{
	while (n_order > 0)
		del(n_order - 1);
	assert_int_equal(port.n_rules, 0);
	assert_true(TAILQ_EMPTY(&port.rules));
	assert_true(LIST_EMPTY(&port.shapes));
	assert_null(port.rule_ptrs.bucket);
}

/* The port's list is the model's order. */
static void
check_list(void)
{
	struct rte_flow *f;
	unsigned int i = 0;

	TAILQ_FOREACH(f, &port.rules, next) {
		assert_true(i < n_order);
		assert_ptr_equal(f, order[i]);
		i++;
	}
	assert_int_equal(i, n_order);
	assert_int_equal(port.n_rules, n_order);
}

/* A lookup of frame 'f' gives the rules of the model that match it, in
 * the model's order; returns how many, and whether it walked the list in
 * '*walked'. */
static unsigned int
check_lookup(const uint8_t *f, uint16_t len, bool *walked)
{
	struct fpesw_lookup l;
	struct fpesw_hdrs h;
	struct rte_flow *got;
	unsigned int i, n = 0;

	fpesw_parse(f, len, &h);
	fpesw_lookup_start(&l, &port, f, &h);
	if (walked != NULL)
		*walked = l.walk;
	for (i = 0; i < n_order; i++) {
		if (!fpesw_match(order[i], f, &h))
			continue;
		got = fpesw_lookup_next(&l);
		assert_ptr_equal(got, order[i]);
		n++;
	}
	assert_null(fpesw_lookup_next(&l));
	return n;
}

/* Tests. */

static void
test_parse_vxlan_headers(void **state)
{
	struct frame_spec s = base_frame;
	static const enum rte_flow_item_type types[] = {
		RTE_FLOW_ITEM_TYPE_ETH, RTE_FLOW_ITEM_TYPE_IPV4,
		RTE_FLOW_ITEM_TYPE_UDP, RTE_FLOW_ITEM_TYPE_VXLAN,
		RTE_FLOW_ITEM_TYPE_ETH, RTE_FLOW_ITEM_TYPE_IPV4,
		RTE_FLOW_ITEM_TYPE_TCP,
	};
	static const uint16_t ofs[] = { 0, 14, 34, 42, 50, 64, 84 };
	uint8_t f[256];
	uint16_t len = make_frame(f, &s);
	struct fpesw_hdrs h;
	unsigned int i;

	(void)state;
	fpesw_parse(f, len, &h);
	assert_int_equal(h.n, 7);
	for (i = 0; i < 7; i++) {
		assert_int_equal(h.type[i], types[i]);
		assert_int_equal(h.ofs[i], ofs[i]);
	}
	/* A frame cut inside the inner TCP header stops before it. */
	fpesw_parse(f, (uint16_t)(len - 1), &h);
	assert_int_equal(h.n, 6);
}

static void
test_exact_rule_found_others_not(void **state)
{
	struct frame_spec s = base_frame;
	struct fpesw_lookup l;
	struct fpesw_hdrs h;
	struct rte_flow *r;
	uint8_t f[256];
	uint16_t len;

	(void)state;
	port_init();
	len = make_frame(f, &s);
	r = make_rule(SHAPE_VXLAN_TCP, f, len, 0);
	add(r);
	assert_int_equal(check_lookup(f, len, NULL), 1);
	/* Another source port, VNI or flag-less change: a miss or a hit. */
	s.sport = 5001;
	len = make_frame(f, &s);
	fpesw_parse(f, len, &h);
	fpesw_lookup_start(&l, &port, f, &h);
	assert_null(fpesw_lookup_next(&l));
	s.sport = 5000;
	s.vni = 101;
	len = make_frame(f, &s);
	assert_int_equal(check_lookup(f, len, NULL), 0);
	s.vni = 100;
	s.flags = 0x18;         /* Not in the rule's mask. */
	len = make_frame(f, &s);
	assert_int_equal(check_lookup(f, len, NULL), 1);
	assert_int_equal(port.n_rules, 1);
	del_all();
}

static void
test_order_is_priority_then_creation(void **state)
{
	struct frame_spec s = base_frame;
	static const uint32_t prio[] = { 2, 0, 1, 0, 2, 1, 0 };
	static const enum shape_kind kind[] = {
		SHAPE_ANY_ETH, SHAPE_VXLAN_TCP, SHAPE_VXLAN_ONLY,
		SHAPE_VXLAN_TCP, SHAPE_VXLAN_TCP_FLAGS, SHAPE_ZERO_MASK_ETH,
		SHAPE_VXLAN_PREFIX,
	};
	uint8_t f[256];
	uint16_t len = make_frame(f, &s);
	unsigned int i;

	(void)state;
	port_init();
	for (i = 0; i < RTE_DIM(prio); i++)
		add(make_rule(kind[i], f, len, prio[i]));
	check_list();
	/* Every rule matches; they come by priority, then creation. */
	assert_int_equal(check_lookup(f, len, NULL), RTE_DIM(prio));
	assert_int_equal(order[0]->priority, 0);
	assert_true(order[0]->seq < order[1]->seq);
	del_all();
}

static void
test_random_rules_frames_and_churn(void **state)
{
	unsigned int round, hits = 0, multi = 0;

	(void)state;
	srand(12345);
	port_init();
	for (round = 0; round < 6000; round++) {
		struct frame_spec s;
		uint8_t f[256];
		uint16_t len;
		unsigned int n;

		random_spec(&s);
		len = make_frame(f, &s);
		if (rand() % 3 == 0 && n_order > 0) {
			del((unsigned int)rand() % n_order);
		} else {
			struct rte_flow *r = make_rule(
				(enum shape_kind)(rand() % SHAPE_KINDS), f,
				len, (uint32_t)(rand() % 4));

			if (r != NULL)
				add(r);
		}
		/* A frame of its own, and one like a rule's. */
		random_spec(&s);
		len = make_frame(f, &s);
		n = check_lookup(f, len, NULL);
		hits += n > 0;
		multi += n > 1;
		if (round % 500 == 0)
			check_list();
	}
	check_list();
	/* The frames met the rules, often several at once. */
	assert_true(hits > 1000);
	assert_true(multi > 100);
	del_all();
}

static void
test_too_many_shapes_walk_the_list(void **state)
{
	struct frame_spec s = base_frame;
	uint8_t f[256];
	uint16_t len = make_frame(f, &s);
	unsigned int i;
	bool walked;

	(void)state;
	port_init();
	/* Shapes that differ by a mask bit of the outer IPv4 TTL: each its
	 * own table, each with a candidate. */
	for (i = 0; i < FPESW_LOOKUP_MAX + 4; i++) {
		struct rte_flow *r = make_rule(SHAPE_VXLAN_TCP, f, len,
					       (uint32_t)(i % 3));

		r->items[1].mask[8] = (uint8_t)(i + 1);
		r->items[1].spec[8] = f[14 + 8];
		add(r);
		assert_int_equal(check_lookup(f, len, &walked), i + 1);
		assert_int_equal(walked, i + 1 > FPESW_LOOKUP_MAX);
	}
	check_list();
	del_all();
}

static void
test_rules_by_address(void **state)
{
	struct frame_spec s = {
		.vxlan = false, .src = 0xc0a80001, .dst = 1,
		.proto = IPPROTO_TCP, .sport = 5000, .dport = 80,
	};
	struct rte_flow other, *r;
	uint8_t f[256];
	uint16_t len = make_frame(f, &s);

	(void)state;
	port_init();
	memset(&other, 0, sizeof(other));
	assert_false(fpesw_rule_find(&port, &other));
	r = make_rule(SHAPE_PLAIN_TCP, f, len, 0);
	add(r);
	assert_true(fpesw_rule_find(&port, r));
	assert_false(fpesw_rule_find(&port, &other));
	assert_false(fpesw_rule_find(&port, NULL));
	del_all();
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
test_hundred_thousand_rules(void **state)
{
	const unsigned int n = 100000;
	struct frame_spec s = {
		.vxlan = true, .outer_src = 1, .vni = 100, .dst = 1,
		.proto = IPPROTO_TCP, .dport = 80, .flags = 0x10,
	};
	uint8_t f[256];
	uint16_t len;
	unsigned int i;
	double t0, t1;

	(void)state;
	port_init();
	for (i = 0; i < n; i++) {
		s.src = 0xc0a80000 | i / 1000;
		s.sport = (uint16_t)(10000 + i % 1000);
		len = make_frame(f, &s);
		add(make_rule(SHAPE_VXLAN_TCP, f, len, 0));
	}
	assert_int_equal(port.n_rules, n);
	/* One shape, its table grown to a bucket a rule. */
	assert_non_null(LIST_FIRST(&port.shapes));
	assert_null(LIST_NEXT(LIST_FIRST(&port.shapes), next));
	assert_true(LIST_FIRST(&port.shapes)->rules.mask + 1 >= n);
	t0 = now_ns();
	for (i = 0; i < n; i += 7) {
		struct fpesw_lookup l;
		struct fpesw_hdrs h;

		s.src = 0xc0a80000 | i / 1000;
		s.sport = (uint16_t)(10000 + i % 1000);
		len = make_frame(f, &s);
		fpesw_parse(f, len, &h);
		fpesw_lookup_start(&l, &port, f, &h);
		assert_ptr_equal(fpesw_lookup_next(&l), order[i]);
		assert_null(fpesw_lookup_next(&l));
	}
	t1 = now_ns();
	print_message("lookup among %u rules: %.0f ns a frame\n", n,
		      (t1 - t0) / (n / 7 + 1));
	/* Destroying rules, first and last, costs no walk either. */
	t0 = now_ns();
	while (n_order > 0)
		del(n_order - 1);
	t1 = now_ns();
	print_message("unlink: %.0f ns a rule\n", (t1 - t0) / n);
	del_all();
	free(order);
	order = NULL;
	cap_order = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_vxlan_headers),
		cmocka_unit_test(test_exact_rule_found_others_not),
		cmocka_unit_test(test_order_is_priority_then_creation),
		cmocka_unit_test(test_random_rules_frames_and_churn),
		cmocka_unit_test(test_too_many_shapes_walk_the_list),
		cmocka_unit_test(test_rules_by_address),
		cmocka_unit_test(test_hundred_thousand_rules),
	};

	return cmocka_run_group_tests_name("fpesw_lookup", tests, NULL, NULL);
}
