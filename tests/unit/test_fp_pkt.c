/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Tests of the stream-key parser: every accepted shape gives the fields and
 * offsets Open vSwitch would see, and every refused shape is refused with
 * its reason. Valid frames come from fp_pktgen; refused ones are valid
 * frames with one field broken.
 */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static void
test_burst_matches_single_parses(void **state)
{
	static uint8_t frames[6][FP_PKTGEN_BUF_MAX];
	const void *ptrs[6];
	uint32_t lens[6];
	struct fp_stream_key keys[6];
	struct fp_pkt_offsets ofs[6];
	uint32_t hashes[6];
	uint8_t verdicts[6];
	struct fp_pktgen_conf conf;
	struct fp_stream_key key;
	unsigned int i;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.streams = 6;
	for (i = 0; i < 6; i++) {
		lens[i] = build(&conf, i, 0, NULL);
		memcpy(frames[i], frame, lens[i]);
		ptrs[i] = frames[i];
	}
	frames[4][12] = 0x08;
	frames[4][13] = 0x06; /* ARP. */
	assert_int_equal(fp_pkt_parse_burst(ptrs, lens, 6, 3, VXLAN_PORT, keys,
					    ofs, hashes, verdicts), 5);
	for (i = 0; i < 6; i++) {
		enum fp_pkt_verdict v = fp_pkt_parse(frames[i], lens[i], 3,
						     VXLAN_PORT, &key, NULL);

		assert_int_equal(verdicts[i], v);
		if (v == FP_PKT_OK) {
			assert_true(fp_stream_key_equal(&keys[i], &key));
			assert_int_equal(hashes[i], fp_stream_key_hash(&key));
		}
	}
	assert_int_equal(verdicts[4], FP_PKT_ETHERTYPE);
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
		cmocka_unit_test(test_burst_matches_single_parses),
		cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests_name("fp_pkt", tests, NULL, NULL);
}
