/* SPDX-License-Identifier: Apache-2.0 */

/*
 * fp_qos: profile parsing and validation, colour decisions against the
 * RFCs with a controlled clock, packets per second, actions (drop, DSCP
 * remark with a valid IPv4 checksum), counters and measured rates, and one
 * rate shared by two threads.
 *
 * The meters run on librte_meter, which reads the TSC frequency from the
 * EAL: main() starts it without hugepages or PCI.
 */

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "fp_qos.h"
#include "../fp_test_eal.h"

#define MAX_FRAME 1518

static struct rte_mempool *pool;
static uint64_t hz;

/* Parses "k=v" strings; returns what fp_qos_profile_parse() returns. */
static int
parse(struct fp_qos_profile *p, char *err, size_t err_size, ...)
{
	const char *keys[16], *values[16];
	static char buf[16][64];
	const char *kv;
	unsigned int n = 0;
	va_list ap;

	va_start(ap, err_size);
	while ((kv = va_arg(ap, const char *)) != NULL && n < 16) {
		char *eq;

		snprintf(buf[n], sizeof(buf[n]), "%s", kv);
		eq = strchr(buf[n], '=');
		assert_non_null(eq);
		*eq = '\0';
		keys[n] = buf[n];
		values[n] = eq + 1;
		n++;
	}
	va_end(ap);
	return fp_qos_profile_parse(keys, values, n, MAX_FRAME, p, err,
				    err_size);
}

/* An Ethernet frame of 'len' bytes: optional VLAN tag, IPv4 or IPv6, UDP,
 * with DSCP 'dscp' and ECN 1. */
static struct rte_mbuf *
frame(uint32_t len, int dscp, bool ipv6, bool vlan)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *p;
	uint32_t ofs = 12;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memset(p, 0, len);
	memset(p, 0xaa, 6);
	memset(p + 6, 0xbb, 6);
	if (vlan) {
		p[ofs] = 0x81;
		p[ofs + 1] = 0x00;
		p[ofs + 3] = 7;
		ofs += 4;
	}
	if (ipv6) {
		p[ofs] = 0x86;
		p[ofs + 1] = 0xdd;
		ofs += 2;
		p[ofs] = (uint8_t)(0x60 | (dscp >> 2));
		p[ofs + 1] = (uint8_t)(((dscp & 3) << 6) | (1 << 4));
		p[ofs + 6] = 17;
		p[ofs + 7] = 64;
	} else {
		struct rte_ipv4_hdr *ip;

		p[ofs] = 0x08;
		p[ofs + 1] = 0x00;
		ofs += 2;
		ip = (struct rte_ipv4_hdr *)(p + ofs);
		ip->version_ihl = 0x45;
		ip->type_of_service = (uint8_t)((dscp << 2) | 1);
		ip->total_length = rte_cpu_to_be_16((uint16_t)(len - ofs));
		ip->time_to_live = 64;
		ip->next_proto_id = 17;
		ip->src_addr = rte_cpu_to_be_32(0x0a000001);
		ip->dst_addr = rte_cpu_to_be_32(0x0a000002);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	return m;
}

static struct fp_qos_meter *
meter(const struct fp_qos_profile *p, uint64_t t0)
{
	struct fp_qos_meter *m = fp_qos_meter_create(p, hz, t0);

	assert_non_null(m);
	return m;
}

/* Meters one packet and returns its colour, read from the counters. */
static enum rte_color
color_of(struct fp_qos_meter *m, struct rte_mbuf *pkt, uint64_t t)
{
	struct fp_qos_stats before, after;
	struct rte_mbuf *pkts[1] = { pkt };
	unsigned int c;

	fp_qos_meter_stats(m, &before);
	fp_qos_meter_run(m, pkts, 1, t, false);
	fp_qos_meter_stats(m, &after);
	for (c = 0; c < RTE_COLORS; c++)
		if (after.packets[c] == before.packets[c] + 1)
			return (enum rte_color)c;
	fail_msg("the packet was not counted");
	return RTE_COLORS;
}

static void
test_parse_defaults_and_format(void **state)
{
	struct fp_qos_profile p, q;
	char err[256] = "", text[256];

	(void)state;
	assert_int_equal(parse(&p, err, sizeof(err), "cir=10000000",
			       "cbs=15000", NULL), 0);
	assert_int_equal(p.algorithm, FP_QOS_SRTCM);
	assert_int_equal(p.unit, FP_QOS_BPS);
	assert_false(p.color_aware);
	assert_int_equal(p.action[RTE_COLOR_GREEN].verb, FP_QOS_PASS);
	assert_int_equal(p.action[RTE_COLOR_YELLOW].verb, FP_QOS_PASS);
	assert_int_equal(p.action[RTE_COLOR_RED].verb, FP_QOS_DROP);
	fp_qos_profile_format(&p, text, sizeof(text));
	assert_string_equal(text, "algorithm=srtcm unit=bps cir=10000000 "
			    "cbs=15000 ebs=0 color-mode=blind green=pass "
			    "yellow=pass red=drop");

	assert_int_equal(parse(&q, err, sizeof(err), "algorithm=trtcm",
			       "unit=pps", "cir=1000", "pir=2000", "cbs=10",
			       "pbs=20", "color-mode=aware", "yellow=remark:10",
			       "red=remark:14", NULL), 0);
	fp_qos_profile_format(&q, text, sizeof(text));
	assert_string_equal(text, "algorithm=trtcm unit=pps cir=1000 cbs=10 "
			    "pir=2000 pbs=20 color-mode=aware green=pass "
			    "yellow=remark:10 red=remark:14");
	assert_false(fp_qos_profile_equal(&p, &q));
	assert_true(fp_qos_profile_equal(&q, &q));
}

static void
test_parse_errors_name_key_and_problem(void **state)
{
	static const struct {
		const char *kv[6];
		const char *msg;
	} cases[] = {
		{ { "cbs=1600" }, "cir is missing: the committed rate, in "
		  "bits/s, is required" },
		{ { "cir=0", "cbs=1600" }, "cir: the rate must not be 0" },
		{ { "cir=abc", "cbs=1600" }, "cir: 'abc' is not a number of "
		  "bits/s" },
		{ { "cir=500000000000", "cbs=1600" }, "cir: 500000000000 "
		  "bits/s is more than the 400000000000 this meter takes" },
		{ { "cir=1000000" }, "cbs is missing: the burst size, in "
		  "bytes, is required" },
		{ { "cir=1000000", "cbs=100" }, "cbs: 100 bytes is smaller "
		  "than one frame of the port's MTU (1518 bytes)" },
		{ { "unit=pps", "cir=100", "cbs=0" }, "cbs: 0 packets is "
		  "smaller than one packet (1 packets)" },
		{ { "algorithm=wfq", "cir=1", "cbs=1600" }, "algorithm: 'wfq' "
		  "is not srtcm, trtcm or rfc4115" },
		{ { "unit=kbps", "cir=1", "cbs=1600" }, "unit: 'kbps' is not "
		  "bps or pps" },
		{ { "color-mode=purple", "cir=1", "cbs=1600" }, "color-mode: "
		  "'purple' is not blind or aware" },
		{ { "cir=1000", "cbs=1600", "red=explode" }, "red: 'explode' "
		  "is not pass, drop or remark:DSCP (DSCP from 0 to 63)" },
		{ { "cir=1000", "cbs=1600", "green=remark:64" }, "green: "
		  "'remark:64' is not pass, drop or remark:DSCP" },
		{ { "cir=1000", "cbs=1600", "bandwidth=3" }, "'bandwidth' is "
		  "not a meter key" },
		{ { "cir=1000", "cbs=1600", "pir=2000" }, "srtcm takes cir, "
		  "cbs and ebs" },
		{ { "algorithm=trtcm", "cir=2000", "pir=1000", "cbs=1600",
		    "pbs=1600" }, "pir: the peak rate 1000 is below the "
		  "committed rate 2000" },
		{ { "algorithm=trtcm", "cir=2000", "pir=3000", "cbs=1600" },
		  "pbs is missing" },
		{ { "algorithm=trtcm", "cir=2000", "cbs=1600", "pbs=1600" },
		  "pir is missing: the peak rate" },
		{ { "algorithm=rfc4115", "cir=2000", "cbs=1600", "ebs=1600" },
		  "ebs needs eir" },
		{ { "algorithm=rfc4115", "cir=2000", "cbs=1600", "eir=10" },
		  "ebs is missing" },
	};
	struct fp_qos_profile p, before;
	unsigned int i;

	(void)state;
	memset(&before, 0x5a, sizeof(before));
	for (i = 0; i < RTE_DIM(cases); i++) {
		const char *keys[6], *values[6];
		char kv[6][64], err[256] = "";
		unsigned int n;

		for (n = 0; n < 6 && cases[i].kv[n] != NULL; n++) {
			char *eq;

			snprintf(kv[n], sizeof(kv[n]), "%s", cases[i].kv[n]);
			eq = strchr(kv[n], '=');
			*eq = '\0';
			keys[n] = kv[n];
			values[n] = eq + 1;
		}
		p = before;
		assert_int_equal(fp_qos_profile_parse(keys, values, n,
						      MAX_FRAME, &p, err,
						      sizeof(err)), -EINVAL);
		if (strstr(err, cases[i].msg) == NULL)
			fail_msg("case %u: '%s' does not contain '%s'", i, err,
				 cases[i].msg);
		/* A refused profile leaves the caller's untouched. */
		assert_memory_equal(&p, &before, sizeof(p));
	}
}

/* RFC 2697: CBS then EBS of 1000-byte packets at once, then the refill. */
static void
test_srtcm_colors_follow_rfc2697(void **state)
{
	struct fp_qos_profile p;
	struct fp_qos_meter *m;
	struct rte_mbuf *pkt = frame(1000, 0, false, false);
	uint64_t t0 = 1000 * hz;
	int i;

	(void)state;
	assert_int_equal(parse(&p, NULL, 0, "cir=8000000", "cbs=3000",
			       "ebs=2000", NULL), 0);
	m = meter(&p, t0);
	for (i = 0; i < 3; i++)
		assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_GREEN);
	for (i = 0; i < 2; i++)
		assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_YELLOW);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_RED);
	/* 1 Mbyte/s: 1.01 ms later, one more packet is committed. */
	assert_int_equal(color_of(m, pkt, t0 + hz / 1000 + hz / 100000),
			 RTE_COLOR_GREEN);
	assert_int_equal(color_of(m, pkt, t0 + hz / 1000 + hz / 100000),
			 RTE_COLOR_RED);
	/* After 10 ms both buckets are full again (C first, then E). */
	for (i = 0; i < 3; i++)
		assert_int_equal(color_of(m, pkt, t0 + hz / 100),
				 RTE_COLOR_GREEN);
	assert_int_equal(color_of(m, pkt, t0 + hz / 100), RTE_COLOR_YELLOW);
	fp_qos_meter_free(m);
	rte_pktmbuf_free(pkt);
}

/* RFC 2698: red above the peak bucket, yellow above the committed one. */
static void
test_trtcm_colors_follow_rfc2698(void **state)
{
	struct fp_qos_profile p;
	struct fp_qos_meter *m;
	struct rte_mbuf *pkt = frame(1000, 0, false, false);
	struct rte_mbuf *big = frame(1500, 0, false, false);
	uint64_t t0 = 1000 * hz;

	(void)state;
	assert_int_equal(parse(&p, NULL, 0, "algorithm=trtcm", "cir=8000000",
			       "pir=16000000", "cbs=2000", "pbs=4000", NULL), 0);
	m = meter(&p, t0);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_GREEN);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_GREEN);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_YELLOW);
	/* 1000 peak tokens left: a 1500-byte packet is red and takes none. */
	assert_int_equal(color_of(m, big, t0), RTE_COLOR_RED);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_YELLOW);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_RED);
	fp_qos_meter_free(m);
	rte_pktmbuf_free(pkt);
	rte_pktmbuf_free(big);
}

/* RFC 4115: green from C, yellow from E, red when both are short. */
static void
test_rfc4115_colors(void **state)
{
	struct fp_qos_profile p;
	struct fp_qos_meter *m;
	struct rte_mbuf *pkt = frame(1000, 0, false, false);
	uint64_t t0 = 1000 * hz;

	(void)state;
	assert_int_equal(parse(&p, NULL, 0, "algorithm=rfc4115",
			       "cir=8000000", "eir=8000000", "cbs=2000",
			       "ebs=2000", NULL), 0);
	m = meter(&p, t0);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_GREEN);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_GREEN);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_YELLOW);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_YELLOW);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_RED);
	fp_qos_meter_free(m);
	rte_pktmbuf_free(pkt);
}

/* Colour-aware: a packet never gets a better colour than its DSCP's. */
static void
test_color_aware_uses_dscp(void **state)
{
	struct fp_qos_profile p;
	struct fp_qos_meter *m;
	struct rte_mbuf *af11 = frame(1000, 10, false, false);
	struct rte_mbuf *af12 = frame(1000, 12, false, true);
	struct rte_mbuf *af13 = frame(1000, 14, true, false);
	uint64_t t0 = 1000 * hz;

	(void)state;
	assert_int_equal(fp_qos_dscp_color(10), RTE_COLOR_GREEN);
	assert_int_equal(fp_qos_dscp_color(20), RTE_COLOR_YELLOW);
	assert_int_equal(fp_qos_dscp_color(38), RTE_COLOR_RED);
	assert_int_equal(fp_qos_dscp_color(46), RTE_COLOR_GREEN);
	assert_int_equal(fp_qos_dscp_color(-1), RTE_COLOR_GREEN);
	assert_int_equal(fp_qos_dscp_get(af13), 14);
	assert_int_equal(fp_qos_dscp_get(af12), 12);

	assert_int_equal(parse(&p, NULL, 0, "cir=8000000", "cbs=5000",
			       "ebs=5000", "color-mode=aware", NULL), 0);
	m = meter(&p, t0);
	assert_int_equal(color_of(m, af12, t0), RTE_COLOR_YELLOW);
	assert_int_equal(color_of(m, af13, t0), RTE_COLOR_RED);
	assert_int_equal(color_of(m, af11, t0), RTE_COLOR_GREEN);
	fp_qos_meter_free(m);

	/* The same packets, colour-blind: all green. */
	assert_int_equal(parse(&p, NULL, 0, "cir=8000000", "cbs=5000",
			       "ebs=5000", NULL), 0);
	m = meter(&p, t0);
	assert_int_equal(color_of(m, af12, t0), RTE_COLOR_GREEN);
	assert_int_equal(color_of(m, af13, t0), RTE_COLOR_GREEN);
	fp_qos_meter_free(m);
	rte_pktmbuf_free(af11);
	rte_pktmbuf_free(af12);
	rte_pktmbuf_free(af13);
}

/* Packets per second: sizes do not matter, packets do. */
static void
test_pps_counts_packets(void **state)
{
	struct fp_qos_profile p;
	struct fp_qos_meter *m;
	struct rte_mbuf *small = frame(64, 0, false, false);
	struct rte_mbuf *large = frame(1500, 0, false, false);
	uint64_t t0 = 1000 * hz;
	int i;

	(void)state;
	assert_int_equal(parse(&p, NULL, 0, "unit=pps", "cir=1000", "cbs=5",
			       NULL), 0);
	m = meter(&p, t0);
	for (i = 0; i < 5; i++)
		assert_int_equal(color_of(m, i % 2 ? small : large, t0),
				 RTE_COLOR_GREEN);
	assert_int_equal(color_of(m, small, t0), RTE_COLOR_RED);
	/* 1000 packets/s: one more 1.01 ms later. */
	assert_int_equal(color_of(m, large, t0 + hz / 1000 + hz / 100000),
			 RTE_COLOR_GREEN);
	assert_int_equal(color_of(m, small, t0 + hz / 1000 + hz / 100000),
			 RTE_COLOR_RED);
	fp_qos_meter_free(m);
	rte_pktmbuf_free(small);
	rte_pktmbuf_free(large);
}

/* Drop frees and compacts; remark writes the DSCP, keeps ECN and leaves a
 * valid IPv4 checksum; IPv6 and VLAN-tagged frames are remarked too. */
static void
test_actions_drop_and_remark(void **state)
{
	struct fp_qos_profile p;
	struct fp_qos_meter *m;
	struct rte_mbuf *pkts[6];
	struct fp_qos_stats st;
	uint64_t t0 = 1000 * hz;
	unsigned int avail = rte_mempool_avail_count(pool);
	struct rte_ipv4_hdr *ip;
	uint16_t kept;
	int i;

	(void)state;
	assert_int_equal(parse(&p, NULL, 0, "cir=8000000", "cbs=2000",
			       "ebs=2000", "yellow=remark:18", "red=drop",
			       "green=remark:46", NULL), 0);
	m = meter(&p, t0);
	pkts[0] = frame(1000, 0, false, false);   /* green */
	pkts[1] = frame(1000, 0, false, true);    /* green */
	pkts[2] = frame(1000, 0, true, false);    /* yellow */
	pkts[3] = frame(1000, 0, false, false);   /* yellow */
	pkts[4] = frame(1000, 0, false, false);   /* red */
	pkts[5] = frame(1000, 0, false, false);   /* red */
	assert_int_equal(rte_mempool_avail_count(pool), avail - 6);
	kept = fp_qos_meter_run(m, pkts, 6, t0, true);
	assert_int_equal(kept, 4);
	/* The two red packets went back to the pool. */
	assert_int_equal(rte_mempool_avail_count(pool), avail - 4);
	assert_int_equal(fp_qos_dscp_get(pkts[0]), 46);
	assert_int_equal(fp_qos_dscp_get(pkts[1]), 46);
	assert_int_equal(fp_qos_dscp_get(pkts[2]), 18);
	assert_int_equal(fp_qos_dscp_get(pkts[3]), 18);
	for (i = 0; i < 4; i++) {
		bool v6 = false;
		int ofs = fp_qos_ip_offset(pkts[i], &v6);

		assert_true(ofs > 0);
		if (v6) {
			/* ECN kept in the traffic class's low bits. */
			assert_int_equal((rte_pktmbuf_mtod(pkts[i],
				uint8_t *)[ofs + 1] >> 4) & 3, 1);
			continue;
		}
		ip = rte_pktmbuf_mtod_offset(pkts[i], struct rte_ipv4_hdr *,
					     ofs);
		assert_int_equal(ip->type_of_service & 3, 1);
		/* A header with a right checksum sums to 0xffff. */
		assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff);
	}
	fp_qos_meter_stats(m, &st);
	assert_int_equal(st.packets[RTE_COLOR_GREEN], 2);
	assert_int_equal(st.packets[RTE_COLOR_YELLOW], 2);
	assert_int_equal(st.packets[RTE_COLOR_RED], 2);
	assert_int_equal(st.bytes[RTE_COLOR_RED], 2000);
	assert_int_equal(st.dropped, 2);
	assert_int_equal(st.remarked, 4);
	for (i = 0; i < kept; i++)
		rte_pktmbuf_free(pkts[i]);
	fp_qos_meter_reset_stats(m);
	fp_qos_meter_stats(m, &st);
	assert_int_equal(st.packets[RTE_COLOR_GREEN] + st.dropped +
			 st.remarked, 0);
	fp_qos_meter_free(m);
}

/* 16 Mbit/s offered to an 8 Mbit/s meter, in simulated time: the
 * counters and the one-second rates say so, within 1 %. */
static void
test_rates_over_a_window(void **state)
{
	struct fp_qos_profile p;
	struct fp_qos_meter *m;
	struct rte_mbuf *pkt = frame(1000, 0, false, false);
	struct fp_qos_stats st;
	uint64_t t0 = 1000 * hz, t;
	uint64_t passed_bytes;
	int i;

	(void)state;
	assert_int_equal(parse(&p, NULL, 0, "cir=8000000", "cbs=1600", NULL),
			 0);
	m = meter(&p, t0);
	/* A 1000-byte packet every 0.5 ms, for 1.5 s. */
	for (i = 0; i < 3000; i++) {
		struct rte_mbuf *pkts[1] = { pkt };

		t = t0 + (uint64_t)i * hz / 2000;
		fp_qos_meter_run(m, pkts, 1, t, false);
	}
	fp_qos_meter_stats(m, &st);
	assert_int_equal(st.packets[RTE_COLOR_GREEN] +
			 st.packets[RTE_COLOR_RED], 3000);
	passed_bytes = st.bytes[RTE_COLOR_GREEN];
	/* 1 Mbyte/s for 1.5 s, plus the first burst. */
	assert_true(passed_bytes >= 1490000 && passed_bytes <= 1510000);
	assert_true(st.offered_rate > 15840000 && st.offered_rate < 16160000);
	assert_true(st.passed_rate > 7920000 && st.passed_rate < 8080000);
	fp_qos_meter_free(m);
	rte_pktmbuf_free(pkt);
}

/* A new profile takes effect with full buckets; counters are kept. */
static void
test_reconfigure_keeps_counters(void **state)
{
	struct fp_qos_profile p, q;
	struct fp_qos_meter *m;
	struct rte_mbuf *pkt = frame(1000, 0, false, false);
	struct fp_qos_stats st;
	uint64_t t0 = 1000 * hz;

	(void)state;
	assert_int_equal(parse(&p, NULL, 0, "cir=8000000", "cbs=1600", NULL),
			 0);
	assert_int_equal(parse(&q, NULL, 0, "cir=8000000", "cbs=3200", NULL),
			 0);
	m = meter(&p, t0);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_GREEN);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_RED);
	assert_int_equal(fp_qos_meter_reconfigure(m, &q, t0), 0);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_GREEN);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_GREEN);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_GREEN);
	assert_int_equal(color_of(m, pkt, t0), RTE_COLOR_RED);
	fp_qos_meter_stats(m, &st);
	assert_int_equal(st.packets[RTE_COLOR_GREEN], 4);
	assert_int_equal(st.packets[RTE_COLOR_RED], 2);
	fp_qos_meter_free(m);
	rte_pktmbuf_free(pkt);
}

/* Simulated time shared by the threads of the two-thread test: each
 * burst takes the next tick, so the meter sees the same span of time
 * however the threads are scheduled, on one core or two. */
#define HAMMER_BURSTS 3000   /* Per thread. */
#define HAMMER_TICKS_PER_S 10000

struct hammer {
	struct fp_qos_meter *m;
	uint64_t start;             /* Simulated time of the meter's creation. */
	uint64_t *clock;            /* Ticks taken so far, shared. */
	pthread_barrier_t *go;
	uint64_t passed;
	uint64_t last;              /* Latest time this thread metered at. */
	struct rte_mbuf *pkts[32];
};

static void *
hammer_run(void *arg)
{
	struct hammer *h = arg;
	int i;

	pthread_barrier_wait(h->go);
	for (i = 0; i < HAMMER_BURSTS; i++) {
		struct rte_mbuf *pkts[32];
		uint64_t tick, t;

		memcpy(pkts, h->pkts, sizeof(pkts));
		/* The time is taken before the meter's lock, as a PMD reads
		 * its TSC: the other thread may meter a later time first. */
		tick = __atomic_add_fetch(h->clock, 1, __ATOMIC_RELAXED);
		t = h->start + tick * (hz / HAMMER_TICKS_PER_S);
		h->passed += fp_qos_meter_run(h->m, pkts, 32, t, false);
		h->last = RTE_MAX(h->last, t);
	}
	return NULL;
}

/* Two threads meter 100-byte packets through one meter, far above its
 * rate, in simulated time (the meter takes the time from its caller):
 * 6000 bursts of 32 packets, 0.1 ms of simulated time apart, 0.6 s in all.
 * What passes is the one rate over that time plus the burst, within one
 * packet per thread, whatever each thread's share; and both threads pass
 * some. */
static void
test_two_threads_share_one_rate(void **state)
{
	struct fp_qos_profile p;
	struct hammer h[2];
	pthread_barrier_t go;
	pthread_t th[2];
	uint64_t start = 1000 * hz, clock = 0, last, passed, expect;
	int i, j;

	(void)state;
	/* 8 Mbit/s = 1 Mbyte/s: 100 bytes, one packet, per tick. */
	assert_int_equal(parse(&p, NULL, 0, "cir=8000000", "cbs=100000",
			       NULL), 0);
	assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
	memset(h, 0, sizeof(h));
	h[0].m = meter(&p, start);
	for (i = 0; i < 2; i++) {
		h[i].m = h[0].m;
		h[i].start = start;
		h[i].clock = &clock;
		h[i].go = &go;
		for (j = 0; j < 32; j++)
			h[i].pkts[j] = frame(100, 0, false, false);
		assert_int_equal(pthread_create(&th[i], NULL, hammer_run,
						&h[i]), 0);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	assert_int_equal(clock, 2 * HAMMER_BURSTS);
	last = RTE_MAX(h[0].last, h[1].last);
	assert_int_equal(last, start + clock * (hz / HAMMER_TICKS_PER_S));
	passed = (h[0].passed + h[1].passed) * 100;
	/* Tokens from creation to the last burst, plus the full burst. */
	expect = (uint64_t)((double)(last - start) * 1000000 / hz) + 100000;
	print_message("two threads: %" PRIu64 " + %" PRIu64 " packets passed, "
		      "%" PRIu64 " bytes against %" PRIu64 " expected\n",
		      h[0].passed, h[1].passed, passed, expect);
	assert_true(passed <= expect + 200 && passed + 200 >= expect);
	assert_true(h[0].passed > 0 && h[1].passed > 0);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 32; j++)
			rte_pktmbuf_free(h[i].pkts[j]);
	fp_qos_meter_free(h[0].m);
}

int
main(void)
{
	char prefix[64];
	int ret;
	char *argv[] = {
		"test_fp_qos", "--no-huge", "--no-pci", "-m", "64",
		"--no-shconf", "--log-level=error", "-l", "0", prefix,
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_defaults_and_format),
		cmocka_unit_test(test_parse_errors_name_key_and_problem),
		cmocka_unit_test(test_srtcm_colors_follow_rfc2697),
		cmocka_unit_test(test_trtcm_colors_follow_rfc2698),
		cmocka_unit_test(test_rfc4115_colors),
		cmocka_unit_test(test_color_aware_uses_dscp),
		cmocka_unit_test(test_pps_counts_packets),
		cmocka_unit_test(test_actions_drop_and_remark),
		cmocka_unit_test(test_rates_over_a_window),
		cmocka_unit_test(test_reconfigure_keeps_counters),
		cmocka_unit_test(test_two_threads_share_one_rate),
	};

	snprintf(prefix, sizeof(prefix), "--file-prefix=fpqos-test-%d",
		 (int)getpid());
	if (rte_eal_init((int)RTE_DIM(argv), argv) < 0) {
		fprintf(stderr, "test_fp_qos: cannot start the EAL\n");
		return 1;
	}
	hz = rte_get_tsc_hz();
	pool = rte_pktmbuf_pool_create("fpqos_test", 1023, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "test_fp_qos: no mbuf pool\n");
		return 1;
	}
	ret = cmocka_run_group_tests_name("fp_qos", tests, NULL, NULL);
	fp_test_eal_finish();
	return ret;
}
