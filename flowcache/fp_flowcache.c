/* SPDX-License-Identifier: Apache-2.0 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_common.h>
#include <rte_debug.h>
#include <rte_errno.h>
#include <rte_prefetch.h>
#include <rte_vect.h>

#include "fp_flowcache.h"

#define FP_FC_WAYS 8
#define FP_FC_EMPTY UINT32_MAX       /* Index of a free way. */
#define FP_FC_SAMPLE 8               /* Entries sampled to find a victim. */
#define FP_FC_DOOR_MIN 8192          /* Fewest counters per sketch. */
#define FP_FC_DOOR_PER 8             /* Counters per entry, per sketch. */

_Static_assert(sizeof(struct fp_flowcache_entry) == 128,
	       "an entry is two cache lines");

/* Eight ways: signature (0 when free) and entry index. */
struct fp_fc_bucket {
	uint16_t sig[FP_FC_WAYS];
	uint32_t idx[FP_FC_WAYS];
	uint8_t pad[16];
} __rte_cache_aligned;

struct fp_flowcache {
	struct fp_flowcache_params params;
	struct fp_flowcache_entry *entries; /* params.capacity of them. */
	struct fp_fc_bucket *buckets;
	uint32_t bucket_mask;
	uint32_t bucket_shift;     /* 32 - log2(buckets), for bucket 2. */
	uint32_t *free_idx;        /* Stack of released entry indexes. */
	uint32_t n_free;
	uint32_t high_water;       /* Entries [high_water, capacity) unused. */
	uint32_t sweep_pos;
	uint32_t rand_state;
	size_t entries_size;
	size_t buckets_size;
	/* Doorkeeper: count-min sketches of the misses of the current and
	 * the previous window of door_window admit() calls, and a third one
	 * that is being cleared, a little per call, to take over as the
	 * current one.  8-bit counters, door_mask + 1 of each. */
	uint8_t *door;             /* The three sketches, one mapping. */
	uint8_t *door_cur;
	uint8_t *door_prev;
	uint8_t *door_next;
	uint32_t door_mask;
	uint32_t door_shift;       /* 32 - log2(counters), for counter 2. */
	uint32_t door_window;
	uint32_t door_calls;
	struct fp_flowcache_stats stats;
};

/* The owner writes counters; other threads read them (relaxed). */
static inline void
fp_fc_count(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED);
}

static inline void
fp_fc_set_entries(struct fp_flowcache *fc, uint32_t n)
{
	__atomic_store_n(&fc->stats.entries, n, __ATOMIC_RELAXED);
}

static void *
fp_fc_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Lookups land anywhere in the table: transparent huge pages, where
	 * the kernel has them, spare most of the TLB misses. Only a hint. */
	(void)madvise(p, size, MADV_HUGEPAGE);
	return p;
}

struct fp_flowcache *
fp_flowcache_create(const struct fp_flowcache_params *params)
{
	struct fp_flowcache *fc;
	uint32_t n_buckets, n_door;

	if (params == NULL || params->capacity == 0 ||
	    params->capacity > (UINT32_MAX >> 4) ||
	    params->insert_after == 0 || params->insert_after > UINT8_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}
	fc = calloc(1, sizeof(*fc));
	if (fc == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	fc->params = *params;
	/* Twice as many ways as entries keeps both buckets of a key full
	 * only rarely. */
	n_buckets = rte_align32pow2(RTE_MAX(params->capacity / 4, 2u));
	fc->bucket_mask = n_buckets - 1;
	fc->bucket_shift = 32 - rte_bsf32(n_buckets);
	fc->entries_size = (size_t)params->capacity *
		sizeof(struct fp_flowcache_entry);
	fc->buckets_size = (size_t)n_buckets * sizeof(struct fp_fc_bucket);
	fc->entries = fp_fc_map(fc->entries_size);
	fc->buckets = fp_fc_map(fc->buckets_size);
	fc->free_idx = fp_fc_map((size_t)params->capacity * sizeof(uint32_t));
	/* A window of as many misses as entries: a stream that misses again
	 * within that many misses of other streams is always admitted.
	 * Eight counters per entry keep streams that never come back from
	 * being admitted on their first miss, but for the few (under one in
	 * ten) whose two counters other streams share. */
	n_door = RTE_MAX(rte_align32pow2(params->capacity) * FP_FC_DOOR_PER,
			 (uint32_t)FP_FC_DOOR_MIN);
	fc->door_mask = n_door - 1;
	fc->door_shift = 32 - rte_bsf32(n_door);
	fc->door_window = n_door / FP_FC_DOOR_PER;
	if (params->insert_after > 1) {
		fc->door = fp_fc_map((size_t)n_door * 3);
		if (fc->door != NULL) {
			fc->door_cur = fc->door;
			fc->door_prev = fc->door + n_door;
			fc->door_next = fc->door + 2 * (size_t)n_door;
		}
	}
	if (fc->entries == NULL || fc->buckets == NULL ||
	    fc->free_idx == NULL ||
	    (params->insert_after > 1 && fc->door == NULL)) {
		fp_flowcache_free(fc);
		rte_errno = ENOMEM;
		return NULL;
	}
	fc->rand_state = 0x2545f491;
	fc->stats.capacity = params->capacity;
	return fc;
}

static void
fp_fc_drop_value(struct fp_flowcache *fc, struct fp_flowcache_entry *e)
{
	void *value = e->value;

	e->value = NULL;
	if (fc->params.value_free != NULL)
		fc->params.value_free(value, fc->params.aux);
}

void
fp_flowcache_free(struct fp_flowcache *fc)
{
	if (fc == NULL)
		return;
	if (fc->entries != NULL && fc->buckets != NULL &&
	    fc->free_idx != NULL)
		fp_flowcache_flush(fc);
	if (fc->entries != NULL)
		munmap(fc->entries, fc->entries_size);
	if (fc->buckets != NULL)
		munmap(fc->buckets, fc->buckets_size);
	if (fc->free_idx != NULL)
		munmap(fc->free_idx,
		       (size_t)fc->params.capacity * sizeof(uint32_t));
	if (fc->door != NULL)
		munmap(fc->door, ((size_t)fc->door_mask + 1) * 3);
	free(fc);
}

/* Signature of a hash: its top 16 bits, never 0 (0 marks a free way). */
static inline uint16_t
fp_fc_sig(uint32_t hash)
{
	uint16_t sig = hash >> 16;

	return sig != 0 ? sig : 1;
}

/* The two candidate buckets of a hash: low bits, and a multiplicative
 * hash of it that differs from the first. */
static inline void
fp_fc_buckets_of(const struct fp_flowcache *fc, uint32_t hash,
		 uint32_t *b1, uint32_t *b2)
{
	*b1 = hash & fc->bucket_mask;
	*b2 = (uint32_t)(hash * 0x9e3779b1u) >> fc->bucket_shift;
	if (*b2 == *b1)
		*b2 = *b1 ^ 1;
}

/* Bitmask of the ways of 'b' whose signature is 'sig': bit w is set for
 * way w. */
static inline unsigned int
fp_fc_match(const struct fp_fc_bucket *b, uint16_t sig)
{
#if defined(RTE_ARCH_X86)
	/* One 16-byte compare of the eight signatures; packing the 16-bit
	 * results to bytes leaves one mask bit per way. */
	__m128i eq = _mm_cmpeq_epi16(_mm_load_si128((const __m128i *)b->sig),
				     _mm_set1_epi16(sig));

	return (unsigned int)_mm_movemask_epi8(_mm_packs_epi16(eq,
						_mm_setzero_si128()));
#else
	unsigned int mask = 0;
	unsigned int w;

	for (w = 0; w < FP_FC_WAYS; w++)
		mask |= (unsigned int)(b->sig[w] == sig) << w;
	return mask;
#endif
}

static inline uint32_t
fp_fc_random(struct fp_flowcache *fc)
{
	uint32_t x = fc->rand_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	fc->rand_state = x;
	return x;
}

/* Finds the way of bucket 'b' that holds entry 'idx'. */
static int
fp_fc_way_of(const struct fp_fc_bucket *b, uint32_t idx)
{
	int w;

	for (w = 0; w < FP_FC_WAYS; w++)
		if (b->sig[w] != 0 && b->idx[w] == idx)
			return w;
	return -1;
}

/* Unlinks entry 'e' from its bucket and puts it on the free stack. */
static void
fp_fc_release(struct fp_flowcache *fc, struct fp_flowcache_entry *e)
{
	uint32_t idx = e - fc->entries;
	uint32_t b1, b2;
	int w;

	fp_fc_buckets_of(fc, e->hash, &b1, &b2);
	w = fp_fc_way_of(&fc->buckets[b1], idx);
	if (w >= 0) {
		fc->buckets[b1].sig[w] = 0;
	} else {
		w = fp_fc_way_of(&fc->buckets[b2], idx);
		RTE_VERIFY(w >= 0);
		fc->buckets[b2].sig[w] = 0;
	}
	fp_fc_drop_value(fc, e);
	fc->free_idx[fc->n_free++] = idx;
	fp_fc_set_entries(fc, fc->stats.entries - 1);
}

void
fp_flowcache_entry_set_prefetch(struct fp_flowcache_entry *entry,
				const void *addr, unsigned int lines)
{
	entry->prefetch = addr;
	entry->prefetch_lines = addr == NULL ? 0 :
		RTE_MIN(lines, (unsigned int)FP_FLOWCACHE_PREFETCH_LINES_MAX);
}

void
fp_flowcache_remove(struct fp_flowcache *fc, struct fp_flowcache_entry *entry)
{
	fp_fc_release(fc, entry);
	fp_fc_count(&fc->stats.removed, 1);
}

/* Makes room for one entry by evicting the least recently used of a few
 * random entries in use. */
static void
fp_fc_evict_sampled(struct fp_flowcache *fc)
{
	struct fp_flowcache_entry *victim = NULL;
	unsigned int tries;

	for (tries = 0; tries < FP_FC_SAMPLE * 4; tries++) {
		struct fp_flowcache_entry *e =
			&fc->entries[fp_fc_random(fc) % fc->high_water];

		if (e->value == NULL)
			continue;
		if (victim == NULL ||
		    (int32_t)(e->last_used - victim->last_used) < 0)
			victim = e;
		if (tries + 1 >= FP_FC_SAMPLE && victim != NULL)
			break;
	}
	if (victim == NULL) {
		/* Nothing sampled in use: take the first one there is. */
		uint32_t pos = 0;

		victim = fp_flowcache_next(fc, &pos);
	}
	fp_fc_release(fc, victim);
	fp_fc_count(&fc->stats.evicted, 1);
}

/* Takes a free entry index, evicting one if the cache is full. */
static uint32_t
fp_fc_alloc(struct fp_flowcache *fc)
{
	if (fc->n_free == 0 && fc->high_water == fc->params.capacity)
		fp_fc_evict_sampled(fc);
	if (fc->n_free > 0)
		return fc->free_idx[--fc->n_free];
	/* Other threads read the mark (fp_flowcache_memory_get()). */
	__atomic_store_n(&fc->high_water, fc->high_water + 1,
			 __ATOMIC_RELAXED);
	return fc->high_water - 1;
}

/* Finds a free way for 'hash', evicting the least recently used way of
 * its two buckets if both are full. */
static void
fp_fc_free_way(struct fp_flowcache *fc, uint32_t hash,
	       struct fp_fc_bucket **bucket, int *way)
{
	struct fp_fc_bucket *b[2];
	struct fp_flowcache_entry *oldest = NULL;
	unsigned int load[2] = { 0, 0 };
	uint32_t b1, b2;
	int i, w;

	fp_fc_buckets_of(fc, hash, &b1, &b2);
	b[0] = &fc->buckets[b1];
	b[1] = &fc->buckets[b2];
	for (i = 0; i < 2; i++)
		for (w = 0; w < FP_FC_WAYS; w++)
			load[i] += b[i]->sig[w] != 0;
	/* The emptier bucket keeps both from filling up. */
	i = load[1] < load[0];
	for (w = 0; w < FP_FC_WAYS; w++) {
		if (b[i]->sig[w] == 0) {
			*bucket = b[i];
			*way = w;
			return;
		}
	}
	for (i = 0; i < 2; i++) {
		for (w = 0; w < FP_FC_WAYS; w++) {
			struct fp_flowcache_entry *e =
				&fc->entries[b[i]->idx[w]];

			if (oldest == NULL ||
			    (int32_t)(e->last_used - oldest->last_used) < 0) {
				oldest = e;
				*bucket = b[i];
				*way = w;
			}
		}
	}
	fp_fc_release(fc, oldest);
	fp_fc_count(&fc->stats.evicted, 1);
}

/* Finds the entry of 'key' among the ways 'mask' of 'bucket'. */
static __rte_always_inline struct fp_flowcache_entry *
fp_fc_find_in(struct fp_flowcache *fc, const struct fp_stream_ckey *key,
	      uint32_t hash, const struct fp_fc_bucket *bucket,
	      unsigned int mask)
{
	while (mask != 0) {
		struct fp_flowcache_entry *e =
			&fc->entries[bucket->idx[rte_bsf32(mask)]];

		if (e->hash == hash && fp_stream_ckey_equal(&e->key, key))
			return e;
		mask &= mask - 1;
	}
	return NULL;
}

/* Finds the entry of 'key' in both its buckets, or returns NULL. */
static __rte_always_inline struct fp_flowcache_entry *
fp_fc_find(struct fp_flowcache *fc, const struct fp_stream_ckey *key,
	   uint32_t hash)
{
	uint16_t sig = fp_fc_sig(hash);
	struct fp_flowcache_entry *e;
	uint32_t b1, b2;

	fp_fc_buckets_of(fc, hash, &b1, &b2);
	e = fp_fc_find_in(fc, key, hash, &fc->buckets[b1],
			  fp_fc_match(&fc->buckets[b1], sig));
	if (e == NULL)
		e = fp_fc_find_in(fc, key, hash, &fc->buckets[b2],
				  fp_fc_match(&fc->buckets[b2], sig));
	return e;
}

struct fp_flowcache_entry *
fp_flowcache_insert(struct fp_flowcache *fc,
		    const struct fp_stream_ckey *key, uint32_t hash,
		    void *value, uint32_t now)
{
	struct fp_flowcache_entry *e;
	struct fp_fc_bucket *bucket;
	uint32_t idx;
	int way;

	if (value == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	e = fp_fc_find(fc, key, hash);
	if (e != NULL) {
		fp_fc_drop_value(fc, e);
		e->value = value;
		e->last_used = now;
		/* The count is the value's: a host may rate it by the value's
		 * age. */
		e->hits = 0;
		e->prefetch = NULL;
		e->prefetch_lines = 0;
		fp_fc_count(&fc->stats.replaced, 1);
		return e;
	}

	idx = fp_fc_alloc(fc);
	e = &fc->entries[idx];
	/* Claim the entry before looking for a way: evicting a way must not
	 * free this index again. */
	e->value = value;
	fp_fc_set_entries(fc, fc->stats.entries + 1);
	fp_fc_free_way(fc, hash, &bucket, &way);
	memcpy(&e->key, key, sizeof(e->key));
	e->hash = hash;
	e->last_used = now;
	e->hits = 0;
	e->prefetch = NULL;
	e->prefetch_lines = 0;
	bucket->sig[way] = fp_fc_sig(hash);
	bucket->idx[way] = idx;
	fp_fc_count(&fc->stats.inserts, 1);
	return e;
}

/* Counts one admit() call: clears the next sketch a little, and at the end
 * of a window makes it the current one, the current one the previous one,
 * and the previous one the next to clear. */
static void
fp_fc_door_tick(struct fp_flowcache *fc)
{
	uint8_t *old;

	/* A window has a call per FP_FC_DOOR_PER counters of a sketch. */
	memset(fc->door_next + (size_t)fc->door_calls * FP_FC_DOOR_PER, 0,
	       FP_FC_DOOR_PER);
	if (++fc->door_calls < fc->door_window)
		return;
	fc->door_calls = 0;
	old = fc->door_prev;
	fc->door_prev = fc->door_cur;
	fc->door_cur = fc->door_next;
	fc->door_next = old;
}

bool
fp_flowcache_admit(struct fp_flowcache *fc, uint32_t hash)
{
	uint32_t i1, i2;
	unsigned int s1, s2, seen;

	if (fc->params.insert_after <= 1)
		return true;
	fp_fc_door_tick(fc);
	/* Two counters from independent bits of the hash; the smaller sum
	 * over both windows bounds how often this stream missed lately. */
	i1 = hash & fc->door_mask;
	i2 = (hash * 0x9e3779b1u) >> fc->door_shift;
	s1 = (unsigned int)fc->door_cur[i1] + fc->door_prev[i1];
	s2 = (unsigned int)fc->door_cur[i2] + fc->door_prev[i2];
	seen = RTE_MIN(s1, s2);
	/* Both counters count the miss: a conservative update (only the
	 * smaller) would lose it from the other once this window becomes
	 * the previous one.  Admitted misses count too, so that a stream
	 * that keeps missing (evicted, or refused) stays known. */
	if (fc->door_cur[i1] < UINT8_MAX)
		fc->door_cur[i1]++;
	if (fc->door_cur[i2] < UINT8_MAX)
		fc->door_cur[i2]++;
	if (seen + 1 >= fc->params.insert_after)
		return true;
	fp_fc_count(&fc->stats.deferred, 1);
	return false;
}

/* The lookup, in three stages over the burst so that each stage's loads
 * were prefetched by the one before. */
unsigned int
fp_flowcache_lookup_burst(struct fp_flowcache *fc,
			  const struct fp_stream_ckey *const *keys,
			  const uint32_t *hashes, unsigned int n, uint32_t now,
			  struct fp_flowcache_entry **entries)
{
	uint32_t b1[FP_FLOWCACHE_BURST_MAX];
	uint32_t b2[FP_FLOWCACHE_BURST_MAX];
	struct fp_flowcache_entry *cand[FP_FLOWCACHE_BURST_MAX];
	unsigned int hits = 0;
	unsigned int i, l;

	RTE_ASSERT(n <= FP_FLOWCACHE_BURST_MAX);

	/* Stage 1: both buckets of every key on their way to the cache. */
	for (i = 0; i < n; i++) {
		fp_fc_buckets_of(fc, hashes[i], &b1[i], &b2[i]);
		rte_prefetch0(&fc->buckets[b1[i]]);
		rte_prefetch0(&fc->buckets[b2[i]]);
	}

	/* Stage 2: signatures; the first candidate entry's two lines follow.
	 * The second bucket is only looked at when the first has no
	 * candidate, which is what most hits need. */
	for (i = 0; i < n; i++) {
		uint16_t sig = fp_fc_sig(hashes[i]);
		const struct fp_fc_bucket *bucket = &fc->buckets[b1[i]];
		unsigned int mask = fp_fc_match(bucket, sig);
		struct fp_flowcache_entry *e = NULL;

		if (mask == 0) {
			bucket = &fc->buckets[b2[i]];
			mask = fp_fc_match(bucket, sig);
		}
		if (mask != 0) {
			e = &fc->entries[bucket->idx[rte_bsf32(mask)]];
			rte_prefetch0(e);
			rte_prefetch0((const char *)e + RTE_CACHE_LINE_SIZE);
		}
		cand[i] = e;
	}

	/* Stage 3: the candidate's hash, then its key. A key whose candidate
	 * was not its entry (two keys of one signature, about one lookup in
	 * four thousand) searches both buckets again. */
	for (i = 0; i < n; i++) {
		struct fp_flowcache_entry *e = cand[i];

		if (e != NULL && (e->hash != hashes[i] ||
				  !fp_stream_ckey_equal(&e->key, keys[i])))
			e = fp_fc_find(fc, keys[i], hashes[i]);
		entries[i] = e;
		if (e != NULL) {
			/* The host reads its value next, and what the value
			 * leads to: on their way while the rest of the burst
			 * is looked up. */
			rte_prefetch0(e->value);
			for (l = 0; l < e->prefetch_lines; l++)
				rte_prefetch0((const char *)e->prefetch +
					      l * RTE_CACHE_LINE_SIZE);
			e->hits++;
			e->last_used = now;
			hits++;
		}
	}
	fp_fc_count(&fc->stats.lookups, n);
	fp_fc_count(&fc->stats.hits, hits);
	return hits;
}

unsigned int
fp_flowcache_sweep(struct fp_flowcache *fc, uint32_t now, unsigned int budget,
		   bool (*stale)(void *value, void *aux), void *aux)
{
	unsigned int dropped = 0;

	if (fc->high_water == 0)
		return 0;
	while (budget-- > 0) {
		struct fp_flowcache_entry *e;

		if (fc->sweep_pos >= fc->high_water)
			fc->sweep_pos = 0;
		e = &fc->entries[fc->sweep_pos++];
		if (e->value == NULL)
			continue;
		if (fc->params.idle_ms != 0 &&
		    (int32_t)(now - e->last_used) > (int32_t)fc->params.idle_ms) {
			fp_fc_release(fc, e);
			fp_fc_count(&fc->stats.aged, 1);
			dropped++;
		} else if (stale != NULL && stale(e->value, aux)) {
			fp_fc_release(fc, e);
			fp_fc_count(&fc->stats.stale, 1);
			dropped++;
		}
	}
	return dropped;
}

uint32_t
fp_flowcache_sweep_span(const struct fp_flowcache *fc)
{
	return __atomic_load_n(&fc->high_water, __ATOMIC_RELAXED);
}

void
fp_flowcache_flush(struct fp_flowcache *fc)
{
	uint32_t i;

	for (i = 0; i < fc->high_water; i++)
		if (fc->entries[i].value != NULL)
			fp_fc_drop_value(fc, &fc->entries[i]);
	memset(fc->buckets, 0, fc->buckets_size);
	fc->n_free = 0;
	__atomic_store_n(&fc->high_water, 0, __ATOMIC_RELAXED);
	fc->sweep_pos = 0;
	fp_fc_set_entries(fc, 0);
}

struct fp_flowcache_entry *
fp_flowcache_next(struct fp_flowcache *fc, uint32_t *pos)
{
	while (*pos < fc->high_water) {
		struct fp_flowcache_entry *e = &fc->entries[(*pos)++];

		if (e->value != NULL)
			return e;
	}
	return NULL;
}

void
fp_flowcache_stats_get(const struct fp_flowcache *fc,
		       struct fp_flowcache_stats *stats)
{
	const struct fp_flowcache_stats *s = &fc->stats;

	stats->entries = __atomic_load_n(&s->entries, __ATOMIC_RELAXED);
	stats->capacity = s->capacity;
	stats->lookups = __atomic_load_n(&s->lookups, __ATOMIC_RELAXED);
	stats->hits = __atomic_load_n(&s->hits, __ATOMIC_RELAXED);
	stats->inserts = __atomic_load_n(&s->inserts, __ATOMIC_RELAXED);
	stats->replaced = __atomic_load_n(&s->replaced, __ATOMIC_RELAXED);
	stats->evicted = __atomic_load_n(&s->evicted, __ATOMIC_RELAXED);
	stats->aged = __atomic_load_n(&s->aged, __ATOMIC_RELAXED);
	stats->stale = __atomic_load_n(&s->stale, __ATOMIC_RELAXED);
	stats->removed = __atomic_load_n(&s->removed, __ATOMIC_RELAXED);
	stats->deferred = __atomic_load_n(&s->deferred, __ATOMIC_RELAXED);
}

void
fp_flowcache_memory_get(const struct fp_flowcache *fc,
			struct fp_flowcache_memory *mem)
{
	uint32_t used = __atomic_load_n(&fc->high_water, __ATOMIC_RELAXED);

	mem->entries = fc->entries_size;
	mem->entries_used = (size_t)used * sizeof(struct fp_flowcache_entry);
	mem->buckets = fc->buckets_size;
	mem->free_list = (size_t)fc->params.capacity * sizeof(uint32_t);
	mem->doorkeeper = fc->door != NULL ?
		((size_t)fc->door_mask + 1) * 3 : 0;
}
