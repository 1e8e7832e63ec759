/*
 * Copyright (c) 2026 The Foldpath authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

#ifndef DPIF_NETDEV_PRIVATE_FOLD_H
#define DPIF_NETDEV_PRIVATE_FOLD_H 1

/* The fold engine's private types, shared by its stage files:
 *
 *   dpif-netdev-fold.c          configuration, PMD life cycle, chains,
 *                               commands (fold/show, fold/dump, fold/flush,
 *                               fold/offload-show)
 *   dpif-netdev-fold-learn.c    tracing a packet through the pipeline,
 *                               checking its passes and learning its chain
 *   dpif-netdev-fold-input.c    the per-packet path: lookup, guard, execute
 *   dpif-netdev-fold-offload-pmd.c
 *                               the PMD's side of offload: a chain as an
 *                               rte_flow rule, offers, counters, checks
 *
 * dpif-netdev-fold.h is the interface to dpif-netdev.c; this header is for
 * the files above only.  The offload thread's side of offload is a module
 * of its own, dpif-netdev-fold-offload.[ch].
 *
 * Thread-safety
 * =============
 *
 * Everything here but 'struct dp_netdev_fold' belongs to one PMD thread:
 * a 'struct dp_netdev_pmd_fold', its cache, paths, chains, traces and
 * drains are read and written by that PMD only.  Other threads reach them
 * only through the request protocol of 'struct dp_netdev_pmd_fold', and
 * read 'stats' with relaxed loads (fold_read()).  'struct dp_netdev_fold',
 * the datapath's configuration, is written by the main thread and read by
 * PMDs with atomic loads. */

#include <stdbool.h>
#include <stdint.h>

#include "conntrack.h"
#include "dp-packet.h"
#include "dpif-netdev-fold.h"
#include "dpif-netdev-fold-offload.h"
#include "dpif-netdev-private.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "ovs-atomic.h"
#include "packets.h"

#include "fp_flowcache.h"
#include "fp_pkt.h"

/* Most datapath passes a chain folds: one more than the recirculation
 * limit of dpif-netdev. */
#define FOLD_MAX_PASSES 8


/* A port whose input batches had nothing to fold, FOLD_QUIET_BATCHES of
 * them in a row, is not looked up for FOLD_QUIET_MS: single-pass traffic,
 * such as a plain phy to vhost-user forward, then costs no parsing and no
 * lookup.  One batch is looked at after each quiet period. */
#define FOLD_QUIET_PORTS 64
#define FOLD_QUIET_BATCHES 64
#define FOLD_QUIET_MS 100

/* UDP port that marks VXLAN to the parser (IANA's). */
#define FOLD_VXLAN_PORT 4789

/* How often a PMD checks an offloaded chain: that its megaflows and
 * connections are still there, and what the NIC forwarded for it.  A chain
 * is checked every FOLD_OFFLOAD_CHECK_MS, or, with more chains than
 * FOLD_OFFLOAD_CHECK_RATE checks per second cover in that time, as often as
 * that rate allows, but at least every FOLD_OFFLOAD_CHECK_MAX_MS (well
 * within the fold cache's and the megaflows' idle times, which the checks
 * refresh).  Each periodic call checks at most FOLD_OFFLOAD_CHECK_BUDGET
 * chains whose time has come, so that no call takes long. */
#define FOLD_OFFLOAD_CHECK_MS 10
#define FOLD_OFFLOAD_CHECK_MAX_MS 5000
#define FOLD_OFFLOAD_CHECK_RATE 20000
#define FOLD_OFFLOAD_CHECK_BUDGET 32
/* How often a PMD accounts the last packets of destroyed rules. */
#define FOLD_OFFLOAD_DRAIN_US 10000
/* A stream whose rule could not be created for now is offered again after
 * this long. */
#define FOLD_OFFLOAD_RETRY_MS 1000

/* Why a traced stream was not folded. */
enum fold_refusal {
    FOLD_REFUSE_SINGLE_PASS,    /* One pass only: the EMC serves it. */
    FOLD_REFUSE_UPCALL,         /* A pass was an upcall (learnt later). */
    FOLD_REFUSE_INCOMPLETE,     /* The packet stopped before a last pass. */
    FOLD_REFUSE_TOO_LONG,       /* More than FOLD_MAX_PASSES passes. */
    FOLD_REFUSE_ACTION,         /* An action that cannot be folded. */
    FOLD_REFUSE_TUNNEL,         /* A tnl_pop the key does not look into. */
    FOLD_REFUSE_SHAPE,          /* Actions in an order not folded. */
    FOLD_REFUSE_LINK,           /* A pass does not lead to the next. */
    FOLD_REFUSE_FLOW_CHANGED,   /* A megaflow died while learning. */
    FOLD_REFUSE_CT_NEW,         /* Still +new: wait for a later packet. */
    FOLD_REFUSE_TCP_FLAGS,      /* A megaflow matches TCP flags that the
                                 * key keeps only as a class. */
    FOLD_N_REFUSALS
};

/* Refusals that will not change by themselves: such a stream gets a
 * negative entry, so its next packets are not traced again at once.
 *
 * "ct-new" is special.  A packet that conntrack sees as +new is usually
 * the first of its connection: the next one will be +est, and a chain
 * learnt now would fail its guard at once.  So the stream gets a negative
 * entry that does not stop tracing; if the next packet is +new again (a
 * one-way UDP stream stays +new), its chain is folded. */
static inline bool
fold_refusal_is_stable(enum fold_refusal r)
{
    return r != FOLD_REFUSE_UPCALL && r != FOLD_REFUSE_INCOMPLETE
           && r != FOLD_REFUSE_FLOW_CHANGED && r != FOLD_REFUSE_LINK;
}

/* The 5-tuple of a packet after NAT, as far as a megaflow can match it. */
struct fold_tuple {
    uint8_t src[16];
    uint8_t dst[16];
    ovs_be16 tp_src;
    ovs_be16 tp_dst;
};

/* What a guard (below) keeps besides its state, when its connection does
 * not give it: the original direction tuple, and the packet's tuple after
 * NAT. */
struct fold_guard_extra {
    union {
        struct ovs_key_ct_tuple_ipv4 ipv4;
        struct ovs_key_ct_tuple_ipv6 ipv6;
    } ct_orig_tuple;
    struct fold_tuple nat_tuple;  /* If the guard's 'nat'. */
};

/* No fold_guard_extra: see struct fold_guard. */
#define FOLD_GUARD_NO_EXTRA UINT8_MAX

/* A packet's conntrack state at a pass boundary.  The next pass's megaflow
 * may match any of it, so a folded packet must have the same.  56 bytes,
 * all of which a folded packet reads.
 *
 * The original direction tuple that conntrack wrote is a function of the
 * connection conntrack found, whose key is immutable.  So a guard of a
 * chain that holds that connection ('ct.conn'), and that is neither +inv
 * nor NATed, keeps no tuple: a packet whose ct() found the same connection
 * (md.conn) has the same tuple.  Any other guard keeps the tuple, and the
 * NAT result, in the chain's extras ('extra' is its index there). */
struct fold_guard {
    /* 'ct.conn' is the connection conntrack found (md.conn), or NULL.  In
     * a trace, a bare pointer, valid until the PMD quiesces; in a chain, a
     * reference (conntrack_conn_ref()) that lets the pass's ct skip its
     * lookup, and, with fold-ct-mode=flowtable, the rest of its work
     * (conntrack keeps the ticket in 'ct'). */
    struct conntrack_hint ct;
    uint8_t ct_state;
    bool ct_orig_tuple_ipv6;
    uint16_t ct_zone;
    uint32_t ct_mark;
    ovs_u128 ct_label;
    bool nat;                   /* True if ct NATed the packet. */
    uint8_t extra;              /* Index in the chain's extras, or
                                 * FOLD_GUARD_NO_EXTRA. */
};

/* A guard as a trace records it: all of it. */
struct fold_guard_rec {
    struct fold_guard g;
    struct fold_guard_extra x;
};

/* How a pass ends. */
enum fold_terminal {
    FOLD_TERM_NONE,             /* The last pass. */
    FOLD_TERM_TNL_POP,          /* tnl_pop(port): decapsulate. */
    FOLD_TERM_RECIRC,           /* recirc(id). */
};

/* One pass of a folded path. */
struct fold_elem {
    struct dp_netdev_flow *flow;  /* The pass's megaflow; reference held. */
    struct nlattr *actions;       /* Copy of its actions when learnt. */
    size_t actions_len;
    size_t body_len;              /* Bytes of 'actions' before 'terminal'. */
    enum fold_terminal terminal;
    uint32_t terminal_arg;        /* Tunnel port, or recirculation id. */
    bool guarded;                 /* Ran ct: check the stream's guard. */
    uint8_t guard_idx;            /* Which of the stream's guards. */
    /* If the pass is guarded and its body is exactly one ct(): that ct(),
     * parsed once when the path was made (pointing into 'actions'), in
     * the path's own allocation.  NULL otherwise. */
    struct dp_netdev_ct *ct;
};

/* The passes of a folded chain, shared by every stream that takes the same
 * megaflows: the hits of all of them in an input batch run as one batch,
 * as they would in the normal pipeline.  PMD thread only. */
struct fold_path {
    struct hmap_node node;        /* In 'paths' of dp_netdev_pmd_fold. */
    uint32_t n_refs;              /* Chains that use the path. */
    uint32_t size;                /* Bytes allocated for the path. */
    bool interned;                /* In 'paths': new chains may share it. */
    bool stale;                   /* A megaflow changed: never valid again. */
    bool needs_rss;               /* An action uses the RSS hash. */
    uint8_t n_elems;
    uint16_t inner_l3_ofs;        /* Layer offsets after the tnl_pop. */
    uint16_t inner_l4_ofs;
    struct fold_batch *batch;     /* Hits of the current input batch. */
    struct fold_elem elems[];
};

/* A folded stream, the value of its fold cache entry.  A chain without
 * elements is a negative entry: a refused stream.  PMD thread only.
 *
 * A hit reads its first 56 bytes, then its guards.  One allocation holds
 * the chain, its 'n_guards' guards and, after them, its 'n_extras' extras:
 * with one guard that holds its connection, 112 bytes. */
struct fold_chain {
    uint8_t n_elems;
    uint8_t refusal;              /* enum fold_refusal, if n_elems == 0. */
    bool doomed;                  /* Remove after the current batch. */
    uint8_t tcp_passes;           /* Bit i: pass i sees a TCP header. */
    uint8_t n_guards;
    uint8_t n_extras;
    bool offload_refused;         /* The chain cannot be a rule. */
    bool rss_known;               /* 'rss_hash' is set. */
    /* The TCP flag class of the stream's key (see fp_pkt.h), which every
     * pass in 'tcp_passes' sees: for the statistics of the passes the NIC
     * forwards (fold_chain_tcp_flags()); software passes take each
     * packet's own flags. */
    uint16_t tcp_class;
    uint32_t created;             /* Clock (ms) when learnt. */
    uint32_t offload_after;       /* Clock (ms) to offer it again. */
    /* The RSS hash of the stream's packets at its last pass, from which a
     * tnl_push takes the outer UDP source port. */
    uint32_t rss_hash;
    struct fold_path *path;       /* NULL if n_elems == 0. */
    struct fp_flowcache_entry *entry;
    /* The stream's full key if its cache key is a digest (fp_pkt.h), to
     * compare on every hit; NULL if the cache key is packed. */
    struct fp_stream_key *key;
    /* Offload (dpif-netdev-fold-offload.h).  NULL until the stream is
     * offered to the NIC; while it is being installed or is installed, it
     * is in 'offloaded' of the PMD. */
    struct fold_offload *offload;
    struct fold_guard guards[];   /* Per guarded pass of 'path', then the
                                   * extras. */
};

BUILD_ASSERT_DECL(offsetof(struct fold_chain, guards) == 56);
BUILD_ASSERT_DECL(sizeof(struct fold_guard) == 56);

/* Returns the bytes allocated for a chain of 'n_guards' guards and
 * 'n_extras' extras. */
static inline size_t
fold_chain_alloc_size(size_t n_guards, size_t n_extras)
{
    return sizeof(struct fold_chain)
           + n_guards * sizeof(struct fold_guard)
           + n_extras * sizeof(struct fold_guard_extra);
}

/* Returns the extra of guard 'g' of 'chain', or NULL if it has none. */
static inline const struct fold_guard_extra *
fold_guard_extra(const struct fold_chain *chain, const struct fold_guard *g)
{
    const struct fold_guard_extra *extras;

    if (g->extra == FOLD_GUARD_NO_EXTRA) {
        return NULL;
    }
    extras = ALIGNED_CAST(const struct fold_guard_extra *,
                          &chain->guards[chain->n_guards]);
    return &extras[g->extra];
}

/* Writes to 'flags', per pass of the path of 'chain', the TCP flags that
 * the NIC's forwarding of the chain's packets gives its megaflow's
 * statistics. */
static inline void
fold_chain_tcp_flags_all(const struct fold_chain *chain,
                         uint16_t flags[FOLD_MAX_PASSES])
{
    for (int i = 0; i < FOLD_MAX_PASSES; i++) {
        flags[i] = chain->tcp_passes & (1u << i) ? chain->tcp_class : 0;
    }
}

/* The hits of one path in an input batch, and the chain of each packet. */
struct fold_batch {
    struct fold_path *path;
    bool stripped;              /* fold_vxlan_strip() decapsulated it. */
    struct dp_packet_batch packets;
    struct fold_chain *chains[NETDEV_MAX_BURST];
};

/* A pass recorded for a traced packet. */
struct fold_trace_elem {
    struct dp_netdev_flow *flow;
    bool guarded;               /* The boundary state below was taken. */
    struct fold_guard_rec guard;
};

/* A packet that missed the fold cache, followed through the pipeline. */
struct fold_trace {
    const struct dp_packet *packet;
    struct fp_stream_key key;
    struct fp_stream_ckey ckey;     /* The cache key of 'key'. */
    uint32_t hash;                  /* fp_stream_ckey_hash(&ckey). */
    uint8_t n_elems;
    bool upcall;                /* A pass was an upcall. */
    bool overflow;              /* More passes than FOLD_MAX_PASSES. */
    struct fold_trace_elem elems[FOLD_MAX_PASSES];
};

/* Statistics of one PMD.  Written by the PMD with relaxed stores, read by
 * anyone with relaxed loads. */
struct fold_stats {
    uint64_t hits;              /* Packets that took the folded path. */
    uint64_t misses;            /* Parsed packets without an entry. */
    uint64_t negative_hits;     /* Packets of refused streams. */
    uint64_t inserts;           /* Chains learnt. */
    uint64_t chain_bytes;       /* Memory held by chains now. */
    uint64_t path_bytes;        /* Memory held by paths now. */
    uint64_t paths;             /* Paths now. */
    uint64_t guard_failures;    /* Packets whose ct state had changed. */
    uint64_t invalidations;     /* Chains found with a changed megaflow. */
    uint64_t conn_deaths;       /* Chains whose connection ended. */
    uint64_t quiet;             /* Packets of quiet ports, not looked up. */
    uint64_t offload_now;       /* Chains in 'offloaded' now. */
    uint64_t offload_offered;   /* Streams handed to the offload thread. */
    uint64_t offload_refused;   /* Streams a rule cannot express. */
    uint64_t offload_removed;   /* Offloaded chains removed. */
    uint64_t offload_packets;   /* Packets forwarded by the NIC. */
    uint64_t upkeep_cycles;     /* TSC cycles of the offload upkeep in
                                 * dp_netdev_fold_pmd_periodic(). */
    uint64_t upkeep_calls;      /* Periodic calls that did upkeep. */
    uint64_t upkeep_max;        /* Cycles of the longest such call. */
    uint64_t not_parsed[FP_PKT_VERDICT_MAX];
    uint64_t refused[FOLD_N_REFUSALS];
    uint64_t refused_action[__OVS_ACTION_ATTR_MAX];
};

/* How much a port had to fold lately.  The slot of a port is its number
 * modulo FOLD_QUIET_PORTS; a port that finds another port's slot takes it
 * over, so two ports that share a slot are simply never quiet. */
struct fold_quiet_port {
    odp_port_t port_no;
    uint32_t streak;            /* Input batches with nothing to fold. */
    uint32_t until;             /* Clock (ms) the quiet period ends. */
};

/* Chains of at most FOLD_SLAB_SLOT bytes (most: see struct fold_chain)
 * are allocated from 64-byte aligned slots, so that a hit reads exactly
 * two cache lines of its chain, carved from FOLD_SLAB_BLOCK-byte blocks.
 * The blocks are freed when the cache is flushed or destroyed.  PMD thread
 * only. */
#define FOLD_SLAB_SLOT 128
#define FOLD_SLAB_BLOCK (2 * 1024 * 1024)

struct fold_slab {
    void *free;                 /* Free slots, linked by their first word. */
    char *next, *end;           /* Never used slots of the newest block. */
    char **blocks;
    size_t n_blocks;
    size_t n_used;              /* Slots in use. */
};

/* An offloaded stream whose chain died: its rule is being destroyed.  The
 * PMD keeps the path until the offload thread has read the rule's last
 * counters, so that the packets the NIC forwarded since the previous read
 * still reach the megaflows. */
struct fold_drain {
    struct ovs_list node;         /* In 'draining' of dp_netdev_pmd_fold. */
    struct fold_offload *fo;      /* With a reference. */
    struct fold_path *path;       /* With a reference. */
    uint16_t tcp_flags[FOLD_MAX_PASSES];
};

/* Requests from other threads to a PMD. */
enum fold_request {
    FOLD_REQ_NONE,
    FOLD_REQ_FLUSH,
    FOLD_REQ_DUMP,
};

/* A PMD thread's fold state.  PMD thread only, except 'stats' (relaxed
 * loads) and the request protocol below. */
struct dp_netdev_pmd_fold {
    const struct dp_netdev_fold *cfg;   /* The datapath's configuration. */
    struct fp_flowcache *cache;     /* NULL while folding is off. */
    uint32_t max_streams;           /* Parameters of 'cache'. */
    uint32_t insert_after;

    unsigned int n_traces;
    struct fold_trace traces[NETDEV_MAX_BURST];

    struct hmap paths;              /* Contains "struct fold_path"s. */
    struct fold_slab chains;        /* Of the chains that fit a slot. */

    struct fold_quiet_port quiet[FOLD_QUIET_PORTS];

    /* Offload: chains offered to the NIC (see 'struct fold_chain'), in the
     * order of their next checks, and the policy, read at each periodic
     * call. */
    struct ovs_list offloaded;
    struct ovs_list draining;       /* Contains "struct fold_drain"s. */
    bool offload_on;
    struct fold_offload_policy offload_policy;

    /* fold-ct-mode=flowtable, read at each periodic call. */
    bool ct_flowtable;
    long long int offload_next_drain;   /* pmd->ctx.now, in us. */

    /* The sweep's pace (fold_sweep()): the time of its last call
     * (pmd->ctx.now, in us), and the slots it may visit, times
     * FOLD_SWEEP_PERIOD_MS in us. */
    long long int sweep_last;
    uint64_t sweep_credit;

    struct fold_stats stats;

    /* A request (enum fold_request): the requester sets 'request' last,
     * with release ordering; the PMD answers in 'reply' and resets
     * 'request' with release ordering. */
    atomic_uint32_t request;
    size_t dump_limit;
    struct ds reply;
};

/* A datapath's folding configuration: written by the main thread, read by
 * the PMDs with relaxed atomic loads. */
struct dp_netdev_fold {
    atomic_bool enabled;
    atomic_uint32_t max_streams;
    atomic_uint32_t insert_after;
    atomic_bool ct_flowtable;       /* fold-ct-mode=flowtable. */

    /* Last rejected value of each key, so that a bad value is reported
     * once, not on every reconfiguration.  Main thread only. */
    char *bad_enable;
    char *bad_max_streams;
    char *bad_insert_after;
    char *bad_ct_mode;
    struct ds errors;           /* The current problems, for fold/show. */
};

static inline void
fold_count(uint64_t *counter, uint64_t n)
{
    atomic_store_relaxed((ATOMIC(uint64_t) *) counter, *counter + n);
}

static inline uint64_t
fold_read(const uint64_t *counter)
{
    uint64_t value;

    atomic_read_relaxed((ATOMIC(uint64_t) *) counter, &value);
    return value;
}

static inline uint32_t
fold_now_ms(const struct dp_netdev_pmd_thread *pmd)
{
    return pmd->ctx.now / 1000;
}

/* Guards. */

/* Reads the IP addresses and ports of 'packet' at its current layer
 * offsets. */
static inline void
fold_tuple_from_packet(const struct dp_packet *packet, struct fold_tuple *t)
{
    const uint8_t *l3 = dp_packet_l3(packet);
    const uint8_t *l4 = dp_packet_l4(packet);

    memset(t, 0, sizeof *t);
    if (!l3) {
        return;
    }
    if ((l3[0] >> 4) == 6) {
        memcpy(t->src, l3 + 8, 16);
        memcpy(t->dst, l3 + 24, 16);
    } else {
        memcpy(t->src, l3 + 12, 4);
        memcpy(t->dst, l3 + 16, 4);
    }
    if (l4 && dp_packet_l4_size(packet) >= 4) {
        memcpy(&t->tp_src, l4, 2);
        memcpy(&t->tp_dst, l4 + 2, 2);
    }
}

static inline void
fold_guard_from_packet(const struct dp_packet *packet,
                       struct fold_guard_rec *r)
{
    const struct pkt_metadata *md = &packet->md;
    struct fold_guard *g = &r->g;

    memset(r, 0, sizeof *r);
    g->ct_state = md->ct_state;
    g->ct_zone = md->ct_zone;
    g->ct_mark = md->ct_mark;
    g->ct_label = md->ct_label;
    g->extra = FOLD_GUARD_NO_EXTRA;
    if (md->ct_state) {
        g->ct_orig_tuple_ipv6 = md->ct_orig_tuple_ipv6;
        if (md->ct_orig_tuple_ipv6) {
            r->x.ct_orig_tuple.ipv6 = md->ct_orig_tuple.ipv6;
        } else {
            r->x.ct_orig_tuple.ipv4 = md->ct_orig_tuple.ipv4;
        }
    }
    if (md->ct_state & (CS_SRC_NAT | CS_DST_NAT)) {
        g->nat = true;
        fold_tuple_from_packet(packet, &r->x.nat_tuple);
    }
    g->ct.conn = md->conn;
}

/* Returns true if a chain's guard made of trace record 'r' needs an extra:
 * see struct fold_guard. */
static inline bool
fold_guard_rec_needs_extra(const struct fold_guard_rec *r)
{
    return r->g.ct_state
           && (!r->g.ct.conn || r->g.nat || r->g.ct_state & CS_INVALID);
}

/* Returns true if the original tuples of conntrack 'a' and 'b' are the
 * same, of family 'ipv6'.  Member by member: the tuples end in padding,
 * which conntrack, writing them as compound literals, leaves undefined. */
static inline bool
fold_ct_orig_tuple_equals(const struct pkt_metadata *a,
                          const struct fold_guard_extra *b, bool ipv6)
{
    if (ipv6) {
        const struct ovs_key_ct_tuple_ipv6 *x = &a->ct_orig_tuple.ipv6;
        const struct ovs_key_ct_tuple_ipv6 *y = &b->ct_orig_tuple.ipv6;

        return ipv6_addr_equals(&x->ipv6_src, &y->ipv6_src)
               && ipv6_addr_equals(&x->ipv6_dst, &y->ipv6_dst)
               && x->src_port == y->src_port && x->dst_port == y->dst_port
               && x->ipv6_proto == y->ipv6_proto;
    } else {
        const struct ovs_key_ct_tuple_ipv4 *x = &a->ct_orig_tuple.ipv4;
        const struct ovs_key_ct_tuple_ipv4 *y = &b->ct_orig_tuple.ipv4;

        return x->ipv4_src == y->ipv4_src && x->ipv4_dst == y->ipv4_dst
               && x->src_port == y->src_port && x->dst_port == y->dst_port
               && x->ipv4_proto == y->ipv4_proto;
    }
}

/* Returns true if 'packet' is in the state that guard 'g' of 'chain'
 * recorded. */
static inline bool
fold_guard_holds(const struct fold_chain *chain, const struct fold_guard *g,
                 const struct dp_packet *packet)
{
    const struct pkt_metadata *md = &packet->md;
    const struct fold_guard_extra *x;

    if (md->ct_state != g->ct_state || md->ct_zone != g->ct_zone
        || md->ct_mark != g->ct_mark
        || !ovs_u128_equals(md->ct_label, g->ct_label)) {
        return false;
    }
    if (!md->ct_state) {
        return true;
    }
    x = fold_guard_extra(chain, g);
    if (!x) {
        /* The same connection gave the same tuple. */
        return md->conn == g->ct.conn;
    }
    if (md->ct_orig_tuple_ipv6 != g->ct_orig_tuple_ipv6
        || !fold_ct_orig_tuple_equals(md, x, md->ct_orig_tuple_ipv6)) {
        return false;
    }
    if (g->nat) {
        struct fold_tuple t;

        fold_tuple_from_packet(packet, &t);
        if (memcmp(&t, &x->nat_tuple, sizeof t)) {
            return false;
        }
    }
    return true;
}

/* Returns the full key of the stream of 'chain': its own copy for a digest
 * cache key, else the cache key unpacked into 'buf'. */
static inline const struct fp_stream_key *
fold_chain_key(const struct fold_chain *chain, struct fp_stream_key *buf)
{
    if (chain->key) {
        return chain->key;
    }
    fp_stream_ckey_unpack(&chain->entry->key, htons(FOLD_VXLAN_PORT), buf);
    return buf;
}

/* Returns true if the chain of a cache entry found for a packet with full
 * key 'key' is that packet's stream: always for a packed cache key, after
 * comparing the full keys for a digest. */
static inline bool
fold_chain_matches(const struct fold_chain *chain,
                   const struct fp_stream_key *key)
{
    return !chain->key || fp_stream_key_equal(chain->key, key);
}

/* Chains and paths (dpif-netdev-fold.c). */

/* Drops a chain's reference to 'path', and frees it with the last one. */
void fold_path_unref(struct dp_netdev_pmd_fold *f, struct fold_path *path);

/* Marks 'path' stale, for good: no new chain shares it. */
void fold_path_set_stale(struct dp_netdev_pmd_fold *f,
                         struct fold_path *path);

/* Returns true if every megaflow of 'path' is alive with the actions learnt;
 * marks 'path' stale, for good, otherwise. */
bool fold_path_valid(struct dp_netdev_pmd_fold *f, struct fold_path *path);

/* The PMD's side of offload (dpif-netdev-fold-offload-pmd.c).  All of these
 * run on the PMD that owns 'pmd' or 'f'. */

/* Offers the chain of 'entry' to the NIC if the offload policy allows: if
 * the chain can be described as a rule, it is handed to the offload thread
 * and put in 'offloaded'; otherwise it is marked refused, with a log line. */
void fold_offload_consider(struct dp_netdev_pmd_thread *pmd,
                           struct fp_flowcache_entry *entry);

/* Takes 'chain' out of 'offloaded' and gives up its offload: the offload
 * thread destroys its rule. */
void fold_offload_detach(struct dp_netdev_pmd_fold *f,
                         struct fold_chain *chain);

/* Gives up the offload of 'chain', whose rule the offload thread destroys;
 * until then 'f' keeps what the accounting of the rule's last packets
 * needs. */
void fold_offload_drain(struct dp_netdev_pmd_fold *f,
                        struct fold_chain *chain);

/* Accounts the last packets of the rules the offload thread has destroyed,
 * and forgets them; with 'all' (the PMD is going away), forgets every rule,
 * accounted or not. */
void fold_offload_drain_run(struct dp_netdev_pmd_thread *pmd, bool all);

/* Chains' memory (dpif-netdev-fold.c): see struct fold_slab. */
struct fold_chain *fold_chain_alloc(struct dp_netdev_pmd_fold *,
                                    size_t n_guards, size_t n_extras);
size_t fold_chain_bytes(const struct fold_chain *);

/* Checks the offloaded chains of 'pmd' whose time has come, at most
 * FOLD_OFFLOAD_CHECK_BUDGET of them: a chain whose megaflows changed,
 * whose connection is gone or whose rule aged is removed, with its rule;
 * what the NIC forwarded is added to the megaflows. */
void fold_offload_check(struct dp_netdev_pmd_thread *pmd);

#endif /* dpif-netdev-private-fold.h */
