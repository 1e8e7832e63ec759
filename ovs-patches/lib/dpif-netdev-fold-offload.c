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

#include "dpif-netdev-fold-offload.h"

#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>

#include "conntrack.h"
#include "dpif-netdev-private.h"
#include "dpif-provider.h"
#include "hash.h"
#include "netdev.h"
#include "netdev-dpdk.h"
#include "netdev-offload.h"
#include "netdev-provider.h"
#include "ovs-rcu.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/vlog.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"

#include "fp_pkt.h"

VLOG_DEFINE_THIS_MODULE(dpif_netdev_fold_offload);

/* Defaults and limits of the configuration keys. */
#define FOLD_OFFLOAD_DEF_MIN_PACKETS 100
#define FOLD_OFFLOAD_DEF_MAX_PER_PORT 65536
#define FOLD_OFFLOAD_DEF_RATE 10000
#define FOLD_OFFLOAD_DEF_AGE 10

/* How often the offload thread reads the rules' counters. */
#define FOLD_OFFLOAD_POLL_MS 1000

static const char *const reason_names[FOLD_OFFLOAD_N_REASONS] = {
    [FOLD_OFFLOAD_OK] = "ok",
    [FOLD_OFFLOAD_R_SHAPE] = "shape",
    [FOLD_OFFLOAD_R_ACTION] = "action",
    [FOLD_OFFLOAD_R_CT_STATE] = "ct-state",
    [FOLD_OFFLOAD_R_PORT] = "port",
    [FOLD_OFFLOAD_R_METERED] = "metered",
    [FOLD_OFFLOAD_R_TRANSLATE] = "translate",
    [FOLD_OFFLOAD_R_VALIDATE] = "validate",
    [FOLD_OFFLOAD_R_CREATE] = "create",
    [FOLD_OFFLOAD_R_MAX_RULES] = "max-per-port",
};

/* The configuration.  Written by the main thread, read by anyone. */
static atomic_bool cfg_requested;       /* other_config:fold-offload. */
static atomic_uint32_t cfg_min_packets = FOLD_OFFLOAD_DEF_MIN_PACKETS;
static atomic_uint32_t cfg_min_age_ms;
static atomic_uint32_t cfg_min_pps;
static atomic_uint32_t cfg_max_per_port = FOLD_OFFLOAD_DEF_MAX_PER_PORT;
static atomic_uint32_t cfg_rate = FOLD_OFFLOAD_DEF_RATE;
static atomic_uint32_t cfg_age = FOLD_OFFLOAD_DEF_AGE;

/* Last rejected value per key, so that each is logged once, and the
 * current problems for fold/offload-show.  Main thread only. */
static struct smap cfg_bad = SMAP_INITIALIZER(&cfg_bad);
static struct ds cfg_errors = DS_EMPTY_INITIALIZER;

/* TCP connections that rules hold liberal, for fold/offload-show. */
static atomic_count n_liberal = ATOMIC_COUNT_INIT(0);

/* What the offload thread knows of one port that rules go to. */
struct fold_offload_port {
    struct hmap_node node;          /* In 'ports', by name. */
    char *name;                     /* The netdev's name. */
    int port_id;                    /* Its DPDK port. */
    struct ovs_list pending;        /* Waiting for the insertion rate. */
    struct ovs_list installed;      /* Rules in the NIC. */
    uint32_t n_pending;
    uint32_t n_installed;
    uint64_t created;               /* Rules created, in total. */
    uint64_t removed;               /* Rules destroyed, in total. */
    uint64_t aged;                  /* Rules the NIC reported aged. */
    uint64_t hw_packets;            /* Of destroyed rules. */
    uint64_t hw_bytes;
    uint64_t failures[FOLD_OFFLOAD_N_REASONS];
    char *last_error[FOLD_OFFLOAD_N_REASONS];
    enum fp_flow_ct_mode ct_mode;
    char ct_why[160];               /* Why not FP_FLOW_CT_HW. */
    bool ct_probed;
    uint32_t ct_rules;              /* Installed rules in FP_FLOW_CT_HW. */
    uint64_t ct_fallbacks;          /* TCP streams left in tcp-flags mode
                                     * on a FP_FLOW_CT_HW port. */
};

/* The module's state.  The offload thread writes it under 'mutex'; the
 * main thread reads it under 'mutex'. */
static struct ovs_mutex mutex = OVS_MUTEX_INITIALIZER;
static struct hmap ports OVS_GUARDED_BY(mutex)
    = HMAP_INITIALIZER(&ports);

/* Remembered rte_flow_validate() verdicts; they have their own lock. */
static struct fp_flow_probe *
fold_offload_probe(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;
    static struct fp_flow_probe *probe;

    if (ovsthread_once_start(&once)) {
        probe = fp_flow_probe_create();
        if (!probe) {
            out_of_memory();
        }
        ovsthread_once_done(&once);
    }
    return probe;
}

/* A TCP connection whose windows the NIC tracks (hw-conntrack): one
 * indirect CONNTRACK action, shared by the rules of both directions, and
 * attached to software conntrack (conntrack_offload_tcp_attach()), which
 * reads and writes the handle through fold_ct_hw from any thread.  The
 * offload thread creates and destroys records; 'conns' changes under
 * 'mutex'; a record is freed after an RCU grace period, so that a thread
 * still judging a packet of the connection can use it.  The record holds
 * the connection it is attached to, and syncs and detaches through that
 * pointer: a later connection with the same tuple is another one. */
struct fold_offload_conn {
    struct hmap_node node;          /* In 'conns'. */
    struct conntrack *ct;
    struct conn *conn;              /* Held while attached. */
    struct ct_dpif_tuple tuple;     /* The original direction. */
    uint16_t zone;
    int n_rules;                    /* Rules that use the handle. */

    struct ovs_mutex lock;          /* Guards the members below. */
    bool original OVS_GUARDED;      /* The handle's direction now. */
    int port_id OVS_GUARDED;        /* The port of the handle. */
    struct rte_flow_action_handle *handle OVS_GUARDED;
    uint64_t pulls OVS_GUARDED;     /* Reads by software conntrack. */
    uint64_t pushes OVS_GUARDED;    /* Writes by software conntrack. */
};

static struct hmap conns OVS_GUARDED_BY(mutex) = HMAP_INITIALIZER(&conns);

/* Window state, between conntrack's and rte_flow's forms.  Peer 0 is the
 * original direction's sender. */
static void
fold_ct_to_rte(const struct ct_offload_tcp *st, bool original,
               struct rte_flow_action_conntrack *p)
{
    memset(p, 0, sizeof *p);
    p->is_original_dir = original;
    p->enable = 1;
    p->live_connection = 1;
    p->state = RTE_FLOW_CONNTRACK_STATE_ESTABLISHED;
    p->last_index = RTE_FLOW_CONNTRACK_FLAG_ACK;
    for (int i = 0; i < 2; i++) {
        struct rte_flow_tcp_dir_param *d = i ? &p->reply_dir
                                             : &p->original_dir;

        d->scale = st->peer[i].wscale;
        d->sent_end = st->peer[i].seqlo;
        d->reply_end = st->peer[i].seqhi;
        d->max_win = st->peer[i].max_win;
        d->last_ack_seen = 1;
    }
}

static void
fold_ct_from_rte(const struct rte_flow_action_conntrack *p,
                 struct ct_offload_tcp *st)
{
    memset(st, 0, sizeof *st);
    for (int i = 0; i < 2; i++) {
        const struct rte_flow_tcp_dir_param *d = i ? &p->reply_dir
                                                   : &p->original_dir;

        st->peer[i].wscale = d->scale;
        st->peer[i].seqlo = d->sent_end;
        st->peer[i].seqhi = d->reply_end;
        st->peer[i].max_win = d->max_win;
    }
}

/* Reads the NIC's windows of 'c'.  Caller holds 'c->lock'. */
static bool
fold_ct_query(struct fold_offload_conn *c, struct ct_offload_tcp *st)
    OVS_REQUIRES(c->lock)
{
    struct rte_flow_action_conntrack p;

    if (!c->handle || fp_flow_ct_query(c->port_id, c->handle, &p)) {
        return false;
    }
    fold_ct_from_rte(&p, st);
    return true;
}

/* conntrack_offload_tcp_hw's 'pull', from any thread. */
static bool
fold_ct_pull(void *aux, struct ct_offload_tcp *st)
{
    struct fold_offload_conn *c = aux;
    bool ok;

    ovs_mutex_lock(&c->lock);
    ok = fold_ct_query(c, st);
    c->pulls += ok;
    ovs_mutex_unlock(&c->lock);
    return ok;
}

/* conntrack_offload_tcp_hw's 'push', from any thread. */
static void
fold_ct_push(void *aux, const struct ct_offload_tcp *st)
{
    struct fold_offload_conn *c = aux;
    struct rte_flow_action_conntrack p;
    char text[256];

    ovs_mutex_lock(&c->lock);
    if (c->handle) {
        fold_ct_to_rte(st, c->original, &p);
        if (fp_flow_ct_update(c->port_id, c->handle, &p, false, text,
                              sizeof text)) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

            VLOG_WARN_RL(&rl, "dpdk port %d: cannot update a connection's "
                         "hardware windows: %s", c->port_id, text);
        } else {
            c->pushes++;
        }
    }
    ovs_mutex_unlock(&c->lock);
}

static const struct ct_offload_tcp_hw fold_ct_hw = {
    .pull = fold_ct_pull,
    .push = fold_ct_push,
};

static uint32_t
fold_ct_hash(const struct ct_dpif_tuple *tuple, uint16_t zone)
{
    return hash_bytes(tuple, sizeof *tuple, zone);
}

static void
fold_ct_free(struct fold_offload_conn *c)
{
    ovs_mutex_destroy(&c->lock);
    free(c);
}

/* The hardware conntrack record of the connection of 'fo', with the handle
 * turned to the direction of 'fo', so that a rule created now takes that
 * direction; created if needed.  Returns NULL, with the reason in 'why',
 * if the NIC cannot track it: the stream then falls back to the
 * tcp-flags mode.  Offload thread. */
static struct fold_offload_conn *
fold_ct_get(struct fold_offload *fo, char *why, size_t whylen)
{
    uint32_t hash = fold_ct_hash(&fo->ct_tuple, fo->ct_zone);
    struct rte_flow_action_conntrack profile;
    bool original = !fo->ct_reply;
    struct rte_flow_action_handle *h;
    struct fold_offload_conn *c;
    struct ct_offload_tcp st;
    char text[160];
    int err;

    HMAP_FOR_EACH_WITH_HASH (c, node, hash, &conns) {
        /* A record of a connection that died stays until its last rule
         * goes; a new connection with its tuple gets a record of its
         * own. */
        if (c->ct == fo->ct && c->zone == fo->ct_zone
            && !memcmp(&c->tuple, &fo->ct_tuple, sizeof c->tuple)
            && conntrack_conn_is_live(c->conn, time_msec())) {
            break;
        }
    }
    if (c) {
        if (c->original != original) {
            memset(&profile, 0, sizeof profile);
            profile.is_original_dir = original;
            ovs_mutex_lock(&c->lock);
            err = fp_flow_ct_update(c->port_id, c->handle, &profile, true,
                                    text, sizeof text);
            if (!err) {
                c->original = original;
            }
            ovs_mutex_unlock(&c->lock);
            if (err) {
                snprintf(why, whylen, "cannot turn the connection's "
                         "handle to the %s direction: %s",
                         original ? "original" : "reply", text);
                return NULL;
            }
        }
        /* The other direction's sender may be known now. */
        if (!conntrack_offload_tcp_sync(c->conn, c)) {
            snprintf(why, whylen, "the connection was replaced");
            return NULL;
        }
        c->n_rules++;
        return c;
    }

    c = xzalloc(sizeof *c);
    c->ct = fo->ct;
    c->tuple = fo->ct_tuple;
    c->zone = fo->ct_zone;
    c->original = original;
    c->port_id = fo->port_id;
    ovs_mutex_init(&c->lock);
    c->conn = conntrack_offload_tcp_attach(c->ct, &c->tuple, c->zone,
                                           &fold_ct_hw, c, &st);
    if (!c->conn) {
        snprintf(why, whylen, "the connection is gone, or is tracked by "
                 "another handle");
        fold_ct_free(c);
        return NULL;
    }
    fold_ct_to_rte(&st, original, &profile);
    h = fp_flow_ct_create(fo->port_id, &profile, text, sizeof text);
    if (!h) {
        snprintf(why, whylen, "cannot create the connection's CONNTRACK "
                 "handle: %s", text);
        conntrack_offload_tcp_detach(c->conn, c);
        ovsrcu_postpone(fold_ct_free, c);
        return NULL;
    }
    ovs_mutex_lock(&c->lock);
    c->handle = h;
    ovs_mutex_unlock(&c->lock);
    c->n_rules = 1;
    ovs_mutex_lock(&mutex);
    hmap_insert(&conns, &c->node, hash);
    ovs_mutex_unlock(&mutex);
    /* What software saw between the attach and the handle. */
    conntrack_offload_tcp_sync(c->conn, c);
    return c;
}

/* Gives up a rule's use of 'c'.  The last one detaches it from software
 * conntrack, which takes the NIC's last windows, and destroys the
 * handle. */
static void
fold_ct_put(struct fold_offload_conn *c)
    OVS_REQUIRES(mutex)
{
    struct rte_flow_action_handle *h;
    char text[256];

    if (!c || --c->n_rules > 0) {
        return;
    }
    conntrack_offload_tcp_detach(c->conn, c);
    c->conn = NULL;
    ovs_mutex_lock(&c->lock);
    h = c->handle;
    c->handle = NULL;
    ovs_mutex_unlock(&c->lock);
    if (h && fp_flow_ct_destroy(c->port_id, h, text, sizeof text)) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

        VLOG_WARN_RL(&rl, "dpdk port %d: cannot destroy a connection's "
                     "CONNTRACK handle: %s", c->port_id, text);
    }
    hmap_remove(&conns, &c->node);
    ovsrcu_postpone(fold_ct_free, c);
}

/* Offload thread only. */
static long long int next_poll;
static long long int bucket_time;
static double bucket_tokens;

static void
cfg_uint(const struct smap *cfg, const char *key, atomic_uint32_t *dst,
         uint32_t def, uint32_t min, uint32_t max)
{
    const char *value = smap_get(cfg, key);
    unsigned int n, cur;

    atomic_read_relaxed(dst, &cur);
    if (!value) {
        n = def;
    } else if (!str_to_uint(value, 10, &n) || n < min || n > max) {
        const char *last = smap_get(&cfg_bad, key);

        if (!last || strcmp(last, value)) {
            VLOG_WARN("other_config:%s: '%s' is not an integer from %"PRIu32
                      " to %"PRIu32"; keeping %u.", key, value, min, max,
                      cur);
            smap_replace(&cfg_bad, key, value);
        }
        ds_put_format(&cfg_errors, "%s: '%s' is not an integer from %"PRIu32
                      " to %"PRIu32"; keeping %u\n", key, value, min, max,
                      cur);
        return;
    }
    smap_remove(&cfg_bad, key);
    atomic_store_relaxed(dst, n);
}

/* Applies the fold-offload keys of 'other_config'.  Main thread. */
void
dp_netdev_fold_offload_set_config(const struct smap *other_config)
{
    static bool warned;
    const char *value;
    bool requested;

    ds_clear(&cfg_errors);
    value = smap_get(other_config, "fold-offload");
    atomic_read_relaxed(&cfg_requested, &requested);
    if (!value || !strcmp(value, "false")) {
        requested = false;
    } else if (!strcmp(value, "true")) {
        requested = true;
    } else {
        const char *last = smap_get(&cfg_bad, "fold-offload");

        if (!last || strcmp(last, value)) {
            VLOG_WARN("other_config:fold-offload: '%s' is not true or "
                      "false; keeping %s.", value,
                      requested ? "true" : "false");
            smap_replace(&cfg_bad, "fold-offload", value);
        }
        ds_put_format(&cfg_errors, "fold-offload: '%s' is not true or "
                      "false; keeping %s\n", value,
                      requested ? "true" : "false");
    }
    atomic_store_relaxed(&cfg_requested, requested);
    if (requested && !netdev_is_flow_api_enabled() && !warned) {
        VLOG_WARN("other_config:fold-offload=true has no effect without "
                  "other_config:hw-offload=true.");
        warned = true;
    }

    cfg_uint(other_config, "fold-offload-min-packets", &cfg_min_packets,
             FOLD_OFFLOAD_DEF_MIN_PACKETS, 1, 1000000000);
    cfg_uint(other_config, "fold-offload-min-age", &cfg_min_age_ms,
             0, 0, 3600000);
    cfg_uint(other_config, "fold-offload-min-pps", &cfg_min_pps,
             0, 0, 100000000);
    cfg_uint(other_config, "fold-offload-max-per-port", &cfg_max_per_port,
             FOLD_OFFLOAD_DEF_MAX_PER_PORT, 1, 16 * 1024 * 1024);
    cfg_uint(other_config, "fold-offload-rate", &cfg_rate,
             FOLD_OFFLOAD_DEF_RATE, 1, 1000000);
    cfg_uint(other_config, "fold-offload-age", &cfg_age,
             FOLD_OFFLOAD_DEF_AGE, 1, 3600);
}

/* True if PMDs should offload folded streams.  Any thread. */
bool
dp_netdev_fold_offload_enabled(void)
{
    bool requested;

    atomic_read_relaxed(&cfg_requested, &requested);
    return requested && netdev_is_flow_api_enabled();
}

/* Reads the offload policy (the fold-offload-min-* keys) into 'p'.  Any
 * thread. */
void
dp_netdev_fold_offload_policy(struct fold_offload_policy *p)
{
    atomic_read_relaxed(&cfg_min_packets, &p->min_packets);
    atomic_read_relaxed(&cfg_min_age_ms, &p->min_age_ms);
    atomic_read_relaxed(&cfg_min_pps, &p->min_pps);
}

/* Appends the offload configuration, for fold/offload-show, to 'ds'.  Any
 * thread. */
void
dp_netdev_fold_offload_show_config(struct ds *ds)
{
    uint32_t min_packets, min_age, min_pps, max_rules, rate, age;
    bool requested;

    atomic_read_relaxed(&cfg_requested, &requested);
    atomic_read_relaxed(&cfg_min_packets, &min_packets);
    atomic_read_relaxed(&cfg_min_age_ms, &min_age);
    atomic_read_relaxed(&cfg_min_pps, &min_pps);
    atomic_read_relaxed(&cfg_max_per_port, &max_rules);
    atomic_read_relaxed(&cfg_rate, &rate);
    atomic_read_relaxed(&cfg_age, &age);
    if (!requested) {
        ds_put_cstr(ds, "fold offload: off (other_config:fold-offload)\n");
    } else if (!netdev_is_flow_api_enabled()) {
        ds_put_cstr(ds, "fold offload: off: other_config:hw-offload is "
                    "not true\n");
    } else {
        ds_put_cstr(ds, "fold offload: on\n");
    }
    ds_put_format(ds, "  policy: min-packets %"PRIu32", min-age %"PRIu32
                  " ms, min-pps %"PRIu32", max-per-port %"PRIu32
                  ", rate %"PRIu32"/s, age %"PRIu32" s\n",
                  min_packets, min_age, min_pps, max_rules, rate, age);
    ds_put_format(ds, "  liberal connections: %u (tcp-flags rules forward "
                  "their packets: sequence numbers not checked)\n",
                  atomic_count_get(&n_liberal));
    if (cfg_errors.length) {
        ds_put_cstr(ds, "  configuration errors:\n");
        ds_put_cstr(ds, ds_cstr(&cfg_errors));
    }
}

/* PMD side. */

/* Returns a new pending offload record with one reference, for the PMD to
 * describe and hand over with dp_netdev_fold_offload_install(). */
struct fold_offload *
dp_netdev_fold_offload_create(void)
{
    struct fold_offload *fo = xzalloc(sizeof *fo);

    ovs_refcount_init(&fo->ref_cnt);
    atomic_init(&fo->state, FOLD_OFFLOAD_PENDING);
    atomic_init(&fo->aged, false);
    atomic_init(&fo->released, false);
    atomic_init(&fo->hw_packets, 0);
    atomic_init(&fo->hw_bytes, 0);
    atomic_init(&fo->ct_hw, false);
    fo->port_id = -1;
    ovs_list_init(&fo->node);
    return fo;
}

/* Takes a reference to 'fo' and returns it.  Any thread. */
struct fold_offload *
dp_netdev_fold_offload_ref(struct fold_offload *fo)
{
    ovs_refcount_ref(&fo->ref_cnt);
    return fo;
}

/* Drops a reference to 'fo', and frees it with the last one.  'fo' may be
 * NULL.  Any thread. */
void
dp_netdev_fold_offload_unref(struct fold_offload *fo)
{
    if (fo && ovs_refcount_unref(&fo->ref_cnt) == 1) {
        ovs_assert(!fo->liberal);
        for (int i = 0; i < fo->n_conns; i++) {
            conntrack_conn_unref(fo->conns[i]);
        }
        netdev_close(fo->in_netdev);
        netdev_close(fo->out_netdev);
        free(fo);
    }
}

/* Queues 'fo', filled in by the PMD, for installation.  The PMD keeps its
 * own reference until dp_netdev_fold_offload_release(). */
void
dp_netdev_fold_offload_install(struct fold_offload *fo)
{
    ovs_refcount_ref(&fo->ref_cnt);
    dp_netdev_fold_offload_enqueue(fo, true);
}

/* The PMD's chain of 'fo' died: the rule must go.  Gives up the PMD's
 * reference. */
void
dp_netdev_fold_offload_release(struct fold_offload *fo)
{
    atomic_store_relaxed(&fo->released, true);
    dp_netdev_fold_offload_enqueue(fo, false);
}

/* Offload thread side. */

static struct fold_offload_port *
port_lookup(const char *name)
    OVS_REQUIRES(mutex)
{
    struct fold_offload_port *port;

    HMAP_FOR_EACH_WITH_HASH (port, node, hash_string(name, 0), &ports) {
        if (!strcmp(port->name, name)) {
            return port;
        }
    }
    return NULL;
}

static struct fold_offload_port *
port_get(const char *name, int port_id)
    OVS_REQUIRES(mutex)
{
    struct fold_offload_port *port = port_lookup(name);

    if (!port) {
        port = xzalloc(sizeof *port);
        port->name = xstrdup(name);
        ovs_list_init(&port->pending);
        ovs_list_init(&port->installed);
        hmap_insert(&ports, &port->node, hash_string(name, 0));
    } else if (port->port_id != port_id) {
        /* The port was re-created on another DPDK port: what was probed
         * of the old one does not hold. */
        fp_flow_probe_forget(fold_offload_probe(), port->port_id);
        port->ct_probed = false;
    }
    port->port_id = port_id;
    return port;
}

/* Forgets the records of ports that are gone: ports without rules whose
 * netdev no longer exists.  Rules hold a reference to their netdevs, so a
 * removed port goes once its last rule has been destroyed. */
static void
fold_offload_forget_ports(void)
    OVS_REQUIRES(mutex)
{
    struct fold_offload_port *port;

    HMAP_FOR_EACH_SAFE (port, node, &ports) {
        struct netdev *netdev;

        if (port->n_installed || port->n_pending) {
            continue;
        }
        netdev = netdev_from_name(port->name);
        if (netdev) {
            netdev_close(netdev);
            continue;
        }
        VLOG_INFO("%s: port removed, forgetting its fold offload records",
                  port->name);
        fp_flow_probe_forget(fold_offload_probe(), port->port_id);
        hmap_remove(&ports, &port->node);
        for (int i = 0; i < FOLD_OFFLOAD_N_REASONS; i++) {
            free(port->last_error[i]);
        }
        free(port->name);
        free(port);
    }
}

/* Counts a failure of 'fo' for 'reason', with 'text', against 'port' (or
 * only logs it if there is no port), and tells the PMD. */
static void
fold_offload_fail(struct fold_offload *fo, struct fold_offload_port *port,
                  enum fold_offload_reason reason, const char *text,
                  bool retry)
    OVS_REQUIRES(mutex)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    char key[512];

    fp_stream_key_format(&fo->stream.key, key, sizeof key);
    VLOG_WARN_RL(&rl, "%s: stream %s stays in software: %s: %s",
                 netdev_get_name(fo->in_netdev), key,
                 reason_names[reason], text);
    if (port) {
        port->failures[reason]++;
        free(port->last_error[reason]);
        port->last_error[reason] = xstrdup(text);
    }
    fo->reason = reason;
    atomic_store_relaxed(&fo->state,
                         retry ? FOLD_OFFLOAD_RETRY : FOLD_OFFLOAD_FAILED);
}

/* Returns the e-switch domain of DPDK port 'port_id', or -1. */
static int
switch_domain(int port_id)
{
    struct rte_eth_dev_info info;

    if (port_id < 0 || rte_eth_dev_info_get(port_id, &info)
        || info.switch_info.domain_id
           == RTE_ETH_DEV_SWITCH_DOMAIN_ID_INVALID) {
        return -1;
    }
    return info.switch_info.domain_id;
}

/* First checks of a new 'fo': its ports.  Queues it on its port. */
static void
fold_offload_admit(struct fold_offload *fo)
{
    struct fold_offload_port *port = NULL;
    int in_id = -1, out_id = -1;
    char text[256];

    /* netdev_ports_get() compares the type by pointer: pass the one the
     * datapath registered its ports with, not an equal literal (clang's
     * AddressSanitizer does not merge literals; every lookup failed). */
    const char *dpif_type = dpif_normalize_type(dpif_netdev_class.type);

    fo->in_netdev = netdev_ports_get(fo->in_port, dpif_type);
    fo->out_netdev = netdev_ports_get(fo->out_port, dpif_type);
    if (!fo->in_netdev || !fo->out_netdev) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

        VLOG_WARN_RL(&rl, "datapath port %"PRIu32" is gone: a folded stream "
                     "stays in software",
                     odp_to_u32(fo->in_netdev ? fo->out_port : fo->in_port));
        atomic_store_relaxed(&fo->state, FOLD_OFFLOAD_FAILED);
        return;
    }
    in_id = netdev_dpdk_get_port_id(fo->in_netdev);
    out_id = netdev_dpdk_get_port_id(fo->out_netdev);

    ovs_mutex_lock(&mutex);
    if (in_id >= 0) {
        port = port_get(netdev_get_name(fo->in_netdev), in_id);
    }
    if (netdev_dpdk_is_metered(fo->in_netdev)
        || netdev_dpdk_is_metered(fo->out_netdev)) {
        /* First: a metered port is never offloaded, whatever it is. */
        snprintf(text, sizeof text, "%s has a software meter (QoS or "
                 "ingress policing) that the rule would bypass",
                 netdev_get_name(netdev_dpdk_is_metered(fo->in_netdev)
                                 ? fo->in_netdev : fo->out_netdev));
        fold_offload_fail(fo, port, FOLD_OFFLOAD_R_METERED, text, false);
    } else if (in_id < 0 || out_id < 0) {
        snprintf(text, sizeof text, "%s is not a DPDK port",
                 netdev_get_name(in_id < 0 ? fo->in_netdev
                                           : fo->out_netdev));
        fold_offload_fail(fo, port, FOLD_OFFLOAD_R_PORT, text, false);
    } else if (switch_domain(in_id) < 0
               || switch_domain(in_id) != switch_domain(out_id)) {
        snprintf(text, sizeof text, "%s and %s are not ports of one "
                 "e-switch (rte_eth_dev_info switch domain)",
                 netdev_get_name(fo->in_netdev),
                 netdev_get_name(fo->out_netdev));
        fold_offload_fail(fo, port, FOLD_OFFLOAD_R_PORT, text, false);
    } else {
        fo->port_id = in_id;
        fo->stream.out_port = out_id;
        fo->port = port;
        atomic_store_relaxed(&fo->state, FOLD_OFFLOAD_PENDING);
        ovs_refcount_ref(&fo->ref_cnt);
        ovs_list_push_back(&port->pending, &fo->node);
        port->n_pending++;
    }
    ovs_mutex_unlock(&mutex);
}

/* Probes, once per port, whether the NIC behind 'port' tracks TCP
 * connections (hw-conntrack) or not (tcp-flags), and logs the mode. */
static void
fold_offload_port_probe_ct(struct fold_offload_port *port)
{
    enum fp_flow_ct_mode mode;
    char why[160];

    if (port->ct_probed) {
        return;
    }
    why[0] = '\0';
    mode = fp_flow_probe_ct(fold_offload_probe(), port->port_id, why,
                            sizeof why);
    ovs_mutex_lock(&mutex);
    port->ct_mode = mode;
    ovs_strlcpy(port->ct_why, why, sizeof port->ct_why);
    port->ct_probed = true;
    ovs_mutex_unlock(&mutex);
    VLOG_INFO("%s: conntrack offload mode %s%s%s%s", port->name,
              fp_flow_ct_mode_name(mode), why[0] ? " (" : "", why,
              why[0] ? ")" : "");
}

/* Where the NIC tracks connections, gives a TCP stream's rule its
 * connection's handle, so that it matches valid, unchanged packets only;
 * otherwise, or if the handle cannot be had, SYN, FIN and RST miss the rule,
 * and software conntrack no longer checks the connection's sequence
 * numbers (tcp-flags mode). */
static void
fold_offload_choose_ct(struct fold_offload *fo,
                       struct fold_offload_port *port)
{
    char text[256];

    fo->stream.ct_mode = FP_FLOW_CT_FLAGS;
    fo->stream.ct_handle = NULL;
    if (port->ct_mode != FP_FLOW_CT_HW || !fo->ct_known) {
        return;
    }
    fo->ct_conn = fold_ct_get(fo, text, sizeof text);
    if (fo->ct_conn) {
        fo->stream.ct_mode = FP_FLOW_CT_HW;
        fo->stream.ct_handle = fo->ct_conn->handle;
    } else {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
        char key[512];

        fp_stream_key_format(&fo->stream.key, key, sizeof key);
        VLOG_WARN_RL(&rl, "%s: stream %s falls back to the tcp-flags "
                     "mode: %s", port->name, key, text);
        ovs_mutex_lock(&mutex);
        port->ct_fallbacks++;
        ovs_mutex_unlock(&mutex);
    }
}

/* Translates the stream of 'fo' into 'rule' and checks that the NIC takes
 * rules of its shape.  A hw-conntrack rule whose shape the NIC rejects is
 * retried in tcp-flags mode.  Returns FOLD_OFFLOAD_OK, or why not with the
 * details in 'text'. */
static enum fold_offload_reason
fold_offload_build_rule(struct fold_offload *fo,
                        struct fold_offload_port *port,
                        struct fp_flow_rule *rule, char *text, size_t len)
{
    for (;;) {
        if (fp_flow_translate(&fo->stream, rule, text, len)) {
            return FOLD_OFFLOAD_R_TRANSLATE;
        }
        if (!fp_flow_probe_check(fold_offload_probe(), fo->port_id, rule,
                                 text, len)) {
            return FOLD_OFFLOAD_OK;
        }
        if (!fo->ct_conn) {
            return FOLD_OFFLOAD_R_VALIDATE;
        }
        /* The NIC tracks connections, but takes no rule of this shape with
         * a CONNTRACK item: try without. */
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

        VLOG_WARN_RL(&rl, "%s: rules of shape %s are rejected (%s): "
                     "falling back to the tcp-flags mode", port->name,
                     rule->shape, text);
        ovs_mutex_lock(&mutex);
        fold_ct_put(fo->ct_conn);
        port->ct_fallbacks++;
        ovs_mutex_unlock(&mutex);
        fo->ct_conn = NULL;
        fo->stream.ct_mode = FP_FLOW_CT_FLAGS;
        fo->stream.ct_handle = NULL;
    }
}

/* Once the rule of 'fo' is gone, or was never created, gives up what
 * fold_offload_liberal_hold() did: a connection that no other rule holds
 * liberal is strict again, and learns its windows afresh if 'moved' (the
 * rule forwarded packets).  With 'forever' (the rule could not be
 * destroyed), the connections stay liberal for good.  Offload thread. */
static void
fold_offload_liberal_release(struct fold_offload *fo, bool moved,
                             bool forever)
{
    if (!fo->liberal) {
        return;
    }
    for (int i = 0; i < fo->n_conns; i++) {
        if (conntrack_offload_liberal_release(fo->conns[i], moved,
                                              forever)) {
            atomic_count_dec(&n_liberal);
        }
    }
    fo->liberal = false;
}

/* Before the NIC forwards packets of 'fo' without tracking the windows of
 * its connections, makes them liberal: software stops checking their
 * sequence numbers, which the NIC's packets move on.  Returns false, with
 * nothing held, if a connection died since the PMD offered the stream: a
 * rule must not forward a later connection that took its tuple.  Offload
 * thread. */
static bool
fold_offload_liberal_hold(struct fold_offload *fo)
{
    long long now = time_msec();

    for (int i = 0; i < fo->n_conns; i++) {
        if (conntrack_offload_liberal_hold(fo->conns[i])) {
            atomic_count_inc(&n_liberal);
        }
    }
    fo->liberal = true;
    for (int i = 0; i < fo->n_conns; i++) {
        if (!conntrack_conn_is_live(fo->conns[i], now)) {
            fold_offload_liberal_release(fo, false, false);
            return false;
        }
    }
    return true;
}

/* Creates the rule of 'fo', taken off its port's pending list. */
static void
fold_offload_insert(struct fold_offload *fo)
{
    struct fold_offload_port *port = fo->port;
    struct fp_flow_rule *rule = xmalloc(sizeof *rule);
    struct rte_flow_error error;
    uint32_t max_rules, age;
    struct rte_flow *flow;
    enum fold_offload_reason reason;
    char text[256];

    atomic_read_relaxed(&cfg_max_per_port, &max_rules);
    atomic_read_relaxed(&cfg_age, &age);

    fold_offload_port_probe_ct(port);
    fo->stream.age_timeout = age;
    fo->stream.age_context = fo;
    fo->stream.count = true;

    ovs_mutex_lock(&mutex);
    if (port->n_installed >= max_rules) {
        snprintf(text, sizeof text, "%"PRIu32" rules installed, the most "
                 "fold-offload-max-per-port allows", port->n_installed);
        fold_offload_fail(fo, port, FOLD_OFFLOAD_R_MAX_RULES, text, true);
        goto out;
    }
    ovs_mutex_unlock(&mutex);

    fold_offload_choose_ct(fo, port);
    reason = fold_offload_build_rule(fo, port, rule, text, sizeof text);
    if (reason != FOLD_OFFLOAD_OK) {
        ovs_mutex_lock(&mutex);
        fold_offload_fail(fo, port, reason, text, false);
        goto out;
    }
    if (!fo->ct_conn && !fold_offload_liberal_hold(fo)) {
        ovs_mutex_lock(&mutex);
        fold_offload_fail(fo, port, FOLD_OFFLOAD_R_CT_STATE,
                          "a connection of the stream is gone", false);
        goto out;
    }
    memset(&error, 0, sizeof error);
    flow = netdev_dpdk_rte_flow_create(fo->in_netdev, &rule->attr,
                                       rule->items, rule->actions, &error);
    ovs_mutex_lock(&mutex);
    if (!flow) {
        fold_offload_liberal_release(fo, false, false);
        snprintf(text, sizeof text, "%s (%s)",
                 error.message ? error.message : "no message",
                 ovs_strerror(rte_errno));
        /* A full table may have room later. */
        fold_offload_fail(fo, port, FOLD_OFFLOAD_R_CREATE, text,
                          rte_errno == ENOSPC || rte_errno == ENOMEM);
        goto out;
    }
    fo->flow = flow;
    fo->installed_at = time_msec();
    if (fo->ct_conn) {
        port->ct_rules++;
        atomic_store_relaxed(&fo->ct_hw, true);
    }
    ovs_list_push_back(&port->installed, &fo->node);
    port->n_installed++;
    port->created++;
    /* Release: 'ct_hw' before the PMD sees INSTALLED. */
    atomic_store_explicit(&fo->state, FOLD_OFFLOAD_INSTALLED,
                          memory_order_release);
    if (VLOG_IS_DBG_ENABLED()) {
        char buf[1024];

        fp_flow_rule_format(rule, fo->port_id, buf, sizeof buf);
        VLOG_DBG("%s: installed %s", port->name, buf);
    }
    ovs_refcount_ref(&fo->ref_cnt);     /* For 'installed'. */
out:
    if (!fo->flow && fo->ct_conn) {
        fold_ct_put(fo->ct_conn);
        fo->ct_conn = NULL;
    }
    ovs_mutex_unlock(&mutex);
    free(rule);
}

/* Reads the counters of the rule of 'fo' into it.  Returns false if the
 * NIC says the rule has aged. */
static bool
fold_offload_poll(struct fold_offload *fo)
{
    struct rte_flow_action actions[2] = {
        [1] = { .type = RTE_FLOW_ACTION_TYPE_END },
    };
    struct rte_flow_query_count count;
    struct rte_flow_query_age age;
    struct rte_flow_error error;

    memset(&count, 0, sizeof count);
    if (!netdev_dpdk_rte_flow_query_count(fo->in_netdev, fo->flow, &count,
                                          &error)) {
        if (count.hits_set) {
            atomic_store_relaxed(&fo->hw_packets, count.hits);
        }
        if (count.bytes_set) {
            atomic_store_relaxed(&fo->hw_bytes, count.bytes);
        }
    }
    actions[0].type = RTE_FLOW_ACTION_TYPE_AGE;
    memset(&age, 0, sizeof age);
    if (!rte_flow_query(fo->port_id, fo->flow, actions, &age, &error)
        && age.aged) {
        return false;
    }
    return true;
}

/* Destroys the rule of 'fo', if any. */
static void
fold_offload_remove(struct fold_offload *fo)
    OVS_REQUIRES(mutex)
{
    struct fold_offload_port *port = fo->port;
    struct rte_flow_error error;
    uint64_t packets, bytes;
    bool destroyed;
    int state;

    atomic_read_relaxed(&fo->state, &state);
    if (state == FOLD_OFFLOAD_INSTALLED && fo->flow) {
        /* The last counters, for the PMD's final accounting. */
        fold_offload_poll(fo);
        destroyed = !netdev_dpdk_rte_flow_destroy(fo->in_netdev, fo->flow,
                                                  &error);
        if (!destroyed) {
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

            VLOG_WARN_RL(&rl, "%s: cannot destroy a folded stream's rule: "
                         "%s%s", port->name,
                         error.message ? error.message : "no message",
                         fo->liberal ? " (its connections stay liberal)"
                                     : "");
        }
        fo->flow = NULL;
        atomic_read_relaxed(&fo->hw_packets, &packets);
        fold_offload_liberal_release(fo, packets > 0, !destroyed);
        if (fo->ct_conn) {
            port->ct_rules--;
            fold_ct_put(fo->ct_conn);
            fo->ct_conn = NULL;
        }
        atomic_read_relaxed(&fo->hw_bytes, &bytes);
        port->hw_packets += packets;
        port->hw_bytes += bytes;
        port->removed++;
        port->n_installed--;
        ovs_list_remove(&fo->node);
        dp_netdev_fold_offload_unref(fo); /* 'installed''s reference. */
    } else if (!ovs_list_is_empty(&fo->node)) {
        /* Still pending. */
        port->n_pending--;
        ovs_list_remove(&fo->node);
        ovs_list_init(&fo->node);
        dp_netdev_fold_offload_unref(fo); /* 'pending''s reference. */
    }
}

/* Handles a queued request for 'fo': 'install' its rule, or remove it.
 * Gives up the request's reference. */
void
dp_netdev_fold_offload_process(struct fold_offload *fo, bool install)
{
    bool released;

    atomic_read_relaxed(&fo->released, &released);
    if (install) {
        if (!released) {
            fold_offload_admit(fo);
        }
    } else {
        ovs_mutex_lock(&mutex);
        fold_offload_remove(fo);
        ovs_mutex_unlock(&mutex);
        atomic_store_explicit(&fo->state, FOLD_OFFLOAD_REMOVED,
                              memory_order_release);
    }
    dp_netdev_fold_offload_unref(fo);
    dp_netdev_fold_offload_run();
}

/* Installs pending rules as the insertion rate allows, and reads the
 * counters of the installed ones every FOLD_OFFLOAD_POLL_MS.  Returns true
 * if rules are installed or pending.  Offload thread. */
bool
dp_netdev_fold_offload_run(void)
{
    struct fold_offload_port *port;
    long long int now = time_msec();
    bool active = false;
    uint32_t rate;

    atomic_read_relaxed(&cfg_rate, &rate);
    bucket_tokens += (now - bucket_time) * (double) rate / 1000.0;
    bucket_tokens = MIN(bucket_tokens, MAX(rate / 10.0, 1.0));
    bucket_time = now;

    for (;;) {
        struct fold_offload *fo = NULL;
        bool released;

        ovs_mutex_lock(&mutex);
        if (bucket_tokens >= 1.0) {
            HMAP_FOR_EACH (port, node, &ports) {
                if (!ovs_list_is_empty(&port->pending)) {
                    fo = CONTAINER_OF(ovs_list_pop_front(&port->pending),
                                      struct fold_offload, node);
                    ovs_list_init(&fo->node);
                    port->n_pending--;
                    break;
                }
            }
        }
        ovs_mutex_unlock(&mutex);
        if (!fo) {
            break;
        }
        bucket_tokens -= 1.0;
        atomic_read_relaxed(&fo->released, &released);
        if (!released) {
            fold_offload_insert(fo);
        }
        dp_netdev_fold_offload_unref(fo); /* 'pending''s reference. */
    }

    ovs_mutex_lock(&mutex);
    HMAP_FOR_EACH (port, node, &ports) {
        if (port->n_installed || port->n_pending) {
            active = true;
            break;
        }
    }
    ovs_mutex_unlock(&mutex);

    if (now < next_poll) {
        return active;
    }
    next_poll = now + FOLD_OFFLOAD_POLL_MS;
    ovs_mutex_lock(&mutex);
    fold_offload_forget_ports();
    HMAP_FOR_EACH (port, node, &ports) {
        struct fold_offload *fo;

        LIST_FOR_EACH (fo, node, &port->installed) {
            const struct netdev *metered;
            bool aged;

            atomic_read_relaxed(&fo->aged, &aged);
            if (aged) {
                continue;
            }
            metered = netdev_dpdk_is_metered(fo->in_netdev)
                      ? fo->in_netdev
                      : netdev_dpdk_is_metered(fo->out_netdev)
                        ? fo->out_netdev : NULL;
            if (metered) {
                /* QoS came to a port after the rule: the rule would carry
                 * the stream past the meter, so it goes like an aged one
                 * (the PMD removes the chain; the stream is learned again
                 * in software and its next offer is refused). */
                char text[160];

                snprintf(text, sizeof text, "%s has a software meter "
                         "(QoS or ingress policing) that the installed "
                         "rule bypassed; rule removed",
                         netdev_get_name(metered));
                port->failures[FOLD_OFFLOAD_R_METERED]++;
                free(port->last_error[FOLD_OFFLOAD_R_METERED]);
                port->last_error[FOLD_OFFLOAD_R_METERED] = xstrdup(text);
                atomic_store_relaxed(&fo->aged, true);
            } else if (!fold_offload_poll(fo)) {
                port->aged++;
                atomic_store_relaxed(&fo->aged, true);
            }
        }
    }
    ovs_mutex_unlock(&mutex);
    return active;
}

/* Main thread. */

static void
show_port(struct ds *ds, const struct fold_offload_port *port, bool streams)
    OVS_REQUIRES(mutex)
{
    const struct fold_offload *fo;
    uint64_t packets = port->hw_packets, bytes = port->hw_bytes;
    char buf[4096];
    bool any = false;

    LIST_FOR_EACH (fo, node, &port->installed) {
        uint64_t p, b;

        atomic_read_relaxed(&CONST_CAST(struct fold_offload *, fo)->hw_packets,
                            &p);
        atomic_read_relaxed(&CONST_CAST(struct fold_offload *, fo)->hw_bytes,
                            &b);
        packets += p;
        bytes += b;
    }
    ds_put_format(ds, "port %s (dpdk port %d):\n", port->name, port->port_id);
    if (port->ct_probed) {
        ds_put_format(ds, "  conntrack mode: %s",
                      fp_flow_ct_mode_name(port->ct_mode));
        if (port->ct_mode == FP_FLOW_CT_HW) {
            ds_put_format(ds, " (TCP rules tracked by the NIC: %"PRIu32
                          ", TCP streams left in tcp-flags mode: %"PRIu64
                          ")", port->ct_rules, port->ct_fallbacks);
        } else if (port->ct_why[0]) {
            ds_put_format(ds, " (no hw-conntrack: %s)", port->ct_why);
        }
        ds_put_char(ds, '\n');
    }
    ds_put_format(ds, "  rules installed: %"PRIu32", pending: %"PRIu32
                  ", created: %"PRIu64", removed: %"PRIu64", aged: %"PRIu64
                  "\n", port->n_installed, port->n_pending, port->created,
                  port->removed, port->aged);
    ds_put_format(ds, "  hw packets: %"PRIu64", hw bytes: %"PRIu64"\n",
                  packets, bytes);
    for (int i = 1; i < FOLD_OFFLOAD_N_REASONS; i++) {
        if (port->failures[i]) {
            if (!any) {
                ds_put_cstr(ds, "  failures:\n");
                any = true;
            }
            ds_put_format(ds, "    %s: %"PRIu64" (last: %s)\n",
                          reason_names[i], port->failures[i],
                          port->last_error[i] ? port->last_error[i] : "");
        }
    }
    buf[0] = '\0';
    fp_flow_probe_format(fold_offload_probe(), port->port_id, "    ", buf,
                         sizeof buf);
    if (buf[0]) {
        ds_put_cstr(ds, "  rule shapes probed:\n");
        ds_put_cstr(ds, buf);
    }
    if (streams) {
        long long int now = time_msec();

        LIST_FOR_EACH (fo, node, &port->installed) {
            struct fold_offload *f = CONST_CAST(struct fold_offload *, fo);
            uint64_t p, b;

            atomic_read_relaxed(&f->hw_packets, &p);
            atomic_read_relaxed(&f->hw_bytes, &b);
            fp_stream_key_format(&fo->stream.key, buf, sizeof buf);
            ds_put_format(ds, "  stream %s\n    %s to %s, hw packets:%"
                          PRIu64", hw bytes:%"PRIu64", installed %.1fs ago\n",
                          buf, (fo->stream.dir == FP_FLOW_EGRESS
                                ? "egress (raw_encap)"
                                : "ingress (vxlan_decap)"),
                          netdev_get_name(fo->out_netdev), p, b,
                          (now - fo->installed_at) / 1000.0);
            if (fo->ct_conn) {
                struct fold_offload_conn *c = fo->ct_conn;
                struct ct_offload_tcp st;
                bool ok;

                ovs_mutex_lock(&c->lock);
                ok = fold_ct_query(c, &st);
                ds_put_format(ds, "    hw-conntrack, %s direction, software "
                              "read the windows %"PRIu64" times and wrote "
                              "them %"PRIu64" times",
                              fo->ct_reply ? "reply" : "original", c->pulls,
                              c->pushes);
                ovs_mutex_unlock(&c->lock);
                if (ok) {
                    ds_put_format(ds, ", NIC windows: original seqlo %"
                                  PRIu32" seqhi %"PRIu32", reply seqlo %"
                                  PRIu32" seqhi %"PRIu32,
                                  st.peer[0].seqlo, st.peer[0].seqhi,
                                  st.peer[1].seqlo, st.peer[1].seqhi);
                }
                ds_put_char(ds, '\n');
            }
        }
    }
}

/* fold/offload-show: the configuration, then per port (all, or 'name'):
 * rules installed and pending, failures by reason with the last error
 * text, and the hardware counters; with 'streams', each stream. */
void
dp_netdev_fold_offload_show(struct ds *ds, const char *name, bool streams)
{
    struct fold_offload_port *port;
    bool found = false;

    dp_netdev_fold_offload_show_config(ds);
    ovs_mutex_lock(&mutex);
    HMAP_FOR_EACH (port, node, &ports) {
        if (!name || !strcmp(name, port->name)) {
            show_port(ds, port, streams);
            found = true;
        }
    }
    ovs_mutex_unlock(&mutex);
    if (!found) {
        ds_put_format(ds, "%s%s%s\n", name ? "no folded stream was offered "
                      "to port " : "no folded stream was offered to a port",
                      name ? name : "", name ? "" : " yet");
    }
}
