/* SPDX-License-Identifier: Apache-2.0 */

/* Tests of the fold cache: insert, lookup, replacement, removal, eviction,
 * capacity, ageing, the insertion policy, flush, iteration and the burst
 * path, with the values' life cycle checked through value_free. Keys are
 * compact keys, filled directly or packed from parsed frames. */

#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_errno.h>

#include "fp_flowcache.h"
#include "fp_pkt.h"

#define VXLAN_PORT RTE_BE16(4789)

/* Host values: ints whose frees are counted. */
static unsigned int freed;
static int last_freed;

static void
value_free(void *value, void *aux)
{
	(void)aux;
	freed++;
	last_freed = *(int *)value;
	free(value);
}

static int *
value_new(int v)
{
	int *p = malloc(sizeof(*p));

	assert_non_null(p);
	*p = v;
	return p;
}

/* A packed plain IPv4 key for stream 'i' (distinct addresses and ports). */
static void
make_key(struct fp_stream_ckey *key, uint32_t i)
{
	memset(key, 0, sizeof(*key));
	key->in_port = 1;
	key->kind = FP_CKEY_PLAIN4;
	key->nw_proto = 17;
	memcpy(&key->src, &i, sizeof(i));
	key->tp_src = rte_cpu_to_be_16(i & 0xffff);
	key->tp_dst = RTE_BE16(5001);
}

static struct fp_flowcache *
cache_new(uint32_t capacity, uint32_t idle_ms, uint32_t insert_after)
{
	struct fp_flowcache_params p = {
		.capacity = capacity,
		.idle_ms = idle_ms,
		.insert_after = insert_after,
		.value_free = value_free,
	};
	struct fp_flowcache *fc = fp_flowcache_create(&p);

	assert_non_null(fc);
	freed = 0;
	return fc;
}

/* Looks up one key; returns its entry or NULL. */
static struct fp_flowcache_entry *
lookup1(struct fp_flowcache *fc, uint32_t i, uint32_t now)
{
	struct fp_flowcache_entry *e;
	struct fp_stream_ckey key;
	const struct fp_stream_ckey *k = &key;
	uint32_t hash;

	make_key(&key, i);
	hash = fp_stream_ckey_hash(&key);
	fp_flowcache_lookup_burst(fc, &k, &hash, 1, now, &e);
	return e;
}

static struct fp_flowcache_entry *
insert1(struct fp_flowcache *fc, uint32_t i, uint32_t now)
{
	struct fp_stream_ckey key;

	make_key(&key, i);
	return fp_flowcache_insert(fc, &key, fp_stream_ckey_hash(&key),
				   value_new(i), now);
}

static void
test_create_refuses_bad_params(void **state)
{
	struct fp_flowcache_params p = { .capacity = 0, .insert_after = 1 };

	(void)state;
	assert_null(fp_flowcache_create(&p));
	assert_int_equal(rte_errno, EINVAL);
	p.capacity = 16;
	p.insert_after = 0;
	assert_null(fp_flowcache_create(&p));
	p.insert_after = 256;
	assert_null(fp_flowcache_create(&p));
	assert_null(fp_flowcache_create(NULL));
	fp_flowcache_free(NULL);
}

static void
test_insert_then_lookup(void **state)
{
	struct fp_flowcache *fc = cache_new(1024, 0, 1);
	struct fp_flowcache_entry *e;
	struct fp_flowcache_stats s;

	(void)state;
	assert_null(lookup1(fc, 5, 10));
	e = insert1(fc, 5, 10);
	assert_non_null(e);
	assert_int_equal(*(int *)e->value, 5);
	assert_ptr_equal(lookup1(fc, 5, 20), e);
	assert_int_equal(e->hits, 1);
	assert_int_equal(e->last_used, 20);
	assert_null(lookup1(fc, 6, 20));

	fp_flowcache_stats_get(fc, &s);
	assert_int_equal(s.entries, 1);
	assert_int_equal(s.capacity, 1024);
	assert_int_equal(s.lookups, 3);
	assert_int_equal(s.hits, 1);
	assert_int_equal(s.inserts, 1);
	assert_int_equal(fp_flowcache_insert(fc, &e->key, e->hash, NULL, 0),
			 NULL);
	fp_flowcache_free(fc);
	assert_int_equal(freed, 1);
}

/* A prefetch address is kept, capped, and dropped when the entry gets a
 * new value; lookups of an entry with one, even one that points at
 * nothing mapped, still find it. */
static void
test_entry_prefetch_address(void **state)
{
	struct fp_flowcache *fc = cache_new(64, 0, 1);
	static char target[8 * RTE_CACHE_LINE_SIZE];
	struct fp_flowcache_entry *e;

	(void)state;
	e = insert1(fc, 7, 0);
	assert_null(e->prefetch);
	assert_int_equal(e->prefetch_lines, 0);
	fp_flowcache_entry_set_prefetch(e, target, 2);
	assert_ptr_equal(e->prefetch, target);
	assert_int_equal(e->prefetch_lines, 2);
	assert_ptr_equal(lookup1(fc, 7, 1), e);
	fp_flowcache_entry_set_prefetch(e, target, 100);
	assert_int_equal(e->prefetch_lines, FP_FLOWCACHE_PREFETCH_LINES_MAX);
	fp_flowcache_entry_set_prefetch(e, NULL, 3);
	assert_int_equal(e->prefetch_lines, 0);
	/* An address nothing is mapped at: a prefetch does not fault. */
	fp_flowcache_entry_set_prefetch(e, (const void *)(uintptr_t)64, 4);
	assert_ptr_equal(lookup1(fc, 7, 2), e);
	/* A new value for the same key starts without one. */
	assert_ptr_equal(insert1(fc, 7, 3), e);
	assert_null(e->prefetch);
	assert_int_equal(e->prefetch_lines, 0);
	fp_flowcache_free(fc);
}

static void
test_keys_differ_in_kind_and_bytes(void **state)
{
	struct fp_flowcache *fc = cache_new(64, 0, 1);
	struct fp_stream_ckey a, b;
	const struct fp_stream_ckey *k = &b;
	struct fp_flowcache_entry *e;
	uint32_t hash;
	unsigned int byte, bit;

	(void)state;
	make_key(&a, 1);
	fp_flowcache_insert(fc, &a, fp_stream_ckey_hash(&a), value_new(1), 0);
	/* One byte of TCP flags is another stream. */
	b = a;
	b.tcp_flags = RTE_BE16(0x001);
	hash = fp_stream_ckey_hash(&b);
	assert_int_equal(fp_flowcache_lookup_burst(fc, &k, &hash, 1, 0, &e), 0);
	/* Same bytes, even forced into the same hash, but another kind. */
	b = a;
	b.kind = FP_CKEY_VXLAN4;
	hash = fp_stream_ckey_hash(&a);
	assert_int_equal(fp_flowcache_lookup_burst(fc, &k, &hash, 1, 0, &e), 0);
	/* Any one bit of the 64 bytes, forced into the same hash, is another
	 * key: the whole key is compared, the last byte (o_ttl) too. */
	for (byte = 0; byte < sizeof(a); byte++) {
		for (bit = 0; bit < 8; bit++) {
			b = a;
			((uint8_t *)&b)[byte] ^= 1u << bit;
			e = (void *)&b;
			if (fp_flowcache_lookup_burst(fc, &k, &hash, 1, 0,
						      &e) != 0 || e != NULL)
				fail_msg("byte %u bit %u: a hit", byte, bit);
		}
	}
	/* The key itself still hits. */
	k = &a;
	assert_int_equal(fp_flowcache_lookup_burst(fc, &k, &hash, 1, 0, &e), 1);
	fp_flowcache_free(fc);
}

/* Entries are two cache lines, cache-line aligned, with the hash and the
 * start of the key in the first. */
static void
test_entry_is_two_lines(void **state)
{
	struct fp_flowcache *fc = cache_new(16, 0, 1);
	struct fp_flowcache_entry *e1, *e2;

	(void)state;
	assert_int_equal(sizeof(struct fp_flowcache_entry),
			 2 * RTE_CACHE_LINE_SIZE);
	assert_true(offsetof(struct fp_flowcache_entry, key) <
		    RTE_CACHE_LINE_SIZE);
	assert_true(offsetof(struct fp_flowcache_entry, key) +
		    sizeof(struct fp_stream_ckey) <= 2 * RTE_CACHE_LINE_SIZE);
	e1 = insert1(fc, 1, 0);
	e2 = insert1(fc, 2, 0);
	assert_int_equal((uintptr_t)e1 % RTE_CACHE_LINE_SIZE, 0);
	assert_int_equal((char *)e2 - (char *)e1, 128);
	fp_flowcache_free(fc);
}

/* Builds an untagged UDP frame, IPv4 10.0.0.1 > 10.0.0.2 or IPv6
 * fd00::1 > fd00::2, ports 'sport' > 5001, with 8 bytes of payload
 * 'fill'. Returns its length. */
static uint32_t
udp_frame(uint8_t *f, bool ipv6, uint16_t sport, uint8_t fill)
{
	uint32_t l4 = 14 + (ipv6 ? 40 : 20);
	uint32_t len = l4 + 16;

	memset(f, 0, len);
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	if (ipv6) {
		f[12] = 0x86;
		f[13] = 0xdd;
		f[14] = 0x60;
		f[19] = 16;        /* Payload length. */
		f[20] = IPPROTO_UDP;
		f[21] = 64;
		f[22] = 0xfd;      /* fd00::1 */
		f[37] = 1;
		f[38] = 0xfd;      /* fd00::2 */
		f[53] = 2;
	} else {
		f[12] = 0x08;
		f[14] = 0x45;
		f[17] = 20 + 16;   /* Total length. */
		f[22] = 64;
		f[23] = IPPROTO_UDP;
		memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	}
	f[l4] = sport >> 8;
	f[l4 + 1] = sport & 0xff;
	f[l4 + 2] = 5001 >> 8;
	f[l4 + 3] = 5001 & 0xff;
	f[l4 + 5] = 16;            /* UDP length. */
	memset(f + l4 + 8, fill, 8);
	return len;
}

/* Keys as the datapath makes them: parsed, then packed. Another packet of
 * a stream (other payload) finds its entry, another stream does not; an
 * IPv6 stream has a digest key, and its value keeps the full key, which
 * the host compares on a hit. */
static void
test_parsed_frames_packed_and_digest(void **state)
{
	struct fp_flowcache *fc = cache_new(64, 0, 1);
	uint8_t f[128];
	int v6;

	(void)state;
	for (v6 = 0; v6 < 2; v6++) {
		struct fp_stream_key *full = malloc(sizeof(*full));
		struct fp_stream_key key, back;
		struct fp_stream_ckey ck;
		const struct fp_stream_ckey *k = &ck;
		struct fp_flowcache_entry *e, *found;
		uint32_t hash, len;

		assert_non_null(full);
		len = udp_frame(f, v6, 1000, 0xaa);
		assert_int_equal(fp_pkt_parse(f, len, 2, VXLAN_PORT, full,
					      NULL), FP_PKT_OK);
		assert_int_equal(fp_stream_key_pack(full, VXLAN_PORT, &ck),
				 !v6);
		assert_int_equal(fp_stream_ckey_is_digest(&ck), v6);
		hash = fp_stream_ckey_hash(&ck);
		e = fp_flowcache_insert(fc, &ck, hash, full, 0);
		assert_non_null(e);
		assert_memory_equal(&e->key, &ck, sizeof(ck));

		/* The next packet of the stream. */
		len = udp_frame(f, v6, 1000, 0x55);
		assert_int_equal(fp_pkt_parse(f, len, 2, VXLAN_PORT, &key,
					      NULL), FP_PKT_OK);
		fp_stream_key_pack(&key, VXLAN_PORT, &ck);
		hash = fp_stream_ckey_hash(&ck);
		assert_int_equal(fp_flowcache_lookup_burst(fc, &k, &hash, 1,
							   1, &found), 1);
		assert_ptr_equal(found, e);
		assert_true(fp_stream_key_equal(found->value, &key));
		if (!v6) {
			assert_true(fp_stream_ckey_unpack(&found->key,
							  VXLAN_PORT, &back));
			assert_memory_equal(&back, &key, sizeof(key));
		} else {
			assert_false(fp_stream_ckey_unpack(&found->key,
							   VXLAN_PORT, &back));
		}

		/* Another stream. */
		len = udp_frame(f, v6, 1001, 0x55);
		assert_int_equal(fp_pkt_parse(f, len, 2, VXLAN_PORT, &key,
					      NULL), FP_PKT_OK);
		fp_stream_key_pack(&key, VXLAN_PORT, &ck);
		hash = fp_stream_ckey_hash(&ck);
		assert_int_equal(fp_flowcache_lookup_burst(fc, &k, &hash, 1,
							   1, &found), 0);
		assert_null(found);
	}
	fp_flowcache_free(fc);
	assert_int_equal(freed, 2);
}

static void
test_insert_existing_replaces_value(void **state)
{
	struct fp_flowcache *fc = cache_new(64, 0, 1);
	struct fp_flowcache_entry *e1, *e2;
	struct fp_flowcache_stats s;

	(void)state;
	e1 = insert1(fc, 3, 0);
	assert_ptr_equal(lookup1(fc, 3, 1), e1);
	assert_int_equal(e1->hits, 1);
	e2 = insert1(fc, 3, 5);
	assert_ptr_equal(e1, e2);
	assert_int_equal(freed, 1);
	/* The new value's hits start from 0. */
	assert_int_equal(e2->hits, 0);
	assert_int_equal(e2->last_used, 5);
	assert_int_equal(*(int *)e2->value, 3);
	fp_flowcache_stats_get(fc, &s);
	assert_int_equal(s.entries, 1);
	assert_int_equal(s.replaced, 1);
	fp_flowcache_free(fc);
}

static void
test_remove_frees_value_and_slot(void **state)
{
	struct fp_flowcache *fc = cache_new(4, 0, 1);
	struct fp_flowcache_entry *e;
	struct fp_flowcache_stats s;
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		insert1(fc, i, 0);
	e = lookup1(fc, 2, 0);
	fp_flowcache_remove(fc, e);
	assert_int_equal(freed, 1);
	assert_int_equal(last_freed, 2);
	assert_null(lookup1(fc, 2, 0));
	/* The slot is reused without evicting anyone. */
	insert1(fc, 9, 0);
	fp_flowcache_stats_get(fc, &s);
	assert_int_equal(s.entries, 4);
	assert_int_equal(s.evicted, 0);
	assert_int_equal(s.removed, 1);
	for (i = 0; i < 4; i++)
		if (i != 2)
			assert_non_null(lookup1(fc, i, 0));
	fp_flowcache_free(fc);
}

static void
test_capacity_is_bounded_and_lru_sampled(void **state)
{
	enum { CAP = 256, N = 4 * CAP };
	struct fp_flowcache *fc = cache_new(CAP, 0, 1);
	struct fp_flowcache_stats s;
	unsigned int found_recent = 0;
	unsigned int found = 0;
	uint32_t i;

	(void)state;
	/* Time runs with the insertions: later streams are more recent. */
	for (i = 0; i < N; i++)
		insert1(fc, i, i);
	fp_flowcache_stats_get(fc, &s);
	assert_int_equal(s.entries, CAP);
	assert_int_equal(s.inserts, N);
	assert_int_equal(s.evicted, N - CAP);
	assert_int_equal(freed, N - CAP);
	for (i = 0; i < N; i++) {
		if (lookup1(fc, i, N) != NULL) {
			found++;
			found_recent += i >= N - CAP;
		}
	}
	assert_int_equal(found, CAP);
	/* Sampled LRU keeps mostly the most recent quarter. */
	assert_true(found_recent > CAP * 3 / 4);
	fp_flowcache_free(fc);
	assert_int_equal(freed, N);
}

static void
test_full_buckets_evict_within_them(void **state)
{
	struct fp_flowcache *fc = cache_new(8, 0, 1);
	struct fp_flowcache_stats s;
	uint32_t i;

	(void)state;
	/* Capacity 8 gives two buckets; every key may use both, so 8 fit
	 * without evictions and the ninth evicts one. */
	for (i = 0; i < 8; i++)
		insert1(fc, i, i);
	fp_flowcache_stats_get(fc, &s);
	assert_int_equal(s.evicted, 0);
	insert1(fc, 8, 8);
	fp_flowcache_stats_get(fc, &s);
	assert_int_equal(s.entries, 8);
	assert_int_equal(s.evicted, 1);
	assert_non_null(lookup1(fc, 8, 9));
	fp_flowcache_free(fc);
}

static bool
stale_if_odd(void *value, void *aux)
{
	(void)aux;
	return *(int *)value % 2 == 1;
}

static void
test_sweep_ages_idle_and_stale(void **state)
{
	struct fp_flowcache *fc = cache_new(64, 1000, 1);
	struct fp_flowcache_stats s;
	uint32_t i;

	(void)state;
	assert_int_equal(fp_flowcache_sweep_span(fc), 0);
	for (i = 0; i < 10; i++)
		insert1(fc, i, 0);
	/* A whole sweep visits the 10 slots handed out. */
	assert_int_equal(fp_flowcache_sweep_span(fc), 10);
	/* 0-4 used at 900, 5-9 idle since 0. */
	for (i = 0; i < 5; i++)
		lookup1(fc, i, 900);
	/* Small budgets make progress and wrap around. */
	assert_int_equal(fp_flowcache_sweep(fc, 1500, 3, NULL, NULL) +
			 fp_flowcache_sweep(fc, 1500, 3, NULL, NULL) +
			 fp_flowcache_sweep(fc, 1500, 4, NULL, NULL), 5);
	for (i = 0; i < 10; i++)
		assert_true((lookup1(fc, i, 1500) != NULL) == (i < 5));
	/* Stale values go whatever their age. */
	assert_int_equal(fp_flowcache_sweep(fc, 1500, 100, stale_if_odd,
					    NULL), 2);
	fp_flowcache_stats_get(fc, &s);
	assert_int_equal(s.aged, 5);
	assert_int_equal(s.stale, 2);
	assert_int_equal(s.entries, 3);
	assert_int_equal(freed, 7);
	/* Freed slots stay in the span until a flush. */
	assert_int_equal(fp_flowcache_sweep_span(fc), 10);
	fp_flowcache_flush(fc);
	assert_int_equal(fp_flowcache_sweep_span(fc), 0);
	fp_flowcache_free(fc);
}

static void
test_idle_zero_never_ages(void **state)
{
	struct fp_flowcache *fc = cache_new(8, 0, 1);

	(void)state;
	insert1(fc, 1, 0);
	assert_int_equal(fp_flowcache_sweep(fc, 1u << 30, 8, NULL, NULL), 0);
	assert_non_null(lookup1(fc, 1, 0));
	fp_flowcache_free(fc);
}

/* The hash of stream 'i', as the parser's hash spreads them. */
static uint32_t
stream_hash(uint32_t i)
{
	i += 0x9e3779b9u;
	i = (i ^ (i >> 16)) * 0x85ebca6bu;
	i = (i ^ (i >> 13)) * 0xc2b2ae35u;
	return i ^ (i >> 16);
}

static void
test_admit_after_misses(void **state)
{
	struct fp_flowcache *fc = cache_new(8, 0, 3);
	struct fp_flowcache *now = cache_new(8, 0, 1);
	struct fp_flowcache_stats s;

	(void)state;
	assert_true(fp_flowcache_admit(now, 42));
	assert_false(fp_flowcache_admit(fc, 42));
	assert_false(fp_flowcache_admit(fc, 42));
	assert_true(fp_flowcache_admit(fc, 42));
	/* Still frequent: an evicted stream comes straight back. */
	assert_true(fp_flowcache_admit(fc, 42));
	fp_flowcache_stats_get(fc, &s);
	assert_int_equal(s.deferred, 2);
	fp_flowcache_free(fc);
	fp_flowcache_free(now);
}

static void
test_admit_every_repeating_stream(void **state)
{
	struct fp_flowcache *fc = cache_new(1024, 0, 2);
	uint32_t i, early = 0;

	(void)state;
	/* 1,000 streams round-robin: whatever slots their hashes share,
	 * every one of them is admitted on its second miss. */
	for (i = 0; i < 1000; i++)
		early += fp_flowcache_admit(fc, stream_hash(i));
	for (i = 0; i < 1000; i++)
		assert_true(fp_flowcache_admit(fc, stream_hash(i)));
	/* Few get in on their first miss, by sharing both counters. */
	assert_true(early < 50);
	fp_flowcache_free(fc);

	/* 100,000 streams round-robin in a cache of 131072: misses of a
	 * stream 100,000 calls apart are within one window, so every
	 * stream is admitted on its second miss, in every round. */
	fc = cache_new(131072, 0, 2);
	for (i = 0; i < 100000; i++)
		fp_flowcache_admit(fc, stream_hash(i));
	for (int round = 0; round < 3; round++)
		for (i = 0; i < 100000; i++)
			assert_true(fp_flowcache_admit(fc, stream_hash(i)));
	fp_flowcache_free(fc);
}

static void
test_admit_defers_one_shot_streams(void **state)
{
	struct fp_flowcache *fc = cache_new(131072, 0, 2);
	struct fp_flowcache_stats s;
	uint32_t i, admitted = 0;

	(void)state;
	/* A million streams that never come back: most stay out. */
	for (i = 0; i < 1000000; i++)
		admitted += fp_flowcache_admit(fc, stream_hash(i));
	fp_flowcache_stats_get(fc, &s);
	assert_int_equal(s.deferred + admitted, 1000000);
	assert_true(admitted < 100000);
	fp_flowcache_free(fc);
}

static void
test_admit_forgets_old_misses(void **state)
{
	/* 8 entries: the smallest doorkeeper, sketches of 8192 counters
	 * and windows of 1024 calls. */
	struct fp_flowcache *fc = cache_new(8, 0, 2);
	uint32_t i;

	(void)state;
	assert_false(fp_flowcache_admit(fc, 42));
	for (i = 1; i < 2 * 1024; i++)
		fp_flowcache_admit(fc, stream_hash(i));
	/* Two windows later, the first miss is gone. */
	assert_false(fp_flowcache_admit(fc, 42));
	assert_true(fp_flowcache_admit(fc, 42));
	fp_flowcache_free(fc);
}

static void
test_flush_drops_everything(void **state)
{
	struct fp_flowcache *fc = cache_new(128, 0, 1);
	struct fp_flowcache_stats s;
	uint32_t i;

	(void)state;
	for (i = 0; i < 100; i++)
		insert1(fc, i, 0);
	fp_flowcache_flush(fc);
	assert_int_equal(freed, 100);
	fp_flowcache_stats_get(fc, &s);
	assert_int_equal(s.entries, 0);
	for (i = 0; i < 100; i++)
		assert_null(lookup1(fc, i, 0));
	/* Usable afterwards. */
	insert1(fc, 1, 0);
	assert_non_null(lookup1(fc, 1, 0));
	fp_flowcache_free(fc);
	assert_int_equal(freed, 101);
}

static void
test_iteration_visits_each_entry_once(void **state)
{
	struct fp_flowcache *fc = cache_new(64, 0, 1);
	struct fp_flowcache_entry *e;
	unsigned int seen[50] = { 0 };
	uint32_t pos = 0;
	uint32_t i;

	(void)state;
	for (i = 0; i < 50; i++)
		insert1(fc, i, 0);
	fp_flowcache_remove(fc, lookup1(fc, 10, 0));
	while ((e = fp_flowcache_next(fc, &pos)) != NULL)
		seen[*(int *)e->value]++;
	for (i = 0; i < 50; i++)
		assert_int_equal(seen[i], i == 10 ? 0 : 1);
	fp_flowcache_free(fc);
}

/* Keys that share a hash share a bucket and a signature: the lookup's
 * first candidate is then often another key's entry, and it must go on to
 * the right one.  The keys differ only in their kind and in their last
 * byte, in the entry's second cache line. */
static void
test_lookup_past_signature_collisions(void **state)
{
	enum { N = 6 };
	struct fp_flowcache *fc = cache_new(64, 0, 1);
	struct fp_stream_ckey keys[N];
	const struct fp_stream_ckey *kp[N];
	struct fp_flowcache_entry *entries[N];
	uint32_t hashes[N];
	uint32_t i;

	(void)state;
	for (i = 0; i < N; i++) {
		make_key(&keys[i], 7);
		if (i % 2 == 1)
			keys[i].kind = FP_CKEY_VXLAN4;
		keys[i].o_ttl = (uint8_t)(i / 2);
		kp[i] = &keys[i];
		hashes[i] = 0x5a5a0003;
		assert_non_null(fp_flowcache_insert(fc, &keys[i], hashes[i],
						    value_new(i), 0));
	}
	/* Looked up in the reverse order of insertion, as a burst. */
	for (i = 0; i < N; i++)
		kp[i] = &keys[N - 1 - i];
	assert_int_equal(fp_flowcache_lookup_burst(fc, kp, hashes, N, 0,
						   entries), N);
	for (i = 0; i < N; i++)
		assert_int_equal(*(int *)entries[i]->value, N - 1 - i);
	/* A seventh key of that hash is a miss. */
	make_key(&keys[0], 8);
	kp[0] = &keys[0];
	assert_int_equal(fp_flowcache_lookup_burst(fc, kp, hashes, 1, 0,
						   entries), 0);
	assert_null(entries[0]);
	fp_flowcache_free(fc);
}

static void
test_burst_lookup_mixes_hits_and_misses(void **state)
{
	enum { N = FP_FLOWCACHE_BURST_MAX };
	struct fp_flowcache *fc = cache_new(4096, 0, 1);
	struct fp_stream_ckey keys[N];
	const struct fp_stream_ckey *kp[N];
	struct fp_flowcache_entry *entries[N];
	uint32_t hashes[N];
	uint32_t i;

	(void)state;
	for (i = 0; i < 2000; i += 2)
		insert1(fc, i, 0);
	for (i = 0; i < N; i++) {
		make_key(&keys[i], 1000 + i);
		kp[i] = &keys[i];
		hashes[i] = fp_stream_ckey_hash(&keys[i]);
	}
	assert_int_equal(fp_flowcache_lookup_burst(fc, kp, hashes, N, 7,
						   entries), N / 2);
	for (i = 0; i < N; i++) {
		if ((1000 + i) % 2 == 0) {
			assert_non_null(entries[i]);
			assert_int_equal(*(int *)entries[i]->value, 1000 + i);
			assert_int_equal(entries[i]->last_used, 7);
		} else {
			assert_null(entries[i]);
		}
	}
	fp_flowcache_free(fc);
}

static void
test_large_cache_holds_its_capacity(void **state)
{
	enum { CAP = 100000 };
	struct fp_flowcache *fc = cache_new(CAP, 0, 1);
	struct fp_flowcache_stats s;
	uint32_t found = 0;
	uint32_t i;

	(void)state;
	for (i = 0; i < CAP; i++)
		insert1(fc, i, 0);
	fp_flowcache_stats_get(fc, &s);
	/* Two 8-way buckets per key at 2 ways per entry: almost no bucket
	 * overflows before the cache is full. */
	assert_true(s.evicted < CAP / 1000);
	for (i = 0; i < CAP; i++)
		found += lookup1(fc, i, 0) != NULL;
	assert_int_equal(found, CAP - s.evicted);
	assert_int_equal(s.entries, CAP - s.evicted);
	fp_flowcache_free(fc);
}

/* The sizes fold/show reports: what creation mapped, and the used part of
 * the entry array following inserts, removals (whose slots are reused) and
 * a flush. */
static void
test_memory_reports_tables_and_use(void **state)
{
	struct fp_flowcache *fc = cache_new(1000, 0, 2);
	struct fp_flowcache *one = cache_new(1000, 0, 1);
	struct fp_flowcache_memory m;
	uint32_t i;

	(void)state;
	fp_flowcache_memory_get(fc, &m);
	assert_int_equal(m.entries, 1000 * 128);
	assert_int_equal(m.entries_used, 0);
	/* 250 buckets rounded up to 256, of 64 bytes. */
	assert_int_equal(m.buckets, 256 * 64);
	assert_int_equal(m.free_list, 1000 * 4);
	/* 1024 entries * 8 counters, three sketches. */
	assert_int_equal(m.doorkeeper, 3 * 8192);
	for (i = 0; i < 10; i++)
		assert_non_null(insert1(fc, i, 0));
	fp_flowcache_memory_get(fc, &m);
	assert_int_equal(m.entries_used, 10 * 128);
	fp_flowcache_remove(fc, lookup1(fc, 3, 0));
	assert_non_null(insert1(fc, 10, 0));
	fp_flowcache_memory_get(fc, &m);
	assert_int_equal(m.entries_used, 10 * 128);
	fp_flowcache_flush(fc);
	fp_flowcache_memory_get(fc, &m);
	assert_int_equal(m.entries_used, 0);
	/* Without an admission policy, there is no doorkeeper. */
	fp_flowcache_memory_get(one, &m);
	assert_int_equal(m.doorkeeper, 0);
	fp_flowcache_free(fc);
	fp_flowcache_free(one);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_refuses_bad_params),
		cmocka_unit_test(test_insert_then_lookup),
		cmocka_unit_test(test_entry_prefetch_address),
		cmocka_unit_test(test_keys_differ_in_kind_and_bytes),
		cmocka_unit_test(test_entry_is_two_lines),
		cmocka_unit_test(test_parsed_frames_packed_and_digest),
		cmocka_unit_test(test_lookup_past_signature_collisions),
		cmocka_unit_test(test_insert_existing_replaces_value),
		cmocka_unit_test(test_remove_frees_value_and_slot),
		cmocka_unit_test(test_capacity_is_bounded_and_lru_sampled),
		cmocka_unit_test(test_full_buckets_evict_within_them),
		cmocka_unit_test(test_sweep_ages_idle_and_stale),
		cmocka_unit_test(test_idle_zero_never_ages),
		cmocka_unit_test(test_admit_after_misses),
		cmocka_unit_test(test_admit_every_repeating_stream),
		cmocka_unit_test(test_admit_defers_one_shot_streams),
		cmocka_unit_test(test_admit_forgets_old_misses),
		cmocka_unit_test(test_flush_drops_everything),
		cmocka_unit_test(test_iteration_visits_each_entry_once),
		cmocka_unit_test(test_burst_lookup_mixes_hits_and_misses),
		cmocka_unit_test(test_large_cache_holds_its_capacity),
		cmocka_unit_test(test_memory_reports_tables_and_use),
	};

	return cmocka_run_group_tests_name("fp_flowcache", tests, NULL, NULL);
}
