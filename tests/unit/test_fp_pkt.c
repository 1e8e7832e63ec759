/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Tests of the stream-key parser: every accepted shape gives the fields and
 * offsets Open vSwitch would see, and every refused shape is refused with
 * its reason. Valid frames come from fp_pktgen; refused ones are valid
 * frames with one field broken. Compact keys: the packed shapes give the
 * parsed key back, byte for byte, and tell apart exactly the frames their
 * full keys tell apart; the others are digests; the burst parser gives
 * what the single-frame parser and fp_stream_key_pack() give.
 */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fp_pkt.h"
#include "fp_pktgen.h"

#define VXLAN_PORT RTE_BE16(4789)

static uint8_t frame[FP_PKTGEN_BUF_MAX];

static const uint8_t v6_a[16] = { 0xfd, [15] = 1 };
static const uint8_t v6_b[16] = { 0xfd, [15] = 2 };

/* Builds packet 'seq' of 'stream' of 'conf' into 'frame'. */
static int
build(const struct fp_pktgen_conf *conf, uint32_t stream, uint32_t seq,
      size_t *inner)
{
	int len;

	assert_null(fp_pktgen_conf_check(conf));
	len = fp_pktgen_build(conf, stream, seq, false, frame, sizeof(frame),
			      inner);
	assert_true(len > 0);
	return len;
}

static void
conf_plain(struct fp_pktgen_conf *conf)
{
	fp_pktgen_conf_default(conf);
	conf->encap = false;
	conf->streams = 4;
	conf->packets = 4;
}

static enum fp_pkt_verdict
parse(int len, struct fp_stream_key *key, struct fp_pkt_offsets *ofs)
{
	return fp_pkt_parse(frame, len, 7, VXLAN_PORT, key, ofs);
}

static void
test_plain_ipv4_udp(void **state)
{
	struct fp_pktgen_conf conf;
	struct fp_pkt_offsets ofs;
	struct fp_stream_key key;
	const struct fp_pkt_layer *l = &key.layer[0];
	int len;

	(void)state;
	conf_plain(&conf);
	len = build(&conf, 1, 0, NULL);
	assert_int_equal(parse(len, &key, &ofs), FP_PKT_OK);
	assert_int_equal(key.in_port, 7);
	assert_int_equal(key.shape, FP_PKT_SHAPE_PLAIN);
	assert_memory_equal(l->dl_dst, "\x02\x00\x00\x00\x02\x01", 6);
	assert_memory_equal(l->dl_src, "\x02\x00\x00\x00\x01\x01", 6);
	assert_int_equal(l->dl_type, RTE_BE16(0x0800));
	assert_int_equal(l->vlan_kind, FP_PKT_VLAN_NONE);
	assert_memory_equal(l->src, "\x0a\x00\x00\x01", 4);
	assert_memory_equal(l->dst, "\x0a\x01\x00\x01", 4);
	assert_int_equal(l->nw_proto, IPPROTO_UDP);
	assert_int_equal(l->nw_ttl, 64);
	assert_int_equal(l->nw_tos, 0);
	assert_int_equal(l->tp_src, RTE_BE16(1025));
	assert_int_equal(l->tp_dst, RTE_BE16(5001));
	assert_int_equal(l->tcp_flags, 0);
	assert_int_equal(l->flags, FP_PKT_F_IPV4_DF | FP_PKT_F_UDP_CSUM);
	assert_int_equal(ofs.l3, 14);
	assert_int_equal(ofs.l4, 34);
	assert_int_equal(ofs.l2_pad, 0);
	assert_int_equal(ofs.inner, 0);
	/* The unused half of the key is zero. */
	assert_memory_equal(&key.layer[1], &(struct fp_pkt_layer){ 0 },
			    sizeof(key.layer[1]));
	assert_int_equal(fp_stream_key_len(&key), 80);
}

static void
test_plain_ipv4_tcp_with_padding(void **state)
{
	struct fp_pktgen_conf conf;
	struct fp_pkt_offsets ofs;
	struct fp_stream_key key;
	int len;

	(void)state;
	conf_plain(&conf);
	conf.proto = FP_PKTGEN_TCP;
	conf.tcp_handshake = true;
	len = build(&conf, 0, 0, NULL); /* A SYN: 54 bytes, padded to 60. */
	assert_int_equal(len, 60);
	assert_int_equal(parse(len, &key, &ofs), FP_PKT_OK);
	assert_int_equal(key.layer[0].nw_proto, IPPROTO_TCP);
	assert_int_equal(key.layer[0].tcp_flags, RTE_BE16(0x002));
	assert_int_equal(ofs.l4, 34);
	assert_int_equal(ofs.l2_pad, 6);
}

static void
test_plain_ipv6_tcp(void **state)
{
	/* TCP flags in the frame, and in the key. */
	static const uint16_t flag_classes[][2] = {
		{ 0x18, 0x010 }, /* PSH|ACK */
		{ 0xf8, 0x010 }, /* CWR|ECE|URG|ACK|PSH */
		{ 0x19, 0x019 }, /* FIN|PSH|ACK */
		{ 0x14, 0x014 }, /* RST|ACK */
	};
	struct fp_pktgen_conf conf;
	struct fp_pkt_offsets ofs;
	struct fp_stream_key key;
	unsigned int i;
	int len;

	(void)state;
	conf_plain(&conf);
	conf.proto = FP_PKTGEN_TCP;
	conf.frame_size = 128;
	conf.inner_src.ipv6 = conf.inner_dst.ipv6 = true;
	memcpy(conf.inner_src.bytes, v6_a, 16);
	memcpy(conf.inner_dst.bytes, v6_b, 16);
	len = build(&conf, 2, 1, NULL);
	/* Traffic class and flow label are part of the key. */
	frame[14] = 0x6b;
	frame[15] = 0xa1;
	frame[16] = 0x23;
	frame[17] = 0x45;
	assert_int_equal(parse(len, &key, &ofs), FP_PKT_OK);
	assert_int_equal(key.layer[0].dl_type, RTE_BE16(0x86dd));
	assert_memory_equal(key.layer[0].src, v6_a, 15);
	assert_memory_equal(key.layer[0].dst, v6_b, 16);
	assert_int_equal(key.layer[0].nw_tos, 0xba);
	assert_int_equal(key.layer[0].ipv6_label, RTE_BE32(0x12345));
	assert_int_equal(key.layer[0].nw_ttl, 64);
	assert_int_equal(key.layer[0].tcp_flags, RTE_BE16(0x010));
	assert_int_equal(ofs.l3, 14);
	assert_int_equal(ofs.l4, 54);
	/* TCP flags are a class: PSH|ACK (and ECE, CWR, URG) key as ACK, but
	 * with SYN, FIN or RST every flag is kept. */
	for (i = 0; i < RTE_DIM(flag_classes); i++) {
		frame[54 + 13] = flag_classes[i][0];
		assert_int_equal(parse(len, &key, &ofs), FP_PKT_OK);
		assert_int_equal(rte_be_to_cpu_16(key.layer[0].tcp_flags),
				 flag_classes[i][1]);
	}
}

static void
test_plain_vlan_tags(void **state)
{
	struct fp_pktgen_conf conf;
	struct fp_pkt_offsets ofs;
	struct fp_stream_key key;
	int len;

	(void)state;
	conf_plain(&conf);
	conf.vlan = 300;
	len = build(&conf, 0, 0, NULL);
	assert_int_equal(parse(len, &key, &ofs), FP_PKT_OK);
	assert_int_equal(key.layer[0].vlan_kind, FP_PKT_VLAN_8021Q);
	assert_int_equal(key.layer[0].vlan_tci, RTE_BE16(300));
	assert_int_equal(key.layer[0].dl_type, RTE_BE16(0x0800));
	assert_int_equal(ofs.l3, 18);
	assert_int_equal(ofs.l4, 38);

	/* An 802.1ad tag is a different key. */
	frame[12] = 0x88;
	frame[13] = 0xa8;
	assert_int_equal(parse(len, &key, &ofs), FP_PKT_OK);
	assert_int_equal(key.layer[0].vlan_kind, FP_PKT_VLAN_8021AD);
}

static void
test_icmp_type_and_code(void **state)
{
	struct fp_pktgen_conf conf;
	struct fp_stream_key key;
	int len;

	(void)state;
	conf_plain(&conf);
	len = build(&conf, 0, 0, NULL);
	/* Turn the UDP datagram into an ICMP echo request. */
	frame[23] = IPPROTO_ICMP;
	frame[34] = 8;
	frame[35] = 0;
	assert_int_equal(parse(len, &key, NULL), FP_PKT_OK);
	assert_int_equal(key.layer[0].tp_src, RTE_BE16(8));
	assert_int_equal(key.layer[0].tp_dst, RTE_BE16(0));

	conf.inner_src.ipv6 = conf.inner_dst.ipv6 = true;
	conf.frame_size = 128;
	len = build(&conf, 0, 0, NULL);
	frame[20] = IPPROTO_ICMPV6;
	frame[54] = 128; /* Echo request. */
	frame[55] = 0;
	assert_int_equal(parse(len, &key, NULL), FP_PKT_OK);
	assert_int_equal(key.layer[0].tp_src, RTE_BE16(128));
}

static void
test_vxlan_ipv4(void **state)
{
	struct fp_pktgen_conf conf;
	struct fp_pkt_offsets ofs;
	struct fp_stream_key key;
	size_t inner;
	int len;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.streams = 3;
	conf.proto = FP_PKTGEN_TCP;
	len = build(&conf, 2, 0, &inner);
	assert_int_equal(parse(len, &key, &ofs), FP_PKT_OK);
	assert_int_equal(key.shape, FP_PKT_SHAPE_VXLAN);
	assert_int_equal(fp_stream_key_len(&key), 144);
	assert_int_equal(key.vxlan_flags, RTE_BE32(0x08000000));
	assert_int_equal(key.vxlan_vni, RTE_BE32(100 << 8));
	/* Outer: what tunnel metadata derives from. */
	assert_memory_equal(key.layer[0].src, "\xac\x1f\x01\x02", 4);
	assert_memory_equal(key.layer[0].dst, "\xac\x1f\x01\x01", 4);
	assert_int_equal(key.layer[0].tp_dst, RTE_BE16(4789));
	assert_int_equal(key.layer[0].flags, FP_PKT_F_IPV4_DF);
	/* Inner. */
	assert_int_equal(key.layer[1].nw_proto, IPPROTO_TCP);
	assert_int_equal(key.layer[1].tp_src, RTE_BE16(1026));
	assert_int_equal(key.layer[1].tcp_flags, RTE_BE16(0x010));
	assert_int_equal(ofs.l3, 14);
	assert_int_equal(ofs.l4, 34);
	assert_int_equal(ofs.inner, inner);
	assert_int_equal(ofs.inner_l3, 14);
	assert_int_equal(ofs.inner_l4, 34);
	assert_int_equal(ofs.inner_l2_pad, 0);

	/* VXLAN is recognised by the configured port only. */
	assert_int_equal(fp_pkt_parse(frame, len, 7, RTE_BE16(8472), &key,
				      NULL), FP_PKT_OK);
	assert_int_equal(key.shape, FP_PKT_SHAPE_PLAIN);
}

static void
test_vxlan_ipv6_with_inner_vlan(void **state)
{
	struct fp_pktgen_conf conf;
	struct fp_pkt_offsets ofs;
	struct fp_stream_key key;
	size_t inner;
	int len;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.outer_src.ipv6 = conf.outer_dst.ipv6 = true;
	memcpy(conf.outer_src.bytes, v6_b, 16);
	memcpy(conf.outer_dst.bytes, v6_a, 16);
	conf.inner_src.ipv6 = conf.inner_dst.ipv6 = true;
	memcpy(conf.inner_src.bytes, v6_a, 16);
	memcpy(conf.inner_dst.bytes, v6_b, 16);
	conf.vlan = 7;
	conf.frame_size = 100;
	len = build(&conf, 0, 0, &inner);
	assert_int_equal(parse(len, &key, &ofs), FP_PKT_OK);
	assert_int_equal(key.shape, FP_PKT_SHAPE_VXLAN);
	assert_int_equal(key.layer[0].dl_type, RTE_BE16(0x86dd));
	assert_int_equal(key.layer[0].flags, FP_PKT_F_UDP_CSUM);
	assert_int_equal(key.layer[1].vlan_tci, RTE_BE16(7));
	assert_int_equal(key.layer[1].dl_type, RTE_BE16(0x86dd));
	assert_int_equal(ofs.l4, 54);
	assert_int_equal(ofs.inner, 70);
	assert_int_equal(ofs.inner_l3, 18);
	assert_int_equal(ofs.inner_l4, 58);
}

static void
test_keys_identify_streams(void **state)
{
	struct fp_stream_key a, b;
	struct fp_pktgen_conf conf;
	char text[256];
	int len;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.streams = 2;
	conf.packets = 6;
	conf.proto = FP_PKTGEN_TCP;
	conf.tcp_handshake = true;

	/* Two data segments of one stream: other IP id, sequence number,
	 * payload and checksums, same key. */
	len = build(&conf, 0, 1, NULL);
	assert_int_equal(parse(len, &a, NULL), FP_PKT_OK);
	len = build(&conf, 0, 2, NULL);
	assert_int_equal(parse(len, &b, NULL), FP_PKT_OK);
	assert_true(fp_stream_key_equal(&a, &b));
	assert_int_equal(fp_stream_key_hash(&a), fp_stream_key_hash(&b));

	/* The FIN differs in flags only: another key, the same stream. */
	len = build(&conf, 0, 5, NULL);
	assert_int_equal(parse(len, &b, NULL), FP_PKT_OK);
	assert_false(fp_stream_key_equal(&a, &b));
	assert_int_equal(fp_stream_key_flow_id(&a), fp_stream_key_flow_id(&b));

	/* Another stream. */
	len = build(&conf, 1, 1, NULL);
	assert_int_equal(parse(len, &b, NULL), FP_PKT_OK);
	assert_false(fp_stream_key_equal(&a, &b));
	assert_int_not_equal(fp_stream_key_flow_id(&a),
			     fp_stream_key_flow_id(&b));

	fp_stream_key_format(&a, text, sizeof(text));
	assert_string_equal(text, "in_port=7 172.31.1.2>172.31.1.1 udp "
			    "59575>4789 vni=100 | 10.0.0.1>10.1.0.1 tcp "
			    "1024>5001 flags=0x010");
}

/* Every frame shorter than a valid one is refused, and never misread. */
static void
test_every_truncation_is_refused(void **state)
{
	struct fp_pktgen_conf conf;
	struct fp_stream_key key;
	enum fp_pkt_verdict v;
	int len;
	int cut;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.proto = FP_PKTGEN_TCP;
	conf.vlan = 5;
	conf.frame_size = 100;
	len = build(&conf, 0, 0, NULL);
	assert_int_equal(parse(len, &key, NULL), FP_PKT_OK);
	for (cut = 0; cut < len; cut++) {
		v = parse(cut, &key, NULL);
		assert_true(v == FP_PKT_TRUNCATED || v == FP_PKT_IP_LENGTH);
	}
}

struct refusal {
	const char *what;
	unsigned int at;  /* Byte to overwrite, from the inner frame. */
	uint8_t value;
	enum fp_pkt_verdict verdict;
};

static void
test_refused_shapes(void **state)
{
	/* Offsets in a plain 80-byte IPv4 TCP frame (42 bytes of TCP). */
	static const struct refusal cases[] = {
		{ "ARP", 13, 0x06, FP_PKT_ETHERTYPE },
		{ "version 6 in IPv4", 14, 0x65, FP_PKT_IP_VERSION },
		{ "IPv4 options", 14, 0x46, FP_PKT_IP_OPTIONS },
		{ "IHL below 5", 14, 0x44, FP_PKT_IP_LENGTH },
		{ "total length beyond the frame", 16, 0x01, FP_PKT_IP_LENGTH },
		{ "total length below 20", 17, 0x10, FP_PKT_IP_LENGTH },
		{ "more fragments", 20, 0x20, FP_PKT_FRAGMENT },
		{ "fragment offset", 21, 0x08, FP_PKT_FRAGMENT },
		{ "GRE", 23, 47, FP_PKT_L4_PROTO },
		{ "ICMPv6 in IPv4", 23, IPPROTO_ICMPV6, FP_PKT_L4_PROTO },
		{ "TCP data offset 4", 46, 0x40, FP_PKT_L4_LENGTH },
		{ "TCP data offset past the end", 46, 0xf0, FP_PKT_L4_LENGTH },
	};
	struct fp_pktgen_conf conf;
	struct fp_stream_key key;
	uint8_t saved;
	unsigned int i;
	int len;

	(void)state;
	conf_plain(&conf);
	conf.proto = FP_PKTGEN_TCP;
	conf.frame_size = 80;
	len = build(&conf, 0, 1, NULL);
	for (i = 0; i < RTE_DIM(cases); i++) {
		saved = frame[cases[i].at];
		frame[cases[i].at] = cases[i].value;
		if (parse(len, &key, NULL) != cases[i].verdict)
			fail_msg("%s: got %s", cases[i].what,
				 fp_pkt_verdict_name(parse(len, &key, NULL)));
		frame[cases[i].at] = saved;
	}
	assert_int_equal(parse(len, &key, NULL), FP_PKT_OK);
}

static void
test_refused_vlan_stack_and_udp_length(void **state)
{
	struct fp_pktgen_conf conf;
	struct fp_stream_key key;
	int len;

	(void)state;
	conf_plain(&conf);
	conf.vlan = 1;
	len = build(&conf, 0, 0, NULL);
	frame[16] = 0x81; /* The tag's EtherType: another tag. */
	frame[17] = 0x00;
	assert_int_equal(parse(len, &key, NULL), FP_PKT_VLAN_STACK);

	conf.vlan = -1;
	len = build(&conf, 0, 0, NULL);
	frame[39] += 1; /* UDP length disagrees with the IP length. */
	assert_int_equal(parse(len, &key, NULL), FP_PKT_L4_LENGTH);
}

static void
test_refused_ipv6_shapes(void **state)
{
	struct fp_pktgen_conf conf;
	struct fp_stream_key key;
	int len;

	(void)state;
	conf_plain(&conf);
	conf.frame_size = 128;
	conf.inner_src.ipv6 = conf.inner_dst.ipv6 = true;
	len = build(&conf, 0, 0, NULL);
	assert_int_equal(parse(len, &key, NULL), FP_PKT_OK);

	frame[20] = IPPROTO_HOPOPTS;
	assert_int_equal(parse(len, &key, NULL), FP_PKT_IPV6_EXT);
	frame[20] = IPPROTO_FRAGMENT;
	assert_int_equal(parse(len, &key, NULL), FP_PKT_IPV6_EXT);
	frame[20] = IPPROTO_ICMP;
	assert_int_equal(parse(len, &key, NULL), FP_PKT_L4_PROTO);
	frame[20] = 59; /* No next header. */
	assert_int_equal(parse(len, &key, NULL), FP_PKT_L4_PROTO);

	frame[20] = IPPROTO_ICMPV6;
	frame[54] = 135; /* Neighbour solicitation. */
	assert_int_equal(parse(len, &key, NULL), FP_PKT_ICMPV6_ND);
	frame[54] = 136;
	assert_int_equal(parse(len, &key, NULL), FP_PKT_ICMPV6_ND);

	len = build(&conf, 0, 0, NULL);
	frame[18] = frame[19] = 0; /* Payload length 0: a jumbogram. */
	assert_int_equal(parse(len, &key, NULL), FP_PKT_IP_LENGTH);
	len = build(&conf, 0, 0, NULL);
	frame[14] = 0x40;
	assert_int_equal(parse(len, &key, NULL), FP_PKT_IP_VERSION);
}

static void
test_refused_vxlan_shapes(void **state)
{
	struct fp_pktgen_conf conf;
	struct fp_stream_key key;
	size_t inner;
	int len;

	(void)state;
	fp_pktgen_conf_default(&conf);
	len = build(&conf, 0, 0, &inner);
	frame[42] = 0x0c; /* G bit: group policy extension. */
	assert_int_equal(parse(len, &key, NULL), FP_PKT_VXLAN);
	len = build(&conf, 0, 0, &inner);
	frame[49] = 1; /* Reserved byte after the VNI. */
	assert_int_equal(parse(len, &key, NULL), FP_PKT_VXLAN);

	/* A refused inner frame refuses the whole frame. */
	len = build(&conf, 0, 0, &inner);
	frame[inner + 13] = 0x06;
	assert_int_equal(parse(len, &key, NULL), FP_PKT_ETHERTYPE);

	/* Too short to hold VXLAN and an inner Ethernet header. */
	len = build(&conf, 0, 0, &inner);
	frame[16] = 0;
	frame[17] = 20 + 8 + 8 + 13;
	frame[38] = 0;
	frame[39] = 8 + 8 + 13;
	assert_int_equal(parse(len, &key, NULL), FP_PKT_VXLAN);
}

/* Compact keys. */

/* The frame shapes the compact-key tests build. */
enum shape {
	S_PLAIN_UDP,        /* Packed ones. */
	S_PLAIN_TCP,
	S_PLAIN_SYN,
	S_PLAIN_ICMP,
	S_PLAIN_VLAN_UDP,
	S_PLAIN_QINQ_TCP,   /* One 802.1ad tag. */
	S_VXLAN_TCP,
	S_VXLAN_UDP_VLAN,   /* Inner 802.1Q tag, outer UDP checksum. */
	S_VXLAN_ICMP,
	S_PACKED_MAX,
	S_PLAIN6_UDP = S_PACKED_MAX, /* Digests. */
	S_PLAIN6_TCP,
	S_VXLAN_INNER6,
	S_VXLAN_OUTER6,
	S_VXLAN_BOTH6_VLAN,
	S_VXLAN_OUTER_VLAN,
	S_SHAPE_MAX,
};

static const char *const shape_names[S_SHAPE_MAX] = {
	"plain udp", "plain tcp", "plain syn", "plain icmp", "plain vlan udp",
	"plain 802.1ad tcp", "vxlan tcp", "vxlan udp inner vlan", "vxlan icmp",
	"plain6 udp", "plain6 tcp", "vxlan inner6", "vxlan outer6",
	"vxlan both6 vlan", "vxlan outer vlan",
};

/* Turns the UDP datagram of the IPv4 layer at 'l3' into an ICMP
 * destination unreachable (type 3, code 1: both are keyed). */
static void
make_icmp(size_t l3)
{
	frame[l3 + 9] = IPPROTO_ICMP;
	frame[l3 + 20] = 3;
	frame[l3 + 21] = 1;
}

/* Builds packet 'seq' of stream 'stream' of shape 'sh' into 'frame', with
 * a 'size'-byte (inner) frame; returns its length, and the inner frame's
 * offset in 'inner' (0 for plain frames). */
static int
build_shape(enum shape sh, uint32_t stream, uint32_t seq, uint16_t size,
	    size_t *inner)
{
	struct fp_pktgen_conf conf;
	size_t in = 0;
	int len;

	fp_pktgen_conf_default(&conf);
	conf.streams = 16;
	conf.packets = 8;
	conf.frame_size = size;
	conf.encap = sh >= S_VXLAN_TCP && sh != S_PLAIN6_UDP &&
		     sh != S_PLAIN6_TCP;
	switch (sh) {
	case S_PLAIN_TCP:
	case S_PLAIN_QINQ_TCP:
	case S_PLAIN6_TCP:
	case S_VXLAN_TCP:
	case S_VXLAN_OUTER6:
		conf.proto = FP_PKTGEN_TCP;
		break;
	case S_PLAIN_SYN:
		conf.proto = FP_PKTGEN_TCP;
		conf.tcp_handshake = true;
		seq = 0;
		break;
	default:
		conf.proto = FP_PKTGEN_UDP;
		break;
	}
	if (sh == S_PLAIN_VLAN_UDP || sh == S_PLAIN_QINQ_TCP ||
	    sh == S_VXLAN_UDP_VLAN || sh == S_VXLAN_BOTH6_VLAN)
		conf.vlan = 300;
	if (sh == S_PLAIN6_UDP || sh == S_PLAIN6_TCP || sh == S_VXLAN_INNER6 ||
	    sh == S_VXLAN_BOTH6_VLAN) {
		conf.inner_src.ipv6 = conf.inner_dst.ipv6 = true;
		memcpy(conf.inner_src.bytes, v6_a, 16);
		memcpy(conf.inner_dst.bytes, v6_b, 16);
	}
	if (sh == S_VXLAN_OUTER6 || sh == S_VXLAN_BOTH6_VLAN) {
		conf.outer_src.ipv6 = conf.outer_dst.ipv6 = true;
		memcpy(conf.outer_src.bytes, v6_b, 16);
		memcpy(conf.outer_dst.bytes, v6_a, 16);
	}
	len = build(&conf, stream, seq, &in);
	if (sh == S_PLAIN_ICMP)
		make_icmp(14);
	else if (sh == S_VXLAN_ICMP)
		make_icmp(in + 14);
	if (sh == S_PLAIN_QINQ_TCP) {
		frame[12] = 0x88;
		frame[13] = 0xa8;
	}
	if (sh == S_VXLAN_UDP_VLAN) {
		frame[40] = 0x12; /* Outer UDP checksum present. */
		frame[41] = 0x34;
	}
	if (sh == S_VXLAN_OUTER_VLAN) {
		/* An 802.1Q tag on the outer frame, VID 9. */
		assert_true((size_t)len + 4 <= sizeof(frame));
		memmove(frame + 16, frame + 12, len - 12);
		frame[12] = 0x81;
		frame[13] = 0x00;
		frame[14] = 0x00;
		frame[15] = 0x09;
		len += 4;
		in += 4;
	}
	if (inner != NULL)
		*inner = in;
	return len;
}

/* Parses 'frame' (port 7, VXLAN port 4789) and packs its key. */
static bool
parse_pack(int len, struct fp_stream_key *key, struct fp_stream_ckey *ck)
{
	assert_int_equal(parse(len, key, NULL), FP_PKT_OK);
	/* Every byte of the compact key is written. */
	memset(ck, 0xa5, sizeof(*ck));
	return fp_stream_key_pack(key, VXLAN_PORT, ck);
}

static void
test_ckey_packed_round_trip(void **state)
{
	static const uint8_t zero[64];
	struct fp_stream_key key, back;
	struct fp_stream_ckey ck, ck2;
	unsigned int sh;
	size_t inner;
	int len;

	(void)state;
	assert_int_equal(sizeof(struct fp_stream_ckey), 64);
	for (sh = 0; sh < S_PACKED_MAX; sh++) {
		bool vxlan = sh >= S_VXLAN_TCP;

		len = build_shape(sh, 3, 1, 128, &inner);
		if (!parse_pack(len, &key, &ck))
			fail_msg("%s: not packed", shape_names[sh]);
		assert_false(fp_stream_ckey_is_digest(&ck));
		assert_int_equal(ck.kind & FP_CKEY_KIND_MASK,
				 vxlan ? FP_CKEY_VXLAN4 : FP_CKEY_PLAIN4);
		assert_int_equal(ck.in_port, 7);
		if (!vxlan) {
			/* The outer fields and the VNI are zero. */
			assert_int_equal(ck.kind, FP_CKEY_PLAIN4);
			assert_memory_equal(ck.vni, zero, sizeof(ck.vni));
			assert_memory_equal(ck.o_dl_dst, zero,
					    sizeof(ck) -
					    offsetof(struct fp_stream_ckey,
						     o_dl_dst));
		}
		/* Unpacking gives back every byte of the parsed key. */
		memset(&back, 0x5a, sizeof(back));
		assert_true(fp_stream_ckey_unpack(&ck, VXLAN_PORT, &back));
		if (memcmp(&back, &key, sizeof(key)) != 0)
			fail_msg("%s: unpacked key differs", shape_names[sh]);
		/* Packing is deterministic. */
		assert_true(fp_stream_key_pack(&back, VXLAN_PORT, &ck2));
		assert_memory_equal(&ck, &ck2, sizeof(ck));
		assert_true(fp_stream_ckey_equal(&ck, &ck2));
		assert_int_equal(fp_stream_ckey_hash(&ck),
				 fp_stream_ckey_hash(&ck2));
		/* The flow id, without reading the full key. */
		assert_int_equal(fp_stream_ckey_flow_id(&ck, NULL),
				 fp_stream_key_flow_id(&key));
	}
}

/* One field of a frame to change, at 'at' from the start of the (inner
 * if 'inner') frame: XOR 'x', or set to 'v' if 'x' is 0. */
struct mutation {
	const char *what;
	bool inner;
	unsigned int at;
	uint8_t x;
	uint8_t v;
};

/* Applies 'm' to a fresh frame of shape 'sh'; returns its length. */
static int
mutate(enum shape sh, const struct mutation *m)
{
	size_t inner;
	int len = build_shape(sh, 3, 1, 128, &inner);
	size_t at = m->at + (m->inner ? inner : 0);

	assert_true(at < (size_t)len);
	if (m->x != 0)
		frame[at] ^= m->x;
	else
		frame[at] = m->v;
	return len;
}

static void
test_ckey_tells_keyed_fields_apart(void **state)
{
	/* Offsets in an untagged IPv4 VXLAN frame (outer UDP at 34, VXLAN
	 * at 42) and in its inner IPv4 TCP frame (TCP at 34). */
	static const struct mutation keyed[] = {
		{ "outer dst MAC", false, 5, 0x01, 0 },
		{ "outer src MAC", false, 11, 0x01, 0 },
		{ "outer TOS", false, 15, 0x04, 0 },
		{ "outer DF bit", false, 20, 0x40, 0 },
		{ "outer TTL", false, 22, 0x01, 0 },
		{ "outer src IP", false, 29, 0x01, 0 },
		{ "outer dst IP", false, 33, 0x01, 0 },
		{ "outer UDP src port", false, 35, 0x01, 0 },
		{ "outer UDP checksum present", false, 40, 0, 0x77 },
		{ "VNI high byte", false, 46, 0x80, 0 },
		{ "VNI low byte", false, 48, 0x01, 0 },
		{ "inner dst MAC", true, 5, 0x01, 0 },
		{ "inner src MAC", true, 11, 0x01, 0 },
		{ "inner TOS", true, 15, 0x04, 0 },
		{ "inner DF bit", true, 20, 0x40, 0 },
		{ "inner TTL", true, 22, 0x01, 0 },
		{ "inner src IP", true, 29, 0x01, 0 },
		{ "inner dst IP", true, 33, 0x01, 0 },
		{ "inner src port", true, 35, 0x01, 0 },
		{ "inner dst port", true, 37, 0x01, 0 },
		{ "TCP flag class (SYN)", true, 47, 0, 0x02 },
		{ "TCP flag class (RST|ACK)", true, 47, 0, 0x14 },
		{ "TCP flag class (no ACK)", true, 47, 0, 0x00 },
		{ "TCP NS bit, with FIN", true, 46, 0x01, 0 },
	};
	/* Fields outside the key. */
	static const struct mutation unkeyed[] = {
		{ "outer IP id", false, 19, 0x01, 0 },
		{ "outer IP checksum", false, 25, 0x01, 0 },
		{ "inner IP id", true, 19, 0x01, 0 },
		{ "inner TCP sequence", true, 41, 0x01, 0 },
		{ "inner TCP window", true, 48, 0x01, 0 },
		{ "TCP PSH, in the ACK class", true, 47, 0, 0x18 },
		{ "TCP URG|ECE|CWR, in the ACK class", true, 47, 0, 0xf0 },
	};
	struct fp_stream_key base_key, key, back;
	struct fp_stream_ckey base, ck;
	unsigned int i;
	size_t inner;
	int len;

	(void)state;
	len = build_shape(S_VXLAN_TCP, 3, 1, 128, &inner);
	assert_true(parse_pack(len, &base_key, &base));
	assert_int_equal(rte_be_to_cpu_16(base_key.layer[1].tcp_flags), 0x010);

	for (i = 0; i < RTE_DIM(keyed); i++) {
		len = mutate(S_VXLAN_TCP, &keyed[i]);
		if (strstr(keyed[i].what, "NS bit") != NULL)
			frame[inner + 47] |= 0x01; /* FIN keeps every flag. */
		assert_int_equal(parse(len, &key, NULL), FP_PKT_OK);
		if (fp_stream_key_equal(&key, &base_key))
			fail_msg("%s: the full keys are equal", keyed[i].what);
		if (!fp_stream_key_pack(&key, VXLAN_PORT, &ck))
			fail_msg("%s: not packed", keyed[i].what);
		if (fp_stream_ckey_equal(&ck, &base))
			fail_msg("%s: compact keys equal", keyed[i].what);
		assert_true(fp_stream_ckey_unpack(&ck, VXLAN_PORT, &back));
		if (memcmp(&back, &key, sizeof(key)) != 0)
			fail_msg("%s: unpacked key differs", keyed[i].what);
	}
	/* The FIN without NS is yet another key than with it. */
	len = build_shape(S_VXLAN_TCP, 3, 1, 128, &inner);
	frame[inner + 47] |= 0x01;
	assert_true(parse_pack(len, &key, &ck));
	len = build_shape(S_VXLAN_TCP, 3, 1, 128, &inner);
	frame[inner + 47] |= 0x01;
	frame[inner + 46] ^= 0x01;
	assert_true(parse_pack(len, &back, &base));
	assert_false(fp_stream_ckey_equal(&ck, &base));

	len = build_shape(S_VXLAN_TCP, 3, 1, 128, &inner);
	assert_true(parse_pack(len, &base_key, &base));
	for (i = 0; i < RTE_DIM(unkeyed); i++) {
		len = mutate(S_VXLAN_TCP, &unkeyed[i]);
		assert_int_equal(parse(len, &key, NULL), FP_PKT_OK);
		assert_true(fp_stream_key_pack(&key, VXLAN_PORT, &ck));
		if (!fp_stream_ckey_equal(&ck, &base))
			fail_msg("%s: compact keys differ", unkeyed[i].what);
	}
	/* The payload: the last byte of the frame, and a whole other packet
	 * of the stream. */
	len = build_shape(S_VXLAN_TCP, 3, 1, 128, &inner);
	frame[len - 1] ^= 0xff;
	assert_true(parse_pack(len, &key, &ck));
	assert_true(fp_stream_ckey_equal(&ck, &base));
	len = build_shape(S_VXLAN_TCP, 3, 2, 128, &inner);
	assert_true(parse_pack(len, &key, &ck));
	assert_true(fp_stream_ckey_equal(&ck, &base));
	/* Another port. */
	len = build_shape(S_VXLAN_TCP, 3, 1, 128, &inner);
	assert_int_equal(fp_pkt_parse(frame, len, 8, VXLAN_PORT, &key, NULL),
			 FP_PKT_OK);
	assert_true(fp_stream_key_pack(&key, VXLAN_PORT, &ck));
	assert_false(fp_stream_ckey_equal(&ck, &base));
}

static void
test_ckey_tells_plain_fields_apart(void **state)
{
	/* Plain IPv4 frames: the VLAN tag, its kind, the L4 protocol. */
	static const enum shape shapes[] = {
		S_PLAIN_UDP, S_PLAIN_TCP, S_PLAIN_SYN, S_PLAIN_ICMP,
		S_PLAIN_VLAN_UDP, S_PLAIN_QINQ_TCP,
	};
	struct fp_stream_ckey ck[RTE_DIM(shapes)], c;
	struct fp_stream_key key, back;
	unsigned int i, j;
	int len;

	(void)state;
	for (i = 0; i < RTE_DIM(shapes); i++) {
		len = build_shape(shapes[i], 3, 1, 128, NULL);
		assert_true(parse_pack(len, &key, &ck[i]));
		for (j = 0; j < i; j++)
			if (fp_stream_ckey_equal(&ck[i], &ck[j]))
				fail_msg("%s and %s: equal compact keys",
					 shape_names[shapes[i]],
					 shape_names[shapes[j]]);
	}
	/* Another VID; 802.1ad instead of 802.1Q; ICMP type and code. */
	len = build_shape(S_PLAIN_VLAN_UDP, 3, 1, 128, NULL);
	frame[15] ^= 1;
	assert_true(parse_pack(len, &key, &c));
	assert_false(fp_stream_ckey_equal(&c, &ck[4]));
	len = build_shape(S_PLAIN_VLAN_UDP, 3, 1, 128, NULL);
	frame[12] = 0x88;
	frame[13] = 0xa8;
	assert_true(parse_pack(len, &key, &c));
	assert_false(fp_stream_ckey_equal(&c, &ck[4]));
	assert_true(fp_stream_ckey_unpack(&c, VXLAN_PORT, &back));
	assert_int_equal(back.layer[0].vlan_kind, FP_PKT_VLAN_8021AD);
	assert_memory_equal(&back, &key, sizeof(key));
	len = build_shape(S_PLAIN_ICMP, 3, 1, 128, NULL);
	frame[35] = 2;
	assert_true(parse_pack(len, &key, &c));
	assert_false(fp_stream_ckey_equal(&c, &ck[3]));
	/* Payload, or another UDP checksum: the same key. */
	len = build_shape(S_PLAIN_UDP, 3, 1, 128, NULL);
	frame[len - 1] ^= 0xff;
	assert_true(parse_pack(len, &key, &c));
	assert_true(fp_stream_ckey_equal(&c, &ck[0]));
	len = build_shape(S_PLAIN_UDP, 3, 1, 128, NULL);
	assert_int_not_equal(frame[40] | frame[41], 0);
	frame[40] ^= 0x01;
	assert_true(parse_pack(len, &key, &c));
	assert_true(fp_stream_ckey_equal(&c, &ck[0]));
}

static void
test_ckey_digests(void **state)
{
	struct fp_stream_ckey ck[S_SHAPE_MAX], c;
	struct fp_stream_key key, untouched, k2;
	unsigned int sh, j;
	int len;

	(void)state;
	for (sh = S_PACKED_MAX; sh < S_SHAPE_MAX; sh++) {
		len = build_shape(sh, 3, 1, 128, NULL);
		if (parse_pack(len, &key, &ck[sh]))
			fail_msg("%s: packed", shape_names[sh]);
		assert_true(fp_stream_ckey_is_digest(&ck[sh]));
		assert_int_equal(ck[sh].kind & FP_CKEY_KIND_MASK,
				 FP_CKEY_DIGEST);
		assert_int_equal(ck[sh].in_port, 7);
		/* Unpacking refuses, and leaves the key as it was. */
		memset(&untouched, 0x5a, sizeof(untouched));
		k2 = untouched;
		assert_false(fp_stream_ckey_unpack(&ck[sh], VXLAN_PORT, &k2));
		assert_memory_equal(&k2, &untouched, sizeof(k2));
		assert_int_equal(fp_stream_ckey_flow_id(&ck[sh], &key),
				 fp_stream_key_flow_id(&key));
		/* Deterministic: the next packet has the same digest. */
		len = build_shape(sh, 3, 2, 128, NULL);
		assert_false(parse_pack(len, &k2, &c));
		assert_true(fp_stream_ckey_equal(&c, &ck[sh]));
		for (j = S_PACKED_MAX; j < sh; j++)
			if (fp_stream_ckey_equal(&ck[sh], &ck[j]))
				fail_msg("%s and %s: equal digests",
					 shape_names[sh], shape_names[j]);
	}

	/* Two IPv6 frames: another stream, another flow label, another hop
	 * limit, another port. */
	for (j = 0; j < 4; j++) {
		len = build_shape(S_PLAIN6_UDP, j == 0 ? 4 : 3, 1, 128, NULL);
		if (j == 1)
			frame[17] ^= 1;
		else if (j == 2)
			frame[21] ^= 1;
		if (j == 3)
			assert_int_equal(fp_pkt_parse(frame, len, 8, VXLAN_PORT,
						      &key, NULL), FP_PKT_OK);
		else
			assert_int_equal(parse(len, &key, NULL), FP_PKT_OK);
		assert_false(fp_stream_key_pack(&key, VXLAN_PORT, &c));
		if (fp_stream_ckey_equal(&c, &ck[S_PLAIN6_UDP]))
			fail_msg("IPv6 change %u: equal digests", j);
	}
}

/* A digest is 128 bits of hashes, which must not all collide when one
 * does: here two IPv6 source addresses differ by the CRC32-C polynomial
 * (x^32 + ..., reflected as the bytes f1 76 ec 05 01), which gives their
 * keys equal CRC32-C values under any seed. */
static void
test_ckey_digest_is_not_one_crc(void **state)
{
	static const uint8_t poly[5] = { 0xf1, 0x76, 0xec, 0x05, 0x01 };
	struct fp_stream_key a, b;
	struct fp_stream_ckey ca, cb;
	unsigned int i;
	int len;

	(void)state;
	len = build_shape(S_PLAIN6_UDP, 3, 1, 128, NULL);
	assert_false(parse_pack(len, &a, &ca));
	for (i = 0; i < sizeof(poly); i++)
		frame[14 + 8 + 4 + i] ^= poly[i]; /* Source address. */
	assert_false(parse_pack(len, &b, &cb));
	assert_false(fp_stream_key_equal(&a, &b));
	/* The premise: one CRC does not tell the keys apart. */
	assert_int_equal(fp_stream_key_hash(&a), fp_stream_key_hash(&b));
	assert_false(fp_stream_ckey_equal(&ca, &cb));
}

static void
test_burst_matches_single_parses(void **state)
{
	enum { N = S_SHAPE_MAX + 6 };
	static uint8_t frames[N][FP_PKTGEN_BUF_MAX];
	const void *ptrs[N];
	uint32_t lens[N];
	struct fp_stream_ckey ckeys[N];
	struct fp_stream_key keys[N];
	struct fp_pkt_offsets ofs[N];
	uint32_t hashes[N];
	uint8_t verdicts[N];
	unsigned int i, n, ok = 0;

	(void)state;
	/* Every shape, then refused frames: ARP, IP options, a truncated
	 * VXLAN frame, a bad VXLAN flag; then a VXLAN frame whose inner
	 * frame has 4 bytes of Ethernet padding, and a short padded SYN. */
	for (i = 0; i < N; i++) {
		size_t inner;
		int len;

		if (i < S_SHAPE_MAX)
			len = build_shape(i, i, 1, 128, &inner);
		else if (i == N - 1)
			len = build_shape(S_PLAIN_SYN, 1, 0, 64, &inner);
		else
			len = build_shape(S_VXLAN_TCP, 1, 1, 128, &inner);
		if (i == S_SHAPE_MAX) {
			frame[12] = 0x08;
			frame[13] = 0x06;
		} else if (i == S_SHAPE_MAX + 1) {
			frame[inner + 14] = 0x46;
		} else if (i == S_SHAPE_MAX + 2) {
			len = inner + 20;
		} else if (i == S_SHAPE_MAX + 3) {
			frame[42] = 0x0c;
		} else if (i == S_SHAPE_MAX + 4) {
			assert_true(frame[inner + 17] >= 4);
			frame[inner + 17] -= 4; /* Inner IP total length. */
		}
		lens[i] = len;
		memcpy(frames[i], frame, len);
		ptrs[i] = frames[i];
	}
	/* Each count, so that the four-at-a-time loop and the rest both
	 * run, with every byte of the outputs set to garbage first. */
	for (n = 0; n <= N; n++) {
		unsigned int parsed;

		memset(ckeys, 0xa5, sizeof(ckeys));
		memset(keys, 0xa5, sizeof(keys));
		memset(ofs, 0xa5, sizeof(ofs));
		memset(hashes, 0xa5, sizeof(hashes));
		parsed = fp_pkt_parse_burst(ptrs, lens, n, 3, VXLAN_PORT,
					    ckeys, keys, ofs, hashes,
					    verdicts);
		ok = 0;
		for (i = 0; i < n; i++) {
			struct fp_stream_key key;
			struct fp_pkt_offsets o;
			struct fp_stream_ckey ck;
			enum fp_pkt_verdict v;
			bool packed;

			v = fp_pkt_parse(frames[i], lens[i], 3, VXLAN_PORT,
					 &key, &o);
			if (verdicts[i] != v)
				fail_msg("frame %u: verdict %s, not %s", i,
					 fp_pkt_verdict_name(verdicts[i]),
					 fp_pkt_verdict_name(v));
			if (v != FP_PKT_OK)
				continue;
			ok++;
			if (memcmp(&ofs[i], &o, sizeof(o)) != 0)
				fail_msg("frame %u: offsets differ", i);
			packed = fp_stream_key_pack(&key, VXLAN_PORT, &ck);
			if (memcmp(&ckeys[i], &ck, sizeof(ck)) != 0)
				fail_msg("frame %u: compact key differs", i);
			assert_int_equal(hashes[i], fp_stream_ckey_hash(&ck));
			if (!packed && memcmp(&keys[i], &key, sizeof(key)) != 0)
				fail_msg("frame %u: full key differs", i);
			assert_int_equal(fp_stream_ckey_flow_id(&ckeys[i],
								&keys[i]),
					 fp_stream_key_flow_id(&key));
		}
		assert_int_equal(parsed, ok);
	}
	assert_int_equal(ok, S_SHAPE_MAX + 2);
	assert_int_equal(verdicts[S_SHAPE_MAX], FP_PKT_ETHERTYPE);
	assert_int_equal(verdicts[S_SHAPE_MAX + 1], FP_PKT_IP_OPTIONS);
	assert_int_equal(verdicts[S_SHAPE_MAX + 3], FP_PKT_VXLAN);
	assert_int_equal(verdicts[N - 2], FP_PKT_OK);
	assert_int_equal(ofs[N - 2].inner_l2_pad, 4);
	assert_int_equal(verdicts[N - 1], FP_PKT_OK);
	assert_int_equal(ofs[N - 1].l2_pad, 6);
}

static void
test_verdict_names(void **state)
{
	int v;

	(void)state;
	for (v = 0; v < FP_PKT_VERDICT_MAX; v++)
		assert_non_null(fp_pkt_verdict_name(v));
	assert_string_equal(fp_pkt_verdict_name(FP_PKT_IP_OPTIONS),
			    "ip-options");
	assert_string_equal(fp_pkt_verdict_name(FP_PKT_VERDICT_MAX),
			    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_ipv4_udp),
		cmocka_unit_test(test_plain_ipv4_tcp_with_padding),
		cmocka_unit_test(test_plain_ipv6_tcp),
		cmocka_unit_test(test_plain_vlan_tags),
		cmocka_unit_test(test_icmp_type_and_code),
		cmocka_unit_test(test_vxlan_ipv4),
		cmocka_unit_test(test_vxlan_ipv6_with_inner_vlan),
		cmocka_unit_test(test_keys_identify_streams),
		cmocka_unit_test(test_every_truncation_is_refused),
		cmocka_unit_test(test_refused_shapes),
		cmocka_unit_test(test_refused_vlan_stack_and_udp_length),
		cmocka_unit_test(test_refused_ipv6_shapes),
		cmocka_unit_test(test_refused_vxlan_shapes),
		cmocka_unit_test(test_ckey_packed_round_trip),
		cmocka_unit_test(test_ckey_tells_keyed_fields_apart),
		cmocka_unit_test(test_ckey_tells_plain_fields_apart),
		cmocka_unit_test(test_ckey_digests),
		cmocka_unit_test(test_ckey_digest_is_not_one_crc),
		cmocka_unit_test(test_burst_matches_single_parses),
		cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests_name("fp_pkt", tests, NULL, NULL);
}
