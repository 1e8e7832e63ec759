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

#include <config.h>

#include "dpif-netdev-fold.h"
#include "dpif-netdev-fold-offload.h"

#include <errno.h>
#include <string.h>

#include <rte_errno.h>

#include "conntrack.h"
#include "coverage.h"
#include "ct-dpif.h"
#include "dp-packet.h"
#include "dpif-netdev-perf.h"
#include "dpif-netdev-private-dpif.h"
#include "dpif-netdev-private.h"
#include "flow.h"
#include "hash.h"
#include "netdev-native-tnl.h"
#include "netlink.h"
#include "odp-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "packets.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"

#include "fp_flowcache.h"
#include "fp_pkt.h"

VLOG_DEFINE_THIS_MODULE(dpif_netdev_fold);

COVERAGE_DEFINE(datapath_fold_drop_invalid_tnl_port);

/* Most datapath passes a chain folds: one more than the recirculation
 * limit of dpif-netdev. */
#define FOLD_MAX_PASSES 8

/* Defaults and limits of the configuration keys. */
#define FOLD_DEFAULT_MAX_STREAMS 131072
#define FOLD_MIN_MAX_STREAMS 1024
#define FOLD_MAX_MAX_STREAMS (16 * 1024 * 1024)
#define FOLD_DEFAULT_INSERT_AFTER 2
#define FOLD_MAX_INSERT_AFTER 100

/* Entries unused for this long are aged out, like idle megaflows. */
#define FOLD_IDLE_MS 10000
/* A refused stream is not traced again for this long. */
#define FOLD_REFUSAL_TTL_MS 2000
/* Entry slots the PMD sweeps per periodic call. */
#define FOLD_SWEEP_BUDGET 256
/* How long the main thread waits for a PMD to answer a request. */
#define FOLD_REQUEST_TIMEOUT_MS 2000

/* A port whose input batches had nothing to fold, FOLD_QUIET_BATCHES of
 * them in a row, is not looked up for FOLD_QUIET_MS: single-pass traffic,
 * such as a plain phy to vhost-user forward, then costs no parsing and no
 * lookup.  One batch is looked at after each quiet period. */
#define FOLD_QUIET_PORTS 64
#define FOLD_QUIET_BATCHES 64
#define FOLD_QUIET_MS 100

/* UDP port that marks VXLAN to the parser (IANA's). */
#define FOLD_VXLAN_PORT 4789

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
    FOLD_N_REFUSALS
};

static const char *const fold_refusal_names[FOLD_N_REFUSALS] = {
    [FOLD_REFUSE_SINGLE_PASS] = "single-pass",
    [FOLD_REFUSE_UPCALL] = "upcall",
    [FOLD_REFUSE_INCOMPLETE] = "incomplete",
    [FOLD_REFUSE_TOO_LONG] = "too-long",
    [FOLD_REFUSE_ACTION] = "action",
    [FOLD_REFUSE_TUNNEL] = "tunnel",
    [FOLD_REFUSE_SHAPE] = "shape",
    [FOLD_REFUSE_LINK] = "link",
    [FOLD_REFUSE_FLOW_CHANGED] = "flow-changed",
    [FOLD_REFUSE_CT_NEW] = "ct-new",
};

/* Refusals that will not change by themselves: such a stream gets a
 * negative entry, so its next packets are not traced again at once.
 *
 * "ct-new" is special.  A packet that conntrack sees as +new is usually
 * the first of its connection: the next one will be +est, and a chain
 * learnt now would fail its guard at once.  So the stream gets a negative
 * entry that does not stop tracing; if the next packet is +new again (a
 * one-way UDP stream stays +new), its chain is folded. */
static bool
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

/* A packet's conntrack state at a pass boundary.  The next pass's megaflow
 * may match any of it, so a folded packet must have the same. */
struct fold_guard {
    uint8_t ct_state;
    bool ct_orig_tuple_ipv6;
    uint16_t ct_zone;
    uint32_t ct_mark;
    ovs_u128 ct_label;
    union {
        struct ovs_key_ct_tuple_ipv4 ipv4;
        struct ovs_key_ct_tuple_ipv6 ipv6;
    } ct_orig_tuple;
    bool nat;                   /* True if ct NATed the packet. */
    struct fold_tuple nat_tuple;
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
};

/* The passes of a folded chain, shared by every stream that takes the same
 * megaflows: the hits of all of them in an input batch run as one batch,
 * as they would in the normal pipeline. */
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
 * elements is a negative entry: a refused stream. */
struct fold_chain {
    uint8_t n_elems;
    uint8_t refusal;              /* enum fold_refusal, if n_elems == 0. */
    bool doomed;                  /* Remove after the current batch. */
    uint32_t size;                /* Bytes allocated for the chain. */
    uint32_t created;             /* Clock (ms) when learnt. */
    struct fold_path *path;       /* NULL if n_elems == 0. */
    struct fp_flowcache_entry *entry;
    uint16_t tcp_flags[FOLD_MAX_PASSES];  /* Per pass, for statistics. */
    /* Offload (dpif-netdev-fold-offload.h).  'offload' is NULL until the
     * stream is offered to the NIC; while it is being installed or is
     * installed, the chain is in 'offloaded' of the PMD. */
    struct fold_offload *offload;
    struct ovs_list offload_node;
    bool offload_refused;         /* The chain cannot be a rule. */
    uint32_t offload_after;       /* Clock (ms) to offer it again. */
    /* The RSS hash of the stream's packets at its last pass, from which a
     * tnl_push takes the outer UDP source port; and that port, in the
     * rule of an offloaded egress stream. */
    bool rss_known;
    uint32_t rss_hash;
    ovs_be16 offload_udp_src;
    struct fold_guard guards[];   /* Per guarded pass of 'path'. */
};

/* The hits of one path in an input batch, and the chain of each packet. */
struct fold_batch {
    struct fold_path *path;
    struct dp_packet_batch packets;
    struct fold_chain *chains[NETDEV_MAX_BURST];
};

/* A pass recorded for a traced packet. */
struct fold_trace_elem {
    struct dp_netdev_flow *flow;
    bool guarded;               /* The boundary state below was taken. */
    struct fold_guard guard;
};

/* A packet that missed the fold cache, followed through the pipeline. */
struct fold_trace {
    const struct dp_packet *packet;
    struct fp_stream_key key;
    uint32_t hash;
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
    uint64_t quiet;             /* Packets of quiet ports, not looked up. */
    uint64_t offload_now;       /* Chains in 'offloaded' now. */
    uint64_t offload_offered;   /* Streams handed to the offload thread. */
    uint64_t offload_refused;   /* Streams a rule cannot express. */
    uint64_t offload_removed;   /* Offloaded chains removed. */
    uint64_t offload_packets;   /* Packets forwarded by the NIC. */
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

struct dp_netdev_pmd_fold {
    const struct dp_netdev_fold *cfg;   /* The datapath's configuration. */
    struct fp_flowcache *cache;     /* NULL while folding is off. */
    uint32_t max_streams;           /* Parameters of 'cache'. */
    uint32_t insert_after;

    unsigned int n_traces;
    struct fold_trace traces[NETDEV_MAX_BURST];

    struct hmap paths;              /* Contains "struct fold_path"s. */

    struct fold_quiet_port quiet[FOLD_QUIET_PORTS];

    /* Offload: chains offered to the NIC (see 'struct fold_chain'), and the
     * policy, read at each periodic call. */
    struct ovs_list offloaded;
    struct ovs_list draining;       /* Contains "struct fold_drain"s. */
    bool offload_on;
    struct fold_offload_policy offload_policy;
    long long int offload_next_check;   /* pmd->ctx.now, in us. */

    struct fold_stats stats;

    /* A request (enum fold_request): the requester sets 'request' last,
     * with release ordering; the PMD answers in 'reply' and resets
     * 'request' with release ordering. */
    atomic_uint32_t request;
    size_t dump_limit;
    struct ds reply;
};

struct dp_netdev_fold {
    atomic_bool enabled;
    atomic_uint32_t max_streams;
    atomic_uint32_t insert_after;

    /* Last rejected value of each key, so that a bad value is reported
     * once, not on every reconfiguration.  Main thread only. */
    char *bad_enable;
    char *bad_max_streams;
    char *bad_insert_after;
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

/* Names of the actions a chain cannot hold, for fold/show. */
static const char *
fold_action_name(int type)
{
    switch ((enum ovs_action_attr) type) {
    case OVS_ACTION_ATTR_USERSPACE: return "userspace";
    case OVS_ACTION_ATTR_SAMPLE: return "sample";
    case OVS_ACTION_ATTR_PUSH_MPLS: return "push_mpls";
    case OVS_ACTION_ATTR_POP_MPLS: return "pop_mpls";
    case OVS_ACTION_ATTR_TRUNC: return "trunc";
    case OVS_ACTION_ATTR_PUSH_ETH: return "push_eth";
    case OVS_ACTION_ATTR_POP_ETH: return "pop_eth";
    case OVS_ACTION_ATTR_CLONE: return "clone";
    case OVS_ACTION_ATTR_PUSH_NSH: return "push_nsh";
    case OVS_ACTION_ATTR_POP_NSH: return "pop_nsh";
    case OVS_ACTION_ATTR_CHECK_PKT_LEN: return "check_pkt_len";
    case OVS_ACTION_ATTR_ADD_MPLS: return "add_mpls";
    case OVS_ACTION_ATTR_OUTPUT:
    case OVS_ACTION_ATTR_SET:
    case OVS_ACTION_ATTR_PUSH_VLAN:
    case OVS_ACTION_ATTR_POP_VLAN:
    case OVS_ACTION_ATTR_RECIRC:
    case OVS_ACTION_ATTR_HASH:
    case OVS_ACTION_ATTR_TUNNEL_PUSH:
    case OVS_ACTION_ATTR_TUNNEL_POP:
    case OVS_ACTION_ATTR_SET_MASKED:
    case OVS_ACTION_ATTR_CT:
    case OVS_ACTION_ATTR_METER:
    case OVS_ACTION_ATTR_CT_CLEAR:
    case OVS_ACTION_ATTR_LB_OUTPUT:
    case OVS_ACTION_ATTR_DROP:
    case OVS_ACTION_ATTR_UNSPEC:
    case __OVS_ACTION_ATTR_MAX:
    default:
        return "other";
    }
}

/* Configuration. */

struct dp_netdev_fold *
dp_netdev_fold_create(void)
{
    struct dp_netdev_fold *fold = xzalloc(sizeof *fold);

    atomic_init(&fold->enabled, true);
    atomic_init(&fold->max_streams, FOLD_DEFAULT_MAX_STREAMS);
    atomic_init(&fold->insert_after, FOLD_DEFAULT_INSERT_AFTER);
    ds_init(&fold->errors);
    return fold;
}

void
dp_netdev_fold_destroy(struct dp_netdev_fold *fold)
{
    if (fold) {
        free(fold->bad_enable);
        free(fold->bad_max_streams);
        free(fold->bad_insert_after);
        ds_destroy(&fold->errors);
        free(fold);
    }
}

/* Records that 'value' of 'key' was rejected because of 'reason' and that
 * 'current' stays in force.  Warns once per distinct bad value. */
static void
fold_config_reject(struct dp_netdev_fold *fold, char **last_bad,
                   const char *key, const char *value, const char *reason,
                   const char *current)
{
    if (!*last_bad || strcmp(*last_bad, value)) {
        VLOG_WARN("other_config:%s: '%s' %s; keeping %s.",
                  key, value, reason, current);
        free(*last_bad);
        *last_bad = xstrdup(value);
    }
    ds_put_format(&fold->errors, "%s: '%s' %s; keeping %s\n",
                  key, value, reason, current);
}

/* Parses an unsigned integer config value in [min, max] for 'key'. */
static void
fold_config_uint(struct dp_netdev_fold *fold, const struct smap *cfg,
                 const char *key, char **last_bad, atomic_uint32_t *dst,
                 uint32_t def, uint32_t min, uint32_t max)
{
    const char *value = smap_get(cfg, key);
    unsigned int cur, n;

    atomic_read_relaxed(dst, &cur);
    if (!value) {
        n = def;
    } else if (!str_to_uint(value, 10, &n) || n < min || n > max) {
        char reason[80], current[16];

        snprintf(reason, sizeof reason,
                 "is not an integer from %"PRIu32" to %"PRIu32, min, max);
        snprintf(current, sizeof current, "%u", cur);
        fold_config_reject(fold, last_bad, key, value, reason, current);
        return;
    }
    free(*last_bad);
    *last_bad = NULL;
    if (n != cur) {
        atomic_store_relaxed(dst, n);
        VLOG_INFO("%s set to %u.", key, n);
    }
}

void
dp_netdev_fold_set_config(struct dp_netdev_fold *fold,
                          const struct smap *cfg)
{
    const char *enable = smap_get_def(cfg, "fold-enable", "true");
    bool cur;

    ds_clear(&fold->errors);

    atomic_read_relaxed(&fold->enabled, &cur);
    if (strcmp(enable, "true") && strcmp(enable, "false")) {
        fold_config_reject(fold, &fold->bad_enable, "fold-enable", enable,
                           "is not true or false", cur ? "true" : "false");
    } else {
        bool on = !strcmp(enable, "true");

        free(fold->bad_enable);
        fold->bad_enable = NULL;
        if (on != cur) {
            atomic_store_relaxed(&fold->enabled, on);
            VLOG_INFO("Folding %s.", on ? "enabled" : "disabled");
        }
    }

    fold_config_uint(fold, cfg, "fold-max-streams", &fold->bad_max_streams,
                     &fold->max_streams, FOLD_DEFAULT_MAX_STREAMS,
                     FOLD_MIN_MAX_STREAMS, FOLD_MAX_MAX_STREAMS);
    fold_config_uint(fold, cfg, "fold-insert-after", &fold->bad_insert_after,
                     &fold->insert_after, FOLD_DEFAULT_INSERT_AFTER,
                     1, FOLD_MAX_INSERT_AFTER);
}

void
dp_netdev_fold_show_config(const struct dp_netdev_fold *fold, struct ds *ds)
{
    uint32_t max_streams, insert_after;
    bool enabled;

    atomic_read_relaxed(&CONST_CAST(struct dp_netdev_fold *, fold)->enabled,
                        &enabled);
    atomic_read_relaxed(
        &CONST_CAST(struct dp_netdev_fold *, fold)->max_streams,
        &max_streams);
    atomic_read_relaxed(
        &CONST_CAST(struct dp_netdev_fold *, fold)->insert_after,
        &insert_after);
    ds_put_format(ds, "fold-enable=%s fold-max-streams=%"PRIu32
                  " fold-insert-after=%"PRIu32"\n",
                  enabled ? "true" : "false", max_streams, insert_after);
    if (fold->errors.length) {
        ds_put_cstr(ds, "configuration errors:\n");
        ds_put_cstr(ds, ds_cstr_ro(&fold->errors));
    }
}

/* Chains. */

static void fold_offload_drain(struct dp_netdev_pmd_fold *,
                               struct fold_chain *);
static void fold_offload_drain_run(struct dp_netdev_pmd_thread *, bool all);

static void
fold_path_unref(struct dp_netdev_pmd_fold *f, struct fold_path *path)
{
    if (--path->n_refs) {
        return;
    }
    if (path->interned) {
        hmap_remove(&f->paths, &path->node);
    }
    fold_count(&f->stats.path_bytes, -(uint64_t) path->size);
    fold_count(&f->stats.paths, -(uint64_t) 1);
    for (int i = 0; i < path->n_elems; i++) {
        dp_netdev_flow_unref(path->elems[i].flow);
        free(path->elems[i].actions);
    }
    free(path);
}

static void
fold_chain_free(struct dp_netdev_pmd_fold *f, struct fold_chain *chain)
{
    if (chain->offload) {
        /* The stream's rule must not outlive the chain. */
        ovs_list_remove(&chain->offload_node);
        fold_offload_drain(f, chain);
        fold_count(&f->stats.offload_removed, 1);
        fold_count(&f->stats.offload_now, -(uint64_t) 1);
    }
    fold_count(&f->stats.chain_bytes, -(uint64_t) chain->size);
    if (chain->path) {
        fold_path_unref(f, chain->path);
    }
    free(chain);
}

static void
fold_value_free(void *value, void *f)
{
    fold_chain_free(f, value);
}

/* Returns true if every megaflow of 'path' is alive and still has the
 * actions learnt.  Compares the bytes, not the pointers: a pointer could
 * have been freed and reused for other actions.  Once a path is found
 * stale, it stays stale, and no new chain shares it. */
static bool
fold_path_valid(struct dp_netdev_pmd_fold *f, struct fold_path *path)
{
    if (OVS_UNLIKELY(path->stale)) {
        return false;
    }
    for (int i = 0; i < path->n_elems; i++) {
        const struct fold_elem *e = &path->elems[i];
        const struct dp_netdev_actions *actions;

        if (OVS_UNLIKELY(e->flow->dead)) {
            goto stale;
        }
        actions = dp_netdev_flow_get_actions(e->flow);
        if (OVS_UNLIKELY(actions->size != e->actions_len
                         || memcmp(actions->actions, e->actions,
                                   e->actions_len))) {
            goto stale;
        }
    }
    return true;

stale:
    path->stale = true;
    if (path->interned) {
        hmap_remove(&f->paths, &path->node);
        path->interned = false;
    }
    return false;
}

static bool
fold_value_stale(void *value, void *f)
{
    struct fold_chain *chain = value;

    return chain->path && !fold_path_valid(f, chain->path);
}

/* PMD life cycle. */

/* How often a PMD checks its offloaded chains: that their megaflows and
 * connections are still there, and what the NIC forwarded for them. */
#define FOLD_OFFLOAD_CHECK_US 10000
/* A stream whose rule could not be created for now is offered again after
 * this long. */
#define FOLD_OFFLOAD_RETRY_MS 1000

static void fold_offload_check(struct dp_netdev_pmd_thread *);
static void fold_offload_detach(struct dp_netdev_pmd_fold *,
                                struct fold_chain *);

static void
fold_pmd_create_cache(struct dp_netdev_pmd_fold *f, uint32_t max_streams,
                      uint32_t insert_after)
{
    struct fp_flowcache_params params = {
        .capacity = max_streams,
        .idle_ms = FOLD_IDLE_MS,
        .insert_after = insert_after,
        .value_free = fold_value_free,
        .aux = f,
    };

    f->cache = fp_flowcache_create(&params);
    if (!f->cache) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        VLOG_WARN_RL(&rl, "Cannot create a fold cache of %"PRIu32
                     " streams: %s.  Folding is off on this PMD.",
                     max_streams, ovs_strerror(rte_errno));
    }
    f->max_streams = max_streams;
    f->insert_after = insert_after;
}

static void
fold_pmd_destroy_cache(struct dp_netdev_pmd_thread *pmd)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;

    f->n_traces = 0;
    pmd->fold_tracing = false;
    memset(f->quiet, 0, sizeof f->quiet);
    fp_flowcache_free(f->cache);
    f->cache = NULL;
}

void
dp_netdev_fold_pmd_init(struct dp_netdev_pmd_thread *pmd,
                        const struct dp_netdev_fold *cfg)
{
    struct dp_netdev_pmd_fold *f = xzalloc(sizeof *f);

    f->cfg = cfg;
    hmap_init(&f->paths);
    ovs_list_init(&f->offloaded);
    ovs_list_init(&f->draining);
    atomic_init(&f->request, FOLD_REQ_NONE);
    ds_init(&f->reply);
    pmd->fold = f;
    pmd->fold_tracing = false;
    dp_netdev_fold_pmd_periodic(pmd);
}

void
dp_netdev_fold_pmd_uninit(struct dp_netdev_pmd_thread *pmd)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;

    if (f) {
        fold_pmd_destroy_cache(pmd);
        fold_offload_drain_run(pmd, true);
        ovs_assert(hmap_is_empty(&f->paths));
        hmap_destroy(&f->paths);
        ds_destroy(&f->reply);
        free(f);
        pmd->fold = NULL;
    }
}

/* Formats the streams of 'f', at most 'limit' of them, into 'ds'. */
static void
fold_dump_streams(struct dp_netdev_pmd_thread *pmd, size_t limit,
                  struct ds *ds)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    uint32_t now = fold_now_ms(pmd);
    struct fp_flowcache_entry *e;
    struct fp_flowcache_stats s;
    size_t shown = 0;
    uint32_t pos = 0;

    if (!f->cache) {
        ds_put_cstr(ds, "  folding is off\n");
        return;
    }
    fp_flowcache_stats_get(f->cache, &s);
    while (shown < limit && (e = fp_flowcache_next(f->cache, &pos))) {
        const struct fold_chain *chain = e->value;
        char key[512];

        fp_stream_key_format(&e->key, key, sizeof key);
        ds_put_format(ds, "  stream %s\n    hits:%"PRIu64", idle:%.1fs",
                      key, e->hits, (int32_t) (now - e->last_used) / 1000.0);
        if (!chain->n_elems) {
            ds_put_format(ds, ", refused: %s\n",
                          fold_refusal_names[chain->refusal]);
        } else {
            ds_put_format(ds, ", passes:%d\n", chain->n_elems);
        }
        for (int i = 0; i < chain->n_elems; i++) {
            const struct fold_elem *el = &chain->path->elems[i];
            const struct fold_guard *guard = &chain->guards[el->guard_idx];

            ds_put_format(ds, "    pass %d: ", i + 1);
            odp_format_ufid(&el->flow->ufid, ds);
            ds_put_cstr(ds, ", actions:");
            format_odp_actions(ds, el->actions, el->actions_len, NULL);
            if (el->guarded) {
                ds_put_cstr(ds, ", guard:ct_state(");
                format_flags(ds, ct_state_to_string, guard->ct_state, '|');
                ds_put_format(ds, "),ct_zone(%"PRIu16"),ct_mark(%#"PRIx32")",
                              guard->ct_zone, guard->ct_mark);
                if (guard->nat) {
                    ds_put_cstr(ds, ",nat");
                }
            }
            ds_put_char(ds, '\n');
        }
        shown++;
    }
    if (s.entries > shown) {
        ds_put_format(ds, "  (%"PRIu32" more streams not shown)\n",
                      s.entries - (uint32_t) shown);
    }
}

/* Applies the datapath configuration to the PMD's cache and answers a
 * pending request.  Also ages the cache a little.  Called by the PMD
 * thread, at start and periodically. */
void
dp_netdev_fold_pmd_periodic(struct dp_netdev_pmd_thread *pmd)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    struct dp_netdev_fold *cfg;
    uint32_t max_streams, insert_after, request;
    bool enabled;

    if (!f) {
        return;
    }
    cfg = CONST_CAST(struct dp_netdev_fold *, f->cfg);
    atomic_read_relaxed(&cfg->enabled, &enabled);
    atomic_read_relaxed(&cfg->max_streams, &max_streams);
    atomic_read_relaxed(&cfg->insert_after, &insert_after);

    if (!enabled) {
        if (f->cache) {
            fold_pmd_destroy_cache(pmd);
        }
    } else if (!f->cache || f->max_streams != max_streams
               || f->insert_after != insert_after) {
        fold_pmd_destroy_cache(pmd);
        fold_pmd_create_cache(f, max_streams, insert_after);
    }

    f->offload_on = f->cache && dp_netdev_fold_offload_enabled();
    dp_netdev_fold_offload_policy(&f->offload_policy);
    if (!f->offload_on && !ovs_list_is_empty(&f->offloaded)) {
        /* fold-offload turned off: the streams go back to software. */
        struct fold_chain *chain;

        LIST_FOR_EACH_SAFE (chain, offload_node, &f->offloaded) {
            fold_offload_detach(f, chain);
        }
    }
    if ((!ovs_list_is_empty(&f->offloaded)
         || !ovs_list_is_empty(&f->draining))
        && pmd->ctx.now >= f->offload_next_check) {
        f->offload_next_check = pmd->ctx.now + FOLD_OFFLOAD_CHECK_US;
        if (f->cache) {
            fold_offload_check(pmd);
        }
        fold_offload_drain_run(pmd, false);
    }
    if (f->cache) {
        fp_flowcache_sweep(f->cache, fold_now_ms(pmd), FOLD_SWEEP_BUDGET,
                           fold_value_stale, f);
    }

    atomic_read_explicit(&f->request, &request, memory_order_acquire);
    if (request != FOLD_REQ_NONE) {
        ds_clear(&f->reply);
        if (request == FOLD_REQ_FLUSH) {
            if (f->cache) {
                struct fp_flowcache_stats s;

                fp_flowcache_stats_get(f->cache, &s);
                fp_flowcache_flush(f->cache);
                memset(f->quiet, 0, sizeof f->quiet);
                ds_put_format(&f->reply, "flushed %"PRIu32" streams\n",
                              s.entries);
            } else {
                ds_put_cstr(&f->reply, "folding is off\n");
            }
        } else if (request == FOLD_REQ_DUMP) {
            fold_dump_streams(pmd, f->dump_limit, &f->reply);
        }
        atomic_store_explicit(&f->request, FOLD_REQ_NONE,
                              memory_order_release);
    }
}

/* Posts 'request' to 'pmd' and waits for its answer, which is appended to
 * 'ds'.  Called by the main thread. */
static void
fold_request(struct dp_netdev_pmd_thread *pmd, enum fold_request request,
             struct ds *ds)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    long long deadline;
    uint32_t pending;

    if (!f) {
        ds_put_cstr(ds, "  no fold state (not a PMD thread)\n");
        return;
    }
    atomic_store_explicit(&f->request, request, memory_order_release);
    deadline = time_msec() + FOLD_REQUEST_TIMEOUT_MS;
    for (;;) {
        atomic_read_explicit(&f->request, &pending, memory_order_acquire);
        if (pending == FOLD_REQ_NONE) {
            ds_put_cstr(ds, ds_cstr_ro(&f->reply));
            return;
        }
        if (time_msec() > deadline) {
            /* Leave the request posted: the PMD answers it once it polls
             * again, and nobody reads the answer. */
            ds_put_format(ds, "  no answer within %d ms (the PMD polls no "
                          "queue, or is busy reloading)\n",
                          FOLD_REQUEST_TIMEOUT_MS);
            return;
        }
        xnanosleep(1000 * 1000);
    }
}

static void
fold_format_pmd(struct ds *ds, const struct dp_netdev_pmd_thread *pmd)
{
    ds_put_format(ds, "pmd thread numa_id %d core_id %u:\n",
                  pmd->numa_id, pmd->core_id);
}

void
dp_netdev_fold_dump(struct dp_netdev_pmd_thread *pmd, size_t limit,
                    struct ds *ds)
{
    fold_format_pmd(ds, pmd);
    if (pmd->fold) {
        pmd->fold->dump_limit = limit;
    }
    fold_request(pmd, FOLD_REQ_DUMP, ds);
}

void
dp_netdev_fold_flush(struct dp_netdev_pmd_thread *pmd, struct ds *ds)
{
    fold_format_pmd(ds, pmd);
    fold_request(pmd, FOLD_REQ_FLUSH, ds);
}

void
dp_netdev_fold_show(struct dp_netdev_pmd_thread *pmd, struct ds *ds)
{
    const struct dp_netdev_pmd_fold *f = pmd->fold;
    const struct fold_stats *st;
    struct fp_flowcache_stats s;
    uint64_t hits, misses, total;
    bool any;

    fold_format_pmd(ds, pmd);
    if (!f) {
        ds_put_cstr(ds, "  no fold state\n");
        return;
    }
    st = &f->stats;
    if (f->cache) {
        fp_flowcache_stats_get(f->cache, &s);
        ds_put_format(ds, "  streams: %"PRIu32" of %"PRIu32"\n",
                      s.entries, s.capacity);
    } else {
        memset(&s, 0, sizeof s);
        ds_put_cstr(ds, "  streams: folding is off\n");
    }
    hits = fold_read(&st->hits);
    misses = fold_read(&st->misses);
    total = hits + misses + fold_read(&st->negative_hits);
    ds_put_format(ds, "  hits: %"PRIu64" (%.1f%%)\n", hits,
                  total ? 100.0 * hits / total : 0.0);
    ds_put_format(ds, "  misses: %"PRIu64"\n", misses);
    ds_put_format(ds, "  refused-stream hits: %"PRIu64"\n",
                  fold_read(&st->negative_hits));
    ds_put_format(ds, "  quiet-port packets: %"PRIu64"\n",
                  fold_read(&st->quiet));
    ds_put_format(ds, "  inserts: %"PRIu64"\n", fold_read(&st->inserts));
    ds_put_format(ds, "  guard failures: %"PRIu64"\n",
                  fold_read(&st->guard_failures));
    ds_put_format(ds, "  invalidations: %"PRIu64" (%"PRIu64" found by "
                  "packets, %"PRIu64" by the sweep)\n",
                  fold_read(&st->invalidations) + s.stale,
                  fold_read(&st->invalidations), s.stale);
    ds_put_format(ds, "  memory: %"PRIuSIZE" bytes per entry, %"PRIu64
                  " bytes of chains", sizeof(struct fp_flowcache_entry),
                  fold_read(&st->chain_bytes));
    if (s.entries) {
        ds_put_format(ds, " (%"PRIu64" per stream)",
                      fold_read(&st->chain_bytes) / s.entries);
    }
    ds_put_format(ds, ", %"PRIu64" bytes of %"PRIu64" shared paths\n",
                  fold_read(&st->path_bytes), fold_read(&st->paths));
    ds_put_format(ds, "  evictions: %"PRIu64", aged: %"PRIu64
                  ", deferred: %"PRIu64"\n",
                  s.evicted, s.aged, s.deferred);
    ds_put_format(ds, "  offload: %"PRIu64" streams offered now, %"PRIu64
                  " in total, %"PRIu64" removed, %"PRIu64" not expressible"
                  ", %"PRIu64" packets forwarded by the NIC\n",
                  fold_read(&st->offload_now),
                  fold_read(&st->offload_offered),
                  fold_read(&st->offload_removed),
                  fold_read(&st->offload_refused),
                  fold_read(&st->offload_packets));

    ds_put_cstr(ds, "  refused:");
    any = false;
    for (int r = 0; r < FOLD_N_REFUSALS; r++) {
        uint64_t n = fold_read(&st->refused[r]);

        /* Refused actions are shown by action type below. */
        if (n && r != FOLD_REFUSE_ACTION) {
            ds_put_format(ds, " %s=%"PRIu64, fold_refusal_names[r], n);
            any = true;
        }
    }
    for (int a = 0; a < __OVS_ACTION_ATTR_MAX; a++) {
        uint64_t n = fold_read(&st->refused_action[a]);

        if (n) {
            ds_put_format(ds, " action(%s)=%"PRIu64,
                          fold_action_name(a), n);
            any = true;
        }
    }
    ds_put_cstr(ds, any ? "\n" : " none\n");

    ds_put_cstr(ds, "  not parsed:");
    any = false;
    for (int v = 1; v < FP_PKT_VERDICT_MAX; v++) {
        uint64_t n = fold_read(&st->not_parsed[v]);

        if (n) {
            ds_put_format(ds, " %s=%"PRIu64, fp_pkt_verdict_name(v), n);
            any = true;
        }
    }
    ds_put_cstr(ds, any ? "\n" : " none\n");
}

/* Guards. */

/* Reads the IP addresses and ports of 'packet' at its current layer
 * offsets. */
static void
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

static void
fold_guard_from_packet(const struct dp_packet *packet, struct fold_guard *g)
{
    const struct pkt_metadata *md = &packet->md;

    memset(g, 0, sizeof *g);
    g->ct_state = md->ct_state;
    g->ct_zone = md->ct_zone;
    g->ct_mark = md->ct_mark;
    g->ct_label = md->ct_label;
    if (md->ct_state) {
        g->ct_orig_tuple_ipv6 = md->ct_orig_tuple_ipv6;
        if (md->ct_orig_tuple_ipv6) {
            g->ct_orig_tuple.ipv6 = md->ct_orig_tuple.ipv6;
        } else {
            g->ct_orig_tuple.ipv4 = md->ct_orig_tuple.ipv4;
        }
    }
    if (md->ct_state & (CS_SRC_NAT | CS_DST_NAT)) {
        g->nat = true;
        fold_tuple_from_packet(packet, &g->nat_tuple);
    }
}

/* Returns true if 'packet' is in the state 'g' recorded. */
static bool
fold_guard_holds(const struct fold_guard *g, const struct dp_packet *packet)
{
    const struct pkt_metadata *md = &packet->md;

    if (md->ct_state != g->ct_state || md->ct_zone != g->ct_zone
        || md->ct_mark != g->ct_mark
        || !ovs_u128_equals(md->ct_label, g->ct_label)) {
        return false;
    }
    if (md->ct_state) {
        if (md->ct_orig_tuple_ipv6 != g->ct_orig_tuple_ipv6
            || (md->ct_orig_tuple_ipv6
                ? memcmp(&md->ct_orig_tuple.ipv6, &g->ct_orig_tuple.ipv6,
                         sizeof g->ct_orig_tuple.ipv6)
                : memcmp(&md->ct_orig_tuple.ipv4, &g->ct_orig_tuple.ipv4,
                         sizeof g->ct_orig_tuple.ipv4))) {
            return false;
        }
    }
    if (g->nat) {
        struct fold_tuple t;

        fold_tuple_from_packet(packet, &t);
        if (memcmp(&t, &g->nat_tuple, sizeof t)) {
            return false;
        }
    }
    return true;
}

/* Tracing. */

static struct fold_trace *
fold_trace_find(struct dp_netdev_pmd_fold *f, const struct dp_packet *packet)
{
    for (unsigned int i = 0; i < f->n_traces; i++) {
        if (f->traces[i].packet == packet) {
            return &f->traces[i];
        }
    }
    return NULL;
}

void
dp_netdev_fold_trace_pass(struct dp_netdev_pmd_thread *pmd,
                          const struct dp_packet_batch *batch,
                          struct dp_netdev_flow *flow)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    struct dp_packet *packet;

    DP_PACKET_BATCH_FOR_EACH (i, packet, batch) {
        struct fold_trace *t = fold_trace_find(f, packet);

        if (t) {
            if (t->n_elems < FOLD_MAX_PASSES) {
                struct fold_trace_elem *e = &t->elems[t->n_elems++];

                e->flow = flow;
                e->guarded = false;
            } else {
                t->overflow = true;
            }
        }
    }
}

void
dp_netdev_fold_trace_upcall(struct dp_netdev_pmd_thread *pmd,
                            const struct dp_packet *packet)
{
    struct fold_trace *t = fold_trace_find(pmd->fold, packet);

    if (t) {
        t->upcall = true;
    }
}

void
dp_netdev_fold_trace_boundary(struct dp_netdev_pmd_thread *pmd,
                              const struct dp_packet_batch *batch)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    struct dp_packet *packet;

    DP_PACKET_BATCH_FOR_EACH (i, packet, batch) {
        struct fold_trace *t = fold_trace_find(f, packet);

        if (t && t->n_elems && t->n_elems <= FOLD_MAX_PASSES) {
            struct fold_trace_elem *e = &t->elems[t->n_elems - 1];

            fold_guard_from_packet(packet, &e->guard);
            e->guarded = true;
        }
    }
}

/* Learning. */

/* Returns true if 'path' has the 'n' passes 'elems' and the other
 * properties given. */
static bool
fold_path_equals(const struct fold_path *path, const struct fold_elem *elems,
                 int n, bool needs_rss, uint16_t l3_ofs, uint16_t l4_ofs)
{
    if (path->n_elems != n || path->needs_rss != needs_rss
        || path->inner_l3_ofs != l3_ofs || path->inner_l4_ofs != l4_ofs) {
        return false;
    }
    for (int i = 0; i < n; i++) {
        const struct fold_elem *a = &path->elems[i], *b = &elems[i];

        if (a->flow != b->flow || a->actions_len != b->actions_len
            || memcmp(a->actions, b->actions, a->actions_len)
            || a->body_len != b->body_len || a->terminal != b->terminal
            || a->terminal_arg != b->terminal_arg
            || a->guarded != b->guarded || a->guard_idx != b->guard_idx) {
            return false;
        }
    }
    return true;
}

static void
fold_refuse(struct dp_netdev_pmd_thread *pmd, const struct fold_trace *t,
            enum fold_refusal reason)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;

    fold_count(&f->stats.refused[reason], 1);
    if (fold_refusal_is_stable(reason)) {
        struct fold_chain *chain = xzalloc(sizeof *chain);

        chain->refusal = reason;
        chain->size = sizeof *chain;
        fold_count(&f->stats.chain_bytes, chain->size);
        chain->created = fold_now_ms(pmd);
        chain->entry = fp_flowcache_insert(f->cache, &t->key, t->hash, chain,
                                           chain->created);
    }
}

/* Checks the actions of pass 'i' of 'n' of a trace and fills in 'e'.
 * '*layer' is the key layer the pass sees (0: outermost, 1: VXLAN inner)
 * and is updated for the next pass.  Returns true if the pass can be
 * folded; otherwise stores why in '*why' (and the offending action type in
 * '*bad_action' for FOLD_REFUSE_ACTION).
 *
 * Why the key covers every megaflow of an accepted chain: the parser
 * refuses any frame with a header it cannot describe completely, so each
 * flow field a pass can match on the layer it sees is either in the key or
 * zero for every frame the parser accepts.  The other inputs of a match are
 * produced by the chain itself (in_port and tunnel metadata by tnl_pop,
 * recirc_id by recirc, dp_hash by hash) or checked by the guard (ct_*).
 * What the key cannot cover is a pass that looks into a header the parser
 * did not: that is a tnl_pop of anything but the one VXLAN layer it
 * parsed, refused below. */
static bool
fold_check_pass(struct dp_netdev_pmd_thread *pmd,
                const struct fp_stream_key *key, int i, int n,
                const struct dp_netdev_actions *actions,
                struct fold_elem *e, int *layer, bool *needs_rss,
                enum fold_refusal *why, int *bad_action)
{
    const struct nlattr *a;
    bool last_pass = i == n - 1;
    bool has_ct = false;
    unsigned int left;

    e->terminal = FOLD_TERM_NONE;
    e->body_len = actions->size;
    NL_ATTR_FOR_EACH (a, left, actions->actions, actions->size) {
        enum ovs_action_attr type = nl_attr_type(a);
        bool last_action = left <= NLA_ALIGN(a->nla_len);

        switch (type) {
        case OVS_ACTION_ATTR_OUTPUT:
        case OVS_ACTION_ATTR_SET:
        case OVS_ACTION_ATTR_SET_MASKED:
        case OVS_ACTION_ATTR_PUSH_VLAN:
        case OVS_ACTION_ATTR_POP_VLAN:
        case OVS_ACTION_ATTR_METER:
        case OVS_ACTION_ATTR_CT_CLEAR:
        case OVS_ACTION_ATTR_DROP:
        case OVS_ACTION_ATTR_LB_OUTPUT:
            break;

        case OVS_ACTION_ATTR_HASH:
            *needs_rss = true;
            break;

        case OVS_ACTION_ATTR_CT:
            has_ct = true;
            break;

        case OVS_ACTION_ATTR_TUNNEL_PUSH:
            if (!last_pass) {
                /* The next pass would match headers the key does not
                 * hold. */
                *why = FOLD_REFUSE_SHAPE;
                return false;
            }
            *needs_rss = true;
            break;

        case OVS_ACTION_ATTR_TUNNEL_POP:
        case OVS_ACTION_ATTR_RECIRC:
            if (last_pass) {
                *why = FOLD_REFUSE_INCOMPLETE;
                return false;
            }
            if (!last_action) {
                *why = FOLD_REFUSE_SHAPE;
                return false;
            }
            e->terminal = type == OVS_ACTION_ATTR_TUNNEL_POP
                          ? FOLD_TERM_TNL_POP : FOLD_TERM_RECIRC;
            e->terminal_arg = nl_attr_get_u32(a);
            e->body_len = (const uint8_t *) a
                          - (const uint8_t *) actions->actions;
            break;

        case OVS_ACTION_ATTR_UNSPEC:
        case OVS_ACTION_ATTR_USERSPACE:
        case OVS_ACTION_ATTR_SAMPLE:
        case OVS_ACTION_ATTR_PUSH_MPLS:
        case OVS_ACTION_ATTR_POP_MPLS:
        case OVS_ACTION_ATTR_TRUNC:
        case OVS_ACTION_ATTR_PUSH_ETH:
        case OVS_ACTION_ATTR_POP_ETH:
        case OVS_ACTION_ATTR_CLONE:
        case OVS_ACTION_ATTR_PUSH_NSH:
        case OVS_ACTION_ATTR_POP_NSH:
        case OVS_ACTION_ATTR_CHECK_PKT_LEN:
        case OVS_ACTION_ATTR_ADD_MPLS:
        case __OVS_ACTION_ATTR_MAX:
        default:
            *bad_action = type;
            *why = FOLD_REFUSE_ACTION;
            return false;
        }
    }

    if (!last_pass) {
        if (e->terminal == FOLD_TERM_NONE) {
            *why = FOLD_REFUSE_INCOMPLETE;
            return false;
        }
        if (e->terminal == FOLD_TERM_TNL_POP) {
            const char *type = dp_netdev_tunnel_port_type(pmd,
                                                         e->terminal_arg);

            if (has_ct) {
                *why = FOLD_REFUSE_SHAPE;
                return false;
            }
            if (key->shape != FP_PKT_SHAPE_VXLAN || *layer != 0
                || !type || strcmp(type, "vxlan")) {
                *why = FOLD_REFUSE_TUNNEL;
                return false;
            }
            *layer = 1;
        }
    }
    e->guarded = has_ct && !last_pass;
    return true;
}

/* Returns true if the stream of trace 't' was refused as "ct-new" before:
 * it is +new again. */
static bool
fold_seen_new(struct dp_netdev_pmd_thread *pmd, const struct fold_trace *t)
{
    const struct fp_stream_key *key = &t->key;
    struct fp_flowcache_entry *entry;
    const struct fold_chain *chain;

    fp_flowcache_lookup_burst(pmd->fold->cache, &key, &t->hash, 1,
                              fold_now_ms(pmd), &entry);
    if (!entry) {
        return false;
    }
    chain = entry->value;
    return !chain->n_elems && chain->refusal == FOLD_REFUSE_CT_NEW;
}

/* Learns the stream of trace 't': inserts its chain, or records why not. */
static void
fold_learn_one(struct dp_netdev_pmd_thread *pmd, const struct fold_trace *t)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    struct fold_elem elems[FOLD_MAX_PASSES];
    struct fold_guard guards[FOLD_MAX_PASSES];
    uint16_t tcp_flags[FOLD_MAX_PASSES];
    int n_guards = 0;
    enum fold_refusal why = FOLD_REFUSE_SHAPE;
    struct fold_chain *chain;
    struct fold_path *path;
    bool needs_rss = false;
    uint16_t l3_ofs = 0, l4_ofs = 0;
    int bad_action = 0;
    int n = t->n_elems;
    int layer = 0;
    uint32_t hash;
    int i, j;

    if (t->upcall) {
        fold_refuse(pmd, t, FOLD_REFUSE_UPCALL);
        return;
    }
    if (!n) {
        /* Dropped before its first pass; nothing to learn. */
        return;
    }
    if (t->overflow) {
        fold_refuse(pmd, t, FOLD_REFUSE_TOO_LONG);
        return;
    }
    if (n == 1) {
        fold_refuse(pmd, t, FOLD_REFUSE_SINGLE_PASS);
        return;
    }

    memset(elems, 0, sizeof elems);
    memset(tcp_flags, 0, sizeof tcp_flags);
    for (i = 0; i < n; i++) {
        const struct fold_trace_elem *te = &t->elems[i];
        const struct dp_netdev_actions *actions;
        struct fold_elem *e = &elems[i];
        int pass_layer = layer;

        if (te->flow->dead) {
            why = FOLD_REFUSE_FLOW_CHANGED;
            goto refuse;
        }
        actions = dp_netdev_flow_get_actions(te->flow);
        if (!fold_check_pass(pmd, &t->key, i, n, actions, e, &layer,
                             &needs_rss, &why, &bad_action)) {
            goto refuse;
        }
        if (e->guarded && !te->guarded) {
            /* Stopped before the end of the pass. */
            why = FOLD_REFUSE_INCOMPLETE;
            goto refuse;
        }
        if (i + 1 < n) {
            const struct flow *next = &t->elems[i + 1].flow->flow;
            bool linked;

            if (e->terminal == FOLD_TERM_RECIRC) {
                linked = next->recirc_id == e->terminal_arg;
            } else {
                linked = !next->recirc_id
                         && next->in_port.odp_port
                            == u32_to_odp(e->terminal_arg);
            }
            if (!linked) {
                why = FOLD_REFUSE_LINK;
                goto refuse;
            }
        }
        e->flow = te->flow;
        e->actions = xmemdup(actions->actions, actions->size);
        e->actions_len = actions->size;
        tcp_flags[i] = ntohs(t->key.layer[pass_layer].tcp_flags);
        if (e->guarded) {
            e->guard_idx = n_guards;
            guards[n_guards++] = te->guard;
        }
    }

    for (i = 0; i < n; i++) {
        if (elems[i].guarded && guards[elems[i].guard_idx].ct_state & CS_NEW
            && !fold_seen_new(pmd, t)) {
            why = FOLD_REFUSE_CT_NEW;
            goto refuse;
        }
    }

    if (layer == 1) {
        const struct fp_pkt_layer *inner = &t->key.layer[1];

        l3_ofs = ETH_HEADER_LEN + (inner->vlan_kind ? VLAN_HEADER_LEN : 0);
        l4_ofs = l3_ofs + (inner->dl_type == htons(ETH_TYPE_IPV6)
                           ? IPV6_HEADER_LEN : IP_HEADER_LEN);
    }

    /* Share the path of an earlier stream with the same passes. */
    hash = hash_3words(n, needs_rss, l3_ofs | (uint32_t) l4_ofs << 16);
    for (i = 0; i < n; i++) {
        hash = hash_pointer(elems[i].flow, hash);
        hash = hash_bytes(elems[i].actions, elems[i].actions_len, hash);
    }
    HMAP_FOR_EACH_WITH_HASH (path, node, hash, &f->paths) {
        if (fold_path_equals(path, elems, n, needs_rss, l3_ofs, l4_ofs)) {
            break;
        }
    }
    /* At most one path in 'paths' has these passes.  A stale one leaves
     * 'paths' and a new one takes its place. */
    if (path && fold_path_valid(f, path)) {
        for (i = 0; i < n; i++) {
            free(elems[i].actions);
        }
        path->n_refs++;
        goto chain;
    }

    for (i = 0; i < n; i++) {
        if (!ovs_refcount_try_ref_rcu(&elems[i].flow->ref_cnt)) {
            for (j = 0; j < i; j++) {
                dp_netdev_flow_unref(elems[j].flow);
            }
            why = FOLD_REFUSE_FLOW_CHANGED;
            goto refuse;
        }
    }
    path = xzalloc(sizeof *path + n * sizeof *path->elems);
    path->n_refs = 1;
    path->size = sizeof *path + n * sizeof *path->elems;
    for (i = 0; i < n; i++) {
        path->size += elems[i].actions_len;
    }
    path->interned = true;
    path->needs_rss = needs_rss;
    path->n_elems = n;
    path->inner_l3_ofs = l3_ofs;
    path->inner_l4_ofs = l4_ofs;
    memcpy(path->elems, elems, n * sizeof *path->elems);
    hmap_insert(&f->paths, &path->node, hash);
    fold_count(&f->stats.path_bytes, path->size);
    fold_count(&f->stats.paths, 1);

chain:
    chain = xzalloc(sizeof *chain + n_guards * sizeof *chain->guards);
    chain->n_elems = n;
    chain->size = sizeof *chain + n_guards * sizeof *chain->guards;
    fold_count(&f->stats.chain_bytes, chain->size);
    chain->created = fold_now_ms(pmd);
    chain->path = path;
    memcpy(chain->tcp_flags, tcp_flags, n * sizeof *tcp_flags);
    memcpy(chain->guards, guards, n_guards * sizeof *guards);
    chain->entry = fp_flowcache_insert(f->cache, &t->key, t->hash, chain,
                                       chain->created);
    fold_count(&f->stats.inserts, 1);
    return;

refuse:
    for (i = 0; i < n; i++) {
        free(elems[i].actions);
    }
    if (why == FOLD_REFUSE_ACTION) {
        fold_count(&f->stats.refused_action[bad_action], 1);
    }
    fold_refuse(pmd, t, why);
}

void
dp_netdev_fold_learn(struct dp_netdev_pmd_thread *pmd)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;

    for (unsigned int i = 0; i < f->n_traces; i++) {
        fold_learn_one(pmd, &f->traces[i]);
    }
    f->n_traces = 0;
    pmd->fold_tracing = false;
}

/* Execution. */

/* Computes the RSS hash that dpif-netdev would give 'packet' at the start
 * of a pass (miniflow_hash_5tuple() of its current headers), from its layer
 * offsets. */
static uint32_t
fold_rss_5tuple(const struct dp_packet *packet)
{
    const uint8_t *l3 = dp_packet_l3(packet);
    const uint8_t *l4 = dp_packet_l4(packet);
    uint32_t hash = 0;
    uint32_t word;
    uint8_t proto;

    if ((l3[0] >> 4) == 6) {
        for (int k = 0; k < 4; k++) {
            uint64_t w;

            memcpy(&w, l3 + 8 + 8 * k, sizeof w);
            hash = hash_add64(hash, w);
        }
        proto = l3[6];
    } else {
        memcpy(&word, l3 + 12, sizeof word);
        hash = hash_add(hash, word);
        memcpy(&word, l3 + 16, sizeof word);
        hash = hash_add(hash, word);
        proto = l3[9];
    }
    hash = hash_add(hash, proto);
    if (proto == IPPROTO_TCP || proto == IPPROTO_UDP
        || proto == IPPROTO_SCTP) {
        memcpy(&word, l4, sizeof word);
        hash = hash_add(hash, word);
    } else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
        /* Flow extraction stores ICMP type and code as 16-bit ports. */
        ovs_be16 ports[2] = { htons(l4[0]), htons(l4[1]) };

        memcpy(&word, ports, sizeof word);
        hash = hash_add(hash, word);
    }
    return hash_finish(hash, 42);
}

static void
fold_set_rss(struct dp_packet_batch *batch)
{
    struct dp_packet *packet;

    DP_PACKET_BATCH_FOR_EACH (i, packet, batch) {
        if (!dp_packet_rss_valid(packet)) {
            dp_packet_set_rss_hash(packet, fold_rss_5tuple(packet));
        }
    }
}

/* Sets the layer offsets of decapsulated packets, as the next pass's flow
 * extraction would have. */
static void
fold_set_inner_offsets(const struct fold_path *path,
                       struct dp_packet_batch *batch)
{
    struct dp_packet *packet;

    DP_PACKET_BATCH_FOR_EACH (i, packet, batch) {
        const uint8_t *l3 = (const uint8_t *) dp_packet_data(packet)
                            + path->inner_l3_ofs;
        ovs_be16 len;
        uint32_t ip_end;

        if ((l3[0] >> 4) == 6) {
            memcpy(&len, l3 + 4, sizeof len);
            ip_end = path->inner_l3_ofs + IPV6_HEADER_LEN + ntohs(len);
        } else {
            memcpy(&len, l3 + 2, sizeof len);
            ip_end = path->inner_l3_ofs + ntohs(len);
        }
        packet->l2_5_ofs = UINT16_MAX;
        packet->l3_ofs = path->inner_l3_ofs;
        packet->l4_ofs = path->inner_l4_ofs;
        dp_packet_set_l2_pad_size(packet, dp_packet_size(packet) - ip_end);
    }
}

/* Chains to remove once the input batch is done. */
struct fold_doomed {
    size_t n;
    struct fold_chain *chains[NETDEV_MAX_BURST];
};

static void
fold_doom(struct fold_doomed *doomed, struct fold_chain *chain)
{
    if (!chain->doomed) {
        chain->doomed = true;
        doomed->chains[doomed->n++] = chain;
    }
}

/* Splits off the packets of 'b' whose conntrack state is not what their
 * stream's guard for pass 'i' recorded, and sends them on through the normal
 * pipeline from exactly this point: recirculation with the recorded id. */
static void
fold_guard(struct dp_netdev_pmd_thread *pmd, struct fold_batch *b, int i,
           struct fold_doomed *doomed)
{
    const struct fold_elem *e = &b->path->elems[i];
    const size_t cnt = dp_packet_batch_size(&b->packets);
    struct dp_packet_batch failed;
    struct dp_packet *packet;
    uint32_t *depth;
    size_t j, n = 0;

    dp_packet_batch_init(&failed);
    for (j = 0; j < cnt; j++) {
        struct fold_chain *chain = b->chains[j];
        const struct fold_guard *guard = &chain->guards[e->guard_idx];

        packet = b->packets.packets[j];
        if (OVS_LIKELY(fold_guard_holds(guard, packet))) {
            b->packets.packets[n] = packet;
            b->chains[n++] = chain;
        } else {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 5);

            if (!VLOG_DROP_DBG(&rl)) {
                struct ds ds = DS_EMPTY_INITIALIZER;

                ds_put_cstr(&ds, "guard failed: ct_state(");
                format_flags(&ds, ct_state_to_string, packet->md.ct_state,
                             '|');
                ds_put_cstr(&ds, "), learnt ct_state(");
                format_flags(&ds, ct_state_to_string, guard->ct_state, '|');
                ds_put_format(&ds, "), zone %"PRIu16"/%"PRIu16
                              ", mark %#"PRIx32"/%#"PRIx32,
                              packet->md.ct_zone, guard->ct_zone,
                              packet->md.ct_mark, guard->ct_mark);
                VLOG_DBG("%s", ds_cstr(&ds));
                ds_destroy(&ds);
            }
            /* A packet conntrack finds invalid (out of the TCP window,
             * say) left the connection as it was: the stream's next
             * packets may still take the folded path.  Any other
             * difference means the connection changed. */
            if (!(packet->md.ct_state & CS_INVALID)) {
                fold_doom(doomed, chain);
            }
            packet->md.recirc_id = e->terminal_arg;
            dp_packet_batch_add(&failed, packet);
        }
    }
    b->packets.count = n;
    if (OVS_UNLIKELY(!dp_packet_batch_is_empty(&failed))) {
        fold_count(&pmd->fold->stats.guard_failures,
                   dp_packet_batch_size(&failed));
        depth = dp_netdev_recirc_depth_get();
        (*depth)++;
        dp_netdev_recirculate(pmd, &failed);
        (*depth)--;
    }
}

/* Keeps 'b->chains' in step with the packets of 'b', after an action that
 * may have dropped some of the 'cnt' packets 'before' held (a meter, or a
 * tnl_pop that found a bad header).  The packets that are left keep their
 * order. */
static void
fold_batch_resync(struct fold_batch *b, struct dp_packet *const *before,
                  size_t cnt)
{
    size_t left = dp_packet_batch_size(&b->packets);
    size_t j, k;

    if (OVS_LIKELY(left == cnt)) {
        return;
    }
    for (j = k = 0; j < cnt && k < left; j++) {
        if (b->packets.packets[k] == before[j]) {
            b->chains[k++] = b->chains[j];
        }
    }
}

/* Runs the actions of every pass of the path of 'b' on its packets, as the
 * normal pipeline would, without its lookups and recirculations. */
static void
fold_execute(struct dp_netdev_pmd_thread *pmd, struct fold_batch *b,
             bool simple_match, struct fold_doomed *doomed)
{
    const struct fold_path *path = b->path;
    struct dp_packet_batch *batch = &b->packets;
    struct dp_packet *before[NETDEV_MAX_BURST];
    uint32_t *depth = dp_netdev_recirc_depth_get();
    uint32_t depth0 = *depth;
    long long now_ms = pmd->ctx.now / 1000;

    for (int i = 0; i < path->n_elems; i++) {
        const struct fold_elem *e = &path->elems[i];
        struct dp_packet *packet;
        uint16_t tcp_flags = 0;
        uint32_t bytes = 0;
        size_t cnt;

        if (dp_packet_batch_is_empty(batch)) {
            break;
        }
        /* dpif-netdev computes the RSS hash at the start of each pass, but
         * the first one if that is a simple match. */
        if (path->needs_rss && (i || !simple_match)) {
            fold_set_rss(batch);
        }
        DP_PACKET_BATCH_FOR_EACH (j, packet, batch) {
            bytes += dp_packet_size(packet);
            tcp_flags |= b->chains[j]->tcp_flags[i];
        }
        if (path->needs_rss && e->terminal == FOLD_TERM_NONE) {
            /* For the offload of a stream that a tnl_push encapsulates:
             * the hash gives the outer UDP source port. */
            DP_PACKET_BATCH_FOR_EACH (j, packet, batch) {
                if (dp_packet_rss_valid(packet)) {
                    b->chains[j]->rss_hash = dp_packet_get_rss_hash(packet);
                    b->chains[j]->rss_known = true;
                }
            }
        }
        dp_netdev_flow_used(e->flow, dp_packet_batch_size(batch), bytes,
                            tcp_flags, now_ms);
        *depth = depth0 + i;

        if (e->terminal == FOLD_TERM_NONE) {
            dp_netdev_execute_actions(pmd, batch, true, &e->flow->flow,
                                      e->actions, e->actions_len);
            break;
        }
        cnt = dp_packet_batch_size(batch);
        memcpy(before, batch->packets, cnt * sizeof *before);
        dp_netdev_execute_actions(pmd, batch, false, &e->flow->flow,
                                  e->actions, e->body_len);
        fold_batch_resync(b, before, cnt);
        if (e->guarded) {
            fold_guard(pmd, b, i, doomed);
        }
        if (e->terminal == FOLD_TERM_TNL_POP) {
            cnt = dp_packet_batch_size(batch);
            memcpy(before, batch->packets, cnt * sizeof *before);
            if (!dp_netdev_pop_tunnel(pmd, batch,
                                      u32_to_odp(e->terminal_arg))) {
                COVERAGE_ADD(datapath_fold_drop_invalid_tnl_port,
                             dp_packet_batch_size(batch));
                dp_packet_delete_batch(batch, true);
                break;
            }
            fold_batch_resync(b, before, cnt);
            fold_set_inner_offsets(path, batch);
        } else {
            DP_PACKET_BATCH_FOR_EACH (j, packet, batch) {
                packet->md.recirc_id = e->terminal_arg;
            }
        }
    }
    *depth = depth0;
}

/* Starts tracing 'packet', which missed the fold cache with key 'key',
 * unless a packet of the same key is traced already in this batch. */
static void
fold_trace_start(struct dp_netdev_pmd_fold *f, const struct dp_packet *packet,
                 const struct fp_stream_key *key, uint32_t hash)
{
    struct fold_trace *t;

    for (unsigned int i = 0; i < f->n_traces; i++) {
        if (f->traces[i].hash == hash
            && fp_stream_key_equal(&f->traces[i].key, key)) {
            return;
        }
    }
    t = &f->traces[f->n_traces++];

    t->packet = packet;
    t->key = *key;
    t->hash = hash;
    t->n_elems = 0;
    t->upcall = false;
    t->overflow = false;
}

/* Returns true if a packet of stream 'flow_id' already went to the normal
 * pipeline in this batch: its later packets must follow it there, or they
 * would overtake it. */
static bool
fold_stream_missed(const uint32_t *ids, size_t n, uint32_t flow_id)
{
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == flow_id) {
            return true;
        }
    }
    return false;
}

/* Records that an input batch of 'port_no' had something to fold ('busy'),
 * or not, in the port's slot 'quiet'. */
static inline void
fold_quiet_update(struct fold_quiet_port *quiet, odp_port_t port_no,
                  uint32_t now, bool busy)
{
    if (quiet->port_no != port_no) {
        quiet->port_no = port_no;
        quiet->streak = 0;
    }
    if (busy) {
        quiet->streak = 0;
    } else if (++quiet->streak >= FOLD_QUIET_BATCHES) {
        quiet->streak = FOLD_QUIET_BATCHES;
        quiet->until = now + FOLD_QUIET_MS;
    }
}

/* Offload of folded streams (dpif-netdev-fold-offload.h). */

/* The inner packet of a stream as the passes of its chain leave it. */
struct fold_rewrite {
    uint8_t dl_src[6];
    uint8_t dl_dst[6];
    uint8_t nw_src[16];
    uint8_t nw_dst[16];
    ovs_be16 tp_src;
    ovs_be16 tp_dst;
    uint8_t ttl;
    bool vlan;
    ovs_be16 vlan_tci;
};

/* Applies set or masked set 'a' to 'rw'.  Returns false for a field that a
 * rule cannot set. */
static bool
fold_rewrite_set(struct fold_rewrite *rw, const struct nlattr *a, bool masked,
                 bool ipv6)
{
    const struct nlattr *key = nl_attr_get(a);
    size_t size = nl_attr_get_size(key) / (masked ? 2 : 1);
    const uint8_t *val = nl_attr_get(key);
    uint8_t ones[sizeof(struct ovs_key_ipv6)];
    const uint8_t *mask;

    if (size > sizeof ones) {
        return false;
    }
    memset(ones, 0xff, sizeof ones);
    mask = masked ? val + size : ones;

#define FOLD_SET_FIELD(DST, OFS, LEN)                                   \
    for (size_t i_ = 0; i_ < (LEN); i_++) {                             \
        (DST)[i_] = (val[(OFS) + i_] & mask[(OFS) + i_])                \
                    | ((DST)[i_] & ~mask[(OFS) + i_]);                  \
    }
#define FOLD_MASK_ZERO(OFS, LEN) is_all_zeros(mask + (OFS), (LEN))

    switch (nl_attr_type(key)) {
    case OVS_KEY_ATTR_ETHERNET:
        if (size != sizeof(struct ovs_key_ethernet)) {
            return false;
        }
        FOLD_SET_FIELD(rw->dl_src, offsetof(struct ovs_key_ethernet, eth_src),
                       6);
        FOLD_SET_FIELD(rw->dl_dst, offsetof(struct ovs_key_ethernet, eth_dst),
                       6);
        return true;
    case OVS_KEY_ATTR_IPV4:
        if (ipv6 || size != sizeof(struct ovs_key_ipv4)
            || !FOLD_MASK_ZERO(offsetof(struct ovs_key_ipv4, ipv4_proto), 2)
            || !FOLD_MASK_ZERO(offsetof(struct ovs_key_ipv4, ipv4_frag), 1)) {
            return false;
        }
        FOLD_SET_FIELD(rw->nw_src, offsetof(struct ovs_key_ipv4, ipv4_src), 4);
        FOLD_SET_FIELD(rw->nw_dst, offsetof(struct ovs_key_ipv4, ipv4_dst), 4);
        FOLD_SET_FIELD(&rw->ttl, offsetof(struct ovs_key_ipv4, ipv4_ttl), 1);
        return true;
    case OVS_KEY_ATTR_IPV6:
        if (!ipv6 || size != sizeof(struct ovs_key_ipv6)
            || !FOLD_MASK_ZERO(offsetof(struct ovs_key_ipv6, ipv6_label), 6)
            || !FOLD_MASK_ZERO(offsetof(struct ovs_key_ipv6, ipv6_frag), 1)) {
            return false;
        }
        FOLD_SET_FIELD(rw->nw_src, offsetof(struct ovs_key_ipv6, ipv6_src),
                       16);
        FOLD_SET_FIELD(rw->nw_dst, offsetof(struct ovs_key_ipv6, ipv6_dst),
                       16);
        FOLD_SET_FIELD(&rw->ttl, offsetof(struct ovs_key_ipv6, ipv6_hlimit),
                       1);
        return true;
    case OVS_KEY_ATTR_TCP:
    case OVS_KEY_ATTR_UDP:
        if (size != 4) {
            return false;
        }
        FOLD_SET_FIELD((uint8_t *) &rw->tp_src, 0, 2);
        FOLD_SET_FIELD((uint8_t *) &rw->tp_dst, 2, 2);
        return true;
    default:
        return false;
    }
#undef FOLD_SET_FIELD
#undef FOLD_MASK_ZERO
}

/* Copies the outer header that tnl_push 'a' pushes, with the UDP source
 * port it gives packets of RSS hash 'hash', into 's'.  Returns NULL, or
 * why the header cannot be an encapsulation of a rule. */
static const char *
fold_offload_encap(const struct nlattr *a, uint32_t hash,
                   struct fp_flow_stream *s, ovs_be16 *udp_src)
{
    const struct ovs_action_push_tnl *data = nl_attr_get(a);
    const uint8_t *h = (const uint8_t *) data->header;
    size_t l3 = ETH_HEADER_LEN, l4;
    ovs_be16 type;

    if (data->tnl_type != OVS_VPORT_TYPE_VXLAN) {
        return "a tunnel other than VXLAN";
    }
    if (data->header_len > sizeof s->encap) {
        return "an outer header longer than a rule takes";
    }
    memcpy(&type, h + 12, sizeof type);
    if (type == htons(ETH_TYPE_VLAN_8021Q)) {
        memcpy(&type, h + 16, sizeof type);
        l3 += VLAN_HEADER_LEN;
    }
    if (type == htons(ETH_TYPE_IP)) {
        l4 = l3 + (h[l3] & 0x0f) * 4;
    } else if (type == htons(ETH_TYPE_IPV6)) {
        l4 = l3 + IPV6_HEADER_LEN;
    } else {
        return "an outer header that is not IPv4 or IPv6";
    }
    if (l4 + UDP_HEADER_LEN + sizeof(struct vxlanhdr) != data->header_len) {
        return "an outer header with IP options or extension headers";
    }
    memcpy(s->encap, h, data->header_len);
    s->encap_len = data->header_len;
    *udp_src = netdev_tnl_src_port_from_hash(hash);
    memcpy(s->encap + l4, udp_src, sizeof *udp_src);
    return NULL;
}

/* The original direction of the connection of guard 'g'. */
static void
fold_guard_tuple(const struct fold_guard *g, struct ct_dpif_tuple *t)
{
    memset(t, 0, sizeof *t);
    if (g->ct_orig_tuple_ipv6) {
        t->l3_type = AF_INET6;
        t->ip_proto = g->ct_orig_tuple.ipv6.ipv6_proto;
        memcpy(t->src.ip6, &g->ct_orig_tuple.ipv6.ipv6_src, 16);
        memcpy(t->dst.ip6, &g->ct_orig_tuple.ipv6.ipv6_dst, 16);
        t->src_port = g->ct_orig_tuple.ipv6.src_port;
        t->dst_port = g->ct_orig_tuple.ipv6.dst_port;
    } else {
        t->l3_type = AF_INET;
        t->ip_proto = g->ct_orig_tuple.ipv4.ipv4_proto;
        t->src.ip = g->ct_orig_tuple.ipv4.ipv4_src;
        t->dst.ip = g->ct_orig_tuple.ipv4.ipv4_dst;
        t->src_port = g->ct_orig_tuple.ipv4.src_port;
        t->dst_port = g->ct_orig_tuple.ipv4.dst_port;
    }
}

/* Describes the chain of 'entry' as a rule in 'fo'.  Returns NULL if it
 * can be one, else why not.
 *
 * Two shapes are rules.  Ingress: VXLAN from the uplink, decapsulated by
 * the first pass (tnl_pop), then conntrack, rewrites and one output to a
 * VM; the rule goes on the uplink.  Egress: a VM's packet, conntrack,
 * rewrites, then tnl_push and one output to the uplink in the last pass;
 * the rule goes on the VM's port (a VF representor) and pushes the outer
 * header of the tnl_push with the UDP source port that software gives the
 * stream, from the RSS hash recorded at its last pass. */
static const char *
fold_offload_describe(const struct fp_flowcache_entry *entry,
                      struct fold_offload *fo)
{
    struct fold_chain *chain = entry->value;
    const struct fold_path *path = chain->path;
    const struct fp_stream_key *key = &entry->key;
    const struct fold_elem *last = &path->elems[path->n_elems - 1];
    bool ingress = key->shape == FP_PKT_SHAPE_VXLAN;
    const struct fp_pkt_layer *in = &key->layer[ingress ? 1 : 0];
    struct fp_flow_stream *s = &fo->stream;
    bool ipv6 = in->dl_type == htons(ETH_TYPE_IPV6);
    const struct fold_guard *ct_guard = NULL;
    struct fold_rewrite rw;
    bool output = false, pushed = false;
    size_t nw_len;
    int n_ct = 0;

    if (ingress) {
        if (path->elems[0].terminal != FOLD_TERM_TNL_POP) {
            return "a VXLAN stream not decapsulated by its first pass";
        }
    } else if (key->shape != FP_PKT_SHAPE_PLAIN) {
        return "neither VXLAN from the uplink nor a VM's packets";
    } else if (!chain->rss_known) {
        return "no RSS hash recorded for the outer UDP source port";
    }
    if (in->nw_proto != IPPROTO_TCP && in->nw_proto != IPPROTO_UDP) {
        return "not TCP or UDP";
    }
    if (in->tcp_flags & htons(TCP_SYN | TCP_FIN | TCP_RST)) {
        return "SYN, FIN or RST: conntrack must see these";
    }

    memset(&rw, 0, sizeof rw);
    memcpy(rw.dl_src, in->dl_src, 6);
    memcpy(rw.dl_dst, in->dl_dst, 6);
    memcpy(rw.nw_src, in->src, 16);
    memcpy(rw.nw_dst, in->dst, 16);
    rw.tp_src = in->tp_src;
    rw.tp_dst = in->tp_dst;
    rw.ttl = in->nw_ttl;
    rw.vlan = in->vlan_kind != FP_PKT_VLAN_NONE;
    rw.vlan_tci = in->vlan_tci;
    if (in->vlan_kind == FP_PKT_VLAN_8021AD) {
        return "802.1ad tag";
    }

    for (int i = 0; i < path->n_elems; i++) {
        const struct fold_elem *e = &path->elems[i];
        size_t len = e->terminal == FOLD_TERM_NONE ? e->actions_len
                                                   : e->body_len;
        const struct nlattr *a;
        size_t left;

        NL_ATTR_FOR_EACH_UNSAFE (a, left, e->actions, len) {
            int type = nl_attr_type(a);

            if (output) {
                return "actions after the output";
            }
            if (ingress && i == 0 && type != OVS_ACTION_ATTR_HASH) {
                return "actions before the decapsulation";
            }
            if (pushed && type != OVS_ACTION_ATTR_OUTPUT) {
                return "actions between the tnl_push and the output";
            }
            switch (type) {
            case OVS_ACTION_ATTR_HASH:
            case OVS_ACTION_ATTR_CT_CLEAR:
                break;
            case OVS_ACTION_ATTR_CT: {
                const struct fold_guard *g = &chain->guards[e->guard_idx];

                if (!e->guarded) {
                    return "a ct action without a recorded result";
                }
                if (!(g->ct_state & CS_ESTABLISHED)
                    || g->ct_state & (CS_NEW | CS_INVALID | CS_RELATED)) {
                    return "a connection that is not established";
                }
                ct_guard = n_ct++ ? NULL : g;
                if (g->nat) {
                    memcpy(rw.nw_src, g->nat_tuple.src, 16);
                    memcpy(rw.nw_dst, g->nat_tuple.dst, 16);
                    rw.tp_src = g->nat_tuple.tp_src;
                    rw.tp_dst = g->nat_tuple.tp_dst;
                }
                break;
            }
            case OVS_ACTION_ATTR_SET:
            case OVS_ACTION_ATTR_SET_MASKED:
                if (!fold_rewrite_set(&rw, a,
                                      type == OVS_ACTION_ATTR_SET_MASKED,
                                      ipv6)) {
                    return "a set action a rule cannot express";
                }
                break;
            case OVS_ACTION_ATTR_PUSH_VLAN: {
                const struct ovs_action_push_vlan *v = nl_attr_get(a);

                if (rw.vlan || v->vlan_tpid != htons(ETH_TYPE_VLAN_8021Q)) {
                    return "a second VLAN tag, or an 802.1ad tag";
                }
                rw.vlan = true;
                rw.vlan_tci = v->vlan_tci & ~htons(VLAN_CFI);
                break;
            }
            case OVS_ACTION_ATTR_POP_VLAN:
                if (!rw.vlan) {
                    return "pop_vlan without a tag";
                }
                rw.vlan = false;
                break;
            case OVS_ACTION_ATTR_TUNNEL_PUSH: {
                const char *why;

                if (ingress || e != last) {
                    return "a tnl_push before the last pass";
                }
                why = fold_offload_encap(a, chain->rss_hash, s,
                                         &chain->offload_udp_src);
                if (why) {
                    return why;
                }
                pushed = true;
                break;
            }
            case OVS_ACTION_ATTR_OUTPUT:
                if (e->terminal != FOLD_TERM_NONE
                    || left != NLA_ALIGN(a->nla_len)) {
                    return "more than one output";
                }
                fo->out_port = nl_attr_get_odp_port(a);
                output = true;
                break;
            default:
                return "an action a rule cannot express";
            }
        }
    }
    if (!output) {
        return "no output";
    }
    if (!ingress && !pushed) {
        return "a VM's stream that is not encapsulated (no tnl_push)";
    }

    s->dir = ingress ? FP_FLOW_INGRESS : FP_FLOW_EGRESS;
    s->key = *key;
    fo->in_port = u32_to_odp(key->in_port);
    nw_len = ipv6 ? 16 : 4;
    if (memcmp(rw.dl_src, in->dl_src, 6)) {
        s->rewrite |= FP_FLOW_SET_DL_SRC;
        memcpy(s->set_dl_src, rw.dl_src, 6);
    }
    if (memcmp(rw.dl_dst, in->dl_dst, 6)) {
        s->rewrite |= FP_FLOW_SET_DL_DST;
        memcpy(s->set_dl_dst, rw.dl_dst, 6);
    }
    if (memcmp(rw.nw_src, in->src, nw_len)) {
        s->rewrite |= FP_FLOW_SET_NW_SRC;
        memcpy(s->set_nw_src, rw.nw_src, 16);
    }
    if (memcmp(rw.nw_dst, in->dst, nw_len)) {
        s->rewrite |= FP_FLOW_SET_NW_DST;
        memcpy(s->set_nw_dst, rw.nw_dst, 16);
    }
    if (rw.tp_src != in->tp_src) {
        s->rewrite |= FP_FLOW_SET_TP_SRC;
        s->set_tp_src = rw.tp_src;
    }
    if (rw.tp_dst != in->tp_dst) {
        s->rewrite |= FP_FLOW_SET_TP_DST;
        s->set_tp_dst = rw.tp_dst;
    }
    if (rw.ttl != in->nw_ttl) {
        s->rewrite |= FP_FLOW_SET_TTL;
        s->set_ttl = rw.ttl;
    }
    if (in->vlan_kind != FP_PKT_VLAN_NONE
        && (!rw.vlan || rw.vlan_tci != in->vlan_tci)) {
        s->rewrite |= FP_FLOW_POP_VLAN;
    }
    if (rw.vlan && (in->vlan_kind == FP_PKT_VLAN_NONE
                    || rw.vlan_tci != in->vlan_tci)) {
        s->rewrite |= FP_FLOW_PUSH_VLAN;
        s->push_vlan_tci = rw.vlan_tci;
    }

    /* A TCP stream through one conntrack pass, which saw the addresses and
     * ports of the key: the NIC can track its connection's windows. */
    fo->ct_known = false;
    if (ct_guard && !ct_guard->nat && in->nw_proto == IPPROTO_TCP
        && !(s->rewrite & (FP_FLOW_SET_NW_SRC | FP_FLOW_SET_NW_DST
                           | FP_FLOW_SET_TP_SRC | FP_FLOW_SET_TP_DST))) {
        struct ct_dpif_tuple *t = &fo->ct_tuple;

        fold_guard_tuple(ct_guard, t);
        fo->ct_zone = ct_guard->ct_zone;
        if (!memcmp(in->src, ipv6 ? (const void *) &t->src.in6
                                  : (const void *) &t->src.ip, nw_len)
            && in->tp_src == t->src_port) {
            fo->ct_reply = false;
            fo->ct_known = true;
        } else if (!memcmp(in->src, ipv6 ? (const void *) &t->dst.in6
                                         : (const void *) &t->dst.ip, nw_len)
                   && in->tp_src == t->dst_port) {
            fo->ct_reply = true;
            fo->ct_known = true;
        }
    }
    return NULL;
}

/* Offers the chain of 'entry' to the NIC if the policy allows. */
static void
fold_offload_consider(struct dp_netdev_pmd_thread *pmd,
                      struct fp_flowcache_entry *entry)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    struct fold_chain *chain = entry->value;
    const struct fold_offload_policy *p = &f->offload_policy;
    uint32_t now = fold_now_ms(pmd);
    uint32_t age = now - chain->created;
    struct fold_offload *fo;
    const char *why;

    if (chain->offload || chain->offload_refused || chain->doomed
        || (int32_t) (now - chain->offload_after) < 0
        || entry->hits < p->min_packets || age < p->min_age_ms
        || (p->min_pps && entry->hits * 1000 < (uint64_t) p->min_pps
                                                * MAX(age, 1))) {
        return;
    }
    fo = dp_netdev_fold_offload_create();
    fo->ct = dp_netdev_pmd_conntrack(pmd);
    why = fold_offload_describe(entry, fo);
    if (why) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
        char key[512];

        fp_stream_key_format(&entry->key, key, sizeof key);
        VLOG_INFO_RL(&rl, "folded stream %s is not offloaded: %s", key, why);
        chain->offload_refused = true;
        fold_count(&f->stats.offload_refused, 1);
        dp_netdev_fold_offload_release(fo);
        return;
    }
    chain->offload = fo;
    ovs_list_push_back(&f->offloaded, &chain->offload_node);
    fold_count(&f->stats.offload_offered, 1);
    fold_count(&f->stats.offload_now, 1);
    dp_netdev_fold_offload_install(fo);
}

/* Gives up the offload of 'chain'; its rule, if any, is destroyed. */
static void
fold_offload_detach(struct dp_netdev_pmd_fold *f, struct fold_chain *chain)
{
    ovs_list_remove(&chain->offload_node);
    fold_offload_drain(f, chain);
    chain->offload = NULL;
    fold_count(&f->stats.offload_now, -(uint64_t) 1);
}

/* Adds what the NIC forwarded for 'fo' since the last call to the
 * megaflows of 'path'.  Returns the number of packets. */
static uint64_t
fold_offload_count(struct dp_netdev_pmd_thread *pmd, struct fold_offload *fo,
                   const struct fold_path *path, const uint16_t *tcp_flags)
{
    const struct fp_stream_key *key = &fo->stream.key;
    long long now_ms = pmd->ctx.now / 1000;
    uint64_t packets, bytes, n, b;
    uint32_t outer;

    atomic_read_relaxed(&fo->hw_packets, &packets);
    atomic_read_relaxed(&fo->hw_bytes, &bytes);
    n = packets - fo->seen_packets;
    b = bytes - fo->seen_bytes;
    fo->seen_packets = packets;
    fo->seen_bytes = bytes;

    if (n) {
        /* The NIC counts frames as they arrive; passes after the tnl_pop
         * of an ingress stream see them without their outer headers.
         * Every pass of an egress stream sees them as they arrive. */
        outer = fo->stream.dir == FP_FLOW_EGRESS ? 0
                : ETH_HEADER_LEN
                  + (key->layer[0].vlan_kind ? VLAN_HEADER_LEN : 0)
                  + (key->layer[0].dl_type == htons(ETH_TYPE_IPV6)
                     ? IPV6_HEADER_LEN : IP_HEADER_LEN)
                  + UDP_HEADER_LEN + sizeof(struct vxlanhdr);
        for (int i = 0; i < path->n_elems; i++) {
            uint64_t size = i ? b - MIN(b, n * outer) : b;

            dp_netdev_flow_used(path->elems[i].flow, n, size,
                                tcp_flags[i], now_ms);
        }
        fold_count(&pmd->fold->stats.offload_packets, n);
    }
    return n;
}

/* Accounts for what the NIC forwarded of 'chain' since the last call, as if
 * the packets had taken the folded path: the megaflows of every pass, the
 * fold entry, and the connections' timeouts.  Returns false if a
 * connection of the chain is gone, so the chain must go too. */
static bool
fold_offload_account(struct dp_netdev_pmd_thread *pmd,
                     struct fold_chain *chain)
{
    const struct fold_path *path = chain->path;
    long long now_ms = pmd->ctx.now / 1000;
    uint64_t n;
    bool ok = true;
    bool ct_hw;

    n = fold_offload_count(pmd, chain->offload, path, chain->tcp_flags);
    if (n) {
        chain->entry->last_used = fold_now_ms(pmd);
    }
    atomic_read_relaxed(&chain->offload->ct_hw, &ct_hw);

    for (int i = 0; i < path->n_elems; i++) {
        const struct fold_elem *e = &path->elems[i];
        const struct fold_guard *g;
        struct ct_dpif_tuple t;

        if (!e->guarded) {
            continue;
        }
        g = &chain->guards[e->guard_idx];
        fold_guard_tuple(g, &t);
        if (!conntrack_offload_refresh(dp_netdev_pmd_conntrack(pmd), &t,
                                       g->ct_zone, n > 0, !ct_hw, now_ms)) {
            ok = false;
        }
    }
    return ok;
}

/* Gives up the offload of 'chain': the offload thread destroys its rule.
 * Until it has, 'f' keeps what accounting the rule's last packets needs. */
static void
fold_offload_drain(struct dp_netdev_pmd_fold *f, struct fold_chain *chain)
{
    struct fold_offload *fo = chain->offload;
    struct fold_drain *d;
    int state;

    atomic_read_relaxed(&fo->state, &state);
    if (chain->path && (state == FOLD_OFFLOAD_PENDING
                        || state == FOLD_OFFLOAD_INSTALLED)) {
        d = xmalloc(sizeof *d);
        d->fo = dp_netdev_fold_offload_ref(fo);
        d->path = chain->path;
        d->path->n_refs++;
        memcpy(d->tcp_flags, chain->tcp_flags, sizeof d->tcp_flags);
        ovs_list_push_back(&f->draining, &d->node);
    }
    dp_netdev_fold_offload_release(fo);
}

/* Accounts the last packets of the rules the offload thread destroyed, and
 * forgets them; with 'all', forgets every rule, accounted or not. */
static void
fold_offload_drain_run(struct dp_netdev_pmd_thread *pmd, bool all)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    struct fold_drain *d;

    LIST_FOR_EACH_SAFE (d, node, &f->draining) {
        int state;

        atomic_read_explicit(&d->fo->state, &state, memory_order_acquire);
        if (state == FOLD_OFFLOAD_REMOVED) {
            fold_offload_count(pmd, d->fo, d->path, d->tcp_flags);
        } else if (!all) {
            continue;
        }
        ovs_list_remove(&d->node);
        fold_path_unref(f, d->path);
        dp_netdev_fold_offload_unref(d->fo);
        free(d);
    }
}

/* Checks the chains of 'pmd' that were offered to the NIC.  A chain whose
 * megaflows changed, whose connection is gone or whose rule aged is
 * removed, and with it the rule. */
static void
fold_offload_check(struct dp_netdev_pmd_thread *pmd)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    struct fold_chain *chain;
    uint32_t now = fold_now_ms(pmd);

    LIST_FOR_EACH_SAFE (chain, offload_node, &f->offloaded) {
        struct fold_offload *fo = chain->offload;
        bool aged, remove = false;
        int state;

        atomic_read_explicit(&fo->state, &state, memory_order_acquire);
        atomic_read_relaxed(&fo->aged, &aged);
        if (!fold_path_valid(f, chain->path)) {
            fold_count(&f->stats.invalidations, 1);
            remove = true;
        } else if (fo->stream.dir == FP_FLOW_EGRESS
                   && netdev_tnl_src_port_from_hash(chain->rss_hash)
                      != chain->offload_udp_src) {
            /* tnl/egress_port_range changed: software now pushes another
             * UDP source port than the rule. */
            remove = true;
        } else if (state == FOLD_OFFLOAD_FAILED) {
            chain->offload_refused = true;
            fold_offload_detach(f, chain);
        } else if (state == FOLD_OFFLOAD_RETRY) {
            chain->offload_after = now + FOLD_OFFLOAD_RETRY_MS;
            fold_offload_detach(f, chain);
        } else if (state == FOLD_OFFLOAD_INSTALLED) {
            remove = !fold_offload_account(pmd, chain) || aged;
        }
        if (remove) {
            fp_flowcache_remove(f->cache, chain->entry);
        }
    }
}

void
dp_netdev_fold_input(struct dp_netdev_pmd_thread *pmd,
                     struct dp_packet_batch *packets, odp_port_t port_no)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    const size_t cnt = dp_packet_batch_size(packets);
    const void *frames[NETDEV_MAX_BURST];
    uint32_t lens[NETDEV_MAX_BURST];
    struct fp_stream_key keys[NETDEV_MAX_BURST];
    struct fp_pkt_offsets ofs[NETDEV_MAX_BURST];
    uint32_t hashes[NETDEV_MAX_BURST];
    uint8_t verdicts[NETDEV_MAX_BURST];
    const struct fp_stream_key *lookup_keys[NETDEV_MAX_BURST];
    uint32_t lookup_hashes[NETDEV_MAX_BURST];
    struct fp_flowcache_entry *found[NETDEV_MAX_BURST];
    struct fp_flowcache_entry *entries[NETDEV_MAX_BURST];
    struct fold_batch batches[NETDEV_MAX_BURST];
    uint32_t missed_ids[NETDEV_MAX_BURST];
    struct fp_flowcache_entry *offer[NETDEV_MAX_BURST];
    size_t n_offer = 0;
    struct fold_doomed doomed;
    struct fold_quiet_port *quiet;
    struct dp_packet *packet;
    size_t n_batches = 0, n_missed = 0, n_lookup = 0, n_hits = 0;
    uint64_t not_parsed[FP_PKT_VERDICT_MAX];
    uint64_t misses = 0, negative_hits = 0, invalidations = 0;
    uint32_t now;
    bool enabled;
    size_t i;

    if (!f || !f->cache || !cnt) {
        return;
    }
    atomic_read_relaxed(&CONST_CAST(struct dp_netdev_fold *, f->cfg)->enabled,
                        &enabled);
    if (!enabled) {
        return;
    }
    now = fold_now_ms(pmd);
    quiet = &f->quiet[odp_to_u32(port_no) % FOLD_QUIET_PORTS];
    if (quiet->port_no == port_no && quiet->streak >= FOLD_QUIET_BATCHES
        && (int32_t) (quiet->until - now) > 0) {
        fold_count(&f->stats.quiet, cnt);
        return;
    }

    DP_PACKET_BATCH_FOR_EACH (k, packet, packets) {
        frames[k] = dp_packet_data(packet);
        lens[k] = dp_packet_size(packet);
    }
    if (!fp_pkt_parse_burst(frames, lens, cnt, odp_to_u32(port_no),
                            htons(FOLD_VXLAN_PORT), keys, ofs, hashes,
                            verdicts)) {
        for (i = 0; i < cnt; i++) {
            fold_count(&f->stats.not_parsed[verdicts[i]], 1);
        }
        fold_quiet_update(quiet, port_no, now, false);
        return;
    }
    for (i = 0; i < cnt; i++) {
        if (verdicts[i] == FP_PKT_OK) {
            lookup_keys[n_lookup] = &keys[i];
            lookup_hashes[n_lookup++] = hashes[i];
        }
    }
    fp_flowcache_lookup_burst(f->cache, lookup_keys, lookup_hashes, n_lookup,
                              now, found);
    for (i = 0, n_lookup = 0; i < cnt; i++) {
        entries[i] = verdicts[i] == FP_PKT_OK ? found[n_lookup++] : NULL;
    }

    memset(not_parsed, 0, sizeof not_parsed);
    doomed.n = 0;
    DP_PACKET_BATCH_REFILL_FOR_EACH (i, cnt, packet, packets) {
        struct fp_flowcache_entry *entry = entries[i];

        if (verdicts[i] != FP_PKT_OK) {
            not_parsed[verdicts[i]]++;
            dp_packet_batch_refill(packets, packet, i);
            continue;
        }
        if (entry) {
            struct fold_chain *chain = entry->value;

            if (!chain->n_elems) {
                if (chain->refusal == FOLD_REFUSE_CT_NEW
                    && (int32_t) (now - chain->created)
                       <= FOLD_REFUSAL_TTL_MS) {
                    /* Learn again; see fold_refusal_is_stable(). */
                    misses++;
                    if (f->n_traces < ARRAY_SIZE(f->traces)) {
                        fold_trace_start(f, packet, &keys[i], hashes[i]);
                    }
                    missed_ids[n_missed++] = fp_stream_key_flow_id(&keys[i]);
                    dp_packet_batch_refill(packets, packet, i);
                    continue;
                }
                if ((int32_t) (now - chain->created) <= FOLD_REFUSAL_TTL_MS) {
                    negative_hits++;
                    dp_packet_batch_refill(packets, packet, i);
                    continue;
                }
                /* Time to try the refused stream again. */
                fold_doom(&doomed, chain);
            } else if (!chain->doomed && !chain->path->batch) {
                /* The first hit of the path in this batch checks it. */
                if (OVS_UNLIKELY(!fold_path_valid(f, chain->path))) {
                    invalidations++;
                    fold_doom(&doomed, chain);
                }
            }
            if (!chain->doomed
                && !(n_missed
                     && fold_stream_missed(missed_ids, n_missed,
                                           fp_stream_key_flow_id(&keys[i])))) {
                struct fold_batch *b = chain->path->batch;

                if (!b) {
                    b = &batches[n_batches++];
                    b->path = chain->path;
                    dp_packet_batch_init(&b->packets);
                    chain->path->batch = b;
                }
                b->chains[dp_packet_batch_size(&b->packets)] = chain;
                pkt_metadata_init(&packet->md, port_no);
                packet->l2_5_ofs = UINT16_MAX;
                packet->l3_ofs = ofs[i].l3;
                packet->l4_ofs = ofs[i].l4;
                dp_packet_set_l2_pad_size(packet, ofs[i].l2_pad);
                dp_packet_batch_add(&b->packets, packet);
                n_hits++;
                if (OVS_UNLIKELY(f->offload_on) && !chain->offload
                    && entry->hits >= f->offload_policy.min_packets) {
                    offer[n_offer++] = entry;
                }
                continue;
            }
            if (!chain->doomed) {
                /* Behind a packet of its stream that missed. */
                dp_packet_batch_refill(packets, packet, i);
                continue;
            }
        }
        misses++;
        missed_ids[n_missed++] = fp_stream_key_flow_id(&keys[i]);
        if (f->n_traces < ARRAY_SIZE(f->traces)
            && fp_flowcache_admit(f->cache, hashes[i])) {
            fold_trace_start(f, packet, &keys[i], hashes[i]);
        }
        dp_packet_batch_refill(packets, packet, i);
    }

    if (n_hits) {
        bool simple = dp_netdev_simple_match_enabled(pmd, port_no);

        pmd_perf_update_counter(&pmd->perf_stats, PMD_STAT_RECV, n_hits);
        pmd_perf_update_counter(&pmd->perf_stats, PMD_STAT_FOLD_HIT, n_hits);
        for (i = 0; i < n_batches; i++) {
            batches[i].path->batch = NULL;
        }
        for (i = 0; i < n_batches; i++) {
            fold_execute(pmd, &batches[i], simple, &doomed);
        }
    }
    for (i = 0; i < n_offer; i++) {
        fold_offload_consider(pmd, offer[i]);
    }
    for (i = 0; i < doomed.n; i++) {
        fp_flowcache_remove(f->cache, doomed.chains[i]->entry);
    }

    fold_quiet_update(quiet, port_no, now, n_hits || misses);
    fold_count(&f->stats.hits, n_hits);
    fold_count(&f->stats.misses, misses);
    fold_count(&f->stats.negative_hits, negative_hits);
    fold_count(&f->stats.invalidations, invalidations);
    for (i = 1; i < FP_PKT_VERDICT_MAX; i++) {
        if (not_parsed[i]) {
            fold_count(&f->stats.not_parsed[i], not_parsed[i]);
        }
    }
    pmd->fold_tracing = f->n_traces > 0;
}
