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

#define OUTER_HLEN 50 /* Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8. */

static uint32_t
sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Checks an IPv4 header at 'ip' and its UDP/TCP payload; returns the IP
 * protocol. */
static uint8_t
check_ipv4_l4(const uint8_t *ip, size_t avail)
{
	uint16_t total = get16(ip + 2);
	uint16_t l4_len = total - 20;
	uint8_t pseudo[12];
	uint8_t proto = ip[9];

	assert_int_equal(ip[0], 0x45);
	assert_int_equal(total, avail);
	assert_int_equal(fold(sum16(ip, 20, 0)), 0xffff);

	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = proto;
	pseudo[10] = l4_len >> 8;
	pseudo[11] = l4_len & 0xff;
	if (proto == IPPROTO_UDP) {
		assert_int_equal(get16(ip + 20 + 4), l4_len);
		/* Zero means "no checksum" (outer VXLAN UDP). */
		if (get16(ip + 20 + 6) != 0)
			assert_int_equal(fold(sum16(ip + 20, l4_len,
						    sum16(pseudo, 12, 0))),
					 0xffff);
	} else {
		assert_int_equal(proto, IPPROTO_TCP);
		assert_int_equal(fold(sum16(ip + 20, l4_len,
					    sum16(pseudo, 12, 0))), 0xffff);
	}
	return proto;
}

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
	len = fp_pktgen_build(&conf, 0, 0, buf, sizeof(buf), &inner);
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
			len = fp_pktgen_build(&conf, 2, size, buf, sizeof(buf),
					      &inner);
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
	len = fp_pktgen_build(&conf, 0, 5, buf, sizeof(buf), &inner);
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

		assert_true(fp_pktgen_build(&conf, s, 0, buf, sizeof(buf),
					    &inner) > 0);
		key = (uint32_t)buf[inner + 14 + 15] << 16 |
		      get16(buf + inner + 34);
		assert_int_equal(seen[key], 0);
		seen[key] = 1;
	}
	free(seen);

	/* Past 64,512 streams the source address moves on. */
	{
		size_t inner;

		fp_pktgen_build(&conf, 64512, 0, buf, sizeof(buf), &inner);
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
	len = fp_pktgen_build(&conf, 7, 3, a, sizeof(a), NULL);
	assert_int_equal(fp_pktgen_build(&conf, 7, 3, b, sizeof(b), NULL),
			 len);
	assert_memory_equal(a, b, len);
	/* Another packet of the same stream: same tuple, other payload. */
	fp_pktgen_build(&conf, 7, 4, b, sizeof(b), NULL);
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
	assert_int_equal(fp_pktgen_build(&conf, 4, 0, buf, sizeof(buf), NULL),
			 -EINVAL);
	assert_int_equal(fp_pktgen_build(&conf, 0, 0, buf, 109, NULL),
			 -ENOSPC);
	assert_int_equal(fp_pktgen_build(&conf, 0, 0, buf, 110, NULL), 110);
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
		cmocka_unit_test(test_streams_are_distinct_tuples),
		cmocka_unit_test(test_output_is_deterministic),
		cmocka_unit_test(test_build_refuses_bad_arguments),
		cmocka_unit_test(test_pcap_writer_round_trip),
		cmocka_unit_test(test_pcap_writer_open_reports_errno),
	};

	return cmocka_run_group_tests_name("fp_pktgen", tests, NULL, NULL);
}
