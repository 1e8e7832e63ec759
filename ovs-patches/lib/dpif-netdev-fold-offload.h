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

#ifndef DPIF_NETDEV_FOLD_OFFLOAD_H
#define DPIF_NETDEV_FOLD_OFFLOAD_H 1

/* Offload of folded streams to e-switches through rte_flow.
 *
 * A folded stream of a VXLAN tenant network (dpif-netdev-fold.c) is one
 * exact-match entry with a fixed program: decapsulate, run conntrack,
 * rewrite, output.  Once it is established and busy enough, its PMD
 * describes it as a "struct fold_offload" and hands it to OVS's offload
 * thread, which installs one transfer rule on the uplink: matched packets
 * are then decapsulated and delivered to the VM's VF by the NIC.
 *
 * Thread-safety
 * =============
 *
 * A "struct fold_offload" is shared by the PMD whose fold chain owns it and
 * by the offload thread:
 *
 *   - The PMD creates it, filling in the immutable members, and queues it
 *     for installation (dp_netdev_fold_offload_install()).  It reads
 *     'state', 'aged', 'hw_packets' and 'hw_bytes' with relaxed loads, and
 *     owns 'seen_packets' and 'seen_bytes'.  When its chain dies, it calls
 *     dp_netdev_fold_offload_release(): the offload thread then reads the
 *     rule's counters a last time, destroys the rule and sets 'state' to
 *     FOLD_OFFLOAD_REMOVED (release ordering), after which a PMD that kept
 *     a reference accounts the last packets.  The last reference frees the
 *     object.
 *
 *   - The offload thread owns the members marked so, writes 'state',
 *     'aged' and the hardware counters, and keeps the per-port records.
 *     The main thread's fold/offload-show reads those records under the
 *     module's mutex. */

#include <stdbool.h>
#include <stdint.h>

#include "openvswitch/list.h"
#include "ovs-atomic.h"
#include "ovs-thread.h"
#include "openvswitch/types.h"

#include "ct-dpif.h"
#include "fp_flow.h"

struct conntrack;
struct ds;
struct fold_chain;
struct fold_offload_conn;
struct netdev;
struct smap;

/* Why a stream is not in hardware.  Counted per port. */
enum fold_offload_reason {
    FOLD_OFFLOAD_OK,
    FOLD_OFFLOAD_R_SHAPE,       /* Not a VXLAN-to-VM stream. */
    FOLD_OFFLOAD_R_ACTION,      /* An action a rule cannot express. */
    FOLD_OFFLOAD_R_CT_STATE,    /* A conntrack pass is not +est. */
    FOLD_OFFLOAD_R_PORT,        /* Ports not in one rte_flow e-switch. */
    FOLD_OFFLOAD_R_METERED,     /* A port has a software meter. */
    FOLD_OFFLOAD_R_TRANSLATE,   /* The translator refused the stream. */
    FOLD_OFFLOAD_R_VALIDATE,    /* The NIC rejects rules of this shape. */
    FOLD_OFFLOAD_R_CREATE,      /* Rule creation failed. */
    FOLD_OFFLOAD_R_MAX_RULES,   /* fold-offload-max-per-port reached. */
    FOLD_OFFLOAD_N_REASONS
};

/* Life cycle of a stream's rule. */
enum fold_offload_state {
    FOLD_OFFLOAD_PENDING,       /* Queued for the offload thread. */
    FOLD_OFFLOAD_INSTALLED,     /* The rule is in the NIC. */
    FOLD_OFFLOAD_FAILED,        /* Stays in software: see 'reason'. */
    FOLD_OFFLOAD_RETRY,         /* Failed for now: may be tried again. */
    FOLD_OFFLOAD_REMOVED,       /* Released, and the rule (if any) gone:
                                 * 'hw_packets' and 'hw_bytes' are final. */
};

/* At most how many connections a stream's packets go through. */
#define FOLD_OFFLOAD_MAX_CONNS 8

struct fold_offload {
    /* Immutable after dp_netdev_fold_offload_install(). */
    struct fp_flow_stream stream;  /* The rule, except ports and ct mode. */
    odp_port_t in_port;            /* The uplink: the rule goes there. */
    odp_port_t out_port;           /* The VM's port (VF representor). */
    /* The stream's connection, if the NIC may track its TCP windows: a
     * TCP stream through one conntrack pass without NAT. */
    struct conntrack *ct;          /* The datapath's. */
    bool ct_known;
    bool ct_reply;                 /* The stream is its reply direction. */
    uint16_t ct_zone;
    struct ct_dpif_tuple ct_tuple; /* Its original direction. */
    /* The TCP connections the stream's packets go through, held
     * (conntrack_conn_ref()) until 'fo' is freed.  A rule that the NIC
     * forwards without tracking windows holds them liberal
     * (conntrack_offload_liberal_hold()) while it exists. */
    struct conn *conns[FOLD_OFFLOAD_MAX_CONNS];
    uint8_t conn_guards[FOLD_OFFLOAD_MAX_CONNS]; /* The chain's guard of
                                                  * each. */
    int n_conns;

    /* Shared, see above. */
    struct ovs_refcount ref_cnt;
    atomic_int state;              /* enum fold_offload_state. */
    atomic_bool aged;              /* The rule must go: the NIC reports it
                                    * aged, or one of its ports became
                                    * metered. */
    atomic_bool released;          /* The PMD's chain died. */
    atomic_uint64_t hw_packets;    /* Rule counters, cumulative. */
    atomic_uint64_t hw_bytes;
    atomic_bool ct_hw;             /* The NIC tracks the connection's
                                    * windows (hw-conntrack), set before
                                    * 'state' becomes INSTALLED. */

    /* PMD only. */
    uint64_t seen_packets;         /* Of 'hw_packets', already accounted. */
    uint64_t seen_bytes;
    /* While the PMD's chain is offered (until fold_offload_detach() or the
     * chain's end), the chain, and its place in the PMD's 'offloaded'. */
    struct fold_chain *chain;
    struct ovs_list pmd_node;
    uint32_t next_check;           /* Clock (ms) of the chain's next check. */
    ovs_be16 udp_src;              /* The outer UDP source port of the rule
                                    * of an egress stream. */

    /* Offload thread only. */
    struct netdev *in_netdev;      /* Of 'in_port', with a reference. */
    struct netdev *out_netdev;     /* Of 'out_port', with a reference. */
    struct ovs_list node;          /* In a port's 'pending' or 'installed'. */
    struct fold_offload_port *port;
    struct rte_flow *flow;
    struct fold_offload_conn *ct_conn; /* With FP_FLOW_CT_HW. */
    bool liberal;                  /* Holds 'conns' liberal. */
    int port_id;                   /* DPDK port of 'in_netdev'. */
    enum fold_offload_reason reason;
    long long int installed_at;    /* Time (ms) the rule was created. */
};

void dp_netdev_fold_offload_set_config(const struct smap *other_config);
bool dp_netdev_fold_offload_enabled(void);

struct fold_offload_policy {
    uint32_t min_packets;          /* Fold hits before offload. */
    uint32_t min_age_ms;           /* Age of the fold entry. */
    uint32_t min_pps;              /* Hits per second since learnt. */
};
void dp_netdev_fold_offload_policy(struct fold_offload_policy *);

/* PMD side. */
struct fold_offload *dp_netdev_fold_offload_create(void);
struct fold_offload *dp_netdev_fold_offload_ref(struct fold_offload *);
void dp_netdev_fold_offload_unref(struct fold_offload *);
void dp_netdev_fold_offload_install(struct fold_offload *);
void dp_netdev_fold_offload_release(struct fold_offload *);

/* Offload thread side (dp_netdev_flow_offload_main()).  While
 * dp_netdev_fold_offload_run() returns true (rules are installed or
 * pending), the offload thread sleeps at most FOLD_OFFLOAD_BACKOFF_MAX ms
 * between looks at its queue, so that a rule is destroyed soon after its
 * stream's OpenFlow rule or connection went. */
#define FOLD_OFFLOAD_BACKOFF_MAX 4
void dp_netdev_fold_offload_process(struct fold_offload *, bool install);
bool dp_netdev_fold_offload_run(void);

/* Main thread. */
void dp_netdev_fold_offload_show(struct ds *, const char *port,
                                 bool streams);
void dp_netdev_fold_offload_show_config(struct ds *);

#endif /* dpif-netdev-fold-offload.h */
