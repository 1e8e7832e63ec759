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

#include "dpif-netdev-private-fold.h"

#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>

#include "conntrack.h"
#include "odp-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "smap.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

#include "fp_flowcache.h"
#include "fp_pkt.h"

VLOG_DEFINE_THIS_MODULE(dpif_netdev_fold);

/* Defaults and limits of the configuration keys. */
#define FOLD_DEFAULT_MAX_STREAMS 131072
#define FOLD_MIN_MAX_STREAMS 1024
#define FOLD_MAX_MAX_STREAMS (16 * 1024 * 1024)
#define FOLD_DEFAULT_INSERT_AFTER 2
#define FOLD_MAX_INSERT_AFTER 100

/* Entries unused for this long are aged out, like idle megaflows. */
#define FOLD_IDLE_MS 10000
/* The sweep visits every entry slot of a PMD's cache about once per
 * FOLD_SWEEP_PERIOD_MS, paced by the clock, and at most FOLD_SWEEP_BUDGET
 * slots per periodic call (which a busy PMD makes less often). */
#define FOLD_SWEEP_PERIOD_MS 1000
#define FOLD_SWEEP_BUDGET 256
/* How long the main thread waits for a PMD to answer a request. */
#define FOLD_REQUEST_TIMEOUT_MS 2000

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
    [FOLD_REFUSE_TCP_FLAGS] = "tcp-flags",
};

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

/* Returns the folding configuration of a new datapath: folding on, with
 * the default keys.  Main thread. */
struct dp_netdev_fold *
dp_netdev_fold_create(void)
{
    struct dp_netdev_fold *fold = xzalloc(sizeof *fold);

    atomic_init(&fold->enabled, true);
    atomic_init(&fold->max_streams, FOLD_DEFAULT_MAX_STREAMS);
    atomic_init(&fold->insert_after, FOLD_DEFAULT_INSERT_AFTER);
    atomic_init(&fold->ct_flowtable, false);
    ds_init(&fold->errors);
    return fold;
}

/* Frees 'fold', which no PMD thread may use any more.  'fold' may be
 * NULL.  Main thread. */
void
dp_netdev_fold_destroy(struct dp_netdev_fold *fold)
{
    if (fold) {
        free(fold->bad_enable);
        free(fold->bad_max_streams);
        free(fold->bad_insert_after);
        free(fold->bad_ct_mode);
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

/* Parses 'key', one of two words: 'yes' (true) or 'no' (false), 'def' when
 * absent, into 'dst'.  A bad value, which 'reason' explains, keeps the
 * value in force.  Returns true if 'dst' changed. */
static bool
fold_config_bool(struct dp_netdev_fold *fold, const struct smap *cfg,
                 const char *key, const char *yes, const char *no, bool def,
                 const char *reason, char **last_bad, atomic_bool *dst)
{
    const char *value = smap_get_def(cfg, key, def ? yes : no);
    bool cur, new;

    atomic_read_relaxed(dst, &cur);
    if (strcmp(value, yes) && strcmp(value, no)) {
        fold_config_reject(fold, last_bad, key, value, reason,
                           cur ? yes : no);
        return false;
    }
    free(*last_bad);
    *last_bad = NULL;
    new = !strcmp(value, yes);
    if (new == cur) {
        return false;
    }
    atomic_store_relaxed(dst, new);
    return true;
}

/* Applies the fold-* keys of 'other_config' to 'fold'.  A bad value keeps
 * the value in force, is logged once and is listed by fold/show.  PMDs pick
 * the change up at their next periodic call.  Main thread. */
void
dp_netdev_fold_set_config(struct dp_netdev_fold *fold,
                          const struct smap *cfg)
{
    bool on;

    ds_clear(&fold->errors);

    if (fold_config_bool(fold, cfg, "fold-enable", "true", "false", true,
                         "is not true or false", &fold->bad_enable,
                         &fold->enabled)) {
        atomic_read_relaxed(&fold->enabled, &on);
        VLOG_INFO("Folding %s.", on ? "enabled" : "disabled");
    }

    fold_config_uint(fold, cfg, "fold-max-streams", &fold->bad_max_streams,
                     &fold->max_streams, FOLD_DEFAULT_MAX_STREAMS,
                     FOLD_MIN_MAX_STREAMS, FOLD_MAX_MAX_STREAMS);
    fold_config_uint(fold, cfg, "fold-insert-after", &fold->bad_insert_after,
                     &fold->insert_after, FOLD_DEFAULT_INSERT_AFTER,
                     1, FOLD_MAX_INSERT_AFTER);

    if (fold_config_bool(fold, cfg, "fold-ct-mode", "flowtable", "exact",
                         false, "is not exact or flowtable",
                         &fold->bad_ct_mode, &fold->ct_flowtable)) {
        atomic_read_relaxed(&fold->ct_flowtable, &on);
        VLOG_INFO("fold-ct-mode set to %s.", on ? "flowtable" : "exact");
    }
}

static void
dp_netdev_fold_show_config(const struct dp_netdev_fold *fold, struct ds *ds)
{
    uint32_t max_streams, insert_after;
    bool enabled, flowtable;

    atomic_read_relaxed(&CONST_CAST(struct dp_netdev_fold *, fold)->enabled,
                        &enabled);
    atomic_read_relaxed(
        &CONST_CAST(struct dp_netdev_fold *, fold)->ct_flowtable,
        &flowtable);
    atomic_read_relaxed(
        &CONST_CAST(struct dp_netdev_fold *, fold)->max_streams,
        &max_streams);
    atomic_read_relaxed(
        &CONST_CAST(struct dp_netdev_fold *, fold)->insert_after,
        &insert_after);
    ds_put_format(ds, "fold-enable=%s fold-max-streams=%"PRIu32
                  " fold-insert-after=%"PRIu32" fold-ct-mode=%s\n",
                  enabled ? "true" : "false", max_streams, insert_after,
                  flowtable ? "flowtable" : "exact");
    if (fold->errors.length) {
        ds_put_cstr(ds, "configuration errors:\n");
        ds_put_cstr(ds, ds_cstr_ro(&fold->errors));
    }
}

/* Chains. */

/* Drops a chain's reference to 'path', and frees it with the last one.
 * PMD thread. */
void
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

/* Returns a zeroed chain of 'n_guards' guards and 'n_extras' extras, from
 * the slab of 'f' if it fits a slot. */
struct fold_chain *
fold_chain_alloc(struct dp_netdev_pmd_fold *f, size_t n_guards,
                 size_t n_extras)
{
    size_t size = fold_chain_alloc_size(n_guards, n_extras);
    struct fold_slab *s = &f->chains;
    void *slot;

    if (size > FOLD_SLAB_SLOT) {
        return xzalloc(size);
    }
    if (s->free) {
        slot = s->free;
        memcpy(&s->free, slot, sizeof s->free);
    } else {
        if (s->next == s->end) {
            char *block = xmalloc_size_align(FOLD_SLAB_BLOCK,
                                             CACHE_LINE_SIZE);

            s->blocks = xrealloc(s->blocks,
                                 (s->n_blocks + 1) * sizeof *s->blocks);
            s->blocks[s->n_blocks++] = block;
            s->next = block;
            s->end = block + FOLD_SLAB_BLOCK;
        }
        slot = s->next;
        s->next += FOLD_SLAB_SLOT;
    }
    s->n_used++;
    return memset(slot, 0, size);
}

/* Frees the memory of 'chain', allocated by fold_chain_alloc() from 'f'. */
static void
fold_chain_dealloc(struct dp_netdev_pmd_fold *f, struct fold_chain *chain)
{
    struct fold_slab *s = &f->chains;

    if (fold_chain_alloc_size(chain->n_guards, chain->n_extras)
        > FOLD_SLAB_SLOT) {
        free(chain);
        return;
    }
    memcpy(chain, &s->free, sizeof s->free);
    s->free = chain;
    s->n_used--;
}

/* Frees the slab blocks of 'f' if no chain uses them: after the cache was
 * flushed or destroyed (not whenever the last chain goes, which a PMD with
 * a few streams that come and go would pay for over and over). */
static void
fold_slab_trim(struct dp_netdev_pmd_fold *f)
{
    struct fold_slab *s = &f->chains;

    if (!s->n_used) {
        for (size_t i = 0; i < s->n_blocks; i++) {
            free_size_align(s->blocks[i]);
        }
        free(s->blocks);
        memset(s, 0, sizeof *s);
    }
}

/* Returns the bytes allocated for 'chain', its key's copy included. */
size_t
fold_chain_bytes(const struct fold_chain *chain)
{
    size_t size = fold_chain_alloc_size(chain->n_guards, chain->n_extras);

    return (size > FOLD_SLAB_SLOT ? size : FOLD_SLAB_SLOT)
           + (chain->key ? sizeof *chain->key : 0);
}

static void
fold_chain_free(struct dp_netdev_pmd_fold *f, struct fold_chain *chain)
{
    if (chain->offload) {
        /* The stream's rule must not outlive the chain. */
        ovs_list_remove(&chain->offload->pmd_node);
        fold_offload_drain(f, chain);
        fold_count(&f->stats.offload_removed, 1);
        fold_count(&f->stats.offload_now, -(uint64_t) 1);
    }
    fold_count(&f->stats.chain_bytes, -(uint64_t) fold_chain_bytes(chain));
    if (chain->path) {
        for (int i = 0; i < chain->path->n_elems; i++) {
            const struct fold_elem *e = &chain->path->elems[i];

            if (e->guarded) {
                conntrack_conn_unref(chain->guards[e->guard_idx].ct.conn);
            }
        }
        fold_path_unref(f, chain->path);
    }
    free(chain->key);
    fold_chain_dealloc(f, chain);
}

static void
fold_value_free(void *value, void *f)
{
    fold_chain_free(f, value);
}

/* Marks 'path' stale, for good: no new chain shares it. */
void
fold_path_set_stale(struct dp_netdev_pmd_fold *f, struct fold_path *path)
{
    path->stale = true;
    if (path->interned) {
        hmap_remove(&f->paths, &path->node);
        path->interned = false;
    }
}

/* Returns true if every megaflow of 'path' is alive and still has the
 * actions learnt.  Compares the bytes, not the pointers: a pointer could
 * have been freed and reused for other actions.  Once a path is found
 * stale, it stays stale, and no new chain shares it. */
bool
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
    fold_path_set_stale(f, path);
    return false;
}

/* Returns true if a connection that 'chain' holds died: then the sweep
 * frees the chain, which drops its reference to the connection. */
static bool
fold_chain_conn_died(const struct fold_chain *chain)
{
    long long now = time_msec();

    for (int i = 0; i < chain->path->n_elems; i++) {
        const struct fold_elem *e = &chain->path->elems[i];
        const struct conn *conn;

        if (e->guarded) {
            conn = chain->guards[e->guard_idx].ct.conn;
            if (conn && !conntrack_conn_is_live(conn, now)) {
                return true;
            }
        }
    }
    return false;
}

static bool
fold_value_stale(void *value, void *f_)
{
    struct dp_netdev_pmd_fold *f = f_;
    struct fold_chain *chain = value;

    if (!chain->path) {
        return false;
    }
    if (!fold_path_valid(f, chain->path)) {
        return true;
    }
    if (fold_chain_conn_died(chain)) {
        fold_count(&f->stats.conn_deaths, 1);
        return true;
    }
    return false;
}

/* PMD life cycle. */

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
    fold_slab_trim(f);
}

/* Gives PMD thread 'pmd' its fold state, for datapath configuration 'cfg',
 * and creates its cache if folding is on.  The PMD thread itself calls it,
 * before polling. */
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

/* Frees the fold state of 'pmd': its cache, chains and paths, and the
 * records of its offloaded streams.  The PMD thread itself calls it, after
 * polling. */
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
        struct fp_stream_key buf;
        char key[512];

        fp_stream_key_format(fold_chain_key(chain, &buf), key, sizeof key);
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

/* Sweeps as many entry slots of the cache of 'pmd' as the time since the
 * last call allows: see FOLD_SWEEP_PERIOD_MS. */
static void
fold_sweep(struct dp_netdev_pmd_thread *pmd)
{
    const uint64_t period_us = FOLD_SWEEP_PERIOD_MS * 1000;
    struct dp_netdev_pmd_fold *f = pmd->fold;
    long long int now_us = pmd->ctx.now;
    uint64_t elapsed, budget;

    elapsed = now_us > f->sweep_last ? now_us - f->sweep_last : 0;
    f->sweep_last = now_us;
    f->sweep_credit += MIN(elapsed, period_us)
                       * fp_flowcache_sweep_span(f->cache);
    budget = MIN(f->sweep_credit / period_us, FOLD_SWEEP_BUDGET);
    f->sweep_credit = MIN(f->sweep_credit - budget * period_us,
                          FOLD_SWEEP_BUDGET * period_us);
    if (budget) {
        fp_flowcache_sweep(f->cache, fold_now_ms(pmd), budget,
                           fold_value_stale, f);
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
    bool enabled, check, drain;

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
    atomic_read_relaxed(&cfg->ct_flowtable, &f->ct_flowtable);
    dp_netdev_fold_offload_policy(&f->offload_policy);
    if (!f->offload_on && !ovs_list_is_empty(&f->offloaded)) {
        /* fold-offload turned off: the streams go back to software. */
        struct fold_offload *fo;

        LIST_FOR_EACH_SAFE (fo, pmd_node, &f->offloaded) {
            fold_offload_detach(f, fo->chain);
        }
    }
    check = f->cache && !ovs_list_is_empty(&f->offloaded);
    drain = !ovs_list_is_empty(&f->draining)
            && pmd->ctx.now >= f->offload_next_drain;
    if (check || drain) {
        uint64_t start = rte_get_tsc_cycles(), cycles;

        if (check) {
            fold_offload_check(pmd);
        }
        if (drain) {
            f->offload_next_drain = pmd->ctx.now + FOLD_OFFLOAD_DRAIN_US;
            fold_offload_drain_run(pmd, false);
        }
        cycles = rte_get_tsc_cycles() - start;
        fold_count(&f->stats.upkeep_cycles, cycles);
        fold_count(&f->stats.upkeep_calls, 1);
        if (cycles > f->stats.upkeep_max) {
            fold_count(&f->stats.upkeep_max, cycles - f->stats.upkeep_max);
        }
    }
    if (f->cache) {
        fold_sweep(pmd);
    }

    atomic_read_explicit(&f->request, &request, memory_order_acquire);
    if (request != FOLD_REQ_NONE) {
        ds_clear(&f->reply);
        if (request == FOLD_REQ_FLUSH) {
            if (f->cache) {
                struct fp_flowcache_stats s;

                fp_flowcache_stats_get(f->cache, &s);
                fp_flowcache_flush(f->cache);
                fold_slab_trim(f);
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

static void
dp_netdev_fold_dump(struct dp_netdev_pmd_thread *pmd, size_t limit,
                    struct ds *ds)
{
    fold_format_pmd(ds, pmd);
    if (pmd->fold) {
        pmd->fold->dump_limit = limit;
    }
    fold_request(pmd, FOLD_REQ_DUMP, ds);
}

static void
dp_netdev_fold_flush(struct dp_netdev_pmd_thread *pmd, struct ds *ds)
{
    fold_format_pmd(ds, pmd);
    fold_request(pmd, FOLD_REQ_FLUSH, ds);
}

/* fold/show's memory lines, from the sizes the cache mapped and the bytes
 * the chains and paths allocated ('size' of each, so without malloc's own
 * overhead of 8 to 23 bytes per block):
 *
 *   table: what the cache mapped for its capacity, by array;
 *   held: what the streams in the cache use now: the entries up to the
 *     high-water mark, the whole index and doorkeeper (lookups and misses
 *     write them anywhere), chains and paths; the free list is left out,
 *     as it is written only for released entries. */
static void
fold_show_memory(const struct dp_netdev_pmd_fold *f,
                 const struct fp_flowcache_stats *s, struct ds *ds)
{
    struct fp_flowcache_memory m;
    uint64_t held;

    fp_flowcache_memory_get(f->cache, &m);
    ds_put_format(ds, "  table: %"PRIuSIZE" bytes mapped for %"PRIu32
                  " streams (entries %"PRIuSIZE", %"PRIuSIZE" of them used"
                  "; index %"PRIuSIZE"; free list %"PRIuSIZE
                  "; doorkeeper %"PRIuSIZE")\n",
                  m.entries + m.buckets + m.free_list + m.doorkeeper,
                  s->capacity, m.entries, m.entries_used, m.buckets,
                  m.free_list, m.doorkeeper);
    held = m.entries_used + m.buckets + m.doorkeeper
           + fold_read(&f->stats.chain_bytes)
           + fold_read(&f->stats.path_bytes);
    ds_put_format(ds, "  memory held: %"PRIu64" bytes", held);
    if (s->entries) {
        ds_put_format(ds, " (%"PRIu64" per stream)", held / s->entries);
    }
    ds_put_char(ds, '\n');
}

static void
dp_netdev_fold_show(struct dp_netdev_pmd_thread *pmd, struct ds *ds)
{
    const struct dp_netdev_pmd_fold *f = pmd->fold;
    const struct fold_stats *st;
    struct fp_flowcache_stats s;
    uint64_t hits, misses, total, tsc_hz;
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
    ds_put_format(ds, "  connections ended: %"PRIu64" chains dropped\n",
                  fold_read(&st->conn_deaths));
    ds_put_format(ds, "  memory: %"PRIuSIZE" bytes per entry, %"PRIu64
                  " bytes of chains", sizeof(struct fp_flowcache_entry),
                  fold_read(&st->chain_bytes));
    if (s.entries) {
        ds_put_format(ds, " (%"PRIu64" per stream)",
                      fold_read(&st->chain_bytes) / s.entries);
    }
    ds_put_format(ds, ", %"PRIu64" bytes of %"PRIu64" shared paths\n",
                  fold_read(&st->path_bytes), fold_read(&st->paths));
    if (f->cache) {
        fold_show_memory(f, &s, ds);
    }
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
    tsc_hz = rte_get_tsc_hz();
    ds_put_format(ds, "  offload upkeep: %"PRIu64" cycles in %"PRIu64
                  " calls, longest %"PRIu64" cycles (%.1f us), TSC %"PRIu64
                  " Hz\n", fold_read(&st->upkeep_cycles),
                  fold_read(&st->upkeep_calls), fold_read(&st->upkeep_max),
                  tsc_hz ? fold_read(&st->upkeep_max) * 1e6 / tsc_hz : 0.0,
                  tsc_hz);

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

/* Commands. */

/* fold/dump's option "-n COUNT": 'aux' points to the limit. */
static bool
fold_dump_parse_opt(const char *opt, const char *value, void *aux,
                    char **error)
{
    unsigned int *limit = aux;

    if (strcmp(opt, "-n")) {
        return false;
    }
    if (!str_to_uint(value, 10, limit)) {
        *error = xasprintf("'%s' is not a number of streams", value);
    }
    return true;
}

static void
fold_show_dp(struct dp_netdev *dp, struct ds *reply, void *aux OVS_UNUSED)
{
    dp_netdev_fold_show_config(dp_netdev_get_fold(dp), reply);
}

static void
fold_show_pmd(struct dp_netdev_pmd_thread *pmd, struct ds *reply,
              void *aux OVS_UNUSED)
{
    dp_netdev_fold_show(pmd, reply);
}

static void
fold_dump_pmd(struct dp_netdev_pmd_thread *pmd, struct ds *reply, void *aux)
{
    dp_netdev_fold_dump(pmd, *(unsigned int *) aux, reply);
}

static void
fold_flush_pmd(struct dp_netdev_pmd_thread *pmd, struct ds *reply,
               void *aux OVS_UNUSED)
{
    dp_netdev_fold_flush(pmd, reply);
}

static const struct dp_netdev_pmd_cmd fold_show_cmd = {
    .dp_cb = fold_show_dp,
    .pmd_cb = fold_show_pmd,
};

static const struct dp_netdev_pmd_cmd fold_dump_cmd = {
    .parse_opt = fold_dump_parse_opt,
    .pmd_cb = fold_dump_pmd,
};

static const struct dp_netdev_pmd_cmd fold_flush_cmd = {
    .pmd_cb = fold_flush_pmd,
};

/* fold/show, fold/dump and fold/flush: 'aux' is their dp_netdev_pmd_cmd. */
static void
fold_cmd(struct unixctl_conn *conn, int argc, const char *argv[], void *aux)
{
    unsigned int limit = 100;

    dp_netdev_pmd_cmd_run(conn, argc, argv, aux, &limit);
}

/* fold/offload-show [--streams] [port]. */
static void
fold_offload_show_cmd(struct unixctl_conn *conn, int argc, const char *argv[],
                      void *aux OVS_UNUSED)
{
    struct ds reply = DS_EMPTY_INITIALIZER;
    const char *port = NULL;
    bool streams = false;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--streams")) {
            streams = true;
        } else if (argv[i][0] == '-') {
            ds_put_format(&reply, "unknown option '%s' (try --streams)",
                          argv[i]);
            unixctl_command_reply_error(conn, ds_cstr(&reply));
            ds_destroy(&reply);
            return;
        } else {
            port = argv[i];
        }
    }
    dp_netdev_fold_offload_show(&reply, port, streams);
    unixctl_command_reply(conn, ds_cstr(&reply));
    ds_destroy(&reply);
}

/* Registers the fold/ commands.  dpif-netdev calls it once, at init. */
void
dp_netdev_fold_register_commands(void)
{
    unixctl_command_register("fold/show", "[-pmd core] [dp]", 0, 3,
                             fold_cmd, CONST_CAST(void *, &fold_show_cmd));
    unixctl_command_register("fold/dump", "[-pmd core] [-n count] [dp]",
                             0, 5, fold_cmd,
                             CONST_CAST(void *, &fold_dump_cmd));
    unixctl_command_register("fold/flush", "[-pmd core] [dp]", 0, 3,
                             fold_cmd, CONST_CAST(void *, &fold_flush_cmd));
    unixctl_command_register("fold/offload-show", "[--streams] [port]", 0, 2,
                             fold_offload_show_cmd, NULL);
}
