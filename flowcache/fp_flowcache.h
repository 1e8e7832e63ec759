/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_FLOWCACHE_H_
#define _FP_FLOWCACHE_H_

/**
 * @file
 * The per-stream fold cache.
 *
 * An exact-match cache from compact stream keys (struct fp_stream_ckey,
 * fp_pkt.h) to an opaque value that belongs to the host (the datapath glue
 * keeps its folded chain there). It is a bounded cache, not a dictionary:
 * inserting into a full cache evicts the least recently used of a few
 * sampled entries, and entries idle for longer than a limit are aged out
 * by an incremental sweep. An insertion policy keeps streams that never
 * repeat from thrashing it: a stream is admitted only once it has missed a
 * configured number of times.
 *
 * The cache compares compact keys, all 64 bytes. A packed compact key
 * stands for exactly one full key; a digest (fp_stream_ckey_is_digest())
 * may stand for several, so for a digest a hit only says that the digests
 * are equal: the host must keep the full key of such an entry (in its
 * value) and compare it.
 *
 * Layout: entries live in one array (128 bytes, two cache lines each); a
 * table of 64-byte buckets holds, for each entry, a 16-bit signature and
 * its index. Every key has two candidate buckets of eight ways; a lookup
 * reads at most two bucket cache lines and, on a signature match, the
 * entry's two lines.
 *
 * Thread-safety: none, by design. A cache belongs to one thread (a PMD),
 * which alone may call any function on it; lookups take no lock. Other
 * threads may only read fp_flowcache_stats_get(), whose counters are
 * written with relaxed atomic stores. Flushing or resizing on behalf of
 * another thread is the owner's job, on request.
 *
 * Memory: the entry array and buckets are anonymous mappings, so pages
 * are only backed once used: a cache costs about 148 bytes per stream it
 * holds (entry 128, bucket share 16 and free index 4). With insert_after
 * above 1, the doorkeeper adds 24 bytes per stream of capacity rounded up
 * to a power of 2 (three sketches of eight one-byte counters per stream,
 * 8 KB each at least), backed as they are used. The host's values are
 * extra.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "fp_pkt.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most keys one fp_flowcache_lookup_burst() call takes. */
#define FP_FLOWCACHE_BURST_MAX 64

struct fp_flowcache;

/** A cached stream, two cache lines. Hosts read it; only the cache writes
 *  it. The hash, which a lookup checks first, and the start of the key
 *  are in the first line; the rest of the key is in the second. */
struct fp_flowcache_entry {
	uint32_t hash;      /**< fp_stream_ckey_hash(&key). */
	uint32_t last_used; /**< Host clock (ms) of the last hit or insert. */
	uint64_t hits;      /**< Lookups that returned this entry. */
	void *value;        /**< Host value; NULL marks a free entry. */
	struct fp_stream_ckey key;
	/** What a lookup prefetches besides the value, as
	 *  fp_flowcache_entry_set_prefetch() set it; never dereferenced. */
	const void *prefetch;
	uint32_t prefetch_lines;
} __rte_cache_aligned;

/** How a cache behaves. */
struct fp_flowcache_params {
	/** Most entries; at least 1. */
	uint32_t capacity;
	/** Entries unused for longer than this are aged out; 0: never. */
	uint32_t idle_ms;
	/** Misses a stream needs before fp_flowcache_admit() says yes,
	 *  1 to 255; 1 admits at once. */
	uint32_t insert_after;
	/** Called for every value the cache drops (eviction, ageing,
	 *  removal, flush, free); may be NULL. */
	void (*value_free)(void *value, void *aux);
	/** Passed to value_free. */
	void *aux;
};

/** Counters, as fp_flowcache_stats_get() returns them. */
struct fp_flowcache_stats {
	uint32_t entries;   /**< In use now. */
	uint32_t capacity;
	uint64_t lookups;   /**< Keys looked up. */
	uint64_t hits;      /**< Keys found. */
	uint64_t inserts;   /**< New entries. */
	uint64_t replaced;  /**< Inserts that replaced an entry's value. */
	uint64_t evicted;   /**< Entries dropped to make room. */
	uint64_t aged;      /**< Entries dropped by the sweep for idleness. */
	uint64_t stale;     /**< Entries dropped by the sweep as stale. */
	uint64_t removed;   /**< Entries the host removed. */
	uint64_t deferred;  /**< fp_flowcache_admit() calls that said no. */
};

/** Bytes a cache has mapped, as fp_flowcache_memory_get() returns them.
 *  All of it is anonymous memory reserved at creation for 'capacity'
 *  entries; the kernel backs a page once it is first written. */
struct fp_flowcache_memory {
	size_t entries;      /**< The entry array: capacity * 128. */
	size_t entries_used; /**< Its part ever used: high-water mark * 128
	                      *   (entries are taken from the front). */
	size_t buckets;      /**< The index: 64-byte buckets, capacity / 4
	                      *   rounded up to a power of 2. */
	size_t free_list;    /**< Released entry indexes: capacity * 4. */
	size_t doorkeeper;   /**< Three sketches of 8 one-byte counters per
	                      *   entry (power of 2); 0 if insert_after is 1. */
};

/**
 * Create a cache.
 *
 * @param params
 *   How it behaves; copied.
 * @return
 *   The cache, or NULL with rte_errno set: EINVAL for bad parameters,
 *   ENOMEM if memory could not be mapped.
 */
struct fp_flowcache *
fp_flowcache_create(const struct fp_flowcache_params *params);

/**
 * Free a cache, dropping all its values.
 *
 * @param fc
 *   A cache, or NULL.
 */
void
fp_flowcache_free(struct fp_flowcache *fc);

/**
 * Tell whether a stream that missed should be learned now (the insertion
 * policy). Each call counts as one miss of the stream.
 *
 * Misses are counted in count-min sketches (two 8-bit counters per
 * stream, chosen by the hash) of the current and the previous window of
 * W calls, W being the capacity rounded up to a power of 2: a stream is
 * admitted when it has missed insert_after times within the last W to 2W
 * calls. So with insert_after 2, a stream whose misses are at most W calls
 * apart is always admitted at its second miss, whatever it shares counters
 * with; a stream that never repeats gets in only when both its counters
 * are shared with others: 9% of a flood of a million such streams in a
 * cache of 131072.
 *
 * @param fc
 *   The cache.
 * @param hash
 *   The stream key's hash.
 * @return
 *   true once the stream has missed params.insert_after times recently,
 *   false before.
 */
bool
fp_flowcache_admit(struct fp_flowcache *fc, uint32_t hash);

/**
 * Insert a stream, or replace the value of one already there (an entry
 * whose compact key is equal: for a digest, maybe another full key). A
 * replaced value's entry starts over: no hits, used 'now'.
 *
 * When the cache or both candidate buckets are full, the least recently
 * used of a sample of entries is evicted first, and its value dropped.
 *
 * @param fc
 *   The cache.
 * @param key
 *   The compact stream key; copied.
 * @param hash
 *   fp_stream_ckey_hash(key).
 * @param value
 *   The host's value; must not be NULL.
 * @param now
 *   Host clock, in ms.
 * @return
 *   The entry, or NULL with rte_errno set to EINVAL if value is NULL.
 */
struct fp_flowcache_entry *
fp_flowcache_insert(struct fp_flowcache *fc,
		    const struct fp_stream_ckey *key, uint32_t hash,
		    void *value, uint32_t now);

/** Most cache lines fp_flowcache_entry_set_prefetch() takes. */
#define FP_FLOWCACHE_PREFETCH_LINES_MAX 4

/**
 * Have lookups that find an entry prefetch more than its value's first
 * line: 'lines' cache lines from 'addr', for the host's next stage (say,
 * what its value points to, which the host would otherwise only prefetch
 * once the value has arrived). The cache never dereferences 'addr', so it
 * may outlive what it points to: a prefetch does not fault. A new entry,
 * and an entry whose value fp_flowcache_insert() replaced, prefetch
 * nothing more.
 *
 * @param entry
 *   An entry fp_flowcache_lookup_burst() or fp_flowcache_insert() returned.
 * @param addr
 *   Any address; NULL for none.
 * @param lines
 *   Cache lines from addr, at most FP_FLOWCACHE_PREFETCH_LINES_MAX (more
 *   are cut to it).
 */
void
fp_flowcache_entry_set_prefetch(struct fp_flowcache_entry *entry,
				const void *addr, unsigned int lines);

/**
 * Remove an entry and drop its value.
 *
 * @param fc
 *   The cache.
 * @param entry
 *   An entry fp_flowcache_lookup_burst() or fp_flowcache_insert() returned.
 */
void
fp_flowcache_remove(struct fp_flowcache *fc, struct fp_flowcache_entry *entry);

/**
 * Look up a burst of keys.
 *
 * Found entries get their hit count incremented and last_used set to 'now',
 * and the first cache line of their value is prefetched, with what
 * fp_flowcache_entry_set_prefetch() gave.
 * An entry is found when its compact key is equal to the key looked up,
 * all 64 bytes; for a digest, the host checks the full key.
 *
 * @param fc
 *   The cache.
 * @param keys
 *   Pointers to the compact keys to look up.
 * @param hashes
 *   Their hashes, fp_stream_ckey_hash().
 * @param n
 *   Number of keys, at most FP_FLOWCACHE_BURST_MAX.
 * @param now
 *   Host clock, in ms.
 * @param entries
 *   n entries to fill: the entry found, or NULL.
 * @return
 *   The number of keys found.
 */
unsigned int
fp_flowcache_lookup_burst(struct fp_flowcache *fc,
			  const struct fp_stream_ckey *const *keys,
			  const uint32_t *hashes, unsigned int n, uint32_t now,
			  struct fp_flowcache_entry **entries);

/**
 * Sweep part of the cache: drop entries idle for longer than
 * params.idle_ms, and those whose value 'stale' says is no longer valid.
 * Successive calls continue where the last one stopped and wrap around.
 *
 * @param fc
 *   The cache.
 * @param now
 *   Host clock, in ms.
 * @param budget
 *   Most entry slots to visit.
 * @param stale
 *   Called for each visited value; returns true to drop it. May be NULL.
 * @param aux
 *   Passed to stale.
 * @return
 *   The number of entries dropped.
 */
unsigned int
fp_flowcache_sweep(struct fp_flowcache *fc, uint32_t now, unsigned int budget,
		   bool (*stale)(void *value, void *aux), void *aux);

/**
 * Number of entry slots that a sweep of the whole cache visits: those
 * handed out since the cache was created or flushed. Lets the host pace
 * fp_flowcache_sweep() in time.
 *
 * @param fc
 *   The cache.
 * @return
 *   The slots, at most params.capacity.
 */
uint32_t
fp_flowcache_sweep_span(const struct fp_flowcache *fc);

/**
 * Drop every entry.
 *
 * @param fc
 *   The cache.
 */
void
fp_flowcache_flush(struct fp_flowcache *fc);

/**
 * Iterate over the entries in use.
 *
 * @param fc
 *   The cache.
 * @param pos
 *   Iterator state; set it to 0 to start.
 * @return
 *   The next entry in use, or NULL at the end.
 */
struct fp_flowcache_entry *
fp_flowcache_next(struct fp_flowcache *fc, uint32_t *pos);

/**
 * Read the counters. Any thread may call this.
 *
 * @param fc
 *   The cache.
 * @param stats
 *   Filled with a snapshot; each counter is read atomically, the set is
 *   not.
 */
void
fp_flowcache_stats_get(const struct fp_flowcache *fc,
		       struct fp_flowcache_stats *stats);

/**
 * Read how much memory the cache has mapped, by table. Any thread may call
 * this; only entries_used changes after creation.
 *
 * @param fc
 *   The cache.
 * @param mem
 *   Filled with the sizes.
 */
void
fp_flowcache_memory_get(const struct fp_flowcache *fc,
			struct fp_flowcache_memory *mem);

#ifdef __cplusplus
}
#endif

#endif /* _FP_FLOWCACHE_H_ */
