/* SPDX-License-Identifier: Apache-2.0 */

/*
 * fp-qos-bench: what one fp_qos meter adds per packet, in TSC cycles, for
 * bursts of 32 64-byte frames, on one core.
 *
 * Each case meters the same 32 mbufs again and again (dropped ones are
 * not freed) and is compared with the same loop without a meter; the
 * difference is the meter's cost. Cases: each algorithm colour-blind with
 * every packet green; srTCM colour-aware; srTCM with green remarked; srTCM
 * at a rate that colours about half the packets red.
 *
 * Usage: fp-qos-bench EAL-OPTIONS -- [--bursts N] [--passes N]
 */

#include <getopt.h>
#include <inttypes.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "fp_qos.h"
#include "../fp_test_eal.h"

#define BURST 32

struct bench_case {
	const char *name;
	const char *kv[8];
};

static const struct bench_case cases[] = {
	{ "srtcm blind, all green",
	  { "cir=400000000000", "cbs=1000000000", NULL } },
	{ "trtcm blind, all green",
	  { "algorithm=trtcm", "cir=400000000000", "pir=400000000000",
	    "cbs=1000000000", "pbs=1000000000", NULL } },
	{ "rfc4115 blind, all green",
	  { "algorithm=rfc4115", "cir=400000000000", "cbs=1000000000", NULL } },
	{ "srtcm aware (DSCP read), all green",
	  { "cir=400000000000", "cbs=1000000000", "color-mode=aware", NULL } },
	{ "srtcm blind, green remarked",
	  { "cir=400000000000", "cbs=1000000000", "green=remark:46", NULL } },
	{ "srtcm pps, all green",
	  { "unit=pps", "cir=1000000000", "cbs=1000000000", NULL } },
	{ "srtcm blind, ~half red (dropped)",
	  { NULL } },
};

static struct rte_mbuf *pkts[BURST];

static uint64_t
loop(struct fp_qos_meter *m, uint64_t bursts, uint64_t *kept)
{
	uint64_t start = rte_rdtsc(), i;

	*kept = 0;
	for (i = 0; i < bursts; i++) {
		struct rte_mbuf *b[BURST];
		uint64_t t = rte_rdtsc();

		memcpy(b, pkts, sizeof(b));
		if (m != NULL)
			*kept += fp_qos_meter_run(m, b, BURST, t, false);
		else
			*kept += b[i % BURST] != NULL ? BURST : 0;
	}
	return rte_rdtsc() - start;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bursts", required_argument, NULL, 'b' },
		{ "passes", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t bursts = 2000000, passes = 5, hz;
	struct rte_mempool *pool;
	char half_cir[64];
	double green_cpp = 100;
	unsigned int c, i;
	int ret, opt;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "fp-qos-bench: cannot start the EAL\n");
		return 1;
	}
	argc -= ret;
	argv += ret;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'b')
			bursts = strtoull(optarg, NULL, 10);
		else if (opt == 'p')
			passes = strtoull(optarg, NULL, 10);
		else
			return 2;
	}
	if (bursts == 0 || passes == 0 || passes > 64)
		return 2;
	hz = rte_get_tsc_hz();
	pool = rte_pktmbuf_pool_create("fpqos_bench", 255, 0, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (pool == NULL)
		return 1;
	for (i = 0; i < BURST; i++) {
		uint8_t *p;

		pkts[i] = rte_pktmbuf_alloc(pool);
		p = (uint8_t *)rte_pktmbuf_append(pkts[i], 64);
		memset(p, 0, 64);
		p[12] = 0x08;
		p[14] = 0x45;
		p[15] = 10 << 2;
	}

	printf("fp-qos-bench: %" PRIu64 " bursts of %d 64-byte frames per "
	       "pass, median of %" PRIu64 " passes, TSC %" PRIu64 " Hz\n",
	       bursts, BURST, passes, hz);
	printf("%-38s %10s %10s %8s\n", "case", "cyc/pkt", "added", "kept");
	for (c = 0; c <= RTE_DIM(cases); c++) {
		const char *keys[8], *values[8];
		char kv[8][64];
		struct fp_qos_profile prof;
		struct fp_qos_meter *m = NULL;
		uint64_t samples[64], base[64], kept = 0;
		const char *name = c == 0 ? "no meter (loop only)" :
			cases[c - 1].name;
		unsigned int n = 0;
		char err[256];

		if (c > 0) {
			const char *const *src = cases[c - 1].kv;
			const char *half[] = { half_cir, "cbs=2000", NULL };

			if (src[0] == NULL) {
				/* Half the rate this loop offers, as measured
				 * in the first (all green) case. */
				snprintf(half_cir, sizeof(half_cir), "cir=%"
					 PRIu64, (uint64_t)((double)hz /
					 green_cpp * 64 * 8 / 2));
				src = half;
			}
			for (n = 0; src[n] != NULL; n++) {
				char *eq;

				snprintf(kv[n], sizeof(kv[n]), "%s", src[n]);
				eq = strchr(kv[n], '=');
				*eq = '\0';
				keys[n] = kv[n];
				values[n] = eq + 1;
			}
			if (fp_qos_profile_parse(keys, values, n, 1518, &prof,
						 err, sizeof(err)) != 0) {
				fprintf(stderr, "%s: %s\n", name, err);
				return 1;
			}
			m = fp_qos_meter_create(&prof, hz, rte_rdtsc());
			if (m == NULL)
				return 1;
		}
		for (i = 0; i < passes; i++) {
			uint64_t k;

			base[i] = loop(NULL, bursts, &k);
			samples[i] = loop(m, bursts, &kept);
		}
		qsort(samples, passes, sizeof(samples[0]), cmp_u64);
		qsort(base, passes, sizeof(base[0]), cmp_u64);
		{
			double per = (double)samples[passes / 2] /
				((double)bursts * BURST);
			double b = (double)base[passes / 2] /
				((double)bursts * BURST);

			if (c == 1)
				green_cpp = per;
			printf("%-38s %10.1f %10.1f %7.0f%%\n", name, per,
			       c == 0 ? 0.0 : per - b,
			       100.0 * (double)kept / ((double)bursts * BURST));
		}
		fp_qos_meter_free(m);
	}
	fp_test_eal_finish();
	return 0;
}
