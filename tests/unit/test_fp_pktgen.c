/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Tests of the VXLAN test-traffic builder and the pcap writer. Checksums are
 * verified with an independent one's-complement sum, not with the DPDK
 * helpers the builder uses.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_errno.h>

#include "fp_pcap.h"
#include "fp_pktgen.h"

#include "fp_test_frames.h"

#define OUTER_HLEN 50 /* Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8. */

static void
test_default_conf_is_valid(void **state)
{
	struct fp_pktgen_conf conf;

	(void)state;
	fp_pktgen_conf_default(&conf);
	assert_null(fp_pktgen_conf_check(&conf));
}

static void
test_conf_check_refuses_out_of_range(void **state)
{
	struct fp_pktgen_conf conf;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.streams = 0;
	assert_non_null(fp_pktgen_conf_check(&conf));
	conf.streams = FP_PKTGEN_STREAMS_MAX + 1;
	assert_non_null(fp_pktgen_conf_check(&conf));
	conf.streams = FP_PKTGEN_STREAMS_MAX;
	assert_null(fp_pktgen_conf_check(&conf));

	conf.frame_size = FP_PKTGEN_FRAME_MIN - 1;
	assert_non_null(fp_pktgen_conf_check(&conf));
	conf.frame_size = FP_PKTGEN_FRAME_MAX + 1;
	assert_non_null(fp_pktgen_conf_check(&conf));
	conf.frame_size = FP_PKTGEN_FRAME_MAX;
	assert_null(fp_pktgen_conf_check(&conf));

	conf.vni = 1u << 24;
	assert_non_null(fp_pktgen_conf_check(&conf));
	conf.vni = 0xffffff;
	conf.vnis = 2;
	assert_non_null(fp_pktgen_conf_check(&conf));

	/* IPv6 and TCP headers do not fit a 64-byte frame. */
	fp_pktgen_conf_default(&conf);
	conf.inner_src.ipv6 = conf.inner_dst.ipv6 = true;
	conf.proto = FP_PKTGEN_TCP;
	assert_non_null(fp_pktgen_conf_check(&conf));
	conf.frame_size = 78;
	assert_null(fp_pktgen_conf_check(&conf));
	conf.inner_dst.ipv6 = false;
	assert_non_null(fp_pktgen_conf_check(&conf));
}

static void
test_ipv6_underlay_and_overlay_with_vlan(void **state)
{
	uint8_t buf[FP_PKTGEN_BUF_MAX];
	struct fp_pktgen_conf conf;
	size_t inner;
	int len;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.outer_src.ipv6 = conf.outer_dst.ipv6 = true;
	memcpy(conf.outer_src.bytes, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	memcpy(conf.outer_dst.bytes, "\xfd\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	conf.inner_src.ipv6 = conf.inner_dst.ipv6 = true;
	memcpy(conf.inner_src.bytes, "\xfd\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	memcpy(conf.inner_dst.bytes, "\xfd\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	conf.vlan = 42;
	conf.proto = FP_PKTGEN_TCP;
	conf.frame_size = 200;
	assert_null(fp_pktgen_conf_check(&conf));
	len = fp_pktgen_build(&conf, 0, 0, false, buf, sizeof(buf), &inner);
	assert_int_equal(len, 196 + 70);
	assert_int_equal(inner, 70);
	assert_int_equal(get16(buf + 12), 0x86dd);
	assert_int_equal(check_ipv6_l4(buf + 14, len - 14), IPPROTO_UDP);
	assert_int_equal(get16(buf + 54 + 2), 4789);
	/* Inner: 802.1Q VID 42, then IPv6 TCP. */
	assert_int_equal(get16(buf + inner + 12), 0x8100);
	assert_int_equal(get16(buf + inner + 14) & 0xfff, 42);
	assert_int_equal(get16(buf + inner + 16), 0x86dd);
	assert_int_equal(check_ipv6_l4(buf + inner + 18, len - inner - 18),
			 IPPROTO_TCP);
}

static void
test_vnis_spread_streams(void **state)
{
	uint8_t buf[FP_PKTGEN_BUF_MAX];
	struct fp_pktgen_conf conf;
	uint32_t s;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.streams = 10;
	conf.vnis = 4;
	for (s = 0; s < conf.streams; s++) {
		fp_pktgen_build(&conf, s, 0, false, buf, sizeof(buf), NULL);
		assert_int_equal(get16(buf + 46) << 8 | buf[48],
				 100 + s % 4);
	}
}

static void
test_imix_sizes(void **state)
{
	uint8_t buf[FP_PKTGEN_BUF_MAX];
	struct fp_pktgen_conf conf;
	unsigned int count[3] = { 0, 0, 0 };
	uint32_t n;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.frame_size = FP_PKTGEN_IMIX;
	conf.packets = 120;
	assert_null(fp_pktgen_conf_check(&conf));
	for (n = 0; n < conf.packets; n++) {
		size_t inner;
		int len = fp_pktgen_build(&conf, 0, n, false, buf, sizeof(buf),
					  &inner);

		switch (len - inner) {
		case 60: count[0]++; break;
		case 566: count[1]++; break;
		case 1514: count[2]++; break;
		default: fail();
		}
		check_ipv4_l4(buf + inner + 14, len - inner - 14);
	}
	assert_int_equal(count[0], 70);
	assert_int_equal(count[1], 40);
	assert_int_equal(count[2], 10);
}

/* TCP header of a plain IPv4 frame. */
static const uint8_t *
tcp_of(const uint8_t *frame)
{
	return frame + 14 + 20;
}

static void
test_tcp_handshake_numbers_follow_the_bytes(void **state)
{
	uint8_t f[5][FP_PKTGEN_BUF_MAX];
	uint8_t r[5][FP_PKTGEN_BUF_MAX];
	struct fp_pktgen_conf conf;
	uint32_t isn_f, isn_r;
	int flen[5];
	int n;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.encap = false;
	conf.proto = FP_PKTGEN_TCP;
	conf.tcp_handshake = true;
	conf.streams = 4;
	conf.packets = 5;
	conf.frame_size = 100;
	for (n = 0; n < 5; n++) {
		flen[n] = fp_pktgen_build(&conf, 3, n, false, f[n],
					  sizeof(f[n]), NULL);
		assert_int_equal(flen[n], 96);
		assert_int_equal(fp_pktgen_build(&conf, 3, n, true, r[n],
						 sizeof(r[n]), NULL), 96);
		check_ipv4_l4(f[n] + 14, get16(f[n] + 16));
		check_ipv4_l4(r[n] + 14, get16(r[n] + 16));
	}
	/* Flags: SYN, ACK, ACK, ACK, FIN|ACK; SYN|ACK, ACK, ..., FIN|ACK. */
	assert_int_equal(tcp_of(f[0])[13], 0x02);
	assert_int_equal(tcp_of(f[2])[13], 0x10);
	assert_int_equal(tcp_of(f[4])[13], 0x11);
	assert_int_equal(tcp_of(r[0])[13], 0x12);
	assert_int_equal(tcp_of(r[2])[13], 0x10);
	assert_int_equal(tcp_of(r[4])[13], 0x11);
	/* Reverse frames swap addresses and ports. */
	assert_memory_equal(r[1] + 26, f[1] + 30, 4);
	assert_memory_equal(tcp_of(r[1]), tcp_of(f[1]) + 2, 2);

	isn_f = get32(tcp_of(f[0]) + 4);
	isn_r = get32(tcp_of(r[0]) + 4);
	assert_int_equal(get32(tcp_of(r[0]) + 8), isn_f + 1);
	/* Data segments: 96 - 54 = 42 bytes each; SYN and FIN carry none
	 * and are padded to the minimum frame. */
	assert_int_equal(get16(f[0] + 16), 40);
	assert_int_equal(get16(f[1] + 16), 82);
	assert_int_equal(get32(tcp_of(f[1]) + 4), isn_f + 1);
	assert_int_equal(get32(tcp_of(f[2]) + 4), isn_f + 1 + 42);
	assert_int_equal(get32(tcp_of(f[4]) + 4), isn_f + 1 + 3 * 42);
	assert_int_equal(get32(tcp_of(f[1]) + 8), isn_r + 1);
	/* Each reverse ACK acknowledges the forward packet it answers. */
	assert_int_equal(get32(tcp_of(r[1]) + 8), isn_f + 1 + 42);
	assert_int_equal(get32(tcp_of(r[3]) + 8), isn_f + 1 + 3 * 42);
	assert_int_equal(get32(tcp_of(r[4]) + 8), isn_f + 1 + 3 * 42 + 1);
	assert_int_equal(get32(tcp_of(r[4]) + 4), isn_r + 1);
}

static void
test_udp_64_layout_and_checksums(void **state)
{
	uint8_t buf[FP_PKTGEN_BUF_MAX];
	struct fp_pktgen_conf conf;
	size_t inner;
	int len;

	(void)state;
	fp_pktgen_conf_default(&conf);
	len = fp_pktgen_build(&conf, 0, 0, false, buf, sizeof(buf), &inner);
	assert_int_equal(len, 60 + OUTER_HLEN);
	assert_int_equal(inner, OUTER_HLEN);

	/* Outer Ethernet to the local VTEP MAC, IPv4, UDP 4789, VXLAN. */
	assert_memory_equal(buf, "\x02\x00\x00\x00\x00\x01", 6);
	assert_int_equal(get16(buf + 12), 0x0800);
	assert_int_equal(check_ipv4_l4(buf + 14, len - 14), IPPROTO_UDP);
	assert_memory_equal(buf + 14 + 16, "\xac\x1f\x01\x01", 4);
	assert_int_equal(get16(buf + 34 + 2), 4789);
	assert_true(get16(buf + 34) >= 49152);
	assert_int_equal(buf[42], 0x08);
	assert_memory_equal(buf + 46, "\x00\x00\x64\x00", 4); /* VNI 100. */

	/* Inner frame: 60 bytes, valid IPv4 and UDP checksums. */
	assert_int_equal(get16(buf + inner + 12), 0x0800);
	assert_int_equal(check_ipv4_l4(buf + inner + 14, len - inner - 14),
			 IPPROTO_UDP);
	assert_int_equal(get16(buf + inner + 34 + 2), 5001);
}

static void
test_every_size_has_valid_checksums(void **state)
{
	uint8_t buf[FP_PKTGEN_BUF_MAX];
	struct fp_pktgen_conf conf;
	uint16_t size;
	int proto;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.streams = 3;
	for (proto = FP_PKTGEN_UDP; proto <= FP_PKTGEN_TCP; proto++) {
		conf.proto = proto;
		for (size = FP_PKTGEN_FRAME_MIN; size <= FP_PKTGEN_FRAME_MAX;
		     size++) {
			size_t inner;
			int len;

			conf.frame_size = size;
			len = fp_pktgen_build(&conf, 2, 0, false, buf,
					      sizeof(buf), &inner);
			assert_int_equal(len, size - 4 + OUTER_HLEN);
			check_ipv4_l4(buf + 14, len - 14);
			assert_int_equal(check_ipv4_l4(buf + inner + 14,
						       len - inner - 14),
					 proto == FP_PKTGEN_TCP ?
					 IPPROTO_TCP : IPPROTO_UDP);
		}
	}
}

static void
test_tcp_is_mid_stream_ack(void **state)
{
	uint8_t buf[FP_PKTGEN_BUF_MAX];
	struct fp_pktgen_conf conf;
	size_t inner;
	int len;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.proto = FP_PKTGEN_TCP;
	conf.frame_size = 512;
	conf.packets = 6;
	len = fp_pktgen_build(&conf, 0, 5, false, buf, sizeof(buf), &inner);
	assert_int_equal(len, 508 + OUTER_HLEN);
	/* TCP flags byte: ACK only. */
	assert_int_equal(buf[inner + 34 + 13], 0x10);
}

static void
test_streams_are_distinct_tuples(void **state)
{
	enum { N = 70000 };
	uint8_t buf[FP_PKTGEN_BUF_MAX];
	struct fp_pktgen_conf conf;
	uint8_t *seen;
	uint32_t s;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.streams = N;
	/* Key: low byte of source address and source port. */
	seen = calloc(256 * 65536, 1);
	assert_non_null(seen);
	for (s = 0; s < N; s++) {
		size_t inner;
		uint32_t key;

		assert_true(fp_pktgen_build(&conf, s, 0, false, buf,
					    sizeof(buf), &inner) > 0);
		key = (uint32_t)buf[inner + 14 + 15] << 16 |
		      get16(buf + inner + 34);
		assert_int_equal(seen[key], 0);
		seen[key] = 1;
	}
	free(seen);

	/* Past 64,512 streams the source address moves on. */
	{
		size_t inner;

		fp_pktgen_build(&conf, 64512, 0, false, buf, sizeof(buf),
				&inner);
		assert_memory_equal(buf + inner + 14 + 12, "\x0a\x00\x00\x02",
				    4);
		assert_int_equal(get16(buf + inner + 34), 1024);
	}
}

static void
test_output_is_deterministic(void **state)
{
	uint8_t a[FP_PKTGEN_BUF_MAX];
	uint8_t b[FP_PKTGEN_BUF_MAX];
	struct fp_pktgen_conf conf;
	int len;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.streams = 10;
	conf.frame_size = 200;
	conf.packets = 5;
	len = fp_pktgen_build(&conf, 7, 3, false, a, sizeof(a), NULL);
	assert_int_equal(fp_pktgen_build(&conf, 7, 3, false, b, sizeof(b),
					 NULL), len);
	assert_memory_equal(a, b, len);
	/* Another packet of the same stream: same tuple, other payload. */
	fp_pktgen_build(&conf, 7, 4, false, b, sizeof(b), NULL);
	assert_memory_equal(a + OUTER_HLEN + 26, b + OUTER_HLEN + 26, 12);
	assert_memory_not_equal(a + OUTER_HLEN + 42, b + OUTER_HLEN + 42,
				len - OUTER_HLEN - 42);
}

static void
test_build_refuses_bad_arguments(void **state)
{
	uint8_t buf[FP_PKTGEN_BUF_MAX];
	struct fp_pktgen_conf conf;

	(void)state;
	fp_pktgen_conf_default(&conf);
	conf.streams = 4;
	assert_int_equal(fp_pktgen_build(&conf, 4, 0, false, buf, sizeof(buf),
					 NULL), -EINVAL);
	assert_int_equal(fp_pktgen_build(&conf, 0, 1, false, buf, sizeof(buf),
					 NULL), -EINVAL);
	assert_int_equal(fp_pktgen_build(&conf, 0, 0, false, buf, 109, NULL),
			 -ENOSPC);
	assert_int_equal(fp_pktgen_build(&conf, 0, 0, false, buf, 110, NULL),
			 110);
}

static void
test_pcap_writer_round_trip(void **state)
{
	char path[] = "/tmp/fp-test-pcap-XXXXXX";
	const uint8_t f1[60] = { 1, 2, 3 };
	const uint8_t f2[1514] = { 9, 8, 7 };
	struct fp_pcap_writer *w;
	uint8_t hdr[24];
	uint32_t rec[4];
	uint8_t body[1514];
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);

	w = fp_pcap_writer_open(path);
	assert_non_null(w);
	assert_int_equal(fp_pcap_writer_add(w, f1, sizeof(f1), 1), 0);
	assert_int_equal(fp_pcap_writer_add(w, f2, sizeof(f2), 2000001), 0);
	assert_int_equal(fp_pcap_writer_add(w, f1, 0, 3), -EINVAL);
	assert_int_equal(fp_pcap_writer_add(w, f1, FP_PCAP_SNAPLEN + 1, 3),
			 -EINVAL);
	assert_int_equal(fp_pcap_writer_count(w), 2);
	assert_int_equal(fp_pcap_writer_close(w), 0);

	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(hdr, sizeof(hdr), 1, f), 1);
	assert_int_equal(*(uint32_t *)hdr, 0xa1b2c3d4);
	assert_int_equal(*(uint32_t *)(hdr + 20), 1); /* Ethernet. */

	assert_int_equal(fread(rec, sizeof(rec), 1, f), 1);
	assert_int_equal(rec[0], 0);
	assert_int_equal(rec[1], 1);
	assert_int_equal(rec[2], sizeof(f1));
	assert_int_equal(rec[3], sizeof(f1));
	assert_int_equal(fread(body, sizeof(f1), 1, f), 1);
	assert_memory_equal(body, f1, sizeof(f1));

	assert_int_equal(fread(rec, sizeof(rec), 1, f), 1);
	assert_int_equal(rec[0], 2);
	assert_int_equal(rec[1], 1);
	assert_int_equal(rec[2], sizeof(f2));
	assert_int_equal(fread(body, sizeof(f2), 1, f), 1);
	assert_memory_equal(body, f2, sizeof(f2));

	assert_int_equal(fread(body, 1, 1, f), 0);
	assert_true(feof(f));
	fclose(f);
	unlink(path);
}

static void
test_pcap_writer_open_reports_errno(void **state)
{
	(void)state;
	assert_null(fp_pcap_writer_open("/nonexistent-dir/x.pcap"));
	assert_int_equal(rte_errno, ENOENT);
	assert_int_equal(fp_pcap_writer_close(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_conf_is_valid),
		cmocka_unit_test(test_conf_check_refuses_out_of_range),
		cmocka_unit_test(test_udp_64_layout_and_checksums),
		cmocka_unit_test(test_every_size_has_valid_checksums),
		cmocka_unit_test(test_tcp_is_mid_stream_ack),
		cmocka_unit_test(test_ipv6_underlay_and_overlay_with_vlan),
		cmocka_unit_test(test_vnis_spread_streams),
		cmocka_unit_test(test_imix_sizes),
		cmocka_unit_test(test_tcp_handshake_numbers_follow_the_bytes),
		cmocka_unit_test(test_streams_are_distinct_tuples),
		cmocka_unit_test(test_output_is_deterministic),
		cmocka_unit_test(test_build_refuses_bad_arguments),
		cmocka_unit_test(test_pcap_writer_round_trip),
		cmocka_unit_test(test_pcap_writer_open_reports_errno),
	};

	return cmocka_run_group_tests_name("fp_pktgen", tests, NULL, NULL);
}
