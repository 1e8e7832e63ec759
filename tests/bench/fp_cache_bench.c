/* SPDX-License-Identifier: Apache-2.0 */

/*
 * fp-cache-bench: the fold cache's table against rte_hash, on the same
 * keys, in one run.
 *
 * Keys are real VXLAN stream keys (fp_pktgen frames through fp_pkt_parse,
 * packed by fp_stream_key_pack into 64-byte compact keys, what the fold
 * cache stores). For each table size, both tables are filled with the same
 * streams; then bursts of 32 keys, in a random order, are looked up with
 * their hashes already computed (the datapath computes them while
 * parsing), for keys that are present and for keys that are not. The
 * figure is TSC cycles per key, median of several passes, and the ratio
 * rte_hash / fold cache. Both tables get the same capacity: by default the
 * stream count plus an eighth, or --capacity, e.g. 131072 as OVS sizes the
 * fold cache by default (fold-max-streams).
 *
 * Usage: fp-cache-bench [EAL options] -- [--sizes N,N,...] [--passes N]
 *        [--capacity N]
 */

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include "fp_flowcache.h"
#include "fp_pkt.h"
#include "fp_pktgen.h"

#define BURST 32

struct bench_keys {
	struct fp_stream_ckey *keys;
	uint32_t *hashes;
	uint32_t n;
};

/* Keys of streams [first, first + n) of a large VXLAN configuration. */
static int
bench_make_keys(struct bench_keys *bk, uint32_t first, uint32_t n)
{
	uint8_t frame[FP_PKTGEN_BUF_MAX];
	struct fp_pktgen_conf conf;
	struct fp_stream_key key;
	uint32_t i;

	fp_pktgen_conf_default(&conf);
	conf.proto = FP_PKTGEN_TCP;
	conf.streams = FP_PKTGEN_STREAMS_MAX;
	bk->keys = calloc(n, sizeof(*bk->keys));
	bk->hashes = calloc(n, sizeof(*bk->hashes));
	bk->n = n;
	if (bk->keys == NULL || bk->hashes == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		int len = fp_pktgen_build(&conf, (first + i) % conf.streams,
					  0, false, frame, sizeof(frame), NULL);

		if (len < 0 || fp_pkt_parse(frame, len, 1, RTE_BE16(4789),
					    &key, NULL) != FP_PKT_OK)
			return -EINVAL;
		/* Past the generator's range, vary the VNI as well. */
		key.vxlan_vni =
			rte_cpu_to_be_32((first + i) / conf.streams << 8);
		if (!fp_stream_key_pack(&key, RTE_BE16(4789), &bk->keys[i]))
			return -EINVAL;
		bk->hashes[i] = fp_stream_ckey_hash(&bk->keys[i]);
	}
	return 0;
}

static uint32_t
bench_rand(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

static int
bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One pass of lookups of every key of 'bk' in bursts, in the order of
 * 'order'; returns cycles per key. */
static double
bench_pass_fc(struct fp_flowcache *fc, const struct bench_keys *bk,
	      const uint32_t *order, uint32_t expect_hits)
{
	const struct fp_stream_ckey *keys[BURST];
	struct fp_flowcache_entry *found[BURST];
	uint32_t hashes[BURST];
	uint32_t hits = 0;
	uint64_t start;
	uint32_t i, j;

	start = rte_rdtsc_precise();
	for (i = 0; i + BURST <= bk->n; i += BURST) {
		for (j = 0; j < BURST; j++) {
			keys[j] = &bk->keys[order[i + j]];
			hashes[j] = bk->hashes[order[i + j]];
		}
		hits += fp_flowcache_lookup_burst(fc, keys, hashes, BURST, 0,
						  found);
	}
	if (hits != expect_hits) {
		fprintf(stderr, "fold cache: %u hits, expected %u\n", hits,
			expect_hits);
		exit(1);
	}
	return (double)(rte_rdtsc_precise() - start) / i;
}

static double
bench_pass_rte(struct rte_hash *h, const struct bench_keys *bk,
	       const uint32_t *order, uint32_t expect_hits)
{
	const void *keys[BURST];
	void *data[BURST];
	hash_sig_t sigs[BURST];
	uint64_t hit_mask;
	uint32_t hits = 0;
	uint64_t start;
	uint32_t i, j;

	start = rte_rdtsc_precise();
	for (i = 0; i + BURST <= bk->n; i += BURST) {
		for (j = 0; j < BURST; j++) {
			keys[j] = &bk->keys[order[i + j]];
			sigs[j] = bk->hashes[order[i + j]];
		}
		hits += rte_hash_lookup_with_hash_bulk_data(h, keys, sigs,
							    BURST, &hit_mask,
							    data);
	}
	if (hits != expect_hits) {
		fprintf(stderr, "rte_hash: %u hits, expected %u\n", hits,
			expect_hits);
		exit(1);
	}
	return (double)(rte_rdtsc_precise() - start) / i;
}

static double
bench_median(double *v, int n)
{
	uint64_t s[64];
	int i;

	for (i = 0; i < n; i++)
		s[i] = (uint64_t)(v[i] * 1000);
	qsort(s, n, sizeof(s[0]), bench_cmp_u64);
	return s[n / 2] / 1000.0;
}

static void
bench_value_free(void *value, void *aux)
{
	(void)value;
	(void)aux;
}

static int
bench_size(uint32_t n, int passes, uint32_t capacity)
{
	static int dummy_value;
	struct fp_flowcache_params fcp = {
		.capacity = capacity != 0 ? capacity : n + n / 8,
		.insert_after = 1,
		.value_free = bench_value_free,
	};
	char name[32];
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = capacity != 0 ? capacity : n + n / 8,
		.key_len = sizeof(struct fp_stream_ckey),
		.hash_func = rte_hash_crc,
		.socket_id = SOCKET_ID_ANY,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct bench_keys in, out;
	struct fp_flowcache *fc;
	struct rte_hash *h;
	double fc_hit[64], rte_hit[64], fc_miss[64], rte_miss[64];
	uint32_t *order;
	uint32_t state = 12345;
	uint32_t i;
	int p;

	snprintf(name, sizeof(name), "bench%u", n);
	if (bench_make_keys(&in, 0, n) < 0 ||
	    bench_make_keys(&out, 2000000, n) < 0) {
		fprintf(stderr, "cannot build keys\n");
		return -1;
	}
	fc = fp_flowcache_create(&fcp);
	h = rte_hash_create(&hp);
	order = malloc(n * sizeof(*order));
	if (fc == NULL || h == NULL || order == NULL) {
		fprintf(stderr, "cannot create the tables: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (fp_flowcache_insert(fc, &in.keys[i], in.hashes[i],
					&dummy_value, 0) == NULL ||
		    rte_hash_add_key_with_hash_data(h, &in.keys[i],
						    in.hashes[i],
						    &dummy_value) < 0) {
			fprintf(stderr, "insert %u failed\n", i);
			return -1;
		}
		order[i] = i;
	}
	for (p = 0; p < passes; p++) {
		uint32_t expect = n / BURST * BURST;

		/* A new random order each pass, the same for both. */
		for (i = n - 1; i > 0; i--) {
			uint32_t j = bench_rand(&state) % (i + 1);
			uint32_t t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		fc_hit[p] = bench_pass_fc(fc, &in, order, expect);
		rte_hit[p] = bench_pass_rte(h, &in, order, expect);
		fc_miss[p] = bench_pass_fc(fc, &out, order, 0);
		rte_miss[p] = bench_pass_rte(h, &out, order, 0);
	}
	printf("%9u | %8.1f | %8.1f | %5.2f | %8.1f | %8.1f | %5.2f\n", n,
	       bench_median(fc_hit, passes), bench_median(rte_hit, passes),
	       bench_median(rte_hit, passes) / bench_median(fc_hit, passes),
	       bench_median(fc_miss, passes), bench_median(rte_miss, passes),
	       bench_median(rte_miss, passes) /
	       bench_median(fc_miss, passes));
	fflush(stdout);
	fp_flowcache_free(fc);
	rte_hash_free(h);
	free(order);
	free(in.keys);
	free(in.hashes);
	free(out.keys);
	free(out.hashes);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "sizes", required_argument, NULL, 's' },
		{ "passes", required_argument, NULL, 'p' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char sizes[256] = "1000,10000,100000,1000000";
	int passes = 7;
	uint32_t capacity = 0;
	char *tok, *save;
	int ret, opt;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "fp-cache-bench: EAL: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	while ((opt = getopt_long(argc, argv, "s:p:c:h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			snprintf(sizes, sizeof(sizes), "%s", optarg);
			break;
		case 'p':
			passes = atoi(optarg);
			if (passes < 1 || passes > 64) {
				fprintf(stderr, "--passes: 1 to 64\n");
				return 2;
			}
			break;
		case 'c':
			capacity = strtoul(optarg, NULL, 10);
			if (capacity < 1 || capacity > (1u << 24)) {
				fprintf(stderr, "--capacity: 1 to %u\n",
					1u << 24);
				return 2;
			}
			break;
		default:
			printf("Usage: fp-cache-bench [EAL options] -- "
			       "[--sizes N,N,...] [--passes N] "
			       "[--capacity N]\n");
			return opt == 'h' ? 0 : 2;
		}
	}

	printf("TSC cycles per key, bursts of %d, hashes precomputed, median "
	       "of %d passes\n", BURST, passes);
	if (capacity != 0)
		printf("both tables hold up to %" PRIu32 " keys\n", capacity);
	else
		printf("both tables hold up to the stream count plus 1/8\n");
	printf("  streams | fc hit   | rte hit  | ratio | fc miss  | rte miss "
	       "| ratio\n");
	for (tok = strtok_r(sizes, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		uint32_t n = strtoul(tok, NULL, 10);

		if (n < BURST || (capacity != 0 && n > capacity)) {
			fprintf(stderr, "%" PRIu32 " streams: at least %d, and "
				"at most the capacity\n", n, BURST);
			return 2;
		}
		if (bench_size(n, passes, capacity) < 0)
			return 1;
	}
	rte_eal_cleanup();
	return 0;
}
