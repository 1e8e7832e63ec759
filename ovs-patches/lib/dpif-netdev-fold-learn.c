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

#include "conntrack.h"
#include "ct-dpif.h"
#include "dp-packet.h"
#include "flow.h"
#include "hash.h"
#include "netlink.h"
#include "odp-util.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"

#include "fp_flowcache.h"
#include "fp_pkt.h"

VLOG_DEFINE_THIS_MODULE(dpif_netdev_fold_learn);

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

/* Tracing hook: records 'flow' as the next pass of each traced packet of
 * 'batch', about to run 'flow''s actions.  Leaves the packets alone. */
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

/* Tracing hook: notes that traced 'packet' took an upcall, which makes its
 * trace unfit for learning this time. */
void
dp_netdev_fold_trace_upcall(struct dp_netdev_pmd_thread *pmd,
                            const struct dp_packet *packet)
{
    struct fold_trace *t = fold_trace_find(pmd->fold, packet);

    if (t) {
        t->upcall = true;
    }
}

/* Tracing hook: records the conntrack state of each traced packet of
 * 'batch' at the end of its current pass, just before a tnl_pop or recirc
 * action starts the next one.  Leaves the packets alone. */
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

/* Inserts 'chain', learnt from trace 't', into the fold cache of 'f', with a
 * copy of the stream's full key if its cache key is a digest. */
static void
fold_cache_insert(struct dp_netdev_pmd_fold *f, const struct fold_trace *t,
                  struct fold_chain *chain)
{
    if (fp_stream_ckey_is_digest(&t->ckey)) {
        chain->key = xmemdup(&t->key, sizeof t->key);
    }
    fold_count(&f->stats.chain_bytes, fold_chain_bytes(chain));
    chain->entry = fp_flowcache_insert(f->cache, &t->ckey, t->hash, chain,
                                       chain->created);
}

static void
fold_refuse(struct dp_netdev_pmd_thread *pmd, const struct fold_trace *t,
            enum fold_refusal reason)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;

    fold_count(&f->stats.refused[reason], 1);
    if (fold_refusal_is_stable(reason)) {
        struct fold_chain *chain = fold_chain_alloc(f, 0, 0);

        chain->refusal = reason;
        chain->created = fold_now_ms(pmd);
        fold_cache_insert(f, t, chain);
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
    const struct fp_stream_ckey *ckey = &t->ckey;
    struct fp_flowcache_entry *entry;
    const struct fold_chain *chain;

    fp_flowcache_lookup_burst(pmd->fold->cache, &ckey, &t->hash, 1,
                              fold_now_ms(pmd), &entry);
    if (!entry) {
        return false;
    }
    chain = entry->value;
    return fold_chain_matches(chain, &t->key) && !chain->n_elems
           && chain->refusal == FOLD_REFUSE_CT_NEW;
}

/* What learning makes of a trace, before it becomes a chain. */
struct fold_learnt {
    int n_elems;
    struct fold_elem elems[FOLD_MAX_PASSES];
    uint16_t tcp_class;         /* Of the layer the TCP passes see. */
    uint8_t tcp_passes;         /* Bit i: pass i sees a TCP header. */
    int n_guards;
    struct fold_guard_rec guards[FOLD_MAX_PASSES];
    int layer;                  /* Header layer of the last pass. */
    bool needs_rss;             /* An action uses the RSS hash. */
    uint16_t l3_ofs;            /* Inner layer offsets, after a tnl_pop. */
    uint16_t l4_ofs;
    int bad_action;             /* With FOLD_REFUSE_ACTION. */
};

/* Checks each pass of trace 't' and records it in 'l': its megaflow, a copy
 * of its actions, its TCP flags and its guard.  Returns true if every pass
 * can be folded and leads to the next; otherwise sets '*why'.  Either way,
 * the caller frees the actions copied into 'l->elems'. */
static bool
fold_learn_passes(struct dp_netdev_pmd_thread *pmd,
                  const struct fold_trace *t, struct fold_learnt *l,
                  enum fold_refusal *why)
{
    int n = l->n_elems;

    for (int i = 0; i < n; i++) {
        const struct fold_trace_elem *te = &t->elems[i];
        const struct dp_netdev_actions *actions;
        struct fold_elem *e = &l->elems[i];
        int pass_layer = l->layer;

        if (te->flow->dead) {
            *why = FOLD_REFUSE_FLOW_CHANGED;
            return false;
        }
        /* The key keeps TCP flags as a class (SYN, FIN and RST exactly,
         * and ACK): a megaflow that matches another flag would tell
         * packets of one entry apart. */
        if (miniflow_get_tcp_flags(&te->flow->cr.mask->mf)
            & ~(TCP_FIN | TCP_SYN | TCP_RST | TCP_ACK)) {
            *why = FOLD_REFUSE_TCP_FLAGS;
            return false;
        }
        actions = dp_netdev_flow_get_actions(te->flow);
        if (!fold_check_pass(pmd, &t->key, i, n, actions, e, &l->layer,
                             &l->needs_rss, why, &l->bad_action)) {
            return false;
        }
        if (e->guarded && !te->guarded) {
            /* Stopped before the end of the pass. */
            *why = FOLD_REFUSE_INCOMPLETE;
            return false;
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
                *why = FOLD_REFUSE_LINK;
                return false;
            }
        }
        e->flow = te->flow;
        e->actions = xmemdup(actions->actions, actions->size);
        e->actions_len = actions->size;
        if (t->key.layer[pass_layer].nw_proto == IPPROTO_TCP) {
            /* Only one layer of a frame is TCP: a VXLAN frame's outer
             * layer is UDP. */
            l->tcp_class = ntohs(t->key.layer[pass_layer].tcp_flags);
            l->tcp_passes |= 1u << i;
        }
        if (e->guarded) {
            e->guard_idx = l->n_guards;
            l->guards[l->n_guards++] = te->guard;
        }
    }
    return true;
}

/* Returns true if the body of pass 'e' is exactly one ct() action. */
static bool
fold_body_is_ct(const struct fold_elem *e)
{
    return e->body_len
           && nl_attr_type(e->actions) == OVS_ACTION_ATTR_CT
           && NLA_ALIGN(e->actions->nla_len) == e->body_len;
}

/* Returns the path of the passes in 'l', taking over their actions: the
 * path of an earlier stream with the same passes if there is a valid one,
 * otherwise a new one, which takes a reference to each megaflow.  Returns
 * NULL, leaving the actions to the caller, if a megaflow died meanwhile. */
static struct fold_path *
fold_path_intern(struct dp_netdev_pmd_fold *f, struct fold_learnt *l)
{
    struct fold_elem *elems = l->elems;
    struct fold_path *path;
    int n = l->n_elems;
    uint32_t hash;
    int i, j;

    hash = hash_3words(n, l->needs_rss,
                       l->l3_ofs | (uint32_t) l->l4_ofs << 16);
    for (i = 0; i < n; i++) {
        hash = hash_pointer(elems[i].flow, hash);
        hash = hash_bytes(elems[i].actions, elems[i].actions_len, hash);
    }
    HMAP_FOR_EACH_WITH_HASH (path, node, hash, &f->paths) {
        if (fold_path_equals(path, elems, n, l->needs_rss, l->l3_ofs,
                             l->l4_ofs)) {
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
        return path;
    }

    for (i = 0; i < n; i++) {
        if (!ovs_refcount_try_ref_rcu(&elems[i].flow->ref_cnt)) {
            for (j = 0; j < i; j++) {
                dp_netdev_flow_unref(elems[j].flow);
            }
            return NULL;
        }
    }
    /* The parsed ct() of each pass that gets hints follows the passes. */
    size_t size = sizeof *path + n * sizeof *path->elems;

    for (i = 0; i < n; i++) {
        if (elems[i].guarded && fold_body_is_ct(&elems[i])) {
            size += sizeof(struct dp_netdev_ct);
        }
    }
    path = xzalloc(size);
    path->n_refs = 1;
    path->size = size;
    for (i = 0; i < n; i++) {
        path->size += elems[i].actions_len;
    }
    path->interned = true;
    path->needs_rss = l->needs_rss;
    path->n_elems = n;
    path->inner_l3_ofs = l->l3_ofs;
    path->inner_l4_ofs = l->l4_ofs;
    memcpy(path->elems, elems, n * sizeof *path->elems);
    struct dp_netdev_ct *ct = ALIGNED_CAST(struct dp_netdev_ct *,
                                           &path->elems[n]);
    for (i = 0; i < n; i++) {
        struct fold_elem *e = &path->elems[i];

        /* Its hits then run it without parsing it again, with hints. */
        e->ct = NULL;
        if (e->guarded && fold_body_is_ct(e)) {
            e->ct = ct++;
            dp_netdev_ct_parse(e->actions, e->ct);
        }
    }
    hmap_insert(&f->paths, &path->node, hash);
    fold_count(&f->stats.path_bytes, path->size);
    fold_count(&f->stats.paths, 1);
    return path;
}

/* Learns the chain of trace 't' into the fold cache, or refuses it with a
 * reason. */
static void
fold_learn_one(struct dp_netdev_pmd_thread *pmd, const struct fold_trace *t)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    enum fold_refusal why = FOLD_REFUSE_SHAPE;
    struct fold_chain *chain;
    struct fold_path *path;
    struct fold_learnt l;
    int n = t->n_elems;
    int i, n_extras;

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

    memset(&l, 0, sizeof l);
    l.n_elems = n;
    if (!fold_learn_passes(pmd, t, &l, &why)) {
        goto refuse;
    }
    for (i = 0; i < n; i++) {
        if (l.elems[i].guarded
            && l.guards[l.elems[i].guard_idx].g.ct_state & CS_NEW
            && !fold_seen_new(pmd, t)) {
            why = FOLD_REFUSE_CT_NEW;
            goto refuse;
        }
    }
    if (l.layer == 1) {
        const struct fp_pkt_layer *inner = &t->key.layer[1];

        l.l3_ofs = ETH_HEADER_LEN + (inner->vlan_kind ? VLAN_HEADER_LEN : 0);
        l.l4_ofs = l.l3_ofs + (inner->dl_type == htons(ETH_TYPE_IPV6)
                               ? IPV6_HEADER_LEN : IP_HEADER_LEN);
    }

    path = fold_path_intern(f, &l);
    if (!path) {
        why = FOLD_REFUSE_FLOW_CHANGED;
        goto refuse;
    }

    n_extras = 0;
    for (i = 0; i < l.n_guards; i++) {
        struct fold_guard_rec *r = &l.guards[i];

        /* Still in the grace period in which conntrack found it.  A guard
         * whose connection cannot be held keeps its tuple. */
        r->g.ct.conn = conntrack_conn_ref(r->g.ct.conn);
        if (fold_guard_rec_needs_extra(r)) {
            r->g.extra = n_extras++;
        }
    }
    chain = fold_chain_alloc(f, l.n_guards, n_extras);
    chain->n_elems = n;
    chain->n_guards = l.n_guards;
    chain->n_extras = n_extras;
    chain->created = fold_now_ms(pmd);
    chain->path = path;
    chain->tcp_class = l.tcp_class;
    chain->tcp_passes = l.tcp_passes;
    for (i = 0; i < l.n_guards; i++) {
        const struct fold_guard_rec *r = &l.guards[i];

        chain->guards[i] = r->g;
        if (r->g.extra != FOLD_GUARD_NO_EXTRA) {
            memcpy(CONST_CAST(struct fold_guard_extra *,
                              fold_guard_extra(chain, &r->g)),
                   &r->x, sizeof r->x);
        }
    }
    fold_cache_insert(f, t, chain);
    if (chain->entry && l.n_guards && chain->guards[0].ct.conn) {
        /* A hit's lookup prefetches the connection of the first ct(),
         * with the chain, rather than once the chain has arrived: see
         * fold_prefetch_conns(). */
        fp_flowcache_entry_set_prefetch(chain->entry,
                                        chain->guards[0].ct.conn,
                                        CONNTRACK_CONN_HOT_LINES);
    }
    fold_count(&f->stats.inserts, 1);
    return;

refuse:
    for (i = 0; i < n; i++) {
        free(l.elems[i].actions);
    }
    if (why == FOLD_REFUSE_ACTION) {
        fold_count(&f->stats.refused_action[l.bad_action], 1);
    }
    fold_refuse(pmd, t, why);
}

/* Learns the chains of the packets traced during the input batch that the
 * normal pipeline has just processed, or refuses them with a reason, and
 * ends tracing ('pmd->fold_tracing' becomes false).  Call it after
 * dp_netdev_input__(), whenever 'pmd->fold_tracing' is true. */
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
