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

#ifndef DPIF_NETDEV_FOLD_H
#define DPIF_NETDEV_FOLD_H 1

#include <stdbool.h>
#include <stddef.h>

#include "openvswitch/types.h"

/* Folding: one cached chain of megaflows per stream.
 *
 * An established VXLAN + conntrack stream normally makes several datapath
 * passes per packet (tnl_pop, then ct and recirc, then output), each with its
 * own miniflow extraction, hashing and EMC/SMC/dpcls lookup.  Folding learns,
 * for each stream, the chain of megaflows its packets traverse and caches it
 * in a per-PMD fold cache (Foldpath's fp_flowcache), keyed by every header
 * field any pass could match (Foldpath's fp_pkt parser).  A later packet of
 * the stream is looked up once, before the EMC, and the actions of every pass
 * run back to back: tnl_pop decapsulates in place, recirc only sets the
 * recirc_id, ct runs real conntrack.  After each pass that runs ct, a guard
 * compares the packet's conntrack state with the state learnt; a packet that
 * differs resumes the normal pipeline right there, by recirculating, and the
 * entry is dropped.  Every pass's megaflow statistics are updated as if the
 * packet had made the pass, so OpenFlow counters, idle timeouts and
 * revalidation are unchanged.
 *
 * Learning.  A packet that misses the fold cache is traced through the
 * normal pipeline: each pass records the megaflow the packet matched, and
 * each pass boundary (tnl_pop or recirc) its conntrack state.  After the
 * input batch is done, each complete trace is checked (only foldable
 * actions, one terminal action per pass, links between passes, a key that
 * covers what each megaflow matches) and inserted, or refused with a reason.
 * Refused streams get a short-lived negative entry, so that they are not
 * traced again at once.
 *
 * Validity.  Each hit checks, before touching a packet, that no megaflow of
 * the chain is dead and that each one's actions are still those learnt.  So
 * a stream never outlives the megaflows, and therefore the OpenFlow rules,
 * that allowed it, and it runs real conntrack on every packet, so it never
 * outlives its conntrack entry either.
 *
 * Thread-safety
 * =============
 *
 * 'struct dp_netdev_fold' (one per datapath) holds the configuration.  The
 * main thread writes it in dp_netdev_fold_set_config() and in the appctl
 * commands; PMD threads read it with relaxed atomic loads.
 *
 * 'struct dp_netdev_pmd_fold' (one per PMD thread) holds the fold cache and
 * the traces.  Only its PMD thread reads or writes them.  Another thread
 * that needs them flushed, resized or dumped posts a request, which the PMD
 * performs in dp_netdev_fold_pmd_periodic(), and waits for the answer.  Its
 * statistics are written by the PMD with relaxed atomic stores and may be
 * read by any thread.
 *
 * The fast path hooks below run in the PMD thread that owns 'pmd'.  The main
 * thread's (non-PMD) instance has no fold state, and the hooks do nothing
 * for it. */

struct dp_netdev_fold;
struct dp_netdev_flow;
struct dp_netdev_pmd_thread;
struct dp_packet;
struct dp_packet_batch;
struct ds;
struct smap;

/* Datapath-wide state, for the main thread. */
struct dp_netdev_fold *dp_netdev_fold_create(void);
void dp_netdev_fold_destroy(struct dp_netdev_fold *);
void dp_netdev_fold_set_config(struct dp_netdev_fold *,
                               const struct smap *other_config);

/* PMD thread life cycle, called by the PMD thread itself. */
void dp_netdev_fold_pmd_init(struct dp_netdev_pmd_thread *,
                             const struct dp_netdev_fold *);
void dp_netdev_fold_pmd_uninit(struct dp_netdev_pmd_thread *);
void dp_netdev_fold_pmd_periodic(struct dp_netdev_pmd_thread *);

/* Fast path: lookup and execution at recirculation depth 0, and learning
 * once the batch has been through the normal pipeline. */
void dp_netdev_fold_input(struct dp_netdev_pmd_thread *,
                          struct dp_packet_batch *, odp_port_t port_no);
void dp_netdev_fold_learn(struct dp_netdev_pmd_thread *);

/* Tracing hooks in the normal pipeline.  Call them only while
 * 'pmd->fold_tracing' is true. */
void dp_netdev_fold_trace_pass(struct dp_netdev_pmd_thread *,
                               const struct dp_packet_batch *,
                               struct dp_netdev_flow *);
void dp_netdev_fold_trace_upcall(struct dp_netdev_pmd_thread *,
                                 const struct dp_packet *);
void dp_netdev_fold_trace_boundary(struct dp_netdev_pmd_thread *,
                                   const struct dp_packet_batch *);

/* Registers ovs-appctl fold/show, fold/dump, fold/flush and
 * fold/offload-show.  Call once, from dpif_netdev_init(). */
void dp_netdev_fold_register_commands(void);

#endif /* dpif-netdev-fold.h */
