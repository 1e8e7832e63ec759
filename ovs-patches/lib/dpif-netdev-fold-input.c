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
#include "coverage.h"
#include "csum.h"
#include "ct-dpif.h"
#include "dp-packet.h"
#include "dpif-netdev-perf.h"
#include "dpif-netdev-private-dpif.h"
#include "flow.h"
#include "hash.h"
#include "odp-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "util.h"

#include "fp_flowcache.h"
#include "fp_pkt.h"

VLOG_DEFINE_THIS_MODULE(dpif_netdev_fold_input);

COVERAGE_DEFINE(datapath_fold_drop_invalid_tnl_port);
COVERAGE_DEFINE(datapath_fold_drop_tunnel_pop_error);
COVERAGE_DEFINE(datapath_fold_drop_added);

/* A refused stream is not traced again for this long. */
#define FOLD_REFUSAL_TTL_MS 2000

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

/* Sets the layer offsets of 'packet', decapsulated, as the next pass's
 * flow extraction would have. */
static inline void
fold_set_inner_offsets1(const struct fold_path *path,
                        struct dp_packet *packet)
{
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

/* Sets the layer offsets of decapsulated packets, as the next pass's flow
 * extraction would have. */
static void
fold_set_inner_offsets(const struct fold_path *path,
                       struct dp_packet_batch *batch)
{
    struct dp_packet *packet;

    DP_PACKET_BATCH_FOR_EACH (i, packet, batch) {
        fold_set_inner_offsets1(path, packet);
    }
}

/* Bytes of the outer headers of a VXLAN frame that fold_vxlan_strip()
 * decapsulates: Ethernet, IPv4 without options, UDP and VXLAN. */
#define FOLD_VXLAN_OUTER_LEN (ETH_HEADER_LEN + IP_HEADER_LEN + UDP_HEADER_LEN \
                              + sizeof(struct vxlanhdr))

/* Decapsulates the packets of 'b', of a path whose first pass is a bare
 * tnl_pop to VXLAN port 'port_no', as netdev_vxlan_pop_header() would, but
 * as a fixed strip: the fold parser already checked every header the stock
 * pop checks (the key fixes the outer shape), except the outer IPv4
 * checksum, which it checks here unless the NIC did; a packet that fails
 * it is dropped, as the stock pop drops it.  Also sets the packets' inner
 * layer offsets (fold_set_inner_offsets()) and keeps 'b->chains' in step
 * with the packets left.
 *
 * Unlike the stock pop, it leaves 'md.tunnel' empty: nothing on the
 * folded path reads it, and fold_tunnel_md_fill() fills it for a packet
 * that goes back to the pipeline.  The rest of the metadata is what the
 * stock pop leaves, given that pkt_metadata_init() ran on reception.
 *
 * Returns false, having changed nothing, unless every packet has the
 * plain shape: untagged Ethernet, IPv4 without options, and no outer UDP
 * checksum (the stock pop verifies that one).  The caller then runs the
 * stock pop. */
static bool
fold_vxlan_strip(struct fold_batch *b, odp_port_t port_no)
{
    static struct vlog_rate_limit err_rl = VLOG_RATE_LIMIT_INIT(60, 5);
    struct dp_packet_batch *batch = &b->packets;
    const size_t cnt = dp_packet_batch_size(batch);
    struct dp_packet *packet;
    size_t i, n = 0;

    for (i = 0; i < cnt; i++) {
        const struct ip_header *ip;
        const struct udp_header *udp;

        packet = batch->packets[i];
        if (OVS_UNLIKELY(packet->l3_ofs != ETH_HEADER_LEN
                         || packet->l4_ofs != ETH_HEADER_LEN + IP_HEADER_LEN
                         || dp_packet_size(packet) < FOLD_VXLAN_OUTER_LEN)) {
            return false;
        }
        ip = dp_packet_l3(packet);
        udp = dp_packet_l4(packet);
        if (OVS_UNLIKELY(ip->ip_ihl_ver != IP_IHL_VER(5, 4)
                         || udp->udp_csum)) {
            return false;
        }
    }

    for (i = 0; i < cnt; i++) {
        const struct ip_header *ip;
        const struct vxlanhdr *vxh;

        packet = batch->packets[i];
        ip = dp_packet_l3(packet);

        vxh = ALIGNED_CAST(const struct vxlanhdr *,
                           (const char *) dp_packet_l4(packet)
                           + UDP_HEADER_LEN);
        if (OVS_UNLIKELY(!dp_packet_ip_checksum_valid(packet)
                         && csum_inline(ip, IP_HEADER_LEN))) {
            VLOG_WARN_RL(&err_rl, "ip packet has invalid checksum");
            goto drop;
        }
        if (OVS_UNLIKELY(ntohs(ip->ip_tot_len)
                         > dp_packet_size(packet) - ETH_HEADER_LEN
                         || get_16aligned_be32(&vxh->vx_flags)
                            != htonl(VXLAN_FLAGS)
                         || get_16aligned_be32(&vxh->vx_vni) & htonl(0xff))) {
            /* The parser checked these when it made the key, and nothing
             * ran since; kept as the stock pop's checks, in case. */
            goto drop;
        }
        dp_packet_reset_packet(packet, FOLD_VXLAN_OUTER_LEN);
        dp_packet_reset_offload(packet);
        packet->md.in_port.odp_port = port_no;
        packet->md.conn = NULL;
        fold_set_inner_offsets1(b->path, packet);
        batch->packets[n] = packet;
        b->chains[n++] = b->chains[i];
        continue;

drop:
        COVERAGE_INC(datapath_fold_drop_tunnel_pop_error);
        dp_packet_delete(packet);
    }
    batch->count = n;
    return true;
}

/* Fills the tunnel metadata of 'packet', which fold_vxlan_strip()
 * decapsulated, as netdev_vxlan_pop_header() would have, from its stream's
 * key 'key' (the outer headers are exactly the key's).  Leaves it alone if
 * an action set it since (set(tunnel(...)) replaces all of it). */
static void
fold_tunnel_md_fill(struct dp_packet *packet, const struct fp_stream_key *key)
{
    const struct fp_pkt_layer *outer = &key->layer[0];
    struct flow_tnl *tnl = &packet->md.tunnel;

    if (flow_tnl_dst_is_set(tnl)) {
        return;
    }
    memset(tnl, 0, offsetof(struct flow_tnl, metadata.opts));
    memcpy(&tnl->ip_src, outer->src, sizeof tnl->ip_src);
    memcpy(&tnl->ip_dst, outer->dst, sizeof tnl->ip_dst);
    tnl->ip_tos = outer->nw_tos;
    tnl->ip_ttl = outer->nw_ttl;
    tnl->tp_src = outer->tp_src;
    tnl->tp_dst = outer->tp_dst;
    tnl->tun_id = htonll(ntohl(key->vxlan_vni) >> 8);
    tnl->flags = FLOW_TNL_F_KEY;
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
 * pipeline from exactly this point: recirculation with the recorded id.
 * Also gives the packets that stay that id, as the pass's recirculation
 * does (a guarded pass always ends in one: see fold_check_pass()). */
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
        packet->md.recirc_id = e->terminal_arg;
        if (OVS_LIKELY(fold_guard_holds(chain, guard, packet))) {
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
            if (b->stripped) {
                struct fp_stream_key buf;

                fold_tunnel_md_fill(packet, fold_chain_key(chain, &buf));
            }
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

/* Keeps 'b->chains' in step with the packets of 'b', after actions that may
 * have dropped some of the 'cnt' packets 'before' held (a meter, or a
 * tnl_pop that found a bad header) or added packets: conntrack's fragment
 * reassembly appends the reassembled packets of any stream to the batch of
 * a ct().  The packets of 'before' that are left keep their order and their
 * chains; added packets, which have no chain, are moved to 'added'. */
static void
fold_batch_resync(struct fold_batch *b, struct dp_packet *const *before,
                  size_t cnt, struct dp_packet_batch *added)
{
    size_t left = dp_packet_batch_size(&b->packets);
    size_t j = 0, k, n = 0;

    if (OVS_LIKELY(left == cnt)
        && !memcmp(before, b->packets.packets, cnt * sizeof *before)) {
        return;
    }
    for (k = 0; k < left; k++) {
        struct dp_packet *packet = b->packets.packets[k];
        size_t m = j;

        while (m < cnt && before[m] != packet) {
            m++;
        }
        if (m < cnt) {
            b->chains[n] = b->chains[m];
            b->packets.packets[n++] = packet;
            j = m + 1;
        } else {
            dp_packet_batch_add(added, packet);
        }
    }
    b->packets.count = n;
}

/* Sends 'added', packets that the actions of pass 'e' added to a folded
 * batch (see fold_batch_resync()), on as the normal pipeline would: to the
 * recirculation that ends the pass. */
static void
fold_send_added(struct dp_netdev_pmd_thread *pmd, const struct fold_elem *e,
                struct dp_packet_batch *added)
{
    struct dp_packet *packet;
    uint32_t *depth;

    if (e->terminal != FOLD_TERM_RECIRC) {
        /* Only a ct() adds packets, and a pass with ct() ends in a
         * recirculation: not reached. */
        COVERAGE_ADD(datapath_fold_drop_added, dp_packet_batch_size(added));
        dp_packet_delete_batch(added, true);
        return;
    }
    DP_PACKET_BATCH_FOR_EACH (i, packet, added) {
        packet->md.recirc_id = e->terminal_arg;
    }
    depth = dp_netdev_recirc_depth_get();
    (*depth)++;
    dp_netdev_recirculate(pmd, added);
    (*depth)--;
}

/* Gives conntrack, in 'hints', the connection each packet of 'b' had when
 * its stream was learnt at guarded pass 'e', so that the pass's ct() skips
 * the lookup that would find it.  A stream whose connection died is
 * doomed: its next packet learns it again, with the new connection, if
 * any. */
static void
fold_ct_hints(struct dp_netdev_pmd_thread *pmd, struct fold_batch *b,
              const struct fold_elem *e, struct fold_doomed *doomed,
              struct conntrack_hint **hints)
{
    static struct conntrack_hint no_hint;
    const size_t cnt = dp_packet_batch_size(&b->packets);
    long long now_ms = pmd->ctx.now / 1000;

    for (size_t j = 0; j < cnt; j++) {
        struct conntrack_hint *hint = &b->chains[j]->guards[e->guard_idx].ct;

        if (hint->conn
            && OVS_UNLIKELY(!conntrack_conn_is_live(hint->conn, now_ms))) {
            if (!b->chains[j]->doomed) {
                fold_count(&pmd->fold->stats.conn_deaths, 1);
            }
            fold_doom(doomed, b->chains[j]);
            hint = &no_hint;
        }
        hints[j] = hint;
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
    struct conntrack_hint *hints[NETDEV_MAX_BURST];
    struct dp_packet_batch added;
    uint32_t *depth = dp_netdev_recirc_depth_get();
    uint32_t depth0 = *depth;
    long long now_ms = pmd->ctx.now / 1000;

    for (int i = 0; i < path->n_elems; i++) {
        const struct fold_elem *e = &path->elems[i];
        struct dp_packet *packet;
        ovs_be16 tcp_ctl = 0;
        uint16_t tcp_flags;
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
            if (b->chains[j]->tcp_passes & (1u << i)) {
                /* The key has only the class: the packet has them all. */
                const struct tcp_header *tcp = dp_packet_l4(packet);

                tcp_ctl |= tcp ? tcp->tcp_ctl : 0;
            }
        }
        tcp_flags = TCP_FLAGS(tcp_ctl);
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
        if (e->body_len) {
            cnt = dp_packet_batch_size(batch);
            memcpy(before, batch->packets, cnt * sizeof *before);
            if (e->ct) {
                /* The batch holds no IP fragment, as hints require: the
                 * parser refuses them (fp_pkt.h), and fold_check_pass()
                 * lets no action before a ct() make one. */
                fold_ct_hints(pmd, b, e, doomed, hints);
                dp_netdev_ct_execute(pmd, batch, &e->flow->flow, e->ct,
                                     hints, pmd->fold->ct_flowtable);
            } else {
                dp_netdev_execute_actions(pmd, batch, false, &e->flow->flow,
                                          e->actions, e->body_len);
            }
            dp_packet_batch_init(&added);
            fold_batch_resync(b, before, cnt, &added);
            if (OVS_UNLIKELY(!dp_packet_batch_is_empty(&added))) {
                fold_send_added(pmd, e, &added);
            }
        }
        if (e->guarded) {
            fold_guard(pmd, b, i, doomed);
        }
        if (e->terminal == FOLD_TERM_TNL_POP) {
            odp_port_t port_no = u32_to_odp(e->terminal_arg);
            const char *type = NULL;

            if (i == 0 && !e->body_len) {
                type = dp_netdev_tunnel_port_type(pmd, e->terminal_arg);
            }
            if (type && !strcmp(type, "vxlan")
                && fold_vxlan_strip(b, port_no)) {
                /* Offsets set and chains in step. */
                b->stripped = true;
                continue;
            }
            cnt = dp_packet_batch_size(batch);
            memcpy(before, batch->packets, cnt * sizeof *before);
            if (!dp_netdev_pop_tunnel(pmd, batch, port_no)) {
                /* The tunnel port is gone: the tnl_pop drops the packets,
                 * as the normal pipeline's does, and the path is stale,
                 * so that the streams' next packets take the normal
                 * pipeline, which sees the port if it comes back. */
                COVERAGE_ADD(datapath_fold_drop_invalid_tnl_port,
                             dp_packet_batch_size(batch));
                fold_path_set_stale(pmd->fold, b->path);
                for (size_t j = 0; j < dp_packet_batch_size(batch); j++) {
                    fold_doom(doomed, b->chains[j]);
                }
                dp_packet_delete_batch(batch, true);
                break;
            }
            dp_packet_batch_init(&added);
            fold_batch_resync(b, before, cnt, &added);
            if (OVS_UNLIKELY(!dp_packet_batch_is_empty(&added))) {
                fold_send_added(pmd, e, &added);
            }
            fold_set_inner_offsets(path, batch);
        } else if (!e->guarded) {
            /* (fold_guard() gave a guarded pass's packets the id.) */
            DP_PACKET_BATCH_FOR_EACH (j, packet, batch) {
                packet->md.recirc_id = e->terminal_arg;
            }
        }
    }
    *depth = depth0;
}

/* Starts tracing 'packet', which missed the fold cache with full key 'key',
 * cache key 'ckey' and 'hash', unless a packet of the same cache key is
 * traced already in this batch. */
static void
fold_trace_start(struct dp_netdev_pmd_fold *f, const struct dp_packet *packet,
                 const struct fp_stream_key *key,
                 const struct fp_stream_ckey *ckey, uint32_t hash)
{
    struct fold_trace *t;

    for (unsigned int i = 0; i < f->n_traces; i++) {
        if (f->traces[i].hash == hash
            && fp_stream_ckey_equal(&f->traces[i].ckey, ckey)) {
            return;
        }
    }
    t = &f->traces[f->n_traces++];

    t->packet = packet;
    t->key = *key;
    t->ckey = *ckey;
    t->hash = hash;
    t->n_elems = 0;
    t->upcall = false;
    t->overflow = false;
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

/* One input batch on its way through dp_netdev_fold_input(): the parsed
 * packets, their cache entries, and what became of them. */
struct fold_burst {
    /* Per packet of the input batch, by index: the cache key, and the full
     * key (filled by the parser for a digest cache key, else on demand by
     * fold_burst_key()). */
    struct fp_stream_ckey ckeys[NETDEV_MAX_BURST];
    struct fp_stream_key keys[NETDEV_MAX_BURST];
    struct fp_pkt_offsets ofs[NETDEV_MAX_BURST];
    uint32_t hashes[NETDEV_MAX_BURST];     /* Of 'ckeys'. */
    uint8_t verdicts[NETDEV_MAX_BURST];       /* enum fp_pkt_verdict. */
    struct fp_flowcache_entry *entries[NETDEV_MAX_BURST];  /* Or NULL. */

    /* The hits, one batch per path. */
    struct fold_batch batches[NETDEV_MAX_BURST];
    size_t n_batches;
    size_t n_hits;

    /* Flow ids of the streams that went to the normal pipeline, and a
     * one-word Bloom filter of them: bit (id % 64) of 'missed_bloom' is set
     * for each id in 'missed_ids'. */
    uint32_t missed_ids[NETDEV_MAX_BURST];
    size_t n_missed;
    uint64_t missed_bloom;

    struct fp_flowcache_entry *offer[NETDEV_MAX_BURST];  /* To offload. */
    size_t n_offer;
    struct fold_doomed doomed;

    /* Counters, added to the PMD's statistics at the end. */
    uint64_t not_parsed[FP_PKT_VERDICT_MAX];
    uint64_t misses;
    uint64_t negative_hits;
    uint64_t invalidations;
};

/* Returns the full key of packet 'i' of 'b'. */
static const struct fp_stream_key *
fold_burst_key(struct fold_burst *b, size_t i)
{
    fp_stream_ckey_unpack(&b->ckeys[i], htons(FOLD_VXLAN_PORT), &b->keys[i]);
    return &b->keys[i];
}

/* Records that packet 'pkt' of 'b' went to the normal pipeline. */
static inline void
fold_stream_miss(struct fold_burst *b, size_t pkt)
{
    uint32_t id = fp_stream_ckey_flow_id(&b->ckeys[pkt], &b->keys[pkt]);

    b->missed_ids[b->n_missed++] = id;
    b->missed_bloom |= UINT64_C(1) << (id % 64);
}

/* Returns true if a packet of the stream of packet 'pkt' of 'b' already went
 * to the normal pipeline: its later packets must follow it there, or they
 * would overtake it.  The Bloom filter answers most hits of a batch with
 * misses; only an id whose bit is set is looked for. */
static bool
fold_stream_missed(const struct fold_burst *b, size_t pkt)
{
    uint32_t id = fp_stream_ckey_flow_id(&b->ckeys[pkt], &b->keys[pkt]);

    if (!(b->missed_bloom & (UINT64_C(1) << (id % 64)))) {
        return false;
    }
    for (size_t i = 0; i < b->n_missed; i++) {
        if (b->missed_ids[i] == id) {
            return true;
        }
    }
    return false;
}

/* Parses the packets of 'packets', received on 'port_no', and looks up the
 * parsed ones in the fold cache, into 'b'.  Returns false if no packet
 * could be parsed. */
static bool
fold_parse_lookup(struct dp_netdev_pmd_fold *f,
                  const struct dp_packet_batch *packets, odp_port_t port_no,
                  uint32_t now, struct fold_burst *b)
{
    const size_t cnt = dp_packet_batch_size(packets);
    const struct fp_stream_ckey *lookup_keys[NETDEV_MAX_BURST];
    uint32_t lookup_hashes[NETDEV_MAX_BURST];
    struct fp_flowcache_entry *found[NETDEV_MAX_BURST];
    const void *frames[NETDEV_MAX_BURST];
    uint32_t lens[NETDEV_MAX_BURST];
    size_t i, n_lookup = 0;

    if (!cnt) {
        return false;
    }
    for (i = 0; i < cnt; i++) {
        frames[i] = dp_packet_data(packets->packets[i]);
        lens[i] = dp_packet_size(packets->packets[i]);
        /* fold_classify() initialises the metadata of each hit: its lines
         * arrive while the batch is parsed and looked up. */
        pkt_metadata_prefetch_init(&packets->packets[i]->md);
    }
    if (!fp_pkt_parse_burst(frames, lens, cnt, odp_to_u32(port_no),
                            htons(FOLD_VXLAN_PORT), b->ckeys, b->keys,
                            b->ofs, b->hashes, b->verdicts)) {
        return false;
    }
    for (i = 0; i < cnt; i++) {
        if (b->verdicts[i] == FP_PKT_OK) {
            lookup_keys[n_lookup] = &b->ckeys[i];
            lookup_hashes[n_lookup++] = b->hashes[i];
        }
    }
    fp_flowcache_lookup_burst(f->cache, lookup_keys, lookup_hashes, n_lookup,
                              now, found);
    for (i = 0, n_lookup = 0; i < cnt; i++) {
        b->entries[i] = b->verdicts[i] == FP_PKT_OK ? found[n_lookup++] : NULL;
        if (b->entries[i]) {
            /* For fold_prefetch_conns() and the first guard's check: the
             * hint, state, zone, mark and label lead the guard.  (The
             * lookup prefetched the chain's first line, for
             * fold_classify().) */
            struct fold_chain *chain = b->entries[i]->value;

            OVS_PREFETCH(&chain->guards[0].ct);
            OVS_PREFETCH(&chain->guards[0].ct_label);
        }
    }
    return true;
}

/* Prefetches what conntrack updates, in the exact mode, in the connections
 * that the chains of the hits in 'b' hold for the first ct() of their
 * paths, which fold_execute() reaches after every hit of the input batch
 * has been classified.  The lines that it reads in both modes are on their
 * way already: the lookup of the hit prefetched them (see
 * fold_learn_one()). */
static void
fold_prefetch_conns(const struct dp_netdev_pmd_fold *f,
                    const struct fold_burst *b)
{
    if (f->ct_flowtable) {
        return;
    }
    for (size_t i = 0; i < b->n_batches; i++) {
        const struct fold_batch *fb = &b->batches[i];
        const struct fold_path *path = fb->path;
        const size_t cnt = dp_packet_batch_size(&fb->packets);
        int k;

        for (k = 0; k < path->n_elems && !path->elems[k].guarded; k++) {
            continue;
        }
        if (k == path->n_elems) {
            continue;
        }
        for (size_t j = 0; j < cnt; j++) {
            const struct conn *conn
                = fb->chains[j]->guards[path->elems[k].guard_idx].ct.conn;

            if (conn) {
                conntrack_conn_prefetch_state(conn);
            }
        }
    }
}

/* Sorts the packets of 'packets', parsed and looked up in 'b', in order:
 * a hit goes to the batch of its path in 'b' (with its metadata reset for
 * 'port_no' and its layer offsets set); a packet that missed, or follows a
 * packet of its stream that missed, stays in 'packets', and a miss is
 * traced if the cache admits it; a packet that could not be parsed, or
 * belongs to a refused stream, stays in 'packets' too.  Chains to drop,
 * and chains to offer to the NIC, are gathered in 'b'. */
static void
fold_classify(struct dp_netdev_pmd_fold *f, struct dp_packet_batch *packets,
              odp_port_t port_no, uint32_t now, struct fold_burst *b)
{
    const size_t cnt = dp_packet_batch_size(packets);
    struct dp_packet *packet;
    size_t i;

    DP_PACKET_BATCH_REFILL_FOR_EACH (i, cnt, packet, packets) {
        struct fp_flowcache_entry *entry = b->entries[i];

        if (b->verdicts[i] != FP_PKT_OK) {
            b->not_parsed[b->verdicts[i]]++;
            dp_packet_batch_refill(packets, packet, i);
            continue;
        }
        if (entry && OVS_UNLIKELY(fp_stream_ckey_is_digest(&b->ckeys[i]))
            && !fold_chain_matches(entry->value, &b->keys[i])) {
            /* Another stream with the same digest. */
            entry = NULL;
        }
        if (entry) {
            struct fold_chain *chain = entry->value;

            if (!chain->n_elems) {
                if (chain->refusal == FOLD_REFUSE_CT_NEW
                    && (int32_t) (now - chain->created)
                       <= FOLD_REFUSAL_TTL_MS) {
                    /* Learn again; see fold_refusal_is_stable(). */
                    b->misses++;
                    if (f->n_traces < ARRAY_SIZE(f->traces)) {
                        fold_trace_start(f, packet, fold_burst_key(b, i),
                                         &b->ckeys[i], b->hashes[i]);
                    }
                    fold_stream_miss(b, i);
                    dp_packet_batch_refill(packets, packet, i);
                    continue;
                }
                if ((int32_t) (now - chain->created) <= FOLD_REFUSAL_TTL_MS) {
                    /* Normal pipeline: its connection's packets of other
                     * keys (TCP flag classes) must not overtake it. */
                    b->negative_hits++;
                    fold_stream_miss(b, i);
                    dp_packet_batch_refill(packets, packet, i);
                    continue;
                }
                /* Time to try the refused stream again. */
                fold_doom(&b->doomed, chain);
            } else if (!chain->doomed && !chain->path->batch) {
                /* The first hit of the path in this batch checks it. */
                if (OVS_UNLIKELY(!fold_path_valid(f, chain->path))) {
                    b->invalidations++;
                    fold_doom(&b->doomed, chain);
                }
            }
            if (!chain->doomed
                && !(b->n_missed && fold_stream_missed(b, i))) {
                struct fold_batch *fb = chain->path->batch;

                if (!fb) {
                    fb = &b->batches[b->n_batches++];
                    fb->path = chain->path;
                    fb->stripped = false;
                    dp_packet_batch_init(&fb->packets);
                    chain->path->batch = fb;
                }
                fb->chains[dp_packet_batch_size(&fb->packets)] = chain;
                pkt_metadata_init(&packet->md, port_no);
                packet->l2_5_ofs = UINT16_MAX;
                packet->l3_ofs = b->ofs[i].l3;
                packet->l4_ofs = b->ofs[i].l4;
                dp_packet_set_l2_pad_size(packet, b->ofs[i].l2_pad);
                dp_packet_batch_add(&fb->packets, packet);
                b->n_hits++;
                if (OVS_UNLIKELY(f->offload_on) && !chain->offload
                    && entry->hits >= f->offload_policy.min_packets) {
                    b->offer[b->n_offer++] = entry;
                }
                continue;
            }
            if (!chain->doomed) {
                /* Behind a packet of its stream that missed. */
                dp_packet_batch_refill(packets, packet, i);
                continue;
            }
        }
        b->misses++;
        fold_stream_miss(b, i);
        if (f->n_traces < ARRAY_SIZE(f->traces)
            && fp_flowcache_admit(f->cache, b->hashes[i])) {
            fold_trace_start(f, packet, fold_burst_key(b, i), &b->ckeys[i],
                             b->hashes[i]);
        }
        dp_packet_batch_refill(packets, packet, i);
    }
}

/* Looks up the packets of 'packets', received on 'port_no' by 'pmd', in the
 * PMD's fold cache, and runs every hit through its whole chain.  Call it
 * only at recirculation depth 0, before the EMC (dp_netdev_input()).
 *
 * On return, 'packets' holds, in their original order, the packets for the
 * normal pipeline: packets that could not be parsed, misses (traced, if the
 * cache admits their stream: then 'pmd->fold_tracing' is true and
 * dp_netdev_fold_learn() must follow), packets of refused streams, and
 * packets behind a packet of their stream that missed, so that no packet
 * overtakes another of its stream.  Their metadata is left as received.
 *
 * Hits are taken out of 'packets' and are done with on return: their
 * metadata was reset for 'port_no' (pkt_metadata_init()), then each chain's
 * passes ran, with the same forwarding, conntrack and counters as the
 * normal pipeline; a packet whose conntrack state differs from the learnt
 * one resumed the normal pipeline by recirculating.  Does nothing while
 * folding is off, for the non-PMD thread, or for a quiet port. */
void
dp_netdev_fold_input(struct dp_netdev_pmd_thread *pmd,
                     struct dp_packet_batch *packets, odp_port_t port_no)
{
    struct dp_netdev_pmd_fold *f = pmd->fold;
    const size_t cnt = dp_packet_batch_size(packets);
    struct fold_quiet_port *quiet;
    struct fold_burst b;
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

    if (!fold_parse_lookup(f, packets, port_no, now, &b)) {
        for (i = 0; i < cnt; i++) {
            fold_count(&f->stats.not_parsed[b.verdicts[i]], 1);
        }
        fold_quiet_update(quiet, port_no, now, false);
        return;
    }

    memset(b.not_parsed, 0, sizeof b.not_parsed);
    b.n_batches = b.n_hits = b.n_missed = b.n_offer = b.doomed.n = 0;
    b.missed_bloom = 0;
    b.misses = b.negative_hits = b.invalidations = 0;
    fold_classify(f, packets, port_no, now, &b);

    if (b.n_hits) {
        bool simple = dp_netdev_simple_match_enabled(pmd, port_no);

        pmd_perf_update_counter(&pmd->perf_stats, PMD_STAT_RECV, b.n_hits);
        pmd_perf_update_counter(&pmd->perf_stats, PMD_STAT_FOLD_HIT,
                                b.n_hits);
        for (i = 0; i < b.n_batches; i++) {
            b.batches[i].path->batch = NULL;
        }
        fold_prefetch_conns(f, &b);
        for (i = 0; i < b.n_batches; i++) {
            fold_execute(pmd, &b.batches[i], simple, &b.doomed);
        }
    }
    for (i = 0; i < b.n_offer; i++) {
        fold_offload_consider(pmd, b.offer[i]);
    }
    for (i = 0; i < b.doomed.n; i++) {
        fp_flowcache_remove(f->cache, b.doomed.chains[i]->entry);
    }

    fold_quiet_update(quiet, port_no, now, b.n_hits || b.misses);
    fold_count(&f->stats.hits, b.n_hits);
    fold_count(&f->stats.misses, b.misses);
    fold_count(&f->stats.negative_hits, b.negative_hits);
    fold_count(&f->stats.invalidations, b.invalidations);
    for (i = 1; i < FP_PKT_VERDICT_MAX; i++) {
        if (b.not_parsed[i]) {
            fold_count(&f->stats.not_parsed[i], b.not_parsed[i]);
        }
    }
    pmd->fold_tracing = f->n_traces > 0;
}
