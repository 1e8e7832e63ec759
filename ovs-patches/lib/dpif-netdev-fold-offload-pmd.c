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
#include "netdev-native-tnl.h"
#include "netlink.h"
#include "odp-util.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"

#include "fp_flowcache.h"
#include "fp_pkt.h"

VLOG_DEFINE_THIS_MODULE(dpif_netdev_fold_offload_pmd);

/* Offload of folded streams (dpif-netdev-fold-offload.h). */

/* Applies set or masked set 'a' to 'rw', the inner header as the passes of
 * a chain leave it.  Returns false for a field that a rule cannot set. */
static bool
fold_rewrite_set(struct fp_flow_hdr *rw, const struct nlattr *a, bool masked,
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
 * why the header cannot be an encapsulation of a rule, in 'why'. */
static const char *
fold_offload_encap(const struct nlattr *a, uint32_t hash,
                   struct fp_flow_stream *s, ovs_be16 *udp_src,
                   char *why, size_t why_len)
{
    const struct ovs_action_push_tnl *data = nl_attr_get(a);
    ovs_be16 port = netdev_tnl_src_port_from_hash(hash);

    if (data->tnl_type != OVS_VPORT_TYPE_VXLAN) {
        return "a tunnel other than VXLAN";
    }
    if (fp_flow_encap_set(s, (const uint8_t *) data->header,
                          data->header_len, port, why, why_len)) {
        return why;
    }
    *udp_src = port;
    return NULL;
}

/* The original direction of the connection of guard 'g' of 'chain': from
 * the connection the guard holds, if it keeps no tuple. */
static void
fold_guard_tuple(const struct fold_chain *chain, const struct fold_guard *g,
                 struct ct_dpif_tuple *t)
{
    const struct fold_guard_extra *x = fold_guard_extra(chain, g);

    memset(t, 0, sizeof *t);
    if (!x) {
        if (g->ct.conn) {
            conntrack_conn_orig_tuple(g->ct.conn, t);
        }
    } else if (g->ct_orig_tuple_ipv6) {
        t->l3_type = AF_INET6;
        t->ip_proto = x->ct_orig_tuple.ipv6.ipv6_proto;
        memcpy(t->src.ip6, &x->ct_orig_tuple.ipv6.ipv6_src, 16);
        memcpy(t->dst.ip6, &x->ct_orig_tuple.ipv6.ipv6_dst, 16);
        t->src_port = x->ct_orig_tuple.ipv6.src_port;
        t->dst_port = x->ct_orig_tuple.ipv6.dst_port;
    } else {
        t->l3_type = AF_INET;
        t->ip_proto = x->ct_orig_tuple.ipv4.ipv4_proto;
        t->src.ip = x->ct_orig_tuple.ipv4.ipv4_src;
        t->dst.ip = x->ct_orig_tuple.ipv4.ipv4_dst;
        t->src_port = x->ct_orig_tuple.ipv4.src_port;
        t->dst_port = x->ct_orig_tuple.ipv4.dst_port;
    }
}

/* Gives 'fo' a reference to each TCP connection the packets of 'chain' go
 * through, for the offload thread to hold liberal if the NIC forwards them
 * without tracking their windows.  The chain holds most of them already; a
 * pass whose guard holds none (NAT) looks its connection up.  Returns false
 * if a connection is gone. */
static bool
fold_offload_take_conns(struct dp_netdev_pmd_thread *pmd,
                        const struct fold_chain *chain,
                        struct fold_offload *fo)
{
    const struct fold_path *path = chain->path;

    BUILD_ASSERT_DECL(FOLD_MAX_PASSES <= FOLD_OFFLOAD_MAX_CONNS);
    for (int i = 0; i < path->n_elems; i++) {
        const struct fold_elem *e = &path->elems[i];
        const struct fold_guard *g;
        struct ct_dpif_tuple t;
        struct conn *conn;

        if (!e->guarded) {
            continue;
        }
        g = &chain->guards[e->guard_idx];
        fold_guard_tuple(chain, g, &t);
        if (!g->ct_state || t.ip_proto != IPPROTO_TCP) {
            continue;
        }
        conn = g->ct.conn
               ? conntrack_conn_ref(g->ct.conn)
               : conntrack_offload_conn_get(dp_netdev_pmd_conntrack(pmd),
                                            &t, g->ct_zone);
        if (!conn) {
            return false;
        }
        fo->conn_guards[fo->n_conns] = e->guard_idx;
        fo->conns[fo->n_conns++] = conn;
    }
    return true;
}

/* The connection 'fo' holds for guard 'guard_idx', or NULL. */
static struct conn *
fold_offload_guard_conn(const struct fold_offload *fo, int guard_idx)
{
    for (int i = 0; i < fo->n_conns; i++) {
        if (fo->conn_guards[i] == guard_idx) {
            return fo->conns[i];
        }
    }
    return NULL;
}

/* What fold_offload_describe() gathers from a chain's actions. */
struct fold_describe {
    struct fp_flow_hdr rw;          /* The inner header as the chain leaves
                                     * it. */
    const struct fold_guard *ct;    /* The result of the chain's one ct pass,
                                     * or NULL if it has none or several. */
    int n_ct;                       /* Passes with a ct action. */
    bool output;                    /* Seen the output. */
    bool pushed;                    /* Seen the tnl_push. */
    char why[256];                  /* Room for a library's reason. */
};

/* Takes action 'a' of pass 'e' of 'chain', with 'left' bytes of actions
 * from 'a' on, into 'd' and 'fo'.  Returns NULL, or why a rule cannot
 * express it. */
static const char *
fold_offload_action(struct fold_chain *chain, const struct fold_elem *e,
                    int pass, const struct nlattr *a, size_t left,
                    bool ingress, bool ipv6, struct fold_describe *d,
                    struct fold_offload *fo)
{
    const struct fold_path *path = chain->path;
    int type = nl_attr_type(a);

    if (d->output) {
        return "actions after the output";
    }
    if (ingress && pass == 0 && type != OVS_ACTION_ATTR_HASH) {
        return "actions before the decapsulation";
    }
    if (d->pushed && type != OVS_ACTION_ATTR_OUTPUT) {
        return "actions between the tnl_push and the output";
    }
    switch (type) {
    case OVS_ACTION_ATTR_HASH:
    case OVS_ACTION_ATTR_CT_CLEAR:
        return NULL;
    case OVS_ACTION_ATTR_CT: {
        const struct fold_guard *g = &chain->guards[e->guard_idx];

        if (!e->guarded) {
            return "a ct action without a recorded result";
        }
        if (!(g->ct_state & CS_ESTABLISHED)
            || g->ct_state & (CS_NEW | CS_INVALID | CS_RELATED)) {
            return "a connection that is not established";
        }
        d->ct = d->n_ct++ ? NULL : g;
        if (g->nat) {
            const struct fold_guard_extra *x = fold_guard_extra(chain, g);

            memcpy(d->rw.nw_src, x->nat_tuple.src, 16);
            memcpy(d->rw.nw_dst, x->nat_tuple.dst, 16);
            d->rw.tp_src = x->nat_tuple.tp_src;
            d->rw.tp_dst = x->nat_tuple.tp_dst;
        }
        return NULL;
    }
    case OVS_ACTION_ATTR_SET:
    case OVS_ACTION_ATTR_SET_MASKED:
        if (!fold_rewrite_set(&d->rw, a, type == OVS_ACTION_ATTR_SET_MASKED,
                              ipv6)) {
            return "a set action a rule cannot express";
        }
        return NULL;
    case OVS_ACTION_ATTR_PUSH_VLAN: {
        const struct ovs_action_push_vlan *v = nl_attr_get(a);

        if (d->rw.vlan || v->vlan_tpid != htons(ETH_TYPE_VLAN_8021Q)) {
            return "a second VLAN tag, or an 802.1ad tag";
        }
        d->rw.vlan = true;
        d->rw.vlan_tci = v->vlan_tci & ~htons(VLAN_CFI);
        return NULL;
    }
    case OVS_ACTION_ATTR_POP_VLAN:
        if (!d->rw.vlan) {
            return "pop_vlan without a tag";
        }
        d->rw.vlan = false;
        return NULL;
    case OVS_ACTION_ATTR_TUNNEL_PUSH: {
        const char *why;

        if (ingress || pass != path->n_elems - 1) {
            return "a tnl_push before the last pass";
        }
        why = fold_offload_encap(a, chain->rss_hash, &fo->stream,
                                 &fo->udp_src, d->why, sizeof d->why);
        if (why) {
            return why;
        }
        d->pushed = true;
        return NULL;
    }
    case OVS_ACTION_ATTR_OUTPUT:
        if (e->terminal != FOLD_TERM_NONE || left != NLA_ALIGN(a->nla_len)) {
            return "more than one output";
        }
        fo->out_port = nl_attr_get_odp_port(a);
        d->output = true;
        return NULL;
    default:
        return "an action a rule cannot express";
    }
}

/* Finds which direction of its connection 'in', a TCP stream through one
 * conntrack pass ('ct') that saw the addresses and ports of the key, is:
 * the NIC can then track the connection's windows. */
static void
fold_offload_ct_direction(struct fold_offload *fo,
                          const struct fold_chain *chain,
                          const struct fold_guard *ct,
                          const struct fp_pkt_layer *in, bool ipv6)
{
    struct ct_dpif_tuple *t = &fo->ct_tuple;
    size_t nw_len = ipv6 ? 16 : 4;

    fold_guard_tuple(chain, ct, t);
    fo->ct_zone = ct->ct_zone;
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

/* Describes the chain of 'entry' as a rule in 'fo'.  Returns NULL if it
 * can be one, else why not.  A reason may point into 'd'.
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
                      struct fold_offload *fo, struct fold_describe *d)
{
    struct fold_chain *chain = entry->value;
    const struct fold_path *path = chain->path;
    struct fp_stream_key buf;
    const struct fp_stream_key *key = fold_chain_key(chain, &buf);
    bool ingress = key->shape == FP_PKT_SHAPE_VXLAN;
    const struct fp_pkt_layer *in = &key->layer[ingress ? 1 : 0];
    struct fp_flow_stream *s = &fo->stream;
    bool ipv6 = in->dl_type == htons(ETH_TYPE_IPV6);

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
    if (in->vlan_kind == FP_PKT_VLAN_8021AD) {
        return "802.1ad tag";
    }

    memset(d, 0, sizeof *d);
    fp_flow_hdr_from_layer(&d->rw, in);
    for (int i = 0; i < path->n_elems; i++) {
        const struct fold_elem *e = &path->elems[i];
        size_t len = e->terminal == FOLD_TERM_NONE ? e->actions_len
                                                   : e->body_len;
        const struct nlattr *a;
        size_t left;

        NL_ATTR_FOR_EACH_UNSAFE (a, left, e->actions, len) {
            const char *why = fold_offload_action(chain, e, i, a, left,
                                                  ingress, ipv6, d, fo);
            if (why) {
                return why;
            }
        }
    }
    if (!d->output) {
        return "no output";
    }
    if (!ingress && !d->pushed) {
        return "a VM's stream that is not encapsulated (no tnl_push)";
    }

    s->dir = ingress ? FP_FLOW_INGRESS : FP_FLOW_EGRESS;
    s->key = *key;
    fo->in_port = u32_to_odp(key->in_port);
    fp_flow_rewrite_diff(in, &d->rw, s);

    fo->ct_known = false;
    if (d->ct && !d->ct->nat && in->nw_proto == IPPROTO_TCP
        && !(s->rewrite & FP_FLOW_SET_TUPLE)) {
        fold_offload_ct_direction(fo, chain, d->ct, in, ipv6);
    }
    return NULL;
}

/* The clock (ms) of the next check of a chain of 'f' checked at 'now':
 * FOLD_OFFLOAD_CHECK_MS away, or later with so many chains that checking
 * each that often would take more than FOLD_OFFLOAD_CHECK_RATE checks a
 * second. */
static uint32_t
fold_offload_next_check(const struct dp_netdev_pmd_fold *f, uint32_t now)
{
    uint64_t n = f->stats.offload_now;
    uint64_t ms = n * 1000 / FOLD_OFFLOAD_CHECK_RATE;

    return now + MIN(MAX(ms, FOLD_OFFLOAD_CHECK_MS),
                     FOLD_OFFLOAD_CHECK_MAX_MS);
}

/* Offers the chain of 'entry' to the NIC if the policy allows. */
void
fold_offload_consider(struct dp_netdev_pmd_thread *pmd,
                      struct fp_flowcache_entry *entry)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    struct fold_chain *chain = entry->value;
    const struct fold_offload_policy *p = &f->offload_policy;
    uint32_t now = fold_now_ms(pmd);
    uint32_t age = now - chain->created;
    struct fold_describe d;
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
    why = fold_offload_describe(entry, fo, &d);
    if (why) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
        struct fp_stream_key buf;
        char key[512];

        fp_stream_key_format(fold_chain_key(chain, &buf), key, sizeof key);
        VLOG_INFO_RL(&rl, "folded stream %s is not offloaded: %s", key, why);
        chain->offload_refused = true;
        fold_count(&f->stats.offload_refused, 1);
        dp_netdev_fold_offload_release(fo);
        return;
    }
    if (!fold_offload_take_conns(pmd, chain, fo)) {
        /* The chain dies at its next packet or check. */
        chain->offload_after = now + FOLD_OFFLOAD_RETRY_MS;
        dp_netdev_fold_offload_release(fo);
        return;
    }
    chain->offload = fo;
    fo->chain = chain;
    fo->next_check = fold_offload_next_check(f, now);
    ovs_list_push_back(&f->offloaded, &fo->pmd_node);
    fold_count(&f->stats.offload_offered, 1);
    fold_count(&f->stats.offload_now, 1);
    dp_netdev_fold_offload_install(fo);
}

/* Gives up the offload of 'chain'; its rule, if any, is destroyed. */
void
fold_offload_detach(struct dp_netdev_pmd_fold *f, struct fold_chain *chain)
{
    ovs_list_remove(&chain->offload->pmd_node);
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
    struct conntrack *ct = dp_netdev_pmd_conntrack(pmd);
    const struct fold_path *path = chain->path;
    long long now_ms = pmd->ctx.now / 1000;
    uint16_t tcp_flags[FOLD_MAX_PASSES];
    uint64_t n;
    bool ok = true;

    fold_chain_tcp_flags_all(chain, tcp_flags);
    n = fold_offload_count(pmd, chain->offload, path, tcp_flags);
    if (n) {
        chain->entry->last_used = fold_now_ms(pmd);
    }

    for (int i = 0; i < path->n_elems; i++) {
        const struct fold_elem *e = &path->elems[i];
        const struct fold_guard *g;
        struct ct_dpif_tuple t;
        struct conn *conn;
        bool live;

        if (!e->guarded) {
            continue;
        }
        g = &chain->guards[e->guard_idx];
        conn = g->ct.conn ? g->ct.conn
                          : fold_offload_guard_conn(chain->offload,
                                                    e->guard_idx);
        if (conn) {
            /* The connection the chain or the record holds: no lookup,
             * and no lock unless the NIC forwarded packets. */
            live = conntrack_offload_refresh_conn(ct, conn, n > 0, now_ms);
        } else {
            fold_guard_tuple(chain, g, &t);
            live = conntrack_offload_refresh(ct, &t, g->ct_zone, n > 0,
                                             now_ms);
        }
        if (!live) {
            ok = false;
        }
    }
    return ok;
}

/* Gives up the offload of 'chain': the offload thread destroys its rule.
 * Until it has, 'f' keeps what accounting the rule's last packets needs. */
void
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
        fold_chain_tcp_flags_all(chain, d->tcp_flags);
        ovs_list_push_back(&f->draining, &d->node);
    }
    dp_netdev_fold_offload_release(fo);
}

/* Accounts the last packets of the rules the offload thread destroyed, and
 * forgets them; with 'all', forgets every rule, accounted or not. */
void
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
void
fold_offload_check(struct dp_netdev_pmd_thread *pmd)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    uint32_t now = fold_now_ms(pmd);

    /* A chain joins 'offloaded' at the back, with its first check
     * fold_offload_next_check() away, and goes back there after each
     * check: the front is the chain checked next (nearly: the interval
     * grows and shrinks with the number of chains). */
    for (int n = 0; n < FOLD_OFFLOAD_CHECK_BUDGET
                    && !ovs_list_is_empty(&f->offloaded); n++) {
        struct fold_offload *fo = CONTAINER_OF(ovs_list_front(&f->offloaded),
                                               struct fold_offload, pmd_node);
        struct fold_chain *chain = fo->chain;
        bool aged, remove = false;
        int state;

        if ((int32_t) (now - fo->next_check) < 0) {
            break;
        }
        fo->next_check = fold_offload_next_check(f, now);
        ovs_list_remove(&fo->pmd_node);
        ovs_list_push_back(&f->offloaded, &fo->pmd_node);

        atomic_read_explicit(&fo->state, &state, memory_order_acquire);
        atomic_read_relaxed(&fo->aged, &aged);
        if (!fold_path_valid(f, chain->path)) {
            fold_count(&f->stats.invalidations, 1);
            remove = true;
        } else if (fo->stream.dir == FP_FLOW_EGRESS
                   && netdev_tnl_src_port_from_hash(chain->rss_hash)
                      != fo->udp_src) {
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
